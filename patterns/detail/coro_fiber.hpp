// lf::detail::coro_fiber and coro_registry — what lf::worker_pool knows of coroutines
// (private machinery of patterns/task.hpp).
//
// A fiber is one line of coroutine execution, a "goroutine": the root task started by
// lf::spawn / lf::go / lf::sync_wait and every task it awaits in turn. Only one frame of
// a fiber runs or waits to run at a time, so one record per fiber is enough to queue its
// next resumption on a pool: the fiber is itself the pool_task (no allocation per
// resumption), and run_and_dispose resumes the frame waiting in `next` without touching
// the record afterwards (the resumed frame may finish and free it).
//
// The registry lists the fibers that live on a pool, so that a pool being destroyed can
// destroy those still suspended (see destroy_all). A fiber joins it when a worker of the
// pool first runs it (or, if shutdown_now drops it before that, when it is dropped) and
// leaves it when it finishes or moves away (lf::resume_on). The registry's mutex is taken
// twice per fiber, not per resumption; a pool keeps one registry per worker (a fiber joins
// the one of the worker that first runs it, so a fiber that finishes there takes an
// uncontended lock twice) and one for fibers dropped from outside. Measured: one pool-wide
// registry cost fork-join fib(25) on 2 workers a quarter of its time in that mutex and its
// futex wake-ups; joining the spawner's registry (the worker that forks) put the two
// workers on one mutex whenever the other one ran the forked fiber.
#pragma once

#include <coroutine>
#include <mutex>
#include <utility>

#include "patterns/detail/pool_task.hpp"

namespace lf {
class worker_pool;
}

namespace lf::detail {

class coro_registry;
struct coro_access;  // patterns/task.hpp

// Symmetric transfer (P0913) needs the compiler to turn "resume the handle that
// await_suspend returned" into a tail call. clang does so at every optimisation level
// (musttail); g++ 12 does only with sibling-call optimisation (-O2) and no sanitizer,
// and at -O0/-O1 or under ASan/TSan a chain of 10^6 awaits overflowed the stack here
// (measured). No macro tells the two g++ cases apart, so on g++ a transfer goes through
// a per-thread trampoline instead: await_suspend hands the next frame to the loop in
// run_coroutine, which the thread entered when it started running coroutines. Constant
// stack either way; the trampoline costs a thread_local store and a loop turn.
#if defined(__clang__) && !defined(LF_CORO_TRAMPOLINE)
inline void run_coroutine(std::coroutine_handle<> h) noexcept { h.resume(); }
inline std::coroutine_handle<> transfer_to(std::coroutine_handle<> h) noexcept { return h; }
#else
struct trampoline {
  static inline thread_local bool running = false;
  static inline thread_local std::coroutine_handle<> pending{};
};
// Resumes h and every frame transferred to from it, on this thread, in constant stack.
// Nests (a coroutine that calls sync_wait runs its own loop).
inline void run_coroutine(std::coroutine_handle<> h) noexcept {
  const bool was_running = trampoline::running;
  const std::coroutine_handle<> saved = trampoline::pending;
  trampoline::running = true;
  trampoline::pending = {};
  while (h) {
    h.resume();
    h = trampoline::pending;
    trampoline::pending = {};
  }
  trampoline::running = was_running;
  trampoline::pending = saved;
}
// What await_suspend returns to transfer to h.
inline std::coroutine_handle<> transfer_to(std::coroutine_handle<> h) noexcept {
  if (h.address() == std::noop_coroutine().address()) return h;
  if (!trampoline::running) {
    run_coroutine(h);  // resumed from outside any loop: this await_suspend becomes one
  } else {
    trampoline::pending = h;
  }
  return std::noop_coroutine();
}
#endif

class coro_fiber : public pool_task {
 public:
  coro_fiber() {
    holds_slot = false;
    coroutine = true;
  }

  // Runs on a pool worker: resumes the frame that waits to run. (A fiber not in a
  // registry yet, never run on this pool, was put in the worker's just before.)
  void run_and_dispose() noexcept override {
    current_ = this;
    run_coroutine(next);  // *this may be gone now
    current_ = nullptr;
  }
  // shutdown_now dropped the queued resumption: the frame stays suspended, and the
  // pool's close() destroys it with the other suspended fibers (destroy_all); a fiber
  // that never ran was put in a registry just before, for that.
  void drop_and_dispose() noexcept override {}

  // In a registry of its pool. Read without the registry's lock by the thread that runs
  // or drops the fiber: only that thread changes it (see coro_registry::remove).
  bool registered() const noexcept { return registry_ != nullptr; }
  void run() noexcept override {}

  // The pool is closing and nothing will ever run this fiber again: destroy its frames,
  // and fail whoever waits for its result.
  virtual void abandon() noexcept = 0;

  // The fiber whose frame a pool worker resumed last on this thread (null elsewhere).
  static coro_fiber* current() noexcept { return current_; }

  worker_pool* pool = nullptr;     // where its resumptions go; null: a sync_wait thread drives it
  std::coroutine_handle<> next;    // the frame to resume; written before it is queued

 private:
  friend class coro_registry;
  static inline thread_local coro_fiber* current_ = nullptr;
  coro_registry* registry_ = nullptr;  // guarded by that registry's mutex
  coro_fiber* prev_ = nullptr;
  coro_fiber* next_ = nullptr;
};

class coro_registry {
 public:
  coro_registry() = default;
  coro_registry(const coro_registry&) = delete;
  coro_registry& operator=(const coro_registry&) = delete;

  void add(coro_fiber& f) {
    std::lock_guard<std::mutex> lock(mutex_);
    f.registry_ = this;
    f.prev_ = nullptr;
    f.next_ = head_;
    if (head_ != nullptr) head_->prev_ = &f;
    head_ = &f;
  }

  // Takes `f` out of whatever registry holds it; nothing if none does (destroy_all took it).
  static void remove(coro_fiber& f) {
    // The fiber's registry changes only on the thread that runs the fiber (add, remove)
    // or after every worker joined (destroy_all), so this read needs no lock.
    coro_registry* r = f.registry_;
    if (r == nullptr) return;
    std::lock_guard<std::mutex> lock(r->mutex_);
    if (f.registry_ != r) return;
    if (f.prev_ != nullptr) {
      f.prev_->next_ = f.next_;
    } else {
      r->head_ = f.next_;
    }
    if (f.next_ != nullptr) f.next_->prev_ = f.prev_;
    f.registry_ = nullptr;
  }

  // Called by the pool once its workers are joined: nothing can resume these fibers any
  // more. Each is abandoned (its frames destroyed, its waiters failed) outside the lock,
  // since abandoning one may complete others' waits; `except` (the fiber running on the
  // calling worker, when a task destroys its own pool) is left alone.
  void destroy_all(coro_fiber* except) noexcept { abandon_list(take_all(), except); }

  // destroy_all in two steps, for a pool with several registries: take every list first
  // (abandoning a fiber may finish a fiber of another registry), then abandon them.
  coro_fiber* take_all() noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    coro_fiber* list = std::exchange(head_, nullptr);
    for (coro_fiber* f = list; f != nullptr; f = f->next_) f->registry_ = nullptr;
    return list;
  }
  static void abandon_list(coro_fiber* list, coro_fiber* except) noexcept {
    while (list != nullptr) {
      coro_fiber* f = list;
      list = f->next_;
      if (f != except) f->abandon();
    }
  }

 private:
  std::mutex mutex_;
  coro_fiber* head_ = nullptr;
};

}  // namespace lf::detail
