// Stress lane: real threads through the rings, run plain (-O2), under TSan and under
// ASan+UBSan. Every test counts what it moved and checks it at the end:
//   exactly once   every value pushed is popped once (a per-value seen flag);
//   FIFO           per producer, each consumer sees that producer's values in order;
//   checksum       the sum of popped values equals the sum pushed.
// Item counts: 2'000'000 per test plain, 200'000 under a sanitizer (they slow these
// loops 5-20x); 2P2C and 4P4C run oversubscribed on the 2-core CI machine on purpose,
// so producers and consumers are preempted mid-operation.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "lockfree/mpmc_ring.hpp"
#include "lockfree/scq_ring.hpp"
#include "lockfree/spsc_ring.hpp"
#include "sync/thread.hpp"
#include "verification/support/stress_scale.hpp"

namespace {

constexpr std::uint64_t items = lf::test::stress_items(2'000'000);

// Waiting on full/empty: spin briefly, then give the core away (oversubscribed runs).
struct waiter {
  unsigned spins = 0;
  void wait() {
    if (++spins < 64) {
      lf::spin_pause();
    } else {
      lf::yield_thread();
    }
  }
};

// Values carry their producer in the top 16 bits and a sequence number below.
constexpr std::uint64_t encode(std::uint64_t producer, std::uint64_t seq) { return producer << 48 | seq; }
constexpr std::uint64_t producer_of(std::uint64_t v) { return v >> 48; }
constexpr std::uint64_t seq_of(std::uint64_t v) { return v & ((std::uint64_t{1} << 48) - 1); }

// P producers and C consumers move `items` values through `q`, then every check runs.
template <class Ring>
void run_traffic(Ring& q, unsigned producers, unsigned consumers, std::uint64_t n = items) {
  const std::uint64_t per_producer = n / producers;
  const std::uint64_t total = per_producer * producers;
  std::vector<std::unique_ptr<std::atomic<bool>[]>> seen;
  for (unsigned p = 0; p < producers; ++p) seen.emplace_back(new std::atomic<bool>[per_producer]());
  std::atomic<std::uint64_t> popped{0}, checksum{0}, duplicates{0}, fifo_violations{0};
  std::atomic<bool> go{false};

  std::vector<std::thread> threads;
  for (unsigned p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      while (!go.load(std::memory_order_acquire)) lf::yield_thread();
      for (std::uint64_t i = 0; i < per_producer; ++i) {
        waiter w;
        while (!q.try_push(encode(p, i))) w.wait();
      }
    });
  }
  for (unsigned c = 0; c < consumers; ++c) {
    threads.emplace_back([&] {
      std::vector<std::int64_t> last(producers, -1);
      std::uint64_t local_sum = 0;
      while (!go.load(std::memory_order_acquire)) lf::yield_thread();
      while (popped.load(std::memory_order_relaxed) < total) {
        std::optional<std::uint64_t> v = q.try_pop();
        if (!v) {
          lf::yield_thread();
          continue;
        }
        popped.fetch_add(1, std::memory_order_relaxed);
        const std::uint64_t p = producer_of(*v), s = seq_of(*v);
        if (seen[p][s].exchange(true, std::memory_order_relaxed)) duplicates.fetch_add(1);
        if (static_cast<std::int64_t>(s) <= last[p]) fifo_violations.fetch_add(1);
        last[p] = static_cast<std::int64_t>(s);
        local_sum += *v;
      }
      checksum.fetch_add(local_sum);
    });
  }
  go.store(true, std::memory_order_release);
  for (auto& t : threads) t.join();

  std::uint64_t expected_sum = 0, missing = 0;
  for (unsigned p = 0; p < producers; ++p) {
    for (std::uint64_t i = 0; i < per_producer; ++i) {
      expected_sum += encode(p, i);
      if (!seen[p][i].load()) ++missing;
    }
  }
  EXPECT_EQ(popped.load(), total);
  EXPECT_EQ(duplicates.load(), 0u);
  EXPECT_EQ(missing, 0u);
  EXPECT_EQ(fifo_violations.load(), 0u);
  EXPECT_EQ(checksum.load(), expected_sum);
  EXPECT_FALSE(q.try_pop().has_value());
}

TEST(spsc_ring_stress, one_producer_one_consumer_exactly_once_in_order) {
  lf::spsc_ring<std::uint64_t> q(1024);
  run_traffic(q, 1, 1);
}

TEST(spsc_ring_stress, tiny_ring_crosses_full_and_empty_constantly) {
  // A quarter of the items: a ring of 2 is full or empty at almost every step, so 500'000
  // items (50'000 under a sanitizer) still cross each edge hundreds of thousands of times;
  // the full count took 25 s of the dev stress lane on the loaded 2-core machine.
  lf::spsc_ring<std::uint64_t> q(2);
  run_traffic(q, 1, 1, items / 4);
}

