// lf::barrier's arrival algorithms (patterns/barrier.hpp is the public header; the papers
// are in papers/mellor-crummey-1991-barriers.md and papers/hensgen-1988-dissemination.md).
//
// The phase word. Every policy publishes phases through one 64-bit word of the barrier:
//   bits 63..40  phase number, 24 bits, wrapping (phases are compared only for equality,
//                or by phase_before within half the circle)
//   bits 39..20  central: arrive_and_drop calls in this phase; slotted: 0
//   bits 19..0   central: arrivals still expected in this phase; slotted: the phase's parties
// A phase with no parties left (everyone dropped) has the `no_parties` marker in the
// middle field and 0 below it.
//
// Slotted policies (dissemination, tournament, tree) need a participant identity: the
// classic algorithms give processor i its own flags. lf assigns it per phase by arrival:
// an arriving thread claims a free slot of [0, parties) with one CAS on that slot's
// claim word, tagged with the phase, probing from lf::thread_index() % parties. Threads
// with distinct indices modulo the party count (the usual case for a fixed team) never
// touch each other's claim words, so the claim adds no shared line; a collision costs a
// probe. A claim that finds every slot of the phase taken means the phase is full (its
// completer has not published the next one yet, or the caller read an old phase): the
// caller re-reads the phase word and tries again. arrive(n) claims n slots.
//
// Counters are tagged with the phase they count for ((phase << 32) | remaining): a word
// still tagged with an older phase reads as its initial count, so nobody re-arms the
// counters between phases (the completer touches none of them), and an event of an older
// phase than the word's (a dissemination relay that runs late) is recognised and dropped.
//
// Ordering. Every counter step is an acq_rel RMW (N): the release half publishes what the
// arriving thread did before it arrived, the acquire half takes what the earlier steps on
// the same word published, so the step that completes the phase (the root's, or slot 0's
// last round) happens after every arrival and everything before each; the completer then
// runs the completion and publishes the next phase (barrier.hpp (P)).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "sync/atomic.hpp"
#include "sync/config.hpp"
#include "sync/thread.hpp"

namespace lf::detail {

inline constexpr std::uint32_t barrier_phase_mask = (std::uint32_t{1} << 24) - 1;
inline constexpr std::uint32_t barrier_field_mask = (std::uint32_t{1} << 20) - 1;
inline constexpr std::uint32_t barrier_no_parties = barrier_field_mask;  // middle-field marker

constexpr std::uint64_t barrier_word(std::uint32_t phase, std::uint32_t mid, std::uint32_t low) noexcept {
  return (std::uint64_t{phase & barrier_phase_mask} << 40) | (std::uint64_t{mid} << 20) | low;
}
constexpr std::uint32_t barrier_phase(std::uint64_t w) noexcept { return static_cast<std::uint32_t>(w >> 40); }
constexpr std::uint32_t barrier_mid(std::uint64_t w) noexcept {
  return static_cast<std::uint32_t>(w >> 20) & barrier_field_mask;
}
constexpr std::uint32_t barrier_low(std::uint64_t w) noexcept {
  return static_cast<std::uint32_t>(w) & barrier_field_mask;
}
constexpr std::uint32_t barrier_next_phase(std::uint32_t phase) noexcept { return (phase + 1) & barrier_phase_mask; }
// a comes before b on the 24-bit circle (within half of it).
constexpr bool phase_before(std::uint32_t a, std::uint32_t b) noexcept {
  return ((a - b) & barrier_phase_mask) > (barrier_phase_mask >> 1);
}

// Counts one event of `phase` down on a tagged counter whose count starts at `initial`
// each phase. True when this event took it to zero; false otherwise, and for a stale
// event (the word already counts for a later phase).
inline bool barrier_count_down(lf::atomic<std::uint64_t>& w, std::uint32_t phase, std::uint32_t initial) {
  std::uint64_t cur = w.load(std::memory_order_relaxed);  // relaxed: the CAS (N) decides
  for (;;) {
    const auto tag = static_cast<std::uint32_t>(cur >> 32);
    std::uint32_t left = initial;
    if (tag == phase) {
      left = static_cast<std::uint32_t>(cur);
    } else if (!phase_before(tag, phase)) {
      return false;  // a late event of a phase that is over
    }
    LF_ASSERT(left > 0 && "lf::barrier: more arrivals than the phase expects");
    const std::uint64_t next = (std::uint64_t{phase} << 32) | (left - 1);
    // (N) acq_rel: publishes our arrivals, takes those counted before us; see the header.
    if (w.compare_exchange_weak(cur, next, std::memory_order_acq_rel, std::memory_order_relaxed)) return left == 1;
  }
}

// The per-participant words of the slotted policies, each slot on its own cache lines.
class barrier_slots {
 public:
  static constexpr bool slotted = true;
  static constexpr bool wake_tree = false;  // waiters watch the phase word
  static constexpr std::ptrdiff_t max_parties = (std::ptrdiff_t{1} << 16) - 1;
  static constexpr unsigned max_rounds = 16;  // ceil(log2(max_parties))

