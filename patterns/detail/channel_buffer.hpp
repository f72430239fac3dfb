// lf::detail::chan_buffer<T> — the buffer of a buffered lf::channel: Vyukov's bounded
// MPMC ring (papers/vyukov-2010-bounded-mpmc.md) with an exact capacity and a seal.
//
// Why not lockfree/mpmc_ring.hpp itself. A channel needs two things that ring does not
// give: (a) the exact capacity the caller asked for — mpmc_ring rounds up to a power of
// two and to at least 2, so a channel of capacity 1 (Go's semaphore idiom) would accept
// two values; (b) a close that is linearizable against every push: a push either lands
// before close() or reports closed, so that "every send that returned ok is received"
// holds and a receiver can tell "closed and drained" from "a value is still being
// written". (a) is the turn scheme of rigtorp/MPMCQueue's lineage: slot pos % n at lap
// pos / n is free for its producer at turn 2*lap and full at 2*lap + 1, so one slot
// (n = 1) already tells "full" from "free for the next lap". (b) is a seal bit in the
// producers' position word: close() sets it with one RMW, after which every producer
// CAS on that word fails and the producer reads the bit; the positions below the sealed
// tail are exactly the values that will ever be pushed.
//
// Progress: try_push / try_pop lock-free (a retry means another thread's CAS on the same
// word succeeded). Like mpmc_ring, try_pop reports would_block while the value at the
// consumers' position is still being written by a producer that claimed it earlier (and
// try_push reports full symmetrically); the channel's wake-up protocol accounts for
// that (see patterns/detail/channel_core.hpp, "relay").
//
// Ordering argument (turn(slot) starts at 0: free for the producer of lap 0):
//   (1) producer's acquire load of turn  pairs with (4): the consumer that emptied the
//       slot a lap ago finished moving out before we construct into it.
//   (2) producer's release store turn = 2*lap + 1  pairs with (3): publishes the value.
//   (3) consumer's acquire load of turn  pairs with (2).
//   (4) consumer's release store turn = 2*lap + 2  pairs with (1).
//   (5) seal: close()'s fetch_or on the producers' word is seq_cst (rare), and a
//       consumer's acquire load of that word (6) that reads the seal synchronizes with
//       it: what the closer wrote before close() happens before a receive that reports
//       closed (Go's guarantee).
//   The position CASes are relaxed: they only decide which thread owns a position; the
//   slot's data is handed over by (1)-(4), and the seal takes effect on them because a
//   CAS compares the whole word, seal bit included.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "sync/atomic.hpp"
#include "sync/cell.hpp"
#include "sync/config.hpp"

namespace lf::detail {

enum class buffer_op { ok, would_block, closed };

template <class T>
class chan_buffer {
  struct slot {
    lf::atomic<std::uint64_t> turn{0};
    cell<T> value;
  };

  static constexpr std::uint64_t sealed = std::uint64_t{1} << 63;

 public:
  // A capacity the channel has validated: 1 <= capacity <= max_capacity.
  static constexpr std::uint64_t max_capacity = std::uint64_t{1} << 40;

  explicit chan_buffer(std::size_t capacity)
      : n_(capacity),
        shift_(std::has_single_bit(capacity) ? static_cast<unsigned>(std::countr_zero(capacity)) : no_shift),
        slots_(std::make_unique<slot[]>(capacity)) {}

  chan_buffer(const chan_buffer&) = delete;
  chan_buffer& operator=(const chan_buffer&) = delete;

  ~chan_buffer() {
    // relaxed: destruction runs alone, after whatever ordered the last operations.
    const std::uint64_t tail = enq_.value.load(std::memory_order_relaxed) & ~sealed;
    for (std::uint64_t pos = deq_.value.load(std::memory_order_relaxed); pos != tail; ++pos) {
      at(pos).value.destroy();
    }
  }

