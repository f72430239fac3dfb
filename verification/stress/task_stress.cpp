// lf tasks under real threads (run under TSan and ASan): what each case counts is checked
// at its end. Sizes: the (10^5 coroutines on 2 workers, 10^4 waiters on one
// context, fib on 1, 2 and 4 workers); fib is 25 in plain builds and 21 under the
// sanitizers (about 28 000 forks, each two fibers: enough to interleave every join path
// thousands of times, and under ~2 s with TSan on 2 cores).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "patterns/awaitables.hpp"
#include "patterns/task.hpp"
#include "patterns/wait_group.hpp"

namespace {

#if LF_ASAN || LF_TSAN
constexpr int fib_n = 21;
#else
constexpr int fib_n = 25;
#endif

lf::task<long> fib(int n) {
  if (n < 2) co_return n;
  auto [a, b] = co_await lf::when_all(fib(n - 1), fib(n - 2));
  co_return a + b;
}

long fib_plain(int n) { return n < 2 ? n : fib_plain(n - 1) + fib_plain(n - 2); }

TEST(task_stress, a_hundred_thousand_coroutines_on_two_workers_each_run_once) {
  lf::worker_pool pool(2);
  constexpr int n = 100'000;
  std::vector<std::atomic<int>> runs(n);
  lf::wait_group wg;
  wg.add(n);
  for (int i = 0; i < n; ++i) {
    lf::go(pool, [&runs, &wg, i]() -> lf::task<void> {
      co_await lf::yield();  // every one suspends and is resumed through the queues
      runs[i].fetch_add(1, std::memory_order_relaxed);
      wg.done();
    }).detach();
  }
  wg.wait();
  for (int i = 0; i < n; ++i) ASSERT_EQ(runs[i].load(), 1) << i;
}

TEST(task_stress, fork_join_fib_on_one_two_and_four_workers) {
  const long expected = fib_plain(fib_n);
  for (int workers : {1, 2, 4}) {
    lf::worker_pool pool(workers);
    EXPECT_EQ(lf::spawn(pool, fib(fib_n)).get(), expected) << workers << " workers";
  }
}

TEST(task_stress, cancel_resumes_ten_thousand_suspended_coroutines_once_each) {
  lf::worker_pool pool(2);
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  constexpr int n = 10'000;
  std::vector<std::atomic<int>> resumed(n);
  std::vector<lf::join_handle<void>> hs;
  hs.reserve(n);
  for (int i = 0; i < n; ++i) {
    hs.push_back(lf::go(pool, [&resumed, i](lf::context c) -> lf::task<void> {
      co_await lf::done(c);
      resumed[i].fetch_add(1, std::memory_order_relaxed);
    }, ctx));
  }
  cancel();
  for (auto& h : hs) h.get();
  for (int i = 0; i < n; ++i) ASSERT_EQ(resumed[i].load(), 1) << i;
}

// The destruction of a pool races the wake-ups of its suspended coroutines: a cancel on
// another thread, timers firing, fibers of another pool finishing. Every coroutine is
// either resumed to its end or destroyed, exactly once (the counters), and nothing is
// touched after it is freed (ASan / TSan).
TEST(task_stress, destroying_a_pool_races_cancel_timers_and_joins) {
  lf::worker_pool other(1);
  for (int round = 0; round < 20; ++round) {
    auto [ctx, cancel] = lf::with_cancel(lf::background());
    std::atomic<int> ended{0}, destroyed{0};
    struct count_destroyed {
      std::atomic<int>* n;
      ~count_destroyed() { n->fetch_add(1); }
    };
    constexpr int per_kind = 50;
    std::vector<lf::join_handle<void>> remote;
    {
      lf::worker_pool pool(2);
      for (int i = 0; i < per_kind; ++i) {
        lf::go(pool, [&](lf::context c) -> lf::task<void> {
          count_destroyed d{&destroyed};
          co_await lf::done(c);
          ended.fetch_add(1);
        }, ctx).detach();
        lf::go(pool, [&, i]() -> lf::task<void> {
          count_destroyed d{&destroyed};
          co_await lf::sleep_for(std::chrono::microseconds(10 * i));
          ended.fetch_add(1);
        }).detach();
        remote.push_back(lf::go(other, []() -> lf::task<void> { co_await lf::yield(); }));
        lf::go(pool, [&, h = std::move(remote.back())]() mutable -> lf::task<void> {
          count_destroyed d{&destroyed};
          co_await std::move(h);
          ended.fetch_add(1);
        }).detach();
        remote.pop_back();
      }
      std::thread canceller([c = cancel] { c(); });  // a copy: clang 14 cannot capture a structured binding
      std::this_thread::sleep_for(std::chrono::microseconds(100 * (round % 5)));
      canceller.join();
    }
    EXPECT_EQ(destroyed.load(), 3 * per_kind) << "round " << round;  // every frame went, once
    EXPECT_LE(ended.load(), 3 * per_kind);
  }
}

}  // namespace
