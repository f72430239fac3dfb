// lf::treiber_stack<T, Reclaimer> — unbounded lock-free LIFO stack.
//
// R. Kent Treiber, "Systems Programming: Coping with Parallelism", IBM Almaden RJ 5118,
// 1986 (papers/treiber-1986-stack.md): a singly linked list whose head is swung with one
// CAS. push links a new node in front of the head it read; pop swings the head from the
// top node to its successor.
//
// Any number of threads push and pop. push and try_pop are lock-free: a CAS fails only
// because another thread's CAS on the head succeeded (given a lock-free allocator, and
// for try_pop the reclaimer's protect, which is lock-free too). Requirements on T:
// nothrow move-constructible (a popped value is moved out after its node is unlinked,
// where a throw would lose it). The destructor destroys what is left.
//
// Pick it for a simple unbounded LIFO under moderate contention. Every operation
// contends on the one head word: under heavy contention the elimination-backoff stack
// scales better, and a bounded ring (lockfree/mpmc_ring.hpp) allocates nothing per item.
//
// Reclamation. pop reads the successor of a node that another popper may unlink and
// free at the same moment, so nodes are freed through the Reclaimer policy
// (rcu/reclaimer.hpp; hazard pointers by default). It also removes the ABA problem of
// the pop CAS: the CAS compares addresses only, and would succeed wrongly if the top
// node were popped, freed and its address reused for a new top between our read of its
// successor and our CAS. A protected node cannot be freed, hence cannot be reused, so
// when the head still holds its address it is still the same node with the same
// successor (a node's successor never changes once it is pushed).
//
// Ordering argument:
//   (T1) push's CAS, release: publishes the node's value and successor. Pairs with the
//        acquire load inside the reclaimer's protect (hazard pointers: (3) in
//        rcu/hazard_pointer.hpp). Every change of the head is a CAS, so a protect that
//        reads a later head value still synchronizes with this push (release sequence).
//   (T2) pop's CAS, relaxed on success and failure: the popper already acquired the
//        node at its protect, and only the winner of the CAS touches the value.
//   Loads of the head outside protect are relaxed: push only compares what it read, and
//   empty() returns a snapshot; neither dereferences it.
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
class treiber_stack {
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "lf::treiber_stack<T>: T must be nothrow move-constructible (a popped value is moved out of its node)");
  static_assert(std::is_nothrow_destructible_v<T>, "lf::treiber_stack<T>: T must be nothrow destructible");
  static_assert(reclaimer<Reclaimer>, "lf::treiber_stack<T, R>: R must model lf::reclaimer (rcu/reclaimer.hpp)");

 protected:
  struct node : Reclaimer::template node_base<node>, detail::recycled<node> {
    explicit node(T&& v) noexcept { ::new (static_cast<void*>(value.write())) T(std::move(v)); }
    cell<T> value;      // constructed here, moved out by the popper that unlinks the node
    cell<node*> next;  // written before the node is pushed (T1), never after
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
  treiber_stack() : treiber_stack(Reclaimer::default_domain()) {}
#endif
  // Nodes are retired to `domain`, which must outlive the stack.
  explicit treiber_stack(domain_type& domain) noexcept : domain_(&domain) {}

  treiber_stack(const treiber_stack&) = delete;
  treiber_stack& operator=(const treiber_stack&) = delete;

  // No other thread may use the stack any more; nodes still inside are freed at once.
  // relaxed: the owner's join of the other threads ordered their writes before us.
  ~treiber_stack() {
    node* n = head_.value.load(std::memory_order_relaxed);
    while (n != nullptr) {
      node* const next = *n->next.read();
      n->value.destroy();
      delete n;
      n = next;
    }
  }

  void push(T v) {
    node* const n = new node(std::move(v));
    node* top = top_hint();
    while (!try_link(n, top)) {
    }
  }

  // Always succeeds (the stack is unbounded); for the lf::concurrent_queue shape.
  bool try_push(T v) {
    push(std::move(v));
    return true;
  }

  // The most recently pushed value, or nothing if the stack was empty when looked at.
  std::optional<T> try_pop() {
    typename Reclaimer::guard guard(*domain_);
    node* top;
    for (;;) {
      top = protect_top(guard);
      if (top == nullptr) return std::nullopt;
      if (try_unlink(guard, top)) break;
    }
    return finish_pop(guard, top);
  }

  // A snapshot: true if the stack was empty at some moment during the call. Another
  // thread may push or pop before the caller looks at the answer.
  [[nodiscard]] bool empty() const noexcept { return head_.value.load(std::memory_order_relaxed) == nullptr; }

 protected:
  // The single attempts push and try_pop are made of, for stacks that do something else
  // between failed attempts (lockfree/elimination_stack.hpp).

  // One attempt to link n on top of `top`, the head last read; on failure `top` is the
  // head now.
  bool try_link(node* n, node*& top) noexcept {
    ::new (static_cast<void*>(n->next.write())) node*(top);
    // (T1) release: publishes *n; pairs with the acquire in the reclaimer's protect.
    return head_.value.compare_exchange_weak(top, n, std::memory_order_release, std::memory_order_relaxed);
  }

  // One attempt to unlink `top`, a node `guard` protects.
  bool try_unlink([[maybe_unused]] typename Reclaimer::guard& guard, node* top) noexcept {
    node* const next = *top->next.read();
    // (T2) relaxed: *top was acquired by protect; the CAS only decides who unlinks it.
    return head_.value.compare_exchange_weak(top, next, std::memory_order_relaxed, std::memory_order_relaxed);
  }

  // The value of `top`, which the caller unlinked; retires the node.
  std::optional<T> finish_pop(typename Reclaimer::guard& guard, node* top) noexcept {
    std::optional<T> v(top->value.take());
    guard.reset();
    Reclaimer::retire(*domain_, top);
    return v;
  }

  node* top_hint() const noexcept { return head_.value.load(std::memory_order_relaxed); }  // relaxed: a CAS guess
  node* protect_top(typename Reclaimer::guard& guard) noexcept { return guard.protect(head_.value); }
  domain_type& domain() const noexcept { return *domain_; }

 private:
  padded<lf::atomic<node*>> head_{nullptr};
  domain_type* const domain_;
};

}  // namespace lf
