// lf::worker_pool — a fixed set of worker threads on a work-stealing core.
//
// Work stealing as in Blumofe & Leiserson (JACM 1999): each worker owns an
// lf::chase_lev_deque<task*> (lockfree/chase_lev_deque.hpp) and runs its own tasks last
// in, first out; an idle worker takes from the injection queue (submissions from
// outside the pool, patterns/detail/pool_task.hpp: an mpmc_ring with a locked overflow
// deque behind it), then steals the oldest task of another worker, then parks
// (patterns/detail/parking_lot.hpp: announce, re-check, wait on an epoch word; no
// busy-waiting while idle, and no lost wake-up — the model lane checks that protocol
// from its header). A task submitted from inside a worker goes to that worker's own
// deque (fork-join): its data is still in that core's cache, and idle workers steal it.
//
// The pool is blocking by design (DESIGN §3: a parked worker waits for a submitter;
// wait_idle and shutdown wait for tasks); the queues under it are lock-free.
//
// Semantics.
//   submit(f, args...)  returns std::future<R>; what f throws reaches the future, and
//                       the worker lives on.
//   detach(f)           fire and forget. What f throws goes to the error hook (a
//                       constructor argument or set_error_hook); without a hook it is
//                       swallowed. Either way it is counted: detached_errors().
//   wait_idle()         returns when every task accepted so far (and every task those
//                       submitted) has finished. Called from a worker it would wait for
//                       itself: it throws std::logic_error instead.
//   shutdown()          graceful: stops accepting submissions from outside the pool,
//                       finishes every queued task (tasks may still submit children while
//                       the pool drains), then joins the workers. The destructor calls it.
//   shutdown_now()      stops accepting any submission and drops every task that has
//                       not started: a dropped submit() task's future throws
//                       std::future_error with std::future_errc::broken_promise; dropped
//                       detach() tasks are counted in dropped(). Running tasks finish.
//                       It may escalate a graceful shutdown another thread is waiting in.
//   After shutdown has begun, submit() and detach() throw lf::pool_closed (an error at
//   the call, not an error future: the caller learns at once that nothing was queued).
//   Calling shutdown, shutdown_now or the destructor from a worker of the same pool
//   throws std::logic_error (it would join itself).
//   No order is promised between tasks.
//
//   parallel_for(pool, first, last, f)  calls f(i) for every i in [first, last), in
//   chunks (see there), the calling thread taking part; returns when all have run and
//   rethrows the first exception a chunk threw (the chunks not yet started are skipped).
//
// Introspection (snapshots, exact only when the pool is quiet): workers(), completed()
// (tasks run, whether they threw or not), stolen() (tasks taken from another worker's
// deque), queued_approx() (tasks waiting in any queue), dropped(), detached_errors().
//
// Out of scope of this slice (issue 5 plans them): submission with a context (the
// context type arrives with the channels issue); bounded submission with a rejection
// policy (block, fail, run in the caller); waiting on a future from inside a worker by
// helping run tasks — today such a wait blocks the worker (parallel_for does not: its
// caller runs chunks itself and waits only for chunks already running elsewhere).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "lockfree/chase_lev_deque.hpp"
#include "patterns/detail/parking_lot.hpp"
#include "patterns/detail/pool_task.hpp"
#include "sync/atomic.hpp"
#include "sync/config.hpp"

namespace lf {

// Thrown by submit() and detach() once shutdown has begun.
class pool_closed : public std::runtime_error {
 public:
  pool_closed() : std::runtime_error("lf::worker_pool: the pool is shut down; the task was not accepted") {}
};

class worker_pool {
 public:
  using error_hook = std::function<void(std::exception_ptr)>;

