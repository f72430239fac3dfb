// lf::detail — channel operations awaited by lf tasks (the awaiters behind lf::send and
// lf::recv in patterns/awaitables.hpp; private machinery).
//
// A coroutine's channel operation is the thread's, on the same channel objects, with the
// park replaced by a suspension: the same select engine (channel_select.hpp) queues the
// same chan_waiter, and the same claimers complete it; only the waiter's owner differs
// (patterns/detail/waiter.hpp), so the claimer's wake-up posts the coroutine to its
// fiber's pool instead of a futex wake. A channel may have thread and coroutine senders
// and receivers at once.
//
// Steps of one operation:
//   fast path (await_ready)  a context done before the call: canceled. Buffered: one try
//                            on the ring (with its wake-ups, as a thread's send/recv).
//                            Unbuffered: if a partner is queued, one non-blocking select
//                            (try_send / try_recv), else straight on.
//   one round (select_round) the engine's poll_round with the waiter owned by the
//                            coroutine (K0: the owner is written before the links are
//                            queued); nothing ready: subscribe the context case, then
//                            suspend() (K1), which fails if a claimer completed the
//                            waiter meanwhile (then the coroutine continues at once).
//                            Resumed: resumed() waits for the claimer's release (W3/W5),
//                            then the engine's settle() finishes the case.
//   go round                 a buffered channel's wake-up says only "try again" (channel.hpp),
//                            and the retry may find the value taken: the thread then goes
//                            round, which an awaiter cannot do once resumed (await_resume
//                            cannot suspend). So a buffered operation that must wait runs
//                            its rounds in a small lf::task (one frame, allocated only on
//                            that slow path) that the awaiting coroutine awaits. An
//                            unbuffered round never ends in "try again": a hand-off, a
//                            close or a cancel completes it, so it needs no task.
//
// Destroyed while suspended (the pool is destroyed with the coroutine waiting, task.hpp):
// ~select_round withdraws the round (unsubscribes the context case, unqueues its links under
// the channel locks: no new claimer can reach the waiter), then waits for a claimer
// already under way (withdrawn(): a hand-off in claimed, a wake-up not yet released), and
// drops a value handed over to it (an unbuffered receive completed but never resumed).
// The claimer's posted resumption is refused by the closed pool: the coroutine is never
// resumed after its frame is gone.
//
// Ordering: the channel's argument (channel.hpp) plus
//   (K0) the owner (fiber, handle) is written before poll_round queues the links; a
//        claimer reads it after taking the channel lock (L1), or in the context callback
//        after the subscription (the context's hook list orders it);
//   (K1) suspend()'s CAS sets the sleeping bit unless the word is done: the claimer's
//        RMW (W1)/(W2) on the same word reads it (then posts) or precedes it (then the
//        CAS sees done and the coroutine does not suspend): exactly one resumption. It is
//        a release, so what the frame wrote before suspending (the awaiter's own fields)
//        happens before the resumed await_resume on another worker, through the
//        claimer's RMWs (a release sequence) and (W4). (TSan found the relaxed first
//        draft's race on the awaiter's `suspended_` flag.)
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <utility>

#include "patterns/channel.hpp"
#include "patterns/context.hpp"
#include "patterns/detail/channel_core.hpp"
#include "patterns/detail/channel_select.hpp"
#include "patterns/detail/timer_service.hpp"
#include "patterns/task.hpp"
#include "sync/wait.hpp"

namespace lf::detail {

// A select's cases as the engine takes them (select_engine's arguments): `cases`,
// `order` and `cores` are arrays of n entries that outlive every round over them.
struct select_spec {
  select_case* const* cases;
  int n;
  int default_index;
  bool biased;
  int* order;
  chan_core** cores;
};

// A coroutine's deadline. A thread's deadline is its park's timeout (chan_waiter::park);
// a coroutine does not park, so its earliest deadline becomes one more subscription, as
// a context's done is (done_case): an entry on the timer service whose firing completes
// the waiter with (the deadline's case, timeout) by the same CAS out of waiting (W1) and
// the same wake-up (finish_wake) as every other claimer, then calls fired() (E2,
// timer_service.hpp), its last touch. disarm() returns once the timer can no longer reach
// the waiter. A deadline of time_point::max() (lf::deadline_after's "never", for
// duration::max()) arms nothing.
class deadline_subscription final : public withdrawable_timer_entry {
 public:
  deadline_subscription() = default;
  ~deadline_subscription() { disarm(); }

