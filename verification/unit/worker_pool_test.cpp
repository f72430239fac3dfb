// Unit lane: lf::worker_pool's API — results and exceptions through futures, detach and
// its error hook, bad worker counts, wait_idle, graceful and immediate shutdown (dropped
// futures report broken_promise), submission after shutdown, nested submission from a
// worker, parallel_for, and the introspection counters. No sleeps: every test waits on
// a future, wait_idle, or a shutdown.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "patterns/wait_group.hpp"
#include "patterns/worker_pool.hpp"

namespace {

TEST(worker_pool, negative_worker_count_throws_invalid_argument_naming_it) {
  try {
    lf::worker_pool pool(-3);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("n = -3"), std::string::npos) << e.what();
  }
}

TEST(worker_pool, zero_workers_means_one_per_hardware_thread) {
  lf::worker_pool pool(0);
  EXPECT_EQ(pool.workers(), std::max(1u, std::thread::hardware_concurrency()));
}

TEST(worker_pool, submit_returns_the_result_through_a_future) {
  lf::worker_pool pool(2);
  std::future<int> f = pool.submit([](int a, int b) { return a + b; }, 2, 40);
  EXPECT_EQ(f.get(), 42);
  std::future<void> v = pool.submit([] {});
  v.get();
}

TEST(worker_pool, submit_accepts_move_only_callables_and_arguments) {
  lf::worker_pool pool(1);
  auto p = std::make_unique<int>(7);
  std::future<int> f = pool.submit([q = std::make_unique<int>(5)](std::unique_ptr<int> r) { return *q + *r; },
                                   std::move(p));
  EXPECT_EQ(f.get(), 12);
}

TEST(worker_pool, a_task_exception_reaches_its_future_and_the_worker_lives_on) {
  lf::worker_pool pool(1);
  std::future<int> bad = pool.submit([]() -> int { throw std::runtime_error("boom"); });
  EXPECT_THROW(bad.get(), std::runtime_error);
  EXPECT_EQ(pool.submit([] { return 1; }).get(), 1);
}

TEST(worker_pool, detached_exceptions_go_to_the_hook_and_are_counted) {
  std::atomic<int> hooked{0};
  lf::worker_pool pool(2, [&](std::exception_ptr e) {
    try {
      std::rethrow_exception(e);
    } catch (const std::runtime_error&) {
      hooked.fetch_add(1);
    }
  });
  for (int i = 0; i < 3; ++i) pool.detach([] { throw std::runtime_error("detached"); });
  pool.wait_idle();
  EXPECT_EQ(hooked.load(), 3);
  EXPECT_EQ(pool.detached_errors(), 3u);
}

TEST(worker_pool, detached_exceptions_without_a_hook_are_swallowed_and_counted) {
  lf::worker_pool pool(1);
  pool.detach([] { throw 1; });
  pool.wait_idle();
  EXPECT_EQ(pool.detached_errors(), 1u);
  std::atomic<int> hooked{0};
  pool.set_error_hook([&](std::exception_ptr) { hooked.fetch_add(1); });
  pool.detach([] { throw 2; });
  pool.wait_idle();
  EXPECT_EQ(hooked.load(), 1);
  EXPECT_EQ(pool.detached_errors(), 2u);
}

TEST(worker_pool, wait_idle_returns_when_every_accepted_task_finished) {
  lf::worker_pool pool(2);
  std::atomic<int> ran{0};
  for (int i = 0; i < 1000; ++i) pool.detach([&] { ran.fetch_add(1, std::memory_order_relaxed); });
  pool.wait_idle();
  EXPECT_EQ(ran.load(), 1000);
  EXPECT_EQ(pool.completed(), 1000u);
  EXPECT_EQ(pool.queued_approx(), 0u);
}

TEST(worker_pool, wait_idle_on_an_idle_pool_returns_at_once) {
  lf::worker_pool pool(2);
  pool.wait_idle();
  EXPECT_EQ(pool.completed(), 0u);
}

