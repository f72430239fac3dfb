// Unit lane: lf::worker_pool's API — results and exceptions through futures, detach and
// its error hook, bad worker counts and options, wait_idle, graceful and immediate
// shutdown (dropped futures report broken_promise), submission after shutdown, nested
// submission from a worker, bounded submission under each policy (block, fail,
// caller_runs, try_*), lf::pool_future (helping waits on a worker, blocking waits
// elsewhere, empty futures, reference results), submission with an lf::context (a task
// whose context is done before it starts is skipped: lf::task_canceled), parallel_for
// and parallel_for_chunks (ranges wider than half the index type, shut-down pools),
// pool_future's timed waits, a hook that replaces itself, a task that destroys its own
// pool, and the introspection counters (running among them). No sleeps: every test waits
// on a future, a promise, wait_idle, or a shutdown (the timed-wait tests wait for their
// own deadline, which is what they test).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "patterns/context.hpp"
#include "patterns/wait_group.hpp"
#include "patterns/worker_pool.hpp"
#include "verification/support/held_worker.hpp"

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
  lf::pool_future<int> f = pool.submit([](int a, int b) { return a + b; }, 2, 40);
  EXPECT_EQ(f.get(), 42);
  lf::pool_future<void> v = pool.submit([] {});
  v.get();
}

TEST(worker_pool, submit_accepts_move_only_callables_and_arguments) {
  lf::worker_pool pool(1);
  auto p = std::make_unique<int>(7);
  lf::pool_future<int> f = pool.submit([q = std::make_unique<int>(5)](std::unique_ptr<int> r) { return *q + *r; },
                                   std::move(p));
  EXPECT_EQ(f.get(), 12);
}

