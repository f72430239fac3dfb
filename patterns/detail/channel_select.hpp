// lf::detail — the select engine: how one thread waits for the first of several cases
// (channel sends and receives, a context's done, a deadline) and completes exactly one.
// A blocking send or receive is a select of one case, so the whole slow path of
// lf::channel is this file (Go's selectgo, with the per-waiter state word of
// patterns/detail/channel_core.hpp as selectDone).
//
//   1. Lock every channel of the select, in address order (so two selects over the
//      same channels cannot deadlock), and, unless the select is non-blocking, queue
//      one link per channel case and issue the fence [F2] (channel.hpp's argument).
//   2. Poll every case once, in a random order (a uniformly random permutation: among
//      the cases that are ready, each is chosen with equal probability — Go's
//      fairness) or in argument order (select_biased). A channel case polls without
//      blocking: a buffered one tries the ring, an unbuffered one claims a partner
//      waiter queued on the other side. The first ready case wins: unqueue our links,
//      unlock, finish that case (the hand-off's move and the partner's wake-up, or the
//      buffered channel's wake-ups of waiters on the other side), return it.
//   3. Nothing ready: non-blocking selects return "default". Otherwise unlock, let the
//      context cases subscribe, and park on the waiter's word until one claimer
//      completes it or the earliest deadline passes (the waiter then abandons itself;
//      losing that CAS to a claimer means the claim stands).
//   4. Unsubscribe, unqueue whatever links are still queued, and finish the completed
//      case: an unbuffered hand-off is complete; a buffered channel's wake-up says only
//      "try again", so that case tries once more without blocking and, if another thread
//      got there first, the select goes round from 1.
// While a select holds its channels' locks nobody can claim its waiter (claimers need
// one of those locks), so polling after queueing cannot race with a claim of ourselves.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>

#include "patterns/detail/channel_core.hpp"
#include "sync/atomic.hpp"
#include "sync/config.hpp"
#include "sync/wait.hpp"

namespace lf::detail {

// One case, as the engine sees it. Channel cases set `core` and use `link`.
class select_case {
 public:
  chan_core* core = nullptr;
  chan_link link;

  // One attempt that does not block. Channel cases run it under their channel's lock
  // with the select's waiter (`self`) possibly queued. ok / closed / timeout / canceled:
  // the case is ready and has (or will, in after_poll) completed; would_block: not ready.
  virtual chan_status poll(const chan_waiter* self) = 0;
  // After unlocking, for the case that poll found ready.
  virtual void after_poll() {}
  // The waiter was completed for this case with `st`: the case's final status, or
  // would_block to go round again.
  virtual chan_status finish(chan_status st) { return st; }
  // The waiter was completed for this case with `st` but will never finish it (a
  // coroutine's frame destroyed while suspended): release what the claimer handed over.
  virtual void discard(chan_status) {}
  // A timer case's deadline.
  virtual const wait_clock::time_point* deadline() const { return nullptr; }
  // A context case: arrange for the waiter to be completed (index, canceled) once the
  // context is done; unsubscribe returns only when that can no longer happen.
  virtual void subscribe(chan_waiter&, int) {}
  virtual void unsubscribe() {}

 protected:
  select_case() = default;
  ~select_case() = default;
  select_case(const select_case&) = delete;
  select_case& operator=(const select_case&) = delete;
};

struct select_outcome {
  int index;  // the case that completed, or the default's index
  chan_status status;
};

// The per-thread generator behind the random poll order (xorshift64*; statistical
// quality is ample for a shuffle of a handful of cases). Under the model the order is
// the argument order: Relacy replays a failing schedule by re-running it, so the
// choices must not depend on state carried between runs.
#if !defined(LF_MODEL_RELACY)
inline std::uint64_t select_random() noexcept {
  thread_local std::uint64_t x = 0;
  if (x == 0) x = reinterpret_cast<std::uintptr_t>(&x) * 0x9E3779B97F4A7C15ull | 1;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  return x * 0x2545F4914F6CDD1Dull;
}
#endif

// Fills `order` with 0..n-1, shuffled uniformly unless `biased` (Fisher-Yates).
inline void poll_order(int* order, int n, bool biased) {
  for (int i = 0; i < n; ++i) order[i] = i;
#if !defined(LF_MODEL_RELACY)
  if (biased) return;
  for (int i = n - 1; i > 0; --i) {
    const int j = static_cast<int>(select_random() % static_cast<std::uint64_t>(i + 1));
    std::swap(order[i], order[j]);
  }
#else
  (void)biased;
#endif
}

// The select over `cases[0..n)`, one round at a time, for the two kinds of waiter: a
// thread runs the rounds in run_select (below) and parks between them; a coroutine runs
// one round in its awaiter's await_suspend and suspends between poll_round and settle
// (patterns/detail/channel_await.hpp). `order` and `cores` are scratch arrays of n
// entries that must live as long as the engine. Non-blocking when default_index >= 0.
//
// The members a round runs are always inlined: run_select was one function before it
// was split into rounds, and out-of-line calls cost the thread ping-pong ~14% (measured,
// bench_channel chan_pingpong, 2 cores).
class select_engine {
 public:
  [[gnu::always_inline]] select_engine(select_case* const* cases, int n, int default_index, bool biased, int* order, chan_core** cores)
      : cases_(cases), n_(n), default_index_(default_index), biased_(biased), order_(order), cores_(cores) {
    // The channels, each once, in address order; and the earliest deadline.
    for (int i = 0; i < n; ++i) {
      if (cases[i]->core) {
        cores_[ncores_++] = cases[i]->core;
        if (!cases[i]->core->buffered()) spin_ = handoff_spin;
      }
      const wait_clock::time_point* d = cases[i]->deadline();
      if (d && (!deadline_ || *d < *deadline_)) deadline_ = d;
    }
    std::sort(cores_, cores_ + ncores_, std::less<chan_core*>());
    ncores_ = static_cast<int>(std::unique(cores_, cores_ + ncores_) - cores_);
  }
  select_engine(const select_engine&) = delete;
  select_engine& operator=(const select_engine&) = delete;

