// lf::detail — the untyped half of lf::channel: the status enum, the slow-path lock, the
// waiter and its state word, the waiter queues, and the wake-up protocol between the
// lock-free fast path and parked threads. The design and its ordering argument are in
// patterns/channel.hpp; this file holds the machinery and the argument for each step.
//
// A waiter is one blocked operation or one blocked select. It lives on the blocked
// thread's stack, or in a suspended coroutine's frame (patterns/detail/channel_await.hpp),
// and is queued on each channel it waits for through one link per case (Go's sudog; the
// waiter's state word is Go's selectDone, made the futex word as well). Its owner, a
// thread or a coroutine, is told apart only by the one wake-up call
// (patterns/detail/waiter.hpp); the protocol below is the same for both.
// State word (an int, the futex's word):
//   phase (bits 0-1)   waiting, claimed (a hand-off is under way), done, abandoned
//   sleeping (bit 2)   the owner is parked (or about to park) on the word; for a
//                      coroutine: it is suspended (K1), the claimer must post it
//   status (bits 3-5)  the chan_status the case completed with (when done)
//   index (bits 6-)    which case completed (when done)
// Transitions: the owner's waiting -> abandoned (timeout), or one claimer's
// waiting -> claimed | done; claimed -> done by that claimer. The CAS out of waiting is
// the single decision: a select completes exactly one case, and a timed-out operation
// cannot also be completed.
//
// Lifetime rule (why a claimer never touches a freed waiter). A claimer reaches a
// waiter only through a queued link, under that channel's lock, and unlinks it before
// it CASes; the owner removes its links under the same locks before it returns. After
// a successful claim the owner waits for done, so the claimer may finish after
// unlocking. The claimer's last touches are the transition to done and, when it found
// the sleeping bit, the wake (a futex wake, or a coroutine's resumption posted to its
// pool) and then clearing that bit (W3); an owner that slept (or suspended) waits for
// the bit to clear before its frame goes away (W5), and so does the destructor of a
// coroutine's waiter destroyed while suspended (withdrawn()). The one claimer that holds no
// channel lock, a context's cancel callback, is deregistered by the owner with
// lf::context_callback's destructor, which waits for a callback running elsewhere.
#pragma once

#include <cstdint>
#include <new>
#include <type_traits>

#include "patterns/detail/process_cpus.hpp"
#include "patterns/detail/waiter.hpp"
#include "sync/atomic.hpp"
#include "sync/cell.hpp"
#include "sync/config.hpp"
#include "sync/thread.hpp"
#include "sync/wait.hpp"

namespace lf {

// Why a channel operation or a select case completed (public; see patterns/channel.hpp).
//   ok           the value was sent / received
//   closed       the channel is closed (a receive: and drained)
//   would_block  a try_ operation found no room / no value / no partner
//   timeout      a timed operation's deadline passed
//   canceled     a context-aware operation's context was done (ctx.err() says why)
enum class [[nodiscard]] chan_status : unsigned char { ok, closed, would_block, timeout, canceled };

namespace detail {

// What a waiter does before it sleeps (nothing under the model, where the scheduler, not
// the clock, decides who runs and a spin only enlarges the search). Spinning pays only
// while the thread that will complete us can run meanwhile, on another CPU; so a waiter
// spins pause loops where the process has several CPUs, and where it has one
// (process_cpus() == 1: `taskset -c 0`, a one-CPU container) it does not pause at all
// but yields the CPU a few times, which runs a runnable partner at once, before it
// sleeps. One pause is ~25 ns on the project's 2-core machine (measured).
//   chan_spin       the lock, and a waiter on buffered channels only (~1.6 µs): such a
//                   waiter is better asleep, so that the other side fills (or drains) the
//                   ring in a batch rather than handing over one value per wake-up.
//   handoff_spin    a waiter with an unbuffered case (~25 µs): it is completed by a
//                   partner's hand-off, and the partner of a rendezvous is usually running
//                   right then. Measured (1P1C, -O2, 2 cores): ping-pong over two unbuffered
//                   channels 17-22 µs per round trip with chan_spin, 0.28-0.32 µs with
//                   handoff_spin (Go: 0.22 µs), because neither side then pays a futex
//                   sleep and wake per message.
//   one_cpu_yields  one CPU: the yields before sleeping, in place of any pause. Measured
//                   (ping-pong as above under `taskset -c 0`): 71 µs per round trip when
//                   both ends spun handoff_spin (each spin is a slice the partner waits
//                   out), 18 µs sleeping at once, 3.3 µs yielding (a yield switches
//                   straight to the partner, with no futex sleep and wake); a mutex and
//                   condition variable take 25 µs there.
#if defined(LF_MODEL_RELACY)
inline constexpr int chan_spin = 0;
inline constexpr int handoff_spin = 0;
inline constexpr int one_cpu_yields = 0;
#else
inline constexpr int chan_spin = 64;
inline constexpr int handoff_spin = 1000;
inline constexpr int one_cpu_yields = 8;
#endif

// How to spend the wait before sleeping: `pauses` spin pauses, then `yields` yields.
struct spin_plan {
  int pauses;
  int yields;
};

// A spin of `pauses` on a process that may run on `cpus` CPUs.
constexpr spin_plan plan_spin(int pauses, int cpus) noexcept {
  return cpus > 1 ? spin_plan{pauses, 0} : spin_plan{0, one_cpu_yields};
}
inline spin_plan plan_spin(int pauses) noexcept {
#if defined(LF_MODEL_RELACY)
  return {pauses, 0};
#else
  return plan_spin(pauses, process_cpus());
#endif
}

// Waits by `plan` for `done()`: true as soon as it returns true, false once the plan is spent.
template <class Done>
bool spin_until(spin_plan plan, Done&& done) {
  for (int i = 0; i < plan.pauses; ++i) {
    spin_pause();
    if (done()) return true;
  }
  for (int i = 0; i < plan.yields; ++i) {
    yield_thread();
    if (done()) return true;
  }
  return false;
}

// A plain value that a channel's lock guards, visible to the model checker as a shared
// variable (lf::cell), so an access outside the lock is reported as a race.
template <class T>
class locked {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>,
                "lf::detail::locked<T> holds plain scalars");

