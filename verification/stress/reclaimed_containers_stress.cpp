// Stress lane: every container that frees nodes over every reclaimer
// (verification/support/reclaimed_containers.hpp), real threads, run plain (-O2), under
// TSan and under ASan+UBSan. What each test counts and checks at the end:
//   exactly once       every value pushed is popped once (per-value counts), counting
//                      what is drained after the threads are done; the sums agree;
//   per-producer FIFO  (the queue) each consumer sees each producer's values in the order
//                      that producer pushed them;
//   thread churn       producers and consumers are short-lived threads, each doing one
//                      chunk and exiting while others run, so per-thread reclaimer records
//                      are handed from exiting threads to new ones mid-run;
//   nothing leaks      every node allocated is freed once container and domain are gone
//                      (counting<R>::live_nodes), which LSan confirms under ASan.
// Sizes: 400'000 values per pairing plain, 60'000 under a sanitizer (they slow these
// loops 5-20x; nine pairings share the lane's budget). 2 producers and 2 consumers on the
// 2-core CI machine: oversubscribed on purpose, so threads are preempted mid-operation
// while they hold protection.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "verification/support/reclaimed_containers.hpp"
#include "verification/support/stress_scale.hpp"

namespace {

constexpr std::uint64_t values = lf::test::stress_items(400'000, 60'000);
constexpr int producers = 2;
constexpr int consumers = 2;
constexpr std::uint64_t chunk = values / producers / 16;  // each producer: 16 threads in turn
constexpr std::uint64_t per_producer = chunk * 16;
constexpr std::uint64_t total = per_producer * producers;

// Producer p pushes p * per_producer + 0, 1, 2, ... in order.
template <class P>
class reclaimed_container_stress : public ::testing::Test {};
TYPED_TEST_SUITE(reclaimed_container_stress, lf::test::all_pairings, lf::test::pairing_name);

TYPED_TEST(reclaimed_container_stress, exactly_once_and_fifo_under_thread_churn) {
  using counter = typename TypeParam::reclaimer;
  const long live_before = counter::live_nodes.load();
  std::unique_ptr<std::atomic<std::uint32_t>[]> seen(new std::atomic<std::uint32_t>[total]());
  std::atomic<std::uint64_t> popped{0};
  std::atomic<std::uint64_t> sum{0};
  std::atomic<std::uint64_t> order_violations{0};
  {
    typename TypeParam::domain d;
    {
      typename TypeParam::container c(d);
      auto record = [&](std::uint64_t v, std::vector<std::uint64_t>& last) {
        seen[v].fetch_add(1, std::memory_order_relaxed);
        sum.fetch_add(v, std::memory_order_relaxed);
        const std::uint64_t p = v / per_producer;
        const std::uint64_t rank = v % per_producer + 1;
        if (TypeParam::fifo && rank <= last[p]) order_violations.fetch_add(1, std::memory_order_relaxed);
        last[p] = rank;
      };

      std::vector<std::thread> lanes;
      // Each producer lane runs its chunks on successive threads, each joined before the
      // next starts, so the producer's order is one order across its threads.
      for (int p = 0; p < producers; ++p) {
        lanes.emplace_back([&c, p] {
          for (std::uint64_t k = 0; k < 16; ++k) {
            std::thread([&c, p, k] {
              const std::uint64_t base = static_cast<std::uint64_t>(p) * per_producer + k * chunk;
              for (std::uint64_t i = 0; i < chunk; ++i) c.push(base + i);
            }).join();
          }
        });
      }
      // Consumer lanes likewise: a thread pops up to a chunk, then exits; its successor
      // carries its per-producer "last seen" (handed over by the join).
      for (int q = 0; q < consumers; ++q) {
        lanes.emplace_back([&] {
          std::vector<std::uint64_t> last(producers, 0);
          while (popped.load(std::memory_order_relaxed) < total) {
            std::thread([&] {
              for (std::uint64_t i = 0; i < chunk && popped.load(std::memory_order_relaxed) < total; ++i) {
                if (std::optional<std::uint64_t> v = c.try_pop()) {
                  record(*v, last);
                  popped.fetch_add(1, std::memory_order_relaxed);
                } else {
                  std::this_thread::yield();
                }
              }
            }).join();
          }
        });
      }
      for (auto& t : lanes) t.join();
      std::vector<std::uint64_t> last(producers, 0);
      while (std::optional<std::uint64_t> v = c.try_pop()) {
        record(*v, last);
        popped.fetch_add(1, std::memory_order_relaxed);
      }
      EXPECT_TRUE(c.empty());
    }
  }
  EXPECT_EQ(popped.load(), total);
  std::uint64_t wrong = 0;
  for (std::uint64_t v = 0; v < total; ++v) wrong += seen[v].load() == 1 ? 0 : 1;
  EXPECT_EQ(wrong, 0u) << "values popped other than exactly once";
  EXPECT_EQ(sum.load(), total * (total - 1) / 2);
  EXPECT_EQ(order_violations.load(), 0u);
  EXPECT_EQ(counter::live_nodes.load(), live_before) << "nodes not freed by the domain's end";
}

}  // namespace
