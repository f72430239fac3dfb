// lf::mpmc_ring<T> — bounded multi-producer multi-consumer ring.
//
// Vyukov's bounded MPMC queue (2010; papers/vyukov-2010-bounded-mpmc.md): every slot
// carries a sequence number that says whose turn the slot is. Producers and consumers
// claim positions with one CAS on their own counter, then hand the slot over through its
// sequence number; there is no shared head/tail pair to keep consistent.
//
// Any number of producers and consumers. try_push and try_pop are lock-free calls: a
// retry happens only because another thread's CAS on the same counter succeeded.
// Specified behaviour (not a bug; the model lane shows it): the ring is not a
// linearizable FIFO at its edges. try_pop reports empty while the element at the
// consumers' position is still being written by a producer that claimed it earlier,
// even if later producers have finished; try_push reports full symmetrically. So a
// producer stalled between its claim and its publication stalls delivery past its slot
// (the queue is blocking in that sense), and every element is still delivered once.
//
// Requirements on T: move-constructible without throwing. Destroying the ring destroys
// what is left. Capacity is rounded up to a power of two, and to at least 2: with one
// slot, "full" and "free for the next lap" have the same sequence number.
//
// Slots are laid out in position order. Spreading neighbouring positions over different
// cache lines (atomic_queue's remapping) was measured and dropped: on the 2-core machine
// it cut 1P1C throughput from 92 to 20 M items/s and 2P2C from 66 to 19, because every
// item then costs a line transfer instead of a quarter of one.
//
// Ordering argument (seq(i) starts at i: "free for the producer of position i"):
//   (1) producer's acquire load of seq  pairs with (4): the consumer that emptied the
//       slot a lap ago finished moving out before we construct into it.
//   (2) producer's release store seq = pos + 1  pairs with (3): publishes the value.
//   (3) consumer's acquire load of seq  pairs with (2).
//   (4) consumer's release store seq = pos + size  pairs with (1): frees the slot for
//       the producer one lap later.
// The CASes on the position counters are relaxed: they only decide which thread owns a
// position; the data of the slot is handed over by (1)-(4), and the winner of a CAS has
// already performed the acquire load for the slot it wins.
#pragma once

