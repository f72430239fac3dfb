// lf::detail::parking_lot — where the threads of lf::worker_pool sleep, and how they are
// woken without ever losing a wake-up. Three sleepers, one protocol:
//   parking_lot  idle workers, woken by a submitter that published a task;
//   slot_gate    submitters waiting for room under a queue limit, woken by a worker that
//                took a task out of a queue (and by errgroup's goroutine limit);
//   completion   one waiter for one result (lf::pool_future, errgroup::wait): blocked on
//                the word itself off the pool, or parked in the pool's lot while it helps
//                run tasks on a worker.
// slot_gate and completion's helper add no new sleeping protocol: they park in a
// parking_lot, so the argument below covers them once their "work" is named (a freed
// slot; the done bit). completion's blocked waiter sleeps on its word itself, where the
// futex compares the word atomically with going to sleep (as lf::wait_group does).
//
// The protocol is the event count of folly's EventCount and of Vyukov's eventcount
// (announce, re-check, then wait on an epoch word), split over two int words because
// the seam's parking word is an int (sync/wait.hpp's futex_*, which Relacy's futex
// models; they, not lf::atomic's wait/notify, because a wait may have a deadline):
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
// A deadline (park_until(ready, deadline)) changes nothing above: a sleeper that times
// out leaves the count as a woken one does, and its caller decides what the timeout means.
//
// Progress: blocking, by design (a parked thread waits for a waker). Any number of
// sleepers and wakers. The epoch wraps around after 2^32 bumps; a sleeper would have to
// miss exactly 2^32 of them between its ticket load and its wait to sleep through one.
//
// The model lane checks this very header: verification/model/worker_pool_model.cpp.
#pragma once

#include <utility>

#include "patterns/detail/coro_wait_list.hpp"
#include "sync/atomic.hpp"
#include "sync/config.hpp"
#include "sync/wait.hpp"

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
    (void)park_until(std::forward<Ready>(ready), wait_clock::time_point::max());
  }

  // As park_until(ready), but waits no later than `deadline` (time_point::max(): no
  // deadline): false when it returns because the deadline passed first.
  template <class Ready>
  bool park_until(Ready&& ready, wait_clock::time_point deadline) {
    const int ticket = prepare_park();
    if (ready()) {
      cancel_park();
      return true;
    }
    return park(ticket, deadline);
  }

  // Wakes one parked thread if any is parked (or about to park). Call it after the work
  // it announces is published (stored to memory another thread's ready() reads).
  void unpark_one() {
    lf::fence(std::memory_order_seq_cst);  // [P2] orders the caller's publication before (S); pairs with [P1]
    if (sleepers_.load(std::memory_order_relaxed) > 0) {  // (S) relaxed: [P2] orders it
      epoch_.fetch_add(1, std::memory_order_seq_cst);  // (E) release half: pairs with (T)
      futex_wake_one(epoch_);
    }
  }

  // Wakes every parked thread (stop, shutdown). Bumps the epoch unconditionally: it is
  // rare, and a sleeper between (A) and its wait then cannot keep its old ticket.
  void unpark_all() {
    lf::fence(std::memory_order_seq_cst);  // [P2] as in unpark_one
    epoch_.fetch_add(1, std::memory_order_seq_cst);
    futex_wake_all(epoch_);
  }

  // Wakes every parked thread, if any is parked or about to park: unpark_all's effect at
  // unpark_one's price (one fence and one load) when nobody sleeps. For a waker whose work
  // concerns every sleeper (a barrier's phase). The argument is unpark_one's: (S) after
  // [P2] reads a sleeper's (A), or that sleeper's re-check after [P1] reads the work.
  void unpark_parked() {
    lf::fence(std::memory_order_seq_cst);                 // [P2] as in unpark_one
    if (sleepers_.load(std::memory_order_relaxed) > 0) {  // (S) as in unpark_one
      epoch_.fetch_add(1, std::memory_order_seq_cst);     // (E) as in unpark_one
      futex_wake_all(epoch_);
    }
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

  // False when the deadline passed first. The futex compares epoch_ with the ticket
  // atomically with going to sleep; it may return spuriously, so the loop re-reads.
  bool park(int ticket, wait_clock::time_point until) {
    bool woken = true;
    // (T') acquire: pairs with (E), like (T)
    while (woken && epoch_.load(std::memory_order_acquire) == ticket) woken = futex_wait_until(epoch_, ticket, until);
    sleepers_.fetch_sub(1, std::memory_order_relaxed);  // as cancel_park: only after the wait
    return woken;
  }

  lf::atomic<int> epoch_{0};
  lf::atomic<int> sleepers_{0};
};

// A counter of taken slots with a limit: try_acquire takes one if fewer than `limit` are
// taken; acquire parks until one is free or stop() says to give up; release frees one and
// wakes one parked acquirer. The freed slot is the parking protocol's "work" (W): release
// decrements, then unpark_one's [P2] orders that before it reads the sleeper count, and a
// parked acquirer's re-check (a CAS, after [P1]) reads the decrement or a later value. A
// woken acquirer may find the slot taken by one that never slept; it parks again, and the
// slot it lost is not free, so nothing is lost (the model case
// submitters_wait_for_room_while_a_worker_frees_slots runs two acquirers for one slot).
// The limit may change (set_limit) while no slot is taken.
//
// Progress: try_acquire and release lock-free; acquire blocking. Any number of threads.
class slot_gate {
 public:
  explicit slot_gate(int limit) : limit_(limit) {}
  slot_gate(const slot_gate&) = delete;
  slot_gate& operator=(const slot_gate&) = delete;

