// Unit lane for lf::rate_limiter and lf::sometimes (patterns/rate_limiter.hpp,
// patterns/sometimes.hpp): x/time/rate's rules on a fake clock (time_point arguments,
// no sleeps), lf's documented differences, bad input, and a differential test against a
// plain sequential limiter written here from x/time/rate's documented semantics.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "patterns/context.hpp"
#include "patterns/rate_limiter.hpp"
#include "patterns/sometimes.hpp"

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using tp = clock_type::time_point;
using lf::rate_error;
using lf::rate_limit;
using lf::rate_limiter;

// The fake clock: an arbitrary origin, far from the epoch, plus offsets.
const tp t0 = tp(1000h);
tp at(std::chrono::nanoseconds d) { return t0 + d; }

template <class F>
std::string thrown_message(F f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no exception";
}

TEST(rate_limiter, the_bucket_starts_full_and_refills_at_the_limit) {
  rate_limiter lim(rate_limit(10), 3);
  EXPECT_EQ(lim.limit(), rate_limit(10));
  EXPECT_EQ(lim.burst(), 3);
  EXPECT_EQ(lim.tokens_at(t0), 3.0);
  EXPECT_TRUE(lim.allow_n(t0, 3));
  EXPECT_FALSE(lim.allow_n(t0, 1));
  EXPECT_EQ(lim.tokens_at(t0), 0.0);
  EXPECT_FALSE(lim.allow_n(at(99ms), 1));  // 0.99 tokens
  EXPECT_DOUBLE_EQ(lim.tokens_at(at(50ms)), 0.5);
  EXPECT_TRUE(lim.allow_n(at(100ms), 1));
  EXPECT_EQ(lim.tokens_at(at(10s)), 3.0);  // never more than burst
}

TEST(rate_limiter, tokens_go_negative_as_reservations_queue) {
  rate_limiter lim(rate_limit(2), 1);
  lf::reservation a = lim.reserve_n(t0, 1);
  lf::reservation b = lim.reserve_n(t0, 1);
  lf::reservation c = lim.reserve_n(t0, 1);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a.delay_from(t0), 0ns);
  EXPECT_EQ(b.delay_from(t0), 500ms);
  EXPECT_EQ(c.delay_from(t0), 1s);
  EXPECT_EQ(c.delay_from(at(400ms)), 600ms);
  EXPECT_EQ(c.delay_from(at(2s)), 0ns);  // due already
  EXPECT_EQ(lim.tokens_at(t0), -2.0);
  EXPECT_FALSE(lim.allow_n(at(900ms), 1));
  EXPECT_TRUE(lim.allow_n(at(1500ms), 1));
}

TEST(rate_limiter, a_failed_reservation_leaves_the_state_untouched) {
  rate_limiter lim(rate_limit(1), 2);
  ASSERT_TRUE(lim.allow_n(t0, 1));
  lf::reservation r = lim.reserve_n(t0, 3);  // n > burst
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.delay_from(t0), std::chrono::nanoseconds::max());
  EXPECT_EQ(r.tokens(), 0);
  r.cancel_at(t0);  // a no-op
  EXPECT_FALSE(lim.allow_n(t0, 2));  // not due now: denied, nothing taken
  EXPECT_EQ(lim.tokens_at(t0), 1.0);
  EXPECT_TRUE(lim.allow_n(t0, 1));
}

TEST(rate_limiter, n_above_burst_is_never_ok_except_under_an_infinite_limit) {
  rate_limiter lim(rate_limit(1000), 5);
  EXPECT_FALSE(lim.reserve_n(at(1h), 6).ok());
  EXPECT_FALSE(lim.allow_n(at(2h), 6));
  EXPECT_TRUE(lim.reserve_n(at(2h), 5).ok());
  rate_limiter inf(rate_limit::inf(), 5);
  EXPECT_TRUE(inf.allow_n(t0, 1'000'000));
  EXPECT_TRUE(inf.reserve_n(t0, std::numeric_limits<std::int64_t>::max()).ok());
}

TEST(rate_limiter, burst_zero_lets_nothing_through_but_n_zero) {
  rate_limiter lim(rate_limit(1e6), 0);
  EXPECT_FALSE(lim.allow_n(at(1h), 1));
  EXPECT_FALSE(lim.reserve_n(at(1h), 1).ok());
  EXPECT_TRUE(lim.allow_n(at(1h), 0));  // Go: 0 <= burst
  EXPECT_EQ(lim.tokens_at(at(2h)), 0.0);
}

