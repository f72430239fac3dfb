// lf::task<T> — C++20 coroutine tasks ("goroutines") on lf::worker_pool.
//
// The C++20 coroutine model (P0912, papers/nishanov-2018-coroutines.md) with symmetric
// transfer (P0913): a coroutine suspends by returning to whoever resumed it, and
// `co_await task` hands the thread to the awaited frame by returning its handle from
// await_suspend, so the compiler jumps to it instead of calling it; when it finishes,
// its final_suspend jumps back to the awaiter the same way. A chain of 10^6 nested awaits
// therefore runs in constant stack (the unit test runs one).
//
//   lf::task<T>          lazy (nothing runs until it is awaited or started), move-only;
//                        destroying a task that was never started destroys its frame.
//                        What the body throws is rethrown by co_await in the awaiter.
//   lf::spawn(pool, t)   starts t on `pool` as a new fiber; returns lf::join_handle<T>.
//   lf::go(pool, f, a...) spawn(pool, f(a...)), with f and the arguments kept alive in
//                        the coroutine's frame (a lambda's captures would otherwise die
//                        with the temporary lambda).
//   lf::sync_wait(t)     runs t on the calling thread (resumptions posted to it come back
//                        to it) and returns its value or rethrows; for main() and threads.
//   join_handle<T>       co_await h (from a task) / h.wait(), h.get() (from a thread);
//                        h.detach() or the destructor lets the fiber run on alone (Go's
//                        semantics: nobody waits for a goroutine unless told to).
//   co_await lf::when_all(t1, t2, ...)  forks the tasks on the awaiter's pool and resumes
//                        when all have finished, with a tuple of their values (void ->
//                        std::monostate); rethrows the first task's exception (by position)
//                        after all finished. The worker is never blocked: the awaiter
//                        suspends, the first task runs at once on this thread, inline in
//                        the awaiter's fiber as co_await would run it (no fiber of its
//                        own: a fork costs one fiber, not two), the others are fibers of
//                        their own queued on this worker's deque for idle workers to
//                        steal, and the last one to finish resumes the awaiter where it
//                        finished (an lf::resume_on inside the first task moves the
//                        awaiter's fiber with it, as in a plain co_await).
//                        From a task with no pool (under sync_wait) it throws
//                        std::logic_error: co_await lf::resume_on(pool) first.
//   co_await lf::yield() requeues the fiber on its pool (lets other tasks run first).
//   co_await lf::resume_on(pool)  moves the fiber to `pool` and continues on one of its
//                        workers; throws lf::pool_closed if `pool` refuses submissions.
//   co_await lf::sleep_for(d) / lf::sleep_until(t)  (patterns/coro_awaitables.hpp).
//
// Where coroutines run. A fiber's resumptions are queued on its pool like tasks (its own
// worker's deque from a worker, the injection queue from anywhere else), one record per
// fiber, never an allocation per resumption. A suspended coroutine holds no thread.
//
// Shutdown and destruction of the pool. A resumption is accepted from the callers a
// submission is (worker_pool's header): during a graceful shutdown the queued ones run,
// and those woken from a worker of the pool are still accepted; one woken from outside
// after shutdown began is refused and its coroutine stays suspended. Once the workers
// are joined, every fiber of the pool still suspended is destroyed: its frames are freed
// innermost last (each awaiter's destructor withdraws from what it waited on — a timer,
// a context, another fiber), and whoever waits on its join_handle gets
// std::future_error(broken_promise), the error of a task dropped by shutdown_now. A
// resumption dropped by shutdown_now leaves its fiber suspended: it is destroyed the same
// way. Destroying the frames of a fiber suspended 10^6 awaits deep recurses that deep.
//
// Exceptions. What a task throws reaches its awaiter (co_await rethrows) or its
// join_handle (get() rethrows). A detached fiber's exception is dropped: catch inside
// the coroutine what a detached one must report.
//
// The join protocol (root_state::word: done, awaited, thread-waiting and posted bits):
//   (J1) the finishing fiber stores its result, then fetch_or(done, acq_rel): the release
//        publishes the result; if the awaited bit was set it wakes that waiter.
//   (J2) an awaiter stores its waiter record, then fetch_or(awaited, acq_rel): the
//        release publishes the record to (J1)'s acquire; if done was already set it does
//        not suspend (and J1, which saw no awaited bit, wakes nobody). One of the two
//        RMWs on the one word comes first, so exactly one side sees the other: no lost
//        and no double wake-up.
//   (J3) a thread waiting sets the thread bit and sleeps on the word (futex: compared
//        atomically with going to sleep); (J1) notifies when it saw that bit.
//   (J4) a sync_wait driver's posted resumption: `next` written, then fetch_or(posted,
//        release); the driver's acquire load of the bit pairs with it.
#pragma once

