// lf::spsc_ring<T> — bounded single-producer single-consumer ring.
//
// The slot protocol of FastForward (Giacomoni, Moseley, Vachharajani, PPoPP 2008;
// papers/giacomoni-2008-fastforward.md) with the producer's batched look-ahead of B-Queue
// (Wang, Zhang, Tang, Hua, IJPP 2013; papers/wang-2013-bqueue.md), on Lamport's ring
// (TOPLAS 1983; papers/lamport-1983-spsc-ring.md).
//
// One thread pushes, one thread pops; both are wait-free (a bounded number of their own
// steps, no CAS, no retry). Each slot carries a stamp beside its value that says whose
// turn the slot is, so neither side reads the other's index in steady state:
// - the consumer tests the stamp of the slot it is about to read, on the same cache line
//   as the value: a hand-over costs one line transfer, where an index protocol costs two
//   (the producer's index line, then the slot's);
// - the producer, when it runs out of slots it knows to be free, probes the stamp of the
//   slot `look_ahead - 1` positions ahead: the consumer frees slots in order, so if that
//   one is free, so is every slot before it, and the producer fills them without looking
//   again. Its probes land on lines the consumer left long ago, not on the line the
//   consumer is reading. If the far slot is not free, it tests the next slot only (the
//   ring may be nearly full): try_push fails only when the ring is full.
// The bulk calls reuse the protocol slot by slot (each value is published by its own
// stamp, on the line it is written to anyway).
//
// Why not the index protocol lf used before (Lamport with cached indices, MCRingBuffer):
// a consumer that catches up with the producer re-reads the producer's index line and
// then the slot line, two transfers per hand-over. Measured with the peers in one run
// (bench/results/2026-12-03-epyc-2vcpu-slow-spsc-stamps/README.md; 2-core machine, slow
// state, calibration 430-480 ns): ping-pong 358-368 ns against 659-705 for moodycamel's
// ReaderWriterQueue (0.53x) and 646 for the index protocol; bulk (32) 2.2x the index
// protocol; 1P1C 46-54 M items/s against 40-46 for RWQ; one-thread push+pop ~0.9 ns
// slower than the index protocol (a second line per slot), on par with RWQ. 1P1C runs the
// ring full here (the consumer is the slower side), and then the producer's probes land
// on the lines the consumer is reading: that regime, not the hand-over, bounds the
// throughput (the note has the profile).
//
// Requirements on T: move-constructible without throwing (a popped value is moved out
// of the slot; a throwing move would lose it). Destroying the ring destroys what is left.
// Capacity is rounded up to a power of two, and to at least 2: with one slot, "full for
// this lap" and "free for the next lap" would be the same stamp. Each slot holds a
// size_t stamp beside the value (16 bytes for an 8-byte T).
// Misuse: a second concurrent producer or consumer is undefined; debug and test builds
// catch an overlap with LF_ASSERT.
//
// Pick it over mpmc_ring whenever exactly one thread produces and one consumes.
//
// Ordering argument. Positions are free-running 64-bit counters (slot = position & mask).
// stamp(slot i) starts at i; for position p in that slot, stamp == p means "free for the
// producer of p" and stamp == p + 1 means "holds the value of p".
//   (1) producer's acquire load of a stamp (the look-ahead probe and the step to the next
//       slot)  pairs with (4): the consumer freed position p - size after moving out of
//       it and, in program order, out of every earlier position, so constructing into
//       p and every slot before it happens after those moves.
//   (2) producer's release store stamp = p + 1  pairs with (3): the constructed value is
//       visible before the consumer sees the stamp.
//   (3) consumer's acquire load of the stamp  pairs with (2).
//   (4) consumer's release store stamp = p + size  pairs with (1).
// The two indices are published only for size_approx and the destructor; no operation
// reads the other side's index:
//   (5) the producer stores tail = p + 1 (relaxed) before (2), and the consumer stores
//       head = p + 1 with release after (3): so the tail store of position p happens
//       before the consumer's head store past p, and
//   (6) size_approx's acquire load of head pairs with the head store: the tail it reads
//       next is at least that head (read-read coherence): never negative.
// Each side's load of its own index is relaxed: only that side ever stores it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "lockfree/detail/concepts.hpp"
#include "lockfree/detail/ring_common.hpp"
#include "sync/atomic.hpp"
#include "sync/cell.hpp"
#include "sync/config.hpp"