TEST(rate_limiter, an_infinite_limit_ignores_burst_and_cancel_is_a_no_op) {
  rate_limiter lim(rate_limit::inf(), 0);
  EXPECT_TRUE(lim.limit().is_inf());
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(lim.allow_n(t0, 1000));
  lf::reservation r = lim.reserve_n(t0, 7);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.delay_from(t0), 0ns);
  r.cancel_at(t0);
  // A reservation under Inf took nothing, so it gives nothing back even once the limit
  // is finite (x/time/rate's would add 7 tokens here).
  lf::reservation s = lim.reserve_n(t0, 4);
  lim.set_burst_at(t0, 5);
  lim.set_limit_at(t0, rate_limit(1));
  ASSERT_TRUE(lim.allow_n(t0, 5));  // the bucket is full on leaving Inf
  s.cancel_at(t0);
  EXPECT_EQ(lim.tokens_at(t0), 0.0);
}

TEST(rate_limiter, limit_zero_lets_the_first_burst_events_through_and_then_nothing) {
  rate_limiter lim(rate_limit(0), 3);
  EXPECT_TRUE(lim.allow_n(t0, 2));
  lf::reservation r = lim.reserve_n(at(1h), 1);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.delay_from(at(1h)), 0ns);
  EXPECT_FALSE(lim.allow_n(at(1000h), 1));
  lf::reservation never = lim.reserve_n(at(1000h), 1);  // lf: not OK (Go < 0.3: OK, 292-year delay)
  EXPECT_FALSE(never.ok());
  EXPECT_EQ(lim.burst(), 3);  // the burst is not spent (Go 0.3 spends it)
  EXPECT_EQ(lim.tokens_at(at(1000h)), 0.0);
  EXPECT_EQ(lim.wait_n(lf::background(), 1), rate_error::would_exceed_deadline);  // at once
  // Refill resumes under a positive limit, up to the unchanged burst.
  lim.set_limit_at(at(1000h), rate_limit(1));
  EXPECT_EQ(lim.tokens_at(at(1000h) + 10s), 3.0);
}

TEST(rate_limiter, limit_zero_cancel_gives_the_tokens_back) {
  rate_limiter lim(rate_limit(0), 3);
  lf::reservation r = lim.reserve_n(t0, 2);
  ASSERT_TRUE(r.ok());
  r.cancel_at(t0);
  EXPECT_EQ(lim.tokens_at(t0), 3.0);
  r.cancel_at(t0);  // once only
  EXPECT_EQ(lim.tokens_at(t0), 3.0);
}

TEST(rate_limiter, cancel_restores_tokens_minus_those_reserved_after) {
  rate_limiter lim(rate_limit(1), 2);
  ASSERT_TRUE(lim.allow_n(t0, 2));                 // empty at t0
  lf::reservation a = lim.reserve_n(t0, 2);        // due at t0+2s
  lf::reservation b = lim.reserve_n(t0, 1);        // queued behind a: due at t0+3s
  EXPECT_EQ(b.delay_from(t0), 3s);
  a.cancel_at(t0);                                 // 2 - 1 reserved after = 1 back
  EXPECT_DOUBLE_EQ(lim.tokens_at(t0), -2.0);
  b.cancel_at(t0);                                 // nothing after b: all back
  EXPECT_DOUBLE_EQ(lim.tokens_at(t0), -1.0);
}

TEST(rate_limiter, cancel_of_an_unqueued_reservation_restores_it_whole) {
  rate_limiter lim(rate_limit(1), 3);
  lf::reservation a = lim.reserve_n(t0, 1);
  ASSERT_TRUE(lim.allow_n(t0, 1));  // served from the bucket, not queued behind a
  a.cancel_at(t0);
  EXPECT_DOUBLE_EQ(lim.tokens_at(t0), 2.0);  // nothing created, nothing lost
}