  void arm(chan_waiter& w, int index, wait_clock::time_point when) {
    if (when == wait_clock::time_point::max()) return;
    waiter_ = &w;
    index_ = index;
    arm_at(when);
    armed_ = true;
  }

  void disarm() noexcept {
    if (!armed_) return;
    armed_ = false;
    withdraw();
  }

 private:
  void timer_fire() noexcept override {
    const int previous = waiter_->try_complete(index_, chan_status::timeout);  // (W1)
    if (previous >= 0) waiter_->finish_wake(previous);
    fired();  // (E2) last touch
  }

  chan_waiter* waiter_ = nullptr;
  int index_ = 0;
  bool armed_ = false;
};

// One round of the select engine for a coroutine: a blocking select (spec.default_index
// < 0) over the spec's cases. Awaited, it completes at once if a case is ready, else
// suspends until a claimer (a partner, a close, a cancel, the deadline) completes it.
class select_round {
 public:
  explicit select_round(const select_spec& s) noexcept
      : engine_(s.cases, s.n, s.default_index, s.biased, s.order, s.cores) {}
  select_round(const select_round&) = delete;
  select_round& operator=(const select_round&) = delete;
  ~select_round() {
    if (!suspended_) return;  // never suspended, or resumed
    engine_.withdraw();
    timer_.disarm();
    const int s = self_.withdrawn();
    if (waiter_state::phase(s) == waiter_state::done) engine_.discard(s);
  }

  bool await_ready() const noexcept { return false; }

  // True: suspended (a claimer resumes it). False: the round completed here; continue.
  template <lf_promise P>
  bool await_suspend(std::coroutine_handle<P> h) {
    self_.owner().set_coroutine(*h.promise().fiber, h, &detail::post);  // (K0)
    if (engine_.poll_round(self_, out_)) {
      ready_ = true;
      return false;
    }
    try {
      engine_.subscribe(self_);
      if (const wait_clock::time_point* d = engine_.deadline()) timer_.arm(self_, engine_.deadline_case(), *d);
    } catch (...) {
      suspended_ = true;  // what the destructor undoes: links queued, maybe completed
      throw;
    }
    // Written before (K1): once the bit is set a claimer may resume the coroutine on
    // another thread, whose await_resume writes it.
    suspended_ = true;
    if (self_.suspend()) return true;  // (K1) *this is the claimer's to wake from here on
    suspended_ = false;                // completed meanwhile: continue here
    return false;
  }

  // The completed case and its status; would_block: a buffered "try again" lost, go round.
  select_outcome await_resume() {
    if (ready_) return out_;
    const int s = self_.resumed();  // (W4) first: it orders await_suspend's writes before ours
    suspended_ = false;
    timer_.disarm();
    if (!engine_.settle(s, out_)) out_.status = chan_status::would_block;
    return out_;
  }

 private:
  select_engine engine_;
  chan_waiter self_;
  deadline_subscription timer_;
  select_outcome out_{};
  bool ready_ = false;
  bool suspended_ = false;
};

// Rounds until one does not end in "try again" (a buffered channel's slow path).
inline task<select_outcome> select_rounds(select_spec s) {
  for (;;) {
    const select_outcome r = co_await select_round(s);
    if (r.status != chan_status::would_block) co_return r;
  }
}

// The slow path of a blocking awaiter: one round, or (with `rounds`: a buffered channel
// among the cases, whose "try again" may lose) the rounds task. Declared last in its
// awaiter, so that it is destroyed (withdrawn) while the cases it queued are still alive.
class select_slow_path {
 public:
  template <lf_promise P>
  std::coroutine_handle<> suspend(const select_spec& s, bool rounds, std::coroutine_handle<P> h) {
    if (!rounds) {
      round_.emplace(s);
      if (round_->await_suspend(h)) return std::noop_coroutine();
      return transfer_to(h);
    }
    rounds_.emplace(select_rounds(s));
    rounds_awaiter_.emplace(std::move(*rounds_).operator co_await());
    return rounds_awaiter_->await_suspend(h);  // runs the first round at once
  }

  bool started() const noexcept { return round_ || rounds_; }

  select_outcome outcome() {
    if (round_) return round_->await_resume();
    return rounds_awaiter_->await_resume();
  }

