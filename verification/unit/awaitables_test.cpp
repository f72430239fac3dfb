// lf::sleep_for / sleep_until / done (patterns/awaitables.hpp) from lf tasks: one
// behaviour per test. Sleeps are 1-20 ms: long enough to tell "waited" from "did not",
// short enough for the unit lane; no test asserts an upper bound on a sleep.
#include "patterns/awaitables.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <thread>
#include <vector>

#include "patterns/detail/timer_service.hpp"
#include "patterns/errgroup.hpp"
#include "patterns/wait_group.hpp"

using namespace std::chrono_literals;

namespace {

struct destruction_counter {
  std::atomic<int>* n;
  ~destruction_counter() { n->fetch_add(1); }
};

TEST(awaitables, sleep_for_resumes_after_the_duration) {
  lf::worker_pool pool(1);
  const auto start = lf::wait_clock::now();
  auto h = lf::go(pool, []() -> lf::task<lf::wait_clock::time_point> {
    co_await lf::sleep_for(5ms);
    co_return lf::wait_clock::now();
  });
  EXPECT_GE(h.get() - start, 5ms);
}

TEST(awaitables, sleep_under_sync_wait_resumes_on_the_waiting_thread) {
  const auto me = std::this_thread::get_id();
  auto t = []() -> lf::task<std::thread::id> {
    co_await lf::sleep_for(1ms);
    co_return std::this_thread::get_id();
  };
  EXPECT_EQ(lf::sync_wait(t()), me);
}

TEST(awaitables, sleep_until_a_past_time_does_not_suspend) {
  auto t = []() -> lf::task<int> {
    co_await lf::sleep_until(lf::wait_clock::now() - 1s);
    co_await lf::sleep_for(0s);
    co_return 1;
  };
  EXPECT_EQ(lf::sync_wait(t()), 1);
}

TEST(awaitables, sleep_for_a_negative_duration_throws_invalid_argument) {
  auto t = []() -> lf::task<void> { co_await lf::sleep_for(-1ms); };
  EXPECT_THROW(lf::sync_wait(t()), std::invalid_argument);
}

TEST(awaitables, many_sleepers_on_one_worker_all_wake) {
  lf::worker_pool pool(1);
  lf::wait_group wg;
  std::atomic<int> woke{0};
  for (int i = 0; i < 200; ++i) {
    wg.add(1);
    lf::go(pool, [&, i]() -> lf::task<void> {
      co_await lf::sleep_for(std::chrono::microseconds(100 * (i % 20)));
      woke.fetch_add(1);
      wg.done();
    }).detach();
  }
  wg.wait();
  EXPECT_EQ(woke.load(), 200);
}

TEST(awaitables, destroying_the_pool_disarms_sleeping_coroutines) {
  const std::size_t armed_before = lf::detail::timer_service::instance().armed_approx();
  std::atomic<int> destroyed{0};
  lf::join_handle<void> h;
  {
    lf::worker_pool pool(2);
    for (int i = 0; i < 50; ++i) {
      lf::go(pool, [&destroyed]() -> lf::task<void> {
        destruction_counter c{&destroyed};
        co_await lf::sleep_for(std::chrono::hours::max());  // forever
      }).detach();
    }
    h = lf::go(pool, [&destroyed]() -> lf::task<void> {
      destruction_counter c{&destroyed};
      co_await lf::sleep_for(1h);
    });
  }
  EXPECT_EQ(destroyed.load(), 51);
  EXPECT_EQ(lf::detail::timer_service::instance().armed_approx(), armed_before);
  EXPECT_THROW(h.get(), std::future_error);
}

TEST(awaitables, done_of_a_cancelled_context_does_not_suspend) {
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  cancel();
  auto t = [](lf::context c) -> lf::task<bool> {
    co_await lf::done(c);
    co_return c.done().ready();
  };
  EXPECT_TRUE(lf::sync_wait(t(ctx)));
}

TEST(awaitables, cancel_resumes_every_coroutine_waiting_on_done_once) {
  lf::worker_pool pool(2);
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  constexpr int n = 1000;
  std::atomic<int> resumed{0};
  std::vector<lf::join_handle<void>> hs;
  for (int i = 0; i < n; ++i) {
    hs.push_back(lf::go(pool, [&resumed](lf::context c) -> lf::task<void> {
      co_await lf::done(c);
      resumed.fetch_add(1);
    }, ctx));
  }
  cancel();
  for (auto& h : hs) h.get();
  EXPECT_EQ(resumed.load(), n);
}

TEST(awaitables, a_deadline_resumes_done_waiters) {
  lf::worker_pool pool(1);
  auto [ctx, cancel] = lf::with_timeout(lf::background(), 2ms);
  auto h = lf::go(pool, [](lf::context c) -> lf::task<lf::context_error> {
    co_await lf::done(c);
    co_return c.err();
  }, ctx);
  EXPECT_EQ(h.get(), lf::context_error::deadline_exceeded);
}

TEST(awaitables, destroying_the_pool_deregisters_done_waiters_and_a_later_cancel_is_harmless) {
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  std::atomic<int> destroyed{0};
  {
    lf::worker_pool pool(2);
    for (int i = 0; i < 100; ++i) {
      lf::go(pool, [&destroyed](lf::context c) -> lf::task<void> {
        destruction_counter d{&destroyed};
        co_await lf::done(c);
        ADD_FAILURE() << "resumed after its pool was destroyed";
      }, ctx).detach();
    }
  }
  EXPECT_EQ(destroyed.load(), 100);
  cancel();  // nothing is registered any more (ASan: no use of a freed awaiter)
}

// --- lf::wait(wg), lf::wait(group)

TEST(awaitables, wait_on_a_zero_wait_group_does_not_suspend) {
  lf::wait_group wg;
  auto t = [](lf::wait_group& w) -> lf::task<int> {
    co_await lf::wait(w);  // nobody else runs: a suspension would never end
    co_return 1;
  };
  EXPECT_EQ(lf::sync_wait(t(wg)), 1);
}

TEST(awaitables, wait_group_wait_resumes_once_the_last_job_is_done_without_blocking_the_worker) {
  lf::worker_pool pool(1);  // the jobs run on the worker the waiter suspended on
  lf::wait_group wg;
  constexpr int n = 100;
  std::atomic<int> finished{0};
  wg.add(n);
  auto waiter = lf::go(pool, [&]() -> lf::task<int> {
    co_await lf::wait(wg);
    co_return finished.load();
  });
  for (int i = 0; i < n; ++i) {
    lf::go(pool, [&]() -> lf::task<void> {
      co_await lf::yield();
      finished.fetch_add(1);
      wg.done();
    }).detach();
  }
  EXPECT_EQ(waiter.get(), n);
}

TEST(awaitables, many_coroutines_and_a_thread_wait_on_one_wait_group) {
  lf::worker_pool pool(2);
  lf::wait_group wg;
  wg.add(1);
  std::vector<lf::join_handle<void>> hs;
  std::atomic<int> woke{0};
  for (int i = 0; i < 200; ++i) {
    hs.push_back(lf::go(pool, [&]() -> lf::task<void> {
      co_await lf::wait(wg);
      woke.fetch_add(1);
    }));
  }
  std::thread t([&] { wg.wait(); });
  wg.done();
  for (auto& h : hs) h.get();
  t.join();
  EXPECT_EQ(woke.load(), 200);
}

TEST(awaitables, destroying_the_pool_frees_coroutines_waiting_on_a_wait_group) {
  lf::wait_group wg;
  wg.add(1);
  std::atomic<int> destroyed{0}, arrived{0};
  {
    lf::worker_pool pool(2);
    for (int i = 0; i < 50; ++i) {
      lf::go(pool, [&]() -> lf::task<void> {
        destruction_counter d{&destroyed};
        arrived.fetch_add(1);
        co_await lf::wait(wg);
        ADD_FAILURE() << "resumed after its pool was destroyed";
      }).detach();
    }
    while (arrived.load() != 50) std::this_thread::yield();
  }
  EXPECT_EQ(destroyed.load(), 50);
  wg.done();  // nothing is queued any more (ASan: no use of a freed frame)
  EXPECT_EQ(wg.count_approx(), 0);
}

TEST(awaitables, errgroup_wait_returns_the_first_error_to_a_coroutine_on_the_groups_own_pool) {
  lf::worker_pool pool(1);  // the goroutines need the worker the waiter suspends on
  lf::errgroup g(pool);
  std::atomic<int> ran{0};
  for (int i = 0; i < 20; ++i) {
    g.go([&, i] {
      ran.fetch_add(1);
      if (i == 7) throw std::runtime_error("seven");
    });
  }
  auto h = lf::go(pool, [&]() -> lf::task<std::exception_ptr> { co_return co_await lf::wait(g); });
  std::exception_ptr e = h.get();
  ASSERT_TRUE(e);
  EXPECT_THROW(std::rethrow_exception(e), std::runtime_error);
  EXPECT_EQ(ran.load(), 20);
}

TEST(awaitables, errgroup_wait_of_an_idle_group_does_not_suspend) {
  lf::errgroup g;
  auto t = [](lf::errgroup& group) -> lf::task<bool> { co_return !(co_await lf::wait(group)); };
  EXPECT_TRUE(lf::sync_wait(t(g)));
}

TEST(awaitables, errgroup_wait_from_a_coroutine_sees_thread_goroutines_finish) {
  lf::worker_pool pool(1);
  lf::errgroup g;  // goroutines on threads
  std::atomic<int> ran{0};
  for (int i = 0; i < 8; ++i) g.go([&] { ran.fetch_add(1); });
  auto h = lf::go(pool, [&]() -> lf::task<int> {
    std::exception_ptr e = co_await lf::wait(g);
    EXPECT_FALSE(e);
    co_return ran.load();
  });
  EXPECT_EQ(h.get(), 8);
}

}  // namespace
