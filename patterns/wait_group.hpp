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
// Progress: add/done lock-free (one CAS loop; done notifies only when the count reaches
// zero); wait blocking. Any number of threads may call any member.
//
// Ordering argument:
//   (1) add/done's acq_rel CAS  release half: a job's writes before done() happen before
//       a waiter that reads zero (2); the successive CASes on the one word form a release
//       sequence, so the last done() carries every earlier one. Acquire half: not needed
//       for wait, kept so that a done() racing add() sees a consistent count (cheap on x86).
//   (2) wait's acquire loads (and the acquire inside the atomic wait)  pair with (1).
#pragma once

#include <climits>
#include <stdexcept>
#include <string>

#include "sync/atomic.hpp"
#include "sync/config.hpp"

namespace lf {

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
    if (next == 0 && n != 0) count_.notify_all();
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
  lf::atomic<int> count_{0};
};

}  // namespace lf