TEST(worker_pool, a_task_submitted_from_a_worker_runs_and_counts_as_pending) {
  lf::worker_pool pool(2);
  std::atomic<int> ran{0};
  pool.detach([&] {
    for (int i = 0; i < 10; ++i) pool.detach([&] { ran.fetch_add(1); });
  });
  pool.wait_idle();  // includes the children
  EXPECT_EQ(ran.load(), 10);
}

TEST(worker_pool, nested_submit_returns_a_usable_future) {
  lf::worker_pool pool(2);
  std::future<int> outer = pool.submit([&] {
    std::future<int> inner = pool.submit([] { return 20; });
    return 1;  // not waiting on inner inside the worker: out of scope (see the header)
  });
  EXPECT_EQ(outer.get(), 1);
  pool.wait_idle();
}

TEST(worker_pool, wait_idle_and_shutdown_from_a_worker_throw_logic_error) {
  lf::worker_pool pool(1);
  std::future<void> a = pool.submit([&] { pool.wait_idle(); });
  EXPECT_THROW(a.get(), std::logic_error);
  std::future<void> b = pool.submit([&] { pool.shutdown(); });
  EXPECT_THROW(b.get(), std::logic_error);
  EXPECT_TRUE(pool.submit([&] { return pool.on_this_pool(); }).get());
  EXPECT_FALSE(pool.on_this_pool());
}

TEST(worker_pool, shutdown_finishes_queued_tasks_then_rejects) {
  lf::worker_pool pool(1);
  std::atomic<int> ran{0};
  std::vector<std::future<void>> fs;
  for (int i = 0; i < 100; ++i) fs.push_back(pool.submit([&] { ran.fetch_add(1); }));
  pool.shutdown();
  EXPECT_EQ(ran.load(), 100);
  for (auto& f : fs) f.get();
  EXPECT_THROW((void)pool.submit([] {}), lf::pool_closed);
  EXPECT_THROW(pool.detach([] {}), lf::pool_closed);
  pool.shutdown();  // a second shutdown is a no-op
  pool.shutdown_now();
}

TEST(worker_pool, graceful_shutdown_accepts_children_of_running_tasks) {
  lf::worker_pool pool(1);
  std::promise<void> started;
  std::promise<void> release;
  std::atomic<int> children{0};
  pool.detach([&] {
    started.set_value();
    release.get_future().wait();
    for (int i = 0; i < 5; ++i) pool.detach([&] { children.fetch_add(1); });
  });
  started.get_future().wait();
  std::thread closer([&] { pool.shutdown(); });
  // The closer may or may not have begun; either way the children are accepted.
  release.set_value();
  closer.join();
  EXPECT_EQ(children.load(), 5);
}

TEST(worker_pool, shutdown_now_drops_queued_tasks_with_broken_promises) {
  lf::worker_pool pool(1);
  std::promise<void> started;
  std::promise<void> release;
  std::future<void> blocker = pool.submit([&] {
    started.set_value();
    release.get_future().wait();
  });
  started.get_future().wait();  // the only worker is busy: everything below stays queued
  std::vector<std::future<int>> queued;
  for (int i = 0; i < 10; ++i) queued.push_back(pool.submit([i] { return i; }));
  pool.detach([] {});
  std::thread closer([&] { pool.shutdown_now(); });
  // shutdown_now drops the injection queue before it waits for the running task.
  while (pool.dropped() < 11) std::this_thread::yield();
  release.set_value();
  closer.join();
  blocker.get();
  for (auto& f : queued) {
    try {
      f.get();
      ADD_FAILURE() << "a dropped task ran";
    } catch (const std::future_error& e) {
      EXPECT_EQ(e.code(), std::make_error_code(std::future_errc::broken_promise));
    }
  }
  EXPECT_EQ(pool.dropped(), 11u);
  EXPECT_EQ(pool.completed(), 1u);
  EXPECT_THROW((void)pool.submit([] {}), lf::pool_closed);
}