 public:
  explicit locked(T v = T()) noexcept { ::new (static_cast<void*>(c_.write())) T(v); }
  T get(site s = {}) const noexcept { return *c_.read(s); }
  void set(T v, site s = {}) noexcept { *c_.write(s) = v; }

 private:
  cell<T> c_;
};

// The slow path's lock: a futex mutex (Drepper, "Futexes Are Tricky", 2011, mutex 3):
// 0 free, 1 held, 2 held with sleepers. It guards only queue edits (a few pointer
// writes), so a short spin before sleeping usually wins it.
class chan_lock {
 public:
  void lock() {
    int c = 0;
    // acquire: the previous holder's queue edits happen before ours; pairs with (L2).
    if (word_.compare_exchange_strong(c, 1, std::memory_order_acquire, std::memory_order_relaxed)) return;  // (L1)
    const bool won = spin_until(plan_spin(chan_spin), [&] {
      c = 0;
      // relaxed load: a filter before the CAS (L1 again), which decides.
      return word_.load(std::memory_order_relaxed) == 0 &&
             word_.compare_exchange_strong(c, 1, std::memory_order_acquire, std::memory_order_relaxed);  // (L1)
    });
    if (won) return;
    // From here on we may sleep, so the word says "sleepers" (2) whenever we hold it.
    while (word_.exchange(2, std::memory_order_acquire) != 0) {  // (L1)
      lf::futex_wait(word_, 2);
    }
  }

  void unlock() {
    if (word_.exchange(0, std::memory_order_release) == 2) lf::futex_wake_one(word_);  // (L2) pairs with (L1)
  }

 private:
  lf::atomic<int> word_{0};
};

class lock_guard {
 public:
  explicit lock_guard(chan_lock& l) : l_(l) { l_.lock(); }
  ~lock_guard() { l_.unlock(); }
  lock_guard(const lock_guard&) = delete;
  lock_guard& operator=(const lock_guard&) = delete;

 private:
  chan_lock& l_;
};

namespace waiter_state {
inline constexpr int waiting = 0;
inline constexpr int claimed = 1;
inline constexpr int done = 2;
inline constexpr int abandoned = 3;
inline constexpr int phase_mask = 3;
inline constexpr int sleeping = 4;
inline constexpr int status_shift = 3;
inline constexpr int index_shift = 6;
inline constexpr int max_cases = 1 << 20;

constexpr int phase(int s) noexcept { return s & phase_mask; }
constexpr int done_as(int index, chan_status st) noexcept {
  return done | (static_cast<int>(st) << status_shift) | (index << index_shift);
}
constexpr chan_status status_of(int s) noexcept { return static_cast<chan_status>((s >> status_shift) & 7); }
constexpr int index_of(int s) noexcept { return s >> index_shift; }
}  // namespace waiter_state

// One blocked operation or select.
class chan_waiter {
 public:
  chan_waiter() = default;
  chan_waiter(const chan_waiter&) = delete;
  chan_waiter& operator=(const chan_waiter&) = delete;

