// lf benchmarks — one adapter per queue, so every workload drives every queue through
// the same three calls: `explicit Q(std::size_t capacity)`, `bool try_push(item)`,
// `bool try_pop(item&)`, plus `name` (the benchmark-name suffix: no '/') and
// `capacity()`, the number of elements the queue really holds (report.py prints it,
// because not every peer can be sized to exactly 1024).
//
// Each adapter calls the peer's own non-blocking single-element operation, built the
// way its documentation recommends, and does nothing else: no extra state, no extra
// fences. Release builds define NDEBUG, which turns off the peers' debug checks
// (moodycamel's reentrancy flags, atomic_queue's and libcds's asserts) as in production.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

#include <atomic_queue/atomic_queue.h>
#include <boost/lockfree/queue.hpp>
#include <boost/lockfree/spsc_queue.hpp>
#include <cds/container/vyukov_mpmc_cycle_queue.h>
#include <cds/container/weak_ringbuffer.h>
#include <readerwriterqueue/readerwriterqueue.h>
#include <tbb/concurrent_queue.h>
#include <xenium/vyukov_bounded_queue.hpp>

#include "lockfree/mpmc_ring.hpp"
#include "lockfree/scq_ring.hpp"
#include "lockfree/spsc_ring.hpp"

namespace lf_bench {

// The payload. Workloads never push 0: atomic_queue::AtomicQueue uses 0 as its "empty
// slot" marker (NIL) and asserts that it is never pushed.
using item = std::uint64_t;

// A queue sized at compile time cannot take the workload's capacity; say so rather than
// measure a different size silently.
inline void require_fixed_size(const char* queue, std::size_t capacity, std::size_t fixed) {
  if (capacity != fixed) {
    throw std::invalid_argument(std::string(queue) + ": compiled for capacity " + std::to_string(fixed) +
                                ", asked for " + std::to_string(capacity));
  }
}

// ---- lf ----------------------------------------------------------------------------

// lf pops into a std::optional; the workloads pop into a reference.
template <class Q>
bool pop_into(Q& q, item& out) {
  std::optional<item> v = q.try_pop();
  if (v) out = *v;
  return v.has_value();
}

struct lf_spsc_ring {
  static constexpr const char* name = "lf::spsc_ring";
  explicit lf_spsc_ring(std::size_t capacity) : q(capacity) {}
  bool try_push(item v) { return q.try_push(v); }
  bool try_pop(item& out) { return pop_into(q, out); }
  std::size_t try_push_n(const item* first, std::size_t n) { return q.try_push_n(first, n); }
  std::size_t try_pop_n(item* out, std::size_t n) { return q.try_pop_n(out, n); }
  std::size_t capacity() const { return q.capacity(); }
  lf::spsc_ring<item> q;
};

struct lf_mpmc_ring {
  static constexpr const char* name = "lf::mpmc_ring";
  explicit lf_mpmc_ring(std::size_t capacity) : q(capacity) {}
  bool try_push(item v) { return q.try_push(v); }
  bool try_pop(item& out) { return pop_into(q, out); }
  std::size_t capacity() const { return q.capacity(); }
  lf::mpmc_ring<item> q;
};

struct lf_scq_ring {
  static constexpr const char* name = "lf::scq_ring";
  explicit lf_scq_ring(std::size_t capacity) : q(capacity) {}
  bool try_push(item v) { return q.try_push(v); }
  bool try_pop(item& out) { return pop_into(q, out); }
  std::size_t capacity() const { return q.capacity(); }
  lf::scq_ring<item> q;
};

// ---- SPSC peers ----------------------------------------------------------------------

// Runtime-sized ring of capacity+1 slots (one is kept free to tell full from empty).
struct boost_spsc_queue {
  static constexpr const char* name = "boost::lockfree::spsc_queue";
  explicit boost_spsc_queue(std::size_t capacity) : q(capacity), cap(capacity) {}
  bool try_push(item v) { return q.push(v); }
  bool try_pop(item& out) { return q.pop(out); }
  std::size_t try_push_n(const item* first, std::size_t n) { return q.push(first, n); }  // pushes a prefix
  std::size_t try_pop_n(item* out, std::size_t n) { return q.pop(out, n); }
  std::size_t capacity() const { return cap; }  // 1.74 has no accessor; the constructor's count
  boost::lockfree::spsc_queue<item> q;
  std::size_t cap;
};

// ReaderWriterQueue grows by adding blocks; try_enqueue never allocates, which makes it
// bounded. With the default 512-slot blocks a request for 1024 reserves four blocks
// (2044 usable slots); one block of 1024 slots (one kept free) is the closest to 1024
// and avoids block hops, so the queue is sized capacity-1 with 1024-slot blocks.
struct moodycamel_rwq {
  static constexpr const char* name = "moodycamel::ReaderWriterQueue";
  explicit moodycamel_rwq(std::size_t capacity) : q(capacity - 1) {}
  bool try_push(item v) { return q.try_enqueue(v); }
  bool try_pop(item& out) { return q.try_dequeue(out); }
  std::size_t capacity() const { return q.max_capacity(); }
  moodycamel::ReaderWriterQueue<item, 1024> q;
};

// atomic_queue in its SPSC mode (template flag SPSC=true), compile-time size, the
// fastest form the library offers for 8-byte atomics. The runtime-sized AtomicQueueB2
// would round 1024 up to 4096 (its index shuffle needs 64x64 slots).
struct atomic_queue_spsc {
  static constexpr const char* name = "atomic_queue::AtomicQueue<SPSC>";
  static constexpr unsigned size = 1024;
  //                                      T,    SIZE, NIL, MINIMIZE_CONTENTION, MAXIMIZE_THROUGHPUT, TOTAL_ORDER, SPSC
  using queue = atomic_queue::AtomicQueue<item, size, 0, true, true, false, true>;
  explicit atomic_queue_spsc(std::size_t capacity) { require_fixed_size(name, capacity, size); }
  bool try_push(item v) { return q.try_push(v); }
  bool try_pop(item& out) { return q.try_pop(out); }
  std::size_t capacity() const { return q.capacity(); }
  queue q;
};

// WeakRingBuffer needs no garbage collector, so no cds::Initialize or thread attach.
struct cds_weak_ringbuffer {
  static constexpr const char* name = "cds::WeakRingBuffer";
  explicit cds_weak_ringbuffer(std::size_t capacity) : q(capacity) {}
  bool try_push(item v) { return q.enqueue(v); }
  bool try_pop(item& out) { return q.dequeue(out); }
  // libcds' batch calls are all-or-nothing: the whole batch or none of it.
  std::size_t try_push_n(const item* first, std::size_t n) { return q.push(const_cast<item*>(first), n) ? n : 0; }
  std::size_t try_pop_n(item* out, std::size_t n) { return q.pop(out, n) ? n : 0; }
  std::size_t capacity() const { return q.capacity(); }
  cds::container::WeakRingBuffer<item> q;
};

// The yardstick every lock-free SPSC ring must beat: a plain ring under one std::mutex.
// Power-of-two size, so indexing is a mask as in the lock-free rings, not a division.
struct mutex_ring {
  static constexpr const char* name = "baseline::mutex_ring";
  explicit mutex_ring(std::size_t capacity)
      : cap(std::bit_ceil(capacity)), slots(std::make_unique<item[]>(cap)) {}
  bool try_push(item v) {
    std::lock_guard<std::mutex> lock(m);
    if (tail - head == cap) return false;
    slots[tail++ & (cap - 1)] = v;
    return true;
  }
  bool try_pop(item& out) {
    std::lock_guard<std::mutex> lock(m);
    if (tail == head) return false;
    out = slots[head++ & (cap - 1)];
    return true;
  }
  std::size_t capacity() const { return cap; }
  std::mutex m;
  std::size_t cap, head = 0, tail = 0;
  std::unique_ptr<item[]> slots;
};

// ---- bounded MPMC peers ------------------------------------------------------------

// fixed_sized<true>: nodes come from a preallocated array (capacity + 1 with the dummy
// node) addressed by 16-bit indices; bounded_push fails instead of allocating.
struct boost_queue {
  static constexpr const char* name = "boost::lockfree::queue";
  explicit boost_queue(std::size_t capacity) : q(capacity), cap(capacity) {}
  bool try_push(item v) { return q.bounded_push(v); }
  bool try_pop(item& out) { return q.pop(out); }
  std::size_t capacity() const { return cap; }  // no accessor; the constructor's count
  boost::lockfree::queue<item, boost::lockfree::fixed_sized<true>> q;
  std::size_t cap;
};

// Compile-time size, library defaults (MINIMIZE_CONTENTION, MAXIMIZE_THROUGHPUT).
struct atomic_queue_fixed {
  static constexpr const char* name = "atomic_queue::AtomicQueue";
  static constexpr unsigned size = 1024;
  explicit atomic_queue_fixed(std::size_t capacity) { require_fixed_size(name, capacity, size); }
  bool try_push(item v) { return q.try_push(v); }
  bool try_pop(item& out) { return q.try_pop(out); }
  std::size_t capacity() const { return q.capacity(); }
  atomic_queue::AtomicQueue<item, size> q;
};

// Runtime size (rounded up to a power of two, at least 64 for 8-byte elements).
struct atomic_queue_b {
  static constexpr const char* name = "atomic_queue::AtomicQueueB";
  explicit atomic_queue_b(std::size_t capacity) : q(static_cast<unsigned>(capacity)) {}
  bool try_push(item v) { return q.try_push(v); }
  bool try_pop(item& out) { return q.try_pop(out); }
  std::size_t capacity() const { return q.capacity(); }
  atomic_queue::AtomicQueueB<item> q;
};

struct tbb_bounded_queue {
  static constexpr const char* name = "tbb::concurrent_bounded_queue";
  explicit tbb_bounded_queue(std::size_t capacity) { q.set_capacity(static_cast<std::ptrdiff_t>(capacity)); }
  bool try_push(item v) { return q.try_push(v); }
  bool try_pop(item& out) { return q.try_pop(out); }
  std::size_t capacity() const { return static_cast<std::size_t>(q.capacity()); }
  tbb::concurrent_bounded_queue<item> q;
};

// The library's default operations (not the *_weak ones): try_pop keeps retrying while
// an earlier push is still in flight, where lf::mpmc_ring reports empty.
struct xenium_vyukov_queue {
  static constexpr const char* name = "xenium::vyukov_bounded_queue";
  explicit xenium_vyukov_queue(std::size_t capacity) : q(capacity), cap(capacity) {}
  bool try_push(item v) { return q.try_push(v); }
  bool try_pop(item& out) { return q.try_pop(out); }
  std::size_t capacity() const { return cap; }  // no accessor; a power of two is taken as is
  xenium::vyukov_bounded_queue<item> q;
  std::size_t cap;
};

// Needs no garbage collector, so no cds::Initialize or thread attach.
struct cds_vyukov_queue {
  static constexpr const char* name = "cds::VyukovMPMCCycleQueue";
  explicit cds_vyukov_queue(std::size_t capacity) : q(capacity) {}
  bool try_push(item v) { return q.enqueue(v); }
  bool try_pop(item& out) { return q.dequeue(out); }
  std::size_t capacity() const { return q.capacity(); }
  cds::container::VyukovMPMCCycleQueue<item> q;
};

struct mutex_deque {
  static constexpr const char* name = "baseline::mutex_deque";
  explicit mutex_deque(std::size_t capacity) : cap(capacity) {}
  bool try_push(item v) {
    std::lock_guard<std::mutex> lock(m);
    if (q.size() == cap) return false;
    q.push_back(v);
    return true;
  }
  bool try_pop(item& out) {
    std::lock_guard<std::mutex> lock(m);
    if (q.empty()) return false;
    out = q.front();
    q.pop_front();
    return true;
  }
  std::size_t capacity() const { return cap; }
  std::mutex m;
  std::deque<item> q;
  std::size_t cap;
};

}  // namespace lf_bench