#include <coroutine>
#include <cstddef>
#include <exception>
#include <functional>
#include <future>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include "patterns/detail/coro_fiber.hpp"
#include "patterns/detail/frame_cache.hpp"
#include "patterns/worker_pool.hpp"
#include "sync/atomic.hpp"
#include "sync/thread.hpp"

namespace lf {

template <class T = void>
class task;
template <class T>
class join_handle;
namespace detail {
template <class T>
struct join_awaiter;
template <class T>
struct task_awaiter;
}  // namespace detail

namespace detail {

class root_base;
template <class T>
struct task_promise;

// The pool's and the tasks' private parts that this header uses.
struct coro_access {
  static bool on_pool(const worker_pool& p) noexcept { return p.on_this_pool(); }
  static void enlist(worker_pool& p, coro_fiber& f) { p.enlist(f); }
  static pool_closed closed_error(const worker_pool& p) { return p.closed_error(); }
  // next_slot: a wake-up (run it next on this worker); false: a fork (when_all's
  // children, yield), queued on the deque for idle workers to steal.
  static bool schedule(worker_pool& p, coro_fiber& f, bool next_slot = true) {
    return p.schedule_resumption(&f, next_slot);
  }
  template <class T>
  static std::coroutine_handle<task_promise<T>> release_frame(task<T>& t) noexcept {
    return std::exchange(t.h_, {});
  }
  template <class T>
  static std::coroutine_handle<task_promise<T>> frame(const task<T>& t) noexcept {
    return t.h_;
  }
};

struct join_waiter;

// What every lf task's promise holds: who awaits it and which fiber it runs in.
struct task_promise_base {
  std::coroutine_handle<> continuation;  // the awaiting frame; null: this is a fiber's root
  coro_fiber* fiber = nullptr;           // set when the task is started or awaited
  root_base* root = nullptr;             // the fiber's state, when this is its root task
  join_waiter* arrival = nullptr;        // when_all's first child: where it arrives when done
  std::exception_ptr error;

  std::suspend_always initial_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { error = std::current_exception(); }

#if LF_CORO_FRAME_CACHE
  // Frames come from the per-thread frame cache (frame_cache.hpp).
  static void* operator new(std::size_t n) { return frame_allocate(n); }
  static void operator delete(void* p, std::size_t n) noexcept { frame_deallocate(p, n); }
#endif

  struct final_awaiter {
    bool await_ready() const noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept;
    void await_resume() const noexcept {}
  };
  final_awaiter final_suspend() noexcept { return {}; }
};

template <class T>
struct task_promise : task_promise_base {
  using value_type = T;
  task<T> get_return_object() noexcept;
  template <class U>
    requires std::is_convertible_v<U&&, T>
  void return_value(U&& v) {
    value.emplace(std::forward<U>(v));
  }
  T take() {
    if (error) std::rethrow_exception(error);
    return std::move(*value);
  }
  std::optional<T> value;
};

template <>
struct task_promise<void> : task_promise_base {
  using value_type = void;
  task<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void take() {
    if (error) std::rethrow_exception(error);
  }
};

template <class P>
concept lf_promise = std::is_base_of_v<task_promise_base, P>;

// Queues `h` to run next on fiber `f`: on its pool, or posted to its sync_wait driver.
// False when the pool refused (the fiber stays suspended until the pool destroys it).
inline bool post(coro_fiber& f, std::coroutine_handle<> h);
// The same with coro_access::schedule's choice of queue (post: a wake-up).
inline bool post_to(coro_fiber& f, std::coroutine_handle<> h, bool next_slot);

// Where a woken waiter should continue: `h` itself when the waker is a worker of the
// waiter's pool (symmetric transfer, no queue trip), else a posted resumption.
inline std::coroutine_handle<> continue_or_post(coro_fiber& f, std::coroutine_handle<> h) {
  if (f.pool != nullptr && coro_access::on_pool(*f.pool)) return h;
  post(f, h);
  return std::noop_coroutine();
}

// A record waiting for a fiber's result (J2). wake() returns the frame to transfer to.
struct join_waiter {
  virtual std::coroutine_handle<> wake() noexcept = 0;

