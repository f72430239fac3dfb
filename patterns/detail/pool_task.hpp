// lf::worker_pool's task record, the state a submit() task shares with its
// lf::pool_future, and the injection queue (private machinery of patterns/worker_pool.hpp).
#pragma once

#include <cstddef>
#include <deque>
#include <exception>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>

#include "lockfree/mpmc_ring.hpp"
#include "patterns/detail/parking_lot.hpp"
#include "sync/atomic.hpp"

namespace lf {
class worker_pool;
}

namespace lf::detail {

// What a task dropped by shutdown_now reports, wherever a result was expected: a
// submit()'s future throws it, an errgroup's wait() returns it. The error std::promise
// reports for a result that will never come.
inline std::exception_ptr dropped_task_error() {
  return std::make_exception_ptr(std::future_error(std::future_errc::broken_promise));
}

// A queued task: one heap object per submission. shutdown_now drops a queued task:
// drop() instead of run(), then the record is deleted. For submit() the deletion alone
// reports it: the pool_promise inside is destroyed without having run. A record deleted
// with neither run() nor drop() was never accepted (the submission threw).
//
// handed_over exists for ThreadSanitizer only. A task pushed on a worker's deque reaches a
// thief through the deque's release fence (chase_lev_deque.hpp, (2)) and the thief's
// acquire load of bottom (5); TSan does not model standalone fences, so it would report
// the thief's reads of the task as races with its construction. Under TSan the pusher
// also stores this flag with release and the taker loads it with acquire, a pair TSan
// sees. Without TSan the two calls are empty: the fence already orders the hand-over.
struct pool_task {
  virtual ~pool_task() = default;
  virtual void run() noexcept = 0;
  virtual void drop() noexcept {}
  // What the pool calls: run (or drop) the task, then free the record. A record that the
  // pool does not own (a coroutine's resumption, patterns/detail/coro_fiber.hpp) overrides
  // these, and must not be touched by the pool after the call: running it may free it.
  virtual void run_and_dispose() noexcept {
    run();
    delete this;
  }
  virtual void drop_and_dispose() noexcept {
    drop();
    delete this;
  }
  // False for a coroutine's resumption: it never takes a slot of the queue limit (a
  // suspended coroutine must be able to resume whatever the queue holds).
  bool holds_slot = true;
  // A coroutine's fiber (coro_fiber): the pool puts it in a registry when it first runs
  // or drops it (worker_pool::register_fiber).
  bool coroutine = false;
#if LF_TSAN
  void publish() noexcept { handed_over.store(true, std::memory_order_release); }
  void receive() const noexcept { (void)handed_over.load(std::memory_order_acquire); }
  lf::atomic<bool> handed_over{false};
#else
  void publish() noexcept {}
  void receive() const noexcept {}
#endif
};

// What a task does when dropped, by default: nothing (a detach()ed task is only counted).
struct ignore_drop {
  void operator()() noexcept {}
};

template <class Fn, class OnDrop = ignore_drop>
struct pool_task_of final : pool_task {
  explicit pool_task_of(Fn&& f, OnDrop&& d = OnDrop{}) : fn(std::move(f)), on_drop(std::move(d)) {}
  void run() noexcept override { fn(); }  // Fn catches what it throws (see worker_pool)
  void drop() noexcept override { on_drop(); }
  Fn fn;
  OnDrop on_drop;
};

// What a submit() task and its lf::pool_future share: the result (a value or an
// exception) and the completion word both sides meet on (parking_lot.hpp). Shared
// ownership, because complete() touches the word after the waiter may already have seen
// it done and left. The result is written once, before complete() (C1), and read only
// after is_done() (C2): plain members, ordered by that pair.
template <class R>
struct future_state {
  // void: an empty marker; R&: the address; otherwise R itself.
  using stored = std::conditional_t<std::is_void_v<R>, bool,
                                    std::conditional_t<std::is_reference_v<R>, std::remove_reference_t<R>*, R>>;

  future_state(worker_pool* p, parking_lot* lot) : pool(p), helper_lot(lot) {}

  completion done;
  worker_pool* const pool;        // whose workers help while they wait (may be null)
  parking_lot* const helper_lot;  // where those helpers park: the pool's lot
  std::optional<stored> value;
  std::exception_ptr error;
};

// The producing side: runs the work once and completes the state. Destroyed without
// having run (a task dropped by shutdown_now, or never queued), it completes the state
// with std::future_error(broken_promise), as std::promise does.
template <class R>
class pool_promise {
 public:
  explicit pool_promise(std::shared_ptr<future_state<R>> s) noexcept : s_(std::move(s)) {}
  pool_promise(pool_promise&&) noexcept = default;
  pool_promise& operator=(pool_promise&&) = delete;
  ~pool_promise() {
    if (s_) fail(dropped_task_error());
  }

  template <class Work>
  void run(Work&& work) noexcept {
    try {
      if constexpr (std::is_void_v<R>) {
        std::forward<Work>(work)();
        s_->value.emplace(true);
      } else if constexpr (std::is_reference_v<R>) {
        s_->value.emplace(&std::forward<Work>(work)());
      } else {
        s_->value.emplace(std::forward<Work>(work)());
      }
    } catch (...) {
      s_->error = std::current_exception();
    }
    finish();
  }

  // Completes the state with `e` instead of running (a canceled task).
  void fail(std::exception_ptr e) noexcept {
    s_->error = std::move(e);
    finish();
  }

 private:
  void finish() noexcept {
    std::shared_ptr<future_state<R>> s = std::move(s_);
    s->done.complete(s->helper_lot);
  }

  std::shared_ptr<future_state<R>> s_;
};

// Where submissions from outside the pool go: a bounded lock-free ring for the common
// case, and a mutex-protected deque behind it for overflow. Why both: the ring keeps a
// submission off any lock while the workers keep up, and the overflow keeps submit()
// from ever failing or blocking on a full ring (a limit on queued tasks is the pool's
// explicit option, pool_options::queue_limit, counted apart from the ring's slots).
// Workers look at the overflow only when its counter says it holds something, so the
// lock is touched only while it does. No order is promised between tasks: overflow
// tasks may run after later ring tasks.
class injection_queue {
 public:
  explicit injection_queue(std::size_t ring_capacity) : ring_(ring_capacity) {}

  void push(pool_task* t) {
    if (ring_.try_push(t)) return;
    std::lock_guard<std::mutex> lock(overflow_mutex_);
    overflow_.push_back(t);
    // relaxed is enough: a worker that reads the count also takes the lock before
    // touching the deque, and the park/wake fences order it before the sleeper's re-check.
    overflow_size_.fetch_add(1, std::memory_order_relaxed);
  }

  pool_task* try_pop() {
    if (std::optional<pool_task*> t = ring_.try_pop()) return *t;
    if (overflow_size_.load(std::memory_order_relaxed) == 0) return nullptr;
    std::lock_guard<std::mutex> lock(overflow_mutex_);
    if (overflow_.empty()) return nullptr;
    pool_task* t = overflow_.front();
    overflow_.pop_front();
    overflow_size_.fetch_sub(1, std::memory_order_relaxed);
    return t;
  }

  std::size_t size_approx() const {
    return ring_.size_approx() + overflow_size_.load(std::memory_order_relaxed);
  }

 private:
  lf::mpmc_ring<pool_task*> ring_;
  std::mutex overflow_mutex_;
  std::deque<pool_task*> overflow_;
  lf::atomic<std::size_t> overflow_size_{0};
};

}  // namespace lf::detail
