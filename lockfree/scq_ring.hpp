// lf::scq_ring<T> — bounded MPMC FIFO ring whose empty answers are linearizable, built on fetch-and-add.
//
// Ruslan Nikolaev, "A Scalable, Portable, and Memory-Efficient Lock-Free FIFO Queue",
// DISC 2019 (papers/nikolaev-2019-scq.md). SCQ is a ring of 2n one-word entries holding
// integers in [0, n). Pushers and poppers take positions with fetch-and-add on a tail and a
// head (which never fails, unlike the CAS of lf::mpmc_ring), and settle each position in
// its entry with one single-word CAS (push) or OR (pop). Each entry carries the cycle (lap)
// it serves and a safe bit; a popper that reaches a free entry of an older cycle advances
// it to its own, so a pusher still on its way there fails and takes a new position, and a
// popper that meets an older value it cannot take clears the safe bit, after which a
// pusher enters only if no popper has passed its position (head <= t). A threshold, reset
// by every push and counted down by failed pop steps, bounds the pops of an empty ring.
// Twice as many entries as values guarantees that a push never fails for lack of a free
// entry ("2n entries for n values", the paper's key to lock-freedom).
//
// Values ("two rings", Nikolaev §5): a slot array of n values and two index rings, `free_`
// (indices of empty slots, initially all n) and `used_` (indices of full slots, in FIFO
// order). try_push takes a free index (none: full), constructs the value in that slot and
// enqueues the index in used_; try_pop dequeues an index from used_ (none: empty), moves
// the value out and returns the index to free_. So T is any type, stored in place, with no
// allocation per item.
//
// Empty is linearizable, unlike lf::mpmc_ring's: a pusher stalled inside its step does
// not make try_pop report empty while later values are complete (the popper that reaches
// the stalled position invalidates it and moves on: verification/model/scq_ring_model.cpp
// shows the schedule in which mpmc_ring reports empty, and asserts that scq_ring does
// not). try_pop reports empty only after a position it held met an empty ring with the tail
// no further than the next position (or the threshold said so).
// Full is not: try_push reports full when n slots are taken, and a slot is taken from the
// moment a pusher draws it from free_ until a popper returns it — so a pusher stalled
// between drawing its slot and enqueuing its index makes a later try_push report full with
// fewer than n values inside, and a push that starts after that full answer can still be
// popped before the stalled one. No order of the operations explains both answers: the
// lincheck lane found it (verification/lincheck/containers_lincheck.cpp shows the schedule
// deterministically) and checks scq_ring with exact empty answers and relaxed full ones.
//
// Any number of producers and consumers; try_push and try_pop are lock-free (the paper's
// lock-freedom proof; a retry follows another thread's completed step or is bounded by the
// threshold). Requirements on T: nothrow move-constructible and nothrow destructible. A
// throwing constructor in try_emplace returns the slot and leaves the ring unchanged. The
// destructor destroys what is left. Capacity is rounded up to a power of two, at least 2.
// Memory: n slots plus 2 x 2n words of index entries.
//
// Deviations from the paper: no cache-line remapping of entries (measured on lf's 2-core
// machine, remapping made lf::mpmc_ring 3-4x slower, see mpmc_ring.hpp); the threshold
// check comes first in dequeue, as in the paper's Figure 8.
//
// Ordering argument (indices: lockfree/detail/scq_indices.hpp). The index rings keep the
// paper's linearizable memory: head, tail, entries and threshold are accessed seq_cst (on
// x86-64 each read-modify-write is a locked instruction whatever the order, and a seq_cst
// load is a plain load; the one seq_cst store, (S7), runs only when a push finds the
// threshold below its maximum). The pairs:
//   (S1) the fetch-and-adds of head and tail hand out positions.
//   (S2) a push's CAS of an entry: its release half publishes what was written before, the
//        slot's value (try_push) or the popper's move-out of it (try_pop returning the index
//        to free_); pairs with (S3).
//   (S3) a pop's load of an entry: acquires what (S2) published, so try_pop reads the value
//        and try_push constructs into a slot the last popper has finished with.
//   (S4) the pop's OR that marks an entry consumed: no other thread can change an entry of
//        the popper's cycle, so it needs no order of its own (it is seq_cst like the rest).
//   (S5) a pusher enters an unsafe entry only if head <= t, read after the entry: a popper
//        that cleared the safe bit did so before moving past; pairs with (S6). Both halves
//        are needed: without the pusher's check, or without the popper's clearing of the
//        safe bit, a popper that laps a stalled popper of the same entry moves past a
//        position into which a pusher then puts its index, and nobody pops it
//        (verification/model/scq_ring_model.cpp, popper_laps_a_slow_popper).
//   (S6) a pop's CAS that advances or marks an entry, then its load of tail: a position
//        whose pusher completed before our fetch-and-add of head is below tail, so we do
//        not report empty past it (with tail one further, h + 2, the pop would report empty
//        while position h + 1 holds a completed push behind a stalled one: mutant
//        scq_empty_check_off_by_one). The catch-up that follows an empty answer (tail brought
//        up to head) serves progress, not safety: a pusher whose position t is below head
//        fails there without it, because the popper that took t has either read the entry
//        (advanced it to t's cycle; or cleared its safe bit and moved head past t, so the
//        check of (S5) fails; or found a later cycle) or has not, and will take the index at
//        its own cycle. Without the catch-up pushers only burn positions up to head; the
//        model cases pass with it removed, as this argues, so it has no mutant.
//   (S7) the threshold: reset by every push after its CAS, read by every pop before it
//        touches head; a pop that sees it negative saw every earlier push's reset undone by
//        3n - 1 failed steps, which happens only on an empty ring (the paper's lemma). The
//        reset is needed for safety: without it a pop after a completed push can report
//        empty (mutant scq_threshold_reset_removed). The pop's two tests (before its
//        fetch-and-add, and after each failed step) are not: each only returns "empty"
//        earlier than the entries and tail of (S6) would, in states the lemma shows empty,
//        and a pop without them answers from (S6) alone, which is right by itself. They
//        serve progress: without them pops of an empty ring keep moving head over the
//        positions pushers took, and a popper whose steps keep failing against pushers
//        that keep taking positions loops for ever (the paper's livelock), which no finite
//        model execution shows; the model cases pass with either removed, so they have
//        no mutant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "lockfree/detail/concepts.hpp"
#include "lockfree/detail/ring_common.hpp"
#include "lockfree/detail/scq_indices.hpp"
#include "sync/cell.hpp"

