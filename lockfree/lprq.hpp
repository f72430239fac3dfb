// lf::lprq<T, Reclaimer> — unbounded lock-free MPMC FIFO queue built from fetch-and-add
// rings whose cells change by single-word CAS only.
//
// Raed Romanov and Nikita Koval, "The State-of-the-Art LCRQ Concurrent Queue Algorithm
// Does NOT Require CAS2", PPoPP 2023 (papers/romanov-2023-lprq.md). LCRQ (lockfree/lcrq.hpp,
// Morrison & Afek 2013) hands out queue positions by fetch-and-add and changes a cell's
// index and value together with a 16-byte CAS. A PRQ ring keeps the same positions, laps,
// safe bit and closing, but splits the cell into two words changed one at a time:
// `control` {safe, epoch} and `value`. A pusher at position t (lap, or epoch, c = t / R)
//   1. reserves the cell: value ⊥ -> a marker naming t (a CAS),
//   2. claims the lap: control {s, e} -> {safe, c}, only from an epoch e < c (a CAS),
//   3. publishes: value marker(t) -> its value (a CAS);
// a popper at position h of lap c that finds the marker revokes it (marker -> ⊥) before it
// closes the cell for its lap (control -> {s, c}), so step 3 of a pusher that was too
// slow fails and that pusher takes a new position. The marker names the position, which no
// other push ever gets, so a revoked reservation is never mistaken for a live one (the
// paper uses a marker per thread; positions need no thread registry). A popper that finds
// its lap's value takes it with a plain store of ⊥: no other thread writes a value word
// that holds a value. Rings are linked as in LCRQ: a pusher that finds its ring full or
// starves closes it and appends a fresh one; poppers retire drained rings to the
// reclaimer policy (hazard pointers by default), so the queue is unbounded and leak-free.
//
// Any number of threads push and pop. push is lock-free: it retries only when a popper
// took its position or revoked its reservation, and after a bounded number of retries it
// closes the ring and appends a new one. try_pop is lock-free (each retry follows another
// thread's completed step). try_pop reports empty only after the position it found empty
// had no pusher past it (tail <= h + 1, the paper's emptiness check); a pusher stalled
// inside its three steps does not hide later completed values (its position is skipped).
//
// Values: the value word keeps its low bits for ⊥ (0) and the markers (low bit set), so a
// trivially copyable T of at most 7 bytes travels in the word, shifted; any other T (an
// 8-byte one too) in a heap box whose address the word holds (lockfree/detail/
// faa_payload.hpp), at one allocation per item. Requirements on T: nothrow
// move-constructible and nothrow destructible. A throwing constructor or allocation in
// push leaves the queue unchanged. The destructor destroys what is left.
//
// Pick it over lf::lcrq where the 16-byte CAS is missing or slow (lcrq::is_lock_free()
// false: boost::atomic would take a lock), or where the pop side should not pay a
// 16-byte CAS per item; pick lf::lcrq for 8-byte values, which it carries without a box.
// papers/romanov-2023-lprq.md has the figures. A ring is R cells of 16 bytes
// (`ring_size`, default 1024), allocated when the previous one closes.
//
// Deviations from the paper. (a) The reservation marker names the position, not the
// thread (above), and a pusher reserves only a cell whose value is ⊥ (it does not take
// over another pusher's marker: a popper revokes a stale one). (b)-(e) are the list's,
// shared with lcrq (lockfree/detail/ring_list.hpp).
//
// Ordering argument. Within a ring the paper's proof assumes linearizable memory, and this
// code keeps it: every access to head, tail and the cells is seq_cst (on x86-64 a seq_cst
// load is a plain load and each read-modify-write is a locked instruction anyway). The
// control word only grows ({e, safe} -> {e, unsafe} -> {e' > e, *}), so it never
// returns to a value once left: that is what makes a popper's two reads of it a snapshot.
// The pairs the argument leans on:
//   (P1) push step 1, value ⊥ -> marker(t): only from ⊥, so one pusher at a time holds the
//        cell; pairs with (P4)'s revocation, which may undo it at any time.
//   (P2) push step 2, control {s, e} -> {1, c} with e < c: fails if a popper of lap c (or
//        later) closed the cell meanwhile (P5), or cleared its safe bit (P6).
//   (P3) push step 3, value marker(t) -> word: publishes the value (and its box: its
//        release half pairs with (P4)'s acquire load of value); fails if (P4) revoked t.
//   (P4) pop's load of control, value, control again: equal control words bracket the
//        value read, so value is the word of the lap in control; a marker found there is
//        revoked by CAS (marker -> ⊥), which makes its pusher's (P3) fail.
//   (P5) pop's CAS of control {s, e} -> {s, c} (e <= c) closes the cell for lap c: after
//        it no pusher of lap c passes (P2). It follows the revocation, so a pusher of lap c
//        either completed (P3) before (then the popper saw the value) or fails.
//   (P6) pop's CAS clearing the safe bit of a cell that holds an older lap's value, and
//        push's load of head before reserving an unsafe cell (head is read after control):
//        a pusher that finds head <= t enters a position whose popper has not passed it.
//   (P7) pop's load of tail after failing at h: a pusher whose (P3) completed before our
//        fetch-and-add of head took its position before, so tail > h + 1 sends us on.
//   (P8) pop's store of ⊥ after taking its lap's value: only the popper of position h
//        touches a value word that holds a value of lap c (pushers reserve only ⊥,
//        revocation only removes markers), so a plain seq_cst store suffices.
// Between rings: (L1) and (L2) of lockfree/detail/ring_list.hpp.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "lockfree/detail/concepts.hpp"
#include "lockfree/detail/faa_payload.hpp"
#include "lockfree/detail/ring_list.hpp"
#include "rcu/hazard_pointer_reclaimer.hpp"
#include "rcu/reclaimer.hpp"
#include "sync/atomic.hpp"
#include "sync/config.hpp"

