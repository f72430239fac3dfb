// lf::circuit_breaker — the circuit-breaker pattern (Nygard, Release It!, 2007; note:
// papers/nygard-2007-circuit-breaker.md) with the semantics of Go's
// github.com/sony/gobreaker v2, plus resilience4j's rate thresholds and manual states,
// on a lock-free state word.
//
//   lf::breaker_settings s;
//   s.name = "payments";
//   s.timeout = std::chrono::seconds(30);                      // open for 30 s, then probe
//   lf::circuit_breaker br(s);
//   int v = br.execute([&] { return call_payments(); });       // throws lf::breaker_open,
//                                                              // lf::too_many_requests, or
//                                                              // what the call threw
//   if (auto t = br.allow()) { bool ok = send(); t.done(ok); }  // two-step form
//
// gobreaker's rules, kept exactly (the differential test checks them against a plain
// reference written from gobreaker's documentation).
//   - closed: every call runs. A failure calls ready_to_trip(counts) (default: more than
//     5 consecutive failures); true opens the breaker. interval > 0 clears the counts
//     every interval (a fixed window); with bucket_period > 0 as well, the counts roll
//     over interval / bucket_period buckets instead (interval rounded up to a multiple
//     of bucket_period; one bucket is the fixed window again). interval <= 0: the counts
//     are never cleared while closed.
//   - open: every call is refused (lf::breaker_open) until `timeout` (<= 0: 60 s) has
//     passed; the first look after that (a call, an outcome, state()) moves it to half-open.
//   - half-open: at most max_requests (0 means 1) calls are admitted, minus those whose
//     outcome was excluded; the rest get lf::too_many_requests. max_requests consecutive
//     successes close it; any failure reopens it.
//   - Every state change and every interval expiry starts a new generation with cleared
//     counts; an outcome reported for an older generation is dropped. on_state_change
//     (name, from, to) runs for each state change, in order, one at a time.
//   - is_excluded(e) (default: never) and is_successful(e) (default: e == nullptr) judge
//     an outcome: execute passes what the call threw (nullptr when it returned).
//   - counts() reads without moving time (gobreaker's Counts); state() may move it.
// Beyond gobreaker, from resilience4j.
//   - failure_rate_threshold / slow_call_rate_threshold (percent; 0 = off) over a
//     count-based (last sliding_window_size calls) or time-based (last
//     sliding_window_size seconds, one bucket per second) window, once it holds at least
//     minimum_number_of_calls (count-based: at most the window size); a call slower than
//     slow_call_duration is slow. Checked at each success or failure in the closed state,
//     besides ready_to_trip. The window belongs to the generation, like the counts.
//   - transition_to(s): forced_open (refuses every call, never times out), disabled
//     (admits every call, counts nothing), metrics_only (admits every call, counts, never
//     trips), closed, open, half_open. reset(): a new closed generation.
// Where lf differs, and why.
//   - A token dropped without done() reports an exclusion (gobreaker's done is a
//     callback that may simply never be called: a half-open slot then stays taken until
//     the generation ends, which can wedge the breaker in half-open).
//   - Counts are uint32 and wrap, as gobreaker's; consecutive runs are exact to 2^32 - 1.
//   - bucket_period giving more than max_buckets buckets, and bad resilience4j settings,
//     throw std::invalid_argument naming the field (gobreaker would allocate them all).
//
// Design. One 64-bit state word: the state (bits 0-2), a busy bit (3) and the
// generation (bits 4-63). The generation's start time, its bucket bases and the rolled
// age sit in atomics beside it, written only while the busy bit is held and read as a
// seqlock (load word, read, load word again). Counters are words stamped with the epoch
// they count for (patterns/detail/breaker_counters.hpp), so a new generation clears them
// lazily and a late outcome can only land in an epoch nobody reads any more.
//   closed execute  load word, add to requests, run, load word, add to the outcome
//                   counters: no lock, no allocation; no clock read unless a time rule
//                   (interval, rolling buckets, slow calls, a time-based window) needs it.
//                   With one bucket and no rate window (gobreaker's default settings, or
//                   a fixed interval) requests and successes are counted in stripes
//                   picked by lf::thread_index() (detail::breaker_stripe): a success writes
//                   its stripe's line only, so concurrent callers share no written line.
//                   A failure writes a 16-byte mark (the failure run and the success total
//                   it saw) from which both consecutive counts follow
//                   (detail::stamped_failure_run, ordering (F1), (F2) there).
//   half-open admit one CAS on the requests word that checks the limit and increments
//                   (stamped_count::add_one_if): exact under any interleaving.
//   transitions     CAS the expected word to word|busy; write the new generation's data;
//                   run on_state_change; publish the new word (a release store). Callers
//                   that meet the busy bit spin until it clears: transitions are rare and
//                   short, and on_state_change, like gobreaker's (called under its mutex),
//                   must not call back into the breaker.
//
// Ordering (numbers refer to the comments below).
//   (1) acquire load of the word, (2) acquire fence before the second load: a reader that
//       sees a published word sees the data written before it was published by (4); a
//       reader whose data loads saw a busy holder's writes sees, at (2), the busy bit or
//       a newer word, thanks to (3), and retries.
//   (3) the busy CAS is acquire (the holder reads what earlier holders wrote) followed by
//       a release fence (its data stores are ordered after the busy bit).
//   (4) release store of the new word: publishes start, bases and age.
// Counters are relaxed: each is its own datum, and the stamps, not the order, tell which
// epoch a count belongs to.
//
// Progress: allow/execute/done in the closed and half-open states are lock-free except
// while a transition or a bucket roll is being written (a few stores and
// on_state_change), which they wait out.
//
// The model lane checks this header: verification/model/circuit_breaker_model.cpp.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "patterns/detail/breaker_counters.hpp"
#include "sync/atomic.hpp"
#include "sync/config.hpp"
#include "sync/thread.hpp"

