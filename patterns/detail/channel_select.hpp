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

// Runs a select over `cases[0..n)`. `order` and `cores` are scratch arrays of n entries.
// Non-blocking when default_index >= 0 (returned, with would_block, if nothing is ready).
inline select_outcome run_select(select_case* const* cases, int n, int default_index, bool biased, int* order,
                                 chan_core** cores) {
  // The channels, each once, in address order; and the earliest deadline.
  int ncores = 0;
  const wait_clock::time_point* deadline = nullptr;
  int spin = chan_spin;
  for (int i = 0; i < n; ++i) {
    if (cases[i]->core) {
      cores[ncores++] = cases[i]->core;
      if (!cases[i]->core->buffered()) spin = handoff_spin;
    }
    const wait_clock::time_point* d = cases[i]->deadline();
    if (d && (!deadline || *d < *deadline)) deadline = d;
  }
  std::sort(cores, cores + ncores, std::less<chan_core*>());
  ncores = static_cast<int>(std::unique(cores, cores + ncores) - cores);
  const auto lock_all = [&] {
    for (int k = 0; k < ncores; ++k) cores[k]->lock().lock();
  };
  const auto unlock_all = [&] {
    for (int k = ncores; k-- > 0;) cores[k]->lock().unlock();
  };
  const bool blocking = default_index < 0;

  for (;;) {
    poll_order(order, n, biased);
    chan_waiter self;
    lock_all();
    if (blocking) {
      for (int i = 0; i < n; ++i) {
        if (!cases[i]->core) continue;
        cases[i]->link.waiter = &self;
        cases[i]->link.index = i;
        cases[i]->core->enqueue(&cases[i]->link);
      }
      // [F2] orders our queued links (C1) before the polls below: a fast-path operation
      // that our poll misses sees the links after its fence [F1]. Pairs with [F1].
      lf::fence(std::memory_order_seq_cst);
    }
    for (int k = 0; k < n; ++k) {
      const int i = order[k];
      const chan_status st = cases[i]->poll(&self);
      if (st == chan_status::would_block) continue;
      if (blocking) {
        for (int j = 0; j < n; ++j) {
          if (cases[j]->core) cases[j]->core->dequeue(&cases[j]->link);
        }
      }
      unlock_all();
      cases[i]->after_poll();
      return {i, st};
    }
    if (!blocking) {
      unlock_all();
      return {default_index, chan_status::would_block};
    }
    unlock_all();

    for (int i = 0; i < n; ++i) cases[i]->subscribe(self, i);
    const int s = self.park(deadline, plan_spin(spin));
    for (int i = 0; i < n; ++i) cases[i]->unsubscribe();
    // Links still queued (on the channels of the cases that did not complete).
    for (int k = 0; k < ncores; ++k) {
      lock_guard g(cores[k]->lock());
      for (int i = 0; i < n; ++i) {
        if (cases[i]->core == cores[k]) cores[k]->dequeue(&cases[i]->link);
      }
    }
    if (waiter_state::phase(s) == waiter_state::abandoned) {
      for (int i = 0; i < n; ++i) {
        if (cases[i]->deadline() == deadline) return {i, chan_status::timeout};
      }
    }
    const int i = waiter_state::index_of(s);
    const chan_status st = cases[i]->finish(waiter_state::status_of(s));
    if (st != chan_status::would_block) return {i, st};
    // A buffered channel's "try again" found the value (or the room) taken: go round.
  }
}

}  // namespace lf::detail
