// Awaitable waits for lf tasks (patterns/task.hpp) on the timer service, on contexts and
// on channels:
//
//   co_await lf::sleep_for(d)      resumes the fiber on its pool once d has passed; d goes
//   co_await lf::sleep_until(t)    through lf::deadline_after (sync/wait.hpp): negative
//                                  throws std::invalid_argument naming it, too long to add
//                                  to now (hours::max()) sleeps until the pool is destroyed.
//                                  A time already past does not suspend.
//   co_await lf::done(ctx)         resumes once ctx is done (at once if it is); a context
//                                  that can never be done (background()) suspends until
//                                  the pool is destroyed, as a Go receive on a nil channel.
//   co_await lf::send(ch, v)       lf::channel's send(v) / recv() / send(v, ctx) / recv(ctx)
//   co_await lf::recv(ch)          for coroutines, with the same results (chan_status /
//   co_await lf::send(ch, v, ctx)  recv_result<T>) and the same semantics (channel.hpp),
//   co_await lf::recv(ch, ctx)     on the same channel objects: threads and coroutines may
//                                  send and receive on one channel at once. A blocked
//                                  operation suspends the coroutine (its worker runs other
//                                  tasks) and the partner's hand-off, the close or the
//                                  cancel resumes it on its pool; one that can complete at
//                                  once does not suspend. An rvalue v is moved from only
//                                  when sent; an lvalue v is copied first.
//                                  (Free functions, not ch.send(v): a member send already
//                                  returns a status to threads, and the spelling shows at
//                                  the call which of the two waits.)
//   co_await lf::wait(wg)          lf::wait_group::wait() / lf::errgroup::wait() (returning
//   co_await lf::wait(group)       its first error) for coroutines: suspends until the
//                                  count is zero / every goroutine returned; at once if so.
//   co_await lf::co_select(cases...)         lf::select(cases...) / select_biased /
//   co_await lf::co_select_biased(cases...)  select(list) / select_biased(list)
//   co_await lf::co_select(list)             (patterns/select.hpp) for coroutines:
//   co_await lf::co_select_biased(list)      the same cases built by the same builders,
//                                  on the same channels (threads' selects and sends may
//                                  wait on them at once), returning the same
//                                  lf::select_result after running the chosen case's f:
//     - Fairness: among the cases ready when it polls, one is chosen uniformly at random
//       (Go's select), from the same per-thread generator as the thread select;
//       co_select_biased takes the first ready one in argument order.
//     - on_recv from a closed channel is ready and fires with closed; on_send to a
//       closed channel fires with closed (the value is left alone). A close while the
//       coroutine is suspended resumes it with that case and closed.
//     - on_done(ctx, f) fires with canceled when ctx is done, before the call (a ready
//       case among the others, chosen uniformly, as in the thread select) or while
//       suspended (the cancel resumes it).
//     - after(d, f) fires with timeout once d has passed: a deadline already past is a
//       ready case; otherwise the earliest deadline is one entry on the timer service
//       (no thread per select), whose firing resumes the coroutine. d goes through
//       lf::deadline_after: negative throws std::invalid_argument, duration::max() (or
//       any d too long to add to now) is no deadline at all.
//     - otherwise(f): the select never suspends (one locked poll, as the thread's).
//     - A null channel pointer is a nil case, never ready; with every case nil it runs
//       its otherwise, or throws std::invalid_argument, as the thread select.
//     - Nothing ready: the coroutine suspends (its worker runs other tasks) with one
//       link queued on each channel case's channel; the first claimer (a partner's
//       hand-off, a buffered channel's wake-up, a close, the cancel, the timer) commits
//       exactly one case by the waiter's CAS and queues the resumption on the fiber's
//       pool; the coroutine unqueues its other links before it goes on.
//     - The pool destroyed while it is suspended: the frame is destroyed, not resumed;
//       its links are unqueued, its context and timer subscriptions withdrawn, and a
//       value already handed over to one of its receive cases is destroyed.
//     - f runs on the thread that resumed the coroutine, inside await_resume: it is an
//       ordinary function (it cannot co_await; branch on the returned index for that).
//     Spelled co_select, not select: lf::select(...) already runs the thread's select
//     and returns its result, so one name cannot also be the awaitable. Write the cases
//     inside the call (they are temporaries of the co_await's full expression). A list
//     runs one select at a time, thread or coroutine, until it returns.
//
// Neither holds a thread while it waits: a sleep is one entry in the timer service's heap
// (patterns/detail/timer_service.hpp), a done wait one lf::context_callback on the
// context's node; the timer thread or the cancelling thread queues the resumption on the
// fiber's pool (or posts it to its sync_wait thread), never runs the coroutine itself.
//
// Destroyed while suspended (its pool is destroyed, task.hpp): the awaiter withdraws —
// disarms its timer entry, deregisters its callback, or unqueues its channel waiter
// (patterns/detail/channel_await.hpp) — and, when the wake-up was already
// taken, waits the few instructions until the waker stops touching the awaiter (the
// waker copies what it needs and holds a reference to the fiber's state across the post:
// the fiber may be freed the moment the awaiter is).
//
// The channel, wait-group and errgroup awaiters queue the channel's waiter
// (patterns/detail/channel_core.hpp), whose claimer posts the coroutine (waiter.hpp);
// their ordering arguments are in those headers, wait_group.hpp and parking_lot.hpp.
//
// Ordering argument (sleep), withdrawable_timer_entry's (E1)/(E2) (timer_service.hpp):
//   (S1) the destructor's withdraw() finds the entry in the heap (it never fires) or
//        claimed under the service's mutex (E1), and then waits for (S2).
//   (S2) timer_fire's fired() (E2) is its last touch of the awaiter; it copies the fiber
//        and handle first and holds a reference to the fiber across the post.
// (done): the state word, CAS registering -> suspended (D1) in await_suspend against the
// callback's exchange to fired (D2); whichever comes second sees the other: a callback
// that ran during registration (context done already, or cancelled meanwhile) makes
// await_suspend return false, and one after (D1) queues the resumption. acq_rel both.
#pragma once

