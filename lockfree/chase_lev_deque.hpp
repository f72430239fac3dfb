// lf::chase_lev_deque<T> — growable work-stealing deque: one owner, any number of thieves.
//
// Chase & Lev, "Dynamic circular work-stealing deque", SPAA 2005 (papers/
// chase-2005-work-stealing-deque.md), in the C11 formulation of Lê, Pop, Cohen & Zappa
// Nardelli, "Correct and efficient work-stealing for weak memory models", PPoPP 2013,
// Fig. 1 (papers/le-2013-correct-efficient-work-stealing.md).
//
// A worker's task queue. The owner pushes and pops at the bottom, last in first out (the
// task it made last is the one whose data is still in its cache); thieves steal at the
// top, the oldest task first. Two indices, top and bottom, run over a circular array.
// Owner and thieves meet only over the last element, which one CAS on top settles.
//
// Progress. push: wait-free, except when the array is full and push grows it (an
// allocation and a copy of the live elements; the allocator's own guarantee applies).
// pop: wait-free. steal: one attempt is a bounded number of steps and answers success,
// empty, or lost_race (the paper's ABORT: another thread's CAS on top won, so the system
// progressed); try_steal retries lost races and is lock-free.
//
// One owner: push and pop belong to one thread at a time (ownership may move between
// threads through any hand-over that synchronizes, such as a join). Two threads in owner
// calls at once is undefined; debug and test builds catch the overlap with LF_ASSERT.
// Any number of threads may steal, size_approx, empty and capacity concurrently.
//
// Requirements on T: trivially copyable, default-constructible, and lf::atomic<T>
// lock-free — in practice a pointer or an integer, a task pointer being the intended use.
// The reason: a slot is an lf::atomic<T> read and written relaxed, as in the paper,
// because a thief may read a slot while the owner overwrites it (the thief's CAS then
// fails and it discards what it read); only an atomic makes that read defined, and only
// a lock-free one keeps the deque non-blocking. Put anything bigger behind a pointer.
// The deque holds values, not ownership: destroying it frees its arrays, nothing else.
//
// Memory. Growth doubles the array and never frees the old one while the deque lives: a
// thief that loaded the array pointer before the growth may still read from it. Old
// arrays stay on a list only the owner touches (each array keeps the one it replaced)
// and are freed by the destructor. Sizes double, so the arrays kept add up to less than
// the current one: all arrays together take at most twice the largest. The deque never
// shrinks. (Safe reclamation of old arrays, by hazard pointers or epochs, comes with
// lf's rcu/ layer.)
//
// Pick it for per-worker task queues (lf::worker_pool); for a FIFO between threads pick
// spsc_ring or mpmc_ring.
//
// Ordering argument. top and bottom are signed 64-bit positions (slot = position & mask):
// the figure's size_t makes pop on a never-pushed deque compute bottom - 1 = SIZE_MAX and
// take a slot that was never written; with signed positions it is -1 < top, empty.
// Numbers mark each order weaker than seq_cst and its partner; [F1] and [F2] are the
// paper's two seq_cst fences.
//   (1) push's acquire load of top  pairs with the CAS (7) of the thief that took a
//       position: that thief read the slot before its CAS, so its read happens before
//       the owner writes the same slot for a position one lap later (read-write
//       coherence: the thief cannot read the newer value). The model lane cannot show
//       this one: Relacy never lets a load read a store that comes later in its
//       schedule, so weakening (1), or (7) to relaxed, survives there. The litmus lane
//       carries it (verification/litmus/release_orders_litmus.cpp, chase_lev_steal_cas):
//       with (7) relaxed, C++20 lets the thief read the owner's next-lap value (load
//       buffering, as ARM and POWER may, or a compiler sinking the read below the CAS).
//   (2) push's release fence, then a relaxed store of bottom  pairs with (5): the slot
//       write (and a growth's copies) happen before a thief that reads this bottom, or
//       any later one, reads the slots below it. A fence, not a release store, because
//       pop later stores bottom relaxed and a thief may read that store instead; since
//       C++20 a release store's release sequence no longer takes in later plain stores
//       by the same thread, but a fence sequenced before those stores covers them too.
//       (Relacy applies the older C++11 rule, so the model cannot tell the two apart.)
//   (3) grow's release store of the array pointer  pairs with (6): a thief that reads
//       the new array also reads the copies in it, even when the bottom it read is
//       older than the growth (then (2)/(5) does not cover the copies).
//   (4) steal's relaxed load of top  is followed by [F2], which is also an acquire
//       fence, so this load synchronizes as an acquire load would (the paper writes
//       acquire). Nothing else is published through top: the CASes on it only decide
//       who takes a position.
//   (5) steal's acquire load of bottom  pairs with (2). It also orders the array load
//       (6) after it: a bottom pushed after a growth carries, through (2), the new array
//       pointer, so a thief reading such a bottom reads the new array or a newer one.
//   (6) steal's acquire load of the array pointer  pairs with (3) (the paper writes
//       consume, which compilers implement as acquire).
//   (7) steal's CAS on top is seq_cst as in the paper; what it needs is its release
//       half, for (1). A failed CAS is relaxed: the thief returns lost_race and uses
//       nothing it read. On x86-64 a locked CAS costs the same at any order.
//   (8) capacity()'s acquire load of the array pointer  pairs with (3): another thread
//       reads the header of a new array only after it was written.
//   (9) pop's CAS on the last element, relaxed (the paper writes seq_cst). It only
//       arbitrates position b between the owner and a thief's (7): one of the two fails,
//       by the atomicity of read-modify-writes, at any order. It publishes nothing: the
//       value the owner keeps was written by the owner. It acquires nothing: a thief's
//       read of slot b happens before the owner's next write of that slot through (1)
//       and (7), and when (1) reads the value of this CAS, the CAS, being a
//       read-modify-write, continues the release sequence that every earlier (7) heads
//       (C++20 keeps read-modify-writes in release sequences; litmus chase_lev_pop_cas).
//       [F1] and [F2] concern which values top's loads return, not this CAS's order. It
//       buys nothing on x86-64 (the same lock cmpxchg); on AArch64 it drops the CAS's
//       acquire and release halves (CASAL becomes CAS).
//   The remaining relaxed accesses: the owner's loads of bottom and of the array pointer
//   (only the owner stores them); the slot accesses (ordered by (1), (2)/(5), (3)/(6));
//   pop's stores of bottom (they publish no slot; the thief that reads them is covered
//   by (2)'s fence) and its load of top (ordered by [F1]).
// The fences. pop stores bottom = b, then loads top; steal loads top, then bottom.
// Acquire and release cannot order a store before a later load of another variable
// (Dekker's pattern), so without the fences each side could miss the other: the owner
// reads an old top < b and takes position b without a CAS, while a thief reads top = b
// and the old bottom b + 1 and takes position b with its CAS. [F1] and [F2] are seq_cst
// fences, so one precedes the other in the single total order, and [atomics.order]/4
// rules out both cases: if [F1] precedes [F2], the thief's bottom load (after [F2])
// cannot read a value older than the owner's store (before [F1]); if [F2] precedes
// [F1], the owner's top load (after [F1]) cannot read a value older than the one the
// thief's top load (before [F2]) read. So either the owner sees top >= b and takes
// position b only by CAS, or the thief sees bottom = b and reports empty.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <type_traits>

