// Differential test of lf::circuit_breaker against gobreaker's semantics: a plain,
// single-threaded reference breaker written here from gobreaker v2's documented rules
// (Settings, Counts, the rolling window of gobreaker >= 2.2) and lf's breaker are fed the
// same random sequence of admissions, outcomes, state()/counts() reads and clock moves;
// every answer must be identical: admitted or refused and why, the state that admitted,
// the state, the generation and all six counts after every operation.
//
// Size: 8 settings x 15,000 operations = 120,000 operations (>= 10^5). The clock moves
// by steps chosen around the settings' own periods (exactly a timeout, one nanosecond
// past it, a third of a bucket ...), so every boundary rule is hit thousands of times.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "patterns/circuit_breaker.hpp"
#include "verification/support/fake_clock.hpp"

namespace {

using namespace std::chrono_literals;
using clk = lf::test::fake_clock<struct breaker_differential>;
using lf::breaker_state;

// ---- the reference: gobreaker's rules, one lock-free-free line at a time ----------------

struct ref_counts {
  std::uint32_t requests = 0, successes = 0, failures = 0, exclusions = 0, run_s = 0, run_f = 0;
  void on_request() { ++requests; }
  void on_success() { ++successes, ++run_s, run_f = 0; }
  void on_failure() { ++failures, ++run_f, run_s = 0; }
  void on_exclusion() { ++exclusions; }
  lf::breaker_counts view() const { return {requests, successes, failures, exclusions, run_s, run_f}; }
};

enum class verdict { admitted, open, too_many };
enum class result { success, failure, excluded };

class reference_breaker {
 public:
  reference_breaker(std::uint32_t max_requests, std::int64_t interval, std::int64_t bucket_period,
                    std::int64_t timeout, bool ratio_trip, std::int64_t now)
      : max_(max_requests == 0 ? 1 : max_requests), timeout_(timeout <= 0 ? 60'000'000'000 : timeout),
        ratio_trip_(ratio_trip) {
    // Settings: interval <= 0 never clears; a bucket period splits the interval (rounded
    // up to whole periods) into buckets; one bucket is a fixed window.
    std::int64_t n = 1;
    if (interval > 0) {
      interval_ = interval;
      if (bucket_period > 0) {
        n = (interval + bucket_period - 1) / bucket_period;
        interval_ = n * bucket_period;
        period_ = bucket_period;
      } else {
        period_ = interval;
      }
    }
    buckets_.assign(static_cast<std::size_t>(n), {});
    new_generation(now);
  }

  breaker_state state(std::int64_t now) { return current(now); }
  lf::breaker_counts counts() const { return total_.view(); }
  std::uint64_t generation() const { return gen_; }

  // gobreaker's beforeRequest.
  verdict before(std::int64_t now, std::uint64_t& gen, std::uint64_t& age) {
    const breaker_state s = current(now);
    gen = gen_;
    age = age_;
    if (s == breaker_state::open) return verdict::open;
    if (s == breaker_state::half_open) {
      const std::uint32_t valid = total_.requests < total_.exclusions ? 0 : total_.requests - total_.exclusions;
      if (valid >= max_) return verdict::too_many;
    }
    total_.on_request();
    buckets_[age_ % buckets_.size()].on_request();
    return verdict::admitted;
  }

  // gobreaker's afterRequest.
  void after(std::uint64_t gen, std::uint64_t age, result r, std::int64_t now) {
    const breaker_state s = current(now);
    if (gen != gen_) return;
    if (r == result::excluded) {
      if (in_window(age)) total_.on_exclusion(), buckets_[age % buckets_.size()].on_exclusion();
      return;
    }
    if (r == result::success) {
      if (in_window(age)) total_.on_success(), buckets_[age % buckets_.size()].on_success();
      if (s == breaker_state::half_open && total_.run_s >= max_) set_state(breaker_state::closed, now);
      return;
    }
    if (s == breaker_state::closed) {
      if (in_window(age)) total_.on_failure(), buckets_[age % buckets_.size()].on_failure();
      if (trips(total_)) set_state(breaker_state::open, now);
    } else if (s == breaker_state::half_open) {
      set_state(breaker_state::open, now);
    }
  }

 private:
  bool trips(const ref_counts& c) const {
    if (ratio_trip_) return c.requests >= 3 && c.failures * 10 >= c.requests * 6;
    return c.run_f > 5;
  }
  bool rolling() const { return buckets_.size() >= 2; }
  bool in_window(std::uint64_t age) const { return age <= age_ && age_ - age < buckets_.size(); }

  breaker_state current(std::int64_t now) {
    if (state_ == breaker_state::closed) {
      if (has_expiry_ && expiry_ < now) {
        new_generation(now);
      } else if (rolling()) {
        const std::int64_t a = now <= start_ ? 0 : (now - start_) / period_;
        grow(static_cast<std::uint64_t>(a));
      }
    } else if (state_ == breaker_state::open && expiry_ < now) {
      set_state(breaker_state::half_open, now);
    }
    return state_;
  }

  void set_state(breaker_state to, std::int64_t now) {
    if (state_ == to) return;
    state_ = to;
    new_generation(now);
  }

  void new_generation(std::int64_t now) {
    ++gen_;
    start_ = now;
    clear();
    has_expiry_ = false;
    if (state_ == breaker_state::closed && interval_ > 0 && !rolling()) {
      has_expiry_ = true;
      expiry_ = now + interval_;
    } else if (state_ == breaker_state::open) {
      has_expiry_ = true;
      expiry_ = now + timeout_;
    }
  }

  void clear() {
    total_ = {};
    age_ = 0;
    for (auto& b : buckets_) b = {};
  }

  void grow(std::uint64_t age) {
    if (age <= age_) return;
    if (age - age_ >= buckets_.size()) {
      clear();
      age_ = age;
      return;
    }
    while (age_ < age) {
      ++age_;
      const std::size_t n = buckets_.size(), oldest = age_ % n;
      // The run loses the oldest bucket's share when it reaches back into that bucket:
      // then the run equals that bucket's trailing run plus every later bucket's total.
      const ref_counts& b = buckets_[oldest];
      std::uint32_t later_s = b.run_s, later_f = b.run_f;
      for (std::size_t i = 1; i < n; ++i) {
        later_s += buckets_[(oldest + i) % n].successes;
        later_f += buckets_[(oldest + i) % n].failures;
      }
      if (total_.run_s == later_s) total_.run_s = total_.run_s > b.run_s ? total_.run_s - b.run_s : 0;
      if (total_.run_f == later_f) total_.run_f = total_.run_f > b.run_f ? total_.run_f - b.run_f : 0;
      total_.requests -= std::min(total_.requests, b.requests);
      total_.successes -= std::min(total_.successes, b.successes);
      total_.failures -= std::min(total_.failures, b.failures);
      total_.exclusions -= std::min(total_.exclusions, b.exclusions);
      buckets_[oldest] = {};
    }
  }

  std::uint32_t max_;
  std::int64_t interval_ = 0;
  std::int64_t period_ = 0;
  std::int64_t timeout_;
  bool ratio_trip_;
  breaker_state state_ = breaker_state::closed;
  std::uint64_t gen_ = 0;
  ref_counts total_;
  std::vector<ref_counts> buckets_;
  std::uint64_t age_ = 0;
  std::int64_t start_ = 0;
  bool has_expiry_ = false;
  std::int64_t expiry_ = 0;
};

// ---- the run ----------------------------------------------------------------------------

struct excluded_error : std::runtime_error {
  excluded_error() : std::runtime_error("excluded") {}
};

struct config {
  std::uint32_t max_requests;
  std::chrono::nanoseconds interval, bucket_period, timeout;
  bool ratio_trip;
};

std::int64_t now_ns() { return clk::now().time_since_epoch().count(); }

void run(const config& c, std::uint64_t seed, int ops) {
  clk::set(5s);
  lf::breaker_settings s;
  s.max_requests = c.max_requests;
  s.interval = c.interval;
  s.bucket_period = c.bucket_period;
  s.timeout = c.timeout;
  if (c.ratio_trip) {
    s.ready_to_trip = [](const lf::breaker_counts& k) {
      return k.requests >= 3 && k.total_failures * 10 >= k.requests * 6;
    };
  }
  s.is_excluded = [](std::exception_ptr e) {
    try {
      if (e) std::rethrow_exception(e);
    } catch (const excluded_error&) {
      return true;
    } catch (...) {
    }
    return false;
  };
  lf::basic_circuit_breaker<clk> lf_b(s);
  reference_breaker ref(c.max_requests, c.interval.count(), c.bucket_period.count(), c.timeout.count(),
                        c.ratio_trip, now_ns());

  struct pending {
    lf::basic_circuit_breaker<clk>::token token;
    std::uint64_t gen, age;
  };
  std::vector<pending> out;
  std::mt19937_64 rng(seed);
  const std::int64_t timeout = c.timeout.count() > 0 ? c.timeout.count() : 60'000'000'000;
  const std::int64_t period =
      c.bucket_period.count() > 0 ? c.bucket_period.count() : (c.interval.count() > 0 ? c.interval.count() : timeout);
  const std::int64_t steps[] = {0, 1, period / 3, period, period + 1, timeout, timeout + 1, c.interval.count()};

  std::uint64_t admitted = 0, refused = 0;
  std::string trace;  // the operations of this run, printed when an answer differs
  for (int i = 0; i < ops; ++i) {
    if (trace.size() > 4000) trace.erase(0, trace.size() - 2000);
    const unsigned op = static_cast<unsigned>(rng() % 100);
    if (op < 40 && out.size() < 8) {
      std::uint64_t gen = 0, age = 0;
      const verdict want = ref.before(now_ns(), gen, age);
      trace += "allow(" + std::to_string(static_cast<int>(want)) + ") ";
      auto t = lf_b.allow();
      ASSERT_EQ(static_cast<bool>(t), want == verdict::admitted) << "op " << i;
      if (t) {
        ASSERT_EQ(t.generation(), gen) << "op " << i;
        out.push_back({std::move(t), gen, age});
        ++admitted;
      } else {
        ASSERT_EQ(t.error(), want == verdict::open ? lf::breaker_error::open : lf::breaker_error::too_many_requests)
            << "op " << i;
        ++refused;
      }
    } else if (op < 75 && !out.empty()) {
      const std::size_t k = rng() % out.size();
      const unsigned kind = static_cast<unsigned>(rng() % 10);
      const result r = kind < 5 ? result::success : kind < 9 ? result::failure : result::excluded;
      ref.after(out[k].gen, out[k].age, r, now_ns());
      trace += "done(g" + std::to_string(out[k].gen) + " a" + std::to_string(out[k].age) + " r" +
               std::to_string(static_cast<int>(r)) + ") ";
      if (r == result::excluded) {
        out[k].token.done(std::make_exception_ptr(excluded_error()));
      } else if (rng() % 2 == 0) {
        out[k].token.done(r == result::success);
      } else {
        out[k].token.done(r == result::success ? std::exception_ptr{}
                                               : std::make_exception_ptr(std::runtime_error("down")));
      }
      out.erase(out.begin() + static_cast<std::ptrdiff_t>(k));
    } else if (op < 88) {
      const std::int64_t step = rng() % 4 == 0 ? static_cast<std::int64_t>(rng() % (2 * timeout))
                                               : steps[rng() % std::size(steps)];
      clk::advance(std::chrono::nanoseconds(step));
      trace += "+" + std::to_string(step) + "ns ";
    } else {
      trace += "state ";
      ASSERT_EQ(lf_b.state(), ref.state(now_ns())) << "op " << i << " after " << trace;
    }
    ASSERT_EQ(lf_b.counts(), ref.counts()) << "op " << i << " after " << trace;
    ASSERT_EQ(lf_b.generation(), ref.generation()) << "op " << i << " after " << trace;
  }
  for (auto& p : out) p.token.done(true), ref.after(p.gen, p.age, result::success, now_ns());
  ASSERT_EQ(lf_b.counts(), ref.counts());
  // Both kinds of answer occurred: the run exercised refusals as well as admissions.
  EXPECT_GT(admitted, 0u);
  EXPECT_GT(refused, 0u);
}

TEST(circuit_breaker_differential, agrees_with_gobreaker_semantics_on_random_runs) {
  const config configs[] = {
      {0, 0s, 0s, 3s, false},         // interval 0: never cleared; defaults
      {2, 5s, 0s, 3s, false},         // fixed window
      {3, 5s, 1s, 2s, false},         // rolling, 5 buckets
      {1, 2500ms, 1s, 4s, true},      // rolling, interval rounded up to 3 buckets; ratio trip
      {2, 1s, 3s, 2s, false},         // bucket longer than interval: one bucket of 3 s
      {0, -1s, 1s, -1s, false},       // negative interval and timeout: gobreaker's defaults
      {3, 10s, 2s, 1s, true},         // rolling, short open period
      {1, 0s, 0s, 500ms, false},      // frequent half-open probes
  };
  std::uint64_t seed = 20240601;
  for (const config& c : configs) {
    SCOPED_TRACE("config with interval " + std::to_string(c.interval.count()) + " ns, bucket " +
                 std::to_string(c.bucket_period.count()) + " ns");
    run(c, seed++, 15'000);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
