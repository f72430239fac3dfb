// lf::rcu_domain — read-copy update with per-thread reader records (the "memb" flavour).
//
// Mathieu Desnoyers, Paul E. McKenney, Alan S. Stern, Michel R. Dagenais, Jonathan
// Walpole, "User-Level Implementations of Read-Copy Update", IEEE TPDS 23(2), 2012
// (papers/desnoyers-2012-user-level-rcu.md), in the shape of C++26 <rcu> (P2545).
//
// What it is. Readers bracket their accesses to shared objects with a read-side critical
// section (`std::scoped_lock lk(domain);`) and load pointers inside it. A writer that
// unlinks an object does not delete it at once: it retires it, and the domain deletes it
// after a grace period, a span of time at whose end every critical section that was
// running at its start has ended. A reader can have reached the unlinked object only in
// a section that began before the unlink, so after a grace period nobody holds it.
//
//   struct config : lf::rcu_obj_base<config> { ... };
//   lf::atomic<config*> current;
//   reader:  std::scoped_lock lk(domain);
//            const config* c = current.load(std::memory_order_acquire);  // valid until lk ends
//   writer:  config* old = current.exchange(fresh, std::memory_order_acq_rel);
//            old->retire({}, domain);   // or: lf::rcu_synchronize(domain); delete old;
//
// Flavour: the paper's memory-barrier ("general-purpose") RCU, with the reader's barrier
// moved to the writer by membarrier(2), as in liburcu's urcu-memb. Each thread
// has a padded reader record in the domain, reached through lf::thread_index(). The
// outermost lock copies the domain's grace-period counter into the record; the
// outermost unlock stores 0 there; nested sections only count in a field of the record
// that no other thread reads. A grace period advances the counter to a new value t and
// waits until every record reads 0 or a snapshot >= t. The reader's store-load ordering
// (its record store before its loads of shared pointers) comes from an asymmetric fence
// (sync/asymmetric_fence.hpp): a compiler barrier on the read side, answered by one
// membarrier(2) per grace period. So the read side is a load, a store and a compiler
// barrier to enter, one store to leave, as in urcu-memb.
//
// When to pick it. Reads that vastly outnumber updates, and readers that never block
// for long inside a section: an RCU read side costs almost nothing (no fence, no
// read-modify-write, no write to a shared line), where a hazard pointer pays a store, a
// full fence and a reload for every object it protects and an epoch pin a full fence per
// operation. The price is memory: a reader that stalls inside its section holds back
// every object retired after it began (hazard pointers would hold back only the objects
// it protects), and rcu_synchronize waits for the slowest reader. Pick hazard pointers
// when threads may stall or memory must stay bounded; epochs (rcu/epoch.hpp) when every
// operation of a lock-free container needs protection and a fence per operation is
// acceptable; RCU for read-mostly data (configurations, routing tables, lookup indices).
//
// Progress.
//   lock / try_lock / unlock   wait-free: a few of the caller's own steps (a thread's
//                              first lock in a domain also raises the domain's enrolment
//                              mark, a CAS loop bounded by the number of threads).
//   retire / rcu_retire        lock-free: a CAS push onto the pending list. Every
//                              collect_every-th retire also tries to reclaim, without
//                              waiting: it frees the last sealed batch if a check of the
//                              reader records shows its grace period over, and starts a
//                              grace period for what is pending (one heavy fence). It
//                              never waits for a reader, so retiring from inside a
//                              critical section, or from a lock-free container's pop, is
//                              safe. rcu_retire may allocate (and throw std::bad_alloc).
//   rcu_synchronize            blocking: waits for every critical section that began
//                              before it. It also reclaims what was retired before it, if
//                              no other thread is reclaiming at the time.
//   rcu_barrier                blocking: returns once every object whose retire happened
//                              before the call has been deleted (it waits for a grace
//                              period and for any reclamation under way in another thread).
//   unreclaimed                wait-free.
//
// Beyond P2545:
// - lf::rcu_domain is a class an instance can own (tests need isolation; the Relacy model
//   forbids objects that outlive one explored schedule). rcu_default_domain() is one
//   immortal instance (never destroyed, so usable from static destructors); it and every default domain argument are absent under
//   the model, where each test owns its domain.
// - rcu_domain::unreclaimed(): objects retired to the domain and not yet deleted (exact
//   when no thread is retiring or reclaiming).
// - rcu_synchronize also reclaims; P2545 allows it ("may evaluate scheduled evaluations").
//
// Requirements and misuse. A deleter must not throw, and must not call rcu_barrier or
// rcu_synchronize on its own domain (it runs while that domain's reclamation is held,
// possibly inside a reader's retire). A critical section must end in the thread that
// began it, and a thread must not exit or block indefinitely inside one (every grace
// period would wait for it). Objects must be retired once, after they are unlinked, and
// never relinked. Caught by LF_ASSERT: unlock without a matching lock; rcu_synchronize or
// rcu_barrier from inside a critical section of the same domain (it would wait for
// itself); retiring an rcu_obj_base twice while the first retire is pending; destroying a
// domain while a reader is inside a critical section of it. Calling rcu_synchronize on one
// domain from inside a section of another can deadlock against a thread that does the
// converse; it is not detected.
//
// Ordering argument. A reader R:
//   (1) loads the counter, relaxed;  (2) stores the snapshot s into its record, release;
//   (3) light fence;  ... loads the shared pointer and reads the object ...
//   (4) stores 0 into its record, release.
// A grace period, run for objects that were unlinked (by any thread) before it:
//   (5) acquires the retired objects (the pending list's exchange, or the collector flag);
//   (6) heavy fence;  (7) advances the counter to t, relaxed;  (8) loads the enrolment
//   mark, relaxed;  (9) loads each record, acquire, until it reads 0 or a value >= t;
//   then deletes the objects.
// Claim: if R's section reads an object p unlinked before (6), that read happens before
// p's delete. Under the model both fences are seq_cst; by sync/asymmetric_fence.hpp so is
// every outcome in production, since the argument pairs the light fence (3) only with the
// heavy fence (6). Consider (3) and (6) in the total order S of seq_cst fences:
// - (6) before (3). The unlink happens before (6), R's load of the pointer comes after
//   (3): the load sees the unlink or a later store (C++20 [atomics.order] p4.4), so R does
//   not find p there.
// - (3) before (6). By the same rule, the loads (8) and (9) after (6) see R's enrolment and
//   its store (2), or later stores of R's record. (2) holds s. If s >= t, R's load (1)
//   read the value written by (7) or by a later advance; every advance is a fetch_add, so
//   that value is in the release sequence that (7) would head, and the fence (6) before
//   (7) synchronizes with the fence (3) after (1) ([atomics.fences] p4): the unlink
//   happens before R's load of the pointer, and R does not find p. So s < t: the grace
//   period does not accept (2) and waits, until a load (9) reads a later store of R's
//   record — (4), ending this section, or (2) of a later one. Both are release stores
//   sequenced after R's reads of p, and (9) is an acquire load: R's reads happen before
//   (9), which happens before the delete.
// A reader whose snapshot is >= t began after the advance and is not waited for, so a
// grace period ends even while new readers keep arriving.
// (10) The retire push, release, pairs with (5): the unlink, sequenced before the retire,
// happens before (6). (11)/(12) The collector flag's acquire and release hand a sealed
// batch, and the heavy fence sealed with it, from one collecting thread to the next, so
// that fence happens before the later check (9) of the batch's grace period.
//
// Why one advance. urcu flips a one-bit phase twice per grace period: its phase shares a
// word with the nesting count, so one store enters a section, and one bit cannot tell a
// snapshot taken a period ago from one taken now. Here the nesting count lives beside the
// record's word (only its owner reads it) and the counter has 64 bits: a stale snapshot
// reads as stale (< t) unless 2^64 grace periods pass between a reader's (1) and (2).
// The >= comparison lets grace periods run concurrently, each with its own t.
//
// ThreadSanitizer sees neither fences nor membarrier. It does not need them: the fences
// decide only which values the loads return; every happens-before edge that orders
// plain memory (a reader's reads before the delete; a retirer's writes before the
// deleter) runs through release/acquire pairs, (2)/(4) with (9) and (10) with (5), which
// TSan follows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include "rcu/detail/rcu_retired.hpp"
#include "sync/asymmetric_fence.hpp"
#include "sync/atomic.hpp"
#include "sync/cell.hpp"
#include "sync/config.hpp"
#include "sync/thread.hpp"
#include "sync/thread_table.hpp"