 protected:
  ~join_waiter() = default;
};

// A fiber's state, shared by its root frame and its join_handle (two references).
class root_base : public coro_fiber {
 public:
#if LF_CORO_FRAME_CACHE
  // Fiber states come from the frame cache too (the virtual destructor passes the size).
  static void* operator new(std::size_t n) { return frame_allocate(n); }
  static void operator delete(void* p, std::size_t n) noexcept { frame_deallocate(p, n); }
#endif

  static constexpr int done_bit = 1, awaited_bit = 2, thread_bit = 4, posted_bit = 8;

  void retain() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }  // relaxed: the caller holds a reference
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;  // acq_rel: the last owner sees all writes
  }

  // Starts the root frame: on the calling thread (sync_wait), or queued on the pool.
  void start_on(worker_pool* p) {
    pool = p;
    if (p == nullptr) {
      run_coroutine(frame_);
      return;
    }
    next = frame_;  // it joins a registry when a worker first runs it
    if (!coro_access::schedule(*p, *this)) throw coro_access::closed_error(*p);
  }

  // The root frame finished (its final_suspend; the frame is destroyed by the caller
  // after this returns... see final_awaiter) or was abandoned: complete (J1).
  std::coroutine_handle<> complete() noexcept {
    coro_registry::remove(*this);
    const int prev = word_.fetch_or(done_bit, std::memory_order_acq_rel);  // (J1) pairs with (J2), (J3)
    std::coroutine_handle<> to = std::noop_coroutine();
    if ((prev & awaited_bit) != 0) to = waiter_->wake();
    if ((prev & thread_bit) != 0) word_.notify_all();
    release();  // the frame's reference
    return to;
  }

  std::coroutine_handle<> root_frame() const noexcept { return frame_; }

  bool is_done() const noexcept { return (word_.load(std::memory_order_acquire) & done_bit) != 0; }

  // (J2) false: done already; do not suspend.
  bool register_waiter(join_waiter& w) noexcept {
    waiter_ = &w;
    return (word_.fetch_or(awaited_bit, std::memory_order_acq_rel) & done_bit) == 0;  // (J2) pairs with (J1)
  }

