// Stress lane for lf::context (patterns/context.hpp): real threads, run plain (-O2),
// under TSan and under ASan+UBSan. What each test counts and checks at the end:
//   tree churn        three threads make children of one parent (with after_funcs, some
//                     stopped, some cancelled, some dropped) while the parent is
//                     cancelled: every surviving child is done, every after_func ran
//                     exactly once or was stopped (ran + stopped = registered, none
//                     twice), and the parent's child list ends empty.
//   waiters           threads park on descendants (wait, wait_for, context_callback):
//                     one ancestor's cancel wakes every one of them.
//   short deadlines   thousands of 1-20 ms deadlines from several threads all fire
//                     (deadline_exceeded, each after_func once) and the timer heap ends
//                     where it began.
//   cancel vs timer   contexts cancelled just as their deadline passes: f runs exactly
//                     once, the error is one of the two, no timer entry is left.
//   stop vs cancel    after_func stop() racing cancel: f ran iff stop() returned false.
//   hook vs cancel    a context_callback on the stack destroyed while cancel runs: its
//                     f never touches a dead frame (ASan), and ran at most once.
// No sleeps synchronize anything; deadlines pass on their own.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "patterns/context.hpp"
#include "verification/support/stress_scale.hpp"

namespace {

using namespace std::chrono_literals;
using lf::context_error;

struct waiter_index {
  using value_type = int;
};

constexpr int rounds = lf::test::sanitized ? 150 : 300;

TEST(context_stress, children_made_and_cancelled_while_the_parent_is_cancelled) {
  constexpr int threads = 3;
  constexpr int per_thread = 64;
  std::uint64_t registered_total = 0, ran_total = 0, stopped_total = 0;
  for (int round = 0; round < rounds; ++round) {
    auto [parent, cancel_parent] = lf::with_cancel(lf::background());
    std::atomic<int> made{0};
    std::atomic<std::uint64_t> registered{0}, stopped{0};
    // One counter per after_func: how many times it ran.
    std::unique_ptr<std::atomic<int>[]> runs(new std::atomic<int>[threads * per_thread]());
    std::vector<std::vector<lf::context>> kept(threads);
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t, parent = parent] {
        std::minstd_rand rng(static_cast<unsigned>(round * threads + t));
        for (int i = 0; i < per_thread; ++i) {
          const int id = t * per_thread + i;
          auto [child, cancel_child] = lf::with_cancel(parent);
          made.fetch_add(1, std::memory_order_relaxed);
          lf::after_func_handle h = lf::after_func(child, [&runs, id] { runs[id].fetch_add(1); });
          registered.fetch_add(1, std::memory_order_relaxed);
          switch (rng() % 4) {
            case 0:
              if (h.stop()) stopped.fetch_add(1, std::memory_order_relaxed);
              kept[t].push_back(child);
              break;
            case 1:
              cancel_child();
              break;
            case 2:
              kept[t].push_back(child);
              break;
            default:
              break;  // dropped: its after_func registration keeps it reachable
          }
        }
      });
    }
    while (made.load(std::memory_order_relaxed) < threads * per_thread / 2) lf::yield_thread();
    cancel_parent();
    for (auto& w : workers) w.join();

    for (auto& list : kept) {
      for (const lf::context& c : list) ASSERT_EQ(c.err(), context_error::canceled);
    }
    std::uint64_t ran = 0;
    for (int i = 0; i < threads * per_thread; ++i) {
      const int r = runs[i].load();
      ASSERT_LE(r, 1) << "after_func " << i << " ran twice";
      ran += static_cast<std::uint64_t>(r);
    }
    ASSERT_EQ(ran + stopped.load(), registered.load());
    kept.clear();
    EXPECT_EQ(lf::detail::context_access::children_approx(parent), 0u);
    registered_total += registered.load();
    ran_total += ran;
    stopped_total += stopped.load();
  }
  std::printf("after_funcs registered %llu, ran %llu, stopped %llu\n",
              static_cast<unsigned long long>(registered_total), static_cast<unsigned long long>(ran_total),
              static_cast<unsigned long long>(stopped_total));
}

TEST(context_stress, one_ancestors_cancel_wakes_every_waiter) {
  constexpr int waiters = 4;
  for (int round = 0; round < rounds; ++round) {
    auto [root, cancel_root] = lf::with_cancel(lf::background());
    std::atomic<int> woke{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < waiters; ++i) {
      threads.emplace_back([&, i, root = root] {
        auto [mine, cancel_mine] = lf::with_cancel(lf::with_value(root, waiter_index{}, i));
        switch (i % 3) {
          case 0:
            mine.done().wait();
            break;
          case 1:
            ASSERT_TRUE(mine.done().wait_for(1h));
            break;
          default: {
            lf::atomic<int> flag{0};
            {
              lf::context_callback hook(mine.done(), [&flag] {
                flag.store(1, std::memory_order_release);
                lf::futex_wake_all(flag);
              });
              while (flag.load(std::memory_order_acquire) == 0) lf::futex_wait(flag, 0);
            }
            break;
          }
        }
        ASSERT_EQ(mine.err(), context_error::canceled);
        woke.fetch_add(1);
      });
    }
    cancel_root();
    for (auto& t : threads) t.join();
    ASSERT_EQ(woke.load(), waiters);
  }
}

