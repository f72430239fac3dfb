// Unit lane: lf::errgroup (Go's x/sync/errgroup) — wait returns the first error and keeps
// it, goroutines on their own threads or on a worker_pool, set_limit (bounds concurrency,
// n < 0 lifts it, changing it while goroutines are active throws logic_error), try_go,
// go waiting for a slot, limit 0, wait from inside a pool of one worker (helping, also
// while go waits for a slot), the destructor waiting, the pool's refusals reaching
// go() with the group left consistent, goroutines dropped by the pool's shutdown_now
// (wait and the destructor return, the drop is the error, slots are given back), and
// with_context (the context is cancelled by the first error, with it as the cause, or
// when wait returns; a parent's cancellation reaches it). No sleeps: every test waits on
// a promise, the group, a context, or the pool.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "patterns/context.hpp"
#include "patterns/errgroup.hpp"
#include "patterns/worker_pool.hpp"
#include "verification/support/held_worker.hpp"
#include "verification/support/concurrency_meter.hpp"

namespace {

using lf::test::concurrency_meter;

std::string what(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  }
}

TEST(errgroup, wait_without_goroutines_returns_no_error) {
  lf::errgroup g;
  EXPECT_FALSE(g.wait());
}

TEST(errgroup, wait_returns_no_error_when_every_goroutine_succeeds) {
  lf::errgroup g;
  std::atomic<int> ran{0};
  for (int i = 0; i < 20; ++i) g.go([&] { ran.fetch_add(1); });
  EXPECT_FALSE(g.wait());
  EXPECT_EQ(ran.load(), 20);
}

TEST(errgroup, wait_returns_the_first_error_and_drops_the_later_ones) {
  // The group's context is cancelled once the first error is recorded: the second
  // goroutine throws only after that.
  auto [g, ctx] = lf::errgroup::with_context(lf::background());
  g.go([c = ctx] {
    c.done().wait();
    throw std::logic_error("second");
  });
  g.go([] { throw std::runtime_error("first"); });
  std::exception_ptr e = g.wait();
  ASSERT_TRUE(e);
  EXPECT_EQ(what(e), "first");
}

TEST(errgroup, the_first_error_is_kept_across_reuse) {
  lf::errgroup g;
  g.go([] { throw std::runtime_error("kept"); });
  EXPECT_EQ(what(g.wait()), "kept");
  std::atomic<int> ran{0};
  g.go([&] { ran.fetch_add(1); });  // a new round from zero
  EXPECT_EQ(what(g.wait()), "kept");
  EXPECT_EQ(ran.load(), 1);
}

TEST(errgroup, without_a_pool_each_goroutine_runs_on_a_thread_of_its_own) {
  lf::errgroup g;
  std::mutex m;
  std::set<std::thread::id> ids;
  std::promise<void> both_in;
  std::shared_future<void> gate = both_in.get_future().share();
  std::atomic<int> arrived{0};
  for (int i = 0; i < 2; ++i) {
    g.go([&, gate] {
      {
        std::lock_guard<std::mutex> lock(m);
        ids.insert(std::this_thread::get_id());
      }
      if (arrived.fetch_add(1) == 1) both_in.set_value();
      gate.wait();  // both are running at once: two threads
    });
  }
  EXPECT_FALSE(g.wait());
  EXPECT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids.count(std::this_thread::get_id()), 0u);
}

TEST(errgroup, on_a_pool_goroutines_run_on_its_workers) {
  lf::worker_pool pool(2);
  lf::errgroup g(pool);
  std::atomic<int> on_pool{0};
  for (int i = 0; i < 50; ++i) g.go([&] { on_pool.fetch_add(pool.on_this_pool() ? 1 : 0); });
  EXPECT_FALSE(g.wait());
  EXPECT_EQ(on_pool.load(), 50);
}

TEST(errgroup, set_limit_bounds_the_goroutines_active_at_once) {
  lf::worker_pool pool(4);
  for (bool on_pool : {false, true}) {
    lf::errgroup g = on_pool ? lf::errgroup(pool) : lf::errgroup();
    g.set_limit(2);
    concurrency_meter meter;
    std::atomic<int> ran{0};
    for (int i = 0; i < 40; ++i) {
      g.go([&] {
        meter.enter();
        ran.fetch_add(1);
        std::this_thread::yield();
        meter.leave();
      });
    }
    EXPECT_FALSE(g.wait());
    EXPECT_EQ(ran.load(), 40);
    EXPECT_LE(meter.most.load(), 2) << (on_pool ? "on a pool" : "on threads");
  }
}

TEST(errgroup, set_limit_while_goroutines_are_active_throws_logic_error) {
  lf::errgroup g;
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  g.go([gate] { gate.wait(); });
  try {
    g.set_limit(3);
    ADD_FAILURE() << "no exception";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("set_limit(3)"), std::string::npos) << e.what();
  }
  release.set_value();
  EXPECT_FALSE(g.wait());
  g.set_limit(3);  // fine once none is active
}

