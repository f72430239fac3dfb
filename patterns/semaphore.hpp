// lf::weighted_semaphore — Go's golang.org/x/sync/semaphore.Weighted in C++: a counting
// semaphore whose acquirers take any number of tokens at once, wait in FIFO order, and
// give up when their context is done.
//
//   lf::weighted_semaphore sem(8);              // 8 tokens
//   if (sem.acquire(ctx, 3) == lf::context_error::none) {  // blocks; FIFO among waiters
//     ...                                       // holds 3 tokens
//     sem.release(3);
//   }
//   if (sem.try_acquire(2)) { ...; sem.release(2); }       // never blocks
//
// Go's semantics kept.
//   - FIFO: an acquirer that finds waiters queues behind them even if its own request
//     would fit (so a large request is not starved by a stream of small ones); release
//     grants waiters from the front for as long as the front one fits.
//   - acquire(ctx, w) returns ctx's error (canceled / deadline_exceeded) when ctx is done
//     first, and then holds nothing. A ctx already done fails at once, even if tokens
//     are free (Go checks Done first too).
//   - A waiter cancelled just as it was granted (the x/sync race class): the grant and
//     the cancellation are decided under one lock, and a granted-then-cancelled waiter
//     gives its tokens back and wakes whoever now fits — nothing is lost or created.
//   - A cancelled waiter at the front of the queue wakes the waiters behind it that now
//     fit (x/sync issue 45263: a big waiter at the front blocked smaller ones after it left).
// Where lf differs, and why.
//   - w > capacity() can never succeed: Go blocks until ctx is done; lf throws
//     std::invalid_argument at once, naming w and the capacity (a bad argument, DESIGN §4).
//     A negative w throws too.
//   - release of more than is held: Go panics; lf throws std::logic_error and changes
//     nothing.
//   - acquire(w) without a context blocks until granted (Go's Acquire(context.Background())).
//
// Design. One 64-bit state word: the free tokens (bits 0-61) and a "waiters" bit (63),
// set exactly while the FIFO queue is not empty (changed only under the queue's lock).
//   fast acquire   one CAS: no waiters and enough free tokens -> free -= w
//   fast release   one CAS: no waiters -> free += w
// Either fast path that sees the waiters bit takes the lock. While the bit is set, no
// fast path can change the word (its CAS expects the bit clear), so the lock holder
// grants from the queue knowing exactly what is free. Waiters park on their own futex
// word, on the caller's stack; a context callback (lf::context_callback) wakes them.
//
// Ordering (numbers refer to the comments below). A release that frees tokens (R, a
// release RMW on the word) happens before the acquire that takes them: the fast acquire
// CAS (A) is acquire; a queued waiter is granted by a lock holder and takes the lock
// itself before it returns, so the lock orders the grant, and everything before it,
// before the waiter's use of the tokens. The grant bit on the waiter's word (G) only
// ends its sleep. The waiter's frame is touched by the granter only under the lock, so
// once the waiter holds the lock the granter has let go of it.
//
// Progress: try_acquire and uncontended acquire/release are lock-free (one CAS each;
// the CAS retries only when another thread changed the word). With waiters, acquire and
// release take a short futex lock; acquire then blocks by design.
//
// The model lane checks this header: verification/model/semaphore_model.cpp.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "patterns/context.hpp"
#include "patterns/detail/channel_core.hpp"
#include "sync/atomic.hpp"
#include "sync/config.hpp"
#include "sync/wait.hpp"

namespace lf {

class weighted_semaphore {
 public:
  // The most tokens a semaphore can hold: the state word keeps two bits for itself.
  static constexpr std::int64_t max_capacity = (std::int64_t{1} << 62) - 1;

  explicit weighted_semaphore(std::int64_t n) : capacity_(checked_capacity(n)), state_(static_cast<std::uint64_t>(n)) {}
  weighted_semaphore(const weighted_semaphore&) = delete;
  weighted_semaphore& operator=(const weighted_semaphore&) = delete;
  // Precondition: no thread waits in acquire (LF_ASSERT).
  ~weighted_semaphore() { LF_ASSERT(head_.get() == nullptr && "lf::weighted_semaphore destroyed with waiters"); }

  std::int64_t capacity() const noexcept { return capacity_; }

  // Free tokens now (a snapshot).
  std::int64_t available_approx() const noexcept {
    return static_cast<std::int64_t>(state_.load(std::memory_order_relaxed) & free_mask);  // relaxed: a snapshot
  }