  // Withdraws a registered waiter whose frame is being destroyed. False: the fiber
  // finished meanwhile and its wake-up is taken (or done).
  bool withdraw_waiter() noexcept {
    int w = word_.load(std::memory_order_relaxed);
    while ((w & done_bit) == 0) {
      if (word_.compare_exchange_weak(w, w & ~awaited_bit, std::memory_order_acq_rel, std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }

  // The thread side: waits until done (J3), running posted resumptions if this thread
  // drives the fiber (sync_wait).
  void wait_from_thread() noexcept {
    for (;;) {
      int w = word_.load(std::memory_order_acquire);  // (J3)/(J4)
      if ((w & posted_bit) != 0) {
        word_.fetch_and(~posted_bit, std::memory_order_acq_rel);
        run_coroutine(next);
        continue;
      }
      if ((w & done_bit) != 0) return;
      if ((w & thread_bit) == 0) {
        w = word_.fetch_or(thread_bit, std::memory_order_acq_rel) | thread_bit;
        if ((w & (done_bit | posted_bit)) != 0) continue;
      }
      word_.wait(w, std::memory_order_acquire);  // (J3) pairs with (J1)/(J4)
    }
  }

  // (J4) a resumption posted to the sync_wait driver.
  void post_to_driver(std::coroutine_handle<> h) noexcept {
    next = h;
    const int prev = word_.fetch_or(posted_bit, std::memory_order_acq_rel);  // (J4)
    if ((prev & thread_bit) != 0) word_.notify_all();
  }

 protected:
  explicit root_base(std::coroutine_handle<> frame) noexcept : frame_(frame) {}
  virtual ~root_base() = default;

  std::coroutine_handle<> frame_;  // the root task's frame, until it finishes
  std::exception_ptr error_;

 private:
  lf::atomic<int> refs_{2};
  lf::atomic<int> word_{0};
  join_waiter* waiter_ = nullptr;  // written before (J2), read after (J1)
};

template <class T>
class root_state final : public root_base {
 public:
  using stored = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

  explicit root_state(std::coroutine_handle<task_promise<T>> frame) noexcept : root_base(frame) {
    frame.promise().root = this;
    frame.promise().fiber = this;
  }

  // From final_awaiter: moves the result out of the finished frame, destroys it.
  std::coroutine_handle<> finish(std::coroutine_handle<task_promise<T>> h) noexcept {
    task_promise<T>& p = h.promise();
    if (p.error) {
      error_ = std::move(p.error);
    } else {
      try {
        if constexpr (std::is_void_v<T>) {
          value_.emplace();
        } else {
          value_.emplace(std::move(*p.value));
        }
      } catch (...) {
        error_ = std::current_exception();
      }
    }
    frame_ = {};
    h.destroy();
    return complete();
  }

  void abandon() noexcept override {
    auto h = std::exchange(frame_, {});
    if (h) h.destroy();
    error_ = dropped_task_error();
    complete();
  }

  // After done: the value, or rethrows. Once.
  stored take() {
    if (error_) std::rethrow_exception(error_);
    return std::move(*value_);
  }

 private:
  std::optional<stored> value_;
};

template <class P>
std::coroutine_handle<> task_promise_base::final_awaiter::await_suspend(std::coroutine_handle<P> h) noexcept {
  task_promise_base& p = h.promise();
  if (p.continuation) return transfer_to(p.continuation);  // back to the awaiter (symmetric transfer)
  // when_all's first child, run inline in the awaiter's fiber: arrive (the awaiter and
  // its frame, which owns this one, may be resumed and destroyed by another worker as
  // soon as wake() counted this arrival: nothing here is touched after it).
  if (p.arrival != nullptr) return transfer_to(p.arrival->wake());
  return transfer_to(static_cast<root_state<typename P::value_type>*>(p.root)->finish(h));
}

}  // namespace detail

namespace detail {
template <class T>
struct task_awaiter {
  std::coroutine_handle<task_promise<T>> h;
  bool await_ready() const noexcept { return false; }
  template <lf_promise P>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<P> caller) noexcept {
    h.promise().continuation = caller;
    h.promise().fiber = caller.promise().fiber;
    return transfer_to(h);  // symmetric transfer into the task
  }
  T await_resume() { return h.promise().take(); }
};
}  // namespace detail

template <class T>
class [[nodiscard]] task {
 public:
  using promise_type = detail::task_promise<T>;
  using value_type = T;