namespace lf {

template <class T, class Reclaimer = hazard_pointer_reclaimer>
class lprq {
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "lf::lprq<T>: T must be nothrow move-constructible (a popped value is moved out of its cell)");
  static_assert(std::is_nothrow_destructible_v<T>, "lf::lprq<T>: T must be nothrow destructible");
  static_assert(reclaimer<Reclaimer>, "lf::lprq<T, R>: R must model lf::reclaimer (rcu/reclaimer.hpp)");

  // 7 bytes: the value word's low byte tells ⊥, markers and in-word values apart.
  using payload = detail::faa_payload<T, 7>;

  // control: bit 63 safe, bits 0-62 the epoch (lap) the cell last served.
  static constexpr std::uint64_t safe_bit = std::uint64_t{1} << 63;
  static constexpr std::uint64_t epoch_mask = safe_bit - 1;
  static constexpr std::uint64_t closed_bit = detail::ring_closed_bit;  // in a ring's tail
  // value: 0 is ⊥; low bits 01 a pusher's marker; 10 an in-word value; 00 a box's address.
  static constexpr std::uint64_t bottom = 0;
  static constexpr std::uint64_t in_word_tag = 2;
  // A pusher that fails this many positions in one ring closes it (the paper's starving()).
  static constexpr unsigned starvation_limit = 16;

  struct cell {
    lf::atomic<std::uint64_t> control;
    lf::atomic<std::uint64_t> value;
  };

  // One PRQ ring (the paper's Listing 2), in the shape lockfree/detail/ring_list.hpp asks.
  struct ring : Reclaimer::template node_base<ring> {
    // A fresh ring. Positions start at lap 1 (position R), so that every cell's epoch 0
    // is below the first lap's. With `first` (a value word), position R already holds it.
    ring(std::size_t ring_size, std::optional<std::uint64_t> first)
        : size(ring_size), lap_shift(static_cast<unsigned>(std::countr_zero(ring_size))), cells(new cell[ring_size]) {
      // relaxed: the ring reaches other threads through (L1) or the queue's constructor.
      for (std::size_t i = 0; i < size; ++i) {
        cells[i].control.store(safe_bit, std::memory_order_relaxed);
        cells[i].value.store(bottom, std::memory_order_relaxed);
      }
      head.value.store(size, std::memory_order_relaxed);
      tail.value.store(size, std::memory_order_relaxed);
      if (first) {
        cells[0].control.store(safe_bit | 1, std::memory_order_relaxed);
        cells[0].value.store(*first, std::memory_order_relaxed);
        tail.value.store(size + 1, std::memory_order_relaxed);
      }
    }