  // --- claimers (hold the lock of a channel where this waiter's link was queued, or
  //     are the context's cancel callback, which the owner deregisters before leaving)

  // waiting -> done(index, st) in one step: a wake-up that hands nothing over (a
  // buffered channel's "try again", a close, a context's cancel). On success returns
  // the previous word (for finish_wake), otherwise -1.
  int try_complete(int index, chan_status st) {
    using namespace waiter_state;
    int s = state_.load(std::memory_order_relaxed);  // (W0) relaxed: the CAS (W1) decides
    while (phase(s) == waiting) {
      // release: the owner's acquire (W4) of done sees what we did before (the value we
      // moved into its slot, the slot we freed); relaxed on failure: we lost.
      if (state_.compare_exchange_weak(s, done_as(index, st) | (s & sleeping), std::memory_order_release,
                                       std::memory_order_relaxed)) {  // (W1) pairs with (W4)
        return s;
      }
    }
    return -1;
  }

  // waiting -> claimed: the start of a hand-off (an unbuffered channel). The owner
  // waits in claimed until complete(); true if we won.
  bool try_claim() {
    using namespace waiter_state;
    int s = state_.load(std::memory_order_relaxed);  // (W0)
    while (phase(s) == waiting) {
      // relaxed: decides ownership only; the hand-off's data is ordered by the channel
      // lock (the owner queued its link under it) and by (W2).
      if (state_.compare_exchange_weak(s, claimed | (s & sleeping), std::memory_order_relaxed)) return true;
    }
    return false;
  }

  // claimed -> done(index, st); returns the previous word (for finish_wake).
  int complete(int index, chan_status st) {
    using namespace waiter_state;
    // release: publishes the hand-off (the value moved in or out); pairs with (W4).
    return state_.fetch_add(done_as(index, st) - claimed, std::memory_order_release);  // (W2)
  }

  // After a transition to done: if the owner was asleep (a thread) or suspended (a
  // coroutine), wake it (patterns/detail/waiter.hpp), then tell it we are done touching
  // the word. Must be the claimer's last access to this waiter.
  void finish_wake(int previous) {
    if (previous & waiter_state::sleeping) {
      owner_.wake(state_);
      // release: the wake happens before the owner's frame goes away; pairs with (W5).
      state_.fetch_and(~waiter_state::sleeping, std::memory_order_release);  // (W3)
    }
  }

  // --- the owner

  // Who wake() wakes: this thread (the default) or a coroutine (set before the waiter is
  // queued or subscribed anywhere; claimers read it under the lock that queued it).
  waiter_owner& owner() noexcept { return owner_; }

  // Gives up (a deadline passed): waiting -> abandoned. False if a claimer came first.
  bool try_abandon() {
    using namespace waiter_state;
    int s = state_.load(std::memory_order_relaxed);  // (W0)
    while (phase(s) == waiting) {
      // relaxed: nobody hands anything over to an abandoned waiter.
      if (state_.compare_exchange_weak(s, abandoned, std::memory_order_relaxed)) return true;
    }
    return false;
  }

  // Parks until done or, with a deadline, until the deadline (then abandons). Returns the
  // final word: done (with index and status) or abandoned. Spins by `spin` first.
  int park(const wait_clock::time_point* deadline, spin_plan spin) {
    using namespace waiter_state;
    bool slept = false;
    // relaxed: a filter; (W4) below decides.
    spin_until(spin, [&] { return phase(state_.load(std::memory_order_relaxed)) == done; });
    for (;;) {
      int s = state_.load(std::memory_order_acquire);  // (W4) pairs with (W1), (W2)
      if (phase(s) == done || phase(s) == abandoned) {
        if (slept && (s & sleeping)) {
          wait_released();
          s &= ~sleeping;
        }
        return s;
      }
      if (!(s & sleeping)) {
        // relaxed: announces the sleep; a claimer's RMW reads it and wakes us (W1/W2).
        if (!state_.compare_exchange_weak(s, s | sleeping, std::memory_order_relaxed)) continue;
        s |= sleeping;
        slept = true;
      }
      if (deadline == nullptr || phase(s) == claimed) {
        lf::futex_wait(state_, s);  // a hand-off in progress always completes: no deadline
      } else if (!lf::futex_wait_until(state_, s, *deadline)) {
        if (try_abandon()) return abandoned;
      }
    }
  }