  task() noexcept = default;
  task(task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  task& operator=(task&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  ~task() {
    if (h_) h_.destroy();
  }

  bool valid() const noexcept { return static_cast<bool>(h_); }

  // co_await from an lf task: runs this task in the awaiter's fiber.
  detail::task_awaiter<T> operator co_await() && {
    if (!h_) throw std::logic_error("lf::task: co_await on an empty task");
    return detail::task_awaiter<T>{h_};
  }

 private:
  friend struct detail::task_promise<T>;
  friend struct detail::coro_access;
  template <class U>
  friend join_handle<U> start_fiber(worker_pool* pool, task<U> t);
  explicit task(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
  std::coroutine_handle<promise_type> h_;
};

namespace detail {
template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
  return task<T>(std::coroutine_handle<task_promise<T>>::from_promise(*this));
}
inline task<void> task_promise<void>::get_return_object() noexcept {
  return task<void>(std::coroutine_handle<task_promise<void>>::from_promise(*this));
}
}  // namespace detail

namespace detail {
// co_await on a join_handle. The record lives in the awaiting frame.
template <class T>
struct join_awaiter final : join_waiter {
  join_handle<T>* self;
  coro_fiber* fiber = nullptr;
  std::coroutine_handle<> h;
  lf::atomic<int> wake_done{0};  // (W) the waker's last touch of this record
  bool registered = false;

  explicit join_awaiter(join_handle<T>* s) noexcept : self(s) {}
  join_awaiter(const join_awaiter&) = delete;
  ~join_awaiter() {
    // Destroyed while still suspended (the pool destroys the frame): withdraw, or wait
    // for a wake-up already taken to stop touching this record.
    if (registered && !self->s_->withdraw_waiter()) {
      lf::backoff b;
      while (wake_done.load(std::memory_order_acquire) == 0) b.pause();  // (W) pairs with wake()
    }
  }
  // The pool may destroy the awaiting frame (the destructor above) as soon as (W) is
  // stored: copy what is needed first, and keep the fiber's state alive across the post
  // with a reference of our own.
  std::coroutine_handle<> wake() noexcept override {
    auto* f = static_cast<root_base*>(fiber);
    const std::coroutine_handle<> resume = h;
    f->retain();
    wake_done.store(1, std::memory_order_release);  // (W) pairs with the destructor's acquire
    std::coroutine_handle<> to = continue_or_post(*f, resume);
    f->release();
    return to;
  }
  bool await_ready() const noexcept { return self->s_->is_done(); }
  template <lf_promise P>
  bool await_suspend(std::coroutine_handle<P> caller) noexcept {
    fiber = caller.promise().fiber;
    h = caller;
    // Written before (J2): once it is published the waker may resume the caller, whose
    // await_resume writes `registered` on another thread.
    registered = true;
    if (self->s_->register_waiter(*this)) return true;
    registered = false;  // done already: nobody will wake us, we continue here
    return false;
  }
  T await_resume() {
    registered = false;  // woken: nothing to withdraw
    return self->take();
  }
};
}  // namespace detail

// A started fiber's result (see the header comment). Move-only; an empty handle
// (default-constructed, moved from, detached, or after get / co_await) throws
// std::future_error(no_state) from every call but valid() and detach().
template <class T>
class [[nodiscard]] join_handle {
 public:
  using stored = typename detail::root_state<T>::stored;

  join_handle() noexcept = default;
  join_handle(join_handle&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  join_handle& operator=(join_handle&& o) noexcept {
    if (this != &o) {
      detach();
      s_ = std::exchange(o.s_, nullptr);
    }
    return *this;
  }
  join_handle(const join_handle&) = delete;
  join_handle& operator=(const join_handle&) = delete;
  ~join_handle() { detach(); }

  bool valid() const noexcept { return s_ != nullptr; }
  bool is_ready() const {
    require();
    return s_->is_done();
  }

  // Lets the fiber run on alone; its result (or exception) is dropped.
  void detach() noexcept {
    if (s_ != nullptr) std::exchange(s_, nullptr)->release();
  }

  // From a thread (not a coroutine of the fiber's own pool while every worker waits...):
  // blocks until the fiber finished. On a worker this blocks the worker: prefer co_await.
  void wait() const {
    require();
    s_->wait_from_thread();
  }

  // Waits, then returns the value or rethrows; the handle is empty afterwards.
  T get() {
    wait();
    return take();
  }

  // From an lf task: suspends until the fiber finished, without blocking the worker.
  detail::join_awaiter<T> operator co_await() && {
    require();
    return detail::join_awaiter<T>(this);
  }

 private:
  template <class U>
  friend join_handle<U> start_fiber(worker_pool* pool, task<U> t);
  template <class... U>
  friend class when_all_awaiter;
  friend struct detail::join_awaiter<T>;
  explicit join_handle(detail::root_state<T>* s) noexcept : s_(s) {}

  void require() const {
    if (s_ == nullptr) throw std::future_error(std::future_errc::no_state);
  }

  T take() {
    detail::root_state<T>* s = std::exchange(s_, nullptr);
    struct releaser {
      detail::root_state<T>* s;
      ~releaser() { s->release(); }
    } r{s};
    if constexpr (std::is_void_v<T>) {
      s->take();
    } else {
      return s->take();
    }
  }

  detail::root_state<T>* s_ = nullptr;
};

// Starts `t` as a new fiber on `pool` (null: driven by the thread that waits on it).
template <class T>
join_handle<T> start_fiber(worker_pool* pool, task<T> t) {
  if (!t.h_) throw std::invalid_argument("lf::spawn: t is an empty task");
  auto* s = new detail::root_state<T>(t.h_);
  t.h_ = {};  // the frame belongs to the fiber now
  join_handle<T> handle(s);
  try {
    s->start_on(pool);
  } catch (...) {
    s->abandon();  // destroys the frame, drops the frame's reference
    throw;
  }
  return handle;
}

// Starts t on `pool`; throws lf::pool_closed if the pool refuses submissions from here.
template <class T>
join_handle<T> spawn(worker_pool& pool, task<T> t) {
  return start_fiber(&pool, std::move(t));
}

namespace detail {
template <class F, class... A>
auto invoke_owned(F f, A... args) -> task<typename std::invoke_result_t<F&, A&...>::value_type> {
  co_return co_await std::invoke(f, args...);
}
template <class F, class... A>
auto invoke_owned_void(F f, A... args) -> task<void> {
  co_await std::invoke(f, args...);
}
}  // namespace detail

// spawn(pool, f(args...)), keeping f and copies of the arguments in the fiber's frame.
template <class F, class... A>
  requires std::is_invocable_v<std::decay_t<F>&, std::decay_t<A>&...>
auto go(worker_pool& pool, F&& f, A&&... args) {
  using R = typename std::invoke_result_t<std::decay_t<F>&, std::decay_t<A>&...>::value_type;
  if constexpr (std::is_void_v<R>) {
    return spawn(pool, detail::invoke_owned_void(std::decay_t<F>(std::forward<F>(f)),
                                                 std::decay_t<A>(std::forward<A>(args))...));
  } else {
    return spawn(pool, detail::invoke_owned(std::decay_t<F>(std::forward<F>(f)),
                                            std::decay_t<A>(std::forward<A>(args))...));
  }
}

// Runs t on the calling thread until it finishes; returns its value or rethrows.
template <class T>
T sync_wait(task<T> t) {
  return start_fiber<T>(nullptr, std::move(t)).get();
}

// co_await lf::yield(): requeues the fiber on its pool. Under sync_wait (no pool) or
// when the pool refuses (shutdown_now), it continues at once.
struct yield_awaiter {
  bool await_ready() const noexcept { return false; }
  template <detail::lf_promise P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    detail::coro_fiber* f = h.promise().fiber;
    if (f->pool == nullptr) return false;
    return detail::post_to(*f, h, false);  // behind the worker's queued tasks, not in its next slot
  }
  void await_resume() const noexcept {}
};
inline yield_awaiter yield() noexcept { return {}; }

// co_await lf::resume_on(pool): continues on a worker of `pool` (see the header comment).
struct resume_on_awaiter {
  worker_pool* target;
  bool refused = false;
  bool await_ready() const noexcept { return false; }
  template <detail::lf_promise P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    detail::coro_fiber* f = h.promise().fiber;
    worker_pool* from = f->pool;
    detail::coro_registry::remove(*f);  // it joins one of target's when a worker runs it
    f->pool = target;
    if (detail::post(*f, h)) return true;
    f->pool = from;
    if (from != nullptr) detail::coro_access::enlist(*from, *f);
    refused = true;
    return false;
  }
  void await_resume() const {
    if (refused) throw detail::coro_access::closed_error(*target);
  }
};
inline resume_on_awaiter resume_on(worker_pool& pool) noexcept { return {&pool}; }

namespace detail {
inline bool post(coro_fiber& f, std::coroutine_handle<> h) { return post_to(f, h, true); }
inline bool post_to(coro_fiber& f, std::coroutine_handle<> h, bool next_slot) {
  if (f.pool == nullptr) {
    static_cast<root_base&>(f).post_to_driver(h);
    return true;
  }
  f.next = h;
  return coro_access::schedule(*f.pool, f, next_slot);
}

template <class T>
using non_void_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;
}  // namespace detail

// The awaitable lf::when_all returns (see the header comment).
template <class... T>
class when_all_awaiter final : detail::join_waiter {
 public:
  explicit when_all_awaiter(task<T>... ts) : tasks_(std::move(ts)...) {}
  when_all_awaiter(when_all_awaiter&&) = delete;

