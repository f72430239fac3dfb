// lf::spsc_ring<T> — bounded single-producer single-consumer ring.
//
// Lamport, "Specifying concurrent program modules", TOPLAS 5(2), 1983 (papers/
// lamport-1983-spsc-ring.md), with the cached-index refinement of FastForward
// (Giacomoni, Moseley, Vachharajani, PPoPP 2008; papers/giacomoni-2008-fastforward.md)
// and MCRingBuffer (Lee, Bu, Chandranmenon, ANCS 2009; papers/lee-2009-mcringbuffer.md).
//
// One thread pushes, one thread pops; both are wait-free (a bounded number of their own
// steps, no CAS, no retry). Each side owns one index and keeps a private copy of the
// other side's index, re-reading the shared one only when the copy says "full" (for the
// producer) or "empty" (for the consumer). In steady state an operation touches only its
// own cache line and the slot's, which is what makes this ring fast across cores. The
// bulk calls publish a whole batch with one index store (MCRingBuffer's batching).
//
// Requirements on T: move-constructible without throwing (a popped value is moved out
// of the slot; a throwing move would lose it). Destroying the ring destroys what is left.
// Misuse: a second concurrent producer or consumer is undefined; debug and test builds
// catch an overlap with LF_ASSERT.
//
// Pick it over mpmc_ring whenever exactly one thread produces and one consumes.
//
// Ordering argument. Indices are free-running 64-bit counters (slot = index & mask), so
// full is `tail - head == size` and no slot is wasted.
//   (1) producer's acquire load of head_   pairs with (4): the consumer's moves out of a
//       slot happen before the producer constructs into it again.
//   (2) producer's release store of tail_  pairs with (3): the constructed value is
//       visible before the consumer sees the new tail.
//   (3) consumer's acquire load of tail_   pairs with (2).
//   (4) consumer's release store of head_  pairs with (1).
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

 public:
  using value_type = T;
  static constexpr progress push_progress = progress::wait_free;
  static constexpr progress pop_progress = progress::wait_free;
  static constexpr std::size_t max_producers = 1;
  static constexpr std::size_t max_consumers = 1;

  // Holds at least `capacity` elements (the next power of two). Throws
  // std::invalid_argument for 0, std::length_error when the slots cannot be allocated.
  explicit spsc_ring(std::size_t capacity)
      : mask_(detail::ring_size("lf::spsc_ring", capacity, 1, sizeof(cell<T>)) - 1),
        slots_(std::make_unique<cell<T>[]>(mask_ + 1)) {}

  spsc_ring(const spsc_ring&) = delete;
  spsc_ring& operator=(const spsc_ring&) = delete;

  ~spsc_ring() {
    // relaxed: destruction runs alone; whatever handed the ring over ordered the last calls.
    const std::size_t tail = prod_.tail.load(std::memory_order_relaxed);
    for (std::size_t i = cons_.head.load(std::memory_order_relaxed); i != tail; ++i) slots_[i & mask_].destroy();
  }

  // Producer only.
  bool try_push(const T& v) { return try_emplace(v); }
  bool try_push(T&& v) { return try_emplace(std::move(v)); }

  template <class... A>
  bool try_emplace(A&&... args) {
    detail::single_caller::scope one(prod_.caller);
    const std::size_t tail = prod_.tail.load(std::memory_order_relaxed);  // own index: only we store it
    if (tail - prod_.head_cache > mask_ && !refresh_head(tail, 1)) return false;
    ::new (static_cast<void*>(slots_[tail & mask_].write())) T(std::forward<A>(args)...);
    prod_.tail.store(tail + 1, std::memory_order_release);  // (2) publishes the slot; pairs with (3)
    return true;
  }

  // Producer only. Constructs up to `n` elements from `*first++` and publishes them with
  // one index store. Returns how many were pushed: a prefix, fewer when the ring fills.
  // If a constructor throws, the elements before it are pushed and the exception passes.
  template <class InputIt>
  std::size_t try_push_n(InputIt first, std::size_t n) {
    detail::single_caller::scope one(prod_.caller);
    const std::size_t tail = prod_.tail.load(std::memory_order_relaxed);  // own index
    if (free_slots(tail) < n) refresh_head(tail, n);
    const std::size_t count = std::min(n, free_slots(tail));
    std::size_t done = 0;
    struct publish {  // runs on return and on a throwing constructor alike
      spsc_ring& r;
      std::size_t tail;
      const std::size_t& done;
      ~publish() {
        if (done != 0) r.prod_.tail.store(tail + done, std::memory_order_release);  // (2) for the batch
      }
    } guard{*this, tail, done};
    // Two contiguous runs, to the end of the slots and on from slot 0: unmasked indices
    // let the compiler turn a run of trivially copyable values into block copies.
    const std::size_t start = tail & mask_;
    const std::size_t run = std::min(count, mask_ + 1 - start);
    for (; done < run; ++done, ++first) ::new (static_cast<void*>(slots_[start + done].write())) T(*first);
    for (; done < count; ++done, ++first) ::new (static_cast<void*>(slots_[done - run].write())) T(*first);
    return count;
  }

  // Consumer only.
  std::optional<T> try_pop() {
    detail::single_caller::scope one(cons_.caller);
    const std::size_t head = cons_.head.load(std::memory_order_relaxed);  // own index: only we store it
    if (head == cons_.tail_cache && !refresh_tail(head, 1)) return std::nullopt;
    std::optional<T> v(slots_[head & mask_].take());
    cons_.head.store(head + 1, std::memory_order_release);  // (4) frees the slot; pairs with (1)
    return v;
  }

  // Consumer only. Moves up to `n` elements to `*out++` and frees their slots with one
  // index store. Returns how many were popped.
  template <class OutputIt>
  std::size_t try_pop_n(OutputIt out, std::size_t n) {
    detail::single_caller::scope one(cons_.caller);
    const std::size_t head = cons_.head.load(std::memory_order_relaxed);  // own index
    if (cons_.tail_cache - head < n) refresh_tail(head, n);
    const std::size_t count = std::min(n, cons_.tail_cache - head);
    std::size_t done = 0;
    struct release_slots {
      spsc_ring& r;
      std::size_t head;
      const std::size_t& done;
      ~release_slots() {
        if (done != 0) r.cons_.head.store(head + done, std::memory_order_release);  // (4) for the batch
      }
    } guard{*this, head, done};
    const std::size_t start = head & mask_;
    const std::size_t run = std::min(count, mask_ + 1 - start);
    // `done` counts a slot as emptied before the assignment, which may throw.
    for (; done < run; ++out) *out = slots_[start + done++].take();
    for (; done < count; ++out) *out = slots_[done++ - run].take();
    return count;
  }

  // The number of elements `try_push` accepts into an empty ring (>= the requested one).
  std::size_t capacity() const noexcept { return mask_ + 1; }

  // A snapshot that may be stale by the time it returns; exact when neither side runs.
  std::size_t size_approx() const noexcept {
    // (5) acquire, pairs with (4): the consumer read a tail >= head before storing head,
    // so the tail read below is at least that (read-read coherence): never negative.
    // The model's size_never_negative fails without it (mutant spsc_size_head_relaxed).
    const std::size_t head = cons_.head.load(std::memory_order_acquire);
    const std::size_t tail = prod_.tail.load(std::memory_order_relaxed);  // ordered after head by (5)
    return tail - head;
  }

 private:
  // Producer: free slots by its cached view of the consumer's index.
  std::size_t free_slots(std::size_t tail) const noexcept { return mask_ + 1 - (tail - prod_.head_cache); }
  // Producer: re-reads the consumer's index; true when `want` slots are free.
  bool refresh_head(std::size_t tail, std::size_t want) {
    prod_.head_cache = cons_.head.load(std::memory_order_acquire);  // (1) pairs with (4)
    return free_slots(tail) >= want;
  }
  // Consumer: re-reads the producer's index; true when `want` elements are ready.
  bool refresh_tail(std::size_t head, std::size_t want) {
    cons_.tail_cache = prod_.tail.load(std::memory_order_acquire);  // (3) pairs with (2)
    return cons_.tail_cache - head >= want;
  }

  // Read-only after construction: shared by both sides without traffic.
  const std::size_t mask_;
  const std::unique_ptr<cell<T>[]> slots_;

  // Written by the producer only (the consumer reads `tail`).
  struct alignas(cache_line) producer_side {
    lf::atomic<std::size_t> tail{0};
    std::size_t head_cache = 0;  // the producer's last view of cons_.head
    [[no_unique_address]] detail::single_caller caller;
  } prod_;

  // Written by the consumer only (the producer reads `head`).
  struct alignas(cache_line) consumer_side {
    lf::atomic<std::size_t> head{0};
    std::size_t tail_cache = 0;  // the consumer's last view of prod_.tail
    [[no_unique_address]] detail::single_caller caller;
  } cons_;
};

}  // namespace lf