  // n workers; n == 0: one per hardware thread (at least one). n < 0 throws
  // std::invalid_argument. `on_detached_error` receives what a detach() task throws.
  explicit worker_pool(std::ptrdiff_t n = 0, error_hook on_detached_error = {})
      : hook_(std::move(on_detached_error)), injection_(injection_capacity) {
    if (n < 0) throw std::invalid_argument("lf::worker_pool: n = " + std::to_string(n) + " workers (must be >= 0)");
    std::size_t count = static_cast<std::size_t>(n);
    if (count == 0) count = std::max(1u, std::thread::hardware_concurrency());
    workers_.reserve(count);
    for (std::size_t i = 0; i < count; ++i) workers_.push_back(std::make_unique<worker>());
    try {
      threads_.reserve(count);
      for (std::size_t i = 0; i < count; ++i) threads_.emplace_back([this, i] { work(i); });
    } catch (...) {
      stop_.store(true, std::memory_order_release);
      lot_.unpark_all();
      for (std::thread& t : threads_) t.join();
      throw;
    }
  }

  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  ~worker_pool() { shutdown(); }

  template <class F, class... A>
  [[nodiscard]] auto submit(F&& f, A&&... args) -> std::future<std::invoke_result_t<std::decay_t<F>, std::decay_t<A>...>> {
    using R = std::invoke_result_t<std::decay_t<F>, std::decay_t<A>...>;
    std::packaged_task<R()> job([f = std::forward<F>(f), ... args = std::forward<A>(args)]() mutable -> R {
      return std::invoke(std::move(f), std::move(args)...);
    });
    std::future<R> result = job.get_future();
    enqueue(make_task(std::move(job)));
    return result;
  }

  template <class F>
  void detach(F&& f) {
    enqueue(make_task([this, f = std::forward<F>(f)]() mutable {
      try {
        f();
      } catch (...) {
        report_detached_error(std::current_exception());
      }
    }));
  }

  void set_error_hook(error_hook hook) {
    std::lock_guard<std::mutex> lock(hook_mutex_);
    hook_ = std::move(hook);
  }

  void wait_idle() const {
    if (on_this_pool()) throw std::logic_error("lf::worker_pool::wait_idle called from a worker of the same pool");
    int n;
    while ((n = pending_.load(std::memory_order_acquire)) != 0) {  // (3) pairs with (4)
      pending_.wait(n, std::memory_order_acquire);
    }
  }

  void shutdown() { close(accepting_inside); }
  void shutdown_now() { close(dropping); }

  std::size_t workers() const noexcept { return workers_.size(); }
  std::uint64_t completed() const { return sum(&worker::completed); }
  std::uint64_t stolen() const { return sum(&worker::stolen); }
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  std::uint64_t detached_errors() const { return detached_errors_.load(std::memory_order_relaxed); }
  std::size_t queued_approx() const {
    std::size_t n = injection_.size_approx();
    for (const auto& w : workers_) n += w->deque.size_approx();
    return n;
  }

  // True on a worker thread of this pool.
  bool on_this_pool() const noexcept { return current_pool_ == this; }

 private:
  // state_: who may submit.
  static constexpr int open = 0;               // everyone
  static constexpr int accepting_inside = 1;   // graceful shutdown: only tasks already running
  static constexpr int dropping = 2;           // shutdown_now: nobody; queued tasks are dropped
  // The injection ring's slots; submissions past them wait in the overflow deque.
  static constexpr std::size_t injection_capacity = 4096;

  struct alignas(cache_line) worker {
    lf::chase_lev_deque<detail::pool_task*> deque{256};
    // Written by the owning worker only (load + store, no RMW); read by introspection.
    lf::atomic<std::uint64_t> completed{0};
    lf::atomic<std::uint64_t> stolen{0};
  };

  template <class Fn>
  static detail::pool_task* make_task(Fn&& fn) {
    return new detail::pool_task_of<std::decay_t<Fn>>(std::forward<Fn>(fn));
  }

  // Counts the task as pending, then queues it. pending_ is raised before the state is
  // read, and close() writes the state before it reads pending_ (all seq_cst): either
  // this submission sees the pool closing and withdraws, or close() sees it pending and
  // waits for it. A task already running keeps pending_ above zero, so its children can
  // be accepted during a graceful drain without racing that wait.
  void enqueue(detail::pool_task* t) {
    std::unique_ptr<detail::pool_task> owned(t);
    pending_.fetch_add(1, std::memory_order_seq_cst);
    const int state = state_.load(std::memory_order_seq_cst);
    const bool inside = on_this_pool();
    if (state == dropping || (state == accepting_inside && !inside)) {
      finish_one();
      throw pool_closed();
    }
    owned.release();
    t->publish();
    if (inside) {
      workers_[current_index_]->deque.push(t);
    } else {
      injection_.push(t);
    }
    lot_.unpark_one();  // after the push: the parking protocol's publication
  }

