// lf benchmarks — the workloads, written once against the adapter shape of adapters.hpp.
//
// Each benchmark repetition is one full run (Iterations(1), manual time): a fresh queue,
// fresh threads released together, the clock read by the workload itself, and the
// items checked before any figure is reported. Its size is count(full): the full count
// in a measurement, 1/1000 of it in bench/run.sh's smoke (count() below). What every
// run checks:
//   * the consumers popped exactly as many items as the producers pushed, and as many
//     as the workload asked for;
//   * the sum of the popped values equals the sum of the pushed ones (producer p pushes
//     p*N+1 ... p*N+N, so every value is distinct and non-zero);
//   * ping-pong: every echo is the value just sent.
// A run that fails a check reports SkipWithError and no figure; report.py prints it as
// FAILED.
//
// Figures are custom counters computed here from the run's own clock, so their
// meaning does not depend on Google Benchmark's rate conventions:
//   items_per_second   throughput workloads (higher is better)
//   ns_per_pair        one try_push + one try_pop on one thread (lower is better)
//   ns_per_round_trip  ping-pong between two threads through two queues (lower is better)
// report.py reads any counter named <things>_per_second (a rate, higher is better),
// [cpu_]<ns|us|ms|s>_per_<thing> (a time, lower is better) or bytes_per_<thing> (a size,
// lower is better); a row's figure is its one counter without the cpu_ prefix.
#pragma once

#include <benchmark/benchmark.h>

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <concepts>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <type_traits>
#include <vector>

#include "adapters.hpp"
#include "sync/atomic.hpp"
#include "sync/config.hpp"
#include "sync/thread.hpp"

namespace lf_bench {

// Every queue in every workload is asked for this capacity (adapters.hpp says where a
// peer holds a different number; the report prints what each one really holds).
inline constexpr std::size_t queue_capacity = 1024;

using clock = std::chrono::steady_clock;

// True in bench/run.sh's smoke: LF_BENCH_SMOKE set, non-empty and not "0" (run.sh's own
// test). Read once.
inline bool smoke_run() {
  static const bool smoke = [] {
    const char* s = std::getenv("LF_BENCH_SMOKE");
    return s != nullptr && *s != '\0' && std::string(s) != "0";
  }();
  return smoke;
}

// The number of items, calls, rounds or elements a workload runs, given its full count:
// `full` in a measurement; in the smoke (smoke_run()) full / 1000, the factor of bench/go's
// -smoke, so that the smoke runs every workload's code and its checks on fewer items.
// Workloads that split their count evenly (over producers, submitters, select's four
// channels) or move it in whole batches pass that divisor as `unit`: the smoke count is
// then rounded up to a multiple of `unit`, and is at least one unit. The full count must
// already be a multiple of `unit` (a full run does exactly what it did before count()).
inline std::uint64_t count(std::uint64_t full, std::uint64_t unit = 1) {
  if (unit == 0 || full == 0 || full % unit != 0) {
    throw std::invalid_argument("lf_bench::count: full count " + std::to_string(full) +
                                " is not a positive multiple of unit " + std::to_string(unit));
  }
  if (!smoke_run()) return full;
  return std::max<std::uint64_t>(1, (full / 1000 + unit - 1) / unit) * unit;
}

// What one thread moved.
struct tally {
  std::uint64_t count = 0;
  std::uint64_t sum = 0;

  void add(item v) noexcept {
    ++count;
    sum += v;
  }
};

// How a thread waits on a full or empty queue: one pause per failed try. Where threads
// outnumber CPUs (2P2C on two cores) the thread it waits for may be queued behind it on
// the same CPU, so after 64 failures in a row it yields; otherwise a spinning
// waiter would burn its whole time slice and the figure would show the scheduler's
// slice length rather than the queue. 64 pauses are about 1.6 us on this machine's
// EPYC (25 ns each), a few cross-core hand-overs. With a CPU per thread it only spins:
// there is nobody to yield to. (lf::backoff's growing pause runs would add up to its last
// step to every hand-over that ping-pong measures.)
class waiter {
 public:
  explicit waiter(bool cpus_shared) noexcept : yield_after_(cpus_shared ? 64 : 0) {}
  void wait() noexcept {
    if (yield_after_ != 0 && ++failures_ == yield_after_) {
      failures_ = 0;
      lf::yield_thread();
    } else {
      lf::spin_pause();
    }
  }
  void reset() noexcept { failures_ = 0; }

