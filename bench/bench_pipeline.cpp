// Pipelines: lf::pipeline against oneTBB's parallel_pipeline with the same modes and token
// bound, lf::fan_out_ordered (the channel-stage shape), and Go's channel pipeline
// (bench/go, same workload names, same run script), so bench/report.py puts them in one
// table.
//
// Workloads (one full run per repetition, manual time; every run checks its items before
// it reports a figure; the smoke runs 1/1000 of N, workloads.hpp's count()):
//   pipeline_empty   3 stages: a serial in-order source of 1..N, a parallel transform
//                    (v -> v + 1), a serial in-order sink; no work: the cost of moving an
//                    item through the stages. N = 400'000.
//   pipeline_1us     the same with ~1 us of arithmetic in the transform (calibrated at
//                    start-up: the "spin iterations per us" context field). N = 100'000.
// Every run: max_live_items (oneTBB's max_number_of_live_tokens) = 4 x threads, threads =
// the CPUs this process may use (the pools are made before the clock starts: lf's
// worker_pool of that many workers, which the calling thread waits on; a tbb::task_arena
// of that many slots, which the calling thread joins). The sink checks that the items
// arrive in order and sums them; a run that lost, duplicated or reordered an item reports
// an error instead of a figure. items_per_second.
//   lf::fan_out_ordered: a source thread sends 1..N into a channel of capacity tokens, a
//   fan_out_ordered of `threads` workers with a window of `tokens` transforms them, and
//   the sink is the thread that ranges over the output (capacity tokens): Go's shape, in lf.
#include <benchmark/benchmark.h>

#include <tbb/global_control.h>
#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "patterns/channel.hpp"
#include "patterns/context.hpp"
#include "patterns/pipeline.hpp"
#include "patterns/worker_pool.hpp"
#include "workloads.hpp"

