// lf::epoch_domain — epoch-based reclamation.
//
// Keir Fraser, "Practical lock-freedom", PhD thesis, University of Cambridge, 2004
// (Computer Laboratory Technical Report UCAM-CL-TR-579), §5.2.3
// (papers/fraser-2004-epochs.md).
//
// What it is. A lock-free container that unlinks a node cannot delete it at once: another
// thread may have loaded the pointer a moment earlier and be about to read the node.
// With epochs a thread pins the domain for the span of an operation ("I may be reading
// anything"); every node it reaches while pinned stays alive until it unpins. A global
// epoch counts grace periods: it moves from e to e + 1 only when every pinned thread has
// announced e. A node retired (after its unlink) in epoch e is freed once the epoch
// reaches e + 2: by then every thread that was pinned when the node was still reachable
// has unpinned. Threads keep their retired nodes in private limbo lists, one per epoch.
//
// When to pick it. Reading is cheap: one fence per pin, however many nodes the
// operation visits, where a hazard pointer pays a store, a fence and a reload for each
// one (measured single-threaded on the shared 2-core EPYC dev machine, g++ 12 -O2, medians
// of 5 runs: a 16-node list walked under one pin in 10 ns, with two hazard pointers hand
// over hand in 51 ns; a single node costs 3.8 ns pinned, 2.0 ns with a kept hazard
// pointer; papers/fraser-2004-epochs.md). The price is memory: a thread that stalls
// while pinned stops the epoch, and then nothing retired by anyone is freed until it
// moves on — unbounded growth, where hazard pointers keep at most the few objects the
// stalled thread protects (the stalled-reader tests of verification/stress/
// epoch_stress.cpp and hazard_pointer_stress.cpp show both). Pick epochs when operations
// are short and every thread keeps running (no pin across a blocking call); hazard
// pointers (rcu/hazard_pointer.hpp) when threads may stall or memory must stay
// bounded.
//
// Progress. pin and unpin are wait-free: after the seam's thread index, a load, a store
// and a fence (a thread's first pin in a domain also raises a high-water mark with a CAS
// loop that retries only when another thread raised it in between: at most once per
// other thread index). retire is wait-free: a list push, and once per flush_every
// retires a flush of bounded cost: a fence, one scan of the records of the threads that
// ever used the domain, one CAS attempt (no retry), and the deleters of what is old
// enough. Reclamation itself is blocking: it waits for every pinned thread to unpin.
//
//   struct node : lf::epoch_obj_base<node> { ... };
//   {
//     auto g = domain.pin();         // every node read until g ends stays valid
//     node* n = head.load(std::memory_order_acquire);
//     ... after unlinking n:         n->retire(domain);  (pinned or not)
//   }
//
// Beyond the paper:
// - lf::epoch_domain, an explicit domain an instance can own (tests need isolation, and
//   the Relacy model forbids objects that outlive one explored schedule). The default
//   domain, epoch_default_domain(), is one immortal instance (never destroyed, so usable
//   from static destructors and late threads); it does not exist under the model.
// - Pins nest within a thread: only the outermost announces, only its end unpins. A
//   thread may retire while pinned; retire never waits.
// - try_advance() and collect() move the epoch and free on demand (tests, quiescent
//   points); unreclaimed() counts what is retired and not yet freed.
// - Per-thread state is reached through lf::thread_index(). A thread that exits leaves its
//   retired objects in its record; the next thread given the same index frees them at its
//   flushes, and the domain's destructor frees whatever is still retired.
//
// Requirements and misuse. The deleter D is stored in the object until it runs: it must
// be default-constructible, nothrow-movable and must not throw. An object may be read
// only inside a pin of the domain it is retired to, taken before its unlink. A guard
// must end on the thread that made it (it names that thread's record). Caught by
// LF_ASSERT: retiring an object twice (while the first retire is pending); destroying a
// domain while a thread is pinned in it; ending a guard on another thread. Destroying a
// domain that threads still use, or retiring an object that is still reachable, cannot
// be detected.
//
// Ordering argument. (1)-(11) are marked at their lines in rcu/detail/epoch_records.hpp;
// (12), the high-water mark of thread indices, is argued there.
// Reader R pins: (1) loads the epoch, relaxed, value a; (2) stores "pinned at a" into its
//   record, release; (3) a seq_cst fence. Then it loads pointers (acquire, pairing with
//   the container's publishing release) and reads nodes; (4) unpin stores "not pinned",
//   release.
// Advance (any thread): (5) loads the epoch e, relaxed; (6) a seq_cst fence; (7) loads
//   every record, acquire; if none is pinned at an epoch other than e, (8) CAS e -> e + 1,
//   release.
// Retire: the unlink of p (any order) happens before the seal of the retiring thread:
//   (9) a seq_cst fence; (10) p is tagged with the epoch it loads then, r. A flush frees
//   p once its load (11) of the epoch, acquire, finds r + 2 or more (or a later seal's
//   load (10), acquire too, when it reuses p's limbo list).
// Why R never reads a freed p. Let m be the largest epoch loaded, by R at (1) or by any
// advance at (5), before a seq_cst fence that is (3) or precedes it in the total order S
// of seq_cst operations (C++20 [atomics.order] p4).
//   - If (9) precedes (3) in S, R's loads after (3) see the unlink or a later store
//     (p4, coherence-ordered-before between the unlink and R's load), so R never reaches
//     p. Otherwise (3) precedes (9), and p4 says that (10) reads an epoch no older than
//     any of those loads: r >= m.
//   - While R stays pinned the epoch cannot pass m + 1. An advance from g > m loaded g
//     before its fence (6), so (6) follows (3) in S (else g <= m), and then its load (7)
//     of R's record reads the announcement (2) or a later store (p4 again): R, still
//     pinned at a <= m < g, refuses the advance.
//   - So the epoch reaches r + 2 >= m + 2 only after an advance from m + 1, whose fence
//     follows (3) and whose load (7) therefore read R's unpin (4) or a later pin (2) of
//     R's. Both are release stores after R's reads of p, so those reads happen before
//     that advance's CAS (8), which heads a release sequence (every change of the epoch
//     is such a CAS) that the freeing thread's acquire (11) reads from: R's reads happen
//     before the delete.
//   - Without the store-load pairs (3)/(6) and (3)/(9) each side may read stale values
//     past its own store (store buffering, which x86 does too): R reads p while an
//     advance misses R's announcement, or p is tagged with an epoch older than R's
//     announcement. With them, a stale value at (1) is safe to announce, so the pin
//     needs no re-check loop.
// (2) is a release store, not relaxed: an advance that reads R's next announcement rather
// than its unpin must still order R's earlier reads before its CAS, and C++20 release
// sequences no longer run through later plain stores of the same thread. (Relacy models
// the C++11 rule, so no Relacy mutant shows this one; the litmus lane checks it against
// both rules: verification/litmus/release_orders_litmus.cpp, epoch_pin_announcement.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>

