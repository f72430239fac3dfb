// lf::ms_queue<T, Reclaimer> — unbounded lock-free MPMC FIFO queue.
//
// Maged M. Michael and Michael L. Scott, "Simple, Fast, and Practical Non-Blocking and
// Blocking Concurrent Queue Algorithms", PODC 1996 (papers/michael-1996-ms-queue.md): a
// singly linked list with a dummy node at its head. push links a node after the last
// node with one CAS on its `next`, then swings `tail` to it; pop swings `head` from the
// dummy to its successor, whose value it takes, and the successor becomes the new dummy.
// A `tail` left behind by a slow pusher is swung forward by whoever finds it lagging, so
// no thread waits for another.
//
// Any number of threads push and pop. push and try_pop are lock-free: each retry follows
// a successful CAS of another thread (given a lock-free allocator and a lock-free protect,
// which the reclaimers provide). Requirements on T: nothrow move-constructible (a popped
// value is moved out after its node is unlinked, where a throw would lose it). The
// destructor destroys what is left.
//
// Pick it for an unbounded MPMC FIFO that allocates per item. A bounded ring
// (lockfree/mpmc_ring.hpp) allocates nothing per item and moves fewer cache lines; the
// MS queue's head and tail are the two contended words.
//
// Deviations from the paper. (a) The paper's counted pointers (ABA tags) are replaced by
// the reclaimer: a protected node is neither freed nor reused, so a CAS that finds its
// address finds the same node (Michael 2004 did the same with hazard pointers). (b) The
// paper reads the value before its dequeue CAS (it frees the node right after); lf moves
// it out after the CAS, from a node it still protects, so T need not be copyable and a
// losing popper copies nothing. (c) For the same reason the paper's re-read of head after
// reading next (its consistency check, and in Michael 2004 the validation of the hazard on
// next) is gone. The popper uses next only after its CAS of head from `first` to next
// won; next is retired only by the pop whose CAS later moves head from next onwards, a
// CAS after ours in head's modification order. With hazard pointers, our hazard on next
// is stored before protect's seq_cst fence, and the fence is sequenced before our CAS; the
// retiring popper's scan fence follows its CAS. Two seq_cst fences are ordered as the
// modifications that follow and precede them ([atomics.order]: if the scan's fence came
// first, our CAS would come after theirs in head's order, and it comes before), so the scan's
// loads see our hazard. Epochs and RCU: our pin or read lock is taken before the CAS.
//
// Ordering argument (each order weaker than seq_cst is named here and on its line):
//   (Q1) push's CAS of last->next, release: publishes the new node's value and its null
//        `next`; pairs with (Q2) and (Q4), the acquire loads of a `next`.
//   (Q2) push's load of tail->next, acquire: a node found there was published by (Q1);
//        we may swing tail to it and, on a later round, dereference it.
//   (Q3) the CASes of `tail`, release: whoever swings tail to n acquired n at (Q2) or
//        created it, so a thread that acquires tail (inside protect) sees n constructed
//        (its `next` initialised). Without it, a pusher that reads tail = n after a
//        helper's swing reads n->next with no edge to n's construction: a data race with
//        the initialisation, which the model sees since the seam makes an atomic's
//        initialisation a plain write (sync/atomic.hpp); mutant msq_help_swing_relaxed.
//   (Q4) pop's protect of head->next, acquire (inside protect): the successor's value,
//        written before its (Q1), is visible to the popper that wins (Q5).
//   (Q5) pop's CAS of head, release: the next popper acquires the new head inside its
//        protect and reads its `next`; that node's construction was acquired by this
//        popper at (Q4), and the release passes it on (head is changed only by these CASes,
//        so without a release there is no edge at all, and the read of `next` would race
//        with the node's initialisation: TSan found it, 1 run in ~10 of the typed stress
//        test; the model sees it too since the seam makes the initialisation of an
//        atomic a plain write). Only the winner
//        touches the successor's value; the reclaimer orders the free of the old dummy
//        after every reader's use of it.
//   Loads of `tail` in pop are acquire: tail is compared with head and helped forward,
//   and a helper's CAS (Q3) must carry what it read.
#pragma once

#include <cstddef>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "lockfree/detail/concepts.hpp"
#include "lockfree/detail/node_cache.hpp"
#include "rcu/hazard_pointer_reclaimer.hpp"
#include "rcu/reclaimer.hpp"
#include "sync/atomic.hpp"
#include "sync/cell.hpp"
#include "sync/config.hpp"

namespace lf {

template <class T, class Reclaimer = hazard_pointer_reclaimer>
class ms_queue {
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "lf::ms_queue<T>: T must be nothrow move-constructible (a popped value is moved out of its node)");
  static_assert(std::is_nothrow_destructible_v<T>, "lf::ms_queue<T>: T must be nothrow destructible");
  static_assert(reclaimer<Reclaimer>, "lf::ms_queue<T, R>: R must model lf::reclaimer (rcu/reclaimer.hpp)");

