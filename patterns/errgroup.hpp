// lf::errgroup — Go's golang.org/x/sync/errgroup: run a group of jobs ("goroutines"),
// wait for all of them, and learn the first error.
//
//   lf::errgroup g(pool);               // on an lf::worker_pool; lf::errgroup g; on threads
//   g.set_limit(4);                     // at most 4 active at once (optional)
//   for (auto& url : urls) g.go([&, url] { fetch(url); });
//   if (std::exception_ptr e = g.wait()) std::rethrow_exception(e);
//
// go(f)          starts f, first waiting while `limit` goroutines are active.
// try_go(f)      starts f only if the limit allows it now; false otherwise.
// set_limit(n)   at most n goroutines active at once; n < 0: no limit (the default).
// wait()         returns once every goroutine started so far has returned, with the first
//                error (an empty std::exception_ptr when none failed).
//
// Error model: a goroutine is a `void()` callable, and it fails by throwing. That is how
// C++ code reports failure, so existing functions go into a group unchanged; a
// std::exception_ptr carries any error (a std::error_code travels as std::system_error);
// and f cannot forget to return its error. wait() *returns* the first exception rather
// than rethrowing it, which keeps Go's shape (`if err := g.Wait(); err != nil`) and
// leaves the choice to the caller: rethrow, log, or inspect. A callable that returns a
// value is rejected at compile time, so an error value is never dropped silently.
// As in Go, the first error is kept for the life of the group (later errors are
// dropped), and wait() may be called again after more go() calls; as with Go's
// WaitGroup, a go() that starts a new round from zero active goroutines must not race a
// wait() of the previous round that has not returned yet. From an lf task,
// `co_await lf::wait(g)` (patterns/awaitables.hpp) is wait() without blocking the worker.
//
// Where goroutines run. On a worker_pool, each is a detach()ed task; the pool's bounded
// submission policy applies (a go() may then wait for room, run f in the caller, or throw
// lf::pool_full — the group stays consistent either way), and lf::pool_closed reaches
// the caller of go() (or try_go()). A goroutine that the pool's shutdown_now drops before
// it started counts as failed with std::future_error(broken_promise), the error a dropped
// submit()'s future throws: wait() returns it (if it is the first error), a with_context
// context is cancelled with it, and its slot under set_limit is given back. So wait() and
// the destructor return on a pool that was shut down either way. wait() called on a
// worker of that pool helps run the pool's tasks until the group is done, as
// lf::pool_future does, so a task may run a group and wait for it even in a pool of one
// worker. Without a pool each goroutine gets a std::jthread of its own; finished threads
// are joined by later go() calls and by wait().
//
// Differences from Go, each where C++ can say more than a panic:
//   set_limit while goroutines are active throws std::logic_error (Go panics; lf checks
//   every active goroutine, Go only those counted by a previous limit);
//   go() with limit 0 would wait forever: it throws std::logic_error (try_go returns false);
//   the destructor waits for the goroutines still running (their error is dropped): a
//   goroutine never outlives the group's state.
// The goroutine limit parks a waiting go() in a detail::slot_gate (parking_lot.hpp: no
// busy-waiting, no lost wake-up). On a worker of the group's pool a go() that waits for
// the limit helps run the pool's tasks instead, as wait() does: the goroutines holding
// the slots may be queued behind it.
//
// Progress: blocking by design (wait, and go under a limit). Any number of threads may
// call go, try_go and wait; set_limit only while no goroutine is active.
//
// With a context (Go's WithContext):
//   auto [g, ctx] = lf::errgroup::with_context(parent);         // or (parent, pool)
//   for (auto& url : urls) g.go([ctx = ctx, url] { fetch(ctx, url); });
//   std::exception_ptr e = g.wait();
// ctx is a child of parent (patterns/context.hpp), cancelled the first time a goroutine
// throws — with that exception as its cause(), so ctx.cause() and wait() name the same
// error — or when wait() returns, whichever comes first. Goroutines that watch ctx stop
// early; the group does not interrupt the others by itself.
#pragma once

#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "patterns/context.hpp"
#include "patterns/detail/parking_lot.hpp"
#include "patterns/worker_pool.hpp"
#include "sync/atomic.hpp"
#include "sync/thread.hpp"

namespace lf {

struct errgroup_with_context;
namespace detail {
struct errgroup_access;
}

class errgroup {
 public:
  // Goroutines on threads of their own.
  errgroup() : s_(std::make_shared<state>(nullptr)) {}
  // Goroutines as tasks of `pool`, which must outlive the group.
  explicit errgroup(worker_pool& pool) : s_(std::make_shared<state>(&pool)) {}