  // --- a coroutine owner (no deadline, no spin: it gives its worker back at once)

  // Announces the suspension (K1): sets sleeping unless a claimer completed us first.
  // True: suspended; the owner must not touch *this until the claimer's wake() resumes
  // it. False: done already; the owner continues at once (nobody will wake it).
  bool suspend() {
    using namespace waiter_state;
    int s = state_.load(std::memory_order_relaxed);  // (W0)
    while (phase(s) != done) {  // (K1) done: a claimer came first, do not suspend
      // release: the coroutine's frame, as it was when it suspended, reaches whoever
      // resumes it: the claimer's RMWs (W1)/(W2)/(W3) continue this release sequence,
      // and the resumed owner's acquire (W4) reads one of them. (A parked thread needs no
      // such edge: it is the thread that goes on.) The claimer's RMW reads the bit.
      if (state_.compare_exchange_weak(s, s | sleeping, std::memory_order_release, std::memory_order_relaxed)) {
        return true;  // (K1)
      }
    }
    return false;
  }

  // After suspend() (resumed, or it returned false): the final word, once the claimer
  // has stopped touching this waiter.
  int resumed() {
    int s = state_.load(std::memory_order_acquire);  // (W4) pairs with (W1), (W2)
    if (s & waiter_state::sleeping) {
      wait_released();
      s &= ~waiter_state::sleeping;
    }
    return s;
  }

  // The suspended owner's frame is being destroyed (its pool closing), after its links
  // were unqueued and its subscriptions withdrawn, so no new claimer can reach it: waits
  // for a claimer already under way (a hand-off in claimed, a wake-up not yet released)
  // and returns the final word: waiting (nobody completed it) or done.
  int withdrawn() {
    using namespace waiter_state;
    backoff b;
    for (;;) {
      const int s = state_.load(std::memory_order_acquire);  // (W4), (W5)
      if (phase(s) == waiting || (phase(s) == done && !(s & sleeping))) return s & ~sleeping;
      b.pause();
    }
  }

 private:
  // A claimer saw our sleeping bit and is between its transition to done and (W3).
  void wait_released() {
    backoff b;
    while (state_.load(std::memory_order_acquire) & waiter_state::sleeping) b.pause();  // (W5) pairs with (W3)
  }

  lf::atomic<int> state_{waiter_state::waiting};
  waiter_owner owner_;
};

// One case of a waiter, queued on one channel. `waiter`, `index`, `slot` and `send` are
// written by the owner before the link is queued and read by claimers under the same
// channel lock; the list fields are the lock's.
struct chan_link {
  chan_waiter* waiter = nullptr;
  int index = 0;
  bool send = false;
  // Unbuffered hand-off: a send case's value (the T to move from) or a receive case's
  // destination (an lf::cell<T> to construct into). Unused by buffered channels.
  void* slot = nullptr;

  locked<chan_link*> prev{nullptr};
  locked<chan_link*> next{nullptr};
  locked<bool> queued{false};
};

// A FIFO of links, guarded by the channel's lock.
class chan_queue {
 public:
  void push_back(chan_link* l) {
    l->prev.set(tail_.get());
    l->next.set(nullptr);
    if (chan_link* t = tail_.get()) {
      t->next.set(l);
    } else {
      head_.set(l);
    }
    tail_.set(l);
    l->queued.set(true);
  }
  void remove(chan_link* l) {
    chan_link* p = l->prev.get();
    chan_link* n = l->next.get();
    if (p) {
      p->next.set(n);
    } else {
      head_.set(n);
    }
    if (n) {
      n->prev.set(p);
    } else {
      tail_.set(p);
    }
    l->queued.set(false);
  }
  chan_link* front() const { return head_.get(); }

 private:
  locked<chan_link*> head_{nullptr};
  locked<chan_link*> tail_{nullptr};
};

// The untyped half of a channel: its lock, its two waiter queues, the waiter counts the
// fast path reads, and the closed flag.
class chan_core {
 public:
  static constexpr std::uint64_t one_receiver = 1;
  static constexpr std::uint64_t one_sender = std::uint64_t{1} << 32;

  explicit chan_core(bool buffered) noexcept : buffered_(buffered) {}
  chan_core(const chan_core&) = delete;
  chan_core& operator=(const chan_core&) = delete;