TEST(worker_pool, a_task_exception_reaches_its_future_and_the_worker_lives_on) {
  lf::worker_pool pool(1);
  lf::pool_future<int> bad = pool.submit([]() -> int { throw std::runtime_error("boom"); });
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

TEST(worker_pool, an_error_hook_may_replace_itself) {
  lf::worker_pool pool(1);
  std::atomic<int> first{0};
  std::atomic<int> second{0};
  pool.set_error_hook([&](std::exception_ptr) {
    first.fetch_add(1);
    // Took the hook's own lock again while the hook ran under it: the worker deadlocked.
    pool.set_error_hook([&](std::exception_ptr) { second.fetch_add(1); });
  });
  pool.detach([] { throw 1; });
  pool.wait_idle();
  pool.detach([] { throw 2; });
  pool.wait_idle();
  EXPECT_EQ(first.load(), 1);
  EXPECT_EQ(second.load(), 1);
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
  lf::pool_future<lf::pool_future<int>> outer = pool.submit([&] { return pool.submit([] { return 20; }); });
  lf::pool_future<int> inner = outer.get();
  EXPECT_EQ(inner.get(), 20);  // waited on from outside the pool: blocks on the word
  pool.wait_idle();
}

TEST(worker_pool, wait_idle_and_shutdown_from_a_worker_throw_logic_error) {
  lf::worker_pool pool(1);
  lf::pool_future<void> a = pool.submit([&] { pool.wait_idle(); });
  EXPECT_THROW(a.get(), std::logic_error);
  lf::pool_future<void> b = pool.submit([&] { pool.shutdown(); });
  EXPECT_THROW(b.get(), std::logic_error);
  EXPECT_TRUE(pool.submit([&] { return pool.on_this_pool(); }).get());
  EXPECT_FALSE(pool.on_this_pool());
}

TEST(worker_pool, shutdown_finishes_queued_tasks_then_rejects) {
  lf::worker_pool pool(1);
  std::atomic<int> ran{0};
  std::vector<lf::pool_future<void>> fs;
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
  lf::pool_future<void> blocker = pool.submit([&] {
    started.set_value();
    release.get_future().wait();
  });
  started.get_future().wait();  // the only worker is busy: everything below stays queued
  std::vector<lf::pool_future<int>> queued;
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

// ---- a task that destroys its own pool -------------------------------------------------

// Signals when the thread that armed it ends: a thread_local's destructor runs at thread
// exit, after the thread's function (a pool worker's loop) has returned.
struct thread_end_signal {
  std::promise<void>* ended = nullptr;
  ~thread_end_signal() {
    if (ended != nullptr) ended->set_value();
  }
};
thread_local thread_end_signal this_thread_end;

TEST(worker_pool, a_task_may_let_go_of_the_last_owner_of_its_pool_which_drains_first) {
  for (std::ptrdiff_t workers : {1, 2}) {
    std::atomic<int> ran{0};
    std::promise<void> go;
    std::promise<int> ran_when_destroyed;
    std::promise<void> worker_ended;
    auto pool = std::make_shared<lf::worker_pool>(workers);
    pool->detach([p = pool, gate = go.get_future().share(), &ran, &ran_when_destroyed, &worker_ended]() mutable {
      this_thread_end.ended = &worker_ended;
      gate.wait();
      p.reset();  // the last owner: ~worker_pool runs here, on this pool's worker
      ran_when_destroyed.set_value(ran.load());
    });
    for (int i = 0; i < 100; ++i) pool->detach([&ran] { ran.fetch_add(1); });
    pool.reset();
    go.set_value();
    // The destructor ran the queued tasks first (with one worker, only it could), as
    // shutdown() does; it used to call the throwing shutdown() in a noexcept destructor.
    EXPECT_EQ(ran_when_destroyed.get_future().get(), 100) << workers << " workers";
    worker_ended.get_future().wait();  // and that worker's thread then ended by itself
  }
}

// Lets go of the last owner of a pool when the task that holds it is destroyed, after it ran.
struct last_owner {
  std::shared_ptr<lf::worker_pool> pool;
  std::promise<void>* destroyed;
  last_owner(std::shared_ptr<lf::worker_pool> p, std::promise<void>* d) : pool(std::move(p)), destroyed(d) {}
  last_owner(last_owner&&) noexcept = default;
  ~last_owner() {
    if (pool == nullptr) return;  // moved from
    pool.reset();
    destroyed->set_value();
  }
};

TEST(worker_pool, a_task_whose_captures_hold_the_last_owner_of_its_pool_destroys_it_after_running) {
  std::promise<void> go;
  std::promise<void> destroyed;
  std::promise<void> worker_ended;
  auto pool = std::make_shared<lf::worker_pool>(1);
  pool->detach([owner = last_owner(pool, &destroyed), gate = go.get_future().share(), &worker_ended] {
    this_thread_end.ended = &worker_ended;
    gate.wait();
  });
  pool.reset();
  go.set_value();
  destroyed.get_future().wait();  // ~worker_pool ran on the worker, inside the task record's deletion
  worker_ended.get_future().wait();
}

TEST(worker_pool, a_task_run_nested_in_a_wait_that_destroys_its_pool_aborts_naming_the_misuse) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        auto pool = std::make_shared<lf::worker_pool>(1);
        lf::worker_pool* raw = pool.get();
        std::promise<void> go;
        std::promise<void> returned;
        raw->detach([p = pool, raw, gate = go.get_future().share(), &returned]() mutable {
          gate.wait();
          // The child runs inside this task's wait (the only worker helps): when it lets go
          // of the pool, the frames under it belong to the pool.
          lf::pool_future<void> child = raw->submit([q = std::move(p)]() mutable { q.reset(); });
          child.wait();
          returned.set_value();
        });
        pool.reset();
        go.set_value();
        returned.get_future().wait();
      },
      "destroyed by a task that runs nested on one of its workers");
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