#include <chrono>
#include <exception>
#include <optional>
#include <type_traits>

#include "patterns/channel.hpp"
#include "patterns/context.hpp"
#include "patterns/detail/channel_await.hpp"
#include "patterns/detail/coro_wait_list.hpp"
#include "patterns/detail/select_await.hpp"
#include "patterns/detail/timer_service.hpp"
#include "patterns/errgroup.hpp"
#include "patterns/select.hpp"
#include "patterns/task.hpp"
#include "patterns/wait_group.hpp"
#include "sync/atomic.hpp"
#include "sync/thread.hpp"
#include "sync/wait.hpp"

namespace lf {

namespace detail {

class sleep_awaiter final : public withdrawable_timer_entry {
 public:
  explicit sleep_awaiter(wait_clock::time_point when) noexcept : when_(when) {}
  sleep_awaiter(const sleep_awaiter&) = delete;
  sleep_awaiter& operator=(const sleep_awaiter&) = delete;
  ~sleep_awaiter() {
    if (armed_) withdraw();  // destroyed while suspended: (S1)
  }

  bool await_ready() const noexcept { return when_ <= wait_clock::now(); }
  template <lf_promise P>
  bool await_suspend(std::coroutine_handle<P> h) {
    fiber_ = h.promise().fiber;
    h_ = h;
    armed_ = true;
    try {
      arm_at(when_);  // may fire (and resume) at once
    } catch (...) {
      armed_ = false;
      throw;
    }
    return true;
  }
  void await_resume() noexcept { armed_ = false; }

 private:
  void timer_fire() noexcept override {
    auto* f = static_cast<root_base*>(fiber_);
    const std::coroutine_handle<> h = h_;
    f->retain();
    fired();          // (S2) last touch of *this
    (void)post(*f, h);  // refused: the pool destroys the fiber
    f->release();
  }

  const wait_clock::time_point when_;
  coro_fiber* fiber_ = nullptr;
  std::coroutine_handle<> h_;
  bool armed_ = false;
};

class done_awaiter {
 public:
  explicit done_awaiter(const context& ctx) : ctx_(ctx) {}
  done_awaiter(const done_awaiter&) = delete;
  done_awaiter& operator=(const done_awaiter&) = delete;

  bool await_ready() const noexcept { return ctx_.done().ready(); }
  template <lf_promise P>
  bool await_suspend(std::coroutine_handle<P> h) {
    fiber_ = h.promise().fiber;
    h_ = h;
    callback_.emplace(ctx_.done(), wake{this});  // runs wake() here if ctx is done already
    int expected = registering;
    return state_.compare_exchange_strong(expected, suspended, std::memory_order_acq_rel);  // (D1) pairs with (D2)
  }
  void await_resume() const noexcept {}

 private:
  static constexpr int registering = 0, suspended = 1, fired = 2;
  struct wake {
    done_awaiter* self;
    // The callback's destructor (in ~done_awaiter) waits for this to return, so *self
    // and the fiber (which the frame holds) stay alive throughout.
    void operator()() const noexcept {
      if (self->state_.exchange(fired, std::memory_order_acq_rel) == suspended) {  // (D2) pairs with (D1)
        (void)post(*self->fiber_, self->h_);
      }
    }
  };

  context ctx_;
  coro_fiber* fiber_ = nullptr;
  std::coroutine_handle<> h_;
  lf::atomic<int> state_{registering};
  std::optional<context_callback<wake>> callback_;  // last: destroyed (deregistered) first
};

// Suspends until a coro_wait_list's waker completes its entry (wait_group, errgroup).
// `Waited` names the condition: ready() (acquire), list(), armed() (after the entry is
// queued: true if the condition holds, so the entry need not wait) and result().
template <class Waited>
class [[nodiscard]] list_awaiter {
 public:
  explicit list_awaiter(Waited w) noexcept : w_(w) {}
  list_awaiter(const list_awaiter&) = delete;
  list_awaiter& operator=(const list_awaiter&) = delete;
  ~list_awaiter() {
    if (suspended_) w_.list().withdraw(entry_);  // destroyed while suspended (its pool closing)
  }

