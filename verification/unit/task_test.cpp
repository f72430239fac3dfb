// lf::task, lf::spawn / lf::go, lf::sync_wait, lf::when_all, lf::yield, lf::resume_on
// (patterns/task.hpp): one behaviour per test. Sizes are small (each test < 1 s in dev)
// except the two chain tests, whose size is the point: 10^6 sequential awaits and 10^5
// nested ones would overflow an 8 MiB stack by far if a transfer took a frame of stack.
#include "patterns/task.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <variant>

#include "patterns/awaitables.hpp"
#include "patterns/channel.hpp"
#include "patterns/wait_group.hpp"
#include "verification/support/held_worker.hpp"

namespace {

lf::task<int> plus_one(int x) { co_return x + 1; }

lf::task<void> nothing() { co_return; }

lf::task<int> thrower() {
  throw std::runtime_error("boom");
  co_return 0;
}

lf::task<long> sum_sequential(int n) {
  long s = 0;
  for (int i = 0; i < n; ++i) s += co_await plus_one(i);
  co_return s;
}

lf::task<long> nested(int depth) {
  if (depth == 0) co_return 0;
  co_return 1 + co_await nested(depth - 1);
}

lf::task<long> fib(int n) {
  if (n < 2) co_return n;
  auto [a, b] = co_await lf::when_all(fib(n - 1), fib(n - 2));
  co_return a + b;
}

long fib_plain(int n) { return n < 2 ? n : fib_plain(n - 1) + fib_plain(n - 2); }

// Suspends forever: nothing wakes it (what a coroutine parked on a silent channel is).
struct suspend_forever {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  void await_resume() const noexcept {}
};

// Counts its destructions: tells that a destroyed frame destroyed its locals.
struct destruction_counter {
  std::atomic<int>* n;
  ~destruction_counter() { n->fetch_add(1); }
};

// Every handle's get() reports that its coroutine was destroyed unfinished.
void expect_broken_promises(std::vector<lf::join_handle<void>>& handles) {
  for (auto& h : handles) {
    try {
      h.get();
      ADD_FAILURE() << "get() returned";
    } catch (const std::future_error& e) {
      EXPECT_EQ(e.code(), std::future_errc::broken_promise);
    }
  }
}

TEST(task, sync_wait_returns_the_value) { EXPECT_EQ(lf::sync_wait(plus_one(41)), 42); }

TEST(task, sync_wait_of_a_void_task_returns) {
  lf::sync_wait(nothing());
  SUCCEED();
}

TEST(task, a_task_is_lazy_and_destroying_it_unstarted_frees_its_frame) {
  std::atomic<int> destroyed{0}, ran{0};
  {
    auto t = [](std::atomic<int>* d, std::atomic<int>* r) -> lf::task<void> {
      destruction_counter c{d};
      r->fetch_add(1);
      co_return;
    }(&destroyed, &ran);
    EXPECT_TRUE(t.valid());
  }
  EXPECT_EQ(ran.load(), 0);
  EXPECT_EQ(destroyed.load(), 0);  // never started: the local was never constructed
}

TEST(task, an_exception_reaches_the_awaiter) {
  auto outer = []() -> lf::task<std::string> {
    try {
      co_await thrower();
    } catch (const std::runtime_error& e) {
      co_return e.what();
    }
    co_return "not thrown";
  };
  EXPECT_EQ(lf::sync_wait(outer()), "boom");
}

TEST(task, sync_wait_rethrows) { EXPECT_THROW(lf::sync_wait(thrower()), std::runtime_error); }

TEST(task, a_million_sequential_awaits_run_in_constant_stack) {
  EXPECT_EQ(lf::sync_wait(sum_sequential(1'000'000)), 1'000'000L * 1'000'001L / 2);
}

TEST(task, a_hundred_thousand_nested_awaits_run_in_constant_stack) {
  EXPECT_EQ(lf::sync_wait(nested(100'000)), 100'000);
}

TEST(task, spawn_runs_on_the_pool_and_get_returns_the_value) {
  lf::worker_pool pool(2);
  auto h = lf::spawn(pool, [](lf::worker_pool* p) -> lf::task<bool> { co_return p->on_this_pool(); }(&pool));
  EXPECT_TRUE(h.get());
  EXPECT_FALSE(h.valid());
  EXPECT_THROW(h.get(), std::future_error);
}

TEST(task, go_keeps_the_callable_and_arguments_alive) {
  lf::worker_pool pool(1);
  std::string prefix = "v=";
  auto h = lf::go(
      pool,
      [prefix](std::string s, int x) -> lf::task<std::string> {
        co_await lf::yield();  // the temporary lambda is long gone by now
        co_return prefix + s + std::to_string(x);
      },
      std::string("x"), 7);
  prefix.clear();
  EXPECT_EQ(h.get(), "v=x7");
}

TEST(task, get_rethrows_what_the_fiber_threw) {
  lf::worker_pool pool(1);
  auto h = lf::spawn(pool, thrower());
  EXPECT_THROW(h.get(), std::runtime_error);
}

TEST(task, awaiting_a_finished_fiber_does_not_suspend) {
  lf::worker_pool pool(2);
  auto h = lf::spawn(pool, plus_one(1));
  h.wait();
  ASSERT_TRUE(h.is_ready());
  auto waiter = lf::go(pool, [&h]() -> lf::task<int> { co_return co_await std::move(h); });
  EXPECT_EQ(waiter.get(), 2);
}

TEST(task, awaiting_a_running_fiber_resumes_when_it_finishes) {
  lf::worker_pool pool(2);
  std::atomic<bool> release{false};
  auto slow = lf::go(pool, [&release]() -> lf::task<int> {
    while (!release.load()) co_await lf::yield();
    co_return 5;
  });
  auto waiter = lf::go(pool, [&slow]() -> lf::task<int> { co_return 10 * co_await std::move(slow); });
  release.store(true);
  EXPECT_EQ(waiter.get(), 50);
}

TEST(task, a_detached_fiber_runs_to_completion) {
  lf::worker_pool pool(2);
  lf::wait_group wg;
  std::atomic<int> ran{0};
  for (int i = 0; i < 100; ++i) {
    wg.add(1);
    lf::go(pool, [&]() -> lf::task<void> {
      co_await lf::yield();
      ran.fetch_add(1);
      wg.done();
    }).detach();
  }
  wg.wait();
  EXPECT_EQ(ran.load(), 100);
}

TEST(task, when_all_returns_every_value_in_order) {
  lf::worker_pool pool(2);
  auto h = lf::go(pool, []() -> lf::task<int> {
    auto [a, v, b] = co_await lf::when_all(plus_one(1), nothing(), plus_one(10));
    static_assert(std::is_same_v<decltype(v), std::monostate>);
    co_return a * 100 + b;
  });
  EXPECT_EQ(h.get(), 211);
}

TEST(task, when_all_rethrows_the_first_exception_after_all_finished) {
  lf::worker_pool pool(2);
  std::atomic<int> finished{0};
  auto counted = [&finished]() -> lf::task<int> {
    co_await lf::yield();
    finished.fetch_add(1);
    co_return 1;
  };
  auto h = lf::go(pool, [&]() -> lf::task<int> {
    auto [a, b, c] = co_await lf::when_all(counted(), thrower(), counted());
    co_return a + b + c;
  });
  EXPECT_THROW(h.get(), std::runtime_error);
  EXPECT_EQ(finished.load(), 2);
}

TEST(task, when_all_fork_join_computes_fib_on_one_and_two_workers) {
  for (int workers : {1, 2}) {
    lf::worker_pool pool(workers);
    EXPECT_EQ(lf::spawn(pool, fib(15)).get(), fib_plain(15)) << workers << " workers";
  }
}

// The first task of a when_all runs inline in the awaiting fiber; these two put it last
// and not last among the arrivals, on one worker, so each arrival path runs.
TEST(task, when_all_first_task_that_suspends_and_finishes_last_resumes_the_awaiter) {
  lf::worker_pool pool(1);
  lf::channel<int> ch;
  auto h = lf::go(pool, [&]() -> lf::task<int> {
    auto first = [](lf::channel<int>& c) -> lf::task<int> { co_return *(co_await lf::recv(c)) + 1; };
    auto second = [](lf::channel<int>& c) -> lf::task<int> {
      EXPECT_EQ(co_await lf::send(c, 5), lf::chan_status::ok);  // finishes at once: the receiver waits
      co_return 100;
    };
    auto [a, b] = co_await lf::when_all(first(ch), second(ch));
    co_return a + b;
  });
  EXPECT_EQ(h.get(), 106);
}

TEST(task, when_all_first_task_that_finishes_first_lets_the_last_child_resume_the_awaiter) {
  lf::worker_pool pool(1);
  lf::channel<int> ch;
  auto h = lf::go(pool, [&]() -> lf::task<int> {
    auto first = [](lf::channel<int>& c) -> lf::task<int> {
      co_await lf::yield();  // the second child starts and waits in its receive
      EXPECT_EQ(co_await lf::send(c, 5), lf::chan_status::ok);
      co_return 1;
    };
    auto second = [](lf::channel<int>& c) -> lf::task<int> { co_return *(co_await lf::recv(c)) * 10; };
    auto [a, b] = co_await lf::when_all(first(ch), second(ch));
    co_return a + b;
  });
  EXPECT_EQ(h.get(), 51);
}

// Destroying the pool while the inline first task is suspended destroys its frame (with
// the awaiting frame that owns it) once, and fails the awaiter's handle.
TEST(task, destroying_a_pool_while_when_alls_first_task_is_suspended_destroys_its_frame_once) {
  std::atomic<int> destroyed{0};
  lf::join_handle<int> h;
  {
    lf::worker_pool pool(1);
    h = lf::go(pool, [&]() -> lf::task<int> {
      auto parked = [](std::atomic<int>* d) -> lf::task<int> {
        destruction_counter c{d};
        co_await suspend_forever{};
        co_return 0;
      };
      auto [a, b] = co_await lf::when_all(parked(&destroyed), plus_one(1));
      co_return a + b;
    });
    pool.wait_idle();
  }
  EXPECT_EQ(destroyed.load(), 1);
  try {
    (void)h.get();
    ADD_FAILURE() << "get() returned";
  } catch (const std::future_error& e) {
    EXPECT_EQ(e.code(), std::future_errc::broken_promise);
  }
}

TEST(task, when_all_of_one_task_and_of_none) {
  lf::worker_pool pool(1);
  auto h = lf::go(pool, []() -> lf::task<int> {
    auto [a] = co_await lf::when_all(plus_one(1));  // only the inline child
    auto none = co_await lf::when_all();
    static_assert(std::tuple_size_v<decltype(none)> == 0);
    co_return a;
  });
  EXPECT_EQ(h.get(), 2);
}

// Every task is checked before any starts: an empty one throws and none of the others runs.
TEST(task, when_all_with_an_empty_task_throws_and_starts_none) {
  lf::worker_pool pool(2);
  std::atomic<int> ran{0};
  auto h = lf::go(pool, [&]() -> lf::task<bool> {
    auto counted = [](std::atomic<int>* r) -> lf::task<int> {
      r->fetch_add(1);
      co_return 1;
    };
    try {
      (void)co_await lf::when_all(counted(&ran), lf::task<int>{}, counted(&ran));
    } catch (const std::invalid_argument&) {
      co_return true;
    }
    co_return false;
  });
  EXPECT_TRUE(h.get());
  pool.wait_idle();
  EXPECT_EQ(ran.load(), 0);
}

TEST(task, when_all_without_a_pool_throws_logic_error) {
  auto t = []() -> lf::task<void> { co_await lf::when_all(nothing()); };
  EXPECT_THROW(lf::sync_wait(t()), std::logic_error);
}

TEST(task, resume_on_moves_the_fiber_to_the_other_pool) {
  lf::worker_pool a(1), b(1);
  auto h = lf::spawn(a, [](lf::worker_pool* a, lf::worker_pool* b) -> lf::task<int> {
    int where = a->on_this_pool() ? 1 : 0;
    co_await lf::resume_on(*b);
    where += b->on_this_pool() ? 10 : 0;
    co_return where;
  }(&a, &b));
  EXPECT_EQ(h.get(), 11);
}

TEST(task, sync_wait_can_move_to_a_pool_and_back_to_its_thread) {
  lf::worker_pool pool(1);
  auto t = [](lf::worker_pool* p) -> lf::task<bool> {
    co_await lf::resume_on(*p);
    co_return p->on_this_pool();
  };
  EXPECT_TRUE(lf::sync_wait(t(&pool)));
}

TEST(task, resume_on_a_shut_down_pool_throws_pool_closed) {
  lf::worker_pool a(1), b(1);
  b.shutdown();
  auto h = lf::spawn(a, [](lf::worker_pool* b) -> lf::task<void> { co_await lf::resume_on(*b); }(&b));
  EXPECT_THROW(h.get(), lf::pool_closed);
}

TEST(task, spawn_on_a_shut_down_pool_throws_pool_closed_and_frees_the_frame) {
  lf::worker_pool pool(1);
  pool.shutdown();
  std::atomic<int> destroyed{0};
  auto t = [](std::atomic<int>* d) -> lf::task<void> {
    destruction_counter c{d};
    co_return;
  }(&destroyed);
  EXPECT_THROW((void)lf::spawn(pool, std::move(t)), lf::pool_closed);
  EXPECT_EQ(destroyed.load(), 0);  // never ran; the frame is freed (ASan/LSan would say otherwise)
}

TEST(task, yield_on_a_bounded_pool_is_never_refused_for_room) {
  lf::pool_options o;
  o.workers = 1;
  o.queue_limit = 1;
  o.on_full = lf::overflow_policy::fail;
  lf::worker_pool pool(o);
  auto h = lf::go(pool, []() -> lf::task<int> {
    for (int i = 0; i < 1000; ++i) co_await lf::yield();
    co_return 1;
  });
  EXPECT_EQ(h.get(), 1);
}

// The rule: destroying a pool destroys each suspended coroutine (its locals are
// destroyed, its frame freed: ASan/LSan check the latter), and whoever waits on its
// handle gets std::future_error(broken_promise).
TEST(task, destroying_a_pool_destroys_its_suspended_coroutines_and_fails_their_handles) {
  std::atomic<int> destroyed{0};
  constexpr int n = 100;
  std::vector<lf::join_handle<void>> handles;
  std::future<void> thread_waiter;
  {
    lf::worker_pool pool(2);
    for (int i = 0; i < n; ++i) {
      handles.push_back(lf::go(pool, [&destroyed]() -> lf::task<void> {
        destruction_counter c{&destroyed};
        co_await nested(3);
        co_await suspend_forever{};
      }));
    }
    for (int i = 0; i < n; ++i) {  // detached ones are destroyed too
      lf::go(pool, [&destroyed]() -> lf::task<void> {
        destruction_counter c{&destroyed};
        co_await suspend_forever{};
      }).detach();
    }
    thread_waiter = std::async(std::launch::async, [h = std::move(handles.back())]() mutable { h.get(); });
    handles.pop_back();
  }
  EXPECT_EQ(destroyed.load(), 2 * n);
  expect_broken_promises(handles);
  EXPECT_THROW(thread_waiter.get(), std::future_error);
}

// Counts its destruction once, wherever it was moved to: the frame that owns it.
struct owned_token {
  std::atomic<int>* n;
  explicit owned_token(std::atomic<int>* c) : n(c) {}
  owned_token(owned_token&& o) noexcept : n(std::exchange(o.n, nullptr)) {}
  ~owned_token() {
    if (n != nullptr) n->fetch_add(1);
  }
};

// A fiber joins a registry only when a worker first runs it. shutdown_now drops fibers
// that never ran, from the injection queue (started from outside) and from a worker's
// own queue (started by a task on that worker): each must still be destroyed at close,
// its frame (holding the token) freed once and its handle failed, and none may run.
TEST(task, shutdown_now_destroys_coroutines_that_never_ran_and_fails_their_handles) {
  constexpr int n = 50;
  std::atomic<int> destroyed{0}, ran{0}, blocked{0};
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::vector<lf::join_handle<void>> handles;
  std::mutex handles_mutex;
  lf::worker_pool pool(2);
  auto fiber = [&] {
    return lf::go(pool, [t = owned_token(&destroyed), &ran]() -> lf::task<void> {
      ran.fetch_add(1);
      co_return;
    });
  };
  ASSERT_TRUE(pool.try_detach([&] {  // starts n fibers on its worker, then holds it
    for (int i = 0; i < n; ++i) {
      auto h = fiber();
      std::lock_guard<std::mutex> lock(handles_mutex);
      handles.push_back(std::move(h));
    }
    blocked.fetch_add(1);
    gate.wait();
  }));
  ASSERT_TRUE(pool.try_detach([&] {
    blocked.fetch_add(1);
    gate.wait();
  }));
  while (blocked.load() != 2) std::this_thread::yield();
  for (int i = 0; i < n; ++i) handles.push_back(fiber());  // from outside: the injection queue
  std::thread closer([&] { pool.shutdown_now(); });
  lf::test::wait_until_refused(pool);  // dropping: the workers run nothing more
  release.set_value();
  closer.join();
  EXPECT_EQ(ran.load(), 0);
  EXPECT_EQ(destroyed.load(), 2 * n);
  expect_broken_promises(handles);
}

// A coroutine of pool A awaiting a fiber of pool B: destroying A withdraws its wait, and
// B's fiber finishing later touches nothing of it.
TEST(task, destroying_the_awaiters_pool_withdraws_its_wait_on_another_pool) {
  lf::worker_pool b(1);
  std::atomic<bool> release{false};
  auto slow = lf::go(b, [&release]() -> lf::task<int> {
    while (!release.load()) co_await lf::yield();
    co_return 1;
  });
  lf::join_handle<int> waiter;
  {
    lf::worker_pool a(1);
    // The graceful shutdown in a's destructor runs the queued fiber first: it registers
    // its wait on `slow` and suspends; then a destroys it.
    waiter = lf::go(a, [&slow]() -> lf::task<int> { co_return co_await std::move(slow); });
  }
  release.store(true);
  EXPECT_THROW(waiter.get(), std::future_error);
}

TEST(task, empty_handles_and_tasks_throw) {
  lf::join_handle<int> h;
  EXPECT_FALSE(h.valid());
  EXPECT_THROW(h.wait(), std::future_error);
  lf::worker_pool pool(1);
  EXPECT_THROW((void)lf::spawn(pool, lf::task<int>{}), std::invalid_argument);
}

}  // namespace
