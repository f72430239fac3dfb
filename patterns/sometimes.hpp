// lf::sometimes — Go's golang.org/x/time/rate.Sometimes: run an action occasionally
// (log spam control), decided by one CAS instead of a mutex held around the action.
//
//   lf::sometimes s(/*first=*/3, /*every=*/0, /*interval=*/std::chrono::seconds(10));
//   s.run([] { log("here I am"); });   // the first 3 calls, then at most once per 10 s
//
// The filters are a union, as in Go: a call runs f if it is the first call, or one of
// the first `first`, or its 0-based index is a multiple of `every`, or `interval` has
// passed since f last ran (time measured at the decision). A zero-configured sometimes
// runs f exactly once.
// Where lf differs from Go, and why: Go holds a mutex while f runs, so concurrent calls
// run one at a time and an f that calls Do deadlocks. lf decides with one CAS on
// {calls, last run} (lf::atomic_wide) and runs f outside it: calls never block, f may run
// on two threads at once, and an f that calls run() again is fine. `last` is the time of
// the decision, not of f's return (Go stamps it after f). Which calls run is still
// exactly Go's: the CAS orders the calls, and each decision is Go's on its call index.
//
// Progress: lock-free (the CAS retries only when another call got in first).
#pragma once

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "sync/atomic.hpp"

namespace lf {

class sometimes {
 public:
  using clock = std::chrono::steady_clock;

  // Go's zero Sometimes: runs f once.
  sometimes() = default;
  // first: if > 0, the first `first` calls run f. every: if > 0, every `every`-th call,
  // from the first, runs f. interval: if > 0, a call at least `interval` after f last
  // ran runs f. A negative first or every throws std::invalid_argument naming it.
  sometimes(std::int64_t first, std::int64_t every, clock::duration interval)
      : first_(first), every_(every), interval_ns_(std::chrono::duration_cast<std::chrono::nanoseconds>(interval).count()) {
    if (first < 0) throw std::invalid_argument("lf::sometimes: first = " + std::to_string(first) + " (must be >= 0)");
    if (every < 0) throw std::invalid_argument("lf::sometimes: every = " + std::to_string(every) + " (must be >= 0)");
  }
  sometimes(const sometimes&) = delete;
  sometimes& operator=(const sometimes&) = delete;

  // Runs f if the filters allow this call (Go's Do); true if it ran.
  template <class F>
  bool run(F&& f) {
    return run_at(clock::now(), static_cast<F&&>(f));
  }
  // The same at time t (a fake clock in tests).
  template <class F>
  bool run_at(clock::time_point t, F&& f) {
    if (!decide(t)) return false;
    static_cast<F&&>(f)();
    return true;
  }

  // How many calls have been decided so far.
  std::uint64_t calls() const noexcept { return state_.load(std::memory_order_relaxed).calls; }  // relaxed: a count

 private:
  struct state {
    std::uint64_t calls;
    std::int64_t last;  // ns since the clock's epoch of the last run (valid once calls > 0)
    friend bool operator==(const state&, const state&) = default;
    template <class Stream>  // the model checker prints the values it traces
    friend Stream& operator<<(Stream& os, const state& s) {
      return os << s.calls << '@' << s.last;
    }
  };

  bool decide(clock::time_point tp) noexcept {
    const std::int64_t t = std::chrono::duration_cast<std::chrono::nanoseconds>(tp.time_since_epoch()).count();
    const std::int64_t iv = interval_ns_;
    // relaxed: the calls' order is the CAS's; f's effects are f's to publish.
    state s = state_.load(std::memory_order_relaxed);
    for (;;) {
      const std::uint64_t c = s.calls;
      std::int64_t since;
      const bool overflow = __builtin_sub_overflow(t, s.last, &since);
      const bool go = c == 0 || (first_ > 0 && c < static_cast<std::uint64_t>(first_)) ||
                      (every_ > 0 && c % static_cast<std::uint64_t>(every_) == 0) ||
                      (iv > 0 && (overflow ? t > s.last : since >= iv));
      if (state_.compare_exchange_weak(s, state{c + 1, go ? t : s.last}, std::memory_order_relaxed,
                                       std::memory_order_relaxed)) {
        return go;
      }
    }
  }

  std::int64_t first_ = 0;
  std::int64_t every_ = 0;
  std::int64_t interval_ns_ = 0;
  lf::atomic_wide<state> state_{state{0, 0}};
};

}  // namespace lf