  bool await_ready() { return w_.ready(); }
  template <lf_promise P>
  bool await_suspend(std::coroutine_handle<P> h) {
    entry_.waiter.owner().set_coroutine(*h.promise().fiber, h, &detail::post);  // (K0) before it is queued
    coro_wait_list& list = w_.list();
    list.push(entry_);
    if (w_.armed() && list.remove(entry_)) return false;  // ready, and no waker has the entry
    // Written before (K1): once it is set a waker may resume us on another thread.
    suspended_ = true;
    if (entry_.waiter.suspend()) return true;  // (K1)
    suspended_ = false;  // a waker completed the entry first: continue here, once its
    (void)entry_.waiter.resumed();  // completion (W1) is acquired (W4)
    return false;
  }
  auto await_resume() {
    if (suspended_) {
      (void)entry_.waiter.resumed();  // (W4), and the waker's release (W5): before our writes
      suspended_ = false;
    }
    return w_.result();
  }

 private:
  Waited w_;
  coro_wait_list::entry entry_;
  bool suspended_ = false;
};

struct wait_group_waited {
  wait_group* wg;
  bool ready() const { return wait_group_access::zero(*wg); }
  coro_wait_list& list() const noexcept { return wait_group_access::list(*wg); }
  bool armed() const { return wait_group_access::armed_and_zero(*wg); }
  void result() const noexcept {}
};

struct errgroup_waited {
  errgroup* g;
  bool ready() const { return errgroup_access::idle(*g).is_done(); }
  coro_wait_list& list() const noexcept { return errgroup_access::idle(*g).coroutines(); }
  bool armed() const { return errgroup_access::idle(*g).arm_coroutine(); }
  std::exception_ptr result() const { return errgroup_access::after_idle(*g); }
};

}  // namespace detail

inline detail::sleep_awaiter sleep_until(wait_clock::time_point t) noexcept { return detail::sleep_awaiter(t); }

template <class Rep, class Period>
detail::sleep_awaiter sleep_for(const std::chrono::duration<Rep, Period>& d) {
  return detail::sleep_awaiter(lf::deadline_after("lf::sleep_for: d", d));
}

inline detail::done_awaiter done(const context& ctx) { return detail::done_awaiter(ctx); }

// Channel operations for coroutines (see the header comment). T comes from the channel;
// v converts to it, as for channel::send.
// Wait-group and errgroup waits for coroutines (see the header comment).
inline detail::list_awaiter<detail::wait_group_waited> wait(wait_group& wg) noexcept {
  return detail::list_awaiter<detail::wait_group_waited>({&wg});
}
inline detail::list_awaiter<detail::errgroup_waited> wait(errgroup& group) noexcept {
  return detail::list_awaiter<detail::errgroup_waited>({&group});
}

// Selects for coroutines (see the header comment).
template <class... Cases>
  requires(!(std::is_same_v<std::remove_cvref_t<Cases>, select_cases> || ...))
detail::select_awaiter<std::remove_reference_t<Cases>...> co_select(Cases&&... cases) {
  return detail::select_awaiter<std::remove_reference_t<Cases>...>(false, cases...);
}
template <class... Cases>
  requires(!(std::is_same_v<std::remove_cvref_t<Cases>, select_cases> || ...))
detail::select_awaiter<std::remove_reference_t<Cases>...> co_select_biased(Cases&&... cases) {
  return detail::select_awaiter<std::remove_reference_t<Cases>...>(true, cases...);
}
inline detail::select_list_awaiter co_select(select_cases& cases) noexcept { return {cases, false}; }
inline detail::select_list_awaiter co_select_biased(select_cases& cases) noexcept { return {cases, true}; }

template <class T>
detail::recv_awaiter<T> recv(channel<T>& ch) {
  return detail::recv_awaiter<T>(ch, nullptr);
}
template <class T>
detail::recv_awaiter<T> recv(channel<T>& ch, const context& ctx) {
  return detail::recv_awaiter<T>(ch, &ctx);
}
template <class T>
detail::send_awaiter<T> send(channel<T>& ch, std::type_identity_t<T>&& v) {
  return detail::send_awaiter<T>(ch, v, nullptr);
}
template <class T>
detail::send_awaiter<T> send(channel<T>& ch, const std::type_identity_t<T>& v) {
  return detail::send_awaiter<T>(ch, v, nullptr);
}
template <class T>
detail::send_awaiter<T> send(channel<T>& ch, std::type_identity_t<T>&& v, const context& ctx) {
  return detail::send_awaiter<T>(ch, v, &ctx);
}
template <class T>
detail::send_awaiter<T> send(channel<T>& ch, const std::type_identity_t<T>& v, const context& ctx) {
  return detail::send_awaiter<T>(ch, v, &ctx);
}

}  // namespace lf