TEST(rate_limiter, cancel_after_a_rebase_counts_the_whole_debt_as_reserved_after) {
  rate_limiter lim(rate_limit(1), 1);
  ASSERT_TRUE(lim.allow_n(t0, 1));
  lf::reservation a = lim.reserve_n(t0, 1);  // due t0+1s
  lf::reservation b = lim.reserve_n(t0, 1);  // due t0+2s
  EXPECT_EQ(a.delay_from(t0), 1s);
  lim.set_limit_at(t0, rate_limit(2));       // the debt of 2 tokens is kept: 1 s at 2/s
  b.cancel_at(t0);                           // its place is unknown now: 1 - 2 queued = nothing back
  EXPECT_DOUBLE_EQ(lim.tokens_at(t0), -2.0);
  lf::reservation c = lim.reserve_n(at(1500ms), 1);  // repaid at t0+1s, 1 token by 1.5 s
  EXPECT_EQ(c.delay_from(at(1500ms)), 0ns);
  lim.set_burst_at(at(1500ms), 1);
  c.cancel_at(at(1500ms));                   // no debt: all back
  EXPECT_DOUBLE_EQ(lim.tokens_at(at(1500ms)), 1.0);
}

TEST(rate_limiter, cancel_is_capped_at_burst) {
  rate_limiter lim(rate_limit(1), 4);
  lf::reservation a = lim.reserve_n(t0, 3);
  ASSERT_TRUE(a.ok());
  lim.set_burst_at(t0, 2);
  a.cancel_at(t0);
  EXPECT_DOUBLE_EQ(lim.tokens_at(t0), 2.0);
}

TEST(rate_limiter, cancel_after_the_time_to_act_does_nothing) {
  rate_limiter lim(rate_limit(1), 1);
  ASSERT_TRUE(lim.allow_n(t0, 1));
  lf::reservation r = lim.reserve_n(t0, 1);  // due at t0+1s
  r.cancel_at(at(1500ms));
  EXPECT_DOUBLE_EQ(lim.tokens_at(at(1500ms)), 0.5);
  lf::reservation s = lim.reserve_n(at(1500ms), 1);  // due at t0+2s
  s.cancel_at(at(2s));                                // exactly at its time: still cancellable
  EXPECT_DOUBLE_EQ(lim.tokens_at(at(2s)), 1.0);
}

TEST(rate_limiter, a_reservation_cancels_once_and_moves) {
  rate_limiter lim(rate_limit(1), 2);
  lf::reservation r = lim.reserve_n(t0, 2);
  lf::reservation moved = std::move(r);
  r.cancel_at(t0);  // NOLINT: a moved-from reservation gives nothing
  EXPECT_DOUBLE_EQ(lim.tokens_at(t0), 0.0);
  moved.cancel_at(t0);
  moved.cancel_at(t0);
  EXPECT_DOUBLE_EQ(lim.tokens_at(t0), 2.0);
}

TEST(rate_limiter, an_earlier_time_never_moves_the_state_back) {
  rate_limiter lim(rate_limit(1), 1);
  ASSERT_TRUE(lim.allow_n(at(10s), 1));
  EXPECT_FALSE(lim.allow_n(at(5s), 1));  // stale time: the bucket at 5 s, less what 10 s took
  EXPECT_LT(lim.tokens_at(at(5s)), 0.0);
  // x/time/rate would have rewound `last` to 5 s and granted a token at 10.5 s.
  EXPECT_FALSE(lim.allow_n(at(10500ms), 1));
  EXPECT_TRUE(lim.allow_n(at(11s), 1));
  lf::reservation r = lim.reserve_n(at(3s), 1);  // queues behind 11 s's
  EXPECT_EQ(r.time_to_act(), at(12s));
}

TEST(rate_limiter, set_limit_keeps_the_tokens_and_changes_the_refill) {
  rate_limiter lim(rate_limit(1), 10);
  ASSERT_TRUE(lim.allow_n(t0, 10));
  lim.set_limit_at(at(2s), rate_limit(10));  // 2 tokens so far
  EXPECT_DOUBLE_EQ(lim.tokens_at(at(2s)), 2.0);
  EXPECT_DOUBLE_EQ(lim.tokens_at(at(2500ms)), 7.0);
  lim.set_limit_at(at(2500ms), rate_limit(2));
  EXPECT_DOUBLE_EQ(lim.tokens_at(at(3s)), 8.0);
  EXPECT_EQ(lim.limit(), rate_limit(2));
  // A debt carries over too, re-expressed at the new rate.
  lf::reservation r = lim.reserve_n(at(3s), 10);
  EXPECT_EQ(r.delay_from(at(3s)), 1s);
  lim.set_limit_at(at(3s), rate_limit(1));
  EXPECT_DOUBLE_EQ(lim.tokens_at(at(3s)), -2.0);
  EXPECT_DOUBLE_EQ(lim.tokens_at(at(5s)), 0.0);
}