TEST(context_stress, many_short_deadlines_all_fire) {
  constexpr int threads = 4;
  constexpr int per_thread = lf::test::sanitized ? 500 : 1000;
  auto& timers = lf::detail::timer_service::instance();
  const std::size_t armed_before = timers.armed_approx();
  std::unique_ptr<std::atomic<int>[]> runs(new std::atomic<int>[threads * per_thread]());
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::minstd_rand rng(static_cast<unsigned>(t));
      std::vector<lf::context_with_cancel> mine;
      std::vector<lf::after_func_handle> hooks;
      for (int i = 0; i < per_thread; ++i) {
        const int id = t * per_thread + i;
        mine.push_back(lf::with_timeout(lf::background(), std::chrono::milliseconds(1 + rng() % 20)));
        hooks.push_back(lf::after_func(mine.back().ctx, [&runs, id] { runs[id].fetch_add(1); }));
      }
      for (auto& c : mine) {
        c.ctx.done().wait();
        ASSERT_EQ(c.ctx.err(), context_error::deadline_exceeded);
      }
    });
  }
  for (auto& w : workers) w.join();
  // f runs after the done store, on the timer thread: wait for the last ones to finish.
  for (int i = 0; i < threads * per_thread; ++i) {
    while (runs[i].load() == 0) lf::yield_thread();
    ASSERT_EQ(runs[i].load(), 1);
  }
  EXPECT_EQ(timers.armed_approx(), armed_before);
}

TEST(context_stress, cancel_racing_its_own_deadline_runs_after_func_once) {
  constexpr int count = lf::test::sanitized ? 1500 : 4000;
  auto& timers = lf::detail::timer_service::instance();
  const std::size_t armed_before = timers.armed_approx();
  int by_cancel = 0, by_deadline = 0;
  for (int i = 0; i < count; ++i) {
    auto [ctx, cancel] = lf::with_timeout(lf::background(), 100us);
    std::atomic<int> runs{0};
    auto h = lf::after_func(ctx, [&runs] { runs.fetch_add(1); });
    // Cancel somewhere within +-60 us of the deadline (a busy wait to aim, not to synchronize).
    const auto aim = *ctx.deadline() + std::chrono::microseconds(i % 120) - 60us;
    while (lf::wait_clock::now() < aim) {
    }
    cancel();
    ASSERT_NE(ctx.err(), context_error::none);
    (ctx.err() == context_error::canceled ? by_cancel : by_deadline) += 1;
    while (runs.load() == 0) lf::yield_thread();  // the timer thread may still be inside f
    ASSERT_FALSE(h.stop());
    ASSERT_EQ(runs.load(), 1);
  }
  EXPECT_EQ(timers.armed_approx(), armed_before);
  std::printf("cancelled first %d, deadline first %d\n", by_cancel, by_deadline);
}

// Two threads that meet at the start of every round (a spin rendezvous), so the two
// halves of a race start together instead of behind a thread start.
class partner {
 public:
  template <class F>
  explicit partner(int rounds, F body)
      : thread_([this, rounds, body] {
          for (int r = 0; r < rounds; ++r) {
            meet(r);
            body(r);
          }
        }) {}
  ~partner() { thread_.join(); }
  void meet(int round) {
    arrived_.fetch_add(1);
    for (int spins = 0; arrived_.load() < 2 * (round + 1); ++spins) {
      if (spins > 100) lf::yield_thread();  // the partner is not running: let it
    }
  }

 private:
  std::atomic<int> arrived_{0};
  std::thread thread_;
};

TEST(context_stress, after_func_stop_racing_cancel_runs_f_iff_stop_failed) {
  const int count = lf::test::sanitized ? 10000 : 20000;
  std::vector<lf::context_with_cancel> ctxs;
  std::vector<lf::after_func_handle> handles;
  std::unique_ptr<std::atomic<int>[]> runs(new std::atomic<int>[count]());
  std::unique_ptr<std::atomic<bool>[]> stopped(new std::atomic<bool>[count]());
  for (int i = 0; i < count; ++i) {
    ctxs.push_back(lf::with_cancel(lf::background()));
    handles.push_back(lf::after_func(ctxs.back().ctx, [&runs, i] { runs[i].fetch_add(1); }));
  }
  {
    partner stopper(count, [&](int r) { stopped[r] = handles[r].stop(); });
    for (int r = 0; r < count; ++r) {
      stopper.meet(r);
      ctxs[r].cancel();
    }
  }
  int stopped_count = 0;
  for (int i = 0; i < count; ++i) {
    ASSERT_EQ(runs[i].load(), stopped[i] ? 0 : 1) << "round " << i;
    stopped_count += stopped[i];
  }
  std::printf("stop won %d of %d\n", stopped_count, count);
}

TEST(context_stress, a_context_callback_destroyed_while_cancel_runs_never_touches_a_dead_frame) {
  const int count = lf::test::sanitized ? 10000 : 20000;
  std::vector<lf::context_with_cancel> ctxs;
  for (int i = 0; i < count; ++i) ctxs.push_back(lf::with_cancel(lf::background()));
  int ran = 0;
  {
    partner canceller(count, [&](int r) { ctxs[r].cancel(); });
    for (int r = 0; r < count; ++r) {
      int runs = 0;  // on this frame; f writes it from the cancelling thread
      canceller.meet(r);
      {
        lf::context_callback hook(ctxs[r].ctx.done(), [&runs] { ++runs; });
      }  // unlinks f first, or waits until f has returned
      ASSERT_LE(runs, 1);
      ran += runs;
    }
  }
  std::printf("callback ran before its destruction in %d of %d rounds\n", ran, count);
}

}  // namespace
