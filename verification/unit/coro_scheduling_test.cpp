// How lf::worker_pool schedules coroutines it resumes (patterns/worker_pool.hpp, the
// next slot): a coroutine made ready on a worker runs there next, and that preference
// neither starves the worker's queues nor strands the coroutine behind a task that keeps
// its worker. One behaviour per test; each ends by a bound on rounds or by a partner's
// action, none asserts a time. The unit lane's mutants (CMakeLists.txt) show the first
// two able to fail.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "patterns/awaitables.hpp"
#include "patterns/channel.hpp"
#include "patterns/task.hpp"
#include "verification/support/channel_partners.hpp"

namespace {

using lf::chan_status;

// Two coroutines that wake each other through unbuffered channels until `stop` is set
// or `cap` round trips passed; `rounds` counts them. Each wake-up puts the partner in
// the worker's next slot, so without the streak limit they would hold the worker.
struct ping_pong_pair {
  lf::channel<int> there, back;
  std::atomic<bool> stop{false};
  std::atomic<long> rounds{0};

  lf::join_handle<void> ping(lf::worker_pool& pool, long cap) {
    return lf::go(pool, [this, cap]() -> lf::task<void> {
      for (long i = 0; i < cap && !stop.load(); ++i) {
        EXPECT_EQ(co_await lf::send(there, 1), chan_status::ok);
        EXPECT_TRUE((co_await lf::recv(back)).ok());
        rounds.store(i + 1);
      }
      there.close();
    });
  }
  lf::join_handle<void> pong(lf::worker_pool& pool) {
    return lf::go(pool, [this]() -> lf::task<void> {
      for (;;) {
        auto r = co_await lf::recv(there);
        if (!r) co_return;
        EXPECT_EQ(co_await lf::send(back, *r), chan_status::ok);
      }
    });
  }
};

// The pair would run up to `cap` round trips; the task queued while it runs must run
// long before that. The limit lets a worker take 64 tasks in a row from its next slot
// (32 round trips), so a queued task waits for at most a few dozen round trips after it
// is in a queue; 100,000 (~0.05 s in dev, a few seconds under TSan) leaves the main
// thread's latency between reading `rounds` and queueing the task a margin of thousands.
constexpr long cap = 100'000;

// A pool of one worker running the pair, seen running (100 round trips) when made. The
// pool is declared after the pair and destroyed before it.
struct running_pair {
  ping_pong_pair p;
  lf::worker_pool pool{1};
  lf::join_handle<void> a = p.ping(pool, cap);
  lf::join_handle<void> b = p.pong(pool);
  running_pair() {
    while (p.rounds.load() < 100) std::this_thread::yield();
  }
  void join() {
    a.get();
    b.get();
  }
};

TEST(coro_scheduling, a_task_from_outside_runs_while_two_coroutines_wake_each_other_on_one_worker) {
  running_pair r;
  std::atomic<long> rounds_when_run{-1};
  r.pool.detach([&] {  // from outside the pool: the injection queue
    rounds_when_run.store(r.p.rounds.load());
    r.p.stop.store(true);
  });
  r.join();
  EXPECT_GE(rounds_when_run.load(), 100) << "the task ran before the pair was running";
  EXPECT_LT(r.p.rounds.load(), cap) << "the queued task did not run while the pair ran";
}

TEST(coro_scheduling, a_task_in_the_workers_own_deque_runs_while_two_coroutines_wake_each_other) {
  running_pair r;
  // A coroutine submits the task from the worker: it goes to the worker's own deque.
  auto c = lf::go(r.pool, [&]() -> lf::task<void> {
    r.pool.detach([&] { r.p.stop.store(true); });
    co_return;
  });
  c.get();
  r.join();
  EXPECT_LT(r.p.rounds.load(), cap) << "the task in the worker's deque did not run while the pair ran";
}

// A plain task wakes a coroutine (it lands in that worker's next slot) and then keeps
// its worker, waiting for what the coroutine does. The other worker must take the
// coroutine from the slot before it parks; if it only looked at deques, it would park
// and the task would wait forever (here: until the 5 s guard, then fail: the other worker, idle, looks within microseconds).
TEST(coro_scheduling, a_coroutine_woken_by_a_task_that_keeps_its_worker_runs_on_another_worker) {
  lf::worker_pool pool(2);
  lf::channel<int> ch;
  std::atomic<bool> ran{false};
  auto c = lf::go(pool, [&]() -> lf::task<void> {
    EXPECT_TRUE((co_await lf::recv(ch)).ok());
    ran.store(true);
  });
  auto t = pool.submit([&] {
    lf::test::send_when_a_receiver_waits(ch, 1);  // on a worker: c goes to its next slot
    const auto guard = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!ran.load() && std::chrono::steady_clock::now() < guard) std::this_thread::yield();
    return ran.load();
  });
  EXPECT_TRUE(t.get()) << "the woken coroutine stayed in the busy worker's next slot";
  c.get();
}

// A coroutine woken while the slot holds another displaces it to the deque: both run.
TEST(coro_scheduling, a_second_wake_up_on_one_worker_queues_the_first_and_both_run) {
  lf::worker_pool pool(1);
  lf::channel<int> x, y;
  std::atomic<int> got{0};
  auto rx = lf::go(pool, [&]() -> lf::task<void> { got.fetch_add(*(co_await lf::recv(x))); });
  auto ry = lf::go(pool, [&]() -> lf::task<void> { got.fetch_add(*(co_await lf::recv(y))); });
  auto waker = pool.submit([&] {
    lf::test::send_when_a_receiver_waits(x, 1);  // rx into the next slot
    lf::test::send_when_a_receiver_waits(y, 2);  // ry into it, rx to the deque
  });
  waker.get();
  rx.get();
  ry.get();
  EXPECT_EQ(got.load(), 3);
  pool.wait_idle();
  EXPECT_EQ(pool.queued_approx(), 0u);
}

}  // namespace
