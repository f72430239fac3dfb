// lf::detail::coro_wait_list — coroutines waiting for one condition of a primitive whose
// threads wait on a futex word of their own (lf::wait_group's count reaching zero,
// detail::completion's done bit: errgroup::wait). The entries are the channel's waiter
// (patterns/detail/channel_core.hpp: its state word and its thread-or-coroutine owner,
// patterns/detail/waiter.hpp), so the claim (one CAS out of "waiting"), the wake-up (a
// resumption posted to the coroutine's pool) and the release of the word (W3/W5) are
// the channel's, written and model-checked once.
//
// The list is guarded by a chan_lock. The primitive decides how a registration and the
// condition becoming true see each other (an RMW on one word, or a fence pair): the
// waiter push()es its entry, then arms; if the condition holds after arming it remove()s
// its entry and does not suspend (remove() false: a waker already took the entry and
// will complete it). The waker makes the condition true, then, if it may have missed
// nobody, wake_all()s: under the lock it unlinks each entry, completes its waiter and
// wakes it, so that once an owner's remove() or withdraw() has taken the lock, no waker
// touches its entry any more.
//
// Progress: blocking (the lock, held for a few pointer writes per entry).
#pragma once

#include "patterns/detail/channel_core.hpp"
#include "sync/atomic.hpp"

namespace lf::detail {

class coro_wait_list {
 public:
  struct entry {
    chan_waiter waiter;
    chan_link link;
  };

  coro_wait_list() = default;
  coro_wait_list(const coro_wait_list&) = delete;
  coro_wait_list& operator=(const coro_wait_list&) = delete;

  void push(entry& e) {
    e.link.waiter = &e.waiter;
    lock_guard g(lock_);
    queue_.push_back(&e.link);
    // relaxed: ordered by the primitive's arming step (its fence or RMW) that follows.
    count_.fetch_add(1, std::memory_order_relaxed);
  }

  // True if `e` was still queued (now it is not, and no waker will touch it).
  bool remove(entry& e) {
    lock_guard g(lock_);
    if (!e.link.queued.get()) return false;
    unlink(e.link);
    return true;
  }

  // The owner's frame is being destroyed while it waits: afterwards nothing touches `e`.
  void withdraw(entry& e) {
    (void)remove(e);
    (void)e.waiter.withdrawn();  // a waker that took it finished under the lock: returns at once
  }

  // Completes and wakes every queued entry (under the lock: see the header comment).
  void wake_all() {
    lock_guard g(lock_);
    while (chan_link* l = queue_.front()) {
      unlink(*l);
      const int previous = l->waiter->try_complete(0, chan_status::ok);
      if (previous >= 0) l->waiter->finish_wake(previous);
    }
  }

  // Entries queued (a snapshot; the primitive orders the load, see wait_group).
  int waiting() const { return count_.load(std::memory_order_relaxed); }

 private:
  void unlink(chan_link& l) {
    queue_.remove(&l);
    count_.fetch_sub(1, std::memory_order_relaxed);  // relaxed: a stale count costs one lock
  }

  chan_lock lock_;
  chan_queue queue_;
  lf::atomic<int> count_{0};
};

}  // namespace lf::detail