#include "lockfree/detail/concepts.hpp"
#include "lockfree/detail/ring_common.hpp"
#include "sync/atomic.hpp"
#include "sync/cell.hpp"
#include "sync/config.hpp"
#include "sync/thread.hpp"

namespace lf {

// What one steal attempt found. lost_race: another thread took the top element first
// (the deque may still hold more; trying again is worthwhile).
enum class steal_status { success, empty, lost_race };

template <class T>
struct [[nodiscard]] stolen {
  steal_status status;
  T value;  // the stolen element when status == success; T{} otherwise
  explicit operator bool() const noexcept { return status == steal_status::success; }
};

template <class T>
class chase_lev_deque {
  static_assert(std::is_trivially_copyable_v<T>,
                "lf::chase_lev_deque<T>: T must be trivially copyable (slots are lf::atomic<T>, read by thieves "
                "while the owner may overwrite them); store larger tasks behind a pointer");
  static_assert(std::is_default_constructible_v<T>,
                "lf::chase_lev_deque<T>: T must be default-constructible (an unused slot holds T{})");
  static_assert(lf::atomic<T>::is_always_lock_free,
                "lf::chase_lev_deque<T>: lf::atomic<T> must be lock-free; store larger tasks behind a pointer");

  using index = std::int64_t;

