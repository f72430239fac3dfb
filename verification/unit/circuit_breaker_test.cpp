// Unit lane for lf::circuit_breaker (patterns/circuit_breaker.hpp): gobreaker's rules,
// resilience4j's thresholds and manual states, lf's documented differences, bad
// settings. Time is a fake clock moved by the test; nothing sleeps.
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "patterns/circuit_breaker.hpp"
#include "verification/support/fake_clock.hpp"

namespace {

using namespace std::chrono_literals;
using clk = lf::test::fake_clock<struct breaker_unit>;
using breaker = lf::basic_circuit_breaker<clk>;
using lf::breaker_state;

struct excluded_error : std::runtime_error {
  excluded_error() : std::runtime_error("excluded") {}
};
struct benign_error : std::runtime_error {
  benign_error() : std::runtime_error("benign") {}
};

// True when e holds an E.
template <class E>
bool holds(std::exception_ptr e) {
  if (!e) return false;
  try {
    std::rethrow_exception(e);
  } catch (const E&) {
    return true;
  } catch (...) {
    return false;
  }
}

class circuit_breaker : public ::testing::Test {
 protected:
  void SetUp() override { clk::set(1000s); }
};

void fail_n(breaker& b, int n) {
  for (int i = 0; i < n; ++i) {
    auto t = b.allow();
    ASSERT_TRUE(t);
    t.done(false);
  }
}
void succeed_n(breaker& b, int n) {
  for (int i = 0; i < n; ++i) {
    auto t = b.allow();
    ASSERT_TRUE(t);
    t.done(true);
  }
}


// ---- gobreaker: closed ------------------------------------------------------------------

TEST_F(circuit_breaker, default_trips_after_more_than_five_consecutive_failures) {
  breaker b;
  fail_n(b, 5);
  EXPECT_EQ(b.state(), breaker_state::closed);
  EXPECT_EQ(b.counts().consecutive_failures, 5u);
  fail_n(b, 1);
  EXPECT_EQ(b.state(), breaker_state::open);
}

TEST_F(circuit_breaker, a_success_resets_the_consecutive_failures) {
  breaker b;
  fail_n(b, 5);
  succeed_n(b, 1);
  fail_n(b, 5);
  EXPECT_EQ(b.state(), breaker_state::closed);
  const lf::breaker_counts c = b.counts();
  EXPECT_EQ(c.requests, 11u);
  EXPECT_EQ(c.total_successes, 1u);
  EXPECT_EQ(c.total_failures, 10u);
  EXPECT_EQ(c.consecutive_failures, 5u);
  EXPECT_EQ(c.consecutive_successes, 0u);
}

TEST_F(circuit_breaker, ready_to_trip_sees_the_counts_after_the_failure) {
  lf::breaker_settings s;
  std::vector<lf::breaker_counts> seen;
  s.ready_to_trip = [&](const lf::breaker_counts& c) {
    seen.push_back(c);
    return c.requests >= 3 && c.total_failures * 10 >= c.requests * 6;
  };
  breaker b(s);
  succeed_n(b, 1);
  fail_n(b, 1);
  EXPECT_EQ(b.state(), breaker_state::closed);
  fail_n(b, 1);  // 2 of 3 failed: 66% >= 60%
  EXPECT_EQ(b.state(), breaker_state::open);
  ASSERT_EQ(seen.size(), 2u);  // called on failures only
  EXPECT_EQ(seen[1], (lf::breaker_counts{3, 1, 2, 0, 0, 2}));
}

TEST_F(circuit_breaker, interval_clears_the_counts_strictly_after_it_ends) {
  lf::breaker_settings s;
  s.interval = 10s;
  breaker b(s);
  fail_n(b, 5);
  const auto gen = b.generation();
  clk::advance(10s);  // gobreaker: expiry.Before(now), so exactly at the expiry nothing happens
  EXPECT_EQ(b.state(), breaker_state::closed);
  EXPECT_EQ(b.counts().consecutive_failures, 5u);
  clk::advance(1ns);
  EXPECT_EQ(b.counts().consecutive_failures, 5u) << "counts() moves no time";
  EXPECT_EQ(b.state(), breaker_state::closed);
  EXPECT_EQ(b.counts(), lf::breaker_counts{});
  EXPECT_EQ(b.generation(), gen + 1);
  fail_n(b, 5);
  EXPECT_EQ(b.state(), breaker_state::closed);
}

TEST_F(circuit_breaker, no_interval_never_clears_while_closed) {
  breaker b;
  fail_n(b, 3);
  clk::advance(24h * 365);
  EXPECT_EQ(b.state(), breaker_state::closed);
  EXPECT_EQ(b.counts().consecutive_failures, 3u);
}

TEST_F(circuit_breaker, rolling_window_drops_the_oldest_bucket_as_time_moves) {
  lf::breaker_settings s;
  s.interval = 3s;
  s.bucket_period = 1s;
  s.ready_to_trip = [](const lf::breaker_counts&) { return false; };
  breaker b(s);
  fail_n(b, 2);  // bucket 0
  clk::advance(1s);
  succeed_n(b, 1);  // bucket 1
  clk::advance(1s);
  fail_n(b, 1);  // bucket 2
  EXPECT_EQ(b.counts(), (lf::breaker_counts{4, 1, 3, 0, 0, 1}));
  clk::advance(1s);
  (void)b.state();  // rolls bucket 0 out
  EXPECT_EQ(b.counts(), (lf::breaker_counts{2, 1, 1, 0, 0, 1}));
  clk::advance(10s);  // the whole window passes
  (void)b.state();
  EXPECT_EQ(b.counts(), lf::breaker_counts{});
}

TEST_F(circuit_breaker, rolling_window_rounds_interval_up_to_whole_buckets) {
  lf::breaker_settings s;
  s.interval = 2500ms;  // 3 buckets of 1 s
  s.bucket_period = 1s;
  s.ready_to_trip = [](const lf::breaker_counts&) { return false; };
  breaker b(s);
  fail_n(b, 1);
  clk::advance(2s);
  (void)b.state();
  EXPECT_EQ(b.counts().total_failures, 1u);  // still inside the 3 s window
  clk::advance(1s);
  (void)b.state();
  EXPECT_EQ(b.counts().total_failures, 0u);
}

TEST_F(circuit_breaker, rolling_window_drops_the_share_of_a_run_in_the_oldest_bucket) {
  lf::breaker_settings s;
  s.interval = 2s;
  s.bucket_period = 1s;
  breaker b(s);
  fail_n(b, 4);  // bucket 0
  clk::advance(1s);
  fail_n(b, 1);  // bucket 1: the run is 5, 4 of them in bucket 0
  clk::advance(1s);
  (void)b.state();
  EXPECT_EQ(b.counts().consecutive_failures, 1u);
  fail_n(b, 5);  // 6 in a row within the window: trips
  EXPECT_EQ(b.state(), breaker_state::open);
}

TEST_F(circuit_breaker, an_outcome_from_a_bucket_out_of_the_window_is_dropped) {
  lf::breaker_settings s;
  s.interval = 2s;
  s.bucket_period = 1s;
  breaker b(s);
  auto t = b.allow();
  clk::advance(2s);
  (void)b.state();
  t.done(false);
  EXPECT_EQ(b.counts(), lf::breaker_counts{});
}

// ---- gobreaker: open and half-open -------------------------------------------------------

TEST_F(circuit_breaker, open_refuses_with_breaker_open) {
  breaker b;
  fail_n(b, 6);
  auto t = b.allow();
  EXPECT_FALSE(t);
  EXPECT_EQ(t.error(), lf::breaker_error::open);
  EXPECT_THROW(b.execute([] { return 1; }), lf::breaker_open);
  EXPECT_EQ(b.counts(), lf::breaker_counts{}) << "refused calls are not counted";
}

TEST_F(circuit_breaker, timeout_of_zero_means_sixty_seconds_after_which_it_half_opens) {
  breaker b;
  fail_n(b, 6);
  clk::advance(60s);
  EXPECT_EQ(b.state(), breaker_state::open);
  clk::advance(1ns);
  EXPECT_EQ(b.state(), breaker_state::half_open);
}

TEST_F(circuit_breaker, custom_timeout) {
  lf::breaker_settings s;
  s.timeout = 5s;
  breaker b(s);
  fail_n(b, 6);
  clk::advance(5s + 1ns);
  EXPECT_EQ(b.state(), breaker_state::half_open);
}

TEST_F(circuit_breaker, half_open_admits_max_requests_then_too_many_requests) {
  lf::breaker_settings s;
  s.max_requests = 3;
  s.timeout = 1s;
  breaker b(s);
  fail_n(b, 6);
  clk::advance(2s);
  std::vector<breaker::token> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(b.allow());
    ASSERT_TRUE(held.back());
    EXPECT_EQ(held.back().state(), breaker_state::half_open);
  }
  auto t = b.allow();
  EXPECT_FALSE(t);
  EXPECT_EQ(t.error(), lf::breaker_error::too_many_requests);
  EXPECT_THROW(b.execute([] {}), lf::too_many_requests);
  for (auto& h : held) h.done(true);
}