TEST(worker_pool, parallel_for_sums_a_range_that_crosses_zero) {
  lf::worker_pool pool(2);
  std::atomic<long long> sum{0};
  lf::parallel_for(pool, -50'000, 50'000, [&](int i) { sum.fetch_add(i, std::memory_order_relaxed); });
  EXPECT_EQ(sum.load(), -50'000LL);
}

// Every index of [first, last) once; T is narrower than int, so the range stays small.
template <class T>
void expect_every_index_once(lf::worker_pool& pool, T first, T last) {
  const int n = static_cast<int>(last) - static_cast<int>(first);
  std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
  lf::parallel_for(pool, first, last, [&](T i) {
    hits[static_cast<std::size_t>(static_cast<int>(i) - static_cast<int>(first))].fetch_add(
        1, std::memory_order_relaxed);
  });
  for (int k = 0; k < n; ++k) ASSERT_EQ(hits[static_cast<std::size_t>(k)].load(), 1) << static_cast<int>(first) + k;
}

TEST(worker_pool, parallel_for_visits_every_index_of_ranges_wider_than_half_the_type) {
  lf::worker_pool pool(2);
  expect_every_index_once<std::int16_t>(pool, -30'000, 30'000);
  expect_every_index_once<std::int8_t>(pool, -100, 100);
  expect_every_index_once<std::int16_t>(pool, INT16_MIN, INT16_MAX);
  expect_every_index_once<std::int8_t>(pool, INT8_MIN, INT8_MAX);
  expect_every_index_once<std::uint8_t>(pool, 0, UINT8_MAX);
}

// The chunks parallel_for_chunks hands out: non-empty, disjoint, and together exactly
// [first, last). Each chunk is recorded once, so ranges of 2^32 and 2^64 indices cost
// a few dozen calls.
template <class T>
void expect_chunks_cover(lf::worker_pool& pool, T first, T last) {
  std::mutex m;
  std::vector<std::pair<T, T>> chunks;
  lf::parallel_for_chunks(pool, first, last, [&](T begin, T end) {
    std::lock_guard<std::mutex> lock(m);
    chunks.emplace_back(begin, end);
  });
  ASSERT_FALSE(chunks.empty());
  std::sort(chunks.begin(), chunks.end());
  EXPECT_EQ(chunks.front().first, first);
  for (std::size_t k = 0; k < chunks.size(); ++k) {
    EXPECT_LT(chunks[k].first, chunks[k].second) << k;
    if (k > 0) {
      EXPECT_EQ(chunks[k - 1].second, chunks[k].first) << k;
    }
  }
  EXPECT_EQ(chunks.back().second, last);
}

TEST(worker_pool, parallel_for_chunks_cover_ranges_wider_than_half_the_type) {
  lf::worker_pool pool(2);
  // last - first overflowed int here: f was called zero times.
  expect_chunks_cover(pool, -1'100'000'000, 1'100'000'000);
  expect_chunks_cover(pool, INT_MIN, INT_MAX);
  expect_chunks_cover(pool, LLONG_MIN, LLONG_MAX);  // 2^64 - 1 indices
  expect_chunks_cover(pool, 0ULL, ULLONG_MAX);
  expect_chunks_cover<std::int8_t>(pool, INT8_MIN, INT8_MAX);
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
  lf::pool_future<long long> f = pool.submit([&] {
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

TEST(worker_pool, parallel_for_of_one_chunk_after_shutdown_throws_pool_closed_too) {
  lf::worker_pool pool(2);
  pool.shutdown();
  int calls = 0;
  // One chunk offers no helper; it used to run in the caller instead of throwing.
  EXPECT_THROW(lf::parallel_for(pool, 7, 8, [&](int) { ++calls; }), lf::pool_closed);
  EXPECT_THROW(lf::parallel_for_chunks(pool, 7, 8, [&](int, int) { ++calls; }), lf::pool_closed);
  EXPECT_EQ(calls, 0);
}

TEST(worker_pool, parallel_for_of_an_empty_range_after_shutdown_returns_at_once) {
  lf::worker_pool pool(2);
  pool.shutdown();
  int calls = 0;
  lf::parallel_for(pool, 5, 5, [&](int) { ++calls; });
  lf::parallel_for(pool, 5, 3, [&](int) { ++calls; });
  EXPECT_EQ(calls, 0);
}

TEST(worker_pool, parallel_for_on_a_worker_during_a_graceful_shutdown_runs) {
  lf::worker_pool pool(1);
  std::promise<void> started;
  std::promise<void> release;
  lf::pool_future<long long> f = pool.submit([&] {
    started.set_value();
    release.get_future().wait();
    std::atomic<long long> sum{0};
    lf::parallel_for(pool, 7, 8, [&](int i) { sum.fetch_add(i); });     // one chunk
    lf::parallel_for(pool, 0, 1000, [&](int i) { sum.fetch_add(i); });  // many
    return sum.load();
  });
  started.get_future().wait();
  std::thread closer([&] { pool.shutdown(); });
  lf::test::wait_until_refused(pool);  // shutdown has begun
  release.set_value();
  EXPECT_EQ(f.get(), 7 + 999LL * 1000 / 2);  // a worker's submissions are still accepted
  closer.join();
}

// ---- options and bounded submission --------------------------------------------------

using lf::test::held_worker;

lf::pool_options bounded(std::ptrdiff_t workers, std::size_t limit, lf::overflow_policy on_full) {
  lf::pool_options o;
  o.workers = workers;
  o.queue_limit = limit;
  o.on_full = on_full;
  return o;
}

template <class Fn>
std::string message_of(Fn&& fn) {
  try {
    fn();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no std::invalid_argument";
}

TEST(worker_pool_options, bad_options_throw_invalid_argument_naming_the_field) {
  EXPECT_NE(message_of([] { lf::worker_pool p(bounded(-1, 1, lf::overflow_policy::block)); }).find("workers = -1"),
            std::string::npos);
  EXPECT_NE(message_of([] { lf::worker_pool p(bounded(1, 0, lf::overflow_policy::block)); }).find("queue_limit = 0"),
            std::string::npos);
  const std::size_t too_big = static_cast<std::size_t>(INT_MAX) + 1;
  EXPECT_NE(message_of([&] { lf::worker_pool p(bounded(1, too_big, lf::overflow_policy::block)); })
                .find("queue_limit = " + std::to_string(too_big)),
            std::string::npos);
  EXPECT_NE(message_of([] { lf::worker_pool p(bounded(1, 1, static_cast<lf::overflow_policy>(7))); })
                .find("on_full = 7"),
            std::string::npos);
}

TEST(worker_pool_options, options_set_workers_limit_and_hook) {
  std::atomic<int> hooked{0};
  lf::worker_pool pool(lf::pool_options{.workers = 3,
                                        .queue_limit = 5,
                                        .on_full = lf::overflow_policy::fail,
                                        .on_detached_error = [&](std::exception_ptr) { hooked.fetch_add(1); }});
  EXPECT_EQ(pool.workers(), 3u);
  EXPECT_EQ(pool.queue_limit(), std::optional<std::size_t>(5));
  pool.detach([] { throw 1; });
  pool.wait_idle();
  EXPECT_EQ(hooked.load(), 1);
  lf::worker_pool unbounded(2);
  EXPECT_FALSE(unbounded.queue_limit().has_value());
}

TEST(worker_pool_bounded, fail_policy_throws_pool_full_once_the_limit_is_reached) {
  lf::worker_pool pool(bounded(1, 2, lf::overflow_policy::fail));
  held_worker hold(pool);  // running, so not queued
  std::atomic<int> ran{0};
  lf::pool_future<void> a = pool.submit([&] { ran.fetch_add(1); });
  pool.detach([&] { ran.fetch_add(1); });
  EXPECT_THROW((void)pool.submit([&] { ran.fetch_add(100); }), lf::pool_full);
  EXPECT_THROW(pool.detach([&] { ran.fetch_add(100); }), lf::pool_full);
  EXPECT_EQ(pool.rejected(), 2u);
  hold.release();
  a.get();
  pool.wait_idle();
  EXPECT_EQ(ran.load(), 2);
  EXPECT_EQ(pool.submit([] { return 5; }).get(), 5);  // room again
}

TEST(worker_pool_bounded, try_submit_and_try_detach_never_wait_whatever_the_policy) {
  lf::worker_pool pool(bounded(1, 1, lf::overflow_policy::block));
  held_worker hold(pool);
  std::optional<lf::pool_future<int>> first = pool.try_submit([] { return 1; });
  ASSERT_TRUE(first.has_value());
  EXPECT_FALSE(pool.try_submit([] { return 2; }).has_value());
  EXPECT_FALSE(pool.try_detach([] {}));
  EXPECT_EQ(pool.rejected(), 2u);
  hold.release();
  EXPECT_EQ(first->get(), 1);
}

TEST(worker_pool_bounded, caller_runs_policy_runs_the_task_in_the_submitting_thread) {
  lf::worker_pool pool(bounded(1, 1, lf::overflow_policy::caller_runs));
  held_worker hold(pool);
  lf::pool_future<std::thread::id> queued = pool.submit([] { return std::this_thread::get_id(); });
  std::uint64_t running_inside = 0;
  lf::pool_future<std::thread::id> inline_run = pool.submit([&] {
    running_inside = pool.running();  // the held worker and this task
    return std::this_thread::get_id();
  });
  EXPECT_TRUE(inline_run.is_ready());  // it ran before submit returned
  EXPECT_EQ(inline_run.get(), std::this_thread::get_id());
  EXPECT_EQ(running_inside, 2u);
  EXPECT_EQ(pool.ran_by_callers(), 1u);
  hold.release();
  EXPECT_NE(queued.get(), std::this_thread::get_id());
  pool.wait_idle();
  EXPECT_EQ(pool.completed(), 2u);  // the held task and `queued`; not the caller's
}

TEST(worker_pool_bounded, caller_runs_sends_a_detached_exception_to_the_hook) {
  std::atomic<int> hooked{0};
  lf::worker_pool pool(lf::pool_options{.workers = 1,
                                        .queue_limit = 1,
                                        .on_full = lf::overflow_policy::caller_runs,
                                        .on_detached_error = [&](std::exception_ptr) { hooked.fetch_add(1); }});
  held_worker hold(pool);
  pool.detach([] {});
  pool.detach([] { throw std::runtime_error("in the caller"); });  // runs here
  EXPECT_EQ(hooked.load(), 1);
  EXPECT_EQ(pool.detached_errors(), 1u);
  hold.release();
}

TEST(worker_pool_bounded, block_policy_returns_only_once_a_worker_made_room) {
  lf::worker_pool pool(bounded(1, 1, lf::overflow_policy::block));
  held_worker hold(pool);
  std::atomic<bool> released{false};
  std::atomic<int> ran{0};
  lf::pool_future<void> queued = pool.submit([&] { ran.fetch_add(1); });
  bool released_when_accepted = false;
  std::thread submitter([&] {
    // Room appears only when the worker takes `queued`, which it can do only after the
    // held task returns, which it does only after `released` is set.
    lf::pool_future<void> f = pool.submit([&] { ran.fetch_add(1); });
    released_when_accepted = released.load();
    f.get();
  });
  released.store(true);
  hold.release();
  submitter.join();
  EXPECT_TRUE(released_when_accepted);
  queued.get();
  EXPECT_EQ(ran.load(), 2);
  EXPECT_EQ(pool.ran_by_callers(), 0u);
}

TEST(worker_pool_bounded, block_policy_on_a_worker_runs_the_task_in_the_worker) {
  lf::worker_pool pool(bounded(1, 1, lf::overflow_policy::block));
  lf::pool_future<bool> f = pool.submit([&] {
    std::atomic<int> children{0};
    pool.detach([&] { children.fetch_add(1); });  // queued: the limit is reached
    const std::thread::id me = std::this_thread::get_id();
    bool same_thread = false;
    pool.detach([&] {
      same_thread = std::this_thread::get_id() == me;
      children.fetch_add(1);
    });  // would park the only worker: runs here instead
    return same_thread && children.load() == 1;
  });
  EXPECT_TRUE(f.get());
  pool.wait_idle();
  EXPECT_EQ(pool.ran_by_callers(), 1u);
}

TEST(worker_pool_bounded, shutdown_wakes_a_submitter_waiting_for_room_with_pool_closed) {
  lf::worker_pool pool(bounded(1, 1, lf::overflow_policy::block));
  held_worker hold(pool);
  std::atomic<int> ran{0};
  pool.detach([&] { ran.fetch_add(1); });  // fills the queue
  bool closed = false;
  std::thread submitter([&] {
    try {
      pool.detach([&] { ran.fetch_add(100); });  // waits for room that comes only after the release below
    } catch (const lf::pool_closed&) {
      closed = true;
    }
  });
  std::thread closer([&] { pool.shutdown(); });
  submitter.join();  // returns only once the shutdown has begun
  EXPECT_TRUE(closed);
  hold.release();
  closer.join();
  EXPECT_EQ(ran.load(), 1);  // graceful: the queued task ran; the refused one did not
}

TEST(worker_pool_bounded, parallel_for_on_a_full_pool_runs_in_the_caller) {
  lf::worker_pool pool(bounded(1, 1, lf::overflow_policy::fail));
  held_worker hold(pool);
  pool.detach([] {});  // the queue is full: no helper can be queued
  std::atomic<long long> sum{0};
  lf::parallel_for(pool, 0, 1000, [&](int i) { sum.fetch_add(i); });
  EXPECT_EQ(sum.load(), 999LL * 1000 / 2);
  hold.release();
}

// ---- lf::pool_future ------------------------------------------------------------------

TEST(pool_future, a_task_waiting_on_its_child_in_a_pool_of_one_completes) {
  lf::worker_pool pool(1);
  lf::pool_future<int> parent = pool.submit([&] {
    lf::pool_future<int> child = pool.submit([] { return 41; });
    return child.get() + 1;  // the only worker helps: it runs the child itself
  });
  EXPECT_EQ(parent.get(), 42);
}

int fib_by_futures(lf::worker_pool& pool, int n) {
  if (n < 2) return n;
  lf::pool_future<int> left = pool.submit([&pool, n] { return fib_by_futures(pool, n - 1); });
  const int right = fib_by_futures(pool, n - 2);
  return left.get() + right;
}

TEST(pool_future, recursive_fork_join_through_futures_completes_on_one_and_two_workers) {
  for (std::ptrdiff_t workers : {1, 2}) {
    lf::worker_pool pool(workers);
    EXPECT_EQ(pool.submit([&] { return fib_by_futures(pool, 15); }).get(), 610) << workers << " workers";
  }
}

TEST(pool_future, a_worker_waiting_on_a_task_running_elsewhere_wakes_when_it_completes) {
  lf::worker_pool pool(2);
  std::promise<void> child_started;
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  lf::pool_future<int> parent = pool.submit([&] {
    lf::pool_future<int> child = pool.submit([&, gate] {
      child_started.set_value();
      gate.wait();
      return 7;
    });
    // Either this worker runs the child (and the other worker does nothing), or the other
    // worker steals it and this one parks as a helper until the child completes.
    return child.get();
  });
  child_started.get_future().wait();
  release.set_value();
  EXPECT_EQ(parent.get(), 7);
}

TEST(pool_future, a_worker_of_another_pool_waits_without_helping) {
  lf::worker_pool a(1);
  lf::worker_pool b(1);
  lf::pool_future<int> f = a.submit([&] { return b.submit([] { return 3; }).get(); });
  EXPECT_EQ(f.get(), 3);
  a.wait_idle();
  b.wait_idle();
  EXPECT_EQ(a.completed(), 1u);  // a's worker ran nothing of b's
  EXPECT_EQ(b.completed(), 1u);
}

TEST(pool_future, empty_futures_throw_no_state) {
  lf::pool_future<int> empty;
  EXPECT_FALSE(empty.valid());
  try {
    empty.wait();
    ADD_FAILURE() << "no exception";
  } catch (const std::future_error& e) {
    EXPECT_EQ(e.code(), std::make_error_code(std::future_errc::no_state));
  }
  EXPECT_THROW((void)empty.wait_for(std::chrono::seconds(1)), std::future_error);
  lf::worker_pool pool(1);
  lf::pool_future<int> f = pool.submit([] { return 1; });
  EXPECT_TRUE(f.valid());
  EXPECT_EQ(f.get(), 1);
  EXPECT_FALSE(f.valid());  // get() once, like std::future
  EXPECT_THROW((void)f.get(), std::future_error);
}

TEST(pool_future, wait_for_times_out_on_a_task_that_has_not_finished) {
  lf::worker_pool pool(1);
  held_worker hold(pool);  // hold.task returns only after hold.release()
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(hold.task.wait_for(std::chrono::milliseconds(20)), std::future_status::timeout);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(20));
  EXPECT_EQ(hold.task.wait_until(lf::wait_clock::now()), std::future_status::timeout);
  EXPECT_EQ(hold.task.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  hold.release();
  hold.task.get();  // a timed wait that timed out leaves the future usable
}

TEST(pool_future, wait_for_returns_ready_once_the_task_is_done) {
  lf::worker_pool pool(1);
  held_worker hold(pool);
  std::thread releaser([&] { hold.release(); });
  EXPECT_EQ(hold.task.wait_for(std::chrono::hours(1)), std::future_status::ready);  // sleeps until it is done
  EXPECT_EQ(hold.task.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  releaser.join();
  hold.task.get();
}

TEST(pool_future, wait_for_the_longest_duration_has_no_deadline) {
  lf::worker_pool pool(1);
  lf::pool_future<int> outer = pool.submit([&] {
    // Queued on this worker's own deque: only this wait, helping, can run it. A deadline
    // that wrapped into the past would return timeout without running it.
    lf::pool_future<int> child = pool.submit([] { return 3; });
    if (child.wait_for(std::chrono::hours::max()) != std::future_status::ready) return -1;
    return child.get();
  });
  EXPECT_EQ(outer.wait_for(std::chrono::hours::max()), std::future_status::ready);  // off the pool
  EXPECT_EQ(outer.get(), 3);
}

TEST(pool_future, wait_for_a_negative_duration_throws_invalid_argument_naming_it) {
  lf::worker_pool pool(1);
  lf::pool_future<int> f = pool.submit([] { return 4; });
  try {
    (void)f.wait_for(std::chrono::milliseconds(-5));
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("lf::pool_future::wait_for: d = -0.005"), std::string::npos) << e.what();
  }
  EXPECT_EQ(f.get(), 4);
}

TEST(pool_future, a_timed_wait_on_a_worker_helps_until_the_deadline) {
  lf::worker_pool pool(2);
  held_worker hold(pool);  // one worker is held: the other runs `outer`, and only it
  lf::pool_future<bool> outer = pool.submit([&] {
    lf::pool_future<int> child = pool.submit([] { return 5; });  // on this worker's deque
    const bool timed_out = hold.task.wait_for(std::chrono::milliseconds(20)) == std::future_status::timeout;
    return timed_out && child.is_ready();  // it ran the child while it waited
  });
  EXPECT_TRUE(outer.get());
}

TEST(pool_future, is_ready_and_wait_do_not_consume_the_result) {
  lf::worker_pool pool(1);
  lf::pool_future<std::string> f = pool.submit([] { return std::string("lf"); });
  f.wait();
  EXPECT_TRUE(f.is_ready());
  f.wait();
  EXPECT_EQ(f.get(), "lf");
}

TEST(pool_future, a_reference_result_refers_to_the_original) {
  lf::worker_pool pool(1);
  int x = 1;
  lf::pool_future<int&> f = pool.submit([&]() -> int& { return x; });
  f.get() = 9;
  EXPECT_EQ(x, 9);
}

// ---- submission with a context --------------------------------------------------------

TEST(worker_pool_context, a_task_whose_context_is_done_before_it_starts_is_skipped) {
  lf::worker_pool pool(1);
  auto [ctx, cancel] = lf::with_cancel_cause(lf::background());
  cancel(std::make_exception_ptr(std::runtime_error("stop")));
  bool ran = false;
  lf::pool_future<int> f = pool.submit(ctx, [&] {
    ran = true;
    return 1;
  });
  try {
    (void)f.get();
    ADD_FAILURE() << "no exception";
  } catch (const lf::task_canceled& e) {
    EXPECT_EQ(e.error(), lf::context_error::canceled);
    ASSERT_TRUE(e.cause());
    try {
      std::rethrow_exception(e.cause());
    } catch (const std::runtime_error& cause) {
      EXPECT_STREQ(cause.what(), "stop");
    }
  }
  pool.wait_idle();
  EXPECT_FALSE(ran);
  EXPECT_EQ(pool.canceled(), 1u);
}

TEST(worker_pool_context, a_context_cancelled_while_the_task_is_queued_skips_it) {
  lf::worker_pool pool(1);
  held_worker hold(pool);
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  std::atomic<int> ran{0};
  lf::pool_future<void> f = pool.submit(ctx, [&] { ran.fetch_add(1); });
  lf::pool_future<int> other = pool.submit([] { return 2; });  // no context: unaffected
  cancel();
  hold.release();
  EXPECT_THROW(f.get(), lf::task_canceled);
  EXPECT_EQ(other.get(), 2);
  EXPECT_EQ(ran.load(), 0);
}

TEST(worker_pool_context, a_passed_deadline_reports_deadline_exceeded) {
  lf::worker_pool pool(1);
  auto [ctx, cancel] = lf::with_timeout(lf::background(), std::chrono::milliseconds(0));
  lf::pool_future<void> f = pool.submit(ctx, [] {});
  try {
    f.get();
    ADD_FAILURE() << "no exception";
  } catch (const lf::task_canceled& e) {
    EXPECT_EQ(e.error(), lf::context_error::deadline_exceeded);
  }
}

TEST(worker_pool_context, a_live_context_lets_the_task_run_with_its_arguments) {
  lf::worker_pool pool(1);
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  EXPECT_EQ(pool.submit(ctx, [](int a, int b) { return a * b; }, 6, 7).get(), 42);
  EXPECT_EQ(pool.submit(lf::background(), [] { return 1; }).get(), 1);
  EXPECT_EQ(pool.canceled(), 0u);
}

TEST(worker_pool_context, a_running_task_is_not_interrupted_by_its_context) {
  lf::worker_pool pool(1);
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  std::promise<void> started;
  std::promise<void> cancelled;
  lf::pool_future<bool> f = pool.submit(ctx, [&, c = ctx] {
    started.set_value();
    cancelled.get_future().wait();
    return c.done().ready();  // it runs on, and may look at its context itself
  });
  started.get_future().wait();
  cancel();
  cancelled.set_value();
  EXPECT_TRUE(f.get());
}

TEST(worker_pool, running_counts_tasks_executing_now) {
  lf::worker_pool pool(2);
  EXPECT_EQ(pool.running(), 0u);
  held_worker hold(pool);
  EXPECT_EQ(pool.running(), 1u);
  hold.release();
  hold.task.get();
  pool.wait_idle();
  EXPECT_EQ(pool.running(), 0u);
}

TEST(worker_pool, running_counts_a_task_that_helps_and_the_tasks_it_runs) {
  lf::worker_pool pool(1);
  std::uint64_t seen = 0;
  pool.submit([&] {
        pool.submit([&] { seen = pool.running(); }).get();  // run by the waiting worker
      })
      .get();
  EXPECT_EQ(seen, 2u);  // the waiting task and the child it runs
}

}  // namespace
