// Test support: a clock the test moves by hand, for the patterns that take a Clock type
// (lf::basic_circuit_breaker). Each Tag is an independent clock; tests advance it with
// set/advance and no test sleeps.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace lf::test {

template <class Tag = void>
struct fake_clock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<fake_clock, duration>;
  static constexpr bool is_steady = true;

  static time_point now() noexcept { return time_point(duration(ns.load(std::memory_order_relaxed))); }
  static void set(duration d) noexcept { ns.store(d.count(), std::memory_order_relaxed); }
  static void advance(duration d) noexcept { ns.fetch_add(d.count(), std::memory_order_relaxed); }

  static inline std::atomic<std::int64_t> ns{0};
};

}  // namespace lf::test