 private:
  const unsigned yield_after_;  // 0: never yield
  unsigned failures_ = 0;
};

// The CPUs this process may run on, in order; read once.
inline const std::vector<int>& allowed_cpus() {
  static const std::vector<int> cpus = [] {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) {
      throw std::system_error(errno, std::generic_category(), "sched_getaffinity");
    }
    std::vector<int> list;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &set)) list.push_back(cpu);
    }
    return list;
  }();
  return cpus;
}

// True when `threads` spinning threads cannot each have a CPU.
inline bool cpus_shared(std::size_t threads) { return threads > allowed_cpus().size(); }

// Binds the calling thread to one CPU.
inline void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (const int e = pthread_setaffinity_np(pthread_self(), sizeof set, &set); e != 0) {
    throw std::system_error(e, std::generic_category(), "pthread_setaffinity_np(cpu " + std::to_string(cpu) + ")");
  }
}

// Runs each role on a thread of its own and returns the seconds from the start signal to
// the end of the last role. The threads check in and then spin on one flag, so thread
// creation and start-up are outside the measured interval. The main thread sleeps in
// join() meanwhile: on two cores it must not compete with the roles.
//
// Role i is pinned to the i-th allowed CPU, round robin (producers come first, so 1P1C
// and ping-pong always cross cores, and 2P2C on two cores puts one producer and one
// consumer on each). Unpinned, the scheduler may stack both threads of a 1P1C run on one
// CPU (this VM's kernel packs tasks onto few vCPUs), and the figure then measures time
// slicing, not the queue.
inline double run_together(const std::vector<std::function<void()>>& roles) {
  const std::vector<int>& cpus = allowed_cpus();
  lf::padded<lf::atomic<std::size_t>> ready{};
  lf::padded<lf::atomic<bool>> go{};
  std::vector<lf::padded<clock::time_point>> finished(roles.size());
  std::vector<std::thread> threads;
  threads.reserve(roles.size());
  for (std::size_t i = 0; i < roles.size(); ++i) {
    threads.emplace_back([&, i] {
      pin_to(cpus[i % cpus.size()]);
      ready.value.fetch_add(1);
      waiter w(cpus_shared(roles.size()));
      while (!go.value.load()) w.wait();
      roles[i]();
      finished[i].value = clock::now();
    });
  }
  while (ready.value.load() < roles.size()) lf::yield_thread();
  const clock::time_point start = clock::now();
  go.value.store(true);
  for (std::thread& t : threads) t.join();
  clock::time_point end = start;
  for (const auto& f : finished) end = std::max(end, f.value);
  return std::chrono::duration<double>(end - start).count();
}

// Pushes first, first+1, ... first+n-1, waiting whenever the queue is full.
template <class Q>
tally produce(Q& q, item first, std::uint64_t n, waiter w) {
  tally t;
  for (item v = first; v != first + n; ++v) {
    while (!q.try_push(v)) w.wait();
    w.reset();
    t.add(v);
  }
  return t;
}

// Pops exactly n items, waiting whenever the queue is empty. Fixed quotas summing to
// the total need no shared "done" counter, which would add traffic to what is measured.
template <class Q>
tally consume(Q& q, std::uint64_t n, waiter w) {
  tally t;
  item v;
  while (t.count != n) {
    while (!q.try_pop(v)) w.wait();
    w.reset();
    t.add(v);
  }
  return t;
}

inline tally total(const std::vector<lf::padded<tally>>& parts) {
  tally sum;
  for (const auto& p : parts) {
    sum.count += p.value.count;
    sum.sum += p.value.sum;
  }
  return sum;
}

// Empty when what came out is exactly what went in; otherwise says what differs.
inline std::optional<std::string> mismatch(const tally& pushed, const tally& popped, std::uint64_t expected) {
  if (pushed.count != expected || popped.count != expected) {
    return "moved the wrong number of items: asked " + std::to_string(expected) + ", pushed " +
           std::to_string(pushed.count) + ", popped " + std::to_string(popped.count);
  }
  if (pushed.sum != popped.sum) {
    return "checksum differs: pushed " + std::to_string(pushed.sum) + ", popped " + std::to_string(popped.sum);
  }
  return std::nullopt;
}