  const wait_clock::time_point* deadline() const noexcept { return deadline_; }
  // The case whose deadline is the earliest (-1: none): the case a timeout completes.
  int deadline_case() const noexcept {
    for (int i = 0; deadline_ && i < n_; ++i) {
      if (cases_[i]->deadline() == deadline_) return i;
    }
    return -1;
  }
  int spin() const noexcept { return spin_; }

  // Steps 1-2 with a fresh waiter `self`: true with `out` set when a case was ready (its
  // links unqueued, after_poll run) or, non-blocking, nothing was (the default). False:
  // self's links are queued and the channels unlocked; subscribe, then wait for self.
  [[gnu::always_inline]] bool poll_round(chan_waiter& self, select_outcome& out) {
    poll_order(order_, n_, biased_);
    lock_all();
    if (blocking()) {
      for (int i = 0; i < n_; ++i) {
        if (!cases_[i]->core) continue;
        cases_[i]->link.waiter = &self;
        cases_[i]->link.index = i;
        cases_[i]->core->enqueue(&cases_[i]->link);
      }
      // [F2] orders our queued links (C1) before the polls below: a fast-path operation
      // that our poll misses sees the links after its fence [F1]. Pairs with [F1].
      lf::fence(std::memory_order_seq_cst);
    }
    for (int k = 0; k < n_; ++k) {
      const int i = order_[k];
      const chan_status st = cases_[i]->poll(&self);
      if (st == chan_status::would_block) continue;
      if (blocking()) {
        for (int j = 0; j < n_; ++j) {
          if (cases_[j]->core) cases_[j]->core->dequeue(&cases_[j]->link);
        }
      }
      unlock_all();
      cases_[i]->after_poll();
      out = {i, st};
      return true;
    }
    unlock_all();
    if (!blocking()) {
      out = {default_index_, chan_status::would_block};
      return true;
    }
    return false;
  }

  // Step 3's subscriptions (the context cases).
  void subscribe(chan_waiter& self) {
    for (int i = 0; i < n_; ++i) cases_[i]->subscribe(self, i);
  }

  // Undoes a round's registration: unsubscribes, and unqueues the links still queued (on
  // the channels of the cases that did not complete). Afterwards no claimer can reach
  // the round's waiter but one already under way.
  [[gnu::always_inline]] void withdraw() {
    for (int i = 0; i < n_; ++i) cases_[i]->unsubscribe();
    for (int k = 0; k < ncores_; ++k) {
      lock_guard g(cores_[k]->lock());
      for (int i = 0; i < n_; ++i) {
        if (cases_[i]->core == cores_[k]) cores_[k]->dequeue(&cases_[i]->link);
      }
    }
  }

  // Step 4, once the round's waiter reached its final word `s` (done or abandoned):
  // withdraw, then finish the completed case. False: a buffered channel's "try again"
  // found the value (or the room) taken; go round with a fresh waiter.
  // A coroutine's round destroyed while suspended, after withdraw(), with the final word
  // `s` (waiter_state::done): release what the claimer handed over to the completed case.
  void discard(int s) { cases_[waiter_state::index_of(s)]->discard(waiter_state::status_of(s)); }

  [[gnu::always_inline]] bool settle(int s, select_outcome& out) {
    withdraw();
    if (waiter_state::phase(s) == waiter_state::abandoned) {
      out = {deadline_case(), chan_status::timeout};
      return true;
    }
    const int i = waiter_state::index_of(s);
    const chan_status st = cases_[i]->finish(waiter_state::status_of(s));
    if (st == chan_status::would_block) return false;
    out = {i, st};
    return true;
  }

 private:
  bool blocking() const noexcept { return default_index_ < 0; }
  void lock_all() {
    for (int k = 0; k < ncores_; ++k) cores_[k]->lock().lock();
  }
  void unlock_all() {
    for (int k = ncores_; k-- > 0;) cores_[k]->lock().unlock();
  }

  select_case* const* cases_;
  const int n_;
  const int default_index_;
  const bool biased_;
  int* order_;
  chan_core** cores_;
  int ncores_ = 0;
  const wait_clock::time_point* deadline_ = nullptr;
  int spin_ = chan_spin;
};

// Runs a select over `cases[0..n)` on the calling thread, parking between rounds.
// `order` and `cores` are scratch arrays of n entries. Non-blocking when
// default_index >= 0 (returned, with would_block, if nothing is ready).
inline select_outcome run_select(select_case* const* cases, int n, int default_index, bool biased, int* order,
                                 chan_core** cores) {
  select_engine e(cases, n, default_index, biased, order, cores);
  select_outcome out{};
  for (;;) {
    chan_waiter self;
    if (e.poll_round(self, out)) return out;
    e.subscribe(self);
    const int s = self.park(e.deadline(), plan_spin(e.spin()));
    if (e.settle(s, out)) return out;
  }
}

}  // namespace lf::detail
