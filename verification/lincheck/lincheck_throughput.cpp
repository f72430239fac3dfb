// How fast the checker judges histories: queue histories recorded from lf::ms_queue on
// 2, 3 and 4 real threads, k operations per thread, checked against the FIFO spec.
// Then the same for synthetic histories with more overlap than 2 cores give: each
// operation spans up to `threads` effects of the others on each side of its own (so every
// thread is inside an operation most of the time), results from a sequential FIFO queue.
// Unbounded overlap (one operation spanning dozens of others) is where the search, like
// every general checker's, turns exponential: queue linearizability is NP-complete in
// general (Gibbons & Korach 1997); the budget (max_steps) turns that into "unknown".
// Prints, per (threads, operations per history): histories checked per second, operations
// per second, and the mean number of candidate tests (the search's steps) per history.
// Medians of 3 repetitions. Not a test (no figure is asserted); the lincheck lane's budget
// (3 threads x 6 operations) sits at the first row of each block.
//   build/<preset>/verification/lincheck/lincheck_throughput [histories per cell]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <vector>

#include "lockfree/ms_queue.hpp"
#include "verification/lincheck/checker.hpp"
#include "verification/lincheck/driver.hpp"
#include "verification/lincheck/specs.hpp"

namespace lc = lf::lincheck;

namespace {

// Linearizable by construction: effects happen in a random interleaving of the threads, at
// times 2, 4, 6, ...; each operation spans up to `threads` effect times on either side of
// its own, never past its thread's neighbouring operations.
lc::history wide_overlap(std::size_t threads, std::size_t k, std::mt19937_64& rng) {
  std::vector<std::size_t> left(threads, k);
  std::vector<std::vector<std::size_t>> effects(threads);  // effect times per thread
  std::vector<lc::value> queue;
  lc::history h;
  std::vector<std::vector<lc::operation>> per_thread(threads);
  for (std::size_t time = 2, remaining = threads * k; remaining > 0; time += 2, --remaining) {
    std::size_t t;
    do t = rng() % threads; while (left[t] == 0);
    --left[t];
    lc::operation o;
    o.thread = static_cast<std::uint32_t>(t);
    if (rng() % 2 == 0) {
      o.kind = lc::queue_spec::push;
      o.arg = lc::unique_value(t, per_thread[t].size());
      o.result = 1;
      queue.push_back(o.arg);
    } else {
      o.kind = lc::queue_spec::pop;
      o.result = queue.empty() ? lc::none : queue.front();
      if (!queue.empty()) queue.erase(queue.begin());
    }
    o.call = time;  // the effect's time for now
    per_thread[t].push_back(o);
  }
  // Stamps: x4 leaves room for "midpoint" and "just after" between effect times.
  const std::uint64_t end = 8 * (threads * k + 2);
  for (auto& ops : per_thread) {
    std::uint64_t start = 0;
    for (std::size_t j = 0; j < ops.size(); ++j) {
      const std::uint64_t effect = 4 * ops[j].call;
      const std::uint64_t next = j + 1 < ops.size() ? 4 * ops[j + 1].call : end;
      const std::uint64_t reach = 8 * threads;
      ops[j].call = std::max(start, effect > reach ? effect - reach : 0);
      ops[j].ret = std::min((effect + next) / 2, effect + reach);
      start = ops[j].ret + 1;
      h.push_back(ops[j]);
    }
  }
  return h;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const std::size_t per_cell = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 200;
  const auto spec = lc::queue_spec::fifo();
  // Per history, at most 10^6 candidate tests (about 0.3 s here): past it, "unknown".
  constexpr std::uint64_t budget = 1'000'000;
  // Checks `hs` three times; prints the median rate.
  const auto measure = [&](std::size_t threads, std::size_t ops, const std::vector<lc::history>& hs) {
    std::vector<double> seconds;
    std::uint64_t steps = 0;
    std::size_t unknown = 0;
    for (int rep = 0; rep < 3; ++rep) {
      steps = 0;
      unknown = 0;
      const auto start = std::chrono::steady_clock::now();
      for (const auto& h : hs) {
        const auto r = lc::check(spec, h, {.max_steps = budget});
        unknown += r.outcome == lc::verdict::unknown;
        if (r.outcome == lc::verdict::not_linearizable) {
          std::printf("unexpected: a linearizable history judged %s\n", lc::to_string(r.outcome));
          std::exit(1);
        }
        steps += r.steps;
      }
      seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(seconds.begin(), seconds.end());
    const double s = seconds[1];
    std::printf("%7zu  %11zu  %11.0f  %6.2fM  %13.1f  %zu\n", threads, ops, hs.size() / s, hs.size() * ops / s / 1e6,
                static_cast<double>(steps) / hs.size(), unknown);
  };
  std::printf("recorded from lf::ms_queue (medians of 3; %zu histories each)\n", per_cell);
  std::printf("threads  ops/history  histories/s    ops/s  steps/history  over budget\n");
  for (std::size_t threads : {2u, 3u, 4u}) {
    for (std::size_t k : {6u, 16u, 32u, 64u}) {
      std::mt19937_64 rng(threads * 1000 + k);
      std::vector<lc::history> hs;
      for (std::size_t n = 0; n < per_cell; ++n) {
        lc::scenario sc(threads);
        for (std::size_t t = 0; t < threads; ++t) {
          for (std::size_t i = 0; i < k; ++i) {
            lc::operation o;
            o.kind = rng() % 2 == 0 ? lc::queue_spec::push : lc::queue_spec::pop;
            o.arg = lc::unique_value(t, i);
            sc[t].push_back(o);
          }
        }
        lc::queue_target<lf::ms_queue<lc::value>> q;
        hs.push_back(lc::execute(q, sc, 64, n));
      }
      measure(threads, threads * k, hs);
    }
  }
  std::printf("wide overlap (+-threads effects), synthetic (medians of 3; %zu histories each)\n", per_cell);
  std::printf("threads  ops/history  histories/s    ops/s  steps/history  over budget\n");
  for (std::size_t threads : {2u, 3u, 4u}) {
    for (std::size_t k : {6u, 16u, 32u, 64u}) {
      std::mt19937_64 rng(threads * 7919 + k);
      std::vector<lc::history> hs;
      for (std::size_t n = 0; n < per_cell; ++n) hs.push_back(wide_overlap(threads, k, rng));
      measure(threads, threads * k, hs);
    }
  }
}