TEST(rate_limiter, set_burst_caps_and_a_larger_burst_fills_over_time) {
  rate_limiter lim(rate_limit(1), 5);
  lim.set_burst_at(t0, 2);
  EXPECT_EQ(lim.burst(), 2);
  EXPECT_DOUBLE_EQ(lim.tokens_at(t0), 2.0);
  lim.set_burst_at(t0, 8);
  EXPECT_DOUBLE_EQ(lim.tokens_at(t0), 2.0);  // x/time/rate: the bucket is not topped up
  EXPECT_DOUBLE_EQ(lim.tokens_at(at(6s)), 8.0);
  EXPECT_TRUE(lim.allow_n(at(6s), 8));
}

TEST(rate_limiter, every_converts_an_interval) {
  EXPECT_EQ(lf::every(100ms), rate_limit(10));
  EXPECT_EQ(lf::every(2s), rate_limit(0.5));
  EXPECT_TRUE(lf::every(0s).is_inf());
  EXPECT_TRUE(lf::every(-1s).is_inf());
  rate_limiter lim(lf::every(250ms), 1);
  ASSERT_TRUE(lim.allow_n(t0, 1));
  EXPECT_EQ(lim.reserve_n(t0, 1).delay_from(t0), 250ms);
}

TEST(rate_limiter, costs_are_exact_and_delays_truncate_to_nanoseconds) {
  rate_limiter lim(rate_limit(3), 1);
  ASSERT_TRUE(lim.allow_n(t0, 1));
  // 1/3 s is 333333333.33 ns: the cost rounds up in 2^-32 ns units, the delay down to ns.
  EXPECT_EQ(lim.reserve_n(t0, 1).delay_from(t0), 333'333'333ns);
  EXPECT_EQ(lim.reserve_n(t0, 1).delay_from(t0), 666'666'666ns);
  EXPECT_EQ(lim.reserve_n(t0, 1).delay_from(t0), 1'000'000'000ns);
  rate_limiter three(rate_limit(3), 3);  // three single events fit a full bucket of 3
  EXPECT_TRUE(three.allow_n(t0, 1) && three.allow_n(t0, 1) && three.allow_n(t0, 1));
}

TEST(rate_limiter, bad_arguments_throw_naming_the_field) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_NE(thrown_message([&] { (void)rate_limit(nan); }).find("limit = nan"), std::string::npos);
  EXPECT_NE(thrown_message([] { (void)rate_limit(-1); }).find("limit = -1"), std::string::npos);
  EXPECT_NE(thrown_message([] { rate_limiter lim(rate_limit(1), -1); }).find("burst = -1"), std::string::npos);
  rate_limiter lim(rate_limit(1), 1);
  EXPECT_NE(thrown_message([&] { (void)lim.allow_n(t0, -1); }).find("n = -1"), std::string::npos);
  EXPECT_NE(thrown_message([&] { (void)lim.reserve_n(t0, -2); }).find("n = -2"), std::string::npos);
  EXPECT_NE(thrown_message([&] { (void)lim.wait_n(lf::background(), -3); }).find("n = -3"), std::string::npos);
  EXPECT_NE(thrown_message([&] { lim.set_burst_at(t0, -4); }).find("burst = -4"), std::string::npos);
  EXPECT_EQ(lim.burst(), 1);
  EXPECT_DOUBLE_EQ(lim.tokens_at(t0), 1.0);
}

