// lf::hazard_pointer — safe memory reclamation with hazard pointers.
//
// Maged M. Michael, "Hazard Pointers: Safe Memory Reclamation for Lock-Free Objects",
// IEEE TPDS 15(6), 2004 (papers/michael-2004-hazard-pointers.md), in the shape of C++26
// std::hazard_pointer (P2530).
//
// What it is. A lock-free container that unlinks a node cannot delete it at once: another
// thread may have loaded the pointer a moment earlier and be about to read the node. With
// hazard pointers a reader first publishes the pointer in a hazard slot that every thread
// can see ("I may be reading this"), then checks that the pointer is still where it
// loaded it from. A thread that unlinks a node retires it instead of deleting it; when
// its retired list grows long enough it scans all hazard slots and deletes the nodes that
// no slot holds.
//
// When to pick it. A thread that stalls while holding k hazard pointers keeps at most k
// objects alive, whatever the others retire; with epochs or RCU a stalled reader keeps
// alive everything retired after it stalled. The price is on the read side: each protect
// is a store, a full fence and a reload, where an epoch pays one fence per operation and
// an RCU reader almost nothing. Pick hazard pointers when threads may stall or memory
// must stay bounded; epochs or RCU when reads dominate and every thread keeps running.
//
// Progress. protect is lock-free (it retries only when the source changed, that is, when
// another thread's update succeeded); try_protect, reset_protection and swap are
// wait-free; retire is wait-free (a scan costs O(R + H log H) for R retired objects and H
// hazard slots, and runs once per O(H) retires); make_hazard_pointer is lock-free and may
// allocate a slot.
//
//   struct node : lf::hazard_pointer_obj_base<node> { ... };
//   lf::hazard_pointer hp = lf::make_hazard_pointer(domain);
//   node* n = hp.protect(head);   // *n stays valid until hp protects another or resets
//   ... after unlinking n:        n->retire(domain);
//
// Beyond P2530:
// - lf::hazard_domain, an explicit domain an instance can own (tests need isolation, and
//   the Relacy model forbids objects that outlive one explored schedule). The default
//   domain, hazard_pointer_default_domain(), is one immortal instance (never destroyed,
//   so usable from static destructors and late threads); it does not exist under the model, where every test owns its domain.
// - hazard_domain::scan() reclaims the calling thread's retired objects now.
// - A thread may hold any number of hazard pointers at once: slots live in a list that
//   grows on demand, and each thread caches a few idle ones (rcu/detail/hazard_records.hpp).
// - Per-thread state is reached through lf::thread_index(). A thread that exits leaves its
//   retired objects in its record; the next thread given the same index reclaims them, and
//   the domain's destructor frees whatever is still retired.
//
// Requirements and misuse. The deleter D is stored in the object until it runs: it must
// be default-constructible, nothrow-movable and must not throw. An object must be
// protected as the same T* it is retired as, and through a hazard pointer of the domain
// it is retired to. Caught by LF_ASSERT: protect or reset on an empty hazard pointer;
// retiring an object twice (while the first retire is pending); destroying a domain while
// hazard pointers of it are alive. Destroying a domain that threads still use, or
// retiring an object that is still reachable, cannot be detected.
//
// Ordering argument. Reader R, protecting p loaded from src:
//   (1) R's hazard store, release;  (2) a seq_cst fence;  (3) R reloads src, acquire,
//       and uses p only if it still finds p there.
// Reclaimer W unlinks p from src (with any order), retires p, and later scans:
//   (4) a seq_cst fence;  (5) it loads the slot list and (6) every hazard, acquire;
//       p is deleted only if no slot holds it.
// The store-load pair (2)/(4) is the heart of the algorithm. Without it, each side's load
// may pass its own earlier store (store buffering, which x86 does too): R's reload (3)
// still sees p linked while W's scan (6) still sees R's slot empty, and W deletes p under
// R. With it: seq_cst fences are totally ordered. If (2) comes first, W's loads after (4)
// see R's hazard (1) or a later store of R's (C++20 [atomics.order] p4), so p is kept for
// as long as R holds it. If (4) comes first, R's reload (3) sees the unlink or a later
// store, so R does not use p (if it finds the same address there, that is a new object
// placed at p's freed address and linked since, and the argument starts over for it).
// The unlink may happen in another thread than the scan: happens-before is all the rule
// asks.
// (1)'s release pairs with (6): R's reads of *p happen before the store that drops p from
// R's slot, hence before the delete of a scan that no longer finds p there.
// (3)'s acquire pairs with the release that published p's contents (the container's,
// e.g. treiber_stack's push). protect's first load is relaxed: a guess that (3) checks.
// The fence (2) after the guess would acquire the guess's store, but not enough: between
// the guess and (3) the object may be unlinked, freed, and its address reused for a new
// object that is published in its place, and then (3) validates the new object, whose
// contents only (3)'s own acquire orders before our reads (the model's
// reader_vs_recycled_address case; the mutant hp_revalidate_relaxed).
// (4)-(10), inside the domain, are argued in rcu/detail/hazard_records.hpp.
#pragma once