TEST(errgroup, a_negative_limit_means_no_limit) {
  lf::errgroup g;
  g.set_limit(1);
  g.set_limit(-5);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  EXPECT_TRUE(g.try_go([gate] { gate.wait(); }));
  EXPECT_TRUE(g.try_go([gate] { gate.wait(); }));
  release.set_value();
  EXPECT_FALSE(g.wait());
}

TEST(errgroup, try_go_returns_false_while_the_limit_is_reached) {
  lf::errgroup g;
  g.set_limit(1);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  EXPECT_TRUE(g.try_go([gate] { gate.wait(); }));
  std::atomic<int> ran{0};
  EXPECT_FALSE(g.try_go([&] { ran.fetch_add(1); }));
  release.set_value();
  EXPECT_FALSE(g.wait());
  EXPECT_TRUE(g.try_go([&] { ran.fetch_add(1); }));
  EXPECT_FALSE(g.wait());
  EXPECT_EQ(ran.load(), 1);
}

TEST(errgroup, go_waits_for_a_slot_and_returns_once_one_is_free) {
  lf::errgroup g;
  g.set_limit(1);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::atomic<bool> released{false};
  g.go([gate] { gate.wait(); });
  bool released_when_started = false;
  std::thread second([&] {
    g.go([] {});  // the only slot frees when the first goroutine returns, after `released`
    released_when_started = released.load();
  });
  released.store(true);
  release.set_value();
  second.join();
  EXPECT_TRUE(released_when_started);
  EXPECT_FALSE(g.wait());
}

TEST(errgroup, limit_zero_refuses_every_goroutine) {
  lf::errgroup g;
  g.set_limit(0);
  EXPECT_FALSE(g.try_go([] {}));
  EXPECT_THROW(g.go([] {}), std::logic_error);
  EXPECT_FALSE(g.wait());
}

TEST(errgroup, wait_inside_a_pool_of_one_worker_helps_instead_of_deadlocking) {
  lf::worker_pool pool(1);
  lf::pool_future<int> f = pool.submit([&] {
    lf::errgroup g(pool);
    g.set_limit(2);  // go() waits for slots too: it helps as well
    std::atomic<int> ran{0};
    for (int i = 0; i < 10; ++i) g.go([&] { ran.fetch_add(1); });
    if (g.wait()) return -1;
    return ran.load();
  });
  EXPECT_EQ(f.get(), 10);
}

TEST(errgroup, the_destructor_waits_for_running_goroutines) {
  std::atomic<int> ran{0};
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::thread releaser;
  {
    lf::errgroup g;
    g.go([&, gate] {
      gate.wait();
      ran.fetch_add(1);
    });
    releaser = std::thread([&] { release.set_value(); });
  }  // waits here
  EXPECT_EQ(ran.load(), 1);
  releaser.join();
}

TEST(errgroup, a_closed_pool_reaches_go_and_the_group_stays_consistent) {
  lf::worker_pool pool(1);
  lf::errgroup g(pool);
  g.set_limit(1);
  pool.shutdown();
  EXPECT_THROW(g.go([] {}), lf::pool_closed);
  EXPECT_FALSE(g.wait());  // the refused goroutine is not counted
  EXPECT_THROW(g.go([] {}), lf::pool_closed);  // and its slot was given back
}

TEST(errgroup, a_full_pool_under_the_fail_policy_reaches_go) {
  lf::pool_options o;
  o.workers = 1;
  o.queue_limit = 1;
  o.on_full = lf::overflow_policy::fail;
  lf::worker_pool pool(o);
  std::promise<void> started;
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  lf::errgroup g(pool);
  g.go([&, gate] {
    started.set_value();
    gate.wait();
  });
  started.get_future().wait();
  g.go([] {});  // queued: the limit is reached
  EXPECT_THROW(g.go([] {}), lf::pool_full);
  release.set_value();
  EXPECT_FALSE(g.wait());
}

// ---- goroutines dropped by the pool's shutdown_now -------------------------------------

bool is_broken_promise(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::future_error& x) {
    return x.code() == std::make_error_code(std::future_errc::broken_promise);
  } catch (...) {
    return false;
  }
}

TEST(errgroup, goroutines_dropped_by_shutdown_now_make_wait_return_broken_promise) {
  lf::worker_pool pool(1);
  lf::test::held_worker held(pool);  // a plain task, not a goroutine: goroutines stay queued
  lf::errgroup g(pool);
  std::atomic<int> ran{0};
  for (int i = 0; i < 5; ++i) g.go([&] { ran.fetch_add(1); });
  std::thread closer([&] { pool.shutdown_now(); });
  // Returns while the worker is still held: the drops themselves finished the goroutines.
  // It used to wait for ever (a dropped goroutine never finished).
  std::exception_ptr e = g.wait();
  held.release();
  closer.join();
  EXPECT_TRUE(is_broken_promise(e));  // the error a dropped submit()'s future throws
  EXPECT_EQ(ran.load(), 0);
  EXPECT_EQ(pool.dropped(), 5u);
}