 private:
  std::optional<select_round> round_;
  std::optional<task<select_outcome>> rounds_;
  std::optional<task_awaiter<select_outcome>> rounds_awaiter_;
};

// The context case an awaiter owns (final: held by value, destroyed as itself).
struct awaited_done_case final : done_case {
  using done_case::done_case;
};

// What recv_awaiter and send_awaiter share: the operation's case, the context case, the
// fast path's order and the slow path. Members in destruction order: the slow path first
// (it may still reach the cases), then the cases.
template <class Op>
class chan_op_awaiter {
 public:
  chan_op_awaiter(const chan_op_awaiter&) = delete;
  chan_op_awaiter& operator=(const chan_op_awaiter&) = delete;

  template <lf_promise P>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) {
    cases_[0] = &op_;
    cases_[1] = done_ ? &*done_ : nullptr;
    return slow_.suspend({cases_, done_ ? 2 : 1, -1, true, order_, cores_}, buffered_, h);
  }

 protected:
  template <class Ch, class... A>
  chan_op_awaiter(Ch& ch, const context* ctx, A&&... a) : op_(&ch, std::forward<A>(a)...), buffered_(ch.capacity() > 0) {
    if (ctx != nullptr) done_.emplace(*ctx);
  }

  // The fast path: a context done before the call wins over a ready channel (channel.hpp);
  // then `now()` (the ring; a closed channel) unless it says would_block; then, on an
  // unbuffered channel with a partner queued, one non-blocking select.
  template <class Now, class RunNonblocking>
  bool ready(Now&& now, bool partner_queued, RunNonblocking&& run_nonblocking) {
    if (done_ && done_->poll(nullptr) == chan_status::canceled) {
      status_ = chan_status::canceled;
      return true;
    }
    status_ = now();
    if (status_ != chan_status::would_block) return true;
    if (buffered_ || !partner_queued) return false;  // no partner queued: no lock
    status_ = run_nonblocking(op_);
    return status_ != chan_status::would_block;
  }

  chan_status status() {
    if (slow_.started()) status_ = slow_.outcome().status;
    return status_;
  }

  Op op_;

 private:
  std::optional<awaited_done_case> done_;
  const bool buffered_;
  chan_status status_ = chan_status::would_block;
  // The slow path's select, over op_ and done_.
  select_case* cases_[2] = {};
  int order_[2] = {};
  chan_core* cores_[2] = {};
  select_slow_path slow_;
};

// co_await lf::recv(ch) / lf::recv(ch, ctx).
template <class T>
class [[nodiscard]] recv_awaiter : public chan_op_awaiter<recv_op<T>> {
  using base = chan_op_awaiter<recv_op<T>>;

 public:
  recv_awaiter(channel<T>& ch, const context* ctx) : base(ch, ctx), ch_(ch) {}

  bool await_ready() {
    return this->ready([&] { return ch_.buffer_ ? ch_.pop(this->op_.value) : chan_status::would_block; },
                       chan_core::senders(ch_.core_.waiting()) != 0, channel<T>::run_nonblocking);
  }

  recv_result<T> await_resume() {
    const chan_status st = this->status();
    return {st, std::move(this->op_.value)};
  }

 private:
  channel<T>& ch_;
};

// Where a send_awaiter keeps an lvalue's copy: a base, so that it outlives the
// operation's cases (a claimer may be moving out of it while the slow path withdraws).
template <class T>
struct send_value {
  std::optional<T> copy;
};

// co_await lf::send(ch, v) / lf::send(ch, v, ctx). Holds a reference to an rvalue v (a
// temporary of the co_await's full expression, or the caller's object: moved from only
// when sent) or a copy of an lvalue v.
template <class T>
class [[nodiscard]] send_awaiter : send_value<T>, public chan_op_awaiter<send_op<T>> {
  using base = chan_op_awaiter<send_op<T>>;

 public:
  send_awaiter(channel<T>& ch, T& v, const context* ctx) : base(ch, ctx, v), ch_(ch), v_(v) {}
  send_awaiter(channel<T>& ch, const T& v, const context* ctx)
      : send_value<T>{std::optional<T>(v)}, base(ch, ctx, *this->copy), ch_(ch), v_(*this->copy) {}

  bool await_ready() {
    return this->ready(
        [&] {
          if (ch_.buffer_) return ch_.push(v_);
          return ch_.core_.closed() ? chan_status::closed : chan_status::would_block;
        },
        chan_core::receivers(ch_.core_.waiting()) != 0, channel<T>::run_nonblocking);
  }

  chan_status await_resume() { return this->status(); }

 private:
  channel<T>& ch_;
  T& v_;
};

}  // namespace lf::detail
