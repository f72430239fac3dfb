// lf benchmarks — the rate limiter: lf::rate_limiter (one CAS on a GCRA word) against a
// mutex-guarded token bucket written the way golang.org/x/time/rate is
// (bench/rate_peers.hpp) in this binary, and Go's x/time/rate itself in bench/go, in the
// same run. Workloads (each one fixed run, checked before it reports; the smoke runs
// 1/1000 of each count, workloads.hpp's count()):
//   rate_allow_1t            2'000'000 allow() on one thread, the limit never reached
//                            (1e9/s, burst 10^6): every call must be allowed. calls_per_second.
//   rate_allow_2t            the same 2'000'000 calls split over two threads on one
//                            limiter (they contend for its word or its lock).
//   rate_reserve_cancel_1t   1'000'000 reserve_n(t, 1) + cancel_at(t) pairs at the same t
//                            (so each cancel gives its token back): every reservation OK
//                            and due at once. calls_per_second counts pairs.
//   rate_wait_1t             1'000'000 wait(ctx) on a limit never reached, ctx with no
//                            deadline: every wait returns at once with success.
// Every call reads the steady clock (time.Now() in Go), as the anchor's Allow does.
// The allow rows also run `baseline::floor_clock+cas8`: the least any exact one-word
// limiter does per call — one clock read and one 8-byte CAS of a value that depends on
// it (GCRA's max(word, t) + cost) on one shared word, no settings, no overflow checks.
// It is not a limiter; it bounds what one can reach on this machine, beside the targets.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "patterns/context.hpp"
#include "patterns/rate_limiter.hpp"
#include "rate_peers.hpp"
#include "workloads.hpp"

namespace lf_bench {
namespace {

constexpr std::uint64_t allow_calls = 2'000'000;
constexpr std::uint64_t pair_calls = 1'000'000;
constexpr double never_reached = 1e9;  // per second: a call takes longer than 1 ns
constexpr std::int64_t burst = 1'000'000;

struct lf_limiter {
  static constexpr const char* name = "lf::rate_limiter";
  lf::rate_limiter lim{lf::rate_limit(never_reached), burst};
  bool allow() { return lim.allow(); }
  bool reserve_cancel(std::chrono::steady_clock::time_point t) {
    lf::reservation r = lim.reserve_n(t, 1);
    const bool good = r.ok() && r.delay_from(t).count() == 0;
    r.cancel_at(t);
    return good;
  }
  bool wait(const lf::context& ctx) { return lim.wait(ctx) == lf::rate_error::none; }
};

struct mutex_limiter {
  static constexpr const char* name = mutex_token_bucket::name;
  mutex_token_bucket lim{never_reached, burst};
  bool allow() { return lim.allow(); }
  bool reserve_cancel(std::chrono::steady_clock::time_point t) {
    auto r = lim.reserve_at(t);
    const bool good = r.ok && r.time_to_act <= t;
    r.cancel_at(t);
    return good;
  }
  bool wait(const lf::context& ctx) { return lim.wait(ctx); }
};

struct floor_limiter {
  static constexpr const char* name = "baseline::floor_clock+cas8";
  alignas(64) std::atomic<std::int64_t> word{0};
  bool allow() {
    const std::int64_t t = clock::now().time_since_epoch().count();
    std::int64_t w = word.load(std::memory_order_relaxed);
    while (!word.compare_exchange_weak(w, (w > t ? w : t) + 1, std::memory_order_relaxed)) {
    }
    return true;
  }
};

void report(benchmark::State& state, double seconds, std::uint64_t calls, std::uint64_t good) {
  if (good != calls) {
    state.SkipWithError(("only " + std::to_string(good) + " of " + std::to_string(calls) + " calls succeeded").c_str());
    return;
  }
  state.SetIterationTime(seconds);
  state.counters["calls_per_second"] = static_cast<double>(calls) / seconds;
}

// `calls` is a multiple of Threads (count()'s unit): each thread makes calls / Threads.
template <class L, unsigned Threads>
void allow(benchmark::State& state, std::uint64_t calls) {
  for (auto _ : state) {
    L lim;
    std::atomic<unsigned> ready{0};
    std::atomic<std::uint64_t> good{0};
    std::vector<std::thread> threads;
    for (unsigned i = 0; i < Threads; ++i) {
      threads.emplace_back([&] {
        ready.fetch_add(1);
        while (ready.load() < Threads + 1) {
        }
        std::uint64_t mine = 0;
        for (std::uint64_t k = 0; k < calls / Threads; ++k) mine += lim.allow() ? 1 : 0;
        good.fetch_add(mine);
      });
    }
    while (ready.load() < Threads) std::this_thread::yield();
    const auto start = clock::now();
    ready.fetch_add(1);
    for (auto& t : threads) t.join();
    report(state, std::chrono::duration<double>(clock::now() - start).count(), calls, good.load());
  }
}

template <class L>
void reserve_cancel(benchmark::State& state, std::uint64_t pairs) {
  for (auto _ : state) {
    L lim;
    std::uint64_t good = 0;
    const auto start = clock::now();
    for (std::uint64_t k = 0; k < pairs; ++k) good += lim.reserve_cancel(clock::now()) ? 1 : 0;
    report(state, std::chrono::duration<double>(clock::now() - start).count(), pairs, good);
  }
}

template <class L>
void wait(benchmark::State& state, std::uint64_t calls) {
  for (auto _ : state) {
    L lim;
    const lf::context ctx = lf::background();
    std::uint64_t good = 0;
    const auto start = clock::now();
    for (std::uint64_t k = 0; k < calls; ++k) good += lim.wait(ctx) ? 1 : 0;
    report(state, std::chrono::duration<double>(clock::now() - start).count(), calls, good);
  }
}

template <class L>
void add_limiter() {
  const std::uint64_t calls = count(allow_calls, 2);  // even: rate_allow_2t splits it
  add<L>("rate_allow_1t", allow<L, 1>, calls);
  add<L>("rate_allow_2t", allow<L, 2>, calls);
  add<L>("rate_reserve_cancel_1t", reserve_cancel<L>, count(pair_calls));
  add<L>("rate_wait_1t", wait<L>, count(pair_calls));
}

}  // namespace
}  // namespace lf_bench

int main(int argc, char** argv) {
  lf_bench::add_limiter<lf_bench::lf_limiter>();
  lf_bench::add_limiter<lf_bench::mutex_limiter>();
  const std::uint64_t calls = lf_bench::count(lf_bench::allow_calls, 2);
  lf_bench::add<lf_bench::floor_limiter>("rate_allow_1t", lf_bench::allow<lf_bench::floor_limiter, 1>, calls);
  lf_bench::add<lf_bench::floor_limiter>("rate_allow_2t", lf_bench::allow<lf_bench::floor_limiter, 2>, calls);
  lf_bench::add_calibration();
  lf_bench::describe_build(LF_BENCH_BUILD_FLAGS);
  return lf_bench::run_benchmarks(argc, argv);
}
