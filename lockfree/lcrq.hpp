// lf::lcrq<T, Reclaimer> — unbounded lock-free MPMC FIFO queue built from fetch-and-add rings.
//
// Adam Morrison and Yehuda Afek, "Fast Concurrent Queues for x86 Processors", PPoPP 2013
// (papers/morrison-2013-lcrq.md). The contended step of a queue is handing out positions.
// Michael–Scott does it with a CAS that every other thread's success makes fail; a CRQ
// (concurrent ring queue) does it with fetch-and-add on a head or tail index, which
// always succeeds, so under contention every thread still moves on. Position i lives in
// cell i mod R of a ring of R cells; each cell is one 16-byte word {safe, index, value}
// changed by a double-width CAS (lf::atomic_wide), so its index and value change together.
// A pusher at position t puts its value in the cell when the cell is free for a lap no later
// than t; a popper at position h takes the value whose index is h, or, finding the cell free,
// advances its index to h + R so that a pusher still on its way to position h fails there
// and takes a new position. A popper that meets an older lap's value it cannot take clears
// the cell's safe bit: a pusher then enters the cell only if no popper has passed its
// position yet (head <= t). When a ring fills up, or a pusher fails too often (starvation),
// the pusher closes it (a bit in its tail) and appends a fresh ring to a Michael–Scott list
// of rings (LCRQ); poppers move past a closed, drained ring and retire it to the reclaimer.
//
// Any number of threads push and pop. push is lock-free: it retries only when a popper
// took its position, and after a bounded number of retries it closes the ring and appends
// a new one. try_pop is lock-free (each retry follows another thread's completed step).
// try_pop reports empty only after the ring found empty at position h had no pusher past
// h + 1 (the paper's linearizable emptiness check); a pusher stalled inside its step does
// not make later completed values invisible (its position is skipped, not waited for).
//
// Values: a T that is trivially copyable and fits in 8 bytes travels in the cell itself;
// any other T in a heap box whose address the cell holds (lockfree/detail/faa_payload.hpp),
// so the queue carries any T, at one allocation per item for large or non-trivial ones.
// Requirements on T: nothrow move-constructible and nothrow destructible (a popped value is
// moved out after its cell was won). A throwing constructor or allocation in push leaves
// the queue unchanged. The destructor destroys what is left.
//
// Pick it over lf::ms_queue for throughput under contention (see the benchmark note in
// papers/morrison-2013-lcrq.md); over lf::lprq where the 16-byte CAS is cheap (it is on
// x86-64 with -mcx16; elsewhere boost::atomic may fall back to a lock, and
// lcrq::is_lock_free says so). A ring is R cells of 16 bytes (`ring_size`, default 1024),
// allocated when the previous one closes.
//
// Deviations from the paper. (a) The cell's "empty" (⊥) is a flag in the index word, not a
// reserved value, so every 64-bit payload is allowed. (b)-(e) are the list's, shared with
// lprq (lockfree/detail/ring_list.hpp).
//
// Ordering argument. Within a ring the paper's proof assumes linearizable memory, and
// this code keeps it: every access to head, tail and the cells is seq_cst. On x86-64 this
// costs nothing over weaker orders (each read-modify-write is a locked instruction anyway,
// a seq_cst load is a plain load, and the 16-byte load is itself a lock cmpxchg16b); no
// seq_cst store is on a fast path. The pairs the argument leans on:
//   (C1) push's CAS2 on a cell (value in, index = t) publishes the boxed value: its release
//        half pairs with (C2).
//   (C2) pop's load of a cell: its acquire half sees the box built before (C1).
//   (C3) pop's CAS2 that takes the value (index h -> h + R, empty) or invalidates a free
//        cell: the cell's whole word is compared, so a pusher's (C1) and the popper's (C3)
//        at one position cannot both succeed — exactly one of "value delivered" and
//        "pusher retries elsewhere" happens.
//   (C4) pop's CAS2 that clears the safe bit, and push's load of head before entering an
//        unsafe cell: head is read after the cell (both seq_cst), so a pusher that finds
//        head <= t enters a position whose popper has not yet passed it.
//   (C5) pop's load of tail after failing at h: a pusher whose (C1) completed before our
//        fetch-and-add of head took its position before, so tail > h + 1 sends us on.
// Between rings: (L1) and (L2) of lockfree/detail/ring_list.hpp.
#pragma once

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

