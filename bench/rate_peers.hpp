// lf benchmarks — the rate limiter's C++ peer: a token bucket guarded by one mutex,
// written the way golang.org/x/time/rate 0.3.0 is (its fields, its advance/reserveN,
// the lock taken once per Allow/Reserve/Cancel and twice per Wait), so bench_rate
// compares lf's one-CAS GCRA word with that design compiled by the same compiler. Go's
// own x/time/rate runs beside it in bench/go.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <mutex>
#include <thread>

#include "patterns/context.hpp"

namespace lf_bench {

class mutex_token_bucket {
 public:
  using clock = std::chrono::steady_clock;
  static constexpr const char* name = "peer::mutex_token_bucket";
  static constexpr std::int64_t inf_duration = std::numeric_limits<std::int64_t>::max();

  struct reservation {
    mutex_token_bucket* lim = nullptr;
    bool ok = false;
    std::int64_t tokens = 0;
    clock::time_point time_to_act{};
    double limit = 0;

    void cancel_at(clock::time_point t) {
      if (!ok) return;
      std::lock_guard<std::mutex> g(lim->mu_);
      if (lim->limit_ == inf || tokens == 0 || time_to_act < t) return;
      const double restore = static_cast<double>(tokens) - tokens_from(limit, lim->last_event_ - time_to_act);
      if (restore <= 0) return;
      auto [now, have] = lim->advance(t);
      have += restore;
      if (have > static_cast<double>(lim->burst_)) have = static_cast<double>(lim->burst_);
      lim->last_ = now;
      lim->tokens_ = have;
      if (time_to_act == lim->last_event_) {
        const auto prev = time_to_act + std::chrono::nanoseconds(duration_from(limit, -static_cast<double>(tokens)));
        if (!(prev < now)) lim->last_event_ = prev;
      }
    }
    void cancel() { cancel_at(clock::now()); }
  };

  mutex_token_bucket(double limit, std::int64_t burst) : limit_(limit), burst_(burst) {}

  bool allow() { return reserve_n(clock::now(), 1, 0).ok; }
  reservation reserve() { return reserve_at(clock::now()); }
  reservation reserve_at(clock::time_point t) { return reserve_n(t, 1, inf_duration); }

  // x/time/rate's WaitN on a limit never reached: a lock to read burst and limit, the
  // context's checks, a reservation, and a sleep only if it is due later.
  bool wait(const lf::context& ctx) {
    std::int64_t burst;
    double limit;
    {
      std::lock_guard<std::mutex> g(mu_);
      burst = burst_;
      limit = limit_;
    }
    if (1 > burst && limit != inf) return false;
    if (ctx.done()) return false;
    const auto t = clock::now();
    std::int64_t wait_limit = inf_duration;
    if (const auto d = ctx.deadline()) wait_limit = std::chrono::nanoseconds(*d - t).count();
    const reservation r = reserve_n(t, 1, wait_limit);
    if (!r.ok) return false;
    if (r.time_to_act > t) std::this_thread::sleep_until(r.time_to_act);
    return true;
  }

 private:
  static constexpr double inf = std::numeric_limits<double>::max();  // Go's Inf

  static std::int64_t duration_from(double limit, double tokens) {
    if (limit <= 0) return inf_duration;
    return static_cast<std::int64_t>(1e9 * (tokens / limit));
  }
  static double tokens_from(double limit, clock::duration d) {
    if (limit <= 0) return 0;
    return std::chrono::duration<double>(d).count() * limit;
  }

  std::pair<clock::time_point, double> advance(clock::time_point t) const {
    auto last = last_;
    if (t < last) last = t;
    double tokens = tokens_ + tokens_from(limit_, t - last);
    if (tokens > static_cast<double>(burst_)) tokens = static_cast<double>(burst_);
    return {t, tokens};
  }

  reservation reserve_n(clock::time_point t, std::int64_t n, std::int64_t max_future) {
    std::lock_guard<std::mutex> g(mu_);
    if (limit_ == inf) return reservation{this, true, n, t, 0};
    auto [now, tokens] = advance(t);
    tokens -= static_cast<double>(n);
    std::int64_t wait = 0;
    if (tokens < 0) wait = duration_from(limit_, -tokens);
    const bool ok = n <= burst_ && wait <= max_future;
    reservation r{this, ok, 0, {}, limit_};
    if (ok) {
      r.tokens = n;
      r.time_to_act = now + std::chrono::nanoseconds(wait);
      last_ = now;
      tokens_ = tokens;
      last_event_ = r.time_to_act;
    }
    return r;
  }

  std::mutex mu_;
  double limit_;
  std::int64_t burst_;
  double tokens_ = 0;
  clock::time_point last_{};        // zero time: the first advance fills the bucket
  clock::time_point last_event_{};
};

}  // namespace lf_bench