TEST(spsc_ring_stress, bulk_calls_exactly_once_in_order) {
  lf::spsc_ring<std::uint64_t> q(256);
  std::uint64_t received = 0, sum = 0, disorder = 0;
  std::thread producer([&] {
    std::uint64_t next = 0;
    std::uint64_t batch[37];  // a batch size prime to the ring size, so batches straddle the wrap
    while (next < items) {
      const std::uint64_t n = std::min<std::uint64_t>(37, items - next);
      for (std::uint64_t i = 0; i < n; ++i) batch[i] = next + i;
      const std::size_t pushed = q.try_push_n(batch, n);
      next += pushed;
      if (pushed == 0) lf::yield_thread();
    }
  });
  std::uint64_t out[29];
  while (received < items) {
    const std::size_t n = q.try_pop_n(out, 29);
    for (std::size_t i = 0; i < n; ++i) {
      if (out[i] != received) ++disorder;
      sum += out[i];
      ++received;
    }
    if (n == 0) lf::yield_thread();
  }
  producer.join();
  EXPECT_EQ(received, items);
  EXPECT_EQ(disorder, 0u);
  EXPECT_EQ(sum, items * (items - 1) / 2);
}

TEST(spsc_ring_stress, heap_payloads_are_neither_leaked_nor_freed_twice) {
  // Under ASan/LSan a lost or doubly destroyed payload is a report; plainly, the sum.
  lf::spsc_ring<std::unique_ptr<std::uint64_t>> q(64);
  const std::uint64_t n = items / 10;
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < n; ++i) {
      auto p = std::make_unique<std::uint64_t>(i);
      waiter w;
      while (!q.try_push(std::move(p))) w.wait();
    }
  });
  std::uint64_t sum = 0;
  for (std::uint64_t got = 0; got < n;) {
    if (auto v = q.try_pop()) {
      sum += **v;
      ++got;
    } else {
      lf::yield_thread();
    }
  }
  producer.join();
  EXPECT_EQ(sum, n * (n - 1) / 2);
}

TEST(mpmc_ring_stress, one_producer_one_consumer) {
  lf::mpmc_ring<std::uint64_t> q(1024);
  run_traffic(q, 1, 1);
}

TEST(mpmc_ring_stress, two_producers_two_consumers) {
  lf::mpmc_ring<std::uint64_t> q(1024);
  run_traffic(q, 2, 2);
}

TEST(mpmc_ring_stress, four_producers_four_consumers_oversubscribed) {
  lf::mpmc_ring<std::uint64_t> q(64);
  run_traffic(q, 4, 4);
}

TEST(mpmc_ring_stress, two_slot_ring_under_contention) {
  lf::mpmc_ring<std::uint64_t> q(2);
  run_traffic(q, 2, 2);
}

TEST(scq_ring_stress, one_producer_one_consumer) {
  lf::scq_ring<std::uint64_t> q(1024);
  run_traffic(q, 1, 1);
}

TEST(scq_ring_stress, two_producers_two_consumers) {
  lf::scq_ring<std::uint64_t> q(1024);
  run_traffic(q, 2, 2);
}

TEST(scq_ring_stress, four_producers_four_consumers_oversubscribed) {
  lf::scq_ring<std::uint64_t> q(64);
  run_traffic(q, 4, 4);
}

// Two slots, four index entries: positions lap the entries every few operations, so
// entries are advanced, marked unsafe and reclaimed by later cycles all the time. A
// quarter of the items: every item crosses a lap here, and TSan makes that 7 s in full.
TEST(scq_ring_stress, two_slot_ring_under_contention) {
  lf::scq_ring<std::uint64_t> q(2);
  run_traffic(q, 2, 2, items / 4);
}

TEST(scq_ring_stress, heap_payloads_are_neither_leaked_nor_freed_twice) {
  // Under ASan/LSan a lost or doubly destroyed payload is a report; plainly, the sum.
  lf::scq_ring<std::unique_ptr<std::uint64_t>> q(4);
  const std::uint64_t n = items / 10;
  std::vector<std::thread> producers;
  for (int p = 0; p < 2; ++p) {
    producers.emplace_back([&, p] {
      for (std::uint64_t i = static_cast<std::uint64_t>(p); i < n; i += 2) {
        auto v = std::make_unique<std::uint64_t>(i);
        waiter w;
        while (!q.try_push(std::move(v))) w.wait();
      }
    });
  }
  std::uint64_t sum = 0;
  for (std::uint64_t got = 0; got < n;) {
    if (auto v = q.try_pop()) {
      sum += **v;
      ++got;
    } else {
      lf::yield_thread();
    }
  }
  for (auto& t : producers) t.join();
  EXPECT_EQ(sum, n * (n - 1) / 2);
}

}  // namespace