TEST_F(circuit_breaker, max_requests_zero_admits_one) {
  lf::breaker_settings s;
  s.timeout = 1s;
  breaker b(s);
  fail_n(b, 6);
  clk::advance(2s);
  auto first = b.allow();
  EXPECT_TRUE(first);
  EXPECT_FALSE(b.allow());
  first.done(true);  // one success closes it
  EXPECT_EQ(b.state(), breaker_state::closed);
}

TEST_F(circuit_breaker, max_requests_consecutive_successes_close_it) {
  lf::breaker_settings s;
  s.max_requests = 2;
  s.timeout = 1s;
  breaker b(s);
  fail_n(b, 6);
  clk::advance(2s);
  succeed_n(b, 1);
  EXPECT_EQ(b.state(), breaker_state::half_open);
  succeed_n(b, 1);
  EXPECT_EQ(b.state(), breaker_state::closed);
  EXPECT_EQ(b.counts(), lf::breaker_counts{});
}

TEST_F(circuit_breaker, any_failure_in_half_open_reopens_it) {
  lf::breaker_settings s;
  s.max_requests = 5;
  s.timeout = 1s;
  breaker b(s);
  fail_n(b, 6);
  clk::advance(2s);
  succeed_n(b, 3);
  fail_n(b, 1);
  EXPECT_EQ(b.state(), breaker_state::open);
  clk::advance(1s);
  EXPECT_EQ(b.state(), breaker_state::open) << "a new open period started at the failure";
}

