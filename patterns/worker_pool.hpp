// lf::worker_pool — a fixed set of worker threads on a work-stealing core.
//
// Work stealing as in Blumofe & Leiserson (JACM 1999; papers/blumofe-1999-work-stealing.md):
// each worker owns an lf::chase_lev_deque<task*> (lockfree/chase_lev_deque.hpp) and runs
// its own tasks last in, first out; an idle worker takes from the injection queue
// (submissions from outside the pool, patterns/detail/pool_task.hpp: an mpmc_ring with a
// locked overflow deque behind it), then steals the oldest task of another worker, then
// looks again for a bounded while (lf::backoff: growing pauses, then yields; a few
// microseconds) and parks (patterns/detail/parking_lot.hpp: announce, re-check, wait on
// an epoch word; no busy-waiting past that search, and no lost wake-up — the model lane
// checks that protocol from its header). The search keeps a submitter that is outpaced
// by idle workers from paying a futex wake-up per task (measured: the note above). A
// task submitted from inside a worker goes to that worker's own deque (fork-join): its
// data is still in that core's cache, and idle workers steal it. A coroutine made ready
// on a worker (patterns/task.hpp) goes to that worker's next slot instead (Go's runnext),
// which the worker runs first once its running task returns: a coroutine that wakes
// another and then suspends hands its core over as Go's scheduler does, with no queue
// and no other core in between. Other workers take a next slot only just before they
// would park, and a worker takes at most 64 in a row before it looks at its queues.
//
// The pool is blocking by design (DESIGN §3: a parked worker waits for a submitter;
// wait_idle and shutdown wait for tasks); the queues under it are lock-free.
//
// Semantics.
//   submit(f, args...)  returns lf::pool_future<R> (below); what f throws reaches the
//                       future, and the worker lives on.
//   detach(f)           fire and forget. What f throws goes to the error hook (a
//                       constructor argument or set_error_hook); without a hook it is
//                       swallowed. Either way it is counted: detached_errors().
//   submit(ctx, f, args...)  the same with an lf::context (patterns/context.hpp): if ctx
//                       is done when a worker reaches the task, f is skipped and the
//                       future throws lf::task_canceled (ctx's err() and cause()).
//   try_submit / try_detach  never wait and never run the task in the caller: when the
//                       queue limit is reached they return an empty optional / false.
//   wait_idle()         returns when every task accepted so far (and every task those
//                       submitted) has finished. Called from a worker it would wait for
//                       itself: it throws std::logic_error instead.
//   shutdown()          graceful: stops accepting submissions from outside the pool,
//                       finishes every queued task (tasks may still submit children while
//                       the pool drains), then joins the workers. The destructor calls it.
//   shutdown_now()      stops accepting any submission and drops every task that has
//                       not started: a dropped submit() task's future throws
//                       std::future_error with std::future_errc::broken_promise, and a
//                       dropped lf::errgroup goroutine reports that same error to its
//                       group's wait() (patterns/errgroup.hpp); every dropped task is
//                       counted in dropped(). Running tasks finish.
//                       It may escalate a graceful shutdown another thread is waiting in.
//   After shutdown has begun, every submission throws lf::pool_closed (an error at the
//   call, not an error future: the caller learns at once that nothing was queued); so
//   does a submitter that was waiting for room when it began.
//   Calling shutdown or shutdown_now from a worker of the same pool throws
//   std::logic_error (it would join itself).
//   fork(): a forked child has none of the pool's workers (only the thread that called
//   fork). The child's copy of the pool accepts nothing: every submission, and lf::go /
//   spawn / resume_on onto it, throws lf::pool_closed saying why, and so does wait_idle;
//   a coroutine of the pool woken in the child stays suspended. shutdown, shutdown_now
//   and the destructor return at once there, leaving the queued tasks and suspended
//   coroutines unrun and undestroyed: they are the parent's (destroying a frame could
//   wait for a lock that a thread of the parent held at the fork). A pool_future or
//   join_handle of the parent's pool waited on in the child waits for ever. A task that
//   calls fork() must exec or _exit in the child before it returns: a worker that comes
//   back from a task into a forked child aborts with a message. (fork_watch.hpp: one
//   relaxed load per submission and two per task tell.) The parent is unaffected.
//   The destructor calls shutdown(), and may also run on a worker of the pool: a task
//   that lets go of the last std::shared_ptr to its pool, in its body or when its
//   captures are destroyed after it ran. That worker then does the shutdown itself: it
//   drains the pool (running queued tasks too: in a pool of one nobody else would),
//   joins the other workers and detaches its own thread, which, once the task returns,
//   touches nothing of the pool and ends. (Supported rather than forbidden: tasks that
//   hold a shared_ptr to keep their pool alive are common, and which thread lets go last
//   is chance, so a rule against it could not be kept.) The rest of that task must not
//   use the pool either (an exception it then throws from a detach() task has no hook
//   left and is dropped), and no other task may be waiting for it (the drain would wait
//   for that waiter: a deadlock, as with any shutdown that waits for itself). Only a
//   task the worker runs directly may do this: one run while its worker helps (a
//   pool_future or errgroup wait) or run by its submitter (overflow_policy) would return
//   into frames of the destroyed pool, so there the destructor (noexcept: it cannot
//   throw) aborts with a message naming the misuse.
//   No order is promised between tasks.
//
// Bounded submission (pool_options). queue_limit caps the tasks accepted and not yet
// started (in any queue, from outside or from a worker). A submission that finds the
// limit reached follows on_full:
//   block        the submitter parks (a slot_gate, parking_lot.hpp: no busy-waiting, no
//                lost wake-up; a worker frees a slot when it takes a task) until there is
//                room. A worker of the pool never parks for room — every worker could end
//                up waiting for room that only workers make — so on a worker `block`
//                runs the task in the caller instead.
//   fail         submit() and detach() throw lf::pool_full; nothing is queued.
//   caller_runs  the task runs at once in the submitting thread (Java's CallerRunsPolicy):
//                the producer slows to the pool's pace. The future is ready on return.
// A task run in the caller is not counted in completed() but in ran_by_callers().
//
// lf::pool_future<R> (after the class). get() returns the value or rethrows what the task
// threw; a dropped task throws std::future_error(broken_promise). Why not std::future:
// a std::future cannot be hooked, so a worker waiting on one can only block, and a pool
// whose workers all wait on tasks still queued deadlocks (a pool of one worker whose
// task waits on its own child does at once). lf's future shares a completion word with
// its task (parking_lot.hpp, `completion`): get()/wait() on a worker of the pool that runs
// the task *help* — they run other tasks of that pool (their own deque first, so a
// waited-for child is usually run right there) and park in the pool's parking lot,
// woken by new work or by the completion, until the result is ready. Anywhere else
// (another thread, a worker of another pool) they sleep on the word (futex).
// What helping costs: the waiting task's stack stays under the tasks it runs, so a task
// that holds a lock while it waits can deadlock with a task it runs meanwhile, and the
// wait returns only when the task it is running finishes.
// Timed waits, wait_for(d) and wait_until(t), return std::future_status::ready or
// ::timeout (never ::deferred). d goes through lf::deadline_after (sync/wait.hpp): a
// negative d throws std::invalid_argument naming it, and a d too long to add to now
// (hours::max()) means no deadline. Off the pool they sleep on the word until the
// deadline; on a worker they help until the deadline, and a task they started runs to
// its end, so they may return later than the deadline by as long as that task takes.
//
// parallel_for(pool, first, last, f)  calls f(i) for every i in [first, last), in chunks
// (see there), the calling thread taking part; returns when all have run and rethrows
// the first exception a chunk threw (the chunks not yet started are skipped).
// parallel_for_chunks(pool, first, last, f)  the same, calling f(begin, end) once per
// chunk. Any integer type, any range: the count is computed in the unsigned type, so
// [INT_MIN, INT_MAX) works. An empty range (first >= last) returns at once; otherwise a
// pool that no longer accepts submissions from the caller (shutdown has begun) throws
// lf::pool_closed, and nothing has run.
//
// Introspection (snapshots, exact only when the pool is quiet): workers(), running()
// (tasks executing now, in workers or in callers), completed() (tasks workers ran,
// whether they threw or not), stolen() (tasks taken from another worker's deque or next slot),
// queued_approx() (tasks waiting in any queue), dropped(), detached_errors(),
// rejected() (submissions turned away: fail, or try_* finding the limit reached),
// ran_by_callers(), canceled() (submit(ctx) tasks skipped; also counted in completed()),
// queue_limit().
#pragma once

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "lockfree/chase_lev_deque.hpp"
#include "patterns/context.hpp"
#include "patterns/detail/coro_fiber.hpp"
#include "patterns/detail/fork_watch.hpp"
#include "patterns/detail/parking_lot.hpp"
#include "patterns/detail/pool_task.hpp"
#include "sync/atomic.hpp"
#include "sync/config.hpp"
#include "sync/thread.hpp"
#include "sync/wait.hpp"