// `items` items through one queue from `Producers` threads to `Consumers` threads.
// Every producer pushes the same number: `items` is a multiple of Producers (count()'s
// unit).
template <class Q, unsigned Producers, unsigned Consumers>
void throughput(benchmark::State& state, std::uint64_t items) {
  if (items % Producers != 0) {
    state.SkipWithError(("throughput: " + std::to_string(items) + " items do not split over " +
                         std::to_string(Producers) + " producers").c_str());
    return;
  }
  const std::uint64_t per_producer = items / Producers;
  const waiter w(cpus_shared(Producers + Consumers));
  for (auto _ : state) {
    const auto q = std::make_unique<Q>(queue_capacity);  // heap: its lines shared with nothing else
    std::vector<lf::padded<tally>> pushed(Producers), popped(Consumers);
    std::vector<std::function<void()>> roles;
    for (unsigned p = 0; p < Producers; ++p) {
      roles.emplace_back([&, p] { pushed[p].value = produce(*q, p * per_producer + 1, per_producer, w); });
    }
    for (unsigned c = 0; c < Consumers; ++c) {
      const std::uint64_t quota = items / Consumers + (c < items % Consumers ? 1 : 0);
      roles.emplace_back([&, c, quota] { popped[c].value = consume(*q, quota, w); });
    }
    const double seconds = run_together(roles);
    const tally in = total(pushed), out = total(popped);
    if (const auto error = mismatch(in, out, items)) {
      state.SkipWithError(error->c_str());
      break;
    }
    state.SetIterationTime(seconds);
    state.counters["items_per_second"] = static_cast<double>(items) / seconds;
  }
}

// Queues with batch calls: `try_push_n(const item*, n)` and `try_pop_n(item*, n)`, each
// returning how many it moved.
template <class Q>
concept batch_queue = requires(Q q, item* p, std::size_t n) {
  { q.try_push_n(p, n) } -> std::same_as<std::size_t>;
  { q.try_pop_n(p, n) } -> std::same_as<std::size_t>;
};

// 1P1C throughput through the batch calls, `Batch` items per call: the producer
// publishes each batch with one index store and the consumer frees it with one
// (MCRingBuffer's batching). `items` is a multiple of Batch (count()'s unit), so
// all-or-nothing batch calls (libcds) and prefix ones (lf, Boost) move the same stream.
template <batch_queue Q, std::size_t Batch>
void batch_throughput(benchmark::State& state, std::uint64_t items) {
  if (items % Batch != 0) {
    state.SkipWithError(("batch_throughput: " + std::to_string(items) + " items are not whole batches of " +
                         std::to_string(Batch)).c_str());
    return;
  }
  const waiter w(cpus_shared(2));
  for (auto _ : state) {
    const auto q = std::make_unique<Q>(queue_capacity);
    lf::padded<tally> pushed, popped;
    const std::vector<std::function<void()>> roles{
        [&] {
          waiter wait = w;
          item batch[Batch];
          for (item next = 1; next <= items;) {
            const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(Batch, items - next + 1));
            for (std::size_t i = 0; i < want; ++i) batch[i] = next + i;
            const std::size_t n = q->try_push_n(batch, want);
            for (std::size_t i = 0; i < n; ++i) pushed.value.add(batch[i]);
            next += n;
            if (n == 0) wait.wait(); else wait.reset();
          }
        },
        [&] {
          waiter wait = w;
          item batch[Batch];
          while (popped.value.count != items) {
            const std::size_t n = q->try_pop_n(batch, Batch);
            for (std::size_t i = 0; i < n; ++i) popped.value.add(batch[i]);
            if (n == 0) wait.wait(); else wait.reset();
          }
        }};
    const double seconds = run_together(roles);
    if (const auto error = mismatch(pushed.value, popped.value, items)) {
      state.SkipWithError(error->c_str());
      break;
    }
    state.SetIterationTime(seconds);
    state.counters["items_per_second"] = static_cast<double>(items) / seconds;
  }
}

