// Stress lane: real threads through lf::treiber_stack over hazard pointers, run plain
// (-O2), under TSan and under ASan+UBSan. Every test counts what it moved and checks it
// at the end:
//   exactly once   every value pushed is popped once (a per-value seen flag), counting
//                  the values drained from the stack after the threads are done;
//   checksum       the sum of popped values equals the sum pushed;
//   nothing leaks  every node allocated has been freed once the stack and its domain are
//                  destroyed (lf::test::counting_reclaimer counts live nodes).
// Each thread both pushes and pops, in bursts of varying length, so pops race pushes and
// each other and nodes are freed and their memory reused under other threads' feet.
// Item counts: 1'000'000 per test plain, 200'000 under a sanitizer (they slow these loops
// 5-20x); 4 threads run oversubscribed on the 2-core CI machine on purpose, so threads
// are preempted inside push and pop, holding hazard pointers.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "lockfree/treiber_stack.hpp"
#include "rcu/hazard_pointer.hpp"
#include "sync/thread.hpp"
#include "verification/support/counting_reclaimer.hpp"
#include "verification/support/stress_scale.hpp"

namespace {

constexpr std::uint64_t items = lf::test::stress_items(1'000'000);

using lf::test::counting_reclaimer;
using stack = lf::treiber_stack<std::uint64_t, counting_reclaimer>;

// The values 0 .. n-1, each pushed once by some thread; what was seen of them.
class ledger {
 public:
  explicit ledger(std::uint64_t n) : n_(n), seen_(new std::atomic<bool>[n]()) {}

  void popped(std::uint64_t v) {
    if (v >= n_ || seen_[v].exchange(true, std::memory_order_relaxed)) duplicates_.fetch_add(1);
    sum_.fetch_add(v, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
  }

  // Drains `s` (single-threaded, after the workers) and checks every count.
  void check(stack& s) {
    while (std::optional<std::uint64_t> v = s.try_pop()) popped(*v);
    std::uint64_t missing = 0;
    for (std::uint64_t v = 0; v < n_; ++v) missing += seen_[v].load() ? 0 : 1;
    EXPECT_EQ(count_.load(), n_);
    EXPECT_EQ(duplicates_.load(), 0u);
    EXPECT_EQ(missing, 0u);
    EXPECT_EQ(sum_.load(), n_ * (n_ - 1) / 2);
    EXPECT_TRUE(s.empty());
  }

 private:
  const std::uint64_t n_;
  std::unique_ptr<std::atomic<bool>[]> seen_;
  std::atomic<std::uint64_t> duplicates_{0}, sum_{0}, count_{0};
};

// Pushes the values first, first + stride, ... below `end`, in bursts of 1..8, popping a
// burst of the same length after each.
void push_and_pop(stack& s, ledger& log, std::uint64_t first, std::uint64_t stride, std::uint64_t end) {
  unsigned burst = 1 + static_cast<unsigned>(first % 8);
  std::uint64_t v = first;
  while (v < end) {
    for (unsigned i = 0; i < burst && v < end; ++i, v += stride) s.push(v);
    for (unsigned i = 0; i < burst; ++i) {
      if (std::optional<std::uint64_t> got = s.try_pop()) log.popped(*got);
    }
    burst = burst % 8 + 1;
  }
}

void run_threads(unsigned threads) {
  const long live_before = counting_reclaimer::live_nodes.load();
  {
    lf::hazard_domain domain;
    {
      stack s(domain);
      ledger log(items);
      std::atomic<bool> go{false};
      std::vector<std::thread> workers;
      for (unsigned t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
          while (!go.load(std::memory_order_acquire)) lf::yield_thread();
          push_and_pop(s, log, t, threads, items);
        });
      }
      go.store(true, std::memory_order_release);
      for (auto& w : workers) w.join();
      log.check(s);
    }
  }
  EXPECT_EQ(counting_reclaimer::live_nodes.load(), live_before);
}

TEST(treiber_stack_stress, two_threads_push_and_pop_exactly_once) { run_threads(2); }

TEST(treiber_stack_stress, four_threads_oversubscribed_push_and_pop_exactly_once) { run_threads(4); }

// Two long-lived threads push and pop all the way through, while short-lived threads
// start, push and pop a slice of the values, and exit, one wave after another. Exiting
// threads leave retired nodes in their records; the threads that later get the same
// index reclaim them, and the domain frees the rest.
TEST(treiber_stack_stress, threads_that_come_and_go_lose_nothing) {
  constexpr std::uint64_t slice = 2'000;  // values per short-lived thread
  constexpr unsigned per_wave = 3;
  const std::uint64_t long_lived = items / 2;  // values [0, long_lived) for the two long-lived threads
  const long live_before = counting_reclaimer::live_nodes.load();
  {
    lf::hazard_domain domain;
    {
      stack s(domain);
      ledger log(items);
      std::thread a([&] { push_and_pop(s, log, 0, 2, long_lived); });
      std::thread b([&] { push_and_pop(s, log, 1, 2, long_lived); });
      unsigned threads_started = 0;
      for (std::uint64_t next = long_lived; next < items;) {
        std::vector<std::thread> wave;
        for (unsigned i = 0; i < per_wave && next < items; ++i, next += slice) {
          const std::uint64_t end = next + slice < items ? next + slice : items;
          wave.emplace_back([&s, &log, next, end] { push_and_pop(s, log, next, 1, end); });
          ++threads_started;
        }
        for (auto& t : wave) t.join();
      }
      a.join();
      b.join();
      log.check(s);
      EXPECT_GT(threads_started, 20u);
    }
  }
  EXPECT_EQ(counting_reclaimer::live_nodes.load(), live_before);
}

}  // namespace
