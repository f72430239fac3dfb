// Coroutine tasks (patterns/task.hpp) on lf::worker_pool against oneTBB's task_group in
// a task_arena of the same thread count (as many workers as this process has CPUs).
//
// Workloads (one full run per repetition: a fresh pool, its threads started before the
// clock; manual time; what each run checks before it reports a figure; the smoke runs
// 1/1000 of each count, workloads.hpp's count(), and the same fib(25)):
//   coro_spawn_join  10^6 tasks started from one task on the pool, then joined. lf: a
//       coroutine go()es 10^6 one-line coroutines, keeping their join_handles, then
//       co_awaits each (the awaiting coroutine suspends instead of blocking a worker).
//       lf::task+wait_group: Go's program — the handles are dropped (the fibers run
//       detached) and an lf::wait_group counts them down; the spawner co_awaits it.
//       TBB: task_group::run 10^6 times from a task in the arena, then wait() (it helps).
//       Each task stores 1 into its own byte; the run checks every byte. tasks_per_second.
//       Go's row: bench/go's spawnJoin (10^6 goroutines from one, joined by a WaitGroup).
//   coro_fib_join    fib(25) as fork-join. lf: co_await lf::when_all(fib(n-1), fib(n-2))
//       (two child fibers; the first runs at once on this worker, the second is stolen
//       or run after). TBB: task_group::run(fib(n-1)), fib(n-2) inline, wait(). Checks
//       75025; ms_per_fib25.
//   coro_chan_pingpong  100 000 round trips over two unbuffered lf::channels between two
//       coroutines on the pool (co_await lf::send / lf::recv), beside the same round trips
//       between two threads (channel::send / recv, as bench_channel's chan_pingpong).
//       Checks every echo; ns_per_round_trip. Go's row: bench/go's pingpong (two goroutines).
//   coro_chan_handoff   10^6 values through one unbuffered lf::channel from one coroutine
//       to another on the pool, beside two threads. Checks count and sum; items_per_second.
//       Go's row: bench/go's handoff (two goroutines, 200 000 values: a rate either way).
//   coro_chan_select4   4 producers each fill their own lf::channel (capacity 1024); one
//       consumer selects over the 4 until 10^6 values arrived (bench_channel's chan_select4
//       and Go's select4). lf::task: 5 coroutines on the pool, the producers co_await
//       lf::send and the consumer co_await lf::co_select; threads: 5 threads, send and
//       lf::select. Checks count and sum; items_per_second.
//   coro_suspended_memory  what a parked goroutine costs (issue 12: Go's blocked goroutine
//       "costs a few hundred bytes"; bench/go's row measures Go's in the same report).
//       lf::task: 100 000 coroutines (lf::go on a pool of 2 threads) each suspended in
//       co_await lf::recv(ch) on one shared unbuffered lf::channel<int>; threads: 1 000
//       std::threads (100 in the smoke) each blocked in ch.recv() (100 000 would exhaust
//       the machine). Once all are parked the run reads its memory, then closes the channel
//       and checks that every one of them woke with closed and was joined, and that the
//       memory grew. bytes_per_coroutine:
//         lf::task  malloc'd bytes (glibc mallinfo2: uordblks + hblkhd, all arenas, chunk
//                   headers included) after all are parked minus before the first go(), / N:
//                   every byte a suspended coroutine holds is malloc'd (its frames and its
//                   fiber's join state; the channel queues the link inside the frame), and
//                   the heap count is exact where RSS moves in whole pages and with what
//                   the allocator keeps cached. The RSS figure goes in the row's label.
//         threads   bytes per blocked thread by RSS (/proc/self/statm resident pages x page
//                   size, after minus before): a thread's stack is mmapped, not malloc'd,
//                   so the heap count would miss it; RSS counts the stack pages it touched,
//                   not the kernel's own per-thread memory (kernel stack, task_struct).
//       One counter name for both rows, so the report puts them (and Go's) in one table.
//       The wall time is that of the whole run (start, park, measure, close, join).
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "patterns/awaitables.hpp"
#include "patterns/channel.hpp"
#include "patterns/select.hpp"
#include "patterns/task.hpp"
#include "patterns/wait_group.hpp"
#include "workloads.hpp"