#if defined(LF_MODEL_RELACY)
#include <ostream>
#endif

namespace lf {

namespace detail {

// One cell of a CRQ ring. control: bit 63 safe, bit 62 occupied, bits 0-61 the index of
// the lap the cell serves. value: the payload word while occupied.
struct crq_cell {
  std::uint64_t control;
  std::uint64_t value;
  friend bool operator==(const crq_cell&, const crq_cell&) = default;
#if defined(LF_MODEL_RELACY)
  friend std::ostream& operator<<(std::ostream& s, const crq_cell& c) { return s << c.control << '/' << c.value; }
#endif
};

}  // namespace detail

template <class T, class Reclaimer = hazard_pointer_reclaimer>
class lcrq {
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "lf::lcrq<T>: T must be nothrow move-constructible (a popped value is moved out of its cell)");
  static_assert(std::is_nothrow_destructible_v<T>, "lf::lcrq<T>: T must be nothrow destructible");
  static_assert(reclaimer<Reclaimer>, "lf::lcrq<T, R>: R must model lf::reclaimer (rcu/reclaimer.hpp)");

  using payload = detail::faa_payload<T>;
  using cell_word = detail::crq_cell;

  static constexpr std::uint64_t safe_bit = std::uint64_t{1} << 63;
  static constexpr std::uint64_t occupied_bit = std::uint64_t{1} << 62;
  static constexpr std::uint64_t index_mask = occupied_bit - 1;
  static constexpr std::uint64_t closed_bit = detail::ring_closed_bit;  // in a ring's tail
  // A pusher that fails this many positions in one ring closes it (the paper's starving()).
  static constexpr unsigned starvation_limit = 16;

  // One CRQ ring, in the shape lockfree/detail/ring_list.hpp asks.
  struct ring : Reclaimer::template node_base<ring> {
    // A fresh ring; with `first`, position 0 already holds it (the pusher that appends it).
    ring(std::size_t ring_size, std::optional<std::uint64_t> first)
        : size(ring_size), cells(new lf::atomic_wide<cell_word>[ring_size]) {
      // relaxed: the ring reaches other threads through (L1) or the queue's constructor.
      for (std::size_t i = 0; i < size; ++i) cells[i].store(cell_word{safe_bit | i, 0}, std::memory_order_relaxed);
      if (first) {
        cells[0].store(cell_word{safe_bit | occupied_bit, *first}, std::memory_order_relaxed);
        tail.value.store(1, std::memory_order_relaxed);
      }
    }

    bool enqueue(std::uint64_t word) noexcept;
    std::optional<std::uint64_t> dequeue() noexcept;
    bool drained() const noexcept { return head.value.load() >= (tail.value.load() & ~closed_bit); }
    // Once every operation has finished, a cell is occupied exactly when it holds a value
    // nobody popped (each position's popper either took the value or made its pusher move
    // on). relaxed: called from the queue's destructor, after the owner's join.
    void destroy_values() noexcept {
      for (std::size_t i = 0; i < size; ++i) {
        const cell_word c = cells[i].load(std::memory_order_relaxed);
        if ((c.control & occupied_bit) != 0) payload::discard(c.value);
      }
    }
    static void discard(std::uint64_t word) noexcept { payload::discard(word); }

    lf::atomic_wide<cell_word>& cell_at(std::uint64_t pos) const noexcept { return cells[pos & (size - 1)]; }

    const std::size_t size;
    padded<lf::atomic<std::uint64_t>> head{0};
    padded<lf::atomic<std::uint64_t>> tail{0};  // bit 63: closed
    lf::atomic<ring*> next{nullptr};
    const std::unique_ptr<lf::atomic_wide<cell_word>[]> cells;
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
  explicit lcrq(std::size_t ring_size = default_ring_size) : lcrq(Reclaimer::default_domain(), ring_size) {}
#endif
  // Closed rings are retired to `domain`, which must outlive the queue. `ring_size` cells
  // per ring: a power of two in [2, 2^40] (positions are masked); std::invalid_argument
  // otherwise, naming the value.
  explicit lcrq(domain_type& domain, std::size_t ring_size = default_ring_size)
      : rings_(domain, detail::checked_ring_size("lf::lcrq", ring_size)) {}

