// Coroutine tasks (patterns/task.hpp) on lf::worker_pool against oneTBB's task_group in
// a task_arena of the same thread count (as many workers as this process has CPUs).
//
// Workloads (one full run per repetition: a fresh pool, its threads started before the
// clock; manual time; what each run checks before it reports a figure):
//   coro_spawn_join  10^6 tasks started from one task on the pool, then joined. lf: a
//       coroutine go()es 10^6 one-line coroutines, keeping their join_handles, then
//       co_awaits each (the awaiting coroutine suspends instead of blocking a worker).
//       TBB: task_group::run 10^6 times from a task in the arena, then wait() (it helps).
//       Each task stores 1 into its own byte; the run checks every byte. tasks_per_second.
//   coro_fib_join    fib(25) as fork-join. lf: co_await lf::when_all(fib(n-1), fib(n-2))
//       (two child fibers; the first runs at once on this worker, the second is stolen
//       or run after). TBB: task_group::run(fib(n-1)), fib(n-2) inline, wait(). Checks
//       75025; ms_per_fib25.
#include <benchmark/benchmark.h>

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "patterns/task.hpp"
#include "workloads.hpp"

namespace lf_bench {
namespace {

constexpr std::size_t spawn_tasks = 1'000'000;
constexpr int fib_n = 25;
constexpr std::uint64_t fib_expected = 75025;

unsigned pool_threads() { return static_cast<unsigned>(allowed_cpus().size()); }
double seconds_since(clock::time_point start) { return std::chrono::duration<double>(clock::now() - start).count(); }

struct lf_tasks {
  static constexpr const char* name = "lf::task";
  explicit lf_tasks(unsigned n) : pool(static_cast<std::ptrdiff_t>(n)) {}
  lf::worker_pool pool;
};

struct tbb_tasks {
  static constexpr const char* name = "tbb::task_group";
  explicit tbb_tasks(unsigned n) : arena(static_cast<int>(n), 0) { arena.initialize(); }
  tbb::task_arena arena;
};

lf::task<void> mark(unsigned char* byte) {
  *byte = 1;
  co_return;
}

lf::task<void> spawn_all(lf::worker_pool& pool, unsigned char* bytes) {
  std::vector<lf::join_handle<void>> handles;
  handles.reserve(spawn_tasks);
  for (std::size_t i = 0; i < spawn_tasks; ++i) handles.push_back(lf::spawn(pool, mark(bytes + i)));
  for (auto& h : handles) co_await std::move(h);
}

lf::task<std::uint64_t> fib_lf(int n) {
  if (n < 2) co_return static_cast<std::uint64_t>(n);
  auto [a, b] = co_await lf::when_all(fib_lf(n - 1), fib_lf(n - 2));
  co_return a + b;
}

std::uint64_t fib_tbb(int n) {
  if (n < 2) return static_cast<std::uint64_t>(n);
  std::uint64_t left = 0;
  tbb::task_group g;
  g.run([&] { left = fib_tbb(n - 1); });
  const std::uint64_t right = fib_tbb(n - 2);
  g.wait();
  return left + right;
}

template <class P>
void spawn_join(benchmark::State& state) {
  std::vector<unsigned char> bytes(spawn_tasks);
  for (auto _ : state) {
    std::fill(bytes.begin(), bytes.end(), 0);
    auto p = std::make_unique<P>(pool_threads());
    const clock::time_point start = clock::now();
    if constexpr (std::is_same_v<P, lf_tasks>) {
      lf::spawn(p->pool, spawn_all(p->pool, bytes.data())).get();
    } else {
      p->arena.execute([&] {
        tbb::task_group g;
        for (std::size_t i = 0; i < spawn_tasks; ++i) g.run([b = bytes.data() + i] { *b = 1; });
        g.wait();
      });
    }
    const double seconds = seconds_since(start);
    p.reset();
    std::size_t missing = 0;
    for (unsigned char b : bytes) missing += b != 1;
    if (missing != 0) {
      state.SkipWithError((std::to_string(missing) + " tasks did not run").c_str());
      break;
    }
    state.SetIterationTime(seconds);
    state.counters["tasks_per_second"] = static_cast<double>(spawn_tasks) / seconds;
  }
}

template <class P>
void fib_join(benchmark::State& state) {
  for (auto _ : state) {
    auto p = std::make_unique<P>(pool_threads());
    std::uint64_t result = 0;
    const clock::time_point start = clock::now();
    if constexpr (std::is_same_v<P, lf_tasks>) {
      result = lf::spawn(p->pool, fib_lf(fib_n)).get();
    } else {
      result = p->arena.execute([] { return fib_tbb(fib_n); });
    }
    const double seconds = seconds_since(start);
    p.reset();
    if (result != fib_expected) {
      state.SkipWithError(("fib(25) = " + std::to_string(result)).c_str());
      break;
    }
    state.SetIterationTime(seconds);
    state.counters["ms_per_fib25"] = seconds * 1e3;
  }
}

}  // namespace
}  // namespace lf_bench

int main(int argc, char** argv) {
  using namespace lf_bench;
  // TBB's default worker count is one less than the CPUs; allow as many as lf's pool has.
  tbb::global_control workers(tbb::global_control::max_allowed_parallelism, pool_threads() + 1);
  add<lf_tasks>("coro_spawn_join", spawn_join<lf_tasks>);
  add<tbb_tasks>("coro_spawn_join", spawn_join<tbb_tasks>);
  add<lf_tasks>("coro_fib_join", fib_join<lf_tasks>);
  add<tbb_tasks>("coro_fib_join", fib_join<tbb_tasks>);
  add_calibration();
  benchmark::AddCustomContext("pool threads", std::to_string(pool_threads()));
  benchmark::AddCustomContext("build flags", LF_BENCH_BUILD_FLAGS);
  return run_benchmarks(argc, argv);
}