  // Any queue, in the order of the header comment; nullptr when all looked empty.
  detail::pool_task* find_task(std::size_t self) {
    worker& me = *workers_[self];
    if (std::optional<detail::pool_task*> t = me.deque.pop()) return *t;
    if (detail::pool_task* t = injection_.try_pop()) return t;
    const std::size_t n = workers_.size();
    for (std::size_t k = 1; k < n; ++k) {
      if (std::optional<detail::pool_task*> t = workers_[(self + k) % n]->deque.try_steal()) {
        me.stolen.store(me.stolen.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        return *t;
      }
    }
    return nullptr;
  }

  void work(std::size_t self) {
    current_pool_ = this;
    current_index_ = self;
    worker& me = *workers_[self];
    for (;;) {
      detail::pool_task* t = find_task(self);
      if (t == nullptr) {
        bool stop = false;
        lot_.park_until([&] {
          t = find_task(self);
          stop = stop_.load(std::memory_order_acquire);
          return t != nullptr || stop;
        });
        if (t == nullptr) {
          // stop_ is raised only once nothing is pending, so no task is left behind.
          if (stop || stop_.load(std::memory_order_acquire)) break;
          continue;
        }
      }
      t->receive();
      if (state_.load(std::memory_order_relaxed) == dropping) {
        delete t;  // a submit() task's future now reports broken_promise
        dropped_.fetch_add(1, std::memory_order_relaxed);
      } else {
        t->run();
        delete t;  // before finish_one: wait_idle returning means the captures are gone too
        me.completed.store(me.completed.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      }
      finish_one();
    }
    current_pool_ = nullptr;
  }

  void finish_one() {
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {  // (4) release: the task's effects; pairs with (3)
      pending_.notify_all();
    }
  }

  void report_detached_error(std::exception_ptr e) noexcept {
    detached_errors_.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(hook_mutex_);
    if (!hook_) return;
    try {
      hook_(std::move(e));
    } catch (...) {  // a throwing hook must not take the worker down either
    }
  }

  void close(int mode) {
    if (on_this_pool()) throw std::logic_error("lf::worker_pool: shutdown called from a worker of the same pool");
    int state = state_.load(std::memory_order_seq_cst);
    while (state < mode && !state_.compare_exchange_weak(state, mode, std::memory_order_seq_cst)) {
    }
    if (mode == dropping) {
      lot_.unpark_all();  // parked workers help drop what other workers still hold
      while (detail::pool_task* t = injection_.try_pop()) {
        delete t;
        dropped_.fetch_add(1, std::memory_order_relaxed);
        finish_one();
      }
    }
    std::lock_guard<std::mutex> lock(close_mutex_);
    if (joined_) return;
    int n;
    while ((n = pending_.load(std::memory_order_seq_cst)) != 0) pending_.wait(n, std::memory_order_acquire);
    stop_.store(true, std::memory_order_release);
    lot_.unpark_all();
    for (std::thread& t : threads_) t.join();
    joined_ = true;
  }

  std::uint64_t sum(lf::atomic<std::uint64_t> worker::*counter) const {
    std::uint64_t n = 0;
    for (const auto& w : workers_) n += ((*w).*counter).load(std::memory_order_relaxed);
    return n;
  }

  static inline thread_local const worker_pool* current_pool_ = nullptr;
  static inline thread_local std::size_t current_index_ = 0;

  std::vector<std::unique_ptr<worker>> workers_;
  std::vector<std::thread> threads_;
  mutable std::mutex hook_mutex_;
  error_hook hook_;
  detail::injection_queue injection_;
  detail::parking_lot lot_;
  // Tasks accepted and not yet finished or dropped. An int because it is the word
  // wait_idle parks on (the seam's wait takes int); 2^31 queued tasks would need far
  // more memory than their records.
  mutable lf::atomic<int> pending_{0};
  lf::atomic<int> state_{open};
  lf::atomic<bool> stop_{false};
  lf::atomic<std::uint64_t> dropped_{0};
  lf::atomic<std::uint64_t> detached_errors_{0};
  std::mutex close_mutex_;
  bool joined_ = false;
};

// Calls f(i) for each i in [first, last) on the pool, the calling thread taking part.
// Chunks of grain = max(1, n / (8 * workers)) indices: eight chunks per worker leave
// room for stealing to even out uneven chunks, while each chunk is long enough that
// claiming it (one fetch_add) costs nothing next to the work (oneTBB's auto partitioner
// aims at a similar few chunks per thread). Up to `workers` helper tasks are queued;
// each, and the caller, claim chunks until none are left, so the caller never waits on
// a task that has not started: called from a worker, it cannot deadlock. Rethrows the
// first exception a chunk threw; later chunks are then skipped. Throws lf::pool_closed
// if the pool accepted no helper (nothing has run then).
template <class Index, class F>
  requires std::is_integral_v<Index>
void parallel_for(worker_pool& pool, Index first, Index last, F&& f) {
  if (!(first < last)) return;
  struct shared {
    Index first, last, grain;
    int chunks;
    lf::atomic<int> next{0};
    lf::atomic<int> done{0};
    lf::atomic<bool> failed{false};
    std::mutex error_mutex;
    std::exception_ptr error;
    std::remove_reference_t<F>* body;
  };
  const auto n = static_cast<std::uint64_t>(last - first);  // last > first: no overflow in unsigned
  const std::uint64_t grain = std::max<std::uint64_t>(1, n / (8 * pool.workers()));
  const std::uint64_t chunks = (n + grain - 1) / grain;
  if (chunks > static_cast<std::uint64_t>(INT32_MAX)) throw std::length_error("lf::parallel_for: too many chunks");
  auto s = std::make_shared<shared>();
  s->first = first;
  s->last = last;
  s->grain = static_cast<Index>(grain);
  s->chunks = static_cast<int>(chunks);
  s->body = &f;

  // Claims and runs chunks until none are left. The helpers hold `s` (shared_ptr), so a
  // helper that starts after the caller returned finds no chunk and touches nothing else.
  auto run_chunks = [](shared& st) {
    for (;;) {
      const int c = st.next.fetch_add(1, std::memory_order_relaxed);  // relaxed: only picks a chunk
      if (c >= st.chunks) return;
      if (!st.failed.load(std::memory_order_relaxed)) {
        const Index begin = static_cast<Index>(st.first + static_cast<Index>(c) * st.grain);
        const Index end = (st.last - begin) > st.grain ? static_cast<Index>(begin + st.grain) : st.last;
        try {
          for (Index i = begin; i < end; ++i) (*st.body)(i);
        } catch (...) {
          std::lock_guard<std::mutex> lock(st.error_mutex);
          if (!st.error) st.error = std::current_exception();
          st.failed.store(true, std::memory_order_relaxed);
        }
      }
      // release: the chunk's effects; pairs with the caller's acquire below.
      if (st.done.fetch_add(1, std::memory_order_acq_rel) + 1 == st.chunks) st.done.notify_all();
    }
  };

  const std::size_t helpers = std::min<std::uint64_t>(pool.workers(), chunks - 1);
  for (std::size_t h = 0; h < helpers; ++h) {
    try {
      pool.detach([s, run_chunks] { run_chunks(*s); });
    } catch (const pool_closed&) {
      if (h == 0) throw;
      break;  // shutdown raced us: the caller runs what the missing helpers would have
    }
  }
  run_chunks(*s);
  int d;
  while ((d = s->done.load(std::memory_order_acquire)) != s->chunks) s->done.wait(d, std::memory_order_acquire);
  if (s->error) std::rethrow_exception(s->error);
}

}  // namespace lf