#include <cstddef>
#include <cstdint>
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
class mpmc_ring {
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "lf::mpmc_ring<T>: T must be nothrow move-constructible (a popped value is moved out of its slot)");
  static_assert(std::is_nothrow_destructible_v<T>, "lf::mpmc_ring<T>: T must be nothrow destructible");

  struct slot {
    lf::atomic<std::size_t> seq{0};
    cell<T> value;
  };

 public:
  using value_type = T;
  static constexpr progress push_progress = progress::lock_free;
  static constexpr progress pop_progress = progress::lock_free;
  // The calls return whatever other threads do, but a producer stalled between its claim
  // and its publication stalls delivery past its slot, and a consumer stalled between its
  // claim and freeing the slot stalls producers there one lap later (see above).
  static constexpr progress handoff_progress = progress::blocking;
  static constexpr std::size_t max_producers = any_number;
  static constexpr std::size_t max_consumers = any_number;

  // Holds at least `capacity` elements (the next power of two, at least 2). Throws
  // std::invalid_argument for 0, std::length_error when the slots cannot be allocated.
  explicit mpmc_ring(std::size_t capacity)
      : mask_(detail::ring_size("lf::mpmc_ring", capacity, 2, sizeof(slot)) - 1),
        slots_(std::make_unique<slot[]>(mask_ + 1)) {
    // relaxed: the ring reaches other threads only through a hand-over that orders these.
    for (std::size_t pos = 0; pos <= mask_; ++pos) at(pos).seq.store(pos, std::memory_order_relaxed);
  }

  mpmc_ring(const mpmc_ring&) = delete;
  mpmc_ring& operator=(const mpmc_ring&) = delete;

  ~mpmc_ring() {
    // relaxed: destruction runs alone, after whatever ordered the last operations.
    const std::size_t tail = enq_.value.load(std::memory_order_relaxed);
    for (std::size_t pos = deq_.value.load(std::memory_order_relaxed); pos != tail; ++pos) at(pos).value.destroy();
  }

  bool try_push(const T& v) { return try_emplace(v); }
  bool try_push(T&& v) { return try_emplace(std::move(v)); }

  // Constructs in place when that cannot throw. Otherwise the value is built first and
  // moved in: a claimed position must be published, or every consumer stops there.
  template <class... A>
  bool try_emplace(A&&... args) {
    if constexpr (std::is_nothrow_constructible_v<T, A&&...>) {
      return claim_and_construct(std::forward<A>(args)...);
    } else {
      return claim_and_construct(T(std::forward<A>(args)...));
    }
  }

 private:
  template <class... A>
  bool claim_and_construct(A&&... args) noexcept {
    std::size_t pos = enq_.value.load(std::memory_order_relaxed);  // a guess; the slot's seq (1) is the check
    slot* s;
    for (;;) {
      s = &at(pos);
      const std::size_t seq = s->seq.load(std::memory_order_acquire);  // (1) pairs with (4)
      const auto lag = static_cast<std::intptr_t>(seq - pos);
      if (lag == 0) {
        // relaxed: ownership of `pos` only; the slot was acquired at (1). On failure
        // `pos` becomes the counter's current value and we retry there.
        if (enq_.value.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (lag < 0) {
        return false;  // the slot still holds the element from one lap ago: full
      } else {
        pos = enq_.value.load(std::memory_order_relaxed);  // another producer took `pos`
      }
    }
    ::new (static_cast<void*>(s->value.write())) T(std::forward<A>(args)...);
    s->seq.store(pos + 1, std::memory_order_release);  // (2) publishes the value; pairs with (3)
    return true;
  }

 public:
  std::optional<T> try_pop() {
    std::size_t pos = deq_.value.load(std::memory_order_relaxed);  // a guess; the slot's seq (3) is the check
    slot* s;
    for (;;) {
      s = &at(pos);
      const std::size_t seq = s->seq.load(std::memory_order_acquire);  // (3) pairs with (2)
      const auto lag = static_cast<std::intptr_t>(seq - (pos + 1));
      if (lag == 0) {
        // relaxed: as for producers; the value was acquired at (3).
        if (deq_.value.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (lag < 0) {
        return std::nullopt;  // empty, or the producer of `pos` has not published yet
      } else {
        pos = deq_.value.load(std::memory_order_relaxed);  // another consumer took `pos`
      }
    }
    std::optional<T> v(s->value.take());
    s->seq.store(pos + mask_ + 1, std::memory_order_release);  // (4) frees the slot for the next lap; pairs with (1)
    return v;
  }

  // The number of elements `try_push` accepts into an empty ring (>= the requested one).
  std::size_t capacity() const noexcept { return mask_ + 1; }

  // A snapshot, clamped to [0, capacity()]; exact when no operation runs.
  std::size_t size_approx() const noexcept {
    // relaxed: a snapshot that orders nothing; the clamp covers loads seen out of step.
    const auto head = deq_.value.load(std::memory_order_relaxed);
    const auto tail = enq_.value.load(std::memory_order_relaxed);
    const auto n = static_cast<std::intptr_t>(tail - head);
    return n < 0 ? 0 : (static_cast<std::size_t>(n) > mask_ ? mask_ + 1 : static_cast<std::size_t>(n));
  }

 private:
  slot& at(std::size_t pos) const noexcept { return slots_[pos & mask_]; }

  // Read-only after construction.
  const std::size_t mask_;
  const std::unique_ptr<slot[]> slots_;

  padded<lf::atomic<std::size_t>> enq_{};  // next position to push
  padded<lf::atomic<std::size_t>> deq_{};  // next position to pop
};

}  // namespace lf