TEST(errgroup, the_destructor_returns_after_shutdown_now_dropped_its_goroutines) {
  lf::worker_pool pool(1);
  lf::test::held_worker held(pool);
  std::thread closer;
  {
    lf::errgroup g(pool);
    for (int i = 0; i < 3; ++i) g.go([] {});
    closer = std::thread([&] { pool.shutdown_now(); });
  }  // waits for the dropped goroutines: it used to block for ever
  held.release();
  closer.join();
  EXPECT_EQ(pool.dropped(), 3u);
}

TEST(errgroup, goroutines_started_by_try_go_and_dropped_give_their_slots_back) {
  lf::worker_pool pool(1);
  lf::test::held_worker held(pool);
  lf::errgroup g(pool);
  g.set_limit(2);
  EXPECT_TRUE(g.try_go([] {}));
  EXPECT_TRUE(g.try_go([] {}));
  EXPECT_FALSE(g.try_go([] {}));  // both slots held by queued goroutines
  std::thread closer([&] { pool.shutdown_now(); });
  EXPECT_TRUE(is_broken_promise(g.wait()));
  g.set_limit(2);  // no goroutine is active any more (it throws otherwise)
  // A slot is free again: try_go takes it and meets the closed pool instead of returning false.
  EXPECT_THROW((void)g.try_go([] {}), lf::pool_closed);
  held.release();
  closer.join();
}

TEST(errgroup, a_go_waiting_for_the_slot_of_a_dropped_goroutine_meets_the_closed_pool) {
  lf::worker_pool pool(1);
  lf::test::held_worker held(pool);
  lf::errgroup g(pool);
  g.set_limit(1);
  g.go([] {});  // queued, holding the only slot
  bool closed = false;
  // Parks for the slot, which frees only when shutdown_now drops the queued goroutine.
  std::thread waiter([&] {
    try {
      g.go([] {});
    } catch (const lf::pool_closed&) {
      closed = true;
    }
  });
  std::thread closer([&] { pool.shutdown_now(); });
  waiter.join();
  EXPECT_TRUE(closed);
  EXPECT_TRUE(is_broken_promise(g.wait()));
  held.release();
  closer.join();
}

TEST(errgroup_context, a_dropped_goroutine_cancels_the_context_with_broken_promise_as_cause) {
  lf::worker_pool pool(1);
  lf::test::held_worker held(pool);
  auto [g, ctx] = lf::errgroup::with_context(lf::background(), pool);
  g.go([] {});
  std::thread closer([&] { pool.shutdown_now(); });
  ctx.done().wait();  // cancelled by the drop, before wait() is called
  EXPECT_TRUE(is_broken_promise(ctx.cause()));
  EXPECT_TRUE(is_broken_promise(g.wait()));
  held.release();
  closer.join();
}

TEST(errgroup_context, the_first_error_cancels_the_context_with_that_error_as_cause) {
  for (bool on_pool : {false, true}) {
    lf::worker_pool pool(4);  // a worker for each goroutine: three of them block until cancelled
    auto [g, ctx] = on_pool ? lf::errgroup::with_context(lf::background(), pool)
                            : lf::errgroup::with_context(lf::background());
    std::atomic<int> stopped_early{0};
    for (int i = 0; i < 3; ++i) {
      g.go([&, c = ctx] {
        c.done().wait();  // a job that runs until its context says stop
        stopped_early.fetch_add(1);
      });
    }
    g.go([] { throw std::runtime_error("fetch failed"); });
    std::exception_ptr e = g.wait();
    ASSERT_TRUE(e);
    EXPECT_EQ(what(e), "fetch failed");
    EXPECT_EQ(stopped_early.load(), 3);
    EXPECT_EQ(ctx.err(), lf::context_error::canceled);
    EXPECT_EQ(what(ctx.cause()), "fetch failed");
  }
}

TEST(errgroup_context, the_context_is_cancelled_when_wait_returns) {
  auto [g, ctx] = lf::errgroup::with_context(lf::background());
  std::atomic<bool> done_during_run{true};
  g.go([&, c = ctx] { done_during_run = c.done().ready(); });
  EXPECT_FALSE(g.wait());
  EXPECT_FALSE(done_during_run.load());
  EXPECT_TRUE(ctx.done().ready());
  EXPECT_EQ(ctx.err(), lf::context_error::canceled);
}

TEST(errgroup_context, cancelling_the_parent_cancels_the_group_context) {
  auto [parent, cancel] = lf::with_cancel(lf::background());
  auto [g, ctx] = lf::errgroup::with_context(parent);
  g.go([c = ctx] { c.done().wait(); });
  cancel();
  EXPECT_FALSE(g.wait());  // the goroutine returned normally: no error
  EXPECT_EQ(ctx.err(), lf::context_error::canceled);
}

}  // namespace