TEST_F(circuit_breaker, an_excluded_outcome_frees_its_half_open_slot) {
  lf::breaker_settings s;
  s.timeout = 1s;
  s.is_excluded = holds<excluded_error>;
  breaker b(s);
  fail_n(b, 6);
  clk::advance(2s);
  EXPECT_THROW(b.execute([] { throw excluded_error(); }), excluded_error);
  EXPECT_EQ(b.state(), breaker_state::half_open);
  EXPECT_EQ(b.counts(), (lf::breaker_counts{1, 0, 0, 1, 0, 0}));
  EXPECT_TRUE(b.allow()) << "requests - exclusions = 0 < 1";
}

TEST_F(circuit_breaker, an_outcome_of_an_older_generation_is_dropped) {
  lf::breaker_settings s;
  s.max_requests = 2;
  s.timeout = 1s;
  breaker b(s);
  auto old = b.allow();  // closed, generation 1
  fail_n(b, 6);
  clk::advance(2s);
  ASSERT_EQ(b.state(), breaker_state::half_open);
  old.done(false);  // would reopen a half-open breaker
  EXPECT_EQ(b.state(), breaker_state::half_open);
  EXPECT_EQ(b.counts(), lf::breaker_counts{});
}

TEST_F(circuit_breaker, every_state_change_and_interval_expiry_starts_a_generation) {
  lf::breaker_settings s;
  s.interval = 10s;
  s.timeout = 1s;
  breaker b(s);
  const auto g0 = b.generation();
  clk::advance(11s);
  (void)b.state();
  EXPECT_EQ(b.generation(), g0 + 1);
  fail_n(b, 6);
  EXPECT_EQ(b.generation(), g0 + 2);
  clk::advance(2s);
  (void)b.state();
  EXPECT_EQ(b.generation(), g0 + 3);
  succeed_n(b, 1);
  EXPECT_EQ(b.generation(), g0 + 4);
}