namespace lf {

enum class breaker_state : std::uint8_t { closed, half_open, open, forced_open, disabled, metrics_only };

constexpr const char* to_string(breaker_state s) noexcept {
  switch (s) {
    case breaker_state::closed: return "closed";
    case breaker_state::half_open: return "half-open";
    case breaker_state::open: return "open";
    case breaker_state::forced_open: return "forced-open";
    case breaker_state::disabled: return "disabled";
    case breaker_state::metrics_only: return "metrics-only";
  }
  return "unknown";
}

struct breaker_counts {
  std::uint32_t requests = 0;
  std::uint32_t total_successes = 0;
  std::uint32_t total_failures = 0;
  std::uint32_t total_exclusions = 0;
  std::uint32_t consecutive_successes = 0;
  std::uint32_t consecutive_failures = 0;
  friend bool operator==(const breaker_counts&, const breaker_counts&) = default;
};

enum class sliding_window : std::uint8_t { count_based, time_based };

struct breaker_settings {
  std::string name;
  std::uint32_t max_requests = 0;                // half-open admissions; 0 means 1
  std::chrono::nanoseconds interval{0};          // <= 0: counts never cleared while closed
  std::chrono::nanoseconds bucket_period{0};     // > 0 (with interval > 0): rolling window
  std::chrono::nanoseconds timeout{0};           // open period; <= 0 means 60 s
  std::function<bool(const breaker_counts&)> ready_to_trip;  // empty: consecutive_failures > 5
  std::function<void(const std::string& name, breaker_state from, breaker_state to)> on_state_change;
  std::function<bool(std::exception_ptr)> is_successful;  // empty: e == nullptr
  std::function<bool(std::exception_ptr)> is_excluded;    // empty: never
  // resilience4j's rate thresholds (percent, 0 = off).
  double failure_rate_threshold = 0;
  double slow_call_rate_threshold = 0;
  std::chrono::nanoseconds slow_call_duration{0};  // must be > 0 when slow_call_rate_threshold is
  sliding_window sliding_window_type = sliding_window::count_based;
  std::uint32_t sliding_window_size = 100;       // calls, or seconds
  std::uint32_t minimum_number_of_calls = 100;
};

// Why allow() refused a call.
enum class breaker_error : std::uint8_t { none, open, too_many_requests };

class breaker_rejected : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// The breaker is open (or forced open): gobreaker's ErrOpenState.
class breaker_open : public breaker_rejected {
 public:
  using breaker_rejected::breaker_rejected;
};
// Half-open with max_requests already admitted: gobreaker's ErrTooManyRequests.
class too_many_requests : public breaker_rejected {
 public:
  using breaker_rejected::breaker_rejected;
};

template <class Clock = std::chrono::steady_clock>
class basic_circuit_breaker {
 public:
  using clock = Clock;
  // Most buckets a rolling window or a rate window may have.
  static constexpr std::uint32_t max_buckets = 1u << 16;

  class token;

  explicit basic_circuit_breaker(breaker_settings s = {}) : settings_(std::move(s)) {
    configure();
    start_.store(now_ticks(), std::memory_order_relaxed);  // before any other thread sees us
  }
  basic_circuit_breaker(const basic_circuit_breaker&) = delete;
  basic_circuit_breaker& operator=(const basic_circuit_breaker&) = delete;

  const std::string& name() const noexcept { return settings_.name; }

