// lf::detail::stage_gate — where lf::pipeline's items enter and leave a gated stage.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <utility>

#include "sync/atomic.hpp"
#include "sync/cell.hpp"
#include "sync/config.hpp"

namespace lf::detail {

// The gate of a serial or parallel(n) stage of lf::pipeline (patterns/pipeline.hpp, "How
// it runs"), in its own header so that the model lane checks it from this very source
// (verification/model/pipeline_gate_model.cpp).
// serial_in_order: no lock. A turn word holds 2 * next + busy (next: the number that may
// enter); an item takes the turn with one CAS, or leaves itself in the reorder ring
// (bit_ceil(window) slots, indexed by seq: live items span fewer than `window` numbers,
// so a slot holds one at a time) and looks at the turn again; the leaver passes the turn
// on, then looks at the next number's slot. Each side
// writes, then reads what the other writes: (O2)/(O3) against (O4)/(O5), all seq_cst, so
// at least one of them sees the other (store buffering); both may, and then the CAS on
// the turn picks one, which takes the item out of the slot.
// serial_out_of_order and parallel(n): a mutex, the number inside, a FIFO.
template <class In>
class stage_gate {
 public:
  using item = std::pair<std::uint64_t, In>;
  // What enter() did with the caller's item.
  enum class entry { entered, buffered, reclaimed };

  stage_gate() = default;
  stage_gate(const stage_gate&) = delete;
  stage_gate& operator=(const stage_gate&) = delete;
  ~stage_gate() { clear(); }

  // limit: at most that many items inside (0: no gate, parallel()); ordered: in sequence
  // order (limit 1); window: the pipeline's max_live_items.
  void init(std::size_t limit, bool ordered, std::size_t window) {
    clear();
    limit_ = limit;
    ordered_ = ordered;
    active_ = 0;
    turn_.store(0, std::memory_order_relaxed);  // before the run's first task is published
    // A power of two at least the window: a mask, not a division, per item.
    slots_count_ = ordered_ ? std::bit_ceil(window) : 0;
    if (slots_count_ != 0) slots_ = std::make_unique<slot[]>(slots_count_);
  }
  // parallel(): no gate at all.
  bool open() const noexcept { return limit_ == 0; }

  // entered: the caller may run the stage on (seq, v) now. buffered: v was moved into the
  // gate, and the stage's leaver will hand it on. reclaimed (in-order only): v was moved
  // into the gate and its turn came meanwhile: the caller takes it back with reclaim(seq)
  // and runs the stage on it.
  entry enter(std::uint64_t seq, In& v) {
    if (ordered_) {
      std::uint64_t t = 2 * seq;
      // (O1) acquire: the previous holder's stage effects (the callable's state); pairs with (O4).
      if (turn_.load(std::memory_order_relaxed) == t &&  // relaxed: a look before the CAS, which orders
          turn_.compare_exchange_strong(t, t + 1, std::memory_order_acquire, std::memory_order_relaxed)) {  // direct
        return entry::entered;
      }
      slot& s = slots_[seq & (slots_count_ - 1)];
      ::new (static_cast<void*>(s.value.write())) In(std::move(v));
      s.tag.store(seq + 1, std::memory_order_seq_cst);  // (O2) publishes the value to (O5); SB with (O4)
      t = 2 * seq;
      if (turn_.load(std::memory_order_seq_cst) == t &&  // (O3) SB with (O4)
          turn_.compare_exchange_strong(t, t + 1, std::memory_order_acquire, std::memory_order_relaxed)) {  // (O1) again
        return entry::reclaimed;
      }
      return entry::buffered;
    }
    std::lock_guard<std::mutex> lock(m_);
    if (active_ < limit_) {
      ++active_;
      return entry::entered;
    }
    queue_.emplace_back(seq, std::move(v));
    return entry::buffered;
  }

  // After enter() said reclaimed: the item, out of its slot (the caller holds the turn).
  In reclaim(std::uint64_t seq) {
    slot& s = slots_[seq & (slots_count_ - 1)];
    s.tag.store(0, std::memory_order_relaxed);  // read again only after the token chain (see "Ordering")
    return s.value.take();
  }

  // Item `seq` left the stage. Returns the buffered item that now holds its place (the
  // caller runs it, or starts a task for it), or nothing.
  std::optional<item> leave(std::uint64_t seq) {
    if (ordered_) {
      const std::uint64_t next = seq + 1;
      // (O4) seq_cst: releases this stage's effects to the next holder's (O1); SB with (O2)/(O3).
      turn_.store(2 * next, std::memory_order_seq_cst);
      slot& s = slots_[next & (slots_count_ - 1)];
      if (s.tag.load(std::memory_order_seq_cst) != next + 1) return std::nullopt;  // (O5) acquire: pairs with (O2)
      std::uint64_t t = 2 * next;
      // Its depositor may have taken the turn at (O3): then it runs the item itself.
      if (!turn_.compare_exchange_strong(t, t + 1, std::memory_order_acquire, std::memory_order_relaxed)) {
        return std::nullopt;
      }
      return std::optional<item>(std::in_place, next, reclaim(next));
    }
    std::lock_guard<std::mutex> lock(m_);
    if (!queue_.empty()) {
      std::optional<item> r(std::move(queue_.front()));
      queue_.pop_front();
      return r;
    }
    --active_;
    return std::nullopt;
  }

  // Destroys what is buffered. Only while no task uses the gate (wait(), after the group).
  void clear() {
    for (std::size_t i = 0; i < slots_count_; ++i) {
      if (slots_[i].tag.load(std::memory_order_relaxed) != 0) {
        slots_[i].tag.store(0, std::memory_order_relaxed);
        slots_[i].value.destroy();
      }
    }
    std::lock_guard<std::mutex> lock(m_);
    queue_.clear();
  }

 private:
  struct slot {
    lf::atomic<std::uint64_t> tag{0};  // seq + 1 while the slot holds item seq; 0: empty
    lf::cell<In> value;
  };

  alignas(cache_line) lf::atomic<std::uint64_t> turn_{0};  // in-order: 2 * next + busy
  std::size_t limit_ = 0;
  bool ordered_ = false;
  std::size_t slots_count_ = 0;
  std::unique_ptr<slot[]> slots_;  // in-order: seq mod slots_count_
  std::mutex m_;                   // the rest: out of order and parallel(n)
  std::size_t active_ = 0;
  std::deque<item> queue_;
};

}  // namespace lf::detail