TEST_F(circuit_breaker, on_state_change_reports_each_change_in_order) {
  lf::breaker_settings s;
  s.name = "db";
  s.timeout = 1s;
  std::vector<std::tuple<std::string, breaker_state, breaker_state>> seen;
  s.on_state_change = [&](const std::string& n, breaker_state f, breaker_state t) { seen.emplace_back(n, f, t); };
  breaker b(s);
  EXPECT_EQ(b.name(), "db");
  fail_n(b, 6);
  clk::advance(2s);
  fail_n(b, 1);
  clk::advance(2s);
  succeed_n(b, 1);
  using T = std::tuple<std::string, breaker_state, breaker_state>;
  EXPECT_EQ(seen, (std::vector<T>{T{"db", breaker_state::closed, breaker_state::open},
                                  T{"db", breaker_state::open, breaker_state::half_open},
                                  T{"db", breaker_state::half_open, breaker_state::open},
                                  T{"db", breaker_state::open, breaker_state::half_open},
                                  T{"db", breaker_state::half_open, breaker_state::closed}}));
}

TEST_F(circuit_breaker, an_on_state_change_that_throws_leaves_the_breaker_usable) {
  lf::breaker_settings s;
  s.on_state_change = [](const std::string&, breaker_state, breaker_state) { throw std::runtime_error("hook"); };
  breaker b(s);
  EXPECT_THROW(b.transition_to(breaker_state::forced_open), std::runtime_error);
  EXPECT_EQ(b.state(), breaker_state::forced_open);
}

// ---- execute and outcomes ---------------------------------------------------------------

TEST_F(circuit_breaker, execute_returns_the_result_and_counts_a_success) {
  breaker b;
  EXPECT_EQ(b.execute([] { return std::string("ok"); }), "ok");
  int x = 0;
  int& r = b.execute([&]() -> int& { return x; });
  EXPECT_EQ(&r, &x);
  b.execute([] {});
  EXPECT_EQ(b.counts(), (lf::breaker_counts{3, 3, 0, 0, 3, 0}));
}

TEST_F(circuit_breaker, execute_counts_and_rethrows_what_the_call_throws) {
  breaker b;
  EXPECT_THROW(b.execute([]() -> int { throw std::runtime_error("down"); }), std::runtime_error);
  EXPECT_EQ(b.counts(), (lf::breaker_counts{1, 0, 1, 0, 0, 1}));
}

TEST_F(circuit_breaker, is_successful_can_count_an_exception_as_a_success) {
  lf::breaker_settings s;
  s.is_successful = [](std::exception_ptr e) { return !e || holds<benign_error>(e); };
  breaker b(s);
  EXPECT_THROW(b.execute([] { throw benign_error(); }), benign_error);
  EXPECT_EQ(b.counts().total_successes, 1u);
}

TEST_F(circuit_breaker, a_token_reports_once) {
  breaker b;
  auto t = b.allow();
  t.done(false);
  t.done(false);
  t.done(std::make_exception_ptr(std::runtime_error("x")));
  EXPECT_EQ(b.counts().total_failures, 1u);
}

TEST_F(circuit_breaker, a_dropped_token_counts_as_an_exclusion) {
  lf::breaker_settings s;
  s.timeout = 1s;
  breaker b(s);
  { auto t = b.allow(); }
  EXPECT_EQ(b.counts(), (lf::breaker_counts{1, 0, 0, 1, 0, 0}));
  fail_n(b, 6);
  clk::advance(2s);
  { auto t = b.allow(); }  // its half-open slot comes back
  EXPECT_TRUE(b.allow());
}

TEST_F(circuit_breaker, a_moved_token_reports_from_its_new_place) {
  breaker b;
  auto t = b.allow();
  breaker::token u = std::move(t);
  t.done(false);  // moved-from: nothing owed
  EXPECT_EQ(b.counts().total_failures, 0u);
  u.done(false);
  EXPECT_EQ(b.counts().total_failures, 1u);
}

// ---- resilience4j ------------------------------------------------------------------------

TEST_F(circuit_breaker, failure_rate_over_a_count_window_trips_once_minimum_calls_are_seen) {
  lf::breaker_settings s;
  s.failure_rate_threshold = 50;
  s.sliding_window_size = 4;
  s.minimum_number_of_calls = 4;
  breaker b(s);
  fail_n(b, 3);
  EXPECT_EQ(b.state(), breaker_state::closed) << "3 calls < minimum 4";
  succeed_n(b, 1);  // 3 of 4 failed
  EXPECT_EQ(b.state(), breaker_state::open);
}