  bool buffered() const noexcept { return buffered_; }
  chan_lock& lock() noexcept { return lock_; }
  chan_queue& queue(bool send) noexcept { return send ? sendq_ : recvq_; }

  // Under the lock: queue a link and count it. The count's increment is relaxed: the
  // registering thread's fence [F2] (channel.hpp) orders it before its re-check.
  void enqueue(chan_link* l) {
    queue(l->send).push_back(l);
    waiting_.fetch_add(l->send ? one_sender : one_receiver, std::memory_order_relaxed);  // (C1) ordered by [F2]
  }
  // Under the lock: unqueue a link if it is still queued.
  void dequeue(chan_link* l) {
    if (!l->queued.get()) return;
    queue(l->send).remove(l);
    // relaxed: a count that lags only costs a wake-up attempt that finds nobody.
    waiting_.fetch_sub(l->send ? one_sender : one_receiver, std::memory_order_relaxed);
  }

  // Threads queued to receive / to send (a snapshot; read after the fast path's fence [F1]).
  // relaxed: [F1] / [F2] order it; see the argument in channel.hpp.
  std::uint64_t waiting() const noexcept { return waiting_.load(std::memory_order_relaxed); }  // (C2)
  static std::uint32_t receivers(std::uint64_t w) noexcept { return static_cast<std::uint32_t>(w); }
  static std::uint32_t senders(std::uint64_t w) noexcept { return static_cast<std::uint32_t>(w >> 32); }

  // Under the lock: unlinks queued links of direction `send` until one whose waiter it
  // can complete with (index, st) in one step. Returns that waiter
  // and its previous word for finish_wake, which the caller calls after unlocking.
  struct woken {
    chan_waiter* waiter = nullptr;
    int previous = 0;
  };
  woken complete_one(bool send, chan_status st) {
    chan_queue& q = queue(send);
    for (chan_link* l = q.front(); l != nullptr;) {
      chan_link* next = l->next.get();
      chan_waiter* w = l->waiter;
      const int index = l->index;
      dequeue(l);  // before the CAS: once done, the owner may return without locking us
      const int previous = w->try_complete(index, st);
      if (previous >= 0) return {w, previous};
      l = next;  // stale: its owner was completed elsewhere or gave up
    }
    return {};
  }

  // Under the lock: unlinks queued links of direction `send` until one whose waiter
  // (not `self`, a select's own) it can claim for a hand-off; the claimed waiter waits
  // until the caller complete()s it. Empty if there is none.
  struct partner {
    chan_waiter* waiter = nullptr;
    int index = 0;
    void* slot = nullptr;
  };
  partner claim_one(bool send, const chan_waiter* self) {
    for (chan_link* l = queue(send).front(); l != nullptr;) {
      chan_link* next = l->next.get();
      chan_waiter* w = l->waiter;
      if (w != self) {
        const partner p{w, l->index, l->slot};
        dequeue(l);  // before the claim: see complete_one
        if (w->try_claim()) return p;
      }
      l = next;
    }
    return {};
  }

  // Locks, completes one queued waiter of direction `send` with "ok: try again", unlocks,
  // wakes it. The buffered channel's wake-up: it hands nothing over.
  void wake_one(bool send) {
    woken w;
    {
      lock_guard g(lock_);
      w = complete_one(send, chan_status::ok);
    }
    if (w.waiter) w.waiter->finish_wake(w.previous);
  }

  // Under the lock: completes every queued waiter with `st` (wake-ups under the lock:
  // close is rare, and the links must not be touched once unlocked).
  void complete_all(chan_status st) {
    for (bool send : {false, true}) {
      for (;;) {
        woken w = complete_one(send, st);
        if (!w.waiter) break;
        w.waiter->finish_wake(w.previous);
      }
    }
  }

  // The closed flag (the buffered ring carries its own seal; this one decides close()'s
  // "first or not" and an unbuffered channel's state). Written under the lock.
  bool closed() const noexcept { return closed_.load(std::memory_order_acquire) != 0; }  // (C3) pairs with (C4)
  void mark_closed() noexcept { closed_.store(1, std::memory_order_release); }          // (C4) pairs with (C3)

 private:
  chan_lock lock_;
  chan_queue recvq_;
  chan_queue sendq_;
  lf::atomic<std::uint64_t> waiting_{0};  // receivers (low 32 bits) and senders (high 32 bits) queued
  lf::atomic<int> closed_{0};
  const bool buffered_;
};

}  // namespace detail
}  // namespace lf