TEST(worker_pool, the_destructor_finishes_queued_tasks) {
  std::atomic<int> ran{0};
  {
    lf::worker_pool pool(2);
    for (int i = 0; i < 100; ++i) pool.detach([&] { ran.fetch_add(1); });
  }
  EXPECT_EQ(ran.load(), 100);
}

TEST(worker_pool, more_submissions_than_the_injection_ring_holds_all_run) {
  lf::worker_pool pool(1);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  pool.detach([gate] { gate.wait(); });
  std::atomic<int> ran{0};
  for (int i = 0; i < 10000; ++i) pool.detach([&] { ran.fetch_add(1); });  // past the ring: overflow
  EXPECT_GE(pool.queued_approx(), 9000u);
  release.set_value();
  pool.wait_idle();
  EXPECT_EQ(ran.load(), 10000);
}

TEST(worker_pool, idle_workers_steal_from_a_busy_worker) {
  lf::worker_pool pool(2);
  lf::wait_group both;
  both.add(2);
  // One task forks two children into its own deque, then spins until one of them has
  // run. It holds its worker meanwhile, so only the other worker can run a child, and
  // only by stealing it.
  pool.detach([&] {
    pool.detach([&] { both.done(); });
    pool.detach([&] { both.done(); });
    while (both.count_approx() == 2) std::this_thread::yield();
  });
  both.wait();
  pool.wait_idle();
  EXPECT_GE(pool.stolen(), 1u);
}

TEST(worker_pool, parallel_for_visits_every_index_once) {
  lf::worker_pool pool(2);
  constexpr int n = 100'003;
  std::vector<std::atomic<int>> hits(n);
  lf::parallel_for(pool, 0, n, [&](int i) { hits[i].fetch_add(1, std::memory_order_relaxed); });
  for (int i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << i;
}

TEST(worker_pool, parallel_for_sums_a_range) {
  lf::worker_pool pool(2);
  std::atomic<long long> sum{0};
  lf::parallel_for(pool, 1LL, 1'000'001LL, [&](long long i) { sum.fetch_add(i, std::memory_order_relaxed); });
  EXPECT_EQ(sum.load(), 1'000'000LL * 1'000'001LL / 2);
}

TEST(worker_pool, parallel_for_on_an_empty_or_single_range) {
  lf::worker_pool pool(2);
  int calls = 0;
  lf::parallel_for(pool, 5, 5, [&](int) { ++calls; });
  lf::parallel_for(pool, 5, 3, [&](int) { ++calls; });
  EXPECT_EQ(calls, 0);
  lf::parallel_for(pool, 7, 8, [&](int i) { calls += i; });
  EXPECT_EQ(calls, 7);
}

TEST(worker_pool, parallel_for_rethrows_the_first_exception) {
  lf::worker_pool pool(2);
  EXPECT_THROW(lf::parallel_for(pool, 0, 10000,
                                [](int i) {
                                  if (i == 5000) throw std::out_of_range("index 5000");
                                }),
               std::out_of_range);
  EXPECT_EQ(pool.submit([] { return 3; }).get(), 3);
}

TEST(worker_pool, parallel_for_from_inside_a_worker_does_not_deadlock) {
  lf::worker_pool pool(1);  // one worker: only the caller itself can run the chunks
  std::future<long long> f = pool.submit([&] {
    std::atomic<long long> sum{0};
    lf::parallel_for(pool, 0, 1000, [&](int i) { sum.fetch_add(i); });
    return sum.load();
  });
  EXPECT_EQ(f.get(), 999LL * 1000 / 2);
}

TEST(worker_pool, parallel_for_after_shutdown_throws_pool_closed) {
  lf::worker_pool pool(2);
  pool.shutdown();
  int calls = 0;
  EXPECT_THROW(lf::parallel_for(pool, 0, 1000, [&](int) { ++calls; }), lf::pool_closed);
  EXPECT_EQ(calls, 0);
}

}  // namespace