TEST_F(circuit_breaker, a_count_window_keeps_only_the_last_calls) {
  lf::breaker_settings s;
  s.failure_rate_threshold = 50;
  s.sliding_window_size = 4;
  s.minimum_number_of_calls = 4;
  breaker b(s);
  succeed_n(b, 1);
  fail_n(b, 1);
  succeed_n(b, 3);  // window: F S S S = 25%
  EXPECT_EQ(b.state(), breaker_state::closed);
  fail_n(b, 1);  // S S S F = 25%
  EXPECT_EQ(b.state(), breaker_state::closed);
  fail_n(b, 1);  // S S F F = 50%
  EXPECT_EQ(b.state(), breaker_state::open);
}

TEST_F(circuit_breaker, minimum_calls_is_capped_by_a_count_window_size) {
  lf::breaker_settings s;
  s.failure_rate_threshold = 100;
  s.sliding_window_size = 2;
  s.minimum_number_of_calls = 100;
  breaker b(s);
  fail_n(b, 2);
  EXPECT_EQ(b.state(), breaker_state::open);
}

TEST_F(circuit_breaker, slow_call_rate_over_a_time_window_trips) {
  lf::breaker_settings s;
  s.slow_call_rate_threshold = 50;
  s.slow_call_duration = 100ms;
  s.sliding_window_type = lf::sliding_window::time_based;
  s.sliding_window_size = 10;
  s.minimum_number_of_calls = 2;
  breaker b(s);
  b.execute([] { clk::advance(100ms); });  // exactly the limit: not slow
  EXPECT_EQ(b.state(), breaker_state::closed);
  b.execute([] { clk::advance(101ms); });  // slow: 1 of 2
  EXPECT_EQ(b.state(), breaker_state::open);
}

TEST_F(circuit_breaker, a_time_window_forgets_calls_older_than_its_size) {
  lf::breaker_settings s;
  s.failure_rate_threshold = 50;
  s.sliding_window_type = lf::sliding_window::time_based;
  s.sliding_window_size = 2;
  s.minimum_number_of_calls = 2;
  s.ready_to_trip = [](const lf::breaker_counts&) { return false; };
  breaker b(s);
  fail_n(b, 1);
  clk::advance(2s);
  succeed_n(b, 1);  // the failure is 2 s old: out of the 2 s window; 1 call < 2
  EXPECT_EQ(b.state(), breaker_state::closed);
  fail_n(b, 1);  // 1 of 2 in the window
  EXPECT_EQ(b.state(), breaker_state::open);
}

TEST_F(circuit_breaker, forced_open_refuses_and_never_times_out) {
  breaker b;
  b.transition_to(breaker_state::forced_open);
  clk::advance(24h);
  EXPECT_EQ(b.state(), breaker_state::forced_open);
  EXPECT_EQ(b.allow().error(), lf::breaker_error::open);
}

TEST_F(circuit_breaker, disabled_admits_everything_and_counts_nothing) {
  breaker b;
  b.transition_to(breaker_state::disabled);
  fail_n(b, 20);
  EXPECT_EQ(b.state(), breaker_state::disabled);
  EXPECT_EQ(b.counts(), lf::breaker_counts{});
}

TEST_F(circuit_breaker, metrics_only_counts_but_never_trips) {
  lf::breaker_settings s;
  s.failure_rate_threshold = 10;
  s.sliding_window_size = 2;
  breaker b(s);
  b.transition_to(breaker_state::metrics_only);
  fail_n(b, 20);
  EXPECT_EQ(b.state(), breaker_state::metrics_only);
  EXPECT_EQ(b.counts(), (lf::breaker_counts{20, 0, 20, 0, 0, 20}));
}

TEST_F(circuit_breaker, reset_and_manual_transitions_start_generations) {
  lf::breaker_settings s;
  int changes = 0;
  s.on_state_change = [&](const std::string&, breaker_state, breaker_state) { ++changes; };
  breaker b(s);
  fail_n(b, 3);
  const auto g = b.generation();
  b.reset();  // closed -> closed: new generation, no state change
  EXPECT_EQ(b.generation(), g + 1);
  EXPECT_EQ(b.counts(), lf::breaker_counts{});
  EXPECT_EQ(changes, 0);
  b.transition_to(breaker_state::closed);  // already there: nothing
  EXPECT_EQ(b.generation(), g + 1);
  b.transition_to(breaker_state::half_open);
  EXPECT_EQ(b.state(), breaker_state::half_open);
  EXPECT_EQ(changes, 1);
  b.transition_to(breaker_state::open);
  b.reset();
  EXPECT_EQ(b.state(), breaker_state::closed);
  EXPECT_EQ(changes, 3);
}