    bool enqueue(std::uint64_t word) noexcept;
    std::optional<std::uint64_t> dequeue() noexcept;
    bool drained() const noexcept { return head.value.load() >= (tail.value.load() & ~closed_bit); }
    // Once every operation has finished no marker is left (a pusher leaves its cell only
    // after its marker was replaced or revoked), so a value word holds a value nobody
    // popped. relaxed: called from the queue's destructor, after the owner's join.
    void destroy_values() noexcept {
      for (std::size_t i = 0; i < size; ++i) {
        const std::uint64_t v = cells[i].value.load(std::memory_order_relaxed);
        if (is_value(v)) discard(v);
      }
    }
    static void discard(std::uint64_t v) noexcept { payload::discard(unpack(v)); }

    cell& cell_at(std::uint64_t pos) const noexcept { return cells[pos & (size - 1)]; }
    std::uint64_t lap(std::uint64_t pos) const noexcept { return pos >> lap_shift; }

    const std::size_t size;
    const unsigned lap_shift;
    padded<lf::atomic<std::uint64_t>> head{0};
    padded<lf::atomic<std::uint64_t>> tail{0};  // bit 63: closed
    lf::atomic<ring*> next{nullptr};
    const std::unique_ptr<cell[]> cells;
  };

 public:
  using value_type = T;
  using reclaimer_type = Reclaimer;
  using domain_type = typename Reclaimer::domain;
  static constexpr progress push_progress = progress::lock_free;
  static constexpr progress pop_progress = progress::lock_free;
  static constexpr std::size_t max_producers = any_number;
  static constexpr std::size_t max_consumers = any_number;
  static constexpr std::size_t default_ring_size = 1024;

#if !defined(LF_MODEL_RELACY)
  explicit lprq(std::size_t ring_size = default_ring_size) : lprq(Reclaimer::default_domain(), ring_size) {}
#endif
  // Closed rings are retired to `domain`, which must outlive the queue. `ring_size` cells
  // per ring: a power of two in [2, 2^40]; std::invalid_argument otherwise, naming the
  // value.
  explicit lprq(domain_type& domain, std::size_t ring_size = default_ring_size)
      : rings_(domain, detail::checked_ring_size("lf::lprq", ring_size)) {}

  lprq(const lprq&) = delete;
  lprq& operator=(const lprq&) = delete;
  // No other thread may use the queue any more; values still inside are destroyed.
  ~lprq() = default;

  void push(T v) { emplace(std::move(v)); }

  // Always succeeds (the queue is unbounded); for the lf::concurrent_queue shape.
  bool try_push(T v) {
    emplace(std::move(v));
    return true;
  }

  template <class... A>
  void emplace(A&&... args) {
    rings_.push([&] { return pack(payload::make(std::forward<A>(args)...)); });
  }

  // The oldest value, or nothing if the queue was empty when looked at.
  std::optional<T> try_pop() {
    if (std::optional<std::uint64_t> v = rings_.pop()) return payload::take(unpack(*v));
    return std::nullopt;
  }

  // A snapshot, exact when no operation runs (see ring_list::empty).
  [[nodiscard]] bool empty() const { return rings_.empty(); }

  std::size_t ring_size() const noexcept { return rings_.ring_size(); }
  // Single-word atomics only: lock-free wherever a 64-bit CAS is.
  static constexpr bool is_lock_free() noexcept { return lf::atomic<std::uint64_t>::is_always_lock_free; }