  // The state now; like gobreaker's State(), it applies a due timeout or interval.
  breaker_state state() {
    lazy_now now{this};
    return current(now).mode();
  }

  // The counts of the current generation (or rolling window), as last brought up to
  // date by a call, an outcome or state(): gobreaker's Counts(), which moves no time.
  breaker_counts counts() const {
    const view v = read_view();
    return snapshot(v, detail::run_value{});
  }

  // The current generation: advanced by each state change and interval expiry.
  std::uint64_t generation() const { return read_view().word >> gen_shift; }

  // Admits a call or refuses it (then !token and token.error() says why).
  [[nodiscard]] token allow();

  // Runs f() if admitted and returns its result; refused: throws lf::breaker_open or
  // lf::too_many_requests; what f throws is counted (is_excluded / is_successful) and
  // rethrown.
  template <class F>
  std::invoke_result_t<F&> execute(F&& f) {
    using R = std::invoke_result_t<F&>;
    token t = allow();
    if (!t) throw_rejected(t.error());
    try {
      if constexpr (std::is_void_v<R>) {
        std::invoke(f);
        t.done(std::exception_ptr{});
      } else {
        R r = std::invoke(f);
        t.done(std::exception_ptr{});
        if constexpr (std::is_reference_v<R>) {
          return static_cast<R>(r);
        } else {
          return r;
        }
      }
    } catch (...) {
      t.done(std::current_exception());  // a no-op if done above threw
      throw;
    }
  }

  // resilience4j's manual transitions: to `s` (a new generation, on_state_change), or
  // nothing if the breaker is in `s` already.
  void transition_to(breaker_state s) {
    for (;;) {
      lazy_now now{this};
      const view v = current(now);
      if (v.mode() == s || begin_transition(v, s, now.get(), true)) return;
    }
  }

  // A new closed generation with cleared counts, whatever the state.
  void reset() {
    for (;;) {
      lazy_now now{this};
      const view v = current(now);
      if (begin_transition(v, breaker_state::closed, now.get(), v.mode() != breaker_state::closed)) return;
    }
  }

 private:
  using ticks = std::int64_t;  // Clock::duration counts
  static constexpr std::uint64_t mode_mask = 7;
  static constexpr std::uint64_t busy_bit = 8;
  static constexpr unsigned gen_shift = 4;

  enum class outcome : std::uint8_t { success, failure, excluded };

  // A consistent read of the word and the generation's data.
  struct view {
    std::uint64_t word;
    ticks start;
    std::uint64_t base;   // epoch of age 0 of the counts buckets
    std::uint64_t wbase;  // epoch 0 of the rate window
    std::uint64_t age;    // rolled age (buckets of bucket_period since start)
    breaker_state mode() const noexcept { return static_cast<breaker_state>(word & mode_mask); }
    std::uint64_t gen() const noexcept { return word >> gen_shift; }
  };

  // Clock::now() on first use only: the closed state of a breaker without time rules
  // never reads the clock.
  struct lazy_now {
    const basic_circuit_breaker* b;
    bool have = false;
    ticks t = 0;
    ticks get() {
      if (!have) {
        t = b->now_ticks();
        have = true;
      }
      return t;
    }
  };

  static std::uint32_t stamp(std::uint64_t epoch) noexcept { return static_cast<std::uint32_t>(epoch); }

  // Stripes of a striped breaker (see detail::breaker_stripe): a power of two; threads
  // whose indices share a stripe share its line, and stay exact (its words are RMWs).
#if defined(LF_MODEL_RELACY)
  static constexpr std::size_t stripe_count = 2;  // the model's 3 threads: two share one
#else
  static constexpr std::size_t stripe_count = 16;
#endif

  // A generation counted in stripes: closed or metrics-only, in a breaker that has them.
  bool striped(breaker_state m) const noexcept {
    return stripes_ != nullptr && (m == breaker_state::closed || m == breaker_state::metrics_only);
  }
  detail::breaker_stripe& own_stripe() const { return stripes_[lf::thread_index() & (stripe_count - 1)]; }
  std::uint32_t striped_successes(std::uint32_t g) const noexcept {
    std::uint32_t n = 0;
    for (std::size_t i = 0; i < stripe_count; ++i) n += stripes_[i].successes.read(g);
    return n;
  }

  ticks now_ticks() const { return Clock::now().time_since_epoch().count(); }

  static ticks to_ticks(std::chrono::nanoseconds d) {
    return std::chrono::ceil<typename Clock::duration>(d).count();
  }

  [[noreturn]] void throw_rejected(breaker_error e) const {
    if (e == breaker_error::open) throw breaker_open("lf::circuit_breaker " + settings_.name + ": open");
    throw too_many_requests("lf::circuit_breaker " + settings_.name + ": too many requests");
  }