  errgroup(errgroup&&) noexcept = default;
  errgroup& operator=(errgroup&&) = delete;
  errgroup(const errgroup&) = delete;
  errgroup& operator=(const errgroup&) = delete;

  ~errgroup() {
    if (s_) (void)wait();
  }

  // A group and its context, a child of `parent` (see the header comment).
  static errgroup_with_context with_context(const context& parent);
  static errgroup_with_context with_context(const context& parent, worker_pool& pool);

  template <class F>
  void go(F&& f) {
    check_callable<F>();
    bool slot = false;
    if (s_->limit >= 0) {
      if (s_->limit == 0) throw std::logic_error("lf::errgroup::go with limit 0 would wait forever");
      s_->acquire_slot();
      slot = true;
    }
    start(std::forward<F>(f), slot);
  }

  template <class F>
  [[nodiscard]] bool try_go(F&& f) {
    check_callable<F>();
    bool slot = false;
    if (s_->limit >= 0) {
      if (!s_->gate.try_acquire()) return false;
      slot = true;
    }
    start(std::forward<F>(f), slot);
    return true;
  }

  // n < 0: no limit. Throws std::logic_error while any goroutine is active.
  void set_limit(int n) {
    const int active = s_->active.load(std::memory_order_acquire);  // (G3) acquire: pairs with (G1)
    if (active != 0) {
      throw std::logic_error("lf::errgroup::set_limit(" + std::to_string(n) + ") while " + std::to_string(active) +
                             " goroutines are active");
    }
    s_->limit = n < 0 ? -1 : n;
    s_->gate.set_limit(n < 0 ? 0 : n);
  }

  // Waits for every goroutine started so far; returns the first error (empty if none).
  [[nodiscard]] std::exception_ptr wait() {
    worker_pool::wait_done(s_->pool, s_->idle);
    return after_idle();
  }

 private:
  friend struct detail::errgroup_access;

  // wait()'s end, once `idle` is done (also co_await lf::wait(g)'s, patterns/awaitables.hpp).
  std::exception_ptr after_idle() {
    s_->join_finished_threads(true);
    std::exception_ptr e;
    {
      std::lock_guard<std::mutex> lock(s_->error_mutex);
      e = s_->first_error;
    }
    s_->cancel(e);  // with_context: done when wait returns (a no-op after the first time)
    return e;
  }

  struct thread_record {
    lf::atomic<bool> finished{false};
    std::jthread thread;
  };

  struct state {
    explicit state(worker_pool* p) : pool(p) {}

    worker_pool* const pool;
    int limit = -1;  // written by set_limit only while no goroutine is active
    detail::slot_gate gate{0};
    lf::atomic<int> slot_helpers{0};   // workers of `pool` helping while they wait for a slot
    lf::atomic<int> active{0};         // goroutines started and not yet returned
    detail::completion idle{true};     // done while active == 0
    std::mutex error_mutex;
    std::exception_ptr first_error;
    std::mutex threads_mutex;
    std::vector<std::unique_ptr<thread_record>> threads;
    cancel_cause_func cancel;  // with_context's; empty (a no-op) otherwise

    // Waits for a goroutine slot. On a worker of the group's pool it helps run the pool's
    // tasks meanwhile (the goroutines that hold the slots may be queued behind it), parked
    // in the pool's lot; elsewhere it parks in the gate.
    void acquire_slot() {
      if (pool == nullptr || !pool->on_this_pool()) {
        gate.acquire([] { return false; });
        return;
      }
      slot_helpers.fetch_add(1, std::memory_order_seq_cst);  // (G4) before the lot's [P1]; pairs with (G5)
      pool->help_until([this] { return gate.try_acquire(); }, [] { return true; });
      slot_helpers.fetch_sub(1, std::memory_order_relaxed);  // leaving: at worst one spurious wake-up
    }

    // The first error is kept and cancels the context (outside the lock: cancelling runs
    // the context's hooks, which may call back into the group).
    void record(std::exception_ptr e) {
      {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (first_error) return;
        first_error = e;
      }
      cancel(std::move(e));
    }