// One thread: try_push then try_pop, `pairs` times. The uncontended cost of the two
// calls, with the queue's lines in this core's cache.
template <class Q>
void push_pop_pair(benchmark::State& state, std::uint64_t pairs) {
  for (auto _ : state) {
    const auto q = std::make_unique<Q>(queue_capacity);
    tally in, out;
    item v = 0;
    const clock::time_point start = clock::now();
    for (item i = 1; i <= pairs; ++i) {
      if (q->try_push(i)) in.add(i);
      if (q->try_pop(v)) out.add(v);
    }
    const double seconds = std::chrono::duration<double>(clock::now() - start).count();
    if (const auto error = mismatch(in, out, pairs)) {
      state.SkipWithError(error->c_str());
      break;
    }
    state.SetIterationTime(seconds);
    state.counters["ns_per_pair"] = seconds * 1e9 / static_cast<double>(pairs);
  }
}

// Thread A pushes a value into `there` and waits for it to come back on `back`; thread
// B echoes. One round trip is two hand-overs between cores, so the figure is the
// queue's latency, not its throughput.
template <class Q>
void pingpong(benchmark::State& state, std::uint64_t round_trips) {
  const waiter idle(cpus_shared(2));
  for (auto _ : state) {
    const auto there = std::make_unique<Q>(queue_capacity);
    const auto back = std::make_unique<Q>(queue_capacity);
    lf::padded<tally> sent, received, echoed;
    lf::padded<std::uint64_t> wrong_echoes{0};
    const std::vector<std::function<void()>> roles{
        [&] {
          waiter w = idle;
          item v = 0;
          for (item i = 1; i <= round_trips; ++i) {
            while (!there->try_push(i)) w.wait();
            w.reset();
            sent.value.add(i);
            while (!back->try_pop(v)) w.wait();
            w.reset();
            received.value.add(v);
            if (v != i) ++wrong_echoes.value;
          }
        },
        [&] {
          waiter w = idle;
          item v = 0;
          for (std::uint64_t n = 0; n != round_trips; ++n) {
            while (!there->try_pop(v)) w.wait();
            w.reset();
            while (!back->try_push(v)) w.wait();
            w.reset();
            echoed.value.add(v);
          }
        }};
    const double seconds = run_together(roles);
    auto error = mismatch(sent.value, received.value, round_trips);
    if (!error && echoed.value.count != round_trips) error = "echoed " + std::to_string(echoed.value.count) + " items";
    if (!error && wrong_echoes.value != 0) error = std::to_string(wrong_echoes.value) + " echoes out of order";
    if (error) {
      state.SkipWithError(error->c_str());
      break;
    }
    state.SetIterationTime(seconds);
    state.counters["ns_per_round_trip"] = seconds * 1e9 / static_cast<double>(round_trips);
  }
}

// Not a queue: two threads hand one cache line back and forth (a counter each bumps in
// turn). Its round trip is the floor under every cross-core figure, and since its
// repetitions are interleaved with the benchmarks, its spread shows how much the machine
// itself changed during the run (on a VM the host moves the vCPUs).
inline void line_round_trip(benchmark::State& state, std::uint64_t round_trips) {
  for (auto _ : state) {
    lf::padded<lf::atomic<std::uint64_t>> turn{};
    // Thread `side` waits for the counter to reach its turn, then passes it on.
    const auto player = [&](std::uint64_t side) {
      waiter w(cpus_shared(2));
      for (std::uint64_t i = 0; i != round_trips; ++i) {
        while (turn.value.load() != 2 * i + side) w.wait();
        w.reset();
        turn.value.store(2 * i + side + 1);
      }
    };
    const double seconds = run_together({[&] { player(0); }, [&] { player(1); }});
    if (turn.value.load() != 2 * round_trips) {
      state.SkipWithError("the counter did not make every round trip");
      break;
    }
    state.SetIterationTime(seconds);
    state.counters["ns_per_round_trip"] = seconds * 1e9 / static_cast<double>(round_trips);
  }
}

// Registers `run` as "<workload>/<queue name>" (report.py splits at the first '/'),
// called with `args` (the workload's count): one iteration per repetition, timed by the
// workload (manual time).
template <class Q, class... Args>
void add(const std::string& workload, void (*run)(benchmark::State&, Args...), std::type_identity_t<Args>... args) {
  benchmark::RegisterBenchmark((workload + "/" + Q::name).c_str(),
                               [run, args...](benchmark::State& state) { run(state, args...); })
      ->Iterations(1)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
}