  static void fail(const std::string& field, const std::string& value, const char* rule) {
    throw std::invalid_argument("lf::breaker_settings: " + field + " = " + value + " (" + rule + ")");
  }

  void configure() {
    const breaker_settings& s = settings_;
    max_requests_ = s.max_requests == 0 ? 1 : s.max_requests;
    timeout_ = s.timeout <= s.timeout.zero() ? to_ticks(std::chrono::seconds(60)) : to_ticks(s.timeout);
    nbuckets_ = 1;
    if (s.interval > s.interval.zero()) {
      interval_ = to_ticks(s.interval);
      if (s.bucket_period > s.bucket_period.zero()) {
        const ticks bp = to_ticks(s.bucket_period);
        const ticks n = interval_ / bp + (interval_ % bp != 0 ? 1 : 0);
        if (n > max_buckets) {
          fail("bucket_period", std::to_string(s.bucket_period.count()) + " ns",
               ("interval / bucket_period gives " + std::to_string(n) + " buckets, at most " +
                std::to_string(max_buckets))
                   .c_str());
        }
        nbuckets_ = static_cast<std::uint32_t>(n);
        bucket_period_ = bp;
        interval_ = n * bp;  // gobreaker rounds interval up to a multiple of bucket_period
      }
    }
    rolling_ = nbuckets_ >= 2;
    fixed_window_ = interval_ > 0 && !rolling_;
    buckets_ = std::make_unique<detail::breaker_bucket[]>(nbuckets_);

    for (auto [field, v] : {std::pair{"failure_rate_threshold", s.failure_rate_threshold},
                            std::pair{"slow_call_rate_threshold", s.slow_call_rate_threshold}}) {
      if (!(v >= 0 && v <= 100)) fail(field, std::to_string(v), "must be a percentage in [0, 100]; 0 turns it off");
    }
    if (s.sliding_window_size == 0 || s.sliding_window_size > max_buckets) {
      fail("sliding_window_size", std::to_string(s.sliding_window_size),
           ("must be in [1, " + std::to_string(max_buckets) + "]").c_str());
    }
    if (s.minimum_number_of_calls == 0) fail("minimum_number_of_calls", "0", "must be at least 1");
    if (s.slow_call_rate_threshold > 0 && s.slow_call_duration <= s.slow_call_duration.zero()) {
      fail("slow_call_duration", std::to_string(s.slow_call_duration.count()) + " ns",
           "must be > 0 when slow_call_rate_threshold is set");
    }
    rated_ = s.failure_rate_threshold > 0 || s.slow_call_rate_threshold > 0;
    slow_calls_ = s.slow_call_rate_threshold > 0;
    if (!rolling_ && !rated_) {
      stripes_ = std::make_unique<detail::breaker_stripe[]>(stripe_count);
    }
    time_window_ = s.sliding_window_type == sliding_window::time_based;
    if (rated_) {
      wsize_ = s.sliding_window_size;
      wmin_ = time_window_ ? s.minimum_number_of_calls : std::min(s.minimum_number_of_calls, wsize_);
      window_ = std::make_unique<detail::rate_bucket[]>(wsize_);
      slow_ticks_ = to_ticks(s.slow_call_duration);
      second_ = to_ticks(std::chrono::seconds(1));
    }
  }

  // ---- the state word ---------------------------------------------------------------

  // A view is filled in place and returned by NRVO, never copied: GCC copies the struct
  // with 16-byte moves, which read back the 8-byte stores just made, and a load that
  // spans two stores is not forwarded (a stall of ~10 cycles on AMD Zen; measured: it was
  // a quarter of a closed execute()).
  view read_view() const {
    view v;
    read_view_into(v);
    return v;
  }
  void read_view_into(view& v) const {
    lf::backoff wait;
    for (;;) {
      v.word = state_.load(std::memory_order_acquire);  // (1) acquire: pairs with (4)
      if ((v.word & busy_bit) != 0) {
        wait.pause();
        continue;
      }
      v.start = start_.load(std::memory_order_relaxed);   // relaxed: validated by (2)
      v.base = base_.load(std::memory_order_relaxed);     // relaxed: ditto
      v.wbase = wbase_.load(std::memory_order_relaxed);   // relaxed: ditto
      v.age = age_.load(std::memory_order_relaxed);       // relaxed: ditto
      lf::fence(std::memory_order_acquire);               // (2) acquire fence: pairs with (3)
      if (state_.load(std::memory_order_relaxed) == v.word) return;  // relaxed: after (2)
    }
  }