namespace lf {

class rcu_domain;
namespace detail {
// The retire entry of the domain, for rcu_obj_base and rcu_retire only.
struct rcu_domain_access {
  static void retire(rcu_domain& domain, rcu_retired* obj) noexcept;
};
}  // namespace detail
void rcu_synchronize(rcu_domain& domain) noexcept;
void rcu_barrier(rcu_domain& domain) noexcept;

// Readers and retired objects that belong together. Lockable: lock and unlock bracket a
// read-side critical section (nestable, per thread); try_lock always succeeds.
class rcu_domain {
 public:
  rcu_domain() = default;
  rcu_domain(const rcu_domain&) = delete;
  rcu_domain& operator=(const rcu_domain&) = delete;

  // Deletes every object still retired to the domain. Preconditions: no thread is inside
  // a critical section of it (LF_ASSERT), and every thread that used it is done with it.
  ~rcu_domain() {
#if LF_ASSERTS_ON
    records_.for_each(readers_.value.enrolled.load(std::memory_order_relaxed), [](const detail::rcu_reader_record& r) {
      LF_ASSERT(r.period.load(std::memory_order_relaxed) == 0 &&
                "lf::rcu_domain destroyed while a reader is inside a critical section of it");
    });
#endif
    // A deleter may retire further objects (a node that owns nodes): repeat until quiet.
    for (;;) {
      detail::rcu_retired* const sealed = std::exchange(*collector_.value.sealed.write(), nullptr);
      detail::rcu_retired* const pending = retired_.value.pending.exchange(nullptr, std::memory_order_relaxed);
      if (sealed == nullptr && pending == nullptr) break;
      detail::reclaim_list(sealed);
      detail::reclaim_list(pending);
    }
  }