  // Pushes a T built from `args` (constructed only once a position is claimed, so a
  // failed push leaves an rvalue argument untouched). The constructor must not throw.
  template <class... A>
  buffer_op try_push(A&&... args) noexcept {
    std::uint64_t pos = enq_.value.load(std::memory_order_relaxed);  // a guess; the slot's turn (1) is the check
    slot* s;
    std::uint64_t lap;
    for (;;) {
      if (pos & sealed) return buffer_op::closed;
      s = &at(pos);
      lap = lap_of(pos);
      const std::uint64_t turn = s->turn.load(std::memory_order_acquire);  // (1) pairs with (4)
      const auto lag = static_cast<std::int64_t>(turn - 2 * lap);
      if (lag == 0) {
        // relaxed: ownership of `pos` only; on failure `pos` is the word's current value
        // (with the seal bit, if close() came first).
        if (enq_.value.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (lag < 0) {
        // Full. A sealed channel reports closed even when full, as Go's send does.
        // relaxed: the seal bit is read for its own sake; nothing is handed over.
        return (enq_.value.load(std::memory_order_relaxed) & sealed) ? buffer_op::closed : buffer_op::would_block;
      } else {
        pos = enq_.value.load(std::memory_order_relaxed);  // another producer took `pos`
      }
    }
    ::new (static_cast<void*>(s->value.write())) T(std::forward<A>(args)...);
    s->turn.store(2 * lap + 1, std::memory_order_release);  // (2) publishes the value; pairs with (3)
    return buffer_op::ok;
  }

  // Moves the oldest value into `out` (which must hold none). would_block: nothing to
  // take yet; closed: sealed and every pushed value has been taken.
  buffer_op try_pop(std::optional<T>& out) noexcept {
    std::uint64_t pos = deq_.value.load(std::memory_order_relaxed);  // a guess; the slot's turn (3) is the check
    slot* s;
    std::uint64_t lap;
    for (;;) {
      s = &at(pos);
      lap = lap_of(pos);
      const std::uint64_t turn = s->turn.load(std::memory_order_acquire);  // (3) pairs with (2)
      const auto lag = static_cast<std::int64_t>(turn - (2 * lap + 1));
      if (lag == 0) {
        // relaxed: as for producers; the value was acquired at (3).
        if (deq_.value.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (lag < 0) {
        // Nothing published at `pos`. Sealed with its tail at `pos`: nothing ever will be.
        const std::uint64_t tail = enq_.value.load(std::memory_order_acquire);  // (6) pairs with (5)
        return tail == (pos | sealed) ? buffer_op::closed : buffer_op::would_block;
      } else {
        pos = deq_.value.load(std::memory_order_relaxed);  // another consumer took `pos`
      }
    }
    out.emplace(s->value.take());
    s->turn.store(2 * lap + 2, std::memory_order_release);  // (4) frees the slot for the next lap; pairs with (1)
    return buffer_op::ok;
  }

  // Seals the producers' word: every later push reports closed.
  void seal() noexcept { enq_.value.fetch_or(sealed, std::memory_order_seq_cst); }  // (5)

  std::size_t capacity() const noexcept { return n_; }

  // Positions claimed by producers and not yet by consumers: a snapshot, clamped to
  // [0, capacity]; exact when no operation runs.
  std::size_t size_approx() const noexcept {
    // relaxed: a snapshot that orders nothing; the clamp covers loads seen out of step.
    const std::uint64_t head = deq_.value.load(std::memory_order_relaxed);
    const std::uint64_t tail = enq_.value.load(std::memory_order_relaxed) & ~sealed;
    const auto n = static_cast<std::int64_t>(tail - head);
    return n < 0 ? 0 : (static_cast<std::uint64_t>(n) > n_ ? n_ : static_cast<std::size_t>(n));
  }

 private:
  static constexpr unsigned no_shift = 64;

  // Slot and lap of a position: a mask and a shift when the capacity is a power of two,
  // one division otherwise.
  slot& at(std::uint64_t pos) const noexcept {
    return slots_[shift_ != no_shift ? (pos & (n_ - 1)) : (pos % n_)];
  }
  std::uint64_t lap_of(std::uint64_t pos) const noexcept { return shift_ != no_shift ? (pos >> shift_) : (pos / n_); }

  // Read-only after construction.
  const std::uint64_t n_;
  const unsigned shift_;
  const std::unique_ptr<slot[]> slots_;

  padded<lf::atomic<std::uint64_t>> enq_{};  // next position to push, and the seal bit
  padded<lf::atomic<std::uint64_t>> deq_{};  // next position to pop
};

}  // namespace lf::detail