  struct node : Reclaimer::template node_base<node>, detail::recycled<node> {
    node() noexcept = default;  // the dummy: no value
    explicit node(T&& v) noexcept { ::new (static_cast<void*>(value.write())) T(std::move(v)); }
    cell<T> value;                // constructed by push, moved out by the popper that dequeues the node
    lf::atomic<node*> next{nullptr};
  };

 public:
  using value_type = T;
  using reclaimer_type = Reclaimer;
  using domain_type = typename Reclaimer::domain;
  static constexpr progress push_progress = progress::lock_free;
  static constexpr progress pop_progress = progress::lock_free;
  static constexpr std::size_t max_producers = any_number;
  static constexpr std::size_t max_consumers = any_number;

#if !defined(LF_MODEL_RELACY)
  ms_queue() : ms_queue(Reclaimer::default_domain()) {}
#endif
  // Dequeued nodes are retired to `domain`, which must outlive the queue.
  explicit ms_queue(domain_type& domain) : domain_(&domain) {
    node* const dummy = new node;
    head_.value.store(dummy, std::memory_order_relaxed);  // relaxed: published by the constructor's end
    tail_.value.store(dummy, std::memory_order_relaxed);
  }

  ms_queue(const ms_queue&) = delete;
  ms_queue& operator=(const ms_queue&) = delete;

  // No other thread may use the queue any more; values still inside are destroyed.
  // relaxed loads: the owner's join of the other threads ordered their writes before us.
  ~ms_queue() {
    node* n = head_.value.load(std::memory_order_relaxed);
    node* next = n->next.load(std::memory_order_relaxed);
    delete n;  // the dummy holds no value
    for (n = next; n != nullptr; n = next) {
      next = n->next.load(std::memory_order_relaxed);
      n->value.destroy();
      delete n;
    }
  }

  void push(T v) {
    // The guard first: taking it may throw (the thread's first use of the domain), and
    // then no node must be left behind.
    typename Reclaimer::guard guard(*domain_);
    node* const n = new node(std::move(v));
    for (;;) {
      node* last = guard.protect(tail_.value);
      // (Q2) acquire: a successor was published by its pusher's (Q1).
      node* next = last->next.load(std::memory_order_acquire);
      if (next != nullptr) {
        // tail lags behind the last node: swing it forward, then retry.
        // (Q3) release: carries what (Q2) acquired to whoever acquires tail.
        tail_.value.compare_exchange_strong(last, next, std::memory_order_release, std::memory_order_relaxed);  // push helps
        continue;
      }
      // (Q1) release: the linearization point; publishes *n to (Q2) and (Q4).
      if (last->next.compare_exchange_strong(next, n, std::memory_order_release, std::memory_order_relaxed)) {
        // (Q3) release: as above. May fail: then a helper already swung tail past last.
        tail_.value.compare_exchange_strong(last, n, std::memory_order_release, std::memory_order_relaxed);
        return;
      }
    }
  }

  // Always succeeds (the queue is unbounded); for the lf::concurrent_queue shape.
  bool try_push(T v) {
    push(std::move(v));
    return true;
  }

  // The oldest value, or nothing if the queue was empty when looked at.
  std::optional<T> try_pop() {
    typename Reclaimer::guard head_guard(*domain_);
    typename Reclaimer::guard next_guard(*domain_);
    node* first;
    node* next;
    for (;;) {
      first = head_guard.protect(head_.value);
      next = next_guard.protect(first->next);  // (Q4) acquire, inside protect
      // first->next is null only while first is the last node: it is then still the head
      // (head passes a node only to its successor), and the queue was empty.
      if (next == nullptr) return std::nullopt;
      // acquire: a helper's CAS below (Q3) carries on what this load acquired.
      node* last = tail_.value.load(std::memory_order_acquire);
      if (first == last) {
        // A push linked next but has not swung tail yet: help it, keeping the paper's
        // invariant that head never passes tail.
        // (Q3) release: as in push.
        tail_.value.compare_exchange_strong(last, next, std::memory_order_release, std::memory_order_relaxed);  // pop helps
        continue;
      }
      // (Q5) release: passes next's construction, acquired at (Q4), to the next popper's
      // protect; relaxed on failure (nothing was read through it).
      if (head_.value.compare_exchange_strong(first, next, std::memory_order_release, std::memory_order_relaxed)) {
        break;
      }
    }
    std::optional<T> v(next->value.take());  // next is the new dummy; its value is ours
    next_guard.reset();
    head_guard.reset();
    Reclaimer::retire(*domain_, first);
    return v;
  }

  // A snapshot: true if the queue was empty at some moment during the call.
  [[nodiscard]] bool empty() const noexcept {
    typename Reclaimer::guard guard(*domain_);
    node* const first = guard.protect(head_.value);
    return first->next.load(std::memory_order_relaxed) == nullptr;  // relaxed: compared, not dereferenced
  }

 private:
  padded<lf::atomic<node*>> head_{nullptr};
  padded<lf::atomic<node*>> tail_{nullptr};
  domain_type* const domain_;
};

}  // namespace lf