  explicit barrier_slots(std::size_t parties) : slots_(new slot[parties]) {}

  // The wake-up hooks; only the tree has a wake-up of its own (it hides these).
  bool woken(std::uint32_t, std::uint32_t) const { return false; }
  void released(std::uint32_t) {}
  void pass_on(std::uint32_t, std::uint32_t, std::uint32_t) {}

  // Claims a free slot of [0, parties) for `phase`; false when every one is taken.
  bool claim(std::uint32_t phase, std::uint32_t parties, std::uint32_t& out) {
    const auto start = static_cast<std::uint32_t>(lf::thread_index() % parties);
    for (std::uint32_t i = 0; i < parties; ++i) {
      std::uint32_t s = start + i;
      if (s >= parties) s -= parties;
      lf::atomic<std::uint32_t>& c = slots_[s].claim;
      // relaxed: a claim only picks the slot; the counters (N) carry the ordering.
      std::uint32_t tag = c.load(std::memory_order_relaxed);
      while (phase_before(tag, phase)) {
        if (c.compare_exchange_weak(tag, phase, std::memory_order_relaxed, std::memory_order_relaxed)) {
          out = s;
          return true;
        }
      }
    }
    return false;
  }

 protected:
  struct alignas(cache_line) slot {
    lf::atomic<std::uint32_t> claim{barrier_phase_mask};  // the phase before phase 0
    lf::atomic<std::uint32_t> wake{0};                    // tree: the phase this slot may enter
    lf::atomic<std::uint64_t> count[max_rounds];          // tagged counters (initial tag: phase "before 0")
    slot() {
      for (auto& c : count) c.store(std::uint64_t{barrier_phase_mask} << 32, std::memory_order_relaxed);
    }
  };
  std::unique_ptr<slot[]> slots_;
};

}  // namespace lf::detail

namespace lf::barrier_policy {

// Sense-reversing centralized barrier (Mellor-Crummey & Scott 1991, Algorithm 7;
// Hensgen, Finkel & Manber 1988 call it the "counter" barrier): one count in the phase
// word; the arrival that takes it to zero completes the phase, and the new phase number is
// the flipped sense everyone waits on. O(P) arrivals serialize on one line; the fewest
// instructions, hence the best choice on few cores.
struct central {
  static constexpr bool slotted = false;
  static constexpr bool wake_tree = false;
  static constexpr std::ptrdiff_t max_parties = detail::barrier_field_mask - 1;
  explicit central(std::size_t) {}
};

// Dissemination barrier (Hensgen, Finkel & Manber 1988): in round r slot i signals slot
// (i + 2^r) mod P; after ceil(log2 P) rounds every slot has heard, directly or not, from
// every other. No slot is special and no line is written by more than two slots per round.
// lf's arrival never blocks (std::barrier's arrive() must not): round r+1 of slot i starts
// when two events have happened, slot i's round r and the signal of slot i - 2^r, and
// whichever thread supplies the second event carries on (a tagged count of 2 per slot and
// round). Slot 0 finishing its last round completes the phase. Waiters then leave on the
// phase word: the completion must run, once, before anyone leaves, so the classic "every
// slot leaves after its own last round" cannot be kept.
class dissemination : public detail::barrier_slots {
 public:
  using barrier_slots::barrier_slots;

  // Slot `s` arrives in `phase` of `parties`; true when that completed the phase.
  bool arrive(std::uint32_t phase, std::uint32_t parties, std::uint32_t s) {
    unsigned rounds = 0;
    while ((std::uint32_t{1} << rounds) < parties) ++rounds;
    return finished_round(phase, parties, rounds, s, 0);
  }