// The machine's own cross-core round trip, measured alongside the queues.
inline void add_calibration() {
  benchmark::RegisterBenchmark("calibration_line_round_trip/std::atomic",
                               [n = count(100'000)](benchmark::State& state) { line_round_trip(state, n); })
      ->Iterations(1)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
}

// Records in the JSON context how this binary was built (compiler and flags), so the
// report states it from the run itself.
inline void describe_build(const std::string& build_flags) {
#if defined(__clang__)
  benchmark::AddCustomContext("compiler", "clang " __clang_version__);
#elif defined(__GNUC__)
  benchmark::AddCustomContext("compiler", "g++ " __VERSION__);
#endif
  benchmark::AddCustomContext("build flags", build_flags);
}

// Records in the JSON context what each queue really holds and how this binary was
// built, so the report states both from the run itself.
template <class... Q>
void describe(const std::string& build_flags) {
  (benchmark::AddCustomContext(std::string("capacity ") + Q::name,
                               std::to_string(std::make_unique<Q>(queue_capacity)->capacity())),
   ...);
  benchmark::AddCustomContext("requested capacity", std::to_string(queue_capacity));
  describe_build(build_flags);
}

// The main of each bench binary, after it has registered its benchmarks. The JSON context
// says whether the counts were full or the smoke's (report.py prints it).
inline int run_benchmarks(int argc, char** argv) {
  benchmark::AddCustomContext("workload size",
                              smoke_run() ? "smoke (LF_BENCH_SMOKE): 1/1000 of every count" : "full");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// throughput with the thread count chosen at run time: N producers and N consumers, N =
// state.range(0), for scaling curves on machines with many cores. `items` is split evenly
// over the producers (the remainder of items / N is not pushed; the check uses the number
// actually asked for). Where 2N exceeds the CPUs, roles share CPUs round robin and waiting
// threads yield, as in throughput.
template <class Q>
void throughput_n(benchmark::State& state, std::uint64_t asked) {
  const auto n = static_cast<unsigned>(state.range(0));
  if (n == 0 || n > asked) {
    state.SkipWithError(("throughput_n: thread count " + std::to_string(n) + " out of range").c_str());
    return;
  }
  const std::uint64_t per_producer = asked / n;
  const std::uint64_t items = per_producer * n;
  const waiter w(cpus_shared(2 * std::size_t{n}));
  for (auto _ : state) {
    const auto q = std::make_unique<Q>(queue_capacity);
    std::vector<lf::padded<tally>> pushed(n), popped(n);
    std::vector<std::function<void()>> roles;
    for (unsigned p = 0; p < n; ++p) {
      roles.emplace_back([&, p] { pushed[p].value = produce(*q, p * per_producer + 1, per_producer, w); });
    }
    for (unsigned c = 0; c < n; ++c) {
      roles.emplace_back([&, c] { popped[c].value = consume(*q, per_producer, w); });
    }
    const double seconds = run_together(roles);
    const tally in = total(pushed), out = total(popped);
    if (const auto error = mismatch(in, out, items)) {
      state.SkipWithError(error->c_str());
      break;
    }
    state.SetIterationTime(seconds);
    state.counters["items_per_second"] = static_cast<double>(items) / seconds;
  }
}

// The thread counts N of the scaling workloads: 1, 2, 4, ... up to half the CPUs this
// process may run on (at least 1). Empty unless the environment sets LF_BENCH_SCALING, so
// that a plain run of a bench binary registers no scaling benchmark.
inline std::vector<unsigned> scaling_thread_counts() {
  std::vector<unsigned> counts;
  if (std::getenv("LF_BENCH_SCALING") == nullptr) return counts;
  const std::size_t half = std::max<std::size_t>(1, allowed_cpus().size() / 2);
  for (unsigned n = 1; n <= half; n *= 2) counts.push_back(n);
  return counts;
}

// Registers throughput_n<Q> on `items` once per scaling thread count as
// "<prefix>_<N>p<N>c/<queue name>" (one workload per N, so report.py gives each N its own
// table), N passed as state.range(0).
template <class Q>
void add_scaling(const std::string& prefix, std::uint64_t items) {
  for (const unsigned n : scaling_thread_counts()) {
    const std::string workload = prefix + "_" + std::to_string(n) + "p" + std::to_string(n) + "c";
    benchmark::RegisterBenchmark((workload + "/" + Q::name).c_str(),
                                 [items](benchmark::State& state) { throughput_n<Q>(state, items); })
        ->Arg(n)
        ->Iterations(1)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace lf_bench
