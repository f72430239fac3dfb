// lf — the index ring inside lf::scq_ring (lockfree/scq_ring.hpp): Nikolaev's SCQ, a
// bounded FIFO of integers in [0, n), in 2n one-word entries, with fetch-and-add on its
// head and tail and single-word CAS/OR on entries. The algorithm and its ordering argument
// are in scq_ring.hpp, whose numbers (S1)-(S7) the comments here refer to.
//
// An entry is one 64-bit word: cycle (the lap, position / 2n) | safe bit | index, where
// the index field is log2(2n) bits wide and its two top values mean "no index": ⊥ = 2n-1
// (free) and ⊥c = 2n-2 (consumed; a popper ORs ⊥c into the index it took, leaving ⊥c or ⊥,
// both free). Positions are 64-bit counters, so cycles never wrap in practice (2^63
// positions).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "sync/atomic.hpp"
#include "sync/config.hpp"

namespace lf::detail {

class scq_indices {
 public:
  // An empty ring for indices in [0, n); n a power of two, at least 2 (the caller checks).
  explicit scq_indices(std::size_t n)
      : n_(n),
        bits_(static_cast<unsigned>(std::countr_zero(2 * n))),
        entries_(std::make_unique<lf::atomic<std::uint64_t>[]>(2 * n)) {
    // relaxed: the ring reaches other threads through whatever publishes its owner.
    for (std::size_t j = 0; j < 2 * n_; ++j) entries_[j].store(safe_bit() | bottom(), std::memory_order_relaxed);
    head_.value.store(2 * n_, std::memory_order_relaxed);  // cycle 1: every entry (cycle 0) is older
    tail_.value.store(2 * n_, std::memory_order_relaxed);
    threshold_.value.store(-1, std::memory_order_relaxed);
  }

  // Never fails while at most n indices are inside (each index is in one ring at a time).
  void enqueue(std::uint64_t index) noexcept {
    for (;;) {
      const std::uint64_t t = tail_.value.fetch_add(1);  // (S1)
      const std::uint64_t cycle = t >> bits_;
      lf::atomic<std::uint64_t>& entry = at(t);
      std::uint64_t e = entry.load();  // (S4)'s partner for the next lap
      while (cycle_of(e) < cycle && is_free(e) &&
             ((e & safe_bit()) != 0 || head_.value.load() <= t)) {  // (S5)
        // (S2) seq_cst: its release half publishes what the pusher of `index` wrote into
        // the slot it names; pairs with (S3).
        const std::uint64_t mine = (cycle << (bits_ + 1)) | safe_bit() | index;
        if (entry.compare_exchange_weak(e, mine, std::memory_order_seq_cst, std::memory_order_seq_cst)) {
          if (threshold_.value.load() != max_threshold()) threshold_.value.store(max_threshold());  // (S7)
          return;
        }
      }
    }
  }

  // The oldest index, or -1 when the ring was empty.
  std::int64_t dequeue() noexcept {
    if (threshold_.value.load() < 0) return -1;  // (S7)
    for (;;) {
      const std::uint64_t h = head_.value.fetch_add(1);  // (S1)
      const std::uint64_t cycle = h >> bits_;
      lf::atomic<std::uint64_t>& entry = at(h);
      std::uint64_t e = entry.load();  // (S3) seq_cst: acquires what (S2) published
      for (;;) {
        if (cycle_of(e) == cycle) {
          entry.fetch_or(bottom_consumed());  // (S4) the entry is ours: mark it consumed
          return static_cast<std::int64_t>(e & bottom());
        }
        if (cycle_of(e) >= cycle) break;  // a later lap owns the entry: position h is lost to us
        // An older lap: if free, advance it to our cycle so that a pusher still on its way to
        // position h fails there; if it holds an index nobody took yet, clear its safe bit.
        const std::uint64_t next = is_free(e) ? (cycle << (bits_ + 1)) | (e & safe_bit()) | bottom() : e & ~safe_bit();
        if (entry.compare_exchange_weak(e, next)) break;  // (S6)
      }
      const std::uint64_t t = tail_.value.load();  // (S6)
      if (t <= h + 1) {
        catch_up(t, h + 1);
        threshold_.value.fetch_sub(1);
        return -1;
      }
      if (threshold_.value.fetch_sub(1) <= 0) return -1;
    }
  }

  // A snapshot of tail - head, clamped to [0, n]; exact when no operation runs.
  std::size_t size_approx() const noexcept {
    const std::uint64_t h = head_.value.load(std::memory_order_relaxed);  // relaxed: a snapshot
    const std::uint64_t t = tail_.value.load(std::memory_order_relaxed);
    const auto d = static_cast<std::int64_t>(t - h);
    return d <= 0 ? 0 : (static_cast<std::size_t>(d) > n_ ? n_ : static_cast<std::size_t>(d));
  }

 private:
  static constexpr std::uint64_t one = 1;
  std::uint64_t safe_bit() const noexcept { return one << bits_; }
  std::uint64_t bottom() const noexcept { return (one << bits_) - 1; }
  std::uint64_t bottom_consumed() const noexcept { return bottom() - 1; }
  std::uint64_t cycle_of(std::uint64_t e) const noexcept { return e >> (bits_ + 1); }
  bool is_free(std::uint64_t e) const noexcept { return (e & bottom_consumed()) == bottom_consumed(); }
  // The paper's livelock guard: 3n - 1 failed dequeue steps after the last enqueue, the
  // ring is certainly empty (Nikolaev 2019, lemma 5.2).
  std::int64_t max_threshold() const noexcept { return static_cast<std::int64_t>(3 * n_) - 1; }
  lf::atomic<std::uint64_t>& at(std::uint64_t pos) const noexcept { return entries_[pos & (2 * n_ - 1)]; }

  // Poppers that found the ring empty moved head past tail: bring tail up.
  void catch_up(std::uint64_t t, std::uint64_t h) noexcept {
    while (!tail_.value.compare_exchange_weak(t, h)) {
      h = head_.value.load();
      t = tail_.value.load();
      if (t >= h) break;
    }
  }

  // Read-only after construction.
  const std::size_t n_;
  const unsigned bits_;  // log2(2n)
  const std::unique_ptr<lf::atomic<std::uint64_t>[]> entries_;

  padded<lf::atomic<std::uint64_t>> head_{};
  padded<lf::atomic<std::uint64_t>> tail_{};
  padded<lf::atomic<std::int64_t>> threshold_{};
};

}  // namespace lf::detail