  // Enters a read-side critical section (or a nested one). Wait-free.
  void lock() noexcept {
    const std::size_t i = lf::thread_index();
    detail::rcu_reader_record& r = records_.at(i);
    const unsigned depth = r.nesting;
    if (depth != 0) [[unlikely]] {
      if (depth != detail::rcu_reader_record::never_entered) {
        r.nesting = depth + 1;  // nested: the outermost section already covers it
        return;
      }
      enrol(i);  // the first section ever on this record
    }
    r.nesting = 1;
    // (1) relaxed: which value is read is decided by the pair (3)/(6); see the header.
    const std::uint64_t now = readers_.value.period.load(std::memory_order_relaxed);
    // (2) release: pairs with (9); everything this thread did before, in earlier sections
    // included, happens before a grace period that reads this store. C++20 needs it: the
    // release sequence of the last unlock (4) ends at this plain store. The model cannot
    // tell (Relacy's C++11 release sequences run on through it); the litmus lane carries
    // it (verification/litmus/release_orders_litmus.cpp, rcu_read_side_announcement).
    r.period.store(now, std::memory_order_release);
    // (3) the store-load fence of the read side: (2) before the section's loads. Pairs
    // with the heavy fence (6) of every grace period.
    lf::asymmetric_fence_light();
  }

  // Always enters, as lock() does; for the Lockable requirements (std::lock).
  bool try_lock() noexcept {
    lock();
    return true;
  }

  // Leaves the innermost critical section. Wait-free.
  void unlock() noexcept {
    detail::rcu_reader_record& r = records_.at(lf::thread_index());
    LF_ASSERT(r.nesting != 0 && r.nesting != detail::rcu_reader_record::never_entered &&
              "lf::rcu_domain::unlock without a matching lock");
    if (--r.nesting != 0) return;
    // (4) release: pairs with (9); the section's reads happen before the delete of any
    // object a grace period that reads this store was waiting for.
    r.period.store(0, std::memory_order_release);
  }

  // Objects retired to the domain and not yet deleted: exact when no thread is retiring
  // or reclaiming, a recent value otherwise.
  [[nodiscard]] std::size_t unreclaimed() const noexcept {
    // relaxed: a statistic; it orders nothing.
    return retired_.value.unreclaimed.load(std::memory_order_relaxed);
  }

 private:
  friend struct detail::rcu_domain_access;
  friend void rcu_synchronize(rcu_domain& domain) noexcept;
  friend void rcu_barrier(rcu_domain& domain) noexcept;

  // Raises the enrolment mark to cover record i, so that grace periods read it.
  void enrol(std::size_t i) noexcept {
    std::size_t mark = readers_.value.enrolled.load(std::memory_order_relaxed);
    // (13) relaxed: sequenced before this section's fence (3), so a grace period whose
    // fence (6) comes after (3) sees it at (8), by the argument of the header.
    while (mark <= i &&
           !readers_.value.enrolled.compare_exchange_weak(mark, i + 1, std::memory_order_relaxed,
                                                          std::memory_order_relaxed)) {
    }
  }