  // Takes the busy bit if the word is still v.word.
  bool begin(const view& v) {
    std::uint64_t expected = v.word;
    // (3) acquire: what earlier holders published is ours to read and build on.
    if (!state_.compare_exchange_strong(expected, v.word | busy_bit, std::memory_order_acquire,
                                        std::memory_order_relaxed)) {
      return false;
    }
    lf::fence(std::memory_order_release);  // (3) the data stores below come after the busy bit
    return true;
  }

  void publish(std::uint64_t word) {
    state_.store(word, std::memory_order_release);  // (4) release: publishes the data; pairs with (1)
  }

  // gobreaker's setState / toNewGeneration: from v to `to` in a new generation.
  bool begin_transition(const view& v, breaker_state to, ticks now, bool notify) {
    if (!begin(v)) return false;
    const std::uint64_t age = age_.load(std::memory_order_relaxed);  // relaxed: ours while busy
    // Bases past every epoch the old generation used: a late outcome of it (its epoch
    // was taken before we took the busy bit, see record_rate) lands below them.
    base_.store(v.base + age + nbuckets_ + 1, std::memory_order_relaxed);  // relaxed: published by (4)
    if (rated_) {
      const std::uint64_t used = time_window_ ? age_of(now, v.start, second_)
                                              : wcalls_.read(stamp(v.gen()));
      wbase_.store(v.wbase + used + wsize_ + 1, std::memory_order_relaxed);  // relaxed: ditto
    }
    start_.store(now, std::memory_order_relaxed);  // relaxed: ditto
    age_.store(0, std::memory_order_relaxed);      // relaxed: ditto
    const std::uint64_t next = ((v.gen() + 1) << gen_shift) | static_cast<std::uint64_t>(to);
    if (notify && settings_.on_state_change) {
      try {
        settings_.on_state_change(settings_.name, v.mode(), to);
      } catch (...) {
        publish(next);
        throw;
      }
    }
    publish(next);
    return true;
  }

  static std::uint64_t age_of(ticks now, ticks start, ticks period) noexcept {
    return now <= start ? 0 : static_cast<std::uint64_t>((now - start) / period);
  }

  // gobreaker's currentState: applies a due interval expiry, bucket roll or timeout.
  view current(lazy_now& now) {
    view v;  // NRVO: see read_view
    for (;;) {
      read_view_into(v);
      switch (v.mode()) {
        case breaker_state::closed:
        case breaker_state::metrics_only:
          if (fixed_window_) {
            if (now.get() - v.start > interval_) {
              (void)begin_transition(v, v.mode(), now.get(), false);
              continue;
            }
          } else if (rolling_) {
            const std::uint64_t a = age_of(now.get(), v.start, bucket_period_);
            if (a > v.age) {
              (void)roll(v, a);
              continue;
            }
          }
          return v;
        case breaker_state::open:
          if (now.get() - v.start > timeout_) {
            (void)begin_transition(v, breaker_state::half_open, now.get(), true);
            continue;
          }
          return v;
        default:
          return v;
      }
    }
  }

  detail::breaker_bucket& bucket(std::uint64_t epoch) const { return buckets_[epoch % nbuckets_]; }

  // gobreaker's aggregate ConsecutiveSuccesses/Failures, stamped with the generation's
  // base epoch. With one bucket it is that bucket's own run: every outcome then writes
  // one cache line only.
  detail::stamped_run& aggregate_run() const { return rolling_ ? run_ : buckets_[0].run; }

  // gobreaker's rollingCounts.grow, under the busy bit. Each step drops the oldest
  // bucket and, when the consecutive run reaches into it, that bucket's share of the run.
  bool roll(const view& v, std::uint64_t to_age) {
    if (!begin(v)) return false;
    std::uint64_t age = age_.load(std::memory_order_relaxed);  // relaxed: ours while busy
    const std::uint32_t g = stamp(v.base);
    if (to_age > age) {
      if (to_age - age >= nbuckets_) {
        std::uint64_t seen = run_.raw();
        while (!run_.replace(g, seen, {})) {
        }
      } else {
        for (++age; age <= to_age; ++age) drop_oldest(v, age);
      }
      age_.store(to_age, std::memory_order_relaxed);  // relaxed: published by (4)
    }
    publish(v.word);
    return true;
  }

