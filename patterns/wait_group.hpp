// lf::wait_group — Go's sync.WaitGroup: wait until a counted set of jobs is done.
//
// add(n) counts n more jobs, done() counts one finished, wait() blocks until the count
// is zero. The count is one lf::atomic<int> and wait() parks on that very word (C++20
// atomic wait: a futex in production, Relacy's futex under the model), so there is no
// separate flag to keep consistent and no wake-up to lose: the futex compares the word
// with the value wait() read, atomically with going to sleep.
//
// Differences from Go: a count that would go negative throws std::logic_error (Go
// panics) and the count is left unchanged; the count is an int (at most INT_MAX jobs
// outstanding; more throws std::length_error). As in Go, add with a positive n that
// starts from zero must happen before the wait() it is meant to hold up, and a group
// may be reused once wait() has returned.
//
// Coroutines wait with `co_await lf::wait(wg)` (patterns/awaitables.hpp): a coroutine
// cannot sleep on the word, so it queues a waiter in a detail::coro_wait_list, and the
// add() that brings the count to zero wakes that list as well as the futex.
//
// Progress: add/done lock-free (one CAS loop; done notifies only when the count reaches
// zero); wait blocking. Any number of threads may call any member.
//
// Ordering argument:
//   (1) add/done's acq_rel CAS  release half: a job's writes before done() happen before
//       a waiter that reads zero (2); the successive CASes on the one word form a release
//       sequence, so the last done() carries every earlier one. Acquire half: not needed
//       for wait, kept so that a done() racing add() sees a consistent count (cheap on x86).
//   (2) wait's acquire loads (and the acquire inside the atomic wait)  pair with (1).
//   Coroutine waiters (store buffering, as in parking_lot.hpp): the add() that reaches
//   zero issues [G1], a seq_cst fence, after its CAS (1) and then reads the list's count
//   (relaxed); a coroutine queues its entry (the count's increment) and issues [G2]
//   before it re-reads the count (2). One fence precedes the other in S: either the
//   coroutine's re-read sees zero (and it does not suspend) or the add's load sees the
//   entry (and wakes the list). A wake-up completes the entry under the list's lock after
//   (1), so the resumed coroutine's acquire of its waiter word (W4) sees the jobs' writes.
#pragma once

#include <climits>
#include <stdexcept>
#include <string>

#include "patterns/detail/coro_wait_list.hpp"
#include "sync/atomic.hpp"
#include "sync/config.hpp"

namespace lf {

class wait_group;
namespace detail {
struct wait_group_access;
}

class wait_group {
 public:
  wait_group() = default;
  wait_group(const wait_group&) = delete;
  wait_group& operator=(const wait_group&) = delete;

  // Adds n (may be negative) to the count. Throws std::logic_error if the count would go
  // negative, std::length_error if it would pass INT_MAX; the count is unchanged then.
  void add(int n) {
    int count = count_.load(std::memory_order_relaxed);
    int next;
    do {
      if (n < 0 && count + n < 0) {
        throw std::logic_error("lf::wait_group: negative counter (count " + std::to_string(count) + ", add " +
                               std::to_string(n) + ")");
      }
      if (n > 0 && count > INT_MAX - n) {
        throw std::length_error("lf::wait_group: counter past INT_MAX (count " + std::to_string(count) + ", add " +
                                std::to_string(n) + ")");
      }
      next = count + n;
    } while (!count_.compare_exchange_weak(count, next, std::memory_order_acq_rel,
                                           std::memory_order_relaxed));  // (1) pairs with (2)
    if (next == 0 && n != 0) {
      count_.notify_all();
      lf::fence(std::memory_order_seq_cst);  // [G1] orders (1) before the count's load; pairs with [G2]
      if (coroutines_.waiting() != 0) coroutines_.wake_all();
    }
  }

  void done() { add(-1); }

  // Returns once the count is zero.
  void wait() const {
    int count;
    while ((count = count_.load(std::memory_order_acquire)) != 0) {  // (2) pairs with (1)
      count_.wait(count, std::memory_order_acquire);                  // (2)
    }
  }

  // A snapshot of the count.
  int count_approx() const { return count_.load(std::memory_order_relaxed); }

 private:
  friend struct detail::wait_group_access;

  lf::atomic<int> count_{0};
  detail::coro_wait_list coroutines_;  // co_await lf::wait(*this)
};

namespace detail {
// What lf::wait(wg) (patterns/awaitables.hpp) uses.
struct wait_group_access {
  static bool zero(const wait_group& wg) { return wg.count_.load(std::memory_order_acquire) == 0; }  // (2)
  static coro_wait_list& list(wait_group& wg) noexcept { return wg.coroutines_; }
  // After queueing an entry: true if the count is zero now (then the entry need not wait).
  static bool armed_and_zero(const wait_group& wg) {
    lf::fence(std::memory_order_seq_cst);  // [G2] orders the entry's count before (2); pairs with [G1]
    return zero(wg);
  }
};
}  // namespace detail

}  // namespace lf