#include "rcu/detail/epoch_records.hpp"
#include "sync/config.hpp"

namespace lf {

class epoch_guard;

// A global epoch, per-thread records and limbo lists that belong together: an object
// retired to a domain is protected only by pins of that domain.
class epoch_domain {
 public:
  epoch_domain() = default;
  epoch_domain(const epoch_domain&) = delete;
  epoch_domain& operator=(const epoch_domain&) = delete;

  // Frees every object still retired to the domain. Preconditions: no thread is pinned in
  // it (LF_ASSERT), and every thread that used the domain is done with it.
  ~epoch_domain() = default;

  // Enters the read side until the guard ends. Nestable within a thread.
  [[nodiscard]] epoch_guard pin();

  // One attempt to advance the global epoch; true if it moved (by us or another thread).
  // Fails while a pinned thread has not yet announced the current epoch.
  bool try_advance() noexcept { return records_.try_advance(); }

  // Seals the calling thread's retired objects, tries to advance once, and frees those
  // of its objects that are two epochs old. Returns how many of them stay retired.
  // Unpinned, retire then two collects free an object if no other thread is pinned.
  std::size_t collect() { return records_.collect(); }

  // Objects retired to the domain and not yet freed: exact when no thread runs, a
  // snapshot otherwise.
  [[nodiscard]] std::size_t unreclaimed() const noexcept { return records_.unreclaimed(); }

  // The global epoch now (a snapshot, for tests and diagnostics).
  [[nodiscard]] std::uint64_t epoch() const noexcept { return records_.epoch(); }

 private:
  template <class, class>
  friend class epoch_obj_base;
  friend class epoch_guard;

