// lf::lincheck — driving a structure with random operation mixes on real threads.
//
// Each run plans a scenario up front from the seed (per thread, a list of operations and
// arguments, Lincheck's way), builds a fresh structure, starts the threads together
// (spinning on one counter, so they overlap from the first operation), records every
// operation, joins and checks the history. Histories stay small (a few threads, a few
// operations each) and runs many: small histories are cheap to check exhaustively, and
// most linearizability bugs need only two or three overlapping operations to show
// (Lincheck and Porcupine both rely on the same observation).
//
// A failure stops the runs: the history is shrunk, printed as a timeline and written as
// JSON (report.hpp), and the summary says so.
//
//   auto make = [] { return std::make_unique<my_target>(); };  // value apply(const operation&)
//   auto plan = [](std::mt19937_64& rng, std::size_t thread, std::size_t i) { ...; return op; };
//   run_summary s = run_random(queue_spec::fifo(), make, plan, {.threads = 3, .ops_per_thread = 6});
//   EXPECT_TRUE(s) << s.report;
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "sync/atomic.hpp"
#include "sync/thread.hpp"
#include "verification/lincheck/checker.hpp"
#include "verification/lincheck/history.hpp"
#include "verification/lincheck/report.hpp"
#include "verification/lincheck/specs.hpp"

namespace lf::lincheck {

struct run_options {
  std::size_t threads = 3;
  std::size_t ops_per_thread = 6;
  std::size_t runs = 200;
  std::uint64_t seed = 1;
  unsigned jitter = 0;  // before each operation, 0..jitter spin pauses (varies the overlap)
  check_options check{};
  std::string name = "lincheck";  // names the JSON file of a failure
  std::string json_dir = ".";     // where it goes ("" : not written)
};

struct run_summary {
  std::size_t runs = 0;      // runs made (a failure stops them)
  std::size_t failures = 0;  // 0 or 1
  std::size_t unknown = 0;   // runs the budget cut short
  std::uint64_t steps = 0;   // the checker's candidate tests, all runs
  history failing;           // the shrunk failing history
  std::string report;        // its timeline and explanation
  explicit operator bool() const noexcept { return failures == 0 && unknown == 0; }
};

// A value no other operation of the scenario uses: thread t's i-th operation.
constexpr value unique_value(std::size_t thread, std::size_t i) {
  return static_cast<value>(thread * 1000 + i + 1);
}

using scenario = std::vector<std::vector<operation>>;  // per thread: kind, arg, arg2

// Runs one scenario on `scenario.size()` threads against `target` (value apply(const
// operation&), called concurrently) and returns the recorded history.
template <class Target>
history execute(Target& target, const scenario& plan, unsigned jitter = 0, std::uint64_t seed = 0) {
  const std::size_t n = plan.size();
  std::size_t most = 0;
  for (const auto& ops : plan) most = std::max(most, ops.size());
  recorder rec(n, most);
  lf::atomic<std::size_t> ready{0};
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (std::size_t t = 0; t < n; ++t) {
    threads.emplace_back([&, t] {
      std::minstd_rand pause_rng(static_cast<std::uint32_t>(seed * 31 + t + 1));
      ready.fetch_add(1, std::memory_order_acq_rel);
      // Spin, then yield: with more threads than cores a spinner would hold the core the
      // last thread needs to arrive.
      for (unsigned spins = 0; ready.load(std::memory_order_acquire) < n; ++spins) {
        if (spins < 256) {
          lf::spin_pause();
        } else {
          lf::yield_thread();
        }
      }
      for (operation op : plan[t]) {
        if (jitter != 0) {
          for (unsigned k = pause_rng() % (jitter + 1); k > 0; --k) lf::spin_pause();
        }
        op.thread = static_cast<std::uint32_t>(t);
        const std::size_t i = rec.invoke(t, op.kind, op.arg, op.arg2);
        rec.respond(t, i, target.apply(op));
      }
    });
  }
  for (auto& th : threads) th.join();
  return rec.collect();
}

// A target for queue_spec and stack_spec (their push/pop codes agree) over any structure of
// the lf::concurrent_queue shape: try_push(value) -> bool, try_pop() -> optional<value>.
template <class S>
struct queue_target {
  template <class... A>
  explicit queue_target(A&&... args) : s(std::forward<A>(args)...) {}
  S s;
  value apply(const operation& o) {
    static_assert(std::uint32_t{queue_spec::push} == std::uint32_t{stack_spec::push} &&
                  std::uint32_t{queue_spec::pop} == std::uint32_t{stack_spec::pop});
    if (o.kind == queue_spec::push) return s.try_push(o.arg) ? 1 : 0;
    const auto v = s.try_pop();
    return v ? *v : none;
  }
};

// `make()` returns a std::unique_ptr to a fresh target; `plan(rng, thread, i)` returns the
// operation (kind, arg, arg2) thread `thread` performs `i`-th.
template <class Spec, class Make, class Plan>
run_summary run_random(const Spec& spec, Make make, Plan plan, const run_options& opt) {
  run_summary s;
  std::mt19937_64 rng(opt.seed);
  for (std::size_t run = 0; run < opt.runs; ++run) {
    scenario sc(opt.threads);
    for (std::size_t t = 0; t < opt.threads; ++t) {
      for (std::size_t i = 0; i < opt.ops_per_thread; ++i) sc[t].push_back(plan(rng, t, i));
    }
    auto target = make();
    const history h = execute(*target, sc, opt.jitter, opt.seed + run);
    ++s.runs;
    const check_result r = check(spec, h, opt.check);
    s.steps += r.steps;
    if (r.outcome == verdict::unknown) ++s.unknown;
    if (r.outcome == verdict::not_linearizable) {
      ++s.failures;
      const std::string path =
          opt.json_dir.empty() ? std::string{} : opt.json_dir + "/" + opt.name + "-run" + std::to_string(run) + ".json";
      s.report = explain(spec, h, path, opt.check);
      s.failing = shrink(spec, h, opt.check);
      break;
    }
  }
  return s;
}

}  // namespace lf::lincheck
