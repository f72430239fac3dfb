// lf::detail::parking_lot — where idle workers of lf::worker_pool sleep, and how a
// submitter wakes one without ever losing the wake-up.
//
// The protocol is the event count of folly's EventCount and of Vyukov's eventcount
// (announce, re-check, then wait on an epoch word), split over two int words because
// the seam's wait/notify takes an int (that is what Relacy's futex models):
//
//   sleeper (park_until(ready))              waker (after publishing work: unpark_one)
//     sleepers_ += 1          (A)              publish the work                (W)
//     [P1] seq_cst fence                       [P2] seq_cst fence
//     ticket = epoch_        (T, acquire)      n = sleepers_                   (S)
//     if ready(): sleepers_ -= 1, return       if n > 0: epoch_ += 1           (E)
//     wait while epoch_ == ticket                        notify one
//     sleepers_ -= 1
//
// Why no wake-up is lost. [P1] and [P2] are seq_cst fences, so one precedes the other
// in the single total order S ([atomics.order]/4):
//   - [P2] before [P1]: the sleeper's re-check (ready(), after [P1]) reads the work (W,
//     before [P2]) or something later, so it does not sleep.
//   - [P1] before [P2]: the waker's load (S, after [P2]) reads the increment (A, before
//     [P1]) or a later value of sleepers_. The sleeper's own decrement comes only after
//     it woke, and every other thread's decrement follows its own increment, so n > 0
//     and the waker bumps the epoch (E). Either the sleeper's ticket load (T) reads E —
//     then T synchronizes with E (acquire / seq_cst RMW), W happens before the re-check,
//     and the sleeper does not sleep — or T reads the older epoch, and the futex wait
//     (which compares epoch_ with the ticket atomically with going to sleep) either
//     returns at once or is woken by the notify that follows E.
// Every wait/notify pair can be spurious from the sleeper's point of view (another
// thread's work, a wake-up meant for a sleeper that already left): park_until returns
// and the caller looks for work again. That is the price of notify_one without a queue
// of sleepers, and it is never a lost wake-up.
//
// The sleeper count exists so that a submission costs one fence and one load, not a
// futex system call, while every worker is busy (n == 0). The sleeper stays counted
// for as long as it sleeps; decrementing before the wait would let a waker read 0 and
// skip the notify (the mutant parking_decrement_before_wait shows the deadlock).
//
// Progress: blocking, by design (a parked thread waits for a waker). Any number of
// sleepers and wakers. The epoch wraps around after 2^32 bumps; a sleeper would have to
// miss exactly 2^32 of them between its ticket load and its wait to sleep through one.
//
// The model lane checks this very header: verification/model/worker_pool_model.cpp.
#pragma once

#include "sync/atomic.hpp"
#include "sync/config.hpp"

namespace lf::detail {

class parking_lot {
 public:
  parking_lot() = default;
  parking_lot(const parking_lot&) = delete;
  parking_lot& operator=(const parking_lot&) = delete;

  // Parks the calling thread unless ready() returns true after the thread announced
  // itself. ready() is called once, after the announcement; it should look for the work
  // itself (and may take it). Returns when ready() said true, or after a wake-up, which
  // may be spurious: the caller looks for work again either way.
  template <class Ready>
  void park_until(Ready&& ready) {
    const int ticket = prepare_park();
    if (ready()) {
      cancel_park();
      return;
    }
    park(ticket);
  }

  // Wakes one parked thread if any is parked (or about to park). Call it after the work
  // it announces is published (stored to memory another thread's ready() reads).
  void unpark_one() {
    lf::fence(std::memory_order_seq_cst);  // [P2] orders the caller's publication before (S); pairs with [P1]
    if (sleepers_.load(std::memory_order_relaxed) > 0) {  // (S) relaxed: [P2] orders it
      epoch_.fetch_add(1, std::memory_order_seq_cst);  // (E) release half: pairs with (T)
      epoch_.notify_one();
    }
  }

  // Wakes every parked thread (stop, shutdown). Bumps the epoch unconditionally: it is
  // rare, and a sleeper between (A) and its wait then cannot keep its old ticket.
  void unpark_all() {
    lf::fence(std::memory_order_seq_cst);  // [P2] as in unpark_one
    epoch_.fetch_add(1, std::memory_order_seq_cst);
    epoch_.notify_all();
  }

  // Threads parked or about to park (a snapshot).
  int sleepers_approx() const { return sleepers_.load(std::memory_order_relaxed); }

 private:
  int prepare_park() {
    sleepers_.fetch_add(1, std::memory_order_seq_cst);  // (A)
    lf::fence(std::memory_order_seq_cst);              // [P1] orders (A) before the re-check; pairs with [P2]
    return epoch_.load(std::memory_order_acquire);     // (T) acquire: pairs with (E)
  }

  // relaxed: leaving the count publishes nothing; a waker that still reads us as a
  // sleeper sends one spurious wake-up.
  void cancel_park() { sleepers_.fetch_sub(1, std::memory_order_relaxed); }

  void park(int ticket) {
    epoch_.wait(ticket, std::memory_order_acquire);  // (T') acquire: pairs with (E), like (T)
    sleepers_.fetch_sub(1, std::memory_order_relaxed);  // as cancel_park: only after the wait
  }

  lf::atomic<int> epoch_{0};
  lf::atomic<int> sleepers_{0};
};

}  // namespace lf::detail
