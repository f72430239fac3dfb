// Stress lane for lf::errgroup: real threads, run plain (-O2), under TSan and under
// ASan+UBSan. What each test counts and checks at the end:
//   many on a pool     two threads call go() on one group on a 4-worker pool, goroutines
//                      of which every 97th throws; a limit of 2 or none: every goroutine
//                      ran exactly once, wait() returned one of the thrown errors, and
//                      never more than 2 were active at once under the limit.
//   many on threads    the same on the group's own threads (fewer goroutines: one thread
//                      each), with a limit of 4.
//   groups in tasks    tasks of a 2-worker pool each run a group of their own on the same
//                      pool and wait for it inside the worker (helping, also while go()
//                      waits for a slot): every group's goroutines all ran, its error is its own.
//   nested go          goroutines that start goroutines of the same group while active:
//                      wait() covers them all.
//   shutdown_now race  two threads call go() on a 2-worker pool (no limit, and a limit
//                      of 3, where go() waits for slots) while the pool is shut down
//                      immediately: go() either returns or throws lf::pool_closed; every
//                      goroutine it accepted ran or was dropped (ran + dropped = accepted),
//                      wait() returns, and its error is broken_promise exactly when some
//                      goroutine was dropped.
// No sleeps synchronize anything.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "patterns/errgroup.hpp"
#include "patterns/worker_pool.hpp"
#include "verification/support/stress_scale.hpp"
#include "verification/support/concurrency_meter.hpp"

