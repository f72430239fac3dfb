// Circuit breakers: lf::circuit_breaker against gobreaker's design (bench/breaker_peers.hpp:
// one mutex taken twice per call, the clock read under it each time).
//
// Workloads (one full run per repetition: a fresh breaker, manual time; the breakers
// stay closed throughout; the smoke runs 1/1000 of the calls, workloads.hpp's count()):
//   breaker_execute_1thread    one thread calls execute() on an empty function 2*10^6 times.
//   breaker_execute_2threads   two threads (pinned to two CPUs) call it 10^6 times each
//                              on one breaker.
//     Both with gobreaker's default settings (interval 0: counts never cleared). The
//     gobreaker design reads the clock under its lock twice per call whatever the
//     settings (gobreaker does); lf reads it only when a time rule needs it, so here never.
//   breaker_execute_interval_1thread, breaker_execute_interval_2threads   the same with
//     interval = 60 s: now both read the clock twice per call (lf must, to drop an
//     outcome whose interval has ended), and the difference is the lock alone.
// What each run checks before it reports: the breaker counted exactly the calls made,
// all as successes (requests = successes = calls). calls_per_second.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "breaker_peers.hpp"
#include "patterns/circuit_breaker.hpp"
#include "workloads.hpp"

namespace lf_bench {
namespace {

constexpr std::uint64_t breaker_calls = 2'000'000;
constexpr std::chrono::seconds breaker_interval{60};

template <bool Interval>
struct lf_breaker {
  static constexpr const char* name = "lf::circuit_breaker";
  lf::circuit_breaker b;
  lf_breaker() : b(settings()) {}
  static lf::breaker_settings settings() {
    lf::breaker_settings s;
    if (Interval) s.interval = breaker_interval;
    return s;
  }
  template <class F>
  void execute(F&& f) {
    b.execute(std::forward<F>(f));
  }
  std::uint64_t requests() const { return b.counts().requests; }
  std::uint64_t successes() const { return b.counts().total_successes; }
};

template <bool Interval>
struct mutex_breaker {
  static constexpr const char* name = gobreaker_mutex::name;
  gobreaker_mutex b{Interval ? std::chrono::nanoseconds(breaker_interval) : std::chrono::nanoseconds(0)};
  template <class F>
  void execute(F&& f) {
    b.execute(std::forward<F>(f));
  }
  std::uint64_t requests() { return b.counts().requests; }
  std::uint64_t successes() { return b.counts().successes; }
};

// `calls` is a multiple of Threads (count()'s unit): each thread makes calls / Threads.
template <class B, unsigned Threads>
void execute_closed(benchmark::State& state, std::uint64_t calls) {
  for (auto _ : state) {
    auto br = std::make_unique<B>();
    std::vector<std::function<void()>> roles;
    for (unsigned t = 0; t < Threads; ++t) {
      roles.emplace_back([&br, calls] {
        for (std::uint64_t i = 0; i < calls / Threads; ++i) br->execute([] {});
      });
    }
    const double seconds = run_together(roles);
    const std::uint64_t req = br->requests(), ok = br->successes();
    if (req != calls || ok != calls) {
      state.SkipWithError(("counted " + std::to_string(req) + " requests, " + std::to_string(ok) + " successes of " +
                           std::to_string(calls) + " calls")
                              .c_str());
      break;
    }
    state.SetIterationTime(seconds);
    state.counters["calls_per_second"] = static_cast<double>(calls) / seconds;
  }
}

template <template <bool> class... B>
void add_breaker_benchmarks() {
  const std::uint64_t calls = count(breaker_calls, 2);  // even: the 2-thread runs split it
  (add<B<false>>("breaker_execute_1thread", execute_closed<B<false>, 1>, calls), ...);
  (add<B<false>>("breaker_execute_2threads", execute_closed<B<false>, 2>, calls), ...);
  (add<B<true>>("breaker_execute_interval_1thread", execute_closed<B<true>, 1>, calls), ...);
  (add<B<true>>("breaker_execute_interval_2threads", execute_closed<B<true>, 2>, calls), ...);
  add_calibration();
  describe_build(LF_BENCH_BUILD_FLAGS);
}

}  // namespace
}  // namespace lf_bench

int main(int argc, char** argv) {
  lf_bench::add_breaker_benchmarks<lf_bench::lf_breaker, lf_bench::mutex_breaker>();
  return lf_bench::run_benchmarks(argc, argv);
}