namespace lf {

template <class T>
class spsc_ring {
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "lf::spsc_ring<T>: T must be nothrow move-constructible (a popped value is moved out of its slot)");
  static_assert(std::is_nothrow_destructible_v<T>, "lf::spsc_ring<T>: T must be nothrow destructible");

  struct slot {
    lf::atomic<std::size_t> stamp{0};
    cell<T> value;
  };

 public:
  using value_type = T;
  static constexpr progress push_progress = progress::wait_free;
  static constexpr progress pop_progress = progress::wait_free;
  static constexpr std::size_t max_producers = 1;
  static constexpr std::size_t max_consumers = 1;

  // How far ahead the producer probes for free slots (capped at the ring's size): 64
  // slots are 16 lines of 8-byte values, far enough that a probe that succeeds never
  // lands on the line the consumer is reading. 32, 128 and 256 measured the same within
  // the noise of one exploratory run
  // (bench/results/2026-12-03-epyc-2vcpu-slow-spsc-stamps/README.md).
  static constexpr std::size_t look_ahead = 64;

  // Holds at least `capacity` elements (the next power of two, at least 2). Throws
  // std::invalid_argument for 0, std::length_error when the slots cannot be allocated.
  explicit spsc_ring(std::size_t capacity)
      : mask_(detail::ring_size("lf::spsc_ring", capacity, 2, sizeof(slot)) - 1),
        slots_(std::make_unique<slot[]>(mask_ + 1)) {
    // relaxed: construction happens before any use (whatever publishes the ring orders it).
    for (std::size_t i = 0; i <= mask_; ++i) slots_[i].stamp.store(i, std::memory_order_relaxed);
  }

  spsc_ring(const spsc_ring&) = delete;
  spsc_ring& operator=(const spsc_ring&) = delete;

  ~spsc_ring() {
    // relaxed: destruction runs alone; whatever handed the ring over ordered the last calls.
    const std::size_t tail = prod_.tail.load(std::memory_order_relaxed);
    for (std::size_t i = cons_.head.load(std::memory_order_relaxed); i != tail; ++i) slots_[i & mask_].value.destroy();
  }

  // Producer only.
  bool try_push(const T& v) { return try_emplace(v); }
  bool try_push(T&& v) { return try_emplace(std::move(v)); }

  template <class... A>
  bool try_emplace(A&&... args) {
    detail::single_caller::scope one(prod_.caller);
    const std::size_t tail = prod_.tail.load(std::memory_order_relaxed);  // own index: only we store it
    if (tail == prod_.free_until && reserve(tail, 1) == 0) return false;
    slot& s = slots_[tail & mask_];
    ::new (static_cast<void*>(s.value.write())) T(std::forward<A>(args)...);
    publish(s, tail);
    return true;
  }

  // Producer only. Constructs up to `n` elements from `*first++`, as many as there are
  // free slots. Returns how many were pushed: a prefix, fewer when the ring fills. If a
  // constructor throws, the elements before it are pushed and the exception passes.
  template <class InputIt>
  std::size_t try_push_n(InputIt first, std::size_t n) {
    detail::single_caller::scope one(prod_.caller);
    const std::size_t tail = prod_.tail.load(std::memory_order_relaxed);  // own index
    const std::size_t count = std::min(n, prod_.free_until - tail >= n ? n : reserve(tail, n));
    for (std::size_t done = 0; done < count; ++done, ++first) {
      slot& s = slots_[(tail + done) & mask_];
      ::new (static_cast<void*>(s.value.write())) T(*first);
      publish(s, tail + done);
    }
    return count;
  }