 private:
  // Slot s has finished round r (r == 0: it arrived): signal round r+1 of s and of its
  // partner s + 2^r, and carry on with each that now has both of its events.
  bool finished_round(std::uint32_t phase, std::uint32_t parties, unsigned rounds, std::uint32_t s, unsigned r) {
    if (r == rounds) return s == 0;
    std::uint32_t partner = s + (std::uint32_t{1} << r);
    if (partner >= parties) partner -= parties;
    bool completed = false;
    if (detail::barrier_count_down(slots_[s].count[r], phase, 2)) {
      completed = finished_round(phase, parties, rounds, s, r + 1);
    }
    if (detail::barrier_count_down(slots_[partner].count[r], phase, 2)) {
      completed = finished_round(phase, parties, rounds, partner, r + 1) || completed;
    }
    return completed;
  }
};

// Tournament barrier (Hensgen, Finkel & Manber 1988; Mellor-Crummey & Scott 1991,
// Algorithm 10): the slots are the leaves of a binary tree of matches; each match is
// won by the second of its two players to arrive, who plays on (the 1988 paper fixes the
// winner in advance and makes it wait for the loser; lf lets the later arrival win so that
// arrive() never blocks). Winning the root completes the phase. The wake-up is the phase
// word (the 1991 paper's variant for cache-coherent machines, which release with one flag).
class tournament : public detail::barrier_slots {
 public:
  using barrier_slots::barrier_slots;

  bool arrive(std::uint32_t phase, std::uint32_t parties, std::uint32_t s) {
    // Heap layout: matches 0 .. parties-2, leaf of slot s at parties-1+s; every match has
    // two players. Match m's count lives in slot m's second counter.
    std::uint32_t node = parties - 1 + s;
    while (node != 0) {
      node = (node - 1) / 2;
      if (!detail::barrier_count_down(slots_[node].count[1], phase, 2)) return false;
    }
    return true;
  }
};

// MCS tree barrier (Mellor-Crummey & Scott 1991, Algorithm 11): an arrival tree of
// fan-in 4, one node per slot (slot i's children are 4i+1 .. 4i+4), and a wake-up tree of
// fan-out 2 (slot i wakes 2i+1 and 2i+2), so that each waiter spins on a flag of its own
// that one other thread writes. In the paper a parent waits for its four children before
// it signals up; in lf the last of a node's arrivals (its own and its children's subtrees)
// carries on to the parent, so that arrive() never blocks. The root's completion completes
// the phase; the completer sets slot 0's wake flag, and every waiter of arrive_and_wait
// passes the wake-up to its two children before it leaves. The flags only tell a spinning
// waiter when to read the phase word (one read after the flag, instead of spinning on the
// line every waiter shares); the phase word alone decides, so a child whose parent is not
// waiting (arrive() callers, timed-out waiters) still leaves, on a periodic look at it.
class tree : public detail::barrier_slots {
 public:
  static constexpr bool wake_tree = true;
  using barrier_slots::barrier_slots;

  bool arrive(std::uint32_t phase, std::uint32_t parties, std::uint32_t s) {
    for (;;) {
      std::uint32_t children = 0;
      for (std::uint32_t c = 4 * s + 1; c <= 4 * s + 4 && c < parties; ++c) ++children;
      if (!detail::barrier_count_down(slots_[s].count[0], phase, 1 + children)) return false;
      if (s == 0) return true;
      s = (s - 1) / 4;
    }
  }

  // Slot s's wake flag says phase `next` has begun. A hint only: a flag left untouched for
  // 2^24 phases (its slot's holders never waited) would match again, so the waiter confirms
  // on the phase word, once, when the flag matches.
  bool woken(std::uint32_t s, std::uint32_t next) const {
    return slots_[s].wake.load(std::memory_order_relaxed) == next;  // relaxed: a hint, see above
  }
  // The completer, after publishing `next`: wakes the root of the wake-up tree.
  void released(std::uint32_t next) {
    slots_[0].wake.store(next, std::memory_order_relaxed);  // relaxed: a hint; the phase word orders
  }
  // A waiter of slot s that saw phase `next` begin: wakes its two children.
  void pass_on(std::uint32_t s, std::uint32_t parties, std::uint32_t next) {
    for (std::uint32_t c = 2 * s + 1; c <= 2 * s + 2 && c < parties; ++c) {
      slots_[c].wake.store(next, std::memory_order_relaxed);  // relaxed: a hint, as in released()
    }
  }
};

}  // namespace lf::barrier_policy