  detail::epoch_records records_;
};

#if !defined(LF_MODEL_RELACY)
// The domain of the calls that name none. Immortal: allocated on first use and never
// destroyed, so that a static object destroyed at exit, or a thread still running then,
// can still use it. What is retired to it and not yet freed when the process ends is
// left to the operating system (LeakSanitizer sees it reachable, not leaked).
inline epoch_domain& epoch_default_domain() {
  static epoch_domain* const domain = new epoch_domain;
  return *domain;
}
#endif

// A pin of a domain by the thread that made it, or nothing (empty) when default-
// constructed, moved from or unpinned. Move-only; must end on the thread that made it.
class epoch_guard {
 public:
  epoch_guard() noexcept = default;
  epoch_guard(epoch_guard&& other) noexcept
      : records_(std::exchange(other.records_, nullptr)), record_(std::exchange(other.record_, nullptr)) {}
  epoch_guard& operator=(epoch_guard&& other) noexcept {
    if (this != &other) {
      unpin();
      records_ = std::exchange(other.records_, nullptr);
      record_ = std::exchange(other.record_, nullptr);
    }
    return *this;
  }
  epoch_guard(const epoch_guard&) = delete;
  epoch_guard& operator=(const epoch_guard&) = delete;
  ~epoch_guard() { unpin(); }

  [[nodiscard]] bool pinned() const noexcept { return record_ != nullptr; }

  // Ends this guard's pin now (the thread stays pinned if it holds others).
  void unpin() noexcept {
    if (record_ == nullptr) return;
    LF_ASSERT(record_ == &records_->mine() && "lf::epoch_guard ended on another thread than the one that pinned");
    records_->unpin(*std::exchange(record_, nullptr));
    records_ = nullptr;
  }

 private:
  friend class epoch_domain;
  epoch_guard(detail::epoch_records* records, detail::epoch_thread_record* record) noexcept
      : records_(records), record_(record) {}

  detail::epoch_records* records_ = nullptr;
  detail::epoch_thread_record* record_ = nullptr;
};

inline epoch_guard epoch_domain::pin() { return epoch_guard(&records_, &records_.pin()); }

// Base of a class whose objects are reclaimed through epochs (T derives from
// epoch_obj_base<T, D>). The limbo-list header is a private base, so that a retired
// object is reached from its header by a static_cast, without storing its address.
template <class T, class D = std::default_delete<T>>
class epoch_obj_base : private detail::epoch_retired {
  static_assert(std::is_default_constructible_v<D> && std::is_nothrow_move_constructible_v<D> &&
                    std::is_nothrow_move_assignable_v<D>,
                "lf::epoch_obj_base<T, D>: D must be default-constructible and nothrow-movable "
                "(it is stored in the object until it runs)");

 public:
  // Hands the object to `domain`, which deletes it with d(static_cast<T*>(this)) once
  // every thread pinned before now has unpinned. Call it once the object is unreachable
  // for new readers (unlinked); the caller may be pinned.
  void retire(epoch_domain& domain, D d = D()) noexcept {
    static_assert(std::is_base_of_v<epoch_obj_base, T>,
                  "lf::epoch_obj_base<T, D>: T must derive from epoch_obj_base<T, D>");
    LF_ASSERT(epoch_reclaim == nullptr && "lf::epoch_obj_base::retire: object retired twice");
    epoch_deleter_ = std::move(d);
    epoch_reclaim = &reclaim;
    domain.records_.retire(static_cast<detail::epoch_retired*>(this));
  }
#if !defined(LF_MODEL_RELACY)
  void retire(D d = D()) noexcept { retire(epoch_default_domain(), std::move(d)); }
#endif

 protected:
  epoch_obj_base() = default;
  // A copy is a new object, not retired, whatever the state of its source.
  epoch_obj_base(const epoch_obj_base&) noexcept : detail::epoch_retired() {}
  epoch_obj_base(epoch_obj_base&&) noexcept : detail::epoch_retired() {}
  epoch_obj_base& operator=(const epoch_obj_base&) noexcept { return *this; }
  epoch_obj_base& operator=(epoch_obj_base&&) noexcept { return *this; }
  ~epoch_obj_base() = default;

 private:
  static void reclaim(detail::epoch_retired* r) noexcept {
    auto* const base = static_cast<epoch_obj_base*>(r);
    D d = std::move(base->epoch_deleter_);
    d(static_cast<T*>(base));
  }

  [[no_unique_address]] D epoch_deleter_{};
};

}  // namespace lf