TEST(rate_limiter, extreme_counts_times_and_limits_saturate) {
  const std::int64_t big = std::numeric_limits<std::int64_t>::max();
  rate_limiter slow(rate_limit(1e-300), big);
  EXPECT_TRUE(slow.allow_n(t0, big));  // starts full, even with a 1e300-year refill
  lf::reservation r = slow.reserve_n(t0, big);
  EXPECT_TRUE(r.ok());
  EXPECT_GT(r.delay_from(t0), std::chrono::hours(24 * 365 * 100));
  rate_limiter fast(rate_limit(1e18), big);
  EXPECT_TRUE(fast.allow_n(tp::max(), big));
  EXPECT_FALSE(fast.allow_n(tp::min(), 1));  // the bucket then, less what was taken since
  rate_limiter lim(rate_limit(1), 1);
  EXPECT_TRUE(lim.allow_n(tp::min(), 1));
  EXPECT_TRUE(lim.allow_n(tp::max(), 1));
  EXPECT_DOUBLE_EQ(lim.tokens_at(tp::max()), 0.0);
}

TEST(rate_limiter, wait_returns_at_once_when_the_limit_is_not_reached) {
  rate_limiter lim(rate_limit(1), 100);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(lim.wait(lf::background()), rate_error::none);
  EXPECT_EQ(lim.wait_n(lf::background(), 101), rate_error::exceeds_burst);
  rate_limiter inf(rate_limit::inf(), 0);  // the burst is ignored, even for a huge n
  EXPECT_EQ(inf.wait_n(lf::background(), std::numeric_limits<std::int64_t>::max()), rate_error::none);
}

TEST(rate_limiter, wait_on_a_done_context_takes_nothing) {
  rate_limiter lim(rate_limit(1), 2);
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  cancel();
  EXPECT_EQ(lim.wait(ctx), rate_error::canceled);
  auto [late, cancel2] = lf::with_timeout(lf::background(), 0ns);
  EXPECT_EQ(lim.wait(late), rate_error::deadline_exceeded);
  EXPECT_EQ(lim.tokens(), 2.0);
}

TEST(rate_limiter, wait_past_the_deadline_fails_at_once_and_takes_nothing) {
  rate_limiter lim(rate_limit(1e-4), 1);  // a token every 10^4 s
  ASSERT_TRUE(lim.allow());
  auto [ctx, cancel] = lf::with_timeout(lf::background(), 1h);
  const auto before = clock_type::now();
  EXPECT_EQ(lim.wait(ctx), rate_error::would_exceed_deadline);
  EXPECT_LT(clock_type::now() - before, 10s);
  EXPECT_LT(lim.tokens(), 0.01);
  EXPECT_GT(lim.tokens(), -0.01);  // no debt left behind
}

TEST(rate_limiter, wait_blocks_until_the_tokens_are_due) {
  rate_limiter lim(rate_limit(50), 1);  // 20 ms per token
  ASSERT_TRUE(lim.allow());
  const auto before = clock_type::now();
  EXPECT_EQ(lim.wait(lf::background()), rate_error::none);
  EXPECT_GE(clock_type::now() - before, 19ms);
}

TEST(rate_limiter, wait_cancelled_while_waiting_gives_the_tokens_back) {
  rate_limiter lim(rate_limit(0.001), 1);
  ASSERT_TRUE(lim.allow());
  auto made = lf::with_cancel(lf::background());  // no structured binding: a lambda captures ctx
  const lf::context ctx = made.ctx;
  rate_error got = rate_error::none;
  std::thread waiter([&] { got = lim.wait(ctx); });
  while (lim.tokens() > -0.5) std::this_thread::yield();  // the waiter has reserved
  made.cancel();
  waiter.join();
  EXPECT_EQ(got, rate_error::canceled);
  EXPECT_GT(lim.tokens(), -0.01);  // the reserved token is back
}

TEST(rate_limiter, a_duration_max_deadline_is_no_deadline) {
  rate_limiter lim(rate_limit(100), 1);
  ASSERT_TRUE(lim.allow());
  auto [ctx, cancel] = lf::with_timeout(lf::background(), std::chrono::hours::max());
  EXPECT_EQ(lim.wait(ctx), rate_error::none);
}

// ---- differential: a plain sequential limiter from x/time/rate's documented rules ----
//
// Written in x/time/rate's shape (tokens, last, advance, reserveN, CancelAt,
// SetLimitAt, SetBurstAt), with lf's documented choices where the header says lf
// differs: tokens counted as refill time in 2^-32 ns units ("credit": one token costs
// ceil(1e9 / limit ns) of them), delays rounded down to whole ns and a sub-ns debt not
// delaying allow, a stale time evaluated as the bucket then, limit 0 spending tokens,
// "reserved after" as the debt past the reservation's time to act (past now, once a
// set_* has rebased the bucket since). Plain fields, no atomics, nothing shared with
// the library.
class reference_limiter {
 public:
  using wide = __int128;
  static constexpr wide unit = wide(1) << 32;  // per ns
  static constexpr wide huge = wide(1) << 100;