  lcrq(const lcrq&) = delete;
  lcrq& operator=(const lcrq&) = delete;
  // No other thread may use the queue any more; values still inside are destroyed.
  ~lcrq() = default;

  void push(T v) { emplace(std::move(v)); }

  // Always succeeds (the queue is unbounded); for the lf::concurrent_queue shape.
  bool try_push(T v) {
    emplace(std::move(v));
    return true;
  }

  template <class... A>
  void emplace(A&&... args) {
    rings_.push([&] { return payload::make(std::forward<A>(args)...); });
  }

  // The oldest value, or nothing if the queue was empty when looked at.
  std::optional<T> try_pop() {
    if (std::optional<std::uint64_t> w = rings_.pop()) return payload::take(*w);
    return std::nullopt;
  }

  // A snapshot, exact when no operation runs (see ring_list::empty).
  [[nodiscard]] bool empty() const { return rings_.empty(); }

  std::size_t ring_size() const noexcept { return rings_.ring_size(); }
  // Whether the 16-byte CAS is a lock-free instruction here (it is on x86-64 with -mcx16).
  static constexpr bool is_lock_free() noexcept { return lf::atomic_wide<cell_word>::is_always_lock_free; }

 private:
  detail::ring_list<ring, Reclaimer> rings_;
};

// CRQ enqueue: true once `word` is in the ring; false once it is closed (by us or another).
template <class T, class R>
bool lcrq<T, R>::ring::enqueue(std::uint64_t word) noexcept {
  for (unsigned failures = 0;; ++failures) {
    const std::uint64_t t = tail.value.fetch_add(1);
    if ((t & closed_bit) != 0) return false;
    lf::atomic_wide<cell_word>& c = cell_at(t);
    cell_word cur = c.load();  // (C2)'s counterpart: the state we replace
    if ((cur.control & occupied_bit) == 0 && (cur.control & index_mask) <= t &&
        ((cur.control & safe_bit) != 0 || head.value.load() <= t)) {  // (C4)
      const cell_word mine{safe_bit | occupied_bit | t, word};
      // (C1): publishes the value (and its box); the whole word is compared (C3).
      if (c.compare_exchange_strong(cur, mine, std::memory_order_seq_cst, std::memory_order_seq_cst)) return true;
    }
    const std::uint64_t h = head.value.load();
    if (static_cast<std::int64_t>(t - h) >= static_cast<std::int64_t>(size) || failures >= starvation_limit) {
      tail.value.fetch_or(closed_bit);
      return false;
    }
  }
}

// CRQ dequeue: the word at the head position, or nothing once the ring was seen empty.
template <class T, class R>
std::optional<std::uint64_t> lcrq<T, R>::ring::dequeue() noexcept {
  for (;;) {
    const std::uint64_t h = head.value.fetch_add(1);
    lf::atomic_wide<cell_word>& c = cell_at(h);
    cell_word cur = c.load();  // (C2)
    for (;;) {
      const std::uint64_t index = cur.control & index_mask;
      const std::uint64_t safe = cur.control & safe_bit;
      if (index > h) break;  // a later lap already owns the cell: position h is lost to us
      if ((cur.control & occupied_bit) != 0) {
        if (index == h) {
          // (C3): our value; the cell is freed for position h + R.
          if (c.compare_exchange_strong(cur, cell_word{safe | (h + size), 0}, std::memory_order_seq_cst,
                                        std::memory_order_seq_cst)) {
            return cur.value;
          }
        } else if (c.compare_exchange_strong(cur, cell_word{cur.control & ~safe_bit, cur.value},
                                             std::memory_order_seq_cst, std::memory_order_seq_cst)) {
          break;  // (C4): an older lap's value we cannot take; pushers must check head here
        }
      } else if (c.compare_exchange_strong(cur, cell_word{safe | (h + size), 0}, std::memory_order_seq_cst,
                                           std::memory_order_seq_cst)) {
        break;  // (C3): free cell; a pusher still on its way to position h fails here
      }
    }
    const std::uint64_t t = tail.value.load() & ~closed_bit;  // (C5)
    if (t <= h + 1) {
      detail::fix_ring_state(head.value, tail.value);
      return std::nullopt;
    }
  }
}

}  // namespace lf
