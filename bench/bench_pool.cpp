// Worker pools: lf::worker_pool against oneTBB (tbb::task_group in a tbb::task_arena of
// the same thread count), Boost.Asio's thread_pool (post) and a mutex + condition
// variable pool written here (the yardstick every pool must beat). Every pool gets as
// many worker threads as this process has CPUs (2 on the CI machine, 16 on the device).
//
// Workloads (one full run per repetition: a fresh pool, its threads started before the
// clock; manual time; what each run checks before it reports a figure; the smoke runs
// 1/1000 of the tasks and elements, workloads.hpp's count(), and the same fib(25)):
//   pool_submit_1t, pool_submit_2t   one / two outside threads submit 10^6 empty tasks
//       in all, and the clock stops when every task has run. Each task stores 1 into its
//       own byte; the run checks that every byte is 1 (each task ran exactly once).
//       tasks_per_second. TBB: arena.enqueue(group.defer(f)) from the outside thread,
//       one task_group per submitter, the waits inside the arena (arena of n slots, none
//       reserved for outside threads, and a global_control allowing n workers: n worker
//       threads, as every pool here has); Asio: post, then join (its own count of
//       outstanding work); mutex pool: its idle wait.
//   pool_fib_spawn   fib(25) by recursive spawning, fire and forget: each call spawns
//       fib(n-1) as a task and goes on with fib(n-2); leaves add into per-thread
//       slots; the clock stops when the pool is idle. Checks the sum = fib(25) = 75025.
//       tasks_per_second (tasks = calls that spawned). Every pool can do this.
//   pool_fib_join    fib(25) as fork-join: each call spawns fib(n-1), computes fib(n-2)
//       and waits for the child inside the worker. lf: pool_future::get (it helps);
//       TBB: task_group::wait (it helps). Asio's and the mutex pool's waits would block
//       a worker and deadlock the recursion, so they have no entry. Checks 75025;
//       ms_per_fib25.
//   pool_parallel_for  y = 2x + y over 10^7 doubles. lf::parallel_for; TBB:
//       tbb::parallel_for (auto partitioner) in the arena; Asio and the mutex pool:
//       8 chunks per thread posted by hand, a std::latch to wait. Checks every y[i];
//       elements_per_second.
#include <benchmark/benchmark.h>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <latch>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "patterns/worker_pool.hpp"
#include "sync/config.hpp"
#include "sync/thread.hpp"
#include "workloads.hpp"