  bool inside_section() const noexcept {
    const detail::rcu_reader_record* r = records_.find(lf::thread_index());
    const unsigned depth = r != nullptr ? r->nesting : detail::rcu_reader_record::never_entered;
    return depth != 0 && depth != detail::rcu_reader_record::never_entered;
  }

  // ---- retire ---------------------------------------------------------------------

  void retire(detail::rcu_retired* obj) noexcept {
    // relaxed: a statistic. Counted before the push, which (10) orders before the
    // collector's decrement, so the count never goes below zero.
    retired_.value.unreclaimed.fetch_add(1, std::memory_order_relaxed);
    detail::rcu_retired* head = retired_.value.pending.load(std::memory_order_relaxed);
    do {
      obj->rcu_retired_next = head;
      // (10) release: the unlink, sequenced before the retire, and the header happen
      // before the collector that acquires the list at (5).
    } while (!retired_.value.pending.compare_exchange_weak(head, obj, std::memory_order_release,
                                                             std::memory_order_relaxed));
    // relaxed: a trigger; it decides when to try, never what is safe to free.
    const std::size_t ticket = retired_.value.retires.fetch_add(1, std::memory_order_relaxed) + 1;
    if (ticket % detail::rcu_tuning::collect_every == 0 && try_lock_collector()) {
      collect_without_waiting();
      unlock_collector();
    }
  }

  // ---- grace periods ----------------------------------------------------------------

  // Starts a grace period for everything unlinked before the call; returns its target.
  std::uint64_t start_grace_period() noexcept {
    // (6) the heavy fence: pairs with every reader's (3); see the header.
    lf::asymmetric_fence_heavy();
    // (7) relaxed: ordered after the unlinks by (6), which a reader that reads this value
    // or a later one synchronizes with at (3) (every advance is a read-modify-write, so
    // the later values are in the release sequence this advance would head).
    return readers_.value.period.fetch_add(1, std::memory_order_relaxed) + 1;
  }

  // True once record r shows no section that began before the advance to `target`.
  static bool reader_passed(const detail::rcu_reader_record& r, std::uint64_t target) noexcept {
    // (9) acquire: pairs with the reader's release stores (2) and (4).
    const std::uint64_t seen = r.period.load(std::memory_order_acquire);
    return seen == 0 || seen >= target;
  }

  // Has the grace period for `target` ended? A check that never waits. Precondition: the
  // fence (6) of its start happens before the call.
  bool grace_period_over(std::uint64_t target) const noexcept {
    // (8) relaxed: see (13).
    const std::size_t n = readers_.value.enrolled.load(std::memory_order_relaxed);
    return records_.for_each(n, [target](const detail::rcu_reader_record& r) { return reader_passed(r, target); });
  }

  // Waits until the grace period for `target` has ended. Blocking: spins briefly, then
  // sleeps with a doubling period (lf::idle_backoff), so a long read-side section costs
  // its waiter almost no CPU and adds at most about one sleep period to the wait.
  void wait_for_grace_period(std::uint64_t target) const noexcept {
    // (8) relaxed: see (13).
    const std::size_t n = readers_.value.enrolled.load(std::memory_order_relaxed);
    records_.for_each(n, [target](const detail::rcu_reader_record& r) {
      lf::idle_backoff wait;
      while (!reader_passed(r, target)) wait.pause();
    });
  }

  // ---- reclamation (one collecting thread at a time) -----------------------------------

  bool try_lock_collector() noexcept {
    // (11) acquire: pairs with (12); the previous collector's sealed batch, and the fence
    // (6) it started the batch's grace period with, happen before what we do with them
    // (rcu_model's collectors_in_turn fails without it: mutant rcu_collector_lock_relaxed).
    // The relaxed load is a peek that spares the line a write when another collects.
    return !collector_.value.busy.load(std::memory_order_relaxed) &&
           !collector_.value.busy.exchange(true, std::memory_order_acquire);
  }
  // The holder may be waiting for a grace period (collect_waiting): wait as it does.
  void lock_collector() noexcept {
    lf::idle_backoff wait;
    while (!try_lock_collector()) wait.pause();
  }
  // (12) release: pairs with (11).
  void unlock_collector() noexcept { collector_.value.busy.store(false, std::memory_order_release); }