namespace lf_bench {
namespace {

constexpr std::uint64_t spawn_tasks = 1'000'000;
constexpr int fib_n = 25;
constexpr std::uint64_t fib_expected = 75025;

unsigned pool_threads() { return static_cast<unsigned>(allowed_cpus().size()); }
double seconds_since(clock::time_point start) { return std::chrono::duration<double>(clock::now() - start).count(); }

struct lf_tasks {
  static constexpr const char* name = "lf::task";
  explicit lf_tasks(unsigned n) : pool(static_cast<std::ptrdiff_t>(n)) {}
  lf::worker_pool pool;
};

// Go's shape of spawn+join: detached fibers and a wait group (coro_spawn_join only).
struct lf_tasks_wg : lf_tasks {
  static constexpr const char* name = "lf::task+wait_group";
  using lf_tasks::lf_tasks;
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

lf::task<void> mark_done(unsigned char* byte, lf::wait_group& wg) {
  *byte = 1;
  wg.done();
  co_return;
}

lf::task<void> spawn_all_detached(lf::worker_pool& pool, unsigned char* bytes, std::size_t tasks) {
  lf::wait_group wg;
  wg.add(static_cast<int>(tasks));
  for (std::size_t i = 0; i < tasks; ++i) lf::spawn(pool, mark_done(bytes + i, wg)).detach();
  co_await lf::wait(wg);
}

lf::task<void> spawn_all(lf::worker_pool& pool, unsigned char* bytes, std::size_t tasks) {
  std::vector<lf::join_handle<void>> handles;
  handles.reserve(tasks);
  for (std::size_t i = 0; i < tasks; ++i) handles.push_back(lf::spawn(pool, mark(bytes + i)));
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
void spawn_join(benchmark::State& state, std::uint64_t tasks) {
  std::vector<unsigned char> bytes(tasks);
  for (auto _ : state) {
    std::fill(bytes.begin(), bytes.end(), 0);
    auto p = std::make_unique<P>(pool_threads());
    const clock::time_point start = clock::now();
    if constexpr (std::is_same_v<P, lf_tasks_wg>) {
      lf::spawn(p->pool, spawn_all_detached(p->pool, bytes.data(), bytes.size())).get();
    } else if constexpr (std::is_same_v<P, lf_tasks>) {
      lf::spawn(p->pool, spawn_all(p->pool, bytes.data(), bytes.size())).get();
    } else {
      p->arena.execute([&] {
        tbb::task_group g;
        for (std::size_t i = 0; i < bytes.size(); ++i) g.run([b = bytes.data() + i] { *b = 1; });
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
    state.counters["tasks_per_second"] = static_cast<double>(tasks) / seconds;
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

constexpr std::uint64_t chan_round_trips = 100'000;
constexpr std::uint64_t chan_handoffs = 1'000'000;

// The channel workloads' two forms: two coroutines on a pool, or two threads.
struct coro_chan {
  static constexpr const char* name = "lf::task";
};
struct thread_chan {
  static constexpr const char* name = "threads";
};

using chan = lf::channel<std::uint64_t>;

lf::task<std::uint64_t> coro_ping(chan& there, chan& back, std::uint64_t round_trips) {
  std::uint64_t wrong = 0;
  for (std::uint64_t i = 1; i <= round_trips; ++i) {
    (void)co_await lf::send(there, i);
    auto r = co_await lf::recv(back);
    wrong += !r.ok() || *r != i;
  }
  co_return wrong;
}
lf::task<void> coro_pong(chan& there, chan& back, std::uint64_t round_trips) {
  for (std::uint64_t n = 0; n < round_trips; ++n) (void)co_await lf::send(back, *co_await lf::recv(there));
}
lf::task<void> coro_send_all(chan& ch, std::uint64_t handoffs) {
  for (std::uint64_t v = 1; v <= handoffs; ++v) (void)co_await lf::send(ch, v);
}
lf::task<std::uint64_t> coro_sum_all(chan& ch, std::uint64_t handoffs) {
  std::uint64_t sum = 0;
  for (std::uint64_t n = 0; n < handoffs; ++n) sum += *co_await lf::recv(ch);
  co_return sum;
}

// Runs b() and a() as two coroutines on a fresh pool; returns seconds and a's result.
template <class A, class B>
std::pair<double, std::uint64_t> run_coroutine_pair(A a, B b) {
  lf::worker_pool pool(static_cast<std::ptrdiff_t>(pool_threads()));
  const clock::time_point start = clock::now();
  auto hb = lf::spawn(pool, b());
  const std::uint64_t r = lf::spawn(pool, a()).get();
  hb.get();
  return {seconds_since(start), r};
}

template <class P>
void chan_pingpong(benchmark::State& state, std::uint64_t round_trips) {
  for (auto _ : state) {
    chan there, back;
    double seconds = 0;
    std::uint64_t wrong = 0;
    if constexpr (std::is_same_v<P, coro_chan>) {
      std::tie(seconds, wrong) = run_coroutine_pair([&] { return coro_ping(there, back, round_trips); },
                                                    [&] { return coro_pong(there, back, round_trips); });
    } else {
      const clock::time_point start = clock::now();
      std::thread pong([&] {
        for (std::uint64_t n = 0; n < round_trips; ++n) (void)back.send(*there.recv());
      });
      for (std::uint64_t i = 1; i <= round_trips; ++i) {
        (void)there.send(i);
        auto r = back.recv();
        wrong += !r.ok() || *r != i;
      }
      pong.join();
      seconds = seconds_since(start);
    }
    if (wrong != 0) {
      state.SkipWithError((std::to_string(wrong) + " echoes wrong").c_str());
      break;
    }
    state.SetIterationTime(seconds);
    state.counters["ns_per_round_trip"] = seconds * 1e9 / static_cast<double>(round_trips);
  }
}

template <class P>
void chan_handoff(benchmark::State& state, std::uint64_t handoffs) {
  for (auto _ : state) {
    chan ch;
    double seconds = 0;
    std::uint64_t sum = 0;
    if constexpr (std::is_same_v<P, coro_chan>) {
      std::tie(seconds, sum) = run_coroutine_pair([&] { return coro_sum_all(ch, handoffs); },
                                                  [&] { return coro_send_all(ch, handoffs); });
    } else {
      const clock::time_point start = clock::now();
      std::thread sender([&] {
        for (std::uint64_t v = 1; v <= handoffs; ++v) (void)ch.send(v);
      });
      for (std::uint64_t n = 0; n < handoffs; ++n) sum += *ch.recv();
      sender.join();
      seconds = seconds_since(start);
    }
    if (sum != handoffs * (handoffs + 1) / 2) {
      state.SkipWithError(("sum " + std::to_string(sum)).c_str());
      break;
    }
    state.SetIterationTime(seconds);
    state.counters["items_per_second"] = static_cast<double>(handoffs) / seconds;
  }
}

constexpr std::uint64_t select_items = 1'000'000;
constexpr std::ptrdiff_t select_capacity = 1024;

lf::task<void> coro_fill(chan& ch, std::uint64_t first, std::uint64_t n) {
  for (std::uint64_t v = first; v < first + n; ++v) (void)co_await lf::send(ch, v);
}

template <class P>
void chan_select4(benchmark::State& state, std::uint64_t items) {
  const std::uint64_t per = items / 4;
  for (auto _ : state) {
    std::vector<std::unique_ptr<chan>> c;
    for (int i = 0; i < 4; ++i) c.push_back(std::make_unique<chan>(select_capacity));
    std::uint64_t sum = 0, received = 0;
    const auto take = [&](std::uint64_t v) {
      sum += v;
      ++received;
    };
    double seconds = 0;
    if constexpr (std::is_same_v<P, coro_chan>) {
      lf::worker_pool pool(static_cast<std::ptrdiff_t>(pool_threads()));
      const clock::time_point start = clock::now();
      std::vector<lf::join_handle<void>> fills;
      for (std::uint64_t p = 0; p < 4; ++p) fills.push_back(lf::spawn(pool, coro_fill(*c[p], p * per + 1, per)));
      lf::go(pool, [&]() -> lf::task<void> {
        while (received < items) {
          (void)co_await lf::co_select(lf::on_recv(*c[0], take), lf::on_recv(*c[1], take), lf::on_recv(*c[2], take),
                                       lf::on_recv(*c[3], take));
        }
      }).get();
      for (auto& f : fills) f.get();
      seconds = seconds_since(start);
    } else {
      const clock::time_point start = clock::now();
      std::vector<std::thread> fills;
      for (std::uint64_t p = 0; p < 4; ++p) {
        fills.emplace_back([&, p] {
          for (std::uint64_t v = p * per + 1; v <= (p + 1) * per; ++v) (void)c[p]->send(v);
        });
      }
      while (received < items) {
        (void)lf::select(lf::on_recv(*c[0], take), lf::on_recv(*c[1], take), lf::on_recv(*c[2], take),
                         lf::on_recv(*c[3], take));
      }
      for (auto& f : fills) f.join();
      seconds = seconds_since(start);
    }
    if (received != items || sum != items * (items + 1) / 2) {
      state.SkipWithError(("received " + std::to_string(received) + ", sum " + std::to_string(sum)).c_str());
      break;
    }
    state.SetIterationTime(seconds);
    state.counters["items_per_second"] = static_cast<double>(items) / seconds;
  }
}

constexpr std::uint64_t suspended_coroutines = 100'000;
constexpr std::uint64_t blocked_threads = 1'000;
constexpr unsigned suspended_pool_threads = 2;

// Bytes malloc holds for the program now (every arena; mmapped chunks included).
std::uint64_t heap_bytes() {
  const struct mallinfo2 m = ::mallinfo2();
  return static_cast<std::uint64_t>(m.uordblks) + static_cast<std::uint64_t>(m.hblkhd);
}

// Resident set size now: /proc/self/statm's second field (pages) x the page size.
std::uint64_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) throw std::runtime_error("bench_coro: cannot read /proc/self/statm");
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

// The parked ones count themselves just before they block; once all N have, the last
// few may still be between the count and the channel's queue (at most one per pool
// worker, or each thread until the scheduler runs it): 20 ms lets them reach it. The
// coroutines' figure does not depend on it (their frames, links included, are malloc'd
// before they run); the threads' RSS does only by the stack pages of those few.
void await_parked(const lf::atomic<std::uint64_t>& parked, std::uint64_t n) {
  while (parked.load(std::memory_order_acquire) < n) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

lf::task<void> park(lf::channel<int>* ch, lf::atomic<std::uint64_t>* parked, lf::atomic<std::uint64_t>* woke_closed) {
  parked->fetch_add(1, std::memory_order_release);
  const lf::recv_result<int> r = co_await lf::recv(*ch);
  if (r.status() == lf::chan_status::closed) woke_closed->fetch_add(1, std::memory_order_relaxed);
}

template <class P>
void suspended_memory(benchmark::State& state, std::uint64_t n) {
  for (auto _ : state) {
    lf::channel<int> ch;
    lf::atomic<std::uint64_t> parked{0}, woke_closed{0};
    double per = 0;
    std::string label;
    const clock::time_point start = clock::now();
    if constexpr (std::is_same_v<P, coro_chan>) {
      lf::worker_pool pool(static_cast<std::ptrdiff_t>(suspended_pool_threads));
      std::vector<lf::join_handle<void>> handles;
      handles.reserve(n);  // before the first reading: the handles are the caller's, not the coroutines'
      const std::uint64_t heap0 = heap_bytes(), rss0 = rss_bytes();
      for (std::uint64_t i = 0; i < n; ++i) handles.push_back(lf::go(pool, park, &ch, &parked, &woke_closed));
      await_parked(parked, n);
      const std::uint64_t heap1 = heap_bytes(), rss1 = rss_bytes();
      (void)ch.close();
      for (auto& h : handles) h.get();
      per = (static_cast<double>(heap1) - static_cast<double>(heap0)) / static_cast<double>(n);
      label = "rss " + std::to_string((static_cast<double>(rss1) - static_cast<double>(rss0)) / static_cast<double>(n)) + " B/coroutine";
    } else {
      std::vector<std::thread> threads;
      threads.reserve(n);
      const std::uint64_t heap0 = heap_bytes(), rss0 = rss_bytes();
      for (std::uint64_t i = 0; i < n; ++i) {
        threads.emplace_back([&] {
          parked.fetch_add(1, std::memory_order_release);
          if (ch.recv().status() == lf::chan_status::closed) woke_closed.fetch_add(1, std::memory_order_relaxed);
        });
      }
      await_parked(parked, n);
      const std::uint64_t heap1 = heap_bytes(), rss1 = rss_bytes();
      (void)ch.close();
      for (auto& t : threads) t.join();
      per = (static_cast<double>(rss1) - static_cast<double>(rss0)) / static_cast<double>(n);
      label = "heap " + std::to_string((static_cast<double>(heap1) - static_cast<double>(heap0)) / static_cast<double>(n)) + " B/thread";
    }
    const double seconds = seconds_since(start);
    if (woke_closed.load() != n) {
      state.SkipWithError((std::to_string(woke_closed.load()) + " of " + std::to_string(n) +
                           " parked receivers woke with closed").c_str());
      break;
    }
    if (!(per > 0)) {  // what N parked ones hold cannot be nothing: the reading failed
      state.SkipWithError(("memory grew by " + std::to_string(per) + " bytes per parked one").c_str());
      break;
    }
    state.SetIterationTime(seconds);
    state.SetLabel(label);
    state.counters["bytes_per_coroutine"] = per;
  }
}

}  // namespace
}  // namespace lf_bench

int main(int argc, char** argv) {
  using namespace lf_bench;
  // TBB's default worker count is one less than the CPUs; allow as many as lf's pool has.
  tbb::global_control workers(tbb::global_control::max_allowed_parallelism, pool_threads() + 1);
  add<lf_tasks>("coro_spawn_join", spawn_join<lf_tasks>, count(spawn_tasks));
  add<lf_tasks_wg>("coro_spawn_join", spawn_join<lf_tasks_wg>, count(spawn_tasks));
  add<tbb_tasks>("coro_spawn_join", spawn_join<tbb_tasks>, count(spawn_tasks));
  add<lf_tasks>("coro_fib_join", fib_join<lf_tasks>);
  add<tbb_tasks>("coro_fib_join", fib_join<tbb_tasks>);
  add<coro_chan>("coro_chan_pingpong", chan_pingpong<coro_chan>, count(chan_round_trips));
  add<thread_chan>("coro_chan_pingpong", chan_pingpong<thread_chan>, count(chan_round_trips));
  add<coro_chan>("coro_chan_handoff", chan_handoff<coro_chan>, count(chan_handoffs));
  add<thread_chan>("coro_chan_handoff", chan_handoff<thread_chan>, count(chan_handoffs));
  add<coro_chan>("coro_chan_select4", chan_select4<coro_chan>, count(select_items, 4));
  add<thread_chan>("coro_chan_select4", chan_select4<thread_chan>, count(select_items, 4));
  add<coro_chan>("coro_suspended_memory", suspended_memory<coro_chan>, count(suspended_coroutines));
  // The smoke's threads are 100, not 1: one thread's stack pages may all come from what a
  // joined thread left (glibc caches stacks), and its RSS then grows by nothing.
  add<thread_chan>("coro_suspended_memory", suspended_memory<thread_chan>, count(blocked_threads, 100));
  add_calibration();
  benchmark::AddCustomContext("pool threads", std::to_string(pool_threads()));
  benchmark::AddCustomContext("build flags", LF_BENCH_BUILD_FLAGS);
  return run_benchmarks(argc, argv);
}