namespace lf {

template <class T>
class scq_ring {
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "lf::scq_ring<T>: T must be nothrow move-constructible (a popped value is moved out of its slot)");
  static_assert(std::is_nothrow_destructible_v<T>, "lf::scq_ring<T>: T must be nothrow destructible");

 public:
  using value_type = T;
  static constexpr progress push_progress = progress::lock_free;
  static constexpr progress pop_progress = progress::lock_free;
  static constexpr std::size_t max_producers = any_number;
  static constexpr std::size_t max_consumers = any_number;

  // Holds at least `capacity` elements (the next power of two, at least 2). Throws
  // std::invalid_argument for 0, std::length_error when the slots cannot be allocated.
  explicit scq_ring(std::size_t capacity)
      : n_(detail::ring_size("lf::scq_ring", capacity, 2, sizeof(cell<T>) + 4 * sizeof(std::uint64_t))),
        slots_(std::make_unique<cell<T>[]>(n_)),
        free_(n_),
        used_(n_) {
    for (std::size_t i = 0; i < n_; ++i) free_.enqueue(i);
  }

  scq_ring(const scq_ring&) = delete;
  scq_ring& operator=(const scq_ring&) = delete;

  // Destruction runs alone, after whatever ordered the last operations.
  ~scq_ring() {
    for (std::int64_t i; (i = used_.dequeue()) >= 0;) slots_[static_cast<std::size_t>(i)].destroy();
  }

  bool try_push(const T& v) { return try_emplace(v); }
  bool try_push(T&& v) { return try_emplace(std::move(v)); }

  template <class... A>
  bool try_emplace(A&&... args) {
    const std::int64_t i = free_.dequeue();  // (S3): the last popper of this slot is done with it
    if (i < 0) return false;
    cell<T>& slot = slots_[static_cast<std::size_t>(i)];
    if constexpr (std::is_nothrow_constructible_v<T, A&&...>) {
      ::new (static_cast<void*>(slot.write())) T(std::forward<A>(args)...);
    } else {
      try {
        ::new (static_cast<void*>(slot.write())) T(std::forward<A>(args)...);
      } catch (...) {
        free_.enqueue(static_cast<std::uint64_t>(i));  // the slot goes back unused
        throw;
      }
    }
    used_.enqueue(static_cast<std::uint64_t>(i));  // (S2) publishes the value
    return true;
  }

  std::optional<T> try_pop() {
    const std::int64_t i = used_.dequeue();  // (S3) acquires the value
    if (i < 0) return std::nullopt;
    std::optional<T> v(slots_[static_cast<std::size_t>(i)].take());
    free_.enqueue(static_cast<std::uint64_t>(i));  // (S2) publishes the move-out
    return v;
  }

  // The number of elements `try_push` accepts into an empty ring (>= the requested one).
  std::size_t capacity() const noexcept { return n_; }

  // A snapshot, clamped to [0, capacity()]; exact when no operation runs.
  std::size_t size_approx() const noexcept { return used_.size_approx(); }

 private:
  const std::size_t n_;
  const std::unique_ptr<cell<T>[]> slots_;
  detail::scq_indices free_;
  detail::scq_indices used_;
};

}  // namespace lf
