// lf — the list of rings under the fetch-and-add queues (lockfree/lcrq.hpp,
// lockfree/lprq.hpp): Morrison & Afek 2013, section 5 (papers/morrison-2013-lcrq.md).
//
// A ring takes values until it closes (full, or a pusher starved); the pusher that finds
// its ring closed appends a fresh ring that already holds its value, Michael–Scott style.
// Poppers take from the ring at the head; once it is closed and drained they unlink it and
// retire it to the reclaimer policy. The list moves 64-bit words; what a word means is the
// queue's business.
//
// A Ring provides:
//   Ring(std::size_t size, std::optional<std::uint64_t> first)  a fresh ring, holding
//                                 `first` at its first position if given (may throw);
//   bool enqueue(std::uint64_t)   true once the word is in; false once the ring is closed;
//   std::optional<std::uint64_t> dequeue()  the oldest word, or nothing if found empty;
//   bool drained() const          head at or past tail (a snapshot);
//   void destroy_values()         discards every word still inside (no thread running);
//   static void discard(std::uint64_t)  discards a word nobody will take;
//   lf::atomic<Ring*> next, and derives from Reclaimer::node_base<Ring>.
//
// Deviations from the paper (shared by both queues). (b) A fresh ring is allocated by a
// pusher only after its current ring closed, and kept for its next attempt when another
// pusher's ring won the append. (c) Rings are retired to the reclaimer policy (hazard
// pointers by default) instead of the paper's hazard pointers inlined. (d) A popper swings
// the list's tail past a ring before it unlinks that ring from the head, so tail never
// names a retired ring. (e) After finding next set, the popper tries its ring once more
// before unlinking it: a value completed before the ring closed is taken there.
//
// Ordering argument (the Michael–Scott list, as in lockfree/ms_queue.hpp):
//   (L1) append's CAS of ring->next, release: publishes the new ring's initialised cells
//        and indices; pairs with (L2).
//   (L2) loads of ring->next, acquire; the CASes of the list's head and tail, release,
//        pass that on to whoever protects them (protect's load is acquire).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "sync/atomic.hpp"
#include "sync/config.hpp"

namespace lf::detail {

// Ring sizes: a power of two (positions are masked) in [2, 2^40]; `queue` names the
// caller in the message.
inline std::size_t checked_ring_size(const char* queue, std::size_t n) {
  if (n < 2 || (n & (n - 1)) != 0 || n > (std::size_t{1} << 40)) {
    throw std::invalid_argument(std::string(queue) + ": ring_size must be a power of two in [2, 2^40], got " +
                                std::to_string(n));
  }
  return n;
}

// The closed flag of a ring's tail index.
inline constexpr std::uint64_t ring_closed_bit = std::uint64_t{1} << 63;

// Poppers that found a ring empty moved head past tail; bring tail up to head, so that
// pushers do not start behind positions whose poppers have already left. Everything
// seq_cst, as the rings' proofs assume.
inline void fix_ring_state(lf::atomic<std::uint64_t>& head, lf::atomic<std::uint64_t>& tail) noexcept {
  for (;;) {
    std::uint64_t t = tail.load();
    const std::uint64_t h = head.load();
    if (tail.load() != t) continue;
    if (h <= t) return;  // also when closed: the closed bit makes t larger than any head
    if (tail.compare_exchange_strong(t, h)) return;
  }
}

template <class Ring, class Reclaimer>
class ring_list {
 public:
  using domain_type = typename Reclaimer::domain;

  ring_list(domain_type& domain, std::size_t ring_size) : size_(ring_size), domain_(&domain) {
    Ring* const first = new Ring(size_, std::nullopt);
    head_.value.store(first, std::memory_order_relaxed);  // relaxed: published by the owner's constructor's end
    tail_.value.store(first, std::memory_order_relaxed);
  }
  ring_list(const ring_list&) = delete;
  ring_list& operator=(const ring_list&) = delete;

  // No other thread may use the list any more. relaxed: the owner's join of the other
  // threads ordered their writes before us.
  ~ring_list() {
    Ring* r = head_.value.load(std::memory_order_relaxed);
    while (r != nullptr) {
      Ring* const next = r->next.load(std::memory_order_relaxed);
      r->destroy_values();
      delete r;
      r = next;
    }
  }

  // Appends the word `make()` returns. make is called after the guard is taken (taking it
  // may throw: the thread's first use of the domain), so no word is left behind.
  template <class Make>
  void push(Make&& make) {
    typename Reclaimer::guard guard(*domain_);
    const std::uint64_t word = make();
    Ring* spare = nullptr;  // a ring built for an append another pusher won
    for (;;) {
      Ring* r = guard.protect(tail_.value);
      Ring* next = r->next.load(std::memory_order_acquire);  // (L2)
      if (next != nullptr) {
        // The list's tail lags: swing it, then retry. (L2) release: passes next on.
        tail_.value.compare_exchange_strong(r, next, std::memory_order_release, std::memory_order_relaxed);
        continue;
      }
      if (r->enqueue(word)) break;
      // r is closed: append a ring that already holds our word.
      if (spare == nullptr) {
        try {
          spare = new Ring(size_, word);
        } catch (...) {
          Ring::discard(word);
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

  // The oldest word, or nothing if the list was empty when looked at.
  std::optional<std::uint64_t> pop() {
    typename Reclaimer::guard guard(*domain_);
    for (;;) {
      Ring* r = guard.protect(head_.value);
      if (std::optional<std::uint64_t> w = r->dequeue()) return w;
      Ring* next = r->next.load(std::memory_order_acquire);  // (L2)
      if (next == nullptr) return std::nullopt;
      // r is closed: no push enters it any more. A word whose push completed before that
      // is still taken from r (deviation (e)); then r is drained and may be unlinked.
      if (std::optional<std::uint64_t> w = r->dequeue()) return w;
      Ring* last = tail_.value.load(std::memory_order_acquire);
      // (L2) release: tail must pass r before head does, so that tail never names a
      // retired ring.
      if (last == r) tail_.value.compare_exchange_strong(last, next, std::memory_order_release, std::memory_order_relaxed);
      if (head_.value.compare_exchange_strong(r, next, std::memory_order_release, std::memory_order_relaxed)) {
        guard.reset();
        Reclaimer::retire(*domain_, r);
      }
    }
  }

  // A snapshot, exact when no operation runs: true if the ring at the head had no word
  // left and no successor when looked at. A drained ring that a pop has not yet unlinked
  // counts as not empty.
  [[nodiscard]] bool empty() const {
    typename Reclaimer::guard guard(*domain_);
    Ring* const r = guard.protect(head_.value);
    return r->drained() && r->next.load(std::memory_order_relaxed) == nullptr;  // relaxed: compared, not dereferenced
  }

  std::size_t ring_size() const noexcept { return size_; }

 private:
  // Read-only after construction.
  const std::size_t size_;
  domain_type* const domain_;

  padded<lf::atomic<Ring*>> head_{nullptr};
  padded<lf::atomic<Ring*>> tail_{nullptr};
};

}  // namespace lf::detail
