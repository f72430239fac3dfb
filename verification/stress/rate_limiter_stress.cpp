// Stress lane for lf::rate_limiter: real threads, run plain (-O2), under TSan and under
// ASan+UBSan. What each test counts and checks at the end:
//   still clock, limit changes   time held at t; two threads allow_n(t, 1) against a
//                      bucket larger than all their calls, a third reserves a token and
//                      cancels it, over and over, and a fourth switches the limit among
//                      1, 2 and 4 per second (exact binary rescales). Every allow is
//                      admitted, every reservation is OK, and the bucket ends with
//                      exactly B - admitted tokens: no token made or lost by any
//                      interleaving of allow, reserve, cancel and set_limit.
//   still clock, empty bucket    the same without set_limit on a bucket the allows
//                      exhaust, so that reservations queue: admitted + rejected = calls,
//                      admitted <= B, and again exactly B - admitted tokens at the end
//                      (each cancel gives back its queued token: nothing queued behind).
//   moving fake clock  three threads each move a shared fake clock 0.1 ms per call and
//                      call allow_n with the time they read (stale by the time the CAS
//                      runs, often): admitted + rejected = calls, and admitted never
//                      exceeds burst + limit * (span + 1 ns), the bound the header promises.
//   real clock         three threads call allow() for a while on the steady clock: the
//                      same reconciliation and bound over the measured span.
// No sleeps synchronize anything. Sizes: a few 10^5 calls in all, well under a second
// plain and a few seconds under TSan; enough for millions of CAS conflicts on 2 cores.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "patterns/rate_limiter.hpp"
#include "verification/support/stress_scale.hpp"

namespace {

using tp = std::chrono::steady_clock::time_point;
constexpr std::int64_t still_calls = lf::test::stress_items(200'000, 100'000);  // per allow thread
constexpr std::int64_t moving_calls = lf::test::stress_items(100'000, 50'000);  // per thread
constexpr std::int64_t real_calls = lf::test::stress_items(300'000, 100'000);    // in all

// Two threads allow_n(t, 1) `still_calls` times each while a third reserves and cancels
// one token until they finish, and (if set_limits) a fourth cycles the limit. Returns
// {admitted, rejected} and checks the reservations and the final bucket.
struct still_totals {
  std::int64_t admitted, rejected;
};
still_totals run_still_clock(std::int64_t burst, bool set_limits) {
  const tp t = tp(std::chrono::hours(1000));
  lf::rate_limiter lim(lf::rate_limit(1), burst);
  std::atomic<std::int64_t> admitted{0}, rejected{0}, reservations{0}, not_ok{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&] {
      // Start once the reserver has cancelled its first reservation: on a busy machine it
      // may otherwise not be scheduled before both allow loops end, and nothing would race.
      while (reservations.load(std::memory_order_relaxed) == 0) std::this_thread::yield();
      for (std::int64_t k = 0; k < still_calls; ++k) {
        (lim.allow_n(t, 1) ? admitted : rejected).fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  threads.emplace_back([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      lf::reservation r = lim.reserve_n(t, 1);
      if (!r.ok()) not_ok.fetch_add(1, std::memory_order_relaxed);
      r.cancel_at(t);
      reservations.fetch_add(1, std::memory_order_relaxed);
    }
  });
  if (set_limits) {
    threads.emplace_back([&] {
      const double limits[] = {1, 2, 4};
      for (int k = 0; !stop.load(std::memory_order_relaxed); ++k) lim.set_limit_at(t, lf::rate_limit(limits[k % 3]));
    });
  }
  threads[0].join();
  threads[1].join();
  stop.store(true, std::memory_order_relaxed);
  for (std::size_t i = 2; i < threads.size(); ++i) threads[i].join();
  EXPECT_EQ(not_ok.load(), 0);
  EXPECT_EQ(lim.tokens_at(t), static_cast<double>(burst - admitted.load()));
  return {admitted.load(), rejected.load()};
}

TEST(rate_limiter_stress, still_clock_allow_reserve_cancel_and_set_limit_conserve_tokens) {
  const still_totals got = run_still_clock(4 * still_calls, true);  // never empty
  EXPECT_EQ(got.admitted, 2 * still_calls);
  EXPECT_EQ(got.rejected, 0);
}

TEST(rate_limiter_stress, still_clock_queued_reservations_conserve_tokens) {
  const std::int64_t burst = still_calls / 2;  // the allows exhaust it
  const still_totals got = run_still_clock(burst, false);
  EXPECT_EQ(got.admitted + got.rejected, 2 * still_calls);
  EXPECT_LE(got.admitted, burst);
  EXPECT_GT(got.rejected, 0);
}

TEST(rate_limiter_stress, moving_fake_clock_never_admits_more_than_the_rate) {
  const std::int64_t origin = std::int64_t{1} << 50;
  const std::int64_t step = 100'000;  // ns the fake clock moves per call
  const double limit = 1000;          // per second: one token per 10 calls' worth of time
  const std::int64_t burst = 10;
  lf::rate_limiter lim(lf::rate_limit(limit), burst);
  std::atomic<std::int64_t> now{origin};
  std::atomic<std::int64_t> admitted{0}, rejected{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      for (std::int64_t k = 0; k < moving_calls; ++k) {
        // The time this call read; by the time allow_n runs, others may have moved on.
        const tp at = tp(std::chrono::nanoseconds(now.fetch_add(step, std::memory_order_relaxed)));
        (lim.allow_n(at, 1) ? admitted : rejected).fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (auto& th : threads) th.join();
  const double span_s = static_cast<double>(now.load() - origin + 1) * 1e-9;
  EXPECT_EQ(admitted.load() + rejected.load(), 3 * moving_calls);
  EXPECT_LE(static_cast<double>(admitted.load()), static_cast<double>(burst) + limit * span_s);
  EXPECT_GE(admitted.load(), burst);
}

TEST(rate_limiter_stress, real_clock_never_admits_more_than_the_rate) {
  const double limit = 20'000;
  const std::int64_t burst = 50;
  lf::rate_limiter lim(lf::rate_limit(limit), burst);
  std::atomic<std::int64_t> admitted{0}, rejected{0}, calls{0};
  std::atomic<bool> stop{false};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        calls.fetch_add(1, std::memory_order_relaxed);
        (lim.allow() ? admitted : rejected).fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  while (calls.load(std::memory_order_relaxed) < real_calls) std::this_thread::yield();
  stop.store(true, std::memory_order_relaxed);
  for (auto& th : threads) th.join();
  const double span_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() + 1e-9;
  EXPECT_EQ(admitted.load() + rejected.load(), calls.load());
  EXPECT_LE(static_cast<double>(admitted.load()), static_cast<double>(burst) + limit * span_s);
  EXPECT_GE(admitted.load(), burst);
}

}  // namespace