namespace lf {

// Thrown by every submission once shutdown has begun.
class pool_closed : public std::runtime_error {
 public:
  pool_closed() : std::runtime_error("lf::worker_pool: the pool is shut down; the task was not accepted") {}
  explicit pool_closed(const char* why) : std::runtime_error(why) {}
};

// Thrown by submit() and detach() when the queue limit is reached under overflow_policy::fail.
class pool_full : public std::runtime_error {
 public:
  pool_full() : std::runtime_error("lf::worker_pool: the queue limit is reached; the task was not accepted") {}
};

// What the future of a submit(ctx, ...) task throws when ctx was done before the task
// started (the task did not run). error() and cause() are ctx's err() and cause().
class task_canceled : public std::runtime_error {
 public:
  task_canceled(context_error error, std::exception_ptr cause)
      : std::runtime_error(std::string("lf::worker_pool: the task's context was done before it started (") +
                           to_string(error) + ")"),
        error_(error),
        cause_(std::move(cause)) {}
  context_error error() const noexcept { return error_; }
  std::exception_ptr cause() const noexcept { return cause_; }

 private:
  context_error error_;
  std::exception_ptr cause_;
};

// What a submission does when the queue limit is reached (see the header comment).
enum class overflow_policy { block, fail, caller_runs };

template <class R>
class pool_future;

namespace detail {
// The index types parallel_for takes: integers of up to 64 bits, not bool.
template <class Index>
concept chunkable_index =
    std::is_integral_v<Index> && !std::is_same_v<std::remove_cv_t<Index>, bool> && sizeof(Index) <= 8;
}  // namespace detail

// Designated initializers read best: lf::pool_options{.workers = 4, .queue_limit = 64,
// .on_full = lf::overflow_policy::fail}. (g++ 12 with -Wextra warns about the fields such
// a list leaves out, -Wmissing-field-initializers; assigning the fields one by one does not.)
struct pool_options {
  // Worker threads; 0: one per hardware thread (at least one). Negative throws.
  std::ptrdiff_t workers = 0;
  // Most tasks accepted and not yet started; empty: no limit. 0 or past INT_MAX throws.
  std::optional<std::size_t> queue_limit;
  overflow_policy on_full = overflow_policy::block;
  // Receives what a detach() task throws.
  std::function<void(std::exception_ptr)> on_detached_error;
};

class worker_pool {
 public:
  using error_hook = std::function<void(std::exception_ptr)>;

  // n workers; n == 0: one per hardware thread (at least one). n < 0 throws
  // std::invalid_argument. `on_detached_error` receives what a detach() task throws.
  explicit worker_pool(std::ptrdiff_t n = 0, error_hook on_detached_error = {})
      : worker_pool(
            pool_options{checked_count(n), std::nullopt, overflow_policy::block, std::move(on_detached_error)}) {}