  // Takes the pending list. (5) acquire: pairs with every retire's (10). The model cannot
  // fail without it: there the heavy fence (6), which follows in both callers, is a
  // seq_cst fence and acquires what a relaxed exchange read. In production (6) is
  // membarrier, no C++ fence, and TSan models neither; by sync/asymmetric_fence.hpp's rule
  // a fence never carries the edge that protects plain memory. The TSan lane carries this
  // one: mutant rcu_take_pending_relaxed (verification/mutants/tsan.cmake, rcu_stress).
  detail::rcu_retired* take_pending() noexcept {
    return retired_.value.pending.exchange(nullptr, std::memory_order_acquire);
  }

  void reclaim_batch(detail::rcu_retired* list) noexcept {
    const std::size_t n = detail::reclaim_list(list);
    // relaxed: a statistic (see unreclaimed()).
    if (n != 0) retired_.value.unreclaimed.fetch_sub(n, std::memory_order_relaxed);
  }

  // With the collector held: frees the sealed batch if its grace period is over, then
  // seals what is pending and starts its grace period. Never waits for a reader.
  void collect_without_waiting() noexcept {
    collector_state& c = collector_.value;
    if (*c.sealed.read() != nullptr) {
      if (!grace_period_over(*c.sealed_target.read())) return;
      reclaim_batch(std::exchange(*c.sealed.write(), nullptr));
    }
    if (detail::rcu_retired* const list = take_pending()) {
      *c.sealed.write() = list;
      *c.sealed_target.write() = start_grace_period();
    }
  }

  // With the collector held: waits for a grace period that covers the sealed batch and
  // everything pending, and frees them. Blocking.
  void collect_waiting() noexcept {
    detail::rcu_retired* const sealed = std::exchange(*collector_.value.sealed.write(), nullptr);
    detail::rcu_retired* const pending = take_pending();
    wait_for_grace_period(start_grace_period());
    reclaim_batch(sealed);
    reclaim_batch(pending);
  }

  // Read by every outermost lock: kept away from the lines that retires write.
  struct reader_state {
    lf::atomic<std::uint64_t> period{1};  // the grace-period counter; never 0
    lf::atomic<std::size_t> enrolled{0};  // records [0, enrolled) have been used
  };
  struct retired_state {
    lf::atomic<detail::rcu_retired*> pending{nullptr};  // retired, not yet sealed
    lf::atomic<std::size_t> unreclaimed{0};
    lf::atomic<std::size_t> retires{0};  // the collection trigger's ticket
  };
  // Guarded by `busy`: one collecting thread at a time. The batch is kept in cells, so
  // that the model sees a hand-over from one collecting thread to the next that (11)/(12)
  // do not order (rcu_model's collectors_in_turn).
  struct collector_state {
    lf::atomic<bool> busy{false};
    cell<detail::rcu_retired*> sealed;  // taken from pending; waits for its grace period
    cell<std::uint64_t> sealed_target;
    collector_state() noexcept {
      ::new (static_cast<void*>(sealed.write())) detail::rcu_retired*(nullptr);
      ::new (static_cast<void*>(sealed_target.write())) std::uint64_t(0);
    }
  };

  padded<reader_state> readers_{};
  detail::thread_table<detail::rcu_reader_record> records_;
  padded<retired_state> retired_{};
  padded<collector_state> collector_{};
};

inline void detail::rcu_domain_access::retire(rcu_domain& domain, rcu_retired* obj) noexcept { domain.retire(obj); }

#if !defined(LF_MODEL_RELACY)
// The domain of the calls that name none. Immortal: allocated on first use and never
// destroyed, so that a static object destroyed at exit, or a thread still running then,
// can still use it. What is retired to it and not yet freed when the process ends is
// left to the operating system (LeakSanitizer sees it reachable, not leaked).
inline rcu_domain& rcu_default_domain() noexcept {
  static rcu_domain* const domain = new rcu_domain;
  return *domain;
}
#endif

// Waits until every read-side critical section of `domain` that began before the call
// has ended; then deletes what was retired before the call, unless another thread is
// reclaiming at the time. Precondition: the caller is not inside a section of `domain`.
inline void rcu_synchronize(rcu_domain& domain) noexcept {
  LF_ASSERT(!domain.inside_section() &&
            "lf::rcu_synchronize inside a read-side critical section of the same domain waits for itself");
  if (domain.try_lock_collector()) {
    domain.collect_waiting();
    domain.unlock_collector();
  } else {
    domain.wait_for_grace_period(domain.start_grace_period());
  }
}

// Returns once every object whose retire happened before the call has been deleted.
// Precondition: the caller is not inside a section of `domain`.
inline void rcu_barrier(rcu_domain& domain) noexcept {
  LF_ASSERT(!domain.inside_section() &&
            "lf::rcu_barrier inside a read-side critical section of the same domain waits for itself");
  // Holding the collector, no other thread holds a batch: every object retired before
  // the call is now sealed or pending (or already deleted).
  domain.lock_collector();
  if (*domain.collector_.value.sealed.read() != nullptr ||
      domain.retired_.value.pending.load(std::memory_order_relaxed) != nullptr) {  // relaxed: a peek, (5) decides
    domain.collect_waiting();
  }
  domain.unlock_collector();
}

#if !defined(LF_MODEL_RELACY)
inline void rcu_synchronize() noexcept { rcu_synchronize(rcu_default_domain()); }
inline void rcu_barrier() noexcept { rcu_barrier(rcu_default_domain()); }
#endif

// Base of a class whose objects are reclaimed through RCU (T derives from
// rcu_obj_base<T, D>).
template <class T, class D = std::default_delete<T>>
class rcu_obj_base : private detail::rcu_retired {
  static_assert(std::is_nothrow_move_constructible_v<D> && std::is_nothrow_move_assignable_v<D> &&
                    std::is_default_constructible_v<D>,
                "lf::rcu_obj_base<T, D>: D must be default-constructible and nothrow-movable "
                "(it is stored in the object until it runs)");