  struct res {
    bool ok = false;
    bool took = false;
    std::int64_t n = 0;
    wide due = 0;  // in units
    int settings = 0;  // how many set_* calls preceded it
  };

  reference_limiter(double limit, std::int64_t burst) : limit_(limit), burst_(burst) {
    if (limit_ == 0) zero_tokens_ = static_cast<double>(burst);
    last_ = 0;
    credit_ = huge;  // full, whatever t comes (advance caps it)
  }

  double tokens_at(std::int64_t t) const {
    if (std::isinf(limit_)) return static_cast<double>(burst_);
    if (limit_ == 0) return std::min(static_cast<double>(burst_), zero_tokens_);
    const wide c = credit_at(t);
    if (c >= cap()) return static_cast<double>(burst_);
    return std::min(static_cast<double>(burst_), static_cast<double>(c) / static_cast<double>(per_token()));
  }

  res reserve(std::int64_t t, std::int64_t n, std::int64_t max_wait) {
    if (std::isinf(limit_)) return {true, false, n, wide(t) * unit, settings_};
    if (limit_ == 0) {
      const double have = std::min(static_cast<double>(burst_), zero_tokens_);
      if (n > burst_ || have < static_cast<double>(n)) return {};
      zero_tokens_ = have - static_cast<double>(n);
      return {true, n != 0, n, wide(t) * unit, settings_};
    }
    wide c = std::min(credit_at(t), cap());  // advance: refill, capped at the burst
    c -= cost(n);
    const wide wait = c < 0 ? -c : 0;
    if (n > burst_ || static_cast<std::int64_t>(wait / unit) > max_wait) return {};
    credit_ = c;
    last_ = t;
    return {true, n != 0, n, wide(t) * unit + wait, settings_};
  }

  static std::int64_t delay_ns(const res& r, std::int64_t t) {
    const wide d = r.due - wide(t) * unit;
    return d > 0 ? static_cast<std::int64_t>(d / unit) : 0;
  }

  void cancel(res& r, std::int64_t t) {
    if (!r.took || r.due / unit < t) return;
    r.took = false;
    if (std::isinf(limit_)) return;
    if (limit_ == 0) {
      zero_tokens_ = std::min(static_cast<double>(burst_), zero_tokens_ + static_cast<double>(r.n));
      return;
    }
    const wide repaid_at = wide(t) * unit - credit_at(t);  // when the bucket's debt is repaid
    const wide later = std::max<wide>(0, repaid_at - (r.settings == settings_ ? r.due : wide(t) * unit));
    const wide restore = cost(r.n) - later;
    if (restore <= 0) return;
    credit_ = std::min(std::min(credit_at(t), cap()) + restore, cap());
    last_ = t;
  }

  void set_limit(std::int64_t t, double limit) { rebase(t, limit, burst_); }
  void set_burst(std::int64_t t, std::int64_t burst) { rebase(t, limit_, burst); }

 private:
  static wide floor_units(double x) { return static_cast<wide>(std::floor(x)); }
  // ceil(1e9 ns / limit) in 2^-32 ns units (long double: exact enough for the ceiling).
  wide per_token() const {
    const long double u = std::ceil(1e9L * 4294967296.0L / static_cast<long double>(limit_));
    return u < 1e30L ? std::max<wide>(1, static_cast<wide>(u)) : huge;
  }
  wide cost(std::int64_t n) const { return n == 0 ? 0 : per_token() * n; }
  wide cap() const { return cost(burst_); }
  // The credit at t: what it was at last_, plus (or, for a stale t, minus) the time since.
  wide credit_at(std::int64_t t) const { return std::min<wide>(credit_, huge) + wide(t - last_) * unit; }