namespace lf_bench {
namespace {

constexpr std::uint64_t submit_tasks = 1'000'000;
constexpr int fib_n = 25;
constexpr std::uint64_t fib_expected = 75025;
constexpr std::uint64_t for_elements = 10'000'000;

unsigned pool_threads() { return static_cast<unsigned>(allowed_cpus().size()); }

double seconds_since(clock::time_point start) { return std::chrono::duration<double>(clock::now() - start).count(); }

// Per-thread sums without a shared line: each thread adds into the slot of its lf index.
struct per_thread_sum {
  std::vector<lf::padded<std::uint64_t>> slots = std::vector<lf::padded<std::uint64_t>>(lf::max_threads);
  void add(std::uint64_t v) { slots[lf::thread_index()].value += v; }
  std::uint64_t total() const {
    std::uint64_t t = 0;
    for (const auto& s : slots) t += s.value;
    return t;
  }
};

// ---- the mutex + condition variable pool --------------------------------------------

class mutex_pool {
 public:
  explicit mutex_pool(unsigned n) {
    for (unsigned i = 0; i < n; ++i) threads_.emplace_back([this] { work(); });
  }
  ~mutex_pool() {
    {
      std::lock_guard<std::mutex> lock(m_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void post(std::function<void()> f) {
    {
      std::lock_guard<std::mutex> lock(m_);
      queue_.push_back(std::move(f));
      ++pending_;
    }
    work_cv_.notify_one();
  }
  void wait_idle() {
    std::unique_lock<std::mutex> lock(m_);
    idle_cv_.wait(lock, [this] { return pending_ == 0; });
  }

 private:
  void work() {
    std::unique_lock<std::mutex> lock(m_);
    for (;;) {
      work_cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stop_ and nothing left
      std::function<void()> f = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      f();
      lock.lock();
      if (--pending_ == 0) idle_cv_.notify_all();
    }
  }

  std::mutex m_;
  std::condition_variable work_cv_;
  std::condition_variable idle_cv_;
  std::deque<std::function<void()>> queue_;
  std::uint64_t pending_ = 0;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

// ---- adapters: one per pool, each with its own idioms --------------------------------
//   P(threads)                   start the pool (before the clock)
//   post(f)                      fire and forget, from outside or from a task
//   wait_all()                   from outside: until every posted task (and its children) ran
//   for_chunks(n, body)          body(begin, end) over [0, n), returns when all ran

struct lf_pool {
  static constexpr const char* name = "lf::worker_pool";
  explicit lf_pool(unsigned n) : pool(static_cast<std::ptrdiff_t>(n)) {}
  template <class F>
  void post(F&& f) {
    pool.detach(std::forward<F>(f));
  }
  void wait_all() { pool.wait_idle(); }
  template <class Body>
  void for_chunks(std::size_t n, Body&& body) {
    // parallel_for's own chunking calls f per index; the body is inlined into the chunk loop.
    lf::parallel_for(pool, std::size_t{0}, n, [&](std::size_t i) { body(i, i + 1); });
  }
  lf::worker_pool pool;
};

struct tbb_pool {
  static constexpr const char* name = "tbb::task_group";
  // No slot reserved for outside threads: n workers, as the other pools have; an outside
  // thread's execute() is then run by a worker while the caller blocks.
  explicit tbb_pool(unsigned n) : arena(static_cast<int>(n), 0) { arena.initialize(); }
  // From outside: into the arena's queue, attached to the group. From a task of the
  // arena: task_group::run, a spawn into this worker's own deque (TBB's fork).
  template <class F>
  void post(F&& f) {
    if (tbb::this_task_arena::current_thread_index() != tbb::task_arena::not_initialized) {
      group.run(std::forward<F>(f));
    } else {
      arena.enqueue(group.defer(std::forward<F>(f)));
    }
  }
  void wait_all() {
    arena.execute([this] { group.wait(); });
  }
  template <class Body>
  void for_chunks(std::size_t n, Body&& body) {
    arena.execute([&] {
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n),
                        [&](const tbb::blocked_range<std::size_t>& r) { body(r.begin(), r.end()); });
    });
  }
  tbb::task_arena arena;
  tbb::task_group group;
};

// Chunks posted by hand for the pools without a parallel_for: 8 per thread, a latch.
template <class Post>
void post_chunks(unsigned threads, std::size_t n, Post&& post, auto&& body) {
  const std::size_t chunks = std::min<std::size_t>(n, 8 * threads);
  std::latch left(static_cast<std::ptrdiff_t>(chunks));
  for (std::size_t c = 0; c < chunks; ++c) {
    const std::size_t begin = n * c / chunks, end = n * (c + 1) / chunks;
    post([&, begin, end] {
      body(begin, end);
      left.count_down();
    });
  }
  left.wait();
}

struct asio_pool {
  static constexpr const char* name = "boost::asio::thread_pool";
  explicit asio_pool(unsigned n) : pool(n), threads(n) {}
  template <class F>
  void post(F&& f) {
    boost::asio::post(pool, std::forward<F>(f));
  }
  void wait_all() { pool.join(); }  // returns once it ran out of work (the pool is done after)
  template <class Body>
  void for_chunks(std::size_t n, Body&& body) {
    post_chunks(threads, n, [this](auto&& f) { post(std::move(f)); }, body);
  }
  boost::asio::thread_pool pool;
  unsigned threads;
};

struct mutex_cv_pool {
  static constexpr const char* name = "baseline::mutex_cv_pool";
  explicit mutex_cv_pool(unsigned n) : pool(n), threads(n) {}
  template <class F>
  void post(F&& f) {
    pool.post(std::forward<F>(f));
  }
  void wait_all() { pool.wait_idle(); }
  template <class Body>
  void for_chunks(std::size_t n, Body&& body) {
    post_chunks(threads, n, [this](auto&& f) { post(std::move(f)); }, body);
  }
  mutex_pool pool;
  unsigned threads;
};

// ---- workloads -----------------------------------------------------------------------

// Every submitter submits the same number: `tasks` is a multiple of Submitters (count()'s
// unit).
template <class P, unsigned Submitters>
void submit_throughput(benchmark::State& state, std::uint64_t tasks) {
  if (tasks % Submitters != 0) {
    state.SkipWithError(("submit: " + std::to_string(tasks) + " tasks do not split over " +
                         std::to_string(Submitters) + " submitters").c_str());
    return;
  }
  for (auto _ : state) {
    auto ran = std::make_unique<std::uint8_t[]>(tasks);  // zeroed
    auto pool = std::make_unique<P>(pool_threads());
    std::uint8_t* flags = ran.get();
    const clock::time_point start = clock::now();
    if constexpr (Submitters == 1) {
      for (std::uint64_t i = 0; i < tasks; ++i) pool->post([flags, i] { flags[i] = 1; });
    } else {
      std::vector<std::thread> submitters;
      for (unsigned s = 0; s < Submitters; ++s) {
        submitters.emplace_back([&, s] {
          for (std::uint64_t i = s; i < tasks; i += Submitters) pool->post([flags, i] { flags[i] = 1; });
        });
      }
      for (auto& t : submitters) t.join();
    }
    pool->wait_all();
    const double seconds = seconds_since(start);
    const std::uint64_t ran_once = static_cast<std::uint64_t>(std::count(flags, flags + tasks, 1));
    pool.reset();
    if (ran_once != tasks) {
      state.SkipWithError(("tasks run: " + std::to_string(ran_once) + " of " + std::to_string(tasks)).c_str());
      break;
    }
    state.SetIterationTime(seconds);
    state.counters["tasks_per_second"] = static_cast<double>(tasks) / seconds;
  }
}

// For TBB the two-submitter run needs a task_group per submitter (a task_group's
// defer/run is not documented as safe from several threads at once).
template <>
void submit_throughput<tbb_pool, 2>(benchmark::State& state, std::uint64_t tasks) {
  if (tasks % 2 != 0) {
    state.SkipWithError(("submit: " + std::to_string(tasks) + " tasks do not split over 2 submitters").c_str());
    return;
  }
  for (auto _ : state) {
    auto ran = std::make_unique<std::uint8_t[]>(tasks);
    std::uint8_t* flags = ran.get();
    auto arena = std::make_unique<tbb::task_arena>(static_cast<int>(pool_threads()), 0);
    arena->initialize();
    tbb::task_group groups[2];
    const clock::time_point start = clock::now();
    std::vector<std::thread> submitters;
    for (unsigned s = 0; s < 2; ++s) {
      submitters.emplace_back([&, s] {
        for (std::uint64_t i = s; i < tasks; i += 2) {
          arena->enqueue(groups[s].defer([flags, i] { flags[i] = 1; }));
        }
      });
    }
    for (auto& t : submitters) t.join();
    arena->execute([&] {
      groups[0].wait();
      groups[1].wait();
    });
    const double seconds = seconds_since(start);
    const std::uint64_t ran_once = static_cast<std::uint64_t>(std::count(flags, flags + tasks, 1));
    arena.reset();
    if (ran_once != tasks) {
      state.SkipWithError(("tasks run: " + std::to_string(ran_once) + " of " + std::to_string(tasks)).c_str());
      break;
    }
    state.SetIterationTime(seconds);
    state.counters["tasks_per_second"] = static_cast<double>(tasks) / seconds;
  }
}

// fib(n), fire and forget: spawns fib(n-1), continues with n-2; leaves add 0 or 1.
template <class P>
void fib_spawn_task(P& pool, int n, per_thread_sum& leaves, per_thread_sum& spawns) {
  while (n >= 2) {
    pool.post([&pool, n, &leaves, &spawns] { fib_spawn_task(pool, n - 1, leaves, spawns); });
    spawns.add(1);
    n -= 2;
  }
  leaves.add(static_cast<std::uint64_t>(n));
}

template <class P>
void fib_spawn(benchmark::State& state) {
  for (auto _ : state) {
    auto pool = std::make_unique<P>(pool_threads());
    per_thread_sum leaves, spawns;
    const clock::time_point start = clock::now();
    pool->post([&] { fib_spawn_task(*pool, fib_n, leaves, spawns); });
    pool->wait_all();
    const double seconds = seconds_since(start);
    pool.reset();
    if (leaves.total() != fib_expected) {
      state.SkipWithError(("fib(25) = " + std::to_string(leaves.total())).c_str());
      break;
    }
    state.SetIterationTime(seconds);
    state.counters["tasks_per_second"] = static_cast<double>(spawns.total() + 1) / seconds;
  }
}

std::uint64_t fib_join_lf(lf::worker_pool& pool, int n) {
  if (n < 2) return static_cast<std::uint64_t>(n);
  lf::pool_future<std::uint64_t> left = pool.submit([&pool, n] { return fib_join_lf(pool, n - 1); });
  const std::uint64_t right = fib_join_lf(pool, n - 2);
  return left.get() + right;
}

std::uint64_t fib_join_tbb(int n) {
  if (n < 2) return static_cast<std::uint64_t>(n);
  std::uint64_t left = 0;
  tbb::task_group g;
  g.run([&] { left = fib_join_tbb(n - 1); });
  const std::uint64_t right = fib_join_tbb(n - 2);
  g.wait();
  return left + right;
}

template <class P>
void fib_join(benchmark::State& state) {
  for (auto _ : state) {
    auto pool = std::make_unique<P>(pool_threads());
    std::uint64_t result = 0;
    const clock::time_point start = clock::now();
    if constexpr (std::is_same_v<P, lf_pool>) {
      result = pool->pool.submit([&] { return fib_join_lf(pool->pool, fib_n); }).get();
    } else {
      result = pool->arena.execute([] { return fib_join_tbb(fib_n); });
    }
    const double seconds = seconds_since(start);
    pool.reset();
    if (result != fib_expected) {
      state.SkipWithError(("fib(25) = " + std::to_string(result)).c_str());
      break;
    }
    state.SetIterationTime(seconds);
    state.counters["ms_per_fib25"] = seconds * 1e3;
  }
}

template <class P>
void parallel_axpy(benchmark::State& state, std::uint64_t elements) {
  std::vector<double> x(elements), y(elements);
  for (std::size_t i = 0; i < elements; ++i) x[i] = static_cast<double>(i & 1023);
  for (auto _ : state) {
    std::fill(y.begin(), y.end(), 1.0);
    auto pool = std::make_unique<P>(pool_threads());
    double* yp = y.data();
    const double* xp = x.data();
    const clock::time_point start = clock::now();
    pool->for_chunks(elements, [yp, xp](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) yp[i] = 2.0 * xp[i] + yp[i];
    });
    const double seconds = seconds_since(start);
    pool.reset();
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < elements; ++i) wrong += y[i] != 2.0 * static_cast<double>(i & 1023) + 1.0;
    if (wrong != 0) {
      state.SkipWithError((std::to_string(wrong) + " elements wrong").c_str());
      break;
    }
    state.SetIterationTime(seconds);
    state.counters["elements_per_second"] = static_cast<double>(elements) / seconds;
  }
}

template <class... P>
void add_pool_benchmarks() {
  const std::uint64_t tasks = count(submit_tasks, 2);  // even: pool_submit_2t splits it
  (add<P>("pool_submit_1t", submit_throughput<P, 1>, tasks), ...);
  (add<P>("pool_submit_2t", submit_throughput<P, 2>, tasks), ...);
  (add<P>("pool_fib_spawn", fib_spawn<P>), ...);
  add<lf_pool>("pool_fib_join", fib_join<lf_pool>);
  add<tbb_pool>("pool_fib_join", fib_join<tbb_pool>);
  (add<P>("pool_parallel_for", parallel_axpy<P>, count(for_elements)), ...);
  add_calibration();
  benchmark::AddCustomContext("pool threads", std::to_string(pool_threads()));
  describe_build(LF_BENCH_BUILD_FLAGS);
}

}  // namespace
}  // namespace lf_bench

int main(int argc, char** argv) {
  using namespace lf_bench;
  // TBB's process-wide worker count defaults to one less than the CPUs (it expects the
  // main thread to join the arena); allow as many workers as the other pools have.
  tbb::global_control workers(tbb::global_control::max_allowed_parallelism, pool_threads() + 1);
  add_pool_benchmarks<lf_pool, tbb_pool, asio_pool, mutex_cv_pool>();
  return run_benchmarks(argc, argv);
}