  ~when_all_awaiter() {
    // Destroyed while suspended (its pool is being destroyed; every fiber of that pool
    // is abandoned on the one closing thread, so no wake-up races this): withdraw.
    std::apply([](auto&... h) { (withdraw(h), ...); }, handles_);
  }

  bool await_ready() const noexcept { return sizeof...(T) == 0; }

  template <detail::lf_promise P>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<P> caller) {
    if constexpr (sizeof...(T) == 0) {
      return caller;  // never called: await_ready said ready
    } else {
      return start_all(caller);
    }
  }

  std::tuple<detail::non_void_t<T>...> await_resume() {
    if constexpr (sizeof...(T) == 0) {
      return {};
    } else {
      return take_all();
    }
  }

 private:
  template <class P>
  std::coroutine_handle<> start_all(std::coroutine_handle<P> caller) {
    fiber_ = caller.promise().fiber;
    caller_ = caller;
    worker_pool* pool = fiber_->pool;
    if (pool == nullptr) {
      throw std::logic_error("lf::when_all: the awaiting task runs on no pool (co_await lf::resume_on(pool) first)");
    }
    // Every task is checked before any starts: a throw here leaves nothing running.
    if (!std::apply([](const auto&... t) { return (t.valid() && ...); }, tasks_)) {
      throw std::invalid_argument("lf::when_all: an empty task");
    }
    auto& first = std::get<0>(tasks_);
    pending_.store(static_cast<int>(sizeof...(T)) + 1, std::memory_order_relaxed);  // before any child starts
    // Child 0 runs here, at once, inline in this fiber: no fiber of its own (no state, no
    // registry entry, no queue trip); its final_suspend arrives here (task_promise_base::
    // arrival) instead of resuming an awaiter. The others are fibers of their own, queued
    // on this worker's deque for idle workers to steal.
    const auto h0 = detail::coro_access::frame(first);
    h0.promise().fiber = fiber_;
    h0.promise().arrival = this;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (start_child(pool, std::get<I + 1>(tasks_), std::get<I + 1>(handles_)), ...);
    }(std::make_index_sequence<sizeof...(T) - 1>{});
    (void)arrive();  // never the last: child 0 has not run yet
    return detail::transfer_to(h0);
  }