  // One allocation: this header, then the slots. Its shape never changes after create().
  // Aligned for the slots that follow it, and never less than its own members need.
  struct alignas(lf::atomic<T>) alignas(cell<std::size_t>) alignas(void*) array {
    cell<std::size_t> mask;  // read by thieves after (6); a cell, so the model sees it unordered
    array* replaced;         // the array this one replaced; only the owner and the destructor use it

    static array* create(std::size_t size, array* replaced) {
      void* raw = ::operator new(sizeof(array) + size * sizeof(lf::atomic<T>));
      array* a = ::new (raw) array;
      ::new (static_cast<void*>(a->mask.write())) std::size_t(size - 1);
      a->replaced = replaced;
      ::new (static_cast<void*>(a + 1)) lf::atomic<T>[size]();
      return a;
    }
    // Frees `a` and every array it replaced.
    static void destroy_all(array* a) noexcept {
      while (a != nullptr) {
        array* older = a->replaced;
        std::destroy_n(a->slots(), a->size());
        a->~array();
        ::operator delete(static_cast<void*>(a));
        a = older;
      }
    }
    // `s` carries the caller's line to the model, so a verdict names steal() or push().
    std::size_t size(site s = {}) const noexcept { return *mask.read(s) + 1; }
    lf::atomic<T>& at(index pos, site s = {}) noexcept {
      return slots()[static_cast<std::size_t>(pos) & *mask.read(s)];
    }
    lf::atomic<T>* slots() noexcept { return std::launder(reinterpret_cast<lf::atomic<T>*>(this + 1)); }
  };

 public:
  using value_type = T;
  static constexpr progress push_progress = progress::wait_free;  // growing allocates: see above
  static constexpr progress pop_progress = progress::wait_free;
  static constexpr progress steal_progress = progress::lock_free;  // try_steal; one steal() is bounded
  static constexpr std::size_t max_owners = 1;
  static constexpr std::size_t max_thieves = any_number;

  // Starts with room for `initial_capacity` elements (the next power of two) and grows
  // by doubling. Throws std::invalid_argument for 0, std::length_error for a size whose
  // slots would not fit in the address space.
  explicit chase_lev_deque(std::size_t initial_capacity = 64) {
    const std::size_t size =
        detail::ring_size("lf::chase_lev_deque", initial_capacity, 1, sizeof(lf::atomic<T>));
    // relaxed: the deque reaches thieves through whatever hands them its address (a thread
    // start, a release store), and that hand-over orders this store before their loads.
    own_.current.store(array::create(size, nullptr), std::memory_order_relaxed);
  }

  chase_lev_deque(const chase_lev_deque&) = delete;
  chase_lev_deque& operator=(const chase_lev_deque&) = delete;

  ~chase_lev_deque() { array::destroy_all(own_.current.load(std::memory_order_relaxed)); }

  // Owner only. Grows the array when it is full; if that allocation throws, the deque is
  // unchanged and the exception passes.
  void push(T v) {
    detail::single_caller::scope one(own_.caller);
    const index b = own_.bottom.load(std::memory_order_relaxed);
    const index t = top_.value.load(std::memory_order_acquire);  // (1) pairs with (7)
    array* a = own_.current.load(std::memory_order_relaxed);
    if (b - t > static_cast<index>(a->size()) - 1) a = grow(a, t, b);
    a->at(b).store(v, std::memory_order_relaxed);
    lf::fence(std::memory_order_release);                   // (2) publishes the slot; pairs with (5)
    own_.bottom.store(b + 1, std::memory_order_relaxed);  // (2) the store the fence releases
  }