    // A goroutine returned (or never started): give back its slot, and complete `idle`
    // when it was the last. (G1) acq_rel: release publishes this goroutine's effects;
    // acquire gathers those of the goroutines that returned before it (the decrements
    // form one release sequence), so the last one's complete() (C1) carries them all to
    // wait()'s is_done() (C2).
    // A helper waiting for a slot (acquire_slot) parks in the pool's lot, which the
    // gate's release does not wake: (G5) the seq_cst fence orders the freed slot before
    // the load of slot_helpers, against (G4) + the lot's [P1] before the helper's
    // try_acquire (store buffering, as in parking_lot.hpp): the helper takes the slot, or
    // this load sees it and unpark_all wakes it.
    void finish(bool slot) {
      if (slot) {
        gate.release();
        if (pool != nullptr) {
          lf::fence(std::memory_order_seq_cst);  // (G5) pairs with (G4)
          if (slot_helpers.load(std::memory_order_relaxed) > 0) pool->lot_.unpark_all();
        }
      }
      if (active.fetch_sub(1, std::memory_order_acq_rel) == 1) idle.complete(pool != nullptr ? &pool->lot_ : nullptr);
    }

    // Joins the goroutine threads that have finished (all of them when `all`: wait()
    // calls it once `idle` is done, when every thread is at most finishing its return).
    void join_finished_threads(bool all) {
      std::vector<std::unique_ptr<thread_record>> done;
      {
        std::lock_guard<std::mutex> lock(threads_mutex);
        for (auto it = threads.begin(); it != threads.end();) {
          // acquire: the thread's last writes are done; pairs with the release below.
          if (all || (*it)->finished.load(std::memory_order_acquire)) {
            done.push_back(std::move(*it));
            it = threads.erase(it);
          } else {
            ++it;
          }
        }
      }
      for (auto& r : done) r->thread.join();
    }
  };

  template <class F>
  static void check_callable() {
    static_assert(std::is_invocable_v<std::decay_t<F>&>, "lf::errgroup: a goroutine is callable with no arguments");
    static_assert(std::is_void_v<std::invoke_result_t<std::decay_t<F>&>>,
                  "lf::errgroup: a goroutine returns void and reports an error by throwing");
  }

  template <class F>
  void start(F&& f, bool slot) {
    state& s = *s_;
    // From zero: nobody waits yet (Go's rule: a go() from zero happens before the wait()
    // it holds up), and no goroutine can complete `idle` before this one starts. But the
    // goroutine that brought the count to zero may not have completed `idle` yet (finish:
    // the decrement, then complete): reset only once it has, or its late done bit would
    // land on the new round and let wait() return early. That window is two instructions
    // of another thread, so a short backoff, not a park.
    if (s.active.fetch_add(1, std::memory_order_acq_rel) == 0) {  // (G1)
      lf::backoff previous_round;
      while (!s.idle.is_done()) previous_round.pause();
      s.idle.reset();
    }
    auto body = [st = s_, f = std::forward<F>(f), slot]() mutable {
      try {
        f();
      } catch (...) {
        st->record(std::current_exception());
      }
      st->finish(slot);
    };
    try {
      if (s.pool != nullptr) {
        // Dropped by the pool's shutdown_now: the goroutine fails with the error a dropped
        // submit() reports, and gives its slot back (without this, wait() never returns).
        s.pool->place(s.pool->detached(std::move(body), [st = s_, slot]() noexcept {
          st->record(detail::dropped_task_error());
          st->finish(slot);
        }));
      } else {
        s.join_finished_threads(false);
        auto r = std::make_unique<thread_record>();
        thread_record* rec = r.get();
        std::lock_guard<std::mutex> lock(s.threads_mutex);
        s.threads.push_back(std::move(r));
        try {
          rec->thread = std::jthread([body = std::move(body), rec]() mutable {
            body();
            rec->finished.store(true, std::memory_order_release);  // pairs with the acquire in join_finished_threads
          });
        } catch (...) {
          s.threads.pop_back();
          throw;
        }
      }
    } catch (...) {
      s.finish(slot);  // never started: the group stays consistent
      throw;
    }
  }

  std::shared_ptr<state> s_;
};

namespace detail {
// What lf::wait(g) (patterns/awaitables.hpp) uses.
struct errgroup_access {
  static completion& idle(errgroup& g) noexcept { return g.s_->idle; }
  static std::exception_ptr after_idle(errgroup& g) { return g.after_idle(); }
};
}  // namespace detail

// What errgroup::with_context returns: auto [g, ctx] = lf::errgroup::with_context(parent);
struct errgroup_with_context {
  errgroup group;
  context ctx;
};

inline errgroup_with_context errgroup::with_context(const context& parent) {
  context_with_cancel_cause c = with_cancel_cause(parent);
  errgroup g;
  g.s_->cancel = std::move(c.cancel);
  return {std::move(g), std::move(c.ctx)};
}

inline errgroup_with_context errgroup::with_context(const context& parent, worker_pool& pool) {
  context_with_cancel_cause c = with_cancel_cause(parent);
  errgroup g(pool);
  g.s_->cancel = std::move(c.cancel);
  return {std::move(g), std::move(c.ctx)};
}

}  // namespace lf