#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

#include "rcu/detail/hazard_records.hpp"
#include "sync/atomic.hpp"
#include "sync/config.hpp"

namespace lf {

class hazard_pointer;

// Hazard slots and retired objects that belong together: an object retired to a domain
// is protected only by that domain's hazard pointers.
class hazard_domain {
 public:
  hazard_domain() = default;
  hazard_domain(const hazard_domain&) = delete;
  hazard_domain& operator=(const hazard_domain&) = delete;

  // Deletes every object still retired to the domain. Preconditions: no hazard pointer of
  // the domain is alive (LF_ASSERT), and every thread that used the domain is done with it.
  ~hazard_domain() = default;

  // Deletes those of the calling thread's retired objects that no hazard pointer protects
  // now, without waiting for the scan threshold. Returns how many stay retired.
  std::size_t scan() { return records_.scan_mine(); }

  // Objects retired to the domain and not yet freed, over all threads: exact when no
  // thread is retiring or scanning, a snapshot otherwise. With H hazard slots and T
  // threads it stays below T * (scan threshold) + H however long a reader stalls.
  std::size_t unreclaimed() const noexcept { return records_.unreclaimed(); }

 private:
  template <class, class>
  friend class hazard_pointer_obj_base;
  friend class hazard_pointer;
  friend hazard_pointer make_hazard_pointer(hazard_domain& domain);

  detail::hazard_records records_;
};

#if !defined(LF_MODEL_RELACY)
// The domain of the calls that name none. Immortal: allocated on first use and never
// destroyed, so that a static object destroyed at exit, or a thread still running then,
// can still use it. What is retired to it and not yet freed when the process ends is
// left to the operating system (LeakSanitizer sees it reachable, not leaked).
inline hazard_domain& hazard_pointer_default_domain() {
  static hazard_domain* const domain = new hazard_domain;
  return *domain;
}
#endif

// Base of a class whose objects are reclaimed through hazard pointers (T derives from
// hazard_pointer_obj_base<T, D>).
template <class T, class D = std::default_delete<T>>
class hazard_pointer_obj_base {
  static_assert(std::is_default_constructible_v<D> && std::is_nothrow_move_constructible_v<D> &&
                    std::is_nothrow_move_assignable_v<D>,
                "lf::hazard_pointer_obj_base<T, D>: D must be default-constructible and nothrow-movable "
                "(it is stored in the object until it runs)");

 public:
  // Hands the object to `domain`, which deletes it with d(static_cast<T*>(this)) once no
  // hazard pointer of the domain protects it. Call it once the object is unreachable for
  // new readers (unlinked).
  void retire(hazard_domain& domain, D d = D()) noexcept {
    static_assert(std::is_base_of_v<hazard_pointer_obj_base, T>,
                  "lf::hazard_pointer_obj_base<T, D>: T must derive from hazard_pointer_obj_base<T, D>");
    LF_ASSERT(hazard_retired_.reclaim == nullptr && "lf::hazard_pointer_obj_base::retire: object retired twice");
    hazard_deleter_ = std::move(d);
    hazard_retired_.object = static_cast<const void*>(static_cast<const T*>(this));
    hazard_retired_.reclaim = &reclaim;
    domain.records_.retire(&hazard_retired_);
  }
#if !defined(LF_MODEL_RELACY)
  void retire(D d = D()) noexcept { retire(hazard_pointer_default_domain(), std::move(d)); }
#endif

 protected:
  hazard_pointer_obj_base() = default;
  // A copy is a new object, not retired, whatever the state of its source.
  hazard_pointer_obj_base(const hazard_pointer_obj_base&) noexcept {}
  hazard_pointer_obj_base(hazard_pointer_obj_base&&) noexcept {}
  hazard_pointer_obj_base& operator=(const hazard_pointer_obj_base&) noexcept { return *this; }
  hazard_pointer_obj_base& operator=(hazard_pointer_obj_base&&) noexcept { return *this; }
  ~hazard_pointer_obj_base() = default;

