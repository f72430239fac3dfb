// Semaphores: lf::weighted_semaphore (patterns/semaphore.hpp) against
// std::counting_semaphore (libstdc++) here, and Go's golang.org/x/sync/semaphore.Weighted
// in bench/go (same workloads, same counts, same report).
//
// Workloads (one full run per repetition; manual time; the smoke runs 1/1000 of each
// count, workloads.hpp's count()):
//   semaphore_uncontended   one thread, 10^7 acquire(1) + release(1) pairs on a semaphore
//       of 1: the fast paths (lf: one CAS each). ns_per_pair. Checks that the semaphore
//       ends with its token free.
//   semaphore_contended_2t  two threads pinned to two CPUs, 10^6 pairs in all, the
//       semaphore of 1 used as a lock around a plain counter: every acquire may have to
//       wait for the other thread's release. ns_per_pair = run time / pairs. Checks the
//       counter (a lost or doubled token shows as a wrong count, or as a race under TSan).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <functional>
#include <semaphore>
#include <string>
#include <vector>

#include "patterns/semaphore.hpp"
#include "workloads.hpp"

namespace lf_bench {
namespace {

constexpr std::uint64_t uncontended_pairs = 10'000'000;
constexpr std::uint64_t contended_pairs = 1'000'000;

struct lf_sem {
  static constexpr const char* name = "lf::weighted_semaphore";
  lf::weighted_semaphore s{1};
  void acquire() { s.acquire(1); }
  void release() { s.release(1); }
  bool all_free() { return s.available_approx() == 1; }
};

struct std_sem {
  static constexpr const char* name = "std::counting_semaphore";
  std::counting_semaphore<> s{1};
  void acquire() { s.acquire(); }
  void release() { s.release(); }
  bool all_free() {
    if (!s.try_acquire()) return false;
    s.release();
    return true;
  }
};

template <class S>
void uncontended(benchmark::State& state, std::uint64_t pairs) {
  for (auto _ : state) {
    S s;
    const auto start = clock::now();
    for (std::uint64_t i = 0; i < pairs; ++i) {
      s.acquire();
      s.release();
    }
    const double seconds = std::chrono::duration<double>(clock::now() - start).count();
    if (!s.all_free()) {
      state.SkipWithError("the token is not free at the end");
      return;
    }
    state.SetIterationTime(seconds);
    state.counters["ns_per_pair"] = seconds * 1e9 / static_cast<double>(pairs);
  }
}

// `pairs` is even (count()'s unit 2): each of the two threads makes half of them.
template <class S>
void contended(benchmark::State& state, std::uint64_t pairs) {
  for (auto _ : state) {
    S s;
    std::uint64_t guarded = 0;  // plain: the semaphore of 1 is the lock
    auto role = [&] {
      for (std::uint64_t i = 0; i < pairs / 2; ++i) {
        s.acquire();
        ++guarded;
        s.release();
      }
    };
    const double seconds = run_together({role, role});
    if (guarded != pairs || !s.all_free()) {
      state.SkipWithError(("guarded count " + std::to_string(guarded) + " of " + std::to_string(pairs)).c_str());
      return;
    }
    state.SetIterationTime(seconds);
    state.counters["ns_per_pair"] = seconds * 1e9 / static_cast<double>(pairs);
  }
}

template <class... S>
void add_semaphore_benchmarks() {
  (add<S>("semaphore_uncontended", uncontended<S>, count(uncontended_pairs)), ...);
  (add<S>("semaphore_contended_2t", contended<S>, count(contended_pairs, 2)), ...);
  add_calibration();
  benchmark::AddCustomContext("build flags", LF_BENCH_BUILD_FLAGS);
}

}  // namespace
}  // namespace lf_bench

int main(int argc, char** argv) {
  lf_bench::add_semaphore_benchmarks<lf_bench::lf_sem, lf_bench::std_sem>();
  return lf_bench::run_benchmarks(argc, argv);
}