namespace {

using lf::test::concurrency_meter;

constexpr std::uint64_t pool_goroutines = lf::test::stress_items(100'000, 10'000);
constexpr std::uint64_t thread_goroutines = lf::test::stress_items(2'000, 300);
constexpr int per_group = static_cast<int>(pool_goroutines / 100);

// Goroutine i throws "error <i>" when i % 97 == 96.
void many_goroutines(lf::errgroup& g, std::uint64_t n, int limit) {
  g.set_limit(limit);
  std::unique_ptr<std::atomic<std::uint8_t>[]> runs(new std::atomic<std::uint8_t>[n]());
  concurrency_meter meter;
  std::vector<std::thread> starters;
  for (std::uint64_t s = 0; s < 2; ++s) {
    starters.emplace_back([&, s] {
      for (std::uint64_t i = s; i < n; i += 2) {
        g.go([&runs, &meter, i] {
          meter.enter();
          runs[i].fetch_add(1, std::memory_order_relaxed);
          std::this_thread::yield();  // widens the window in which goroutines overlap
          meter.leave();
          if (i % 97 == 96) throw std::runtime_error("error " + std::to_string(i));
        });
      }
    });
  }
  for (auto& t : starters) t.join();
  std::exception_ptr e = g.wait();
  std::uint64_t missing = 0, twice = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    const unsigned r = runs[i].load(std::memory_order_relaxed);
    missing += r == 0;
    twice += r > 1;
  }
  EXPECT_EQ(missing, 0u);
  EXPECT_EQ(twice, 0u);
  ASSERT_TRUE(e);
  try {
    std::rethrow_exception(e);
  } catch (const std::runtime_error& x) {
    const std::uint64_t i = std::stoull(std::string(x.what()).substr(6));
    EXPECT_EQ(i % 97, 96u) << x.what();
  }
  if (limit >= 0) {
    EXPECT_LE(meter.most.load(), limit);
  }
  std::printf("%llu goroutines, limit %d, at most %d active at once\n", static_cast<unsigned long long>(n), limit,
              meter.most.load());
}

TEST(errgroup_stress, many_goroutines_on_a_pool_with_errors_each_run_once) {
  lf::worker_pool pool(4);
  for (int limit : {-1, 2}) {
    lf::errgroup g(pool);
    many_goroutines(g, pool_goroutines, limit);
  }
}

TEST(errgroup_stress, many_goroutines_on_their_own_threads_with_errors_each_run_once) {
  lf::errgroup g;
  many_goroutines(g, thread_goroutines, 4);
}

TEST(errgroup_stress, groups_run_and_waited_inside_tasks_of_the_same_pool) {
  lf::worker_pool pool(2);
  constexpr int groups = 8;
  std::vector<lf::pool_future<std::string>> results;
  for (int k = 0; k < groups; ++k) {
    results.push_back(pool.submit([&pool, k]() -> std::string {
      lf::errgroup g(pool);
      g.set_limit(3);
      std::atomic<int> ran{0};
      for (int i = 0; i < per_group; ++i) {
        g.go([&ran, k, i] {
          ran.fetch_add(1, std::memory_order_relaxed);
          if (i == per_group / 2) throw std::runtime_error("group " + std::to_string(k));
        });
      }
      std::exception_ptr e = g.wait();
      if (ran.load() != per_group) return "ran " + std::to_string(ran.load());
      try {
        if (e) std::rethrow_exception(e);
      } catch (const std::runtime_error& x) {
        return x.what();
      }
      return "no error";
    }));
  }
  for (int k = 0; k < groups; ++k) EXPECT_EQ(results[k].get(), "group " + std::to_string(k));
}

TEST(errgroup_stress, goroutines_starting_goroutines_are_all_waited_for) {
  lf::worker_pool pool(2);
  lf::errgroup g(pool);
  const std::uint64_t parents = pool_goroutines / 100;
  std::atomic<std::uint64_t> ran{0};
  for (std::uint64_t p = 0; p < parents; ++p) {
    g.go([&] {
      for (int c = 0; c < 10; ++c) g.go([&] { ran.fetch_add(1, std::memory_order_relaxed); });
      ran.fetch_add(1, std::memory_order_relaxed);
    });
  }
  EXPECT_FALSE(g.wait());
  EXPECT_EQ(ran.load(), parents * 11);
}

TEST(errgroup_stress, goroutines_racing_shutdown_now_each_run_or_report_the_drop) {
  const std::uint64_t per_starter = pool_goroutines / 10;
  for (int limit : {-1, -1, 3, 3}) {  // how many are dropped varies from run to run: two tries each
    lf::worker_pool pool(2);
    lf::errgroup g(pool);
    g.set_limit(limit);
    std::atomic<std::uint64_t> ran{0};
    std::atomic<bool> go{false};
    std::uint64_t accepted[2] = {0, 0};
    std::vector<std::thread> starters;
    for (int s = 0; s < 2; ++s) {
      starters.emplace_back([&, s] {
        while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
        for (std::uint64_t i = 0; i < per_starter; ++i) {
          try {
            g.go([&ran] { ran.fetch_add(1, std::memory_order_relaxed); });
          } catch (const lf::pool_closed&) {
            break;
          }
          ++accepted[s];
        }
      });
    }
    go.store(true, std::memory_order_release);
    // Shut down once some goroutines have run, while the starters are (very likely) still at it.
    while (ran.load(std::memory_order_relaxed) < per_starter / 4) std::this_thread::yield();
    pool.shutdown_now();
    for (auto& t : starters) t.join();
    const std::exception_ptr e = g.wait();
    const std::uint64_t dropped = pool.dropped();
    EXPECT_EQ(ran.load() + dropped, accepted[0] + accepted[1]);
    if (dropped > 0) {
      ASSERT_TRUE(e);
      try {
        std::rethrow_exception(e);
      } catch (const std::future_error& x) {
        EXPECT_EQ(x.code(), std::make_error_code(std::future_errc::broken_promise));
      }
    } else {
      EXPECT_FALSE(e);
    }
    std::printf("limit %d: accepted %llu, ran %llu, dropped %llu\n", limit,
                static_cast<unsigned long long>(accepted[0] + accepted[1]), static_cast<unsigned long long>(ran.load()),
                static_cast<unsigned long long>(dropped));
  }
}

}  // namespace