  // gobreaker's rollingCounts.subtract for the step to `age` (the bucket of age - n goes).
  void drop_oldest(const view& v, std::uint64_t age) {
    if (age < nbuckets_) return;  // the bucket leaving was never used: nothing to subtract
    const std::uint64_t oldest = v.base + age - nbuckets_;
    const std::uint32_t g = stamp(v.base);
    for (;;) {
      const detail::run_value own = bucket(oldest).run.read(stamp(oldest));
      std::uint32_t later_s = own.successes, later_f = own.failures;
      for (std::uint64_t e = oldest + 1; e < v.base + age; ++e) {
        later_s += bucket(e).successes.read(stamp(e));
        later_f += bucket(e).failures.read(stamp(e));
      }
      std::uint64_t seen = run_.raw();
      const detail::run_value r = detail::stamped_run::unpack_for(seen, g);
      detail::run_value next = r;
      if (r.successes == later_s) next.successes = r.successes > own.successes ? r.successes - own.successes : 0;
      if (r.failures == later_f) next.failures = r.failures > own.failures ? r.failures - own.failures : 0;
      if ((next.successes == r.successes && next.failures == r.failures) || run_.replace(g, seen, next)) return;
      // an outcome of a call admitted before the roll changed the run: look again
    }
  }

  breaker_counts snapshot(const view& v, detail::run_value run_after) const {
    breaker_counts c;
    const std::uint64_t lo = v.age + 1 >= nbuckets_ ? v.age + 1 - nbuckets_ : 0;
    for (std::uint64_t a = lo; a <= v.age; ++a) {
      const std::uint64_t e = v.base + a;
      const detail::breaker_bucket& b = bucket(e);
      c.requests += b.requests.read(stamp(e));
      c.total_successes += b.successes.read(stamp(e));
      c.total_failures += b.failures.read(stamp(e));
      c.total_exclusions += b.exclusions.read(stamp(e));
    }
    const bool given = run_after.successes + run_after.failures != 0;
    detail::run_value r = run_after;
    if (striped(v.mode())) {
      // The stripes are added up once, after the failure mark is read (F2).
      const std::uint32_t g = stamp(v.base);
      const detail::run_value marked = failure_run_.read(g, [&] {
        for (std::size_t i = 0; i < stripe_count; ++i) {
          c.requests += stripes_[i].requests.read(g);
          c.total_successes += stripes_[i].successes.read(g);
        }
        return c.total_successes;
      });
      if (!given) r = marked;
    } else if (!given) {
      r = aggregate_run().read(stamp(v.base));
    }
    c.consecutive_successes = r.successes;
    c.consecutive_failures = r.failures;
    return c;
  }

  // ---- outcomes ---------------------------------------------------------------------

  bool classify_excluded(const std::exception_ptr& e) const {
    return settings_.is_excluded ? settings_.is_excluded(e) : false;
  }
  bool classify_success(const std::exception_ptr& e) const {
    return settings_.is_successful ? settings_.is_successful(e) : e == nullptr;
  }

  void report(std::uint64_t gen, std::uint64_t age, ticks admitted, const std::exception_ptr* e, outcome known) {
    lazy_now now{this};
    const view v = current(now);
    if (v.gen() != gen) return;  // (G) an outcome of an older generation is dropped
    outcome o = known;
    if (e != nullptr) o = classify_excluded(*e) ? outcome::excluded : classify_success(*e) ? outcome::success : outcome::failure;
    const breaker_state mode = v.mode();
    if (mode == breaker_state::half_open && o == outcome::failure) {
      (void)begin_transition(v, breaker_state::open, now.get(), true);
      return;
    }
    if (mode != breaker_state::closed && mode != breaker_state::half_open && mode != breaker_state::metrics_only) return;
    // A call whose bucket has rolled out of the window is not counted, but its outcome
    // still decides, as gobreaker's does (a failure asks ready_to_trip).
    const bool in_window = age <= v.age && v.age - age < nbuckets_;
    const std::uint64_t e_age = v.base + age;
    detail::breaker_bucket& b = bucket(e_age);
    if (o == outcome::excluded) {
      if (in_window) (void)b.exclusions.add(stamp(e_age), 1);
      return;
    }
    const bool failure = o == outcome::failure;
    detail::run_value run{};
    bool trip = false;
    if (striped(mode)) {
      // One bucket, no rate window: a success writes its stripe and decides nothing; a
      // failure counts in the bucket, extends the failure run and asks ready_to_trip.
      const std::uint32_t g = stamp(v.base);
      if (!failure) {
        (void)own_stripe().successes.add(g, 1);
        return;
      }
      if (b.failures.add(g, 1) < 0) return;  // a newer epoch: late
      const std::uint32_t len = failure_run_.add_failure(g, [&] { return striped_successes(g); });
      if (len == 0) return;
      run = detail::run_value{0, len};
    } else if (in_window) {
      if ((failure ? b.failures : b.successes).add(stamp(e_age), 1) < 0) return;  // a newer epoch: late
      bool ok = true;
      if (rolling_) (void)b.run.add(stamp(e_age), failure, ok);
      run = aggregate_run().add(stamp(v.base), failure, ok);
      if (!ok) return;
      if (rated_ && mode != breaker_state::half_open) trip = record_rate(v, now, admitted, failure);
    } else {
      run = aggregate_run().read(stamp(v.base));
    }
    if (mode == breaker_state::half_open) {
      if (run.successes >= max_requests_) (void)begin_transition(v, breaker_state::closed, now.get(), true);
    } else if (mode == breaker_state::closed) {
      if (failure && !trip) {
        const breaker_counts c = snapshot(v, run);
        trip = settings_.ready_to_trip ? settings_.ready_to_trip(c) : c.consecutive_failures > 5;
      }
      if (trip) (void)begin_transition(v, breaker_state::open, now.get(), true);
    }
  }