  // Consumer only.
  std::optional<T> try_pop() {
    detail::single_caller::scope one(cons_.caller);
    const std::size_t head = cons_.head.load(std::memory_order_relaxed);  // own index: only we store it
    slot& s = slots_[head & mask_];
    if (s.stamp.load(std::memory_order_acquire) != head + 1) return std::nullopt;  // (3) pairs with (2)
    std::optional<T> v(s.value.take());
    release(s, head);
    return v;
  }

  // Consumer only. Moves up to `n` elements to `*out++`, as many as are ready. Returns
  // how many were popped. A slot counts as emptied before the assignment to `*out`, which
  // may throw (the value being assigned is then lost, the ones before it delivered).
  template <class OutputIt>
  std::size_t try_pop_n(OutputIt out, std::size_t n) {
    detail::single_caller::scope one(cons_.caller);
    const std::size_t head = cons_.head.load(std::memory_order_relaxed);  // own index
    std::size_t done = 0;
    for (; done < n; ++done, ++out) {
      slot& s = slots_[(head + done) & mask_];
      if (s.stamp.load(std::memory_order_acquire) != head + done + 1) break;  // (3) for the batch
      T v(s.value.take());
      release(s, head + done);
      *out = std::move(v);
    }
    return done;
  }

  // The number of elements `try_push` accepts into an empty ring (>= the requested one).
  std::size_t capacity() const noexcept { return mask_ + 1; }

  // A snapshot that may be stale by the time it returns; exact when neither side runs.
  std::size_t size_approx() const noexcept {
    // (6) acquire, pairs with the head store of (5): the tail read below is at least this
    // head, never negative. The model's size_never_negative fails without it (mutant
    // spsc_size_head_relaxed).
    const std::size_t head = cons_.head.load(std::memory_order_acquire);
    const std::size_t tail = prod_.tail.load(std::memory_order_relaxed);  // ordered after head by (6)
    return tail - head;
  }

 private:
  // Producer: publishes the value just constructed in `s` for position `pos`.
  void publish(slot& s, std::size_t pos) {
    prod_.tail.store(pos + 1, std::memory_order_relaxed);  // (5) for size_approx; before (2)
    s.stamp.store(pos + 1, std::memory_order_release);     // (2) publishes the slot; pairs with (3)
  }
  // Consumer: frees `s`, just moved out of at position `pos`, for position pos + size.
  void release(slot& s, std::size_t pos) {
    s.stamp.store(pos + mask_ + 1, std::memory_order_release);  // (4) frees the slot; pairs with (1)
    cons_.head.store(pos + 1, std::memory_order_release);      // (5) after (3), for size_approx's (6)
  }
  // Producer: moves free_until forward so that it covers `want` slots from `tail` where it
  // can; returns how many it covers. First the look-ahead probe, then slot by slot.
  std::size_t reserve(std::size_t tail, std::size_t want) {
    const std::size_t far = tail + std::min(std::max(want, look_ahead), mask_ + 1) - 1;
    if (far >= prod_.free_until && stamp_free(far)) prod_.free_until = far + 1;
    while (prod_.free_until - tail < want && stamp_free(prod_.free_until)) ++prod_.free_until;
    return prod_.free_until - tail;
  }
  // Producer: whether the slot of position `pos` is free for it.
  bool stamp_free(std::size_t pos) const {
    return slots_[pos & mask_].stamp.load(std::memory_order_acquire) == pos;  // (1) pairs with (4)
  }

  // Read-only after construction: shared by both sides without traffic.
  const std::size_t mask_;
  const std::unique_ptr<slot[]> slots_;

  // Written by the producer only.
  struct alignas(cache_line) producer_side {
    lf::atomic<std::size_t> tail{0};  // the next position to push; read by size_approx
    std::size_t free_until = 0;       // positions below it are known free (look-ahead)
    [[no_unique_address]] detail::single_caller caller;
  } prod_;

  // Written by the consumer only.
  struct alignas(cache_line) consumer_side {
    lf::atomic<std::size_t> head{0};  // the next position to pop; read by size_approx
    [[no_unique_address]] detail::single_caller caller;
  } cons_;
};

}  // namespace lf