  // Takes w tokens if they are free and nobody waits; never blocks.
  [[nodiscard]] bool try_acquire(std::int64_t w = 1) {
    check_weight("lf::weighted_semaphore::try_acquire", w);
    const auto take = static_cast<std::uint64_t>(w);
    std::uint64_t s = state_.load(std::memory_order_relaxed);  // relaxed: the CAS (A) decides
    while ((s & waiters_bit) == 0 && (s & free_mask) >= take) {
      // (A) acquire: the release (R) that freed these tokens happens before us.
      if (state_.compare_exchange_weak(s, s - take, std::memory_order_acquire, std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }

  // Blocks until w tokens are granted (FIFO), or ctx is done: returns context_error::none
  // when the tokens are held, else ctx's error (and then holds nothing).
  [[nodiscard]] context_error acquire(const context& ctx, std::int64_t w = 1) {
    check_weight("lf::weighted_semaphore::acquire", w);
    if (ctx.done()) return ctx.err();
    if (try_acquire(w)) return context_error::none;
    return acquire_slow(ctx, w);
  }

  // Blocks until w tokens are granted (FIFO).
  void acquire(std::int64_t w = 1) { (void)acquire(context{}, w); }

  // Gives back w tokens and grants waiters that now fit, in FIFO order. Throws
  // std::logic_error (and changes nothing) if that would hold more than capacity().
  void release(std::int64_t w = 1) {
    check_weight("lf::weighted_semaphore::release", w);
    std::uint64_t s = state_.load(std::memory_order_relaxed);  // relaxed: the CAS (R) decides
    while ((s & waiters_bit) == 0) {
      check_release(s, w);
      // (R) release: our use of the tokens happens before their next acquirer's (A).
      if (state_.compare_exchange_weak(s, s + static_cast<std::uint64_t>(w), std::memory_order_release,
                                       std::memory_order_relaxed)) {
        return;
      }
    }
    detail::lock_guard lock(lock_);
    give_back(w);
    grant_waiters();
  }

 private:
  static constexpr std::uint64_t waiters_bit = std::uint64_t{1} << 63;
  static constexpr std::uint64_t free_mask = (std::uint64_t{1} << 62) - 1;

  // A queued acquirer, on its own stack. word: 0 waiting; granted, woken and sleeping bits.
  struct waiter {
    std::int64_t weight;
    lf::atomic<int> word{0};
    detail::locked<waiter*> next{nullptr};  // guarded by lock_
  };
  static constexpr int granted = 1;
  static constexpr int woken = 2;     // by the context's callback
  static constexpr int sleeping = 4;  // the waiter's spin is over: it sleeps (or is about to)

  // Sets `bit` (granted or woken) on w's word; wakes w only if it said it sleeps. The
  // word's read-modify-writes are totally ordered, so either this one sees `sleeping`
  // and wakes, or the waiter's own fetch_or (S) sees `bit` and never sleeps.
  static void signal(waiter& w, int bit) noexcept {
    // relaxed: it only ends the sleep (see (G)).
    if ((w.word.fetch_or(bit, std::memory_order_relaxed) & sleeping) != 0) lf::futex_wake_one(w.word);
  }

  static std::int64_t checked_capacity(std::int64_t n) {
    if (n < 0 || n > max_capacity) {
      throw std::invalid_argument("lf::weighted_semaphore: n = " + std::to_string(n) + " (must be in [0, " +
                                  std::to_string(max_capacity) + "])");
    }
    return n;
  }

  // The checks inline to a compare and a branch; the messages are built out of line.
  void check_weight(const char* what, std::int64_t w) const {
    if (w < 0 || w > capacity_) [[unlikely]] throw_bad_weight(what, w);
  }
  [[noreturn, gnu::cold, gnu::noinline]] void throw_bad_weight(const char* what, std::int64_t w) const {
    throw std::invalid_argument(std::string(what) + ": w = " + std::to_string(w) + " (must be in [0, capacity " +
                                std::to_string(capacity_) + "])");
  }

  void check_release(std::uint64_t s, std::int64_t w) const {
    if ((s & free_mask) + static_cast<std::uint64_t>(w) > static_cast<std::uint64_t>(capacity_)) [[unlikely]] {
      throw_over_release(s, w);
    }
  }
  [[noreturn, gnu::cold, gnu::noinline]] void throw_over_release(std::uint64_t s, std::int64_t w) const {
    throw std::logic_error("lf::weighted_semaphore::release: w = " + std::to_string(w) + " with " +
                           std::to_string(s & free_mask) + " of " + std::to_string(capacity_) +
                           " tokens free: released more than held");
  }

  // Under lock_: adds w free tokens (the waiters bit, if set, keeps every fast path out).
  void give_back(std::int64_t w) {
    std::uint64_t s = state_.load(std::memory_order_relaxed);  // relaxed: the CAS (R) decides
    do {
      check_release(s, w);
      // (R) release, as in release().
    } while (!state_.compare_exchange_weak(s, s + static_cast<std::uint64_t>(w), std::memory_order_release,
                                           std::memory_order_relaxed));
  }

  // Under lock_: grants queued waiters from the front while the front one fits, and
  // clears the waiters bit once the queue is empty.
  void grant_waiters() {
    for (waiter* front = head_.get(); front != nullptr; front = head_.get()) {
      // relaxed: the waiters bit is set, so only lock holders change the word.
      const std::uint64_t s = state_.load(std::memory_order_relaxed);
      if ((s & free_mask) < static_cast<std::uint64_t>(front->weight)) return;
      state_.fetch_sub(static_cast<std::uint64_t>(front->weight), std::memory_order_relaxed);  // relaxed: ditto
      unlink_front();
      // (G) relaxed: it only ends the waiter's sleep; the waiter takes the lock before it
      // looks at the grant, and the lock orders what we did before it.
      signal(*front, granted);
    }
    // relaxed: under the lock, and the queue is empty: fast paths may resume.
    state_.fetch_and(~waiters_bit, std::memory_order_relaxed);
  }

  // Under lock_.
  void unlink_front() {
    waiter* front = head_.get();
    head_.set(front->next.get());
    if (head_.get() == nullptr) tail_.set(nullptr);
  }

  // Under lock_: removes `me` (not granted) from anywhere in the queue; true if it was first.
  bool unlink(waiter* me) {
    waiter* prev = nullptr;
    for (waiter* w = head_.get(); w != me; w = w->next.get()) prev = w;
    if (prev == nullptr) {
      unlink_front();
      return true;
    }
    prev->next.set(me->next.get());
    if (tail_.get() == me) tail_.set(prev);
    return false;
  }

  context_error acquire_slow(const context& ctx, std::int64_t w) {
    waiter me{w};
    {
      detail::lock_guard lock(lock_);
      std::uint64_t s = state_.load(std::memory_order_relaxed);  // relaxed: the CASes decide
      for (;;) {
        if ((s & waiters_bit) == 0 && (s & free_mask) >= static_cast<std::uint64_t>(w)) {
          // (A) acquire: tokens freed since our try_acquire.
          if (state_.compare_exchange_weak(s, s - static_cast<std::uint64_t>(w), std::memory_order_acquire,
                                           std::memory_order_relaxed)) {
            return context_error::none;
          }
          continue;
        }
        // relaxed: the lock orders the queue; the bit only turns fast paths away.
        if (state_.compare_exchange_weak(s, s | waiters_bit, std::memory_order_relaxed, std::memory_order_relaxed)) {
          break;
        }
      }
      if (tail_.get() == nullptr) {
        head_.set(&me);
      } else {
        tail_.get()->next.set(&me);
      }
      tail_.set(&me);
    }

    {
      auto wake = [&me]() noexcept { signal(me, woken); };
      context_callback<decltype(wake)> hook(ctx.done(), wake);
      // (W) relaxed: wake-up checks; what the grant means is read under the lock below.
      // A grant usually follows within a critical section of the holder, so spin first
      // (the channel's hand-off plan: pauses on several CPUs, yields on one) and pay a
      // futex sleep and wake only for a long wait. Measured (bench_semaphore,
      // semaphore_contended_2t: a semaphore of 1 as a lock between two threads): every
      // acquire slept before, ~18 µs a pair on the loaded 2-core machine.
      const auto signalled = [&me] { return me.word.load(std::memory_order_relaxed) != 0; };
      if (!detail::spin_until(detail::plan_spin(detail::handoff_spin), signalled)) {
        // (S) relaxed: announces the sleep; see signal().
        if (me.word.fetch_or(sleeping, std::memory_order_relaxed) == 0) {
          while (me.word.load(std::memory_order_relaxed) == sleeping) lf::futex_wait(me.word, sleeping);
        }
      }
    }  // the hook is gone: nothing but the lock holders can reach `me` now

    detail::lock_guard lock(lock_);  // the granter, if any, has let go of `me` (see the header)
    // relaxed: (G) was made under this lock, which we now hold.
    if ((me.word.load(std::memory_order_relaxed) & granted) != 0) {
      if (!ctx.done()) return context_error::none;
      give_back(w);  // granted, but ctx is done: Go's answer is the error, so put them back
      grant_waiters();
      return ctx.err();
    }
    const bool was_front = unlink(&me);
    if (head_.get() == nullptr) {
      // relaxed: under the lock; the queue is empty.
      state_.fetch_and(~waiters_bit, std::memory_order_relaxed);
    } else if (was_front) {
      grant_waiters();  // whoever was behind us may fit now
    }
    return ctx.err();
  }

  const std::int64_t capacity_;
  lf::atomic<std::uint64_t> state_;
  detail::chan_lock lock_;
  detail::locked<waiter*> head_{nullptr};  // guarded by lock_
  detail::locked<waiter*> tail_{nullptr};  // guarded by lock_
};

}  // namespace lf