 public:
  // Hands the object to `domain`, which deletes it with d(static_cast<T*>(this)) after a
  // grace period. Call it once the object is unreachable for new readers (unlinked).
#if defined(LF_MODEL_RELACY)
  void retire(D d, rcu_domain& domain) noexcept {
#else
  void retire(D d = D(), rcu_domain& domain = rcu_default_domain()) noexcept {
#endif
    static_assert(std::is_base_of_v<rcu_obj_base, T>, "lf::rcu_obj_base<T, D>: T must derive from rcu_obj_base<T, D>");
    LF_ASSERT(rcu_retired_reclaim == nullptr && "lf::rcu_obj_base::retire: object retired twice");
    rcu_deleter_ = std::move(d);
    rcu_retired_reclaim = &reclaim;
    detail::rcu_domain_access::retire(domain, this);
  }

 protected:
  rcu_obj_base() = default;
  // A copy is a new object, not retired, whatever the state of its source.
  rcu_obj_base(const rcu_obj_base&) noexcept {}
  rcu_obj_base(rcu_obj_base&&) noexcept {}
  rcu_obj_base& operator=(const rcu_obj_base&) noexcept { return *this; }
  rcu_obj_base& operator=(rcu_obj_base&&) noexcept { return *this; }
  ~rcu_obj_base() = default;

 private:
  static void reclaim(detail::rcu_retired* r) noexcept {
    auto* const base = static_cast<rcu_obj_base*>(r);
    D d = std::move(base->rcu_deleter_);
    d(static_cast<T*>(base));
  }

  [[no_unique_address]] D rcu_deleter_{};
};

namespace detail {
// What rcu_retire allocates for an object that does not derive from rcu_obj_base.
template <class T, class D>
struct rcu_retired_holder : rcu_retired {
  rcu_retired_holder(T* p, D&& d) noexcept(std::is_nothrow_move_constructible_v<D>)
      : object(p), deleter(std::move(d)) {
    rcu_retired_reclaim = &reclaim;
  }
  static void reclaim(rcu_retired* r) noexcept {
    auto* const self = static_cast<rcu_retired_holder*>(r);
    self->deleter(self->object);
    delete self;
  }
  T* object;
  D deleter;
};
}  // namespace detail

// Retires p, which need not derive from rcu_obj_base: the domain calls d(p) after a grace
// period. Allocates a small holder; throws std::bad_alloc (p is then not retired).
#if defined(LF_MODEL_RELACY)
template <class T, class D>
void rcu_retire(T* p, D d, rcu_domain& domain) {
#else
template <class T, class D = std::default_delete<T>>
void rcu_retire(T* p, D d = D(), rcu_domain& domain = rcu_default_domain()) {
#endif
  static_assert(std::is_move_constructible_v<D> && std::is_invocable_v<D&, T*>,
                "lf::rcu_retire(p, d, domain): D must be move-constructible and callable with T*");
  detail::rcu_domain_access::retire(domain, new detail::rcu_retired_holder<T, D>(p, std::move(d)));
}

}  // namespace lf