namespace lf_bench {
namespace {

constexpr std::uint64_t empty_items = 400'000;
constexpr std::uint64_t work_items = 100'000;

unsigned threads() { return static_cast<unsigned>(allowed_cpus().size()); }
std::size_t tokens() { return 4 * threads(); }
double seconds_since(clock::time_point start) { return std::chrono::duration<double>(clock::now() - start).count(); }

// ~`iterations` dependent multiply-adds; the result depends on v so nothing is hoisted.
inline std::uint64_t spin(std::uint64_t v, std::uint64_t iterations) {
  std::uint64_t x = v;
  for (std::uint64_t i = 0; i < iterations; ++i) x = x * 6364136223846793005ULL + 1442695040888963407ULL;
  benchmark::DoNotOptimize(x);
  return v + 1 + (x & 0);
}

// Spin iterations that take about 1 us on this machine (median of 5 timings).
std::uint64_t iterations_per_us() {
  static const std::uint64_t n = [] {
    constexpr std::uint64_t probe = 1'000'000;
    std::vector<double> ns;
    for (int r = 0; r < 5; ++r) {
      const auto start = clock::now();
      benchmark::DoNotOptimize(spin(r, probe));
      ns.push_back(std::chrono::duration<double, std::nano>(clock::now() - start).count());
    }
    std::sort(ns.begin(), ns.end());
    return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(1000.0 * probe / ns[2]));
  }();
  return n;
}

// What the in-order sink saw: the next expected value, and the sum.
struct sink_tally {
  std::uint64_t next = 2;  // items 1..N become 2..N+1
  std::uint64_t sum = 0;
  bool ordered = true;
  void take(std::uint64_t v) {
    ordered = ordered && v == next;
    ++next;
    sum += v;
  }
  std::optional<std::string> mismatch(std::uint64_t n) const {
    if (!ordered) return "the sink saw an item out of order";
    if (next != n + 2) return "the sink saw " + std::to_string(next - 2) + " items of " + std::to_string(n);
    if (sum != n * (n + 1) / 2 + n) return "checksum " + std::to_string(sum);
    return std::nullopt;
  }
};

// Checks the run's items and reports its figure; false (an error, no figure) on a mismatch.
bool report(benchmark::State& state, const sink_tally& t, std::uint64_t n, double seconds) {
  if (auto error = t.mismatch(n)) {
    state.SkipWithError(error->c_str());
    return false;
  }
  state.SetIterationTime(seconds);
  state.counters["items_per_second"] = static_cast<double>(n) / seconds;
  return true;
}

template <bool Work>
void lf_pipeline(benchmark::State& state, std::uint64_t n) {
  const std::uint64_t iters = Work ? iterations_per_us() : 0;
  for (auto _ : state) {
    lf::worker_pool pool(static_cast<std::ptrdiff_t>(threads()));
    sink_tally t;
    std::uint64_t i = 0;
    lf::pipeline p(tokens(), lf::source([&]() -> std::optional<std::uint64_t> {
                     if (i == n) return std::nullopt;
                     return ++i;
                   }),
                   lf::stage(lf::parallel(), [iters](std::uint64_t v) { return Work ? spin(v, iters) : v + 1; }),
                   lf::sink(lf::serial_in_order, [&](std::uint64_t v) { t.take(v); }));
    const auto start = clock::now();
    const lf::context_error e = p.run(lf::background(), pool);
    const double seconds = seconds_since(start);
    if (e != lf::context_error::none) {
      state.SkipWithError("lf::pipeline did not complete");
      break;
    }
    if (!report(state, t, n, seconds)) break;
  }
}

template <bool Work>
void tbb_pipeline(benchmark::State& state, std::uint64_t n) {
  const std::uint64_t iters = Work ? iterations_per_us() : 0;
  for (auto _ : state) {
    tbb::task_arena arena(static_cast<int>(threads()));
    arena.initialize();
    sink_tally t;
    std::uint64_t i = 0;
    const auto start = clock::now();
    arena.execute([&] {
      tbb::parallel_pipeline(
          tokens(),
          tbb::make_filter<void, std::uint64_t>(tbb::filter_mode::serial_in_order,
                                                [&](tbb::flow_control& fc) -> std::uint64_t {
                                                  if (i == n) {
                                                    fc.stop();
                                                    return 0;
                                                  }
                                                  return ++i;
                                                }) &
              tbb::make_filter<std::uint64_t, std::uint64_t>(
                  tbb::filter_mode::parallel,
                  [iters](std::uint64_t v) { return Work ? spin(v, iters) : v + 1; }) &
              tbb::make_filter<std::uint64_t, void>(tbb::filter_mode::serial_in_order,
                                                    [&](std::uint64_t v) { t.take(v); }));
    });
    const double seconds = seconds_since(start);
    if (!report(state, t, n, seconds)) break;
  }
}

template <bool Work>
void lf_fan_out_ordered(benchmark::State& state, std::uint64_t n) {
  const std::uint64_t iters = Work ? iterations_per_us() : 0;
  for (auto _ : state) {
    sink_tally t;
    const auto start = clock::now();
    {
      lf::channel<std::uint64_t> in(static_cast<std::ptrdiff_t>(tokens()));
      std::jthread source([&] {
        for (std::uint64_t i = 1; i <= n; ++i) (void)in.send(i);
        in.close();
      });
      lf::stream<std::uint64_t> out = lf::fan_out_ordered(
          lf::background(), in, threads(), [iters](std::uint64_t v) { return Work ? spin(v, iters) : v + 1; },
          tokens(), static_cast<std::ptrdiff_t>(tokens()));
      for (std::uint64_t v : out) t.take(v);
    }
    const double seconds = seconds_since(start);
    if (!report(state, t, n, seconds)) break;
  }
}

void register_all() {
  const auto reg = [](const std::string& name, void (*run)(benchmark::State&, std::uint64_t), std::uint64_t n) {
    benchmark::RegisterBenchmark(name.c_str(), [run, n](benchmark::State& state) { run(state, n); })
        ->Iterations(1)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  };
  reg("pipeline_empty/lf::pipeline", lf_pipeline<false>, count(empty_items));
  reg("pipeline_empty/tbb::parallel_pipeline", tbb_pipeline<false>, count(empty_items));
  reg("pipeline_empty/lf::fan_out_ordered", lf_fan_out_ordered<false>, count(empty_items));
  reg("pipeline_1us/lf::pipeline", lf_pipeline<true>, count(work_items));
  reg("pipeline_1us/tbb::parallel_pipeline", tbb_pipeline<true>, count(work_items));
  reg("pipeline_1us/lf::fan_out_ordered", lf_fan_out_ordered<true>, count(work_items));
  add_calibration();
  benchmark::AddCustomContext("pipeline threads", std::to_string(threads()));
  benchmark::AddCustomContext("max live items", std::to_string(tokens()));
  benchmark::AddCustomContext("spin iterations per us", std::to_string(iterations_per_us()));
  benchmark::AddCustomContext("build flags", LF_BENCH_BUILD_FLAGS);
}

}  // namespace
}  // namespace lf_bench

int main(int argc, char** argv) {
  // TBB's process-wide limit defaults to the CPUs; the arena's slots are the threads.
  tbb::global_control workers(tbb::global_control::max_allowed_parallelism, lf_bench::threads());
  lf_bench::register_all();
  return lf_bench::run_benchmarks(argc, argv);
}