  void rebase(std::int64_t t, double limit, std::int64_t burst) {
    ++settings_;
    const double tokens = tokens_at(t);
    const bool was_finite = !std::isinf(limit_) && limit_ != 0;
    const wide had = was_finite ? std::min(credit_at(t), cap()) : 0;
    const double old_per_token = was_finite ? static_cast<double>(per_token()) : 0;
    limit_ = limit;
    burst_ = burst;
    last_ = t;
    if (std::isinf(limit_)) return;
    if (limit_ == 0) {
      zero_tokens_ = tokens;
      return;
    }
    const wide credit = was_finite
                            ? floor_units(static_cast<double>(had) * (static_cast<double>(per_token()) / old_per_token))
                            : floor_units(tokens * static_cast<double>(per_token()));
    credit_ = std::min(credit, cap());
  }

  double limit_;
  std::int64_t burst_;
  wide credit_ = 0;  // tokens * per_token at last_ (finite limits)
  std::int64_t last_ = 0;
  double zero_tokens_ = 0;  // the bucket at limit 0
  int settings_ = 0;
};

// 10^5 random operations per seed, times that wander (mostly forward, sometimes back),
// limits from 0 through awkward fractions to Inf, bursts 0..8, cancels of random earlier
// reservations. Every answer must be identical: allowed, ok, time to act, tokens.
// 10^5 ops visit each operation in each mode thousands of times; a run takes ~50 ms.
TEST(rate_limiter, differential_against_a_sequential_reference) {
  const double limits[] = {0, 0.3, 1, 3, 7.5, 1000, 1e9 / 7, std::numeric_limits<double>::infinity()};
  std::mt19937_64 rng(20240611);
  auto pick = [&](std::uint64_t n) { return static_cast<std::int64_t>(rng() % n); };
  auto limit_of = [](double v) { return std::isinf(v) ? rate_limit::inf() : rate_limit(v); };

  double l0 = limits[3];
  std::int64_t b0 = 4;
  rate_limiter lim(limit_of(l0), b0);
  reference_limiter ref(l0, b0);
  std::vector<lf::reservation> mine;
  std::vector<reference_limiter::res> theirs;
  std::int64_t t = 1'000'000'000'000;
  int ops = 0;
  // Coverage of the run, checked at the end so the test cannot pass by never getting
  // anywhere interesting: allowed and denied, queued reservations, cancels that gave
  // tokens back, negative buckets.
  int allowed = 0, denied = 0, queued = 0, restoring_cancels = 0, negative = 0;
  for (; ops < 100'000; ++ops) {
    switch (pick(10)) {
      case 0: t += pick(3'000'000'000); break;
      case 1: t -= pick(500'000'000); break;  // a stale caller
      default: t += pick(50'000'000); break;
    }
    const tp when = tp(std::chrono::nanoseconds(t));
    const std::int64_t n = pick(10) == 0 ? pick(12) : pick(3);
    switch (pick(12)) {
      case 0:
      case 1:
      case 2:
      case 3: {
        const bool a = lim.allow_n(when, n);
        const bool b = ref.reserve(t, n, 0).ok;
        ASSERT_EQ(a, b) << "allow_n op " << ops;
        ++(a ? allowed : denied);
        break;
      }
      case 4:
      case 5:
      case 6: {
        lf::reservation r = lim.reserve_n(when, n);
        reference_limiter::res s = ref.reserve(t, n, std::numeric_limits<std::int64_t>::max());
        ASSERT_EQ(r.ok(), s.ok) << "reserve_n op " << ops;
        if (s.ok) {
          ASSERT_EQ(r.delay_from(when).count(), reference_limiter::delay_ns(s, t)) << "delay op " << ops;
          if (reference_limiter::delay_ns(s, t) > 0) ++queued;
        }
        mine.push_back(std::move(r));
        theirs.push_back(s);
        break;
      }
      case 7:
      case 8: {
        if (mine.empty()) break;
        const auto i = static_cast<std::size_t>(pick(mine.size()));
        const double before = ref.tokens_at(t);
        mine[i].cancel_at(when);
        ref.cancel(theirs[i], t);
        if (ref.tokens_at(t) > before) ++restoring_cancels;
        break;
      }
      case 9: {
        const double l = limits[pick(8)];
        lim.set_limit_at(when, limit_of(l));
        ref.set_limit(t, l);
        break;
      }
      case 10: {
        const std::int64_t b = pick(9);
        lim.set_burst_at(when, b);
        ref.set_burst(t, b);
        break;
      }
      default: break;
    }
    ASSERT_EQ(lim.tokens_at(when), ref.tokens_at(t)) << "tokens op " << ops;
    if (ref.tokens_at(t) < 0) ++negative;
    if (mine.size() > 64) {
      mine.erase(mine.begin());
      theirs.erase(theirs.begin());
    }
  }
  EXPECT_EQ(ops, 100'000);
  EXPECT_GT(allowed, 5'000);
  EXPECT_GT(denied, 5'000);
  EXPECT_GT(queued, 1'000);
  EXPECT_GT(restoring_cancels, 200);
  EXPECT_GT(negative, 1'000);
  std::printf("differential: %d allowed, %d denied, %d queued, %d restoring cancels, %d negative\n", allowed, denied,
              queued, restoring_cancels, negative);
}

// ---- lf::sometimes ----

TEST(sometimes, a_zero_sometimes_runs_once) {
  lf::sometimes s;
  int runs = 0;
  for (int i = 0; i < 10; ++i) s.run_at(t0 + std::chrono::hours(i), [&] { ++runs; });
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(s.calls(), 10u);
}

TEST(sometimes, first_n_calls_run) {
  lf::sometimes s(3, 0, {});
  std::vector<int> ran;
  for (int i = 0; i < 10; ++i) s.run_at(t0, [&] { ran.push_back(i); });
  EXPECT_EQ(ran, (std::vector<int>{0, 1, 2}));
}

TEST(sometimes, every_nth_call_runs_from_the_first) {
  lf::sometimes s(0, 4, {});
  std::vector<int> ran;
  for (int i = 0; i < 10; ++i) s.run_at(t0, [&] { ran.push_back(i); });
  EXPECT_EQ(ran, (std::vector<int>{0, 4, 8}));
}

TEST(sometimes, interval_runs_once_it_has_passed_since_the_last_run) {
  lf::sometimes s(0, 0, 1s);
  std::vector<int> ran;
  const std::chrono::milliseconds times[] = {0ms, 500ms, 999ms, 1000ms, 1001ms, 1999ms, 2000ms, 5000ms};
  for (int i = 0; i < 8; ++i) s.run_at(at(times[i]), [&] { ran.push_back(i); });
  EXPECT_EQ(ran, (std::vector<int>{0, 3, 6, 7}));
}

TEST(sometimes, filters_are_a_union) {
  lf::sometimes s(2, 5, 10s);
  std::vector<int> ran;
  for (int i = 0; i < 12; ++i) s.run_at(at(std::chrono::seconds(i)), [&] { ran.push_back(i); });
  // first: 0, 1; every 5th: 0, 5, 10; interval 10 s since the last run (at 10 s... 5 s): none extra
  EXPECT_EQ(ran, (std::vector<int>{0, 1, 5, 10}));
  lf::sometimes u(0, 100, 2s);
  ran.clear();
  for (int i = 0; i < 6; ++i) u.run_at(at(std::chrono::seconds(i)), [&] { ran.push_back(i); });
  EXPECT_EQ(ran, (std::vector<int>{0, 2, 4}));
}

TEST(sometimes, negative_settings_throw_naming_them) {
  EXPECT_NE(thrown_message([] { lf::sometimes s(-1, 0, {}); }).find("first = -1"), std::string::npos);
  EXPECT_NE(thrown_message([] { lf::sometimes s(0, -2, {}); }).find("every = -2"), std::string::npos);
}

TEST(sometimes, f_may_call_run_again) {
  lf::sometimes s(2, 0, {});
  int runs = 0;
  s.run_at(t0, [&] {
    ++runs;
    s.run_at(t0, [&] { ++runs; });  // Go's Do would deadlock here
  });
  EXPECT_EQ(runs, 2);
}

// Threads race on one sometimes: every call gets one index, so exactly the calls with
// index % every == 0 run. 4 threads x 10^4 calls keep this well under a second.
TEST(sometimes, concurrent_calls_run_exactly_the_every_nth) {
  lf::sometimes s(0, 7, {});
  std::atomic<int> runs{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int k = 0; k < 10'000; ++k) s.run_at(t0, [&] { runs.fetch_add(1, std::memory_order_relaxed); });
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(s.calls(), 40'000u);
  EXPECT_EQ(runs.load(), (40'000 + 6) / 7);
}

}  // namespace