  // Records a call in the rate window; true when a threshold is crossed.
  bool record_rate(const view& v, lazy_now& now, ticks admitted, bool failure) {
    std::uint64_t epoch;
    if (time_window_) {
      epoch = age_of(now.get(), v.start, second_);
    } else {
      const std::int64_t n = wcalls_.add(stamp(v.gen()), 1);
      if (n < 0) return false;
      epoch = static_cast<std::uint64_t>(n - 1);
    }
    // The epoch was taken before this load; if the word is unchanged, the next
    // transition's busy CAS comes later, and so does its reading of the epoch in use:
    // our epoch lies below the next generation's window base. seq_cst: the load must not
    // be satisfied before the epoch was taken.
    if (state_.load(std::memory_order_seq_cst) != v.word) return false;
    const bool slow = slow_calls_ && now.get() - admitted > slow_ticks_;
    const std::uint64_t e = v.wbase + epoch;
    detail::rate_bucket& w = window_[e % wsize_];
    (void)w.calls.add(stamp(e), 1);
    if (failure) (void)w.failures.add(stamp(e), 1);
    if (slow) (void)w.slow.add(stamp(e), 1);
    if (v.mode() != breaker_state::closed) return false;
    std::uint64_t calls = 0, failures = 0, slows = 0;
    const std::uint64_t lo = epoch + 1 >= wsize_ ? epoch + 1 - wsize_ : 0;
    for (std::uint64_t x = lo; x <= epoch; ++x) {
      const detail::rate_bucket& r = window_[(v.wbase + x) % wsize_];
      const std::uint32_t s = stamp(v.wbase + x);
      calls += r.calls.read(s);
      failures += r.failures.read(s);
      slows += r.slow.read(s);
    }
    if (calls < wmin_) return false;
    const double fr = 100.0 * static_cast<double>(failures) / static_cast<double>(calls);
    const double sr = 100.0 * static_cast<double>(slows) / static_cast<double>(calls);
    return (settings_.failure_rate_threshold > 0 && fr >= settings_.failure_rate_threshold) ||
           (settings_.slow_call_rate_threshold > 0 && sr >= settings_.slow_call_rate_threshold);
  }

  // A dropped token: an exclusion, with no user code run (destructors must not throw).
  void report_dropped(std::uint64_t gen, std::uint64_t age) noexcept {
    const view v = read_view();
    if (v.gen() != gen || age > v.age || v.age - age >= nbuckets_) return;
    const breaker_state m = v.mode();
    if (m != breaker_state::closed && m != breaker_state::half_open && m != breaker_state::metrics_only) return;
    (void)bucket(v.base + age).exclusions.add(stamp(v.base + age), 1);
  }

  // ---- members ----------------------------------------------------------------------

  breaker_settings settings_;
  std::uint32_t max_requests_ = 1;
  ticks interval_ = 0;       // > 0: a window (fixed, or rolling over nbuckets_)
  ticks bucket_period_ = 0;  // rolling only
  ticks timeout_ = 0;
  std::uint32_t nbuckets_ = 1;
  bool rolling_ = false;
  bool fixed_window_ = false;
  bool rated_ = false;
  bool slow_calls_ = false;
  bool time_window_ = false;
  std::uint32_t wsize_ = 0;
  std::uint32_t wmin_ = 0;
  ticks slow_ticks_ = 0;
  ticks second_ = 0;
  std::unique_ptr<detail::breaker_bucket[]> buckets_;
  std::unique_ptr<detail::rate_bucket[]> window_;
  std::unique_ptr<detail::breaker_stripe[]> stripes_;  // one bucket and no rate window only

