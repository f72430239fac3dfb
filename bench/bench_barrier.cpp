// Barriers: lf::barrier under each of its four policies against std::barrier
// (libstdc++), pthread_barrier_t (glibc) and boost::barrier (Boost.Thread), in one run.
//
// Workload (one full run per repetition: a fresh barrier, both threads started and
// pinned before the clock; manual time):
//   barrier_episode_2t   two threads pass 100,000 phases of one barrier of 2 parties
//       (arrive_and_wait / wait). ns_per_phase = run time / phases, the episode time of
//       Mellor-Crummey & Scott 1991 (papers/mellor-crummey-1991-barriers.md). Every
//       barrier counts its phases (the completion function where the barrier has one;
//       pthread's PTHREAD_BARRIER_SERIAL_THREAD and boost's `true` return, which mark
//       one thread per phase, where it has not); the run checks the count before it
//       reports a figure.
// On a machine with more CPUs (the device), LF_BENCH_SCALING=1 adds barrier_episode_<n>t
// for n = 4, 8, 16 up to the CPUs: the 1991 paper's figure (dissemination and tree ahead
// of the centralized barrier at 16 threads, or not).
#include <benchmark/benchmark.h>
#include <pthread.h>

#include <barrier>
#include <boost/thread/barrier.hpp>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "patterns/barrier.hpp"
#include "workloads.hpp"

namespace lf_bench {
namespace {

constexpr std::uint64_t full_phases = 100'000;  // the smoke runs count(full_phases)

// A completion that counts phases; the barrier orders it, so a plain counter suffices.
struct count_phases {
  std::uint64_t* n;
  void operator()() const noexcept { ++*n; }
};

template <class Policy>
struct lf_barrier {
  static const char* const name;
  std::uint64_t count = 0;
  lf::barrier<count_phases, Policy> b;
  explicit lf_barrier(int parties) : b(parties, count_phases{&count}) {}
  void pass() { b.arrive_and_wait(); }
  std::uint64_t phases_seen() const { return count; }
};
template <>
const char* const lf_barrier<lf::barrier_policy::central>::name = "lf::barrier<central>";
template <>
const char* const lf_barrier<lf::barrier_policy::dissemination>::name = "lf::barrier<dissemination>";
template <>
const char* const lf_barrier<lf::barrier_policy::tournament>::name = "lf::barrier<tournament>";
template <>
const char* const lf_barrier<lf::barrier_policy::tree>::name = "lf::barrier<tree>";

struct std_barrier {
  static constexpr const char* name = "std::barrier";
  std::uint64_t count = 0;
  std::barrier<count_phases> b;
  explicit std_barrier(int parties) : b(parties, count_phases{&count}) {}
  void pass() { b.arrive_and_wait(); }
  std::uint64_t phases_seen() const { return count; }
};

struct pthread_barrier {
  static constexpr const char* name = "pthread_barrier_t";
  pthread_barrier_t b;
  lf::padded<lf::atomic<std::uint64_t>> count{};
  explicit pthread_barrier(int parties) {
    if (pthread_barrier_init(&b, nullptr, static_cast<unsigned>(parties)) != 0) std::abort();
  }
  ~pthread_barrier() { pthread_barrier_destroy(&b); }
  void pass() {
    if (pthread_barrier_wait(&b) == PTHREAD_BARRIER_SERIAL_THREAD) count.value.fetch_add(1, std::memory_order_relaxed);
  }
  std::uint64_t phases_seen() const { return count.value.load(); }
};

struct boost_barrier {
  static constexpr const char* name = "boost::barrier";
  boost::barrier b;
  lf::padded<lf::atomic<std::uint64_t>> count{};
  explicit boost_barrier(int parties) : b(static_cast<unsigned>(parties)) {}
  void pass() {
    if (b.wait()) count.value.fetch_add(1, std::memory_order_relaxed);
  }
  std::uint64_t phases_seen() const { return count.value.load(); }
};

template <class B>
void episode(benchmark::State& state, std::uint64_t phases) {
  const auto threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    B b(threads);
    std::vector<std::function<void()>> roles(static_cast<std::size_t>(threads), [&b, phases] {
      for (std::uint64_t i = 0; i < phases; ++i) b.pass();
    });
    const double seconds = run_together(roles);
    if (b.phases_seen() != phases) {
      state.SkipWithError(("counted " + std::to_string(b.phases_seen()) + " phases of " + std::to_string(phases)).c_str());
      return;
    }
    state.SetIterationTime(seconds);
    state.counters["ns_per_phase"] = seconds * 1e9 / static_cast<double>(phases);
  }
}

template <class B>
void add_episode(unsigned threads) {
  const std::string workload = "barrier_episode_" + std::to_string(threads) + "t";
  benchmark::RegisterBenchmark((workload + "/" + B::name).c_str(),
                               [n = count(full_phases)](benchmark::State& state) { episode<B>(state, n); })
      ->Arg(threads)
      ->Iterations(1)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
}

template <class... B>
void add_barrier_benchmarks() {
  (add_episode<B>(2), ...);
  if (const char* s = std::getenv("LF_BENCH_SCALING"); s != nullptr && std::string(s) != "0") {
    for (unsigned n : {4u, 8u, 16u}) {
      if (n <= allowed_cpus().size()) (add_episode<B>(n), ...);
    }
  }
  add_calibration();
  describe_build(LF_BENCH_BUILD_FLAGS);
}

}  // namespace
}  // namespace lf_bench

int main(int argc, char** argv) {
  using namespace lf_bench;
  add_barrier_benchmarks<lf_barrier<lf::barrier_policy::central>, lf_barrier<lf::barrier_policy::dissemination>,
                         lf_barrier<lf::barrier_policy::tournament>, lf_barrier<lf::barrier_policy::tree>,
                         std_barrier, pthread_barrier, boost_barrier>();
  return run_benchmarks(argc, argv);
}
