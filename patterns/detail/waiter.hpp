// lf::detail::waiter_owner — who a blocked operation's waiter wakes: a parked thread or a
// suspended coroutine (DESIGN §3: one waiter abstraction for threads and coroutines).
//
// A blocking primitive keeps, per blocked operation, a waiter with a state word (the
// channel's chan_waiter, patterns/detail/channel_core.hpp). Its owner announces that it
// waits by setting a "sleeping" bit in that word; the claimer that completes the waiter
// reads the bit with the RMW that completes it and, when set, calls wake(word). wake()
// is the one place where the two kinds of owner differ:
//   a thread     sleeps on the word (a futex): wake() is a futex wake of the word;
//   a coroutine  is suspended in its frame: wake() queues its handle on its fiber's pool
//                (or posts it to the fiber's sync_wait thread), which resumes it there.
// Everything around wake() — the decision (one CAS out of "waiting"), the hand-off, and
// the claimer's release of the word after the wake (channel_core.hpp (W3)/(W5)) — is
// written once and serves both. A coroutine owner never sleeps on the word: its
// "sleeping" bit means "suspended: post me", set by a CAS that fails when a claimer
// completed the waiter first (then the coroutine does not suspend).
//
// Why the claimer may touch the coroutine after its wake: the resumed coroutine waits,
// as a woken thread does, until the claimer has cleared the sleeping bit (W3) before its
// awaiter (and its frame) may go away; the pool that runs it is alive while any of its
// coroutines is suspended (a pool destroys its suspended fibers only once its workers are
// joined, and their awaiters' destructors wait for the same bit).
//
// The post function is passed in by the coroutine side (patterns/task.hpp's detail::post),
// so this header, and the channel, do not depend on the worker pool.
#pragma once

#include <coroutine>

#include "sync/atomic.hpp"
#include "sync/wait.hpp"

namespace lf::detail {

class coro_fiber;

class waiter_owner {
 public:
  using post_fn = bool (*)(coro_fiber&, std::coroutine_handle<>);

  // The owner is the coroutine `h`, suspended in `fiber`; `post` queues a resumption of
  // it (false: its pool refused, the pool will destroy the frame). Written before the
  // waiter is published to any claimer (queued under a channel lock, or subscribed).
  void set_coroutine(coro_fiber& fiber, std::coroutine_handle<> h, post_fn post) noexcept {
    fiber_ = &fiber;
    handle_ = h;
    post_ = post;
  }
  bool is_coroutine() const noexcept { return fiber_ != nullptr; }

  // The claimer's wake-up of an owner that announced its wait on `word`.
  void wake(lf::atomic<int>& word) const noexcept {
    if (fiber_ == nullptr) {
      lf::futex_wake_one(word);
    } else {
      (void)post_(*fiber_, handle_);
    }
  }

 private:
  coro_fiber* fiber_ = nullptr;  // null: a thread
  std::coroutine_handle<> handle_;
  post_fn post_ = nullptr;
};

}  // namespace lf::detail
