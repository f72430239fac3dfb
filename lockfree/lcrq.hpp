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
// reserved value, so every 64-bit payload is allowed. (b) A fresh ring is allocated by a
// pusher only after its current ring closed and kept for its next attempt when another
// pusher's ring won the append. (c) Rings are retired to the reclaimer policy (hazard
// pointers by default) instead of the paper's hazard pointers inlined. (d) A popper swings
// the list's tail past a ring before it unlinks that ring from the head, so tail never
// names a retired ring (the paper leaves that to the reclamation scheme). (e) After
// finding next set, the popper tries its ring once more before unlinking it: a value
// completed before the ring closed is taken there, not skipped.
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
// Between rings (the Michael–Scott list, as in lockfree/ms_queue.hpp):
//   (L1) append's CAS of ring->next, release: publishes the new ring's initialised cells
//        and indices; pairs with (L2).
//   (L2) loads of ring->next, acquire; the CASes of the list's head and tail, release,
//        pass that on to whoever protects them (protect's load is acquire).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "lockfree/detail/concepts.hpp"
#include "lockfree/detail/faa_payload.hpp"
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
  static constexpr std::uint64_t closed_bit = std::uint64_t{1} << 63;  // in a ring's tail
  // A pusher that fails this many positions in one ring closes it (the paper's starving()).
  static constexpr unsigned starvation_limit = 16;

  struct ring : Reclaimer::template node_base<ring> {
    // A fresh ring whose position 0 already holds `first` (the pusher that appends it).
    ring(std::size_t size, std::uint64_t first) : cells(new lf::atomic_wide<cell_word>[size]) {
      // relaxed: the ring reaches other threads through (L1).
      cells[0].store(cell_word{safe_bit | occupied_bit, first}, std::memory_order_relaxed);
      for (std::size_t i = 1; i < size; ++i) cells[i].store(cell_word{safe_bit | i, 0}, std::memory_order_relaxed);
    }
    padded<lf::atomic<std::uint64_t>> head{0};
    padded<lf::atomic<std::uint64_t>> tail{1};  // bit 63: closed
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
  // per ring: at least 2, a power of two (positions are masked); std::invalid_argument
  // otherwise, naming the value.
  explicit lcrq(domain_type& domain, std::size_t ring_size = default_ring_size)
      : size_(checked_size(ring_size)), domain_(&domain) {
    ring* const first = new ring(size_, 0);
    // The first ring starts empty: its cell 0 is free, its tail at 0.
    first->cells[0].store(cell_word{safe_bit, 0}, std::memory_order_relaxed);  // relaxed: as in ring()
    first->tail.value.store(0, std::memory_order_relaxed);
    head_.value.store(first, std::memory_order_relaxed);  // relaxed: published by the constructor's end
    tail_.value.store(first, std::memory_order_relaxed);
  }

  lcrq(const lcrq&) = delete;
  lcrq& operator=(const lcrq&) = delete;

  // No other thread may use the queue any more; values still inside are destroyed.
  // relaxed: the owner's join of the other threads ordered their writes before us. Once
  // every operation has finished, a cell is occupied exactly when it holds a value nobody
  // popped (each position's popper either took the value or made its pusher move on).
  ~lcrq() {
    ring* r = head_.value.load(std::memory_order_relaxed);
    while (r != nullptr) {
      ring* const next = r->next.load(std::memory_order_relaxed);
      for (std::size_t i = 0; i < size_; ++i) {
        const cell_word c = r->cells[i].load(std::memory_order_relaxed);
        if ((c.control & occupied_bit) != 0) payload::discard(c.value);
      }
      delete r;
      r = next;
    }
  }

  void push(T v) { emplace(std::move(v)); }

  // Always succeeds (the queue is unbounded); for the lf::concurrent_queue shape.
  bool try_push(T v) {
    emplace(std::move(v));
    return true;
  }

  template <class... A>
  void emplace(A&&... args) {
    // The guard first: taking it may throw (the thread's first use of the domain), and
    // then no value must be left behind.
    typename Reclaimer::guard guard(*domain_);
    const std::uint64_t word = payload::make(std::forward<A>(args)...);
    ring* spare = nullptr;  // a ring built for an append another pusher won
    for (;;) {
      ring* r = guard.protect(tail_.value);
      ring* next = r->next.load(std::memory_order_acquire);  // (L2)
      if (next != nullptr) {
        // The list's tail lags: swing it, then retry. (L2) release: passes next on.
        tail_.value.compare_exchange_strong(r, next, std::memory_order_release, std::memory_order_relaxed);
        continue;
      }
      if (enqueue(*r, word)) break;
      // r is closed: append a ring that already holds our value.
      if (spare == nullptr) {
        try {
          spare = new ring(size_, word);
        } catch (...) {
          payload::discard(word);
          throw;
        }
      }
      // (L1) release: publishes spare's cells; pairs with (L2).
      if (r->next.compare_exchange_strong(next, spare, std::memory_order_release, std::memory_order_relaxed)) {
        tail_.value.compare_exchange_strong(r, spare, std::memory_order_release, std::memory_order_relaxed);
        return;
      }
    }
    if (spare != nullptr) delete spare;  // it holds `word` too, but as a copy nobody will take
  }

  // The oldest value, or nothing if the queue was empty when looked at.
  std::optional<T> try_pop() {
    typename Reclaimer::guard guard(*domain_);
    for (;;) {
      ring* r = guard.protect(head_.value);
      if (std::optional<std::uint64_t> w = dequeue(*r)) return payload::take(*w);
      ring* next = r->next.load(std::memory_order_acquire);  // (L2)
      if (next == nullptr) return std::nullopt;
      // r is closed: no push enters it any more. A value whose push completed before that
      // is still taken from r (deviation (e)); then r is drained and may be unlinked.
      if (std::optional<std::uint64_t> w = dequeue(*r)) return payload::take(*w);
      ring* last = tail_.value.load(std::memory_order_acquire);
      // (L2) release: tail must pass r before head does, so that tail never names a
      // retired ring.
      if (last == r) tail_.value.compare_exchange_strong(last, next, std::memory_order_release, std::memory_order_relaxed);
      if (head_.value.compare_exchange_strong(r, next, std::memory_order_release, std::memory_order_relaxed)) {
        guard.reset();
        Reclaimer::retire(*domain_, r);
      }
    }
  }

  // A snapshot, exact when no operation runs: true if the ring at the head had no value
  // left and no successor when looked at. A drained ring that a try_pop has not yet
  // unlinked counts as not empty.
  [[nodiscard]] bool empty() const {
    typename Reclaimer::guard guard(*domain_);
    ring* const r = guard.protect(head_.value);
    const std::uint64_t h = r->head.value.load();
    const std::uint64_t t = r->tail.value.load() & ~closed_bit;
    return h >= t && r->next.load(std::memory_order_relaxed) == nullptr;  // relaxed: compared, not dereferenced
  }

  std::size_t ring_size() const noexcept { return size_; }
  // Whether the 16-byte CAS is a lock-free instruction here (it is on x86-64 with -mcx16).
  static constexpr bool is_lock_free() noexcept { return lf::atomic_wide<cell_word>::is_always_lock_free; }

 private:
  static std::size_t checked_size(std::size_t n) {
    if (n < 2 || (n & (n - 1)) != 0 || n > (std::size_t{1} << 40)) {
      throw std::invalid_argument("lf::lcrq: ring_size must be a power of two in [2, 2^40], got " + std::to_string(n));
    }
    return n;
  }

  lf::atomic_wide<cell_word>& cell_at(ring& r, std::uint64_t pos) const noexcept { return r.cells[pos & (size_ - 1)]; }

  // CRQ enqueue: true once `word` is in r; false once r is closed (by us or another).
  bool enqueue(ring& r, std::uint64_t word) noexcept {
    for (unsigned failures = 0;; ++failures) {
      const std::uint64_t t = r.tail.value.fetch_add(1);
      if ((t & closed_bit) != 0) return false;
      lf::atomic_wide<cell_word>& c = cell_at(r, t);
      cell_word cur = c.load();  // (C2)'s counterpart: the state we replace
      if ((cur.control & occupied_bit) == 0 && (cur.control & index_mask) <= t &&
          ((cur.control & safe_bit) != 0 || r.head.value.load() <= t)) {  // (C4)
        const cell_word mine{safe_bit | occupied_bit | t, word};
        // (C1): publishes the value (and its box); the whole word is compared (C3).
        if (c.compare_exchange_strong(cur, mine, std::memory_order_seq_cst, std::memory_order_seq_cst)) return true;
      }
      const std::uint64_t h = r.head.value.load();
      if (static_cast<std::int64_t>(t - h) >= static_cast<std::int64_t>(size_) || failures >= starvation_limit) {
        r.tail.value.fetch_or(closed_bit);
        return false;
      }
    }
  }

  // CRQ dequeue: the word at the head position, or nothing once r was seen empty.
  std::optional<std::uint64_t> dequeue(ring& r) noexcept {
    for (;;) {
      const std::uint64_t h = r.head.value.fetch_add(1);
      lf::atomic_wide<cell_word>& c = cell_at(r, h);
      cell_word cur = c.load();  // (C2)
      for (;;) {
        const std::uint64_t index = cur.control & index_mask;
        const std::uint64_t safe = cur.control & safe_bit;
        if (index > h) break;  // a later lap already owns the cell: position h is lost to us
        if ((cur.control & occupied_bit) != 0) {
          if (index == h) {
            // (C3): our value; the cell is freed for position h + R.
            if (c.compare_exchange_strong(cur, cell_word{safe | (h + size_), 0}, std::memory_order_seq_cst,
                                          std::memory_order_seq_cst)) {
              return cur.value;
            }
          } else if (c.compare_exchange_strong(cur, cell_word{cur.control & ~safe_bit, cur.value},
                                               std::memory_order_seq_cst, std::memory_order_seq_cst)) {
            break;  // (C4): an older lap's value we cannot take; pushers must check head here
          }
        } else if (c.compare_exchange_strong(cur, cell_word{safe | (h + size_), 0}, std::memory_order_seq_cst,
                                             std::memory_order_seq_cst)) {
          break;  // (C3): free cell; a pusher still on its way to position h fails here
        }
      }
      const std::uint64_t t = r.tail.value.load() & ~closed_bit;  // (C5)
      if (t <= h + 1) {
        fix_state(r);
        return std::nullopt;
      }
    }
  }

  // Poppers that found the ring empty moved head past tail; bring tail up to head, so
  // that pushers do not start behind positions whose poppers have already left.
  static void fix_state(ring& r) noexcept {
    for (;;) {
      std::uint64_t t = r.tail.value.load();
      const std::uint64_t h = r.head.value.load();
      if (r.tail.value.load() != t) continue;
      if (h <= t) return;  // also when closed: bit 63 makes t larger than any head
      if (r.tail.value.compare_exchange_strong(t, h)) return;
    }
  }

  // Read-only after construction.
  const std::size_t size_;
  domain_type* const domain_;

  padded<lf::atomic<ring*>> head_{nullptr};
  padded<lf::atomic<ring*>> tail_{nullptr};
};

}  // namespace lf