  bool try_acquire() {
    // relaxed: a slot is a count, it guards no data; the CAS reads the latest count.
    const int limit = limit_.load(std::memory_order_relaxed);
    int used = used_.load(std::memory_order_relaxed);
    while (used < limit) {
      if (used_.compare_exchange_weak(used, used + 1, std::memory_order_relaxed, std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }

  // Takes a slot, parking while none is free. Returns false, holding no slot, once stop()
  // returns true; whoever makes stop() true must call wake_all() after that store.
  template <class Stop>
  bool acquire(Stop&& stop) {
    for (;;) {
      if (try_acquire()) return true;
      if (stop()) return false;
      bool got = false;
      bool stopped = false;
      lot_.park_until([&] {
        got = try_acquire();
        stopped = !got && stop();
        return got || stopped;
      });
      if (got) return true;
      if (stopped) return false;
    }
  }

  void release() {
    used_.fetch_sub(1, std::memory_order_relaxed);  // (W) relaxed: unpark_one's [P2] publishes it
    lot_.unpark_one();
  }

  // Wakes every parked acquirer, so that each re-reads its stop() condition.
  void wake_all() { lot_.unpark_all(); }

  int limit() const { return limit_.load(std::memory_order_relaxed); }
  // relaxed: the new limit is published by whatever starts the next acquirer.
  void set_limit(int limit) { limit_.store(limit, std::memory_order_relaxed); }
  int used_approx() const { return used_.load(std::memory_order_relaxed); }

 private:
  lf::atomic<int> limit_;
  lf::atomic<int> used_{0};
  parking_lot lot_;
};

// Done-ness of one result, with its one waiter. The word holds four bits:
//   done      set once by complete(), after the result is written;
//   blocked   a waiter sleeps on the word itself (futex: wait_blocking);
//   helping   a waiter is a worker of the pool that produces the result, parked in that
//             pool's parking_lot between the tasks it runs meanwhile (register_helper);
//   coroutine coroutines wait in `coroutines()` (a coro_wait_list; errgroup's
//             co_await lf::wait(g)): each queues its entry, then sets the bit with an
//             RMW (arm_coroutine), so complete()'s RMW sees the bit (and wakes the list,
//             which holds the entry) or the coroutine's RMW sees done (and it removes its
//             entry and does not suspend).
// complete() sets done with one RMW and wakes what the bits it replaced name. A waiter
// sets its bit with an RMW on the same word, so the two are ordered: either complete()
// sees the bit and wakes, or the waiter's RMW sees done and does not sleep. A helper then
// sleeps by the parking_lot protocol with done as the work (W): complete()'s RMW comes
// before unpark_all's [P2], the helper's is_done() re-check after [P1]. (A helper parks in
// the pool's lot, not on this word, because new tasks must wake it too.)
//
// Lifetime: complete() touches the word after a waiter may have seen done, so the word
// must outlive that call (lf::pool_future's state is shared by both sides; errgroup's
// goroutines share its state), and `helper_lot` must outlive it too (the completing task
// runs on that pool, which cannot be destroyed while a task is pending).
class completion {
 public:
  completion() = default;
  explicit completion(bool done) : word_(done ? done_bit : 0) {}
  completion(const completion&) = delete;
  completion& operator=(const completion&) = delete;

  // (C2) acquire: the result written before complete(); pairs with (C1).
  bool is_done() const { return (word_.load(std::memory_order_acquire) & done_bit) != 0; }

  // Sets done (the result must be written first) and wakes the waiter, if any.
  void complete(parking_lot* helper_lot) {
    const int old = word_.fetch_or(done_bit, std::memory_order_acq_rel);  // (C1) release: the result; pairs with (C2)
    if ((old & blocked_bit) != 0) futex_wake_all(word_);
    if ((old & helping_bit) != 0 && helper_lot != nullptr) helper_lot->unpark_all();
    if ((old & coroutine_bit) != 0) coroutines_.wake_all();
  }

  // A coroutine waiter, after queueing its entry in coroutines(): true when done already
  // (then the result is readable: (C2)).
  bool arm_coroutine() {
    return (word_.fetch_or(coroutine_bit, std::memory_order_acquire) & done_bit) != 0;  // (C2)
  }
  coro_wait_list& coroutines() noexcept { return coroutines_; }

  // Sleeps on the word until done (true) or until `deadline` has passed (false; the
  // blocked bit stays, and costs complete() a futex wake with nobody to wake). For a
  // thread that cannot help. time_point::max(): no deadline.
  bool wait_blocking(wait_clock::time_point deadline = wait_clock::time_point::max()) const {
    int w = word_.load(std::memory_order_acquire);  // (C2)
    if ((w & done_bit) != 0) return true;
    w = word_.fetch_or(blocked_bit, std::memory_order_acquire) | blocked_bit;  // (C2)
    while ((w & done_bit) == 0) {
      if (!futex_wait_until(word_, w, deadline)) return is_done();
      w = word_.load(std::memory_order_acquire);  // (C2)
    }
    return true;
  }

  // A helper announces itself before it first parks; false when done already (then the
  // result is readable: (C2)). complete() then wakes the helper's lot.
  bool register_helper() {
    return (word_.fetch_or(helping_bit, std::memory_order_acquire) & done_bit) == 0;  // (C2)
  }

  // Not done again, no waiter (errgroup reuses its completion between waits). Only while
  // nobody waits or completes: relaxed, whatever starts the next completer publishes it.
  void reset() { word_.store(0, std::memory_order_relaxed); }

 private:
  static constexpr int done_bit = 1;
  static constexpr int blocked_bit = 2;
  static constexpr int helping_bit = 4;
  static constexpr int coroutine_bit = 8;
  mutable lf::atomic<int> word_{0};
  coro_wait_list coroutines_;
};

}  // namespace lf::detail