  // Child 0's result is in its own frame (which tasks_ still owns); the others' in their
  // fibers' states. Every result is taken (destroyed or moved) before the first error,
  // by position, is rethrown.
  std::tuple<detail::non_void_t<T>...> take_all() {
    std::exception_ptr first_error;
    auto values = [&]<std::size_t... I>(std::index_sequence<I...>) {
      return std::tuple<detail::non_void_t<T>...>{take_at<I>(first_error)...};  // in order: braces
    }(std::index_sequence_for<T...>{});
    if (first_error) std::rethrow_exception(first_error);
    return values;
  }

  template <std::size_t I>
  auto take_at(std::exception_ptr& first_error) {
    using S = detail::non_void_t<std::tuple_element_t<I, std::tuple<T...>>>;
    auto take = [](auto& from) {  // a promise (child 0) or a join_handle: take() returns T
      if constexpr (std::is_void_v<decltype(from.take())>) {
        from.take();
        return S{};
      } else {
        return S(from.take());
      }
    };
    try {
      if constexpr (I == 0) {
        return take(detail::coro_access::frame(std::get<0>(tasks_)).promise());
      } else {
        return take(std::get<I>(handles_));
      }
    } catch (...) {
      if (!first_error) first_error = std::current_exception();
      return S{};
    }
  }

  // Children 1.. (checked valid by start_all): fibers of their own, queued for stealing.
  template <class U>
  void start_child(worker_pool* pool, task<U>& t, join_handle<U>& h) {
    auto* s = new detail::root_state<U>(detail::coro_access::release_frame(t));
    h = join_handle<U>(s);
    (void)s->register_waiter(*this);  // not started yet: cannot be done
    s->pool = pool;
    s->next = s->root_frame();  // it joins a registry when a worker first runs it
    if (!detail::coro_access::schedule(*pool, *s, false)) {  // forked: stealable at once
      s->abandon();  // fails the child: counted as finished below
    }
  }

  template <class U>
  static void withdraw(join_handle<U>& h) noexcept {
    if (h.valid()) (void)h.s_->withdraw_waiter();
  }

  // True for the last of the children and the awaiter's own arrival.
  bool arrive() noexcept { return pending_.fetch_sub(1, std::memory_order_acq_rel) == 1; }  // acq_rel: each child's result is published to the last arrival

  std::coroutine_handle<> wake() noexcept override {
    if (!arrive()) return std::noop_coroutine();
    return detail::continue_or_post(*fiber_, caller_);
  }

  std::tuple<task<T>...> tasks_;
  std::tuple<join_handle<T>...> handles_;  // the 0th stays empty: child 0 runs inline, its result in its frame
  detail::coro_fiber* fiber_ = nullptr;
  std::coroutine_handle<> caller_;
  lf::atomic<int> pending_{0};
};

template <class... T>
when_all_awaiter<T...> when_all(task<T>... ts) {
  return when_all_awaiter<T...>(std::move(ts)...);
}

}  // namespace lf