  // Read by every call, written only by transitions: one line, shared by all readers.
  alignas(cache_line) lf::atomic<std::uint64_t> state_{static_cast<std::uint64_t>(breaker_state::closed) |
                                                        (std::uint64_t{1} << gen_shift)};
  lf::atomic<ticks> start_{0};
  lf::atomic<std::uint64_t> base_{0};
  lf::atomic<std::uint64_t> wbase_{0};
  lf::atomic<std::uint64_t> age_{0};
  // The aggregate run of a rolling window (aggregate_run()), on a line of its own.
  alignas(cache_line) mutable detail::stamped_run run_;
  detail::stamped_count wcalls_;  // count-based window: calls taken in this generation
  // The consecutive counts of a striped generation, on a line of its own.
  alignas(cache_line) mutable detail::stamped_failure_run failure_run_;
};

template <class Clock>
class basic_circuit_breaker<Clock>::token {
 public:
  token() noexcept = default;
  token(token&& o) noexcept { *this = std::move(o); }
  token& operator=(token&& o) noexcept {
    if (this != &o) {
      finish_dropped();
      b_ = std::exchange(o.b_, nullptr);
      gen_ = o.gen_;
      age_ = o.age_;
      admitted_ = o.admitted_;
      error_ = o.error_;
      state_ = o.state_;
    }
    return *this;
  }
  ~token() { finish_dropped(); }

  bool ok() const noexcept { return error_ == breaker_error::none; }
  explicit operator bool() const noexcept { return ok(); }
  breaker_error error() const noexcept { return error_; }
  // The state that admitted the call (or refused it).
  breaker_state state() const noexcept { return state_; }
  std::uint64_t generation() const noexcept { return gen_; }

  // Reports the outcome: a success or a failure. Later calls do nothing.
  void done(bool success) {
    if (auto* b = std::exchange(b_, nullptr)) b->report(gen_, age_, admitted_, nullptr, success ? outcome::success : outcome::failure);
  }
  // Reports what the call threw (nullptr: it returned), judged by is_excluded and
  // is_successful. Later calls do nothing.
  void done(std::exception_ptr e) {
    if (auto* b = std::exchange(b_, nullptr)) b->report(gen_, age_, admitted_, &e, outcome::success);
  }

 private:
  friend class basic_circuit_breaker;
  token(basic_circuit_breaker* b, std::uint64_t gen, std::uint64_t age, ticks admitted, breaker_error error,
        breaker_state s) noexcept
      : b_(b), gen_(gen), age_(age), admitted_(admitted), error_(error), state_(s) {}

  void finish_dropped() noexcept {
    if (auto* b = std::exchange(b_, nullptr)) b->report_dropped(gen_, age_);
  }

  basic_circuit_breaker* b_ = nullptr;  // set while an outcome is owed
  std::uint64_t gen_ = 0;
  std::uint64_t age_ = 0;
  ticks admitted_ = 0;
  breaker_error error_ = breaker_error::none;
  breaker_state state_ = breaker_state::closed;
};

template <class Clock>
auto basic_circuit_breaker<Clock>::allow() -> token {
  for (;;) {
    lazy_now now{this};
    const view v = current(now);
    const breaker_state mode = v.mode();
    switch (mode) {
      case breaker_state::open:
      case breaker_state::forced_open:
        return token(nullptr, v.gen(), v.age, 0, breaker_error::open, mode);
      case breaker_state::disabled:
        return token(nullptr, v.gen(), v.age, 0, breaker_error::none, mode);
      case breaker_state::half_open: {
        const std::uint64_t e = v.base + v.age;
        detail::breaker_bucket& b = bucket(e);
        const std::uint32_t max = max_requests_;
        // gobreaker's validRequests (requests - exclusions) < max_requests, checked and
        // incremented in one CAS. Exclusions only grow, so an exclusion read before the
        // CAS can only make the check stricter: never one admission too many.
        const std::int64_t n = b.requests.add_one_if(stamp(e), [&](std::uint32_t requests) {
          const std::uint32_t excluded = b.exclusions.read(stamp(e));
          return (requests < excluded ? 0 : requests - excluded) < max;
        });
        if (n == -2) return token(nullptr, v.gen(), v.age, 0, breaker_error::too_many_requests, mode);
        if (n == -1) continue;  // the generation ended under us
        return token(this, v.gen(), v.age, slow_calls_ ? now.get() : 0, breaker_error::none, mode);
      }
      default: {  // closed, metrics_only
        const std::uint64_t e = v.base + v.age;
        detail::stamped_count& requests = stripes_ != nullptr ? own_stripe().requests : bucket(e).requests;
        if (requests.add(stamp(e), 1) < 0) continue;  // a roll or a new generation raced us
        return token(this, v.gen(), v.age, slow_calls_ ? now.get() : 0, breaker_error::none, mode);
      }
    }
  }
}

using circuit_breaker = basic_circuit_breaker<>;

}  // namespace lf
