// The circuit breaker's peer in bench_breaker: gobreaker's design in C++ — one mutex
// guards the state, the generation and the counts, and every call takes it twice
// (beforeRequest and afterRequest), reading the clock under it each time, as gobreaker's
// CircuitBreaker.Execute does. Only what the benchmark drives is here (fixed-window
// closed state, open, half-open, consecutive-failure trip); it counts like gobreaker so
// that the benchmark can check its counts after the run.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <stdexcept>

namespace lf_bench {

class gobreaker_mutex {
 public:
  static constexpr const char* name = "gobreaker-design::mutex";

  struct counts_t {
    std::uint32_t requests = 0, successes = 0, failures = 0, run_s = 0, run_f = 0;
  };

  explicit gobreaker_mutex(std::chrono::nanoseconds interval, std::uint32_t max_requests = 1,
                           std::chrono::nanoseconds timeout = std::chrono::seconds(60))
      : interval_(interval), timeout_(timeout), max_(max_requests) {
    new_generation(clock::now());
  }

  template <class F>
  void execute(F&& f) {
    const std::uint64_t gen = before();
    try {
      f();
    } catch (...) {
      after(gen, false);
      throw;
    }
    after(gen, true);
  }

  counts_t counts() {
    std::lock_guard<std::mutex> lock(m_);
    return counts_;
  }

 private:
  using clock = std::chrono::steady_clock;
  enum class state { closed, half_open, open };

  std::uint64_t before() {
    std::lock_guard<std::mutex> lock(m_);
    const clock::time_point now = clock::now();
    current(now);
    if (state_ == state::open) throw std::runtime_error("open");
    if (state_ == state::half_open && counts_.requests >= max_) throw std::runtime_error("too many requests");
    ++counts_.requests;
    return gen_;
  }

  void after(std::uint64_t gen, bool success) {
    std::lock_guard<std::mutex> lock(m_);
    const clock::time_point now = clock::now();
    current(now);
    if (gen != gen_) return;
    if (success) {
      ++counts_.successes, ++counts_.run_s, counts_.run_f = 0;
      if (state_ == state::half_open && counts_.run_s >= max_) set(state::closed, now);
    } else if (state_ == state::closed) {
      ++counts_.failures, ++counts_.run_f, counts_.run_s = 0;
      if (counts_.run_f > 5) set(state::open, now);
    } else if (state_ == state::half_open) {
      set(state::open, now);
    }
  }

  void current(clock::time_point now) {
    if (state_ == state::closed && has_expiry_ && expiry_ < now) new_generation(now);
    if (state_ == state::open && expiry_ < now) set(state::half_open, now);
  }

  void set(state s, clock::time_point now) {
    if (state_ == s) return;
    state_ = s;
    new_generation(now);
  }

  void new_generation(clock::time_point now) {
    ++gen_;
    counts_ = {};
    has_expiry_ = state_ == state::open || (state_ == state::closed && interval_.count() > 0);
    expiry_ = now + (state_ == state::open ? timeout_ : interval_);
  }

  std::mutex m_;
  const std::chrono::nanoseconds interval_, timeout_;
  const std::uint32_t max_;
  state state_ = state::closed;
  std::uint64_t gen_ = 0;
  counts_t counts_;
  bool has_expiry_ = false;
  clock::time_point expiry_;
};

}  // namespace lf_bench