 private:
  // The value word of a payload word: in-word values shifted past the tag byte, box
  // addresses as they are (aligned, so their low bits are 00).
  static std::uint64_t pack(std::uint64_t w) noexcept {
    if constexpr (payload::in_word) {
      return (w << 8) | in_word_tag;
    } else {
      LF_ASSERT((w & 3) == 0 && w != 0);
      return w;
    }
  }
  static std::uint64_t unpack(std::uint64_t v) noexcept {
    if constexpr (payload::in_word) {
      return v >> 8;
    } else {
      return v;
    }
  }
  static constexpr bool is_value(std::uint64_t v) noexcept { return v != bottom && (v & 1) == 0; }
  // Positions stay below 2^62 (a ring closes long before), so a marker keeps them whole.
  static constexpr std::uint64_t marker(std::uint64_t t) noexcept { return (t << 2) | 1; }

  detail::ring_list<ring, Reclaimer> rings_;
};

// PRQ enqueue: true once `word` is in the ring; false once it is closed (by us or another).
template <class T, class R>
bool lprq<T, R>::ring::enqueue(std::uint64_t word) noexcept {
  for (unsigned failures = 0;; ++failures) {
    const std::uint64_t t = tail.value.fetch_add(1);
    if ((t & closed_bit) != 0) return false;
    cell& c = cell_at(t);
    const std::uint64_t epoch = lap(t);
    std::uint64_t control = c.control.load();
    std::uint64_t value = c.value.load();
    if (value == bottom && (control & epoch_mask) < epoch &&
        ((control & safe_bit) != 0 || head.value.load() <= t)) {  // (P6)
      const std::uint64_t mine = marker(t);
      if (c.value.compare_exchange_strong(value, mine)) {  // (P1)
        if (c.control.compare_exchange_strong(control, safe_bit | epoch)) {  // (P2)
          std::uint64_t reserved = mine;
          // (P3): publishes the value (and its box); fails if a popper revoked us.
          if (c.value.compare_exchange_strong(reserved, word, std::memory_order_seq_cst, std::memory_order_seq_cst)) {
            return true;
          }
        } else {
          std::uint64_t reserved = mine;
          c.value.compare_exchange_strong(reserved, bottom);  // give the cell back, unless revoked already
        }
      }
    }
    const std::uint64_t h = head.value.load();
    if (static_cast<std::int64_t>(t - h) >= static_cast<std::int64_t>(size) || failures >= starvation_limit) {
      tail.value.fetch_or(closed_bit);
      return false;
    }
  }
}

// PRQ dequeue: the value word at the head position, or nothing once the ring was seen empty.
template <class T, class R>
std::optional<std::uint64_t> lprq<T, R>::ring::dequeue() noexcept {
  for (;;) {
    const std::uint64_t h = head.value.fetch_add(1);
    cell& c = cell_at(h);
    const std::uint64_t epoch = lap(h);
    for (;;) {
      std::uint64_t control = c.control.load();  // (P4)
      std::uint64_t value = c.value.load();
      if (c.control.load() != control) continue;  // not a snapshot: read again
      const std::uint64_t e = control & epoch_mask;
      if (e > epoch) break;  // a later lap already owns the cell: position h is lost to us
      if (is_value(value)) {
        if (e == epoch) {
          c.value.store(bottom);  // (P8): ours; the cell is free for the next lap
          return value;
        }
        // (P6): an older lap's value we cannot take; pushers must check head here.
        if (c.control.compare_exchange_strong(control, control & ~safe_bit)) break;
      } else {
        // (P4): revoke a pusher's reservation, then (P5) close the cell for our lap.
        if (value != bottom && !c.value.compare_exchange_strong(value, bottom)) continue;
        if (c.control.compare_exchange_strong(control, (control & safe_bit) | epoch)) break;
      }
    }
    const std::uint64_t t = tail.value.load() & ~closed_bit;  // (P7)
    if (t <= h + 1) {
      detail::fix_ring_state(head.value, tail.value);
      return std::nullopt;
    }
  }
}

}  // namespace lf