  // Throws std::invalid_argument naming the field: workers < 0, queue_limit 0 or past
  // INT_MAX, on_full not one of the policies.
  explicit worker_pool(pool_options options)
      : hook_(shared_hook(std::move(options.on_detached_error))),
        injection_(injection_capacity),
        on_full_(options.on_full),
        forks_at_start_(detail::fork_watch::start()) {
    if (options.workers < 0) {
      throw std::invalid_argument("lf::worker_pool: workers = " + std::to_string(options.workers) +
                                  " (must be >= 0)");
    }
    if (options.queue_limit && (*options.queue_limit == 0 || *options.queue_limit > INT_MAX)) {
      throw std::invalid_argument("lf::worker_pool: queue_limit = " + std::to_string(*options.queue_limit) +
                                  " (must be in [1, " + std::to_string(INT_MAX) + "], or empty for no limit)");
    }
    if (on_full_ != overflow_policy::block && on_full_ != overflow_policy::fail &&
        on_full_ != overflow_policy::caller_runs) {
      throw std::invalid_argument("lf::worker_pool: on_full = " + std::to_string(static_cast<int>(on_full_)) +
                                  " (not an lf::overflow_policy)");
    }
    if (options.queue_limit) gate_ = std::make_unique<detail::slot_gate>(static_cast<int>(*options.queue_limit));
    std::size_t count = static_cast<std::size_t>(options.workers);
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

  // shutdown(); on a worker of this pool, see the header comment and close_from_worker.
  ~worker_pool() {
    if (on_this_pool() && !forked()) {
      close_from_worker();
    } else {
      shutdown();
    }
  }

  template <class F, class... A>
  using result_of = std::invoke_result_t<std::decay_t<F>, std::decay_t<A>...>;

  // Follows on_full when the queue limit is reached.
  template <class F, class... A>
    requires std::is_invocable_v<std::decay_t<F>, std::decay_t<A>...>
  [[nodiscard]] pool_future<result_of<F, A...>> submit(F&& f, A&&... args) {
    auto [task, future] = package(no_context{}, std::forward<F>(f), std::forward<A>(args)...);
    place(std::move(task));
    return std::move(future);
  }

  // As submit(f, args...), but a task whose ctx is done when a worker reaches it is
  // skipped: f does not run and the future throws lf::task_canceled (with ctx's err()
  // and cause()). A task already running is not interrupted: f may capture ctx and
  // check ctx.done() itself. The check is made when the task starts, so the future of a
  // queued task reports the cancellation once a worker reaches it, not at once.
  template <class F, class... A>
    requires std::is_invocable_v<std::decay_t<F>, std::decay_t<A>...>
  [[nodiscard]] pool_future<result_of<F, A...>> submit(const context& ctx, F&& f, A&&... args) {
    auto [task, future] = package(with_context{ctx, &canceled_}, std::forward<F>(f), std::forward<A>(args)...);
    place(std::move(task));
    return std::move(future);
  }

  // Empty when the queue limit is reached (whatever on_full says); never waits.
  template <class F, class... A>
    requires std::is_invocable_v<std::decay_t<F>, std::decay_t<A>...>
  [[nodiscard]] std::optional<pool_future<result_of<F, A...>>> try_submit(F&& f, A&&... args) {
    auto [task, future] = package(no_context{}, std::forward<F>(f), std::forward<A>(args)...);
    if (!try_place(task)) return std::nullopt;
    return std::optional<pool_future<result_of<F, A...>>>(std::move(future));
  }

  template <class F>
    requires std::is_invocable_v<std::decay_t<F>&>
  void detach(F&& f) {
    place(detached(std::forward<F>(f)));
  }

  // False when the queue limit is reached (whatever on_full says); never waits.
  template <class F>
    requires std::is_invocable_v<std::decay_t<F>&>
  [[nodiscard]] bool try_detach(F&& f) {
    std::unique_ptr<detail::pool_task> task = detached(std::forward<F>(f));
    return try_place(task);
  }

  // May be called from the hook itself (the hook runs outside the lock this takes).
  void set_error_hook(error_hook hook) {
    std::shared_ptr<const error_hook> h = shared_hook(std::move(hook));
    std::lock_guard<std::mutex> lock(hook_mutex_);
    hook_.swap(h);  // the old hook is destroyed after the lock is released
  }

  void wait_idle() const {
    if (forked()) throw closed_error();  // nothing runs here: it would wait for ever
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
  std::uint64_t running() const {
    return sum(&worker::running) + callers_running_.load(std::memory_order_relaxed);
  }
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  std::uint64_t detached_errors() const { return detached_errors_.load(std::memory_order_relaxed); }
  std::uint64_t rejected() const { return rejected_.load(std::memory_order_relaxed); }
  std::uint64_t ran_by_callers() const { return ran_by_callers_.load(std::memory_order_relaxed); }
  std::uint64_t canceled() const { return canceled_.load(std::memory_order_relaxed); }
  std::optional<std::size_t> queue_limit() const {
    if (!gate_) return std::nullopt;
    return static_cast<std::size_t>(gate_->limit());
  }
  std::size_t queued_approx() const {
    std::size_t n = injection_.size_approx();
    for (const auto& w : workers_) {
      n += w->deque.size_approx() + (w->next.load(std::memory_order_relaxed) != nullptr);  // relaxed: a snapshot
    }
    return n;
  }

  // True on a worker thread of this pool.
  bool on_this_pool() const noexcept { return current_pool_ == this; }

 private:
  template <class R>
  friend class pool_future;
  friend class errgroup;
  friend struct detail::coro_access;
  template <class Index, class F>
    requires detail::chunkable_index<Index>
  friend void parallel_for_chunks(worker_pool& pool, Index first, Index last, F&& f);

  // state_: who may submit.
  static constexpr int open = 0;               // everyone
  static constexpr int accepting_inside = 1;   // graceful shutdown: only tasks already running
  static constexpr int dropping = 2;           // shutdown_now: nobody; queued tasks are dropped
  // The injection ring's slots; submissions past them wait in the overflow deque.
  static constexpr std::size_t injection_capacity = 4096;
  // Looks for work before an idle worker parks: 7 rounds of growing pauses (1..64, about
  // 3 us in all), then yields.
  static constexpr int search_rounds = 16;

  // Consecutive tasks a worker may take from its next slot before it looks at its deque
  // and the injection queue first (see find_task): two coroutines that wake each other
  // would otherwise keep a worker to themselves. Every such look costs a deque pop and an
  // injection poll, paid once per 64 switches; a queued task waits at most 64 switches
  // (coro_scheduling_test holds the bound, not its cost: that is unmeasured).
  static constexpr std::uint32_t next_streak_limit = 64;

  struct alignas(cache_line) worker {
    lf::chase_lev_deque<detail::pool_task*> deque{256};
    // The coroutine resumption the task running here made ready last (Go's runnext):
    // run by this worker as soon as the running task returns, ahead of the deque, so two
    // coroutines passing values stay on one core with their frames in its cache. Other
    // workers take it only when they are about to park (find_task's steal_next): after
    // their search rounds (a few microseconds), so a running task that keeps its worker
    // delays it by that much at most, and never strands it (schedule_resumption wakes a
    // parked worker as for any task). Its own line: thieves read it.
    alignas(cache_line) lf::atomic<detail::pool_task*> next{nullptr};
    std::uint32_t next_streak = 0;  // the owner's count against next_streak_limit
    // Coroutines this worker ran first (patterns/task.hpp): see enlist.
    detail::coro_registry coroutines;
    // Written by the owning worker's thread only; read by introspection.
    lf::atomic<std::uint64_t> completed{0};
    lf::atomic<std::uint64_t> stolen{0};
    // Tasks of this pool on the worker's stack: more than one while it helps (a
    // pool_future or errgroup wait) or runs a submission itself (overflow_policy).
    lf::atomic<std::uint64_t> running{0};
  };

  static std::shared_ptr<const error_hook> shared_hook(error_hook hook) {
    return hook ? std::make_shared<const error_hook>(std::move(hook)) : nullptr;
  }

  static std::ptrdiff_t checked_count(std::ptrdiff_t n) {
    if (n < 0) throw std::invalid_argument("lf::worker_pool: n = " + std::to_string(n) + " workers (must be >= 0)");
    return n;
  }

  template <class Fn, class OnDrop = detail::ignore_drop>
  static std::unique_ptr<detail::pool_task> make_task(Fn&& fn, OnDrop&& on_drop = OnDrop{}) {
    return std::make_unique<detail::pool_task_of<std::decay_t<Fn>, std::decay_t<OnDrop>>>(
        std::forward<Fn>(fn), std::forward<OnDrop>(on_drop));
  }

  struct no_context {};
  struct with_context {
    context ctx;
    lf::atomic<std::uint64_t>* canceled;
  };

  // A submit() task and its future, not yet queued.
  template <class Ctx, class F, class... A>
  auto package(Ctx c, F&& f, A&&... args) {
    using R = result_of<F, A...>;
    auto state = std::make_shared<detail::future_state<R>>(this, &lot_);
    pool_future<R> future(state);
    auto task = make_task([c = std::move(c), p = detail::pool_promise<R>(std::move(state)), f = std::forward<F>(f),
                           ... args = std::forward<A>(args)]() mutable {
      if constexpr (std::is_same_v<Ctx, with_context>) {
        if (c.ctx.done().ready()) {
          c.canceled->fetch_add(1, std::memory_order_relaxed);
          p.fail(std::make_exception_ptr(task_canceled(c.ctx.err(), c.ctx.cause())));
          return;
        }
      }
      p.run([&]() -> R { return std::invoke(std::move(f), std::move(args)...); });
    });
    return std::pair<std::unique_ptr<detail::pool_task>, pool_future<R>>(std::move(task), std::move(future));
  }

  // A detach() task; on_drop() runs if shutdown_now drops it (errgroup's goroutines
  // report the drop to their group through it).
  template <class F, class OnDrop = detail::ignore_drop>
  std::unique_ptr<detail::pool_task> detached(F&& f, OnDrop&& on_drop = OnDrop{}) {
    return make_task(
        [this, f = std::forward<F>(f)]() mutable {
          try {
            f();
          } catch (...) {
            // A task that destroyed its pool (see close_from_worker) has no hook left.
            if (!orphaned_) report_detached_error(std::current_exception());
          }
        },
        std::forward<OnDrop>(on_drop));
  }

  // Queues the task, or follows on_full when the limit is reached.
  void place(std::unique_ptr<detail::pool_task> task) {
    const bool may_park = on_full_ == overflow_policy::block && !on_this_pool();
    if (admit(task, may_park)) return;
    if (on_full_ == overflow_policy::fail) {
      rejected_.fetch_add(1, std::memory_order_relaxed);
      throw pool_full();
    }
    run_in_caller(std::move(task));  // caller_runs, or block on a worker (see the header)
  }

  bool try_place(std::unique_ptr<detail::pool_task>& task) {
    if (admit(task, false)) return true;
    rejected_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }

  // Takes a queue slot if the pool is bounded (parking for one if `may_park`), then queues
  // the task. False, with the task still the caller's, when no slot was free and the
  // caller may not park. Throws pool_closed when the pool no longer accepts.
  bool admit(std::unique_ptr<detail::pool_task>& task, bool may_park) {
    if (gate_ && !gate_->try_acquire()) {
      if (!accepts(state_.load(std::memory_order_seq_cst), on_this_pool())) throw closed_error();
      if (!may_park) return false;
      // Parked submitters hold no pending_ count: wait_idle and shutdown do not wait for
      // them; close() wakes them after it changes the state (gate_->wake_all()).
      if (!gate_->acquire([this] { return state_.load(std::memory_order_seq_cst) != open; })) throw closed_error();
    }
    enqueue(task.release());
    return true;
  }

  bool accepts(int state, bool inside) const {
    return (state == open || (state == accepting_inside && inside)) && !forked();
  }

  // What a refused submission throws.
  pool_closed closed_error() const {
    if (forked()) {
      return pool_closed(
          "lf::worker_pool: this process is a fork() of the one that made the pool, and the pool's workers "
          "did not survive the fork; the task was not accepted");
    }
    return pool_closed();
  }

  // Throws pool_closed when a submission from the calling thread would be refused now.
  void require_accepting() const {
    if (!accepts(state_.load(std::memory_order_seq_cst), on_this_pool())) throw closed_error();
  }

  // True in a forked child of the process that made the pool (fork_watch.hpp): none of
  // its workers exists here. One relaxed load of a process-wide word.
  bool forked() const noexcept { return detail::fork_watch::generation() != forks_at_start_; }

  // A pool in a forked child (see the header comment): forgets its workers' std::thread
  // objects (a new, empty std::thread made in each one's storage ends the old object's
  // lifetime without joining or detaching a thread of the parent), and leaves what it
  // holds — queued tasks, suspended coroutines — unrun and undestroyed.
  void forget_after_fork() noexcept {
    for (std::thread& t : threads_) new (&t) std::thread();
    joined_ = true;
  }

  // A worker back in its loop in a forked child: a task forked and returned there.
  [[noreturn, gnu::cold]] static void forked_worker_returned() noexcept {
    std::fputs(
        "lf::worker_pool: a task called fork() and returned to its pool's worker in the child; the pool's "
        "other workers and its queued tasks belong to the parent (exec or _exit in the child before the "
        "task returns)\n",
        stderr);
    std::abort();
  }

  // Counts the task as pending, then queues it. pending_ is raised before the state is
  // read, and close() writes the state before it reads pending_ (all seq_cst): either
  // this submission sees the pool closing and withdraws, or close() sees it pending and
  // waits for it. A task already running keeps pending_ above zero, so its children can
  // be accepted during a graceful drain without racing that wait. The caller holds a
  // queue slot if the pool is bounded; withdrawing gives it back.
  void enqueue(detail::pool_task* t) {
    std::unique_ptr<detail::pool_task> owned(t);
    pending_.fetch_add(1, std::memory_order_seq_cst);
    const int state = state_.load(std::memory_order_seq_cst);
    const bool inside = on_this_pool();
    if (!accepts(state, inside)) {
      if (gate_) gate_->release();
      finish_one();
      throw closed_error();
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

  // Queues a coroutine's resumption (patterns/task.hpp). Accepted from the callers a
  // submission is accepted from (enqueue's argument), but never refused for room: it
  // holds no slot of the queue limit. False, with nothing queued, when refused: the
  // coroutine then stays suspended until close() destroys it. On a worker a wake-up
  // (next_slot) goes to the worker's next slot, a fork (when_all's children, yield) to
  // its deque, where idle workers steal it at once.
  bool schedule_resumption(detail::pool_task* t, bool next_slot) {
    pending_.fetch_add(1, std::memory_order_seq_cst);  // as in enqueue
    const bool inside = on_this_pool();
    if (!accepts(state_.load(std::memory_order_seq_cst), inside)) {
      finish_one();
      return false;
    }
    t->publish();
    if (inside && !next_slot) {
      workers_[current_index_]->deque.push(t);
    } else if (inside) {
      // (N1) release: publishes the coroutine's state to the worker whose (N2) takes it.
      // Only this worker stores a task in its slot, so a displaced one was stored by this
      // thread: it needs no acquire. It goes to the deque (Go does the same with runnext).
      if (detail::pool_task* displaced = workers_[current_index_]->next.exchange(t, std::memory_order_release)) {
        workers_[current_index_]->deque.push(displaced);
      }
    } else {
      injection_.push(t);
    }
    lot_.unpark_one();  // after (N1): the parking protocol's publication, as in enqueue
    return true;
  }

  // (N2) acquire: pairs with (N1). The plain load first spares an empty slot an RMW.
  static detail::pool_task* take_next(worker& w) noexcept {
    if (w.next.load(std::memory_order_relaxed) == nullptr) return nullptr;  // relaxed: only a hint
    return w.next.exchange(nullptr, std::memory_order_acquire);
  }

  // On a worker (block policy, or caller_runs) the task counts in that worker's
  // `running`, which is then the depth of this pool's tasks on its stack
  // (close_from_worker reads it); elsewhere in callers_running_.
  void run_in_caller(std::unique_ptr<detail::pool_task> task) {
    lf::atomic<std::uint64_t>& running = on_this_pool() ? workers_[current_index_]->running : callers_running_;
    running.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic (and the owner's own depth)
    task->run();
    task.reset();
    running.fetch_sub(1, std::memory_order_relaxed);  // relaxed: as above
    ran_by_callers_.fetch_add(1, std::memory_order_relaxed);
  }

  // Any queue, in the order of the header comment, the own next slot first (up to
  // next_streak_limit times in a row, then once after the queues); other workers' next
  // slots only with steal_next (a worker about to park). nullptr when all looked empty.
  detail::pool_task* find_task(std::size_t self, bool steal_next = false) {
    worker& me = *workers_[self];
    if (me.next_streak < next_streak_limit) {
      if (detail::pool_task* t = take_next(me)) {
        ++me.next_streak;
        return t;
      }
    }
    me.next_streak = 0;
    if (std::optional<detail::pool_task*> t = me.deque.pop()) return *t;
    if (detail::pool_task* t = injection_.try_pop()) return t;
    const std::size_t n = workers_.size();
    for (std::size_t k = 1; k < n; ++k) {
      if (std::optional<detail::pool_task*> t = workers_[(self + k) % n]->deque.try_steal()) {
        me.stolen.store(me.stolen.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        return *t;
      }
    }
    if (detail::pool_task* t = take_next(me)) return t;  // the streak's limit, and nothing else queued
    if (steal_next) {
      for (std::size_t k = 1; k < n; ++k) {
        if (detail::pool_task* t = take_next(*workers_[(self + k) % n])) {
          me.stolen.store(me.stolen.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
          return t;
        }
      }
    }
    return nullptr;
  }

  // Runs (or, under shutdown_now, drops) a task taken from a queue.
  void execute(detail::pool_task* t, worker& me) {
    t->receive();
    if (gate_ && t->holds_slot) gate_->release();  // it left its queue: room for one more submission
    if (state_.load(std::memory_order_relaxed) == dropping) {
      register_fiber(t);
      t->drop_and_dispose();  // a submit() task's future now reports broken_promise
      dropped_.fetch_add(1, std::memory_order_relaxed);
    } else {
      me.running.store(me.running.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      // Disposing before finish_one: wait_idle returning means the captures are gone too.
      // The run or the disposal may have destroyed the pool (its last shared_ptr): then
      // stop here. A task that forked returns here in the child too: stop there before
      // touching the pool (which the task may have destroyed in the child).
      const std::uint32_t forks = detail::fork_watch::generation();
      register_fiber(t);
      t->run_and_dispose();
      if (detail::fork_watch::generation() != forks) forked_worker_returned();
      if (orphaned_) return;
      me.running.store(me.running.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
      me.completed.store(me.completed.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
    finish_one();
  }

  void work(std::size_t self) {
    current_pool_ = this;
    current_index_ = self;
    worker& me = *workers_[self];
    lf::backoff search;
    for (;;) {
      detail::pool_task* t = find_task(self);
      // Look again a few times before parking (pauses, then yields: lf::backoff). A
      // worker that is looking is not counted as a sleeper, so a submission meanwhile
      // costs no futex wake — without this, a submitter outpaced by its workers pays a
      // system call per task. Bounded: an idle pool still sleeps within microseconds.
      for (int round = 0; t == nullptr && round < search_rounds; ++round) {
        search.pause();
        t = find_task(self);
      }
      search.reset();
      if (t == nullptr) {
        bool stop = false;
        lot_.park_until([&] {
          t = find_task(self, true);
          stop = stop_.load(std::memory_order_acquire);
          return t != nullptr || stop;
        });
        if (t == nullptr) {
          // stop_ is raised only once nothing is pending, so no task is left behind.
          if (stop || stop_.load(std::memory_order_acquire)) break;
          continue;
        }
      }
      execute(t, me);
      if (orphaned_) return;  // the task destroyed the pool: *this is gone (close_from_worker)
    }
    current_pool_ = nullptr;
  }

  // A worker of this pool waiting inside a task (pool_future, errgroup): runs tasks
  // until ready() returns true, parking in the pool's lot when none is found; false when
  // `deadline` passed first (time_point::max(): none; a task started before it runs to
  // its end). ready() is called until it returns true, then never again (errgroup's may
  // take a slot). before_park() runs before each park and may call it off (false: the
  // wait is over): a pool_future registers there as a helper, so that only a wait that
  // really sleeps makes the completion wake the lot. Whoever makes ready() true must,
  // after publishing that, wake this lot (unpark_all) when a helper may be parked:
  // completion::complete does for a registered helper; errgroup does for a slot waiter.
  // The wait runs inside a task, so stop_ cannot be raised meanwhile (close_from_worker
  // waits through it with its own task already counted out).
  template <class Ready, class BeforePark>
  bool help_until(Ready&& ready, BeforePark&& before_park,
                  wait_clock::time_point deadline = wait_clock::time_point::max()) {
    const std::size_t self = current_index_;
    worker& me = *workers_[self];
    const bool timed = deadline != wait_clock::time_point::max();
    for (;;) {
      if (ready()) return true;
      if (timed && wait_clock::now() >= deadline) return false;
      detail::pool_task* t = find_task(self);
      if (t == nullptr) {
        if (!before_park()) return true;
        bool over = false;
        const bool woken = lot_.park_until(
            [&] {
              t = find_task(self, true);
              if (t != nullptr) return true;
              over = ready();
              return over;
            },
            deadline);
        if (over) return true;
        if (t == nullptr) {
          if (!woken) return false;
          continue;
        }
      }
      execute(t, me);
    }
  }

  // Waits for `done` until `deadline` (time_point::max(): none): helping if the caller
  // is a worker of `pool`, else on the word. True once done; false when the deadline
  // passed first.
  static bool wait_done(worker_pool* pool, detail::completion& done,
                        wait_clock::time_point deadline = wait_clock::time_point::max()) {
    if (done.is_done()) return true;
    if (pool != nullptr && pool->on_this_pool()) {
      bool registered = false;
      return pool->help_until([&] { return done.is_done(); },
                              [&] {
                                if (registered) return true;
                                registered = true;
                                return done.register_helper();  // false: done meanwhile
                              },
                              deadline) ||
             done.is_done();  // done just as the deadline passed
    }
    return done.wait_blocking(deadline);
  }

  // Puts a coroutine in a registry of this pool: the calling worker's, or the one for
  // coroutines dropped or re-registered from outside (coro_fiber.hpp: why there are
  // several).
  void enlist(detail::coro_fiber& f) {
    (on_this_pool() ? workers_[current_index_]->coroutines : coroutines_).add(f);
  }

  // A coroutine's fiber joins a registry when a worker first runs it, or when it is
  // dropped before that (patterns/detail/coro_fiber.hpp): the calling thread took it
  // from a queue, so it alone touches the fiber now.
  void register_fiber(detail::pool_task* t) {
    if (!t->coroutine) return;
    auto* f = static_cast<detail::coro_fiber*>(t);
    if (!f->registered()) enlist(*f);
  }

  // Once no worker runs: destroys every suspended coroutine of the pool but `except`.
  void destroy_coroutines(detail::coro_fiber* except) noexcept {
    std::vector<detail::coro_fiber*> lists;
    lists.reserve(workers_.size() + 1);  // may throw: then nothing is taken yet
    lists.push_back(coroutines_.take_all());
    for (const auto& w : workers_) lists.push_back(w->coroutines.take_all());
    for (detail::coro_fiber* list : lists) detail::coro_registry::abandon_list(list, except);
  }

  // (4) seq_cst: its release half publishes the task's effects (pairs with (3)); seq_cst
  // for (D2): a worker draining the pool from its destructor (close_from_worker) parks in
  // the lot, which the futex wake on pending_ does not reach. (D1) store, [P1], its load
  // of pending_, against (4), (D2): all seq_cst, so either its load reads this decrement
  // (or later) or (D2) reads its flag and wakes the lot.
  void finish_one() {
    if (pending_.fetch_sub(1, std::memory_order_seq_cst) == 1) {  // (4)
      pending_.notify_all();
      if (draining_worker_.load(std::memory_order_seq_cst)) lot_.unpark_all();  // (D2) pairs with (D1)
    }
  }

  // The hook runs outside hook_mutex_, so that it may call set_error_hook; the copy of
  // the shared_ptr keeps it alive while it runs even if it is replaced meanwhile. Nothing
  // of the pool is touched after the call (a hook may let go of the pool's last owner).
  void report_detached_error(std::exception_ptr e) noexcept {
    detached_errors_.fetch_add(1, std::memory_order_relaxed);
    std::shared_ptr<const error_hook> hook;
    {
      std::lock_guard<std::mutex> lock(hook_mutex_);
      hook = hook_;
    }
    if (!hook) return;
    try {
      (*hook)(std::move(e));
    } catch (...) {  // a throwing hook must not take the worker down either
    }
  }

  void close(int mode) {
    if (forked()) {
      // No close_mutex_: a thread of the parent may have held it at the fork.
      if (!forgotten_.exchange(true)) forget_after_fork();  // seq_cst (rare): one caller forgets
      return;
    }
    if (on_this_pool()) throw std::logic_error("lf::worker_pool: shutdown called from a worker of the same pool");
    int state = state_.load(std::memory_order_seq_cst);
    while (state < mode && !state_.compare_exchange_weak(state, mode, std::memory_order_seq_cst)) {
    }
    if (gate_) gate_->wake_all();  // submitters parked for room see the state and give up
    if (mode == dropping) {
      lot_.unpark_all();  // parked workers help drop what other workers still hold
      while (detail::pool_task* t = injection_.try_pop()) {
        if (gate_ && t->holds_slot) gate_->release();
        register_fiber(t);
        t->drop_and_dispose();
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
    destroy_coroutines(nullptr);  // the suspended ones: nothing can run them now
  }

  // The destructor on worker `self`, inside the task that let go of the pool's last
  // owner (the header comment says when that is allowed). It cannot join itself, and the
  // pool's memory is freed as soon as it returns, while this thread is still inside that
  // task. So: count the task out of pending_ now (execute will not reach finish_one),
  // drain as shutdown() would while helping run what is queued (in a pool of one nobody
  // else would), join every other worker, detach this thread, and raise orphaned_ (a
  // thread_local, outside the pool), on which execute() and work() return at once.
  void close_from_worker() noexcept {
    const std::size_t self = current_index_;
    if (workers_[self]->running.load(std::memory_order_relaxed) != 1) {  // relaxed: this thread's own counter
      std::fputs(
          "lf::worker_pool: destroyed by a task that runs nested on one of its workers (run while the worker "
          "helps a pool_future or errgroup wait, or by its submitter); the frames under it belong to the pool\n",
          stderr);
      std::abort();
    }
    int state = state_.load(std::memory_order_seq_cst);
    while (state < accepting_inside && !state_.compare_exchange_weak(state, accepting_inside)) {
    }
    if (gate_) gate_->wake_all();
    draining_worker_.store(true, std::memory_order_seq_cst);  // (D1) pairs with (D2)
    finish_one();  // this task
    // (3') seq_cst: see (4). Whatever is pending is queued (this worker runs it) or running
    // on another worker, whose finish_one wakes this lot at zero: (D2).
    help_until([this] { return pending_.load(std::memory_order_seq_cst) == 0; }, [] { return true; });
    stop_.store(true, std::memory_order_release);
    lot_.unpark_all();
    for (std::size_t i = 0; i < threads_.size(); ++i) {
      if (i == self) {
        threads_[i].detach();
      } else {
        threads_[i].join();
      }
    }
    joined_ = true;
    destroy_coroutines(detail::coro_fiber::current());  // all but the one running here
    current_pool_ = nullptr;  // the rest of the task runs as on any thread
    orphaned_ = true;
  }

  std::uint64_t sum(lf::atomic<std::uint64_t> worker::*counter) const {
    std::uint64_t n = 0;
    for (const auto& w : workers_) n += ((*w).*counter).load(std::memory_order_relaxed);
    return n;
  }

  static inline thread_local const worker_pool* current_pool_ = nullptr;
  static inline thread_local std::size_t current_index_ = 0;
  // Set on a worker thread whose pool was destroyed by the task it runs (close_from_worker).
  static inline thread_local bool orphaned_ = false;

  std::vector<std::unique_ptr<worker>> workers_;
  std::vector<std::thread> threads_;
  mutable std::mutex hook_mutex_;
  std::shared_ptr<const error_hook> hook_;  // null: no hook
  detail::injection_queue injection_;
  detail::parking_lot lot_;
  // Present when the pool is bounded: slots for tasks accepted and not yet started.
  std::unique_ptr<detail::slot_gate> gate_;
  const overflow_policy on_full_;
  // Tasks accepted and not yet finished or dropped. An int because it is the word
  // wait_idle parks on (the seam's wait takes int); 2^31 queued tasks would need far
  // more memory than their records.
  mutable lf::atomic<int> pending_{0};
  lf::atomic<int> state_{open};
  lf::atomic<bool> stop_{false};
  lf::atomic<bool> draining_worker_{false};  // close_from_worker is draining: (D1)
  lf::atomic<std::uint64_t> dropped_{0};
  lf::atomic<std::uint64_t> detached_errors_{0};
  lf::atomic<std::uint64_t> rejected_{0};
  lf::atomic<std::uint64_t> ran_by_callers_{0};
  lf::atomic<std::uint64_t> callers_running_{0};
  lf::atomic<std::uint64_t> canceled_{0};
  std::mutex close_mutex_;
  bool joined_ = false;
  const std::uint32_t forks_at_start_;  // fork_watch's generation when the workers started
  lf::atomic<bool> forgotten_{false};   // forget_after_fork ran (a forked child's copy only)
  // Coroutines registered from outside the pool (patterns/task.hpp: dropped by a
  // shutdown_now before any worker ran them); those a worker ran first are in its
  // registry. destroy_coroutines destroys both.
  detail::coro_registry coroutines_;
};

// The result of a submit() task (see the header comment). Move-only, like std::future;
// get() may be called once. An empty future (default-constructed, moved from, or after
// get) throws std::future_error(no_state) from wait(), wait_for(), wait_until() and get().
//
// After get() the future keeps its reference to the shared state until it is destroyed
// or assigned: a thrown exception object is then freed by whichever of the task's
// worker and this future lets go last, through the state's reference count, which
// ThreadSanitizer sees. (The exception object's own count lives in the uninstrumented
// libstdc++, so freeing it from the worker right after the caller's catch would read
// as a race to TSan.)
template <class R>
class pool_future {
 public:
  pool_future() noexcept = default;
  pool_future(pool_future&& o) noexcept : s_(std::move(o.s_)), retrieved_(std::exchange(o.retrieved_, false)) {}
  pool_future& operator=(pool_future&& o) noexcept {
    s_ = std::move(o.s_);
    retrieved_ = std::exchange(o.retrieved_, false);
    return *this;
  }
  pool_future(const pool_future&) = delete;
  pool_future& operator=(const pool_future&) = delete;

  bool valid() const noexcept { return s_ != nullptr && !retrieved_; }

  // True once the result (value or exception) is there; never waits.
  bool is_ready() const {
    require_state();
    return s_->done.is_done();
  }

  // Returns once the result is there, helping on a worker of the task's pool.
  void wait() const {
    require_state();
    worker_pool::wait_done(s_->pool, s_->done);
  }

  // Waits as wait() does, but no later than `deadline` (on a worker: see the header
  // comment); ready or timeout. time_point::max() is no deadline.
  std::future_status wait_until(wait_clock::time_point deadline) const {
    require_state();
    return worker_pool::wait_done(s_->pool, s_->done, deadline) ? std::future_status::ready
                                                                 : std::future_status::timeout;
  }

  // wait_until(now + d): a negative d throws std::invalid_argument; a d too long to add
  // to now (hours::max()) waits as wait() does.
  template <class Rep, class Period>
  std::future_status wait_for(const std::chrono::duration<Rep, Period>& d) const {
    return wait_until(lf::deadline_after("lf::pool_future::wait_for: d", d));
  }

  // Waits, then returns the value or rethrows what the task threw.
  R get() {
    wait();
    retrieved_ = true;
    if (s_->error) std::rethrow_exception(s_->error);
    if constexpr (std::is_void_v<R>) {
      return;
    } else if constexpr (std::is_reference_v<R>) {
      return static_cast<R>(**s_->value);
    } else {
      return std::move(*s_->value);
    }
  }

 private:
  friend class worker_pool;
  explicit pool_future(std::shared_ptr<detail::future_state<R>> s) noexcept : s_(std::move(s)) {}

  void require_state() const {
    if (!valid()) throw std::future_error(std::future_errc::no_state);
  }

  std::shared_ptr<detail::future_state<R>> s_;
  bool retrieved_ = false;
};

// Calls f(begin, end) for disjoint chunks [begin, end) that together make [first, last),
// on the pool, the calling thread taking part. Chunks of grain = max(1, n / (8 * workers))
// indices: eight chunks per worker leave room for stealing to even out uneven chunks,
// while each chunk is long enough that claiming it (one fetch_add) costs nothing next to
// the work (oneTBB's auto partitioner aims at a similar few chunks per thread). n, the
// grain and the offsets are unsigned 64-bit, computed from Index's unsigned type: a range
// wider than Index's positive half ([-1.1e9, 1.1e9) of int, [INT_MIN, INT_MAX)) is whole,
// and an index is first + offset taken back to Index modulo 2^N (defined since C++20).
// Up to `workers` helper tasks are queued; each, and the caller, claim chunks until none
// are left, so the caller never waits on a task that has not started: called from a
// worker, it cannot deadlock. Rethrows the first exception a chunk threw; later chunks
// are then skipped.
// An empty range (first >= last) returns at once. Otherwise, when the pool does not accept
// a submission from the calling thread (shutdown has begun; a worker of the pool is still
// accepted during a graceful shutdown, as its submissions are), it throws
// lf::pool_closed having run nothing, however many chunks the range makes. A shutdown
// that begins after the first helper was offered does not fail the call: the caller runs
// what the missing (or dropped) helpers would have.
template <class Index, class F>
  requires detail::chunkable_index<Index>
void parallel_for_chunks(worker_pool& pool, Index first, Index last, F&& f) {
  if (!(first < last)) return;
  pool.require_accepting();
  using U = std::make_unsigned_t<Index>;
  struct shared {
    Index first;
    std::uint64_t n, grain;
    int chunks;
    lf::atomic<int> next{0};
    lf::atomic<int> done{0};
    lf::atomic<bool> failed{false};
    std::mutex error_mutex;
    std::exception_ptr error;
    std::remove_reference_t<F>* body;
  };
  const std::uint64_t n = static_cast<U>(static_cast<U>(last) - static_cast<U>(first));
  const std::uint64_t grain = std::max<std::uint64_t>(1, n / (8 * pool.workers()));
  const std::uint64_t chunks = n / grain + (n % grain != 0 ? 1 : 0);  // n + grain - 1 could wrap
  if (chunks > static_cast<std::uint64_t>(INT32_MAX)) throw std::length_error("lf::parallel_for: too many chunks");
  auto s = std::make_shared<shared>();
  s->first = first;
  s->n = n;
  s->grain = grain;
  s->chunks = static_cast<int>(chunks);
  s->body = &f;

  // Claims and runs chunks until none are left. The helpers hold `s` (shared_ptr), so a
  // helper that starts after the caller returned finds no chunk and touches nothing else.
  auto run_chunks = [](shared& st) {
    const auto at = [&st](std::uint64_t offset) {
      return static_cast<Index>(static_cast<U>(static_cast<U>(st.first) + static_cast<U>(offset)));
    };
    for (;;) {
      const int c = st.next.fetch_add(1, std::memory_order_relaxed);  // relaxed: only picks a chunk
      if (c >= st.chunks) return;
      if (!st.failed.load(std::memory_order_relaxed)) {  // relaxed: only skips work after an error
        const std::uint64_t begin = static_cast<std::uint64_t>(c) * st.grain;
        const std::uint64_t end = begin + std::min(st.grain, st.n - begin);
        try {
          (*st.body)(at(begin), at(end));
        } catch (...) {
          std::lock_guard<std::mutex> lock(st.error_mutex);
          if (!st.error) st.error = std::current_exception();
          st.failed.store(true, std::memory_order_relaxed);  // relaxed: the error itself is under the lock
        }
      }
      // release: the chunk's effects; pairs with the caller's acquire below.
      if (st.done.fetch_add(1, std::memory_order_acq_rel) + 1 == st.chunks) st.done.notify_all();
    }
  };

  // try_detach: a helper is an offer, never worth waiting for room or running in the
  // caller (the caller runs chunks anyway); under a queue limit fewer helpers may start.
  const std::size_t helpers = std::min<std::uint64_t>(pool.workers(), chunks - 1);
  for (std::size_t h = 0; h < helpers; ++h) {
    try {
      if (!pool.try_detach([s, run_chunks] { run_chunks(*s); })) break;
    } catch (const pool_closed&) {
      if (h == 0) throw;  // shutdown began after require_accepting: nothing has run yet
      break;              // shutdown raced us: the caller runs what the missing helpers would have
    }
  }
  run_chunks(*s);
  int d;
  while ((d = s->done.load(std::memory_order_acquire)) != s->chunks) s->done.wait(d, std::memory_order_acquire);
  if (s->error) std::rethrow_exception(s->error);
}

// Calls f(i) for each i in [first, last): parallel_for_chunks (the same chunks, rules and
// errors) with a loop over each chunk.
template <class Index, class F>
  requires detail::chunkable_index<Index>
void parallel_for(worker_pool& pool, Index first, Index last, F&& f) {
  parallel_for_chunks(pool, first, last, [&f](Index begin, Index end) {
    for (Index i = begin; i < end; ++i) f(i);
  });
}

}  // namespace lf