  // Owner only. The element pushed last, or nothing when the deque is empty (or a thief
  // took the last element first).
  [[nodiscard]] std::optional<T> pop() {
    detail::single_caller::scope one(own_.caller);
    const index b = own_.bottom.load(std::memory_order_relaxed) - 1;
    array* a = own_.current.load(std::memory_order_relaxed);
    own_.bottom.store(b, std::memory_order_relaxed);  // claims position b; [F1] orders it before the top load
    lf::fence(std::memory_order_seq_cst);             // [F1] pairs with [F2]
    index t = top_.value.load(std::memory_order_relaxed);
    if (t > b) {
      own_.bottom.store(b + 1, std::memory_order_relaxed);  // empty: give the claim back
      return std::nullopt;
    }
    const T v = a->at(b).load(std::memory_order_relaxed);
    if (t == b) {
      // The last element: a thief may be taking it too, and the CAS on top decides.
      // (9) relaxed: arbitrates only; see the header.
      const bool won = top_.value.compare_exchange_strong(t, t + 1, std::memory_order_relaxed,
                                                          std::memory_order_relaxed);
      own_.bottom.store(b + 1, std::memory_order_relaxed);  // top is b + 1 either way: empty
      if (!won) return std::nullopt;
    }
    return v;
  }

  // Any thread. One attempt at the oldest element.
  stolen<T> steal() {
    index t = top_.value.load(std::memory_order_relaxed);  // (4) made acquire by [F2]
    lf::fence(std::memory_order_seq_cst);                  // [F2] pairs with [F1]
    const index b = own_.bottom.load(std::memory_order_acquire);  // (5) pairs with (2)
    if (t >= b) return {steal_status::empty, T{}};
    array* a = own_.current.load(std::memory_order_acquire);  // (6) pairs with (3)
    // The owner may be overwriting this slot for a later lap; then top has moved past t
    // and the CAS below fails, discarding what was read.
    const T v = a->at(t).load(std::memory_order_relaxed);
    if (!top_.value.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                            std::memory_order_relaxed)) {  // (7)
      return {steal_status::lost_race, T{}};
    }
    return {steal_status::success, v};
  }

  // Any thread. Steals until it takes an element or finds the deque empty; each retry
  // follows another thread's successful take.
  [[nodiscard]] std::optional<T> try_steal() {
    backoff retry;
    for (;;) {
      const stolen<T> s = steal();
      if (s.status == steal_status::success) return s.value;
      if (s.status == steal_status::empty) return std::nullopt;
      retry.pause();
    }
  }

  // Racy snapshots: exact when no call runs; during a pop they may count one element
  // fewer than the deque holds.
  std::size_t size_approx() const noexcept {
    const index b = own_.bottom.load(std::memory_order_relaxed);
    const index t = top_.value.load(std::memory_order_relaxed);
    return b > t ? static_cast<std::size_t>(b - t) : 0;
  }
  bool empty() const noexcept { return size_approx() == 0; }

  // Slots in the current array: how many elements fit before the next growth. Exact for
  // the owner; another thread may see the size before the latest growth.
  std::size_t capacity() const noexcept {
    return own_.current.load(std::memory_order_acquire)->size();  // (8) acquire: reads the header (3) published
  }

 private:
  // Owner: a twice larger array holding positions [t, b), published by (3). The old one
  // goes on the owner's list (bigger->replaced), not back to the allocator.
  array* grow(array* a, index t, index b) {
    const std::size_t size = detail::ring_size("lf::chase_lev_deque", 2 * a->size(), 1, sizeof(lf::atomic<T>));
    array* bigger = array::create(size, a);
    for (index pos = t; pos != b; ++pos) {
      bigger->at(pos).store(a->at(pos).load(std::memory_order_relaxed), std::memory_order_relaxed);
    }
    own_.current.store(bigger, std::memory_order_release);  // (3) publishes the copies; pairs with (6)
    return bigger;
  }

  // Written by thieves (and by pop's CAS on the last element).
  padded<lf::atomic<index>> top_{};

  // Written by the owner only; thieves read bottom and current together.
  struct alignas(cache_line) owner_side {
    lf::atomic<index> bottom{0};
    lf::atomic<array*> current{nullptr};
    [[no_unique_address]] detail::single_caller caller;
  } own_;
};

}  // namespace lf
