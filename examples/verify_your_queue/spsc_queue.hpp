// demo::spsc_queue<T, Order> — a user's bounded single-producer single-consumer queue
// (Lamport 1983: one index per side, each written by one thread only), written on lf's
// seam so that lf's model checker and linearizability checker can be pointed at it.
//
// It stands for code you write yourself. The seam is all it takes: shared indices are
// lf::atomic, the slots are lf::cell (plain memory normally; under the model every access
// is checked for a data race). Nothing else in the file knows about verification.
//
// The bug, as first written (pop_order::free_then_read): try_pop advances `head` (which
// tells the producer the slot is free) and only then moves the value out. That looks
// harmless, "it is my slot, I already claimed it", and it passes every single-threaded
// test and thousands of real-thread runs. But a full queue's producer may refill the slot
// between the two lines, and the consumer then returns the new value: one value is lost
// and another delivered twice. pop_order::read_then_free is the fix: read, then free.
//
// Ordering argument (the fixed order):
//   (1) producer's acquire load of head  pairs with (4): the consumer finished reading
//       the slot before the producer writes into it again.
//   (2) producer's release store of tail  pairs with (3): publishes the value.
//   (3) consumer's acquire load of tail   pairs with (2).
//   (4) consumer's release store of head  pairs with (1). In free_then_read it is made
//       before the read, so (1) orders nothing useful: the read races with the refill.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "sync/atomic.hpp"
#include "sync/cell.hpp"

namespace demo {

enum class pop_order {
  free_then_read,  // as first written: the bug
  read_then_free,  // the fix
};

template <class T, pop_order Order>
class spsc_queue {
  static_assert(std::is_nothrow_move_constructible_v<T>, "demo::spsc_queue<T>: T must be nothrow move-constructible");

 public:
  explicit spsc_queue(std::size_t capacity) : capacity_(checked(capacity)), slots_(new lf::cell<T>[capacity]) {}
  spsc_queue(const spsc_queue&) = delete;
  spsc_queue& operator=(const spsc_queue&) = delete;
  ~spsc_queue() {
    // relaxed: the destructor runs alone, after whatever ordered the last operations.
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    for (std::size_t pos = head_.load(std::memory_order_relaxed); pos != tail; ++pos) slot(pos).destroy();
  }

  // Producer only.
  bool try_push(T v) {
    const std::size_t tail = tail_.load(std::memory_order_relaxed);  // relaxed: only the producer writes it
    if (tail - head_.load(std::memory_order_acquire) == capacity_) return false;  // (1) pairs with (4)
    ::new (static_cast<void*>(slot(tail).write())) T(std::move(v));
    tail_.store(tail + 1, std::memory_order_release);  // (2) publishes the value; pairs with (3)
    return true;
  }

  // Consumer only.
  std::optional<T> try_pop() {
    const std::size_t head = head_.load(std::memory_order_relaxed);  // relaxed: only the consumer writes it
    if (head == tail_.load(std::memory_order_acquire)) return std::nullopt;  // (3) pairs with (2)
    if constexpr (Order == pop_order::free_then_read) {
      head_.store(head + 1, std::memory_order_release);  // (4) THE BUG: the slot is freed before it is read
      return slot(head).take();
    } else {
      std::optional<T> v(slot(head).take());
      head_.store(head + 1, std::memory_order_release);  // (4) frees the slot; pairs with (1)
      return v;
    }
  }

  std::size_t capacity() const noexcept { return capacity_; }

 private:
  static std::size_t checked(std::size_t capacity) {
    if (capacity == 0) throw std::invalid_argument("demo::spsc_queue: capacity must be > 0, got 0");
    return capacity;
  }
  lf::cell<T>& slot(std::size_t pos) noexcept { return slots_[pos % capacity_]; }

  const std::size_t capacity_;
  const std::unique_ptr<lf::cell<T>[]> slots_;
  lf::atomic<std::size_t> head_{0};  // next position to pop; written by the consumer
  lf::atomic<std::size_t> tail_{0};  // next position to push; written by the producer
};

}  // namespace demo
