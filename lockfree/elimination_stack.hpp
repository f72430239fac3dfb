// lf::elimination_stack<T, Reclaimer> — unbounded lock-free LIFO stack with an
// elimination-backoff array.
//
// Danny Hendler, Nir Shavit and Lena Yerushalmi, "A Scalable Lock-free Stack Algorithm",
// SPAA 2004 (papers/hendler-2004-elimination-stack.md). A Treiber stack
// (lockfree/treiber_stack.hpp) whose threads, when their CAS on the head fails, back off
// into an array of exchange slots instead of spinning: a push and a pop that meet there
// cancel out — the pop takes the push's value and neither touches the head. A push and a
// pop that are concurrent may be ordered push-then-pop at the moment they meet, so the
// exchange is linearizable; under load, pairs of operations leave the one contended word.
//
// Any number of threads push and pop; both are lock-free (a thread leaves the array after
// a bounded wait and retries the head). Requirements on T are treiber_stack's.
//
// Pick it over treiber_stack when many threads push and pop at once. With one or two
// threads the array is rarely used (only after a failed CAS), and the stack costs what a
// Treiber stack costs.
//
// The array. Each slot holds null (free), a pointer to a pushing thread's node (an offer),
// or `taken()` (an offer accepted, until its pusher frees the slot). Deviations from the
// paper: only pushers wait in the array; a popper that failed its CAS looks for an offer
// and takes it with one CAS, or goes back to the head (the paper lets either side wait in
// a collision location, with an adaptive range and backoff). The node of an eliminated
// push never enters the stack, so its popper deletes it directly: no other thread can
// hold it (a popper dereferences an offer only after its CAS won it).
//
// Ordering argument (Treiber's (T1), (T2) hold unchanged for the head):
//   (E1) the pusher's CAS of a free slot to its node, release: publishes the node's value;
//        pairs with (E2).
//   (E2) the popper's CAS of the slot from the node to taken(), acquire: the value is
//        visible; the popper now owns the node.
//   (E3) the pusher's withdrawal CAS (node -> null): relaxed on success, since the node
//        goes back to the pusher, who wrote it; on failure the slot holds taken() and the
//        pusher only learns that its push is done.
//   (E4) the pusher frees the slot (taken() -> null), relaxed: it carries no data; the next
//        offer publishes its own with (E1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include "lockfree/treiber_stack.hpp"
#include "rcu/hazard_pointer_reclaimer.hpp"
#include "sync/atomic.hpp"
#include "sync/config.hpp"
#include "sync/thread.hpp"

namespace lf {

namespace detail {
// The model shrinks the array to one slot and the wait to one pause (DESIGN §2): every
// explored schedule then lets a push and a pop meet.
struct elimination_tuning {
#if defined(LF_MODEL_RELACY)
  static constexpr std::size_t width = 1;
  static constexpr unsigned wait_spins = 1;
#else
  // Slots: few enough that two contending threads meet often, enough that several pairs
  // can eliminate at once.
  static constexpr std::size_t width = 4;
  // How long a pusher waits for a popper: about the time of a few failed CASes on a
  // contended line (a pause is 10-140 cycles depending on the core).
  static constexpr unsigned wait_spins = 128;
#endif
};
}  // namespace detail

template <class T, class Reclaimer = hazard_pointer_reclaimer>
class elimination_stack : private treiber_stack<T, Reclaimer> {
  using base = treiber_stack<T, Reclaimer>;
  using typename base::node;
  using tuning = detail::elimination_tuning;

 public:
  using typename base::domain_type;
  using typename base::reclaimer_type;
  using typename base::value_type;
  using base::max_consumers;
  using base::max_producers;
  using base::pop_progress;
  using base::push_progress;

#if !defined(LF_MODEL_RELACY)
  elimination_stack() : elimination_stack(Reclaimer::default_domain()) {}
#endif
  explicit elimination_stack(domain_type& domain) : base(domain), slots_(new padded<lf::atomic<node*>>[tuning::width]) {
    for (std::size_t i = 0; i < tuning::width; ++i) {
      slots_[i].value.store(nullptr, std::memory_order_relaxed);  // relaxed: published by the constructor's end
    }
  }

  void push(T v) {
    node* const n = new node(std::move(v));
    node* top = this->top_hint();
    while (!this->try_link(n, top)) {
      if (offer(n)) return;
      top = this->top_hint();
    }
  }

  bool try_push(T v) {
    push(std::move(v));
    return true;
  }

  std::optional<T> try_pop() {
    typename Reclaimer::guard guard(this->domain());
    for (;;) {
      node* const top = this->protect_top(guard);
      if (top == nullptr) return std::nullopt;
      if (this->try_unlink(guard, top)) return this->finish_pop(guard, top);
      if (node* const n = take_offer()) {
        std::optional<T> v(n->value.take());
        delete n;  // never linked, and ours alone since (E2)
        return v;
      }
    }
  }

  using base::empty;

 private:
  // Marks a slot whose offer was accepted: an address no node can have.
  node* taken() const noexcept { return reinterpret_cast<node*>(const_cast<std::unique_ptr<slot[]>*>(&slots_)); }

  lf::atomic<node*>& pick_slot() noexcept {
    if constexpr (tuning::width == 1) {
      return slots_[0].value;
    } else {
      // A per-thread xorshift: contending threads spread over the slots at random, so any
      // pusher and popper meet with probability 1/width per visit.
      thread_local std::uint32_t x = static_cast<std::uint32_t>(lf::thread_index()) * 2654435761u + 1u;
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      return slots_[x % tuning::width].value;
    }
  }

  // Waits in a slot for a popper; true if one took n (the push is done).
  bool offer(node* n) noexcept {
    lf::atomic<node*>& s = pick_slot();
    node* expected = nullptr;
    // (E1) release: publishes *n to the popper's (E2).
    if (!s.compare_exchange_strong(expected, n, std::memory_order_release, std::memory_order_relaxed)) return false;
    for (unsigned i = 0; i < tuning::wait_spins; ++i) {
      // relaxed: a poll; the CAS below decides.
      if (s.load(std::memory_order_relaxed) != n) break;
      lf::spin_pause();
    }
    expected = n;
    // (E3) relaxed: the withdrawn node is ours again; a failure means a popper took it.
    if (s.compare_exchange_strong(expected, nullptr, std::memory_order_relaxed, std::memory_order_relaxed)) {
      return false;
    }
    // (E4) relaxed: frees the slot; it carries nothing.
    s.store(nullptr, std::memory_order_relaxed);
    return true;
  }

  // The node of a waiting push, now ours, or null.
  node* take_offer() noexcept {
    lf::atomic<node*>& s = pick_slot();
    node* n = s.load(std::memory_order_relaxed);  // relaxed: a peek; the CAS acquires
    if (n == nullptr || n == taken()) return nullptr;
    // (E2) acquire: pairs with (E1); the pusher's value is visible and the node is ours.
    if (s.compare_exchange_strong(n, taken(), std::memory_order_acquire, std::memory_order_relaxed)) return n;
    return nullptr;
  }

  using slot = padded<lf::atomic<node*>>;
  const std::unique_ptr<slot[]> slots_;
};

}  // namespace lf
