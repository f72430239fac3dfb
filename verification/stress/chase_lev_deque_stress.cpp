// Stress lane for lf::chase_lev_deque: real threads, run plain (-O2), under TSan and
// under ASan+UBSan. The owner pushes every item once, in bursts, popping some of each
// burst back and now and then popping down to empty, so it keeps meeting the thieves
// over the last element; thieves steal until the owner, having drained the deque, says
// it is done. Every deque starts at capacity 2, so it grows while thieves steal. At the
// end:
//   exactly once   every item was taken once, by a pop or a steal (a per-item flag);
//   checksum       the sum of the items taken equals the sum pushed;
//   empty          nothing is left, and every take was counted.
// Items: 1'000'000 per test plain, 200'000 under a sanitizer (they slow these loops
// 5-20x). Three thieves and an owner are four threads on the 2-core CI machine: the
// oversubscription is on purpose, so threads are preempted mid-operation.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdint>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "lockfree/chase_lev_deque.hpp"
#include "sync/thread.hpp"
#include "verification/support/stress_scale.hpp"

namespace {

constexpr std::uint64_t items = lf::test::stress_items(1'000'000);

struct tally {
  std::unique_ptr<std::atomic<bool>[]> seen{new std::atomic<bool>[items]()};
  std::atomic<std::uint64_t> taken{0}, checksum{0}, duplicates{0}, out_of_range{0};

  void take(std::uint64_t v, std::uint64_t& local_sum, std::uint64_t& local_count) {
    if (v >= items) {
      out_of_range.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (seen[v].exchange(true, std::memory_order_relaxed)) duplicates.fetch_add(1, std::memory_order_relaxed);
    local_sum += v;
    ++local_count;
  }
  void add(std::uint64_t local_sum, std::uint64_t local_count) {
    checksum.fetch_add(local_sum, std::memory_order_relaxed);
    taken.fetch_add(local_count, std::memory_order_relaxed);
  }
};

// What the owner does with a task it popped: a little work, as a worker would. Without
// it the owner, touching only its own cache lines, pushed and popped 10^6 items in 12 ms
// of the release build and one thief stole 171 of them; with 32 pauses three thieves
// stole 40-70% and the test still takes ~0.2 s.
constexpr int task_pauses = 32;
void run_task() {
  for (int i = 0; i < task_pauses; ++i) lf::spin_pause();
}

struct steal_counts {
  std::uint64_t success = 0, empty = 0, lost_race = 0;
};

// The owner and `thieves` thieves move `items` items through one deque; every check runs.
// With `retrying`, thieves use try_steal; otherwise single steal() attempts.
void run(unsigned thieves, bool retrying) {
  lf::chase_lev_deque<std::uint64_t> q(2);
  tally t;
  std::atomic<bool> go{false}, done{false};
  std::atomic<unsigned> running{0};
  std::vector<steal_counts> counts(thieves);

  std::vector<std::thread> threads;
  for (unsigned k = 0; k < thieves; ++k) {
    threads.emplace_back([&, k] {
      std::uint64_t sum = 0, n = 0;
      steal_counts& c = counts[k];
      while (!go.load(std::memory_order_acquire)) lf::yield_thread();
      running.fetch_add(1, std::memory_order_release);
      while (!done.load(std::memory_order_acquire)) {
        if (retrying) {
          if (std::optional<std::uint64_t> v = q.try_steal()) {
            t.take(*v, sum, n);
            ++c.success;
          } else {
            ++c.empty;
            lf::yield_thread();
          }
          continue;
        }
        const lf::stolen<std::uint64_t> s = q.steal();
        switch (s.status) {
          case lf::steal_status::success:
            t.take(s.value, sum, n);
            ++c.success;
            break;
          case lf::steal_status::empty:
            ++c.empty;
            lf::yield_thread();
            break;
          case lf::steal_status::lost_race:
            ++c.lost_race;
            break;
        }
      }
      t.add(sum, n);
    });
  }

  go.store(true, std::memory_order_release);
  while (running.load(std::memory_order_acquire) != thieves) lf::yield_thread();
  std::uint64_t sum = 0, n = 0, next = 0, drains = 0;
  std::uint32_t rng = 12345;
  auto random = [&rng] { return rng = rng * 1664525u + 1013904223u, rng >> 16; };
  while (next < items) {
    // A burst of 1..32 pushes, then pops of up to half of it: the owner keeps reaching
    // the elements the thieves are after.
    const std::uint64_t burst = 1 + random() % 32;
    for (std::uint64_t i = 0; i < burst && next < items; ++i) q.push(next++);
    const std::uint64_t pops = random() % (burst / 2 + 1);
    for (std::uint64_t i = 0; i < pops; ++i) {
      if (std::optional<std::uint64_t> v = q.pop()) {
        t.take(*v, sum, n);
        run_task();
      }
    }
    // Now and then pop down to empty, racing the thieves for the last element.
    if (random() % 16 == 0) {
      while (std::optional<std::uint64_t> v = q.pop()) t.take(*v, sum, n);
      ++drains;
    }
  }
  // pop() reports empty only when every element is taken (by us or by a thief's CAS).
  while (std::optional<std::uint64_t> v = q.pop()) t.take(*v, sum, n);
  t.add(sum, n);
  done.store(true, std::memory_order_release);
  for (auto& th : threads) th.join();

  std::uint64_t missing = 0, stolen = 0, lost = 0, empties = 0;
  for (std::uint64_t i = 0; i < items; ++i) missing += t.seen[i].load(std::memory_order_relaxed) ? 0 : 1;
  for (const steal_counts& c : counts) {
    stolen += c.success;
    lost += c.lost_race;
    empties += c.empty;
  }
  EXPECT_EQ(t.out_of_range.load(), 0u);
  EXPECT_EQ(t.duplicates.load(), 0u);
  EXPECT_EQ(missing, 0u);
  EXPECT_EQ(t.taken.load(), items);
  EXPECT_EQ(t.checksum.load(), items * (items - 1) / 2);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.pop(), std::nullopt);
  EXPECT_EQ(q.steal().status, lf::steal_status::empty);
  // How the work was shared (not checked: it depends on scheduling).
  std::printf("owner took %llu, thieves stole %llu, %s %llu; owner drained %llu times; capacity grew to %zu\n",
              static_cast<unsigned long long>(items - stolen), static_cast<unsigned long long>(stolen),
              retrying ? "empty answers" : "lost races",
              static_cast<unsigned long long>(retrying ? empties : lost), static_cast<unsigned long long>(drains),
              q.capacity());
}

TEST(chase_lev_deque_stress, owner_and_one_thief_take_every_item_once) { run(1, false); }

TEST(chase_lev_deque_stress, owner_and_three_thieves_oversubscribed_take_every_item_once) { run(3, false); }

TEST(chase_lev_deque_stress, three_retrying_thieves_take_every_item_once) { run(3, true); }

}  // namespace