 private:
  static void reclaim(detail::hazard_retired* r) noexcept {
    T* const obj = static_cast<T*>(const_cast<void*>(r->object));
    D d = std::move(static_cast<hazard_pointer_obj_base*>(obj)->hazard_deleter_);
    d(obj);
  }

  detail::hazard_retired hazard_retired_;
  [[no_unique_address]] D hazard_deleter_{};
};

// Owns one hazard slot of a domain, or nothing (empty) when default-constructed or moved
// from. Move-only. The object it protects stays valid until it protects another, resets,
// or is destroyed.
class hazard_pointer {
 public:
  hazard_pointer() noexcept = default;
  hazard_pointer(hazard_pointer&& other) noexcept
      : slot_(std::exchange(other.slot_, nullptr)), domain_(std::exchange(other.domain_, nullptr)) {}
  hazard_pointer& operator=(hazard_pointer&& other) noexcept {
    if (this != &other) {
      clear();
      slot_ = std::exchange(other.slot_, nullptr);
      domain_ = std::exchange(other.domain_, nullptr);
    }
    return *this;
  }
  ~hazard_pointer() { clear(); }

  [[nodiscard]] bool empty() const noexcept { return slot_ == nullptr; }

  // Loads src until the value it protects is still there afterwards; returns it (maybe
  // null). Precondition: not empty.
  template <class T>
  T* protect(const lf::atomic<T*>& src) noexcept {
    T* p = src.load(std::memory_order_relaxed);  // relaxed: a guess, checked by (3)
    while (!try_protect(p, src)) {
    }
    return p;
  }

  // Protects ptr if src still holds it and returns true; otherwise clears the protection,
  // stores src's current value into ptr and returns false. Precondition: not empty.
  template <class T>
  bool try_protect(T*& ptr, const lf::atomic<T*>& src) noexcept {
    T* const old = ptr;
    reset_protection(old);  // (1)
    // (2) seq_cst, the store-load fence: our hazard (1) is ordered before the reload (3)
    // for every scanning thread; pairs with the scan's fence (4). See the header comment.
    lf::fence(std::memory_order_seq_cst);
    // (3) acquire, the re-validation: pairs with the release that published *ptr.
    ptr = src.load(std::memory_order_acquire);
    if (ptr == old) return true;
    reset_protection();
    return false;
  }

  // Protects ptr without validation: for a pointer the caller knows to be safe already
  // (held by another hazard pointer, or not yet retired). Precondition: not empty.
  template <class T>
  void reset_protection(const T* ptr) noexcept {
    publish(ptr);
  }
  void reset_protection(std::nullptr_t = nullptr) noexcept { publish(nullptr); }

  void swap(hazard_pointer& other) noexcept {
    std::swap(slot_, other.slot_);
    std::swap(domain_, other.domain_);
  }

 private:
  friend hazard_pointer make_hazard_pointer(hazard_domain& domain);
  hazard_pointer(detail::hazard_slot* slot, hazard_domain* domain) noexcept : slot_(slot), domain_(domain) {}

  void publish(const void* p) noexcept {
    LF_ASSERT(slot_ != nullptr && "lf::hazard_pointer: protect or reset_protection on an empty hazard pointer");
    // (1) release: pairs with the scan's (6); our reads of the object we stop protecting
    // happen before a scan that sees this store deletes it.
    slot_->hazard.store(const_cast<void*>(p), std::memory_order_release);
  }
  void clear() noexcept {
    if (slot_ == nullptr) return;
    publish(nullptr);
    domain_->records_.release_slot(std::exchange(slot_, nullptr));
  }

  detail::hazard_slot* slot_ = nullptr;
  hazard_domain* domain_ = nullptr;
};

inline void swap(hazard_pointer& a, hazard_pointer& b) noexcept { a.swap(b); }

// A hazard pointer of `domain`, protecting nothing yet.
inline hazard_pointer make_hazard_pointer(hazard_domain& domain) {
  return hazard_pointer(domain.records_.acquire_slot(), &domain);
}
#if !defined(LF_MODEL_RELACY)
inline hazard_pointer make_hazard_pointer() { return make_hazard_pointer(hazard_pointer_default_domain()); }
#endif

}  // namespace lf