// ---- bad settings ------------------------------------------------------------------------

void expect_rejected(lf::breaker_settings s, const std::string& field) {
  try {
    breaker b(std::move(s));
    FAIL() << "no exception for " << field;
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(field + " = "), std::string::npos) << e.what();
  }
}

TEST_F(circuit_breaker, bad_settings_throw_naming_the_field) {
  lf::breaker_settings s;
  s.sliding_window_size = 0;
  expect_rejected(s, "sliding_window_size");
  s = {};
  s.sliding_window_size = breaker::max_buckets + 1;
  expect_rejected(s, "sliding_window_size");
  s = {};
  s.minimum_number_of_calls = 0;
  expect_rejected(s, "minimum_number_of_calls");
  s = {};
  s.failure_rate_threshold = 100.5;
  expect_rejected(s, "failure_rate_threshold");
  s = {};
  s.failure_rate_threshold = -1;
  expect_rejected(s, "failure_rate_threshold");
  s = {};
  s.slow_call_rate_threshold = std::nan("");
  expect_rejected(s, "slow_call_rate_threshold");
  s = {};
  s.slow_call_rate_threshold = 50;  // no slow_call_duration
  expect_rejected(s, "slow_call_duration");
  s = {};
  s.interval = 1h;
  s.bucket_period = 1ms;  // 3.6 million buckets
  expect_rejected(s, "bucket_period");
}

TEST_F(circuit_breaker, gobreakers_lenient_settings_are_accepted) {
  lf::breaker_settings s;
  s.interval = -1s;
  s.timeout = -1s;
  s.bucket_period = -1s;
  breaker b(s);
  fail_n(b, 6);
  clk::advance(60s + 1ns);
  EXPECT_EQ(b.state(), breaker_state::half_open);
  lf::breaker_settings huge;
  huge.interval = std::chrono::nanoseconds::max();  // never expires, no overflow
  breaker h(huge);
  fail_n(h, 1);
  clk::advance(24h);
  EXPECT_EQ(h.counts().total_failures, 1u);
}

// A breaker with one bucket counts closed calls in 16 stripes picked by thread index; 40
// threads put at least two on every stripe (its words are RMWs, so sharing one must stay
// exact). Each thread runs 500 calls, the 25th of every 50 a failure (ready_to_trip never
// fires: failures of different threads may be consecutive), ending with successes: the
// totals must come out exact, and calls made alone after the join decide the runs.
TEST_F(circuit_breaker, striped_counts_stay_exact_with_more_threads_than_stripes) {
  lf::breaker_settings s;
  s.ready_to_trip = [](const lf::breaker_counts&) { return false; };
  breaker b(s);
  constexpr int threads = 40, calls = 500;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&b] {
      for (int i = 1; i <= calls; ++i) {
        auto tok = b.allow();
        ASSERT_TRUE(tok);
        tok.done(i % 50 != 25);
      }
    });
  }
  for (auto& th : pool) th.join();
  lf::breaker_counts c = b.counts();
  EXPECT_EQ(c.requests, threads * calls);
  EXPECT_EQ(c.total_failures, threads * (calls / 50));
  EXPECT_EQ(c.total_successes, threads * (calls - calls / 50));
  EXPECT_EQ(c.consecutive_failures, 0u);  // every thread ended with 25 successes
  EXPECT_GE(c.consecutive_successes, 25u);
  fail_n(b, 2);
  c = b.counts();
  EXPECT_EQ(c.consecutive_failures, 2u);
  EXPECT_EQ(c.consecutive_successes, 0u);
  auto tok = b.allow();
  tok.done(true);
  c = b.counts();
  EXPECT_EQ(c.consecutive_failures, 0u);
  EXPECT_EQ(c.consecutive_successes, 1u);
}

TEST_F(circuit_breaker, state_names) {
  EXPECT_STREQ(lf::to_string(breaker_state::half_open), "half-open");
  EXPECT_STREQ(lf::to_string(breaker_state::metrics_only), "metrics-only");
}

}  // namespace
