// Test support: a reclaimer policy wrapped so that its node base counts live nodes, so a
// test can check that every node a container allocated has been freed (once the
// container and its domain are gone), without reaching into the container's private
// node type. counting<R> is R in every other respect.
#pragma once

#include <atomic>

#include "rcu/hazard_pointer_reclaimer.hpp"

namespace lf::test {

template <class R>
struct counting : R {
  static inline std::atomic<long> live_nodes{0};
  static inline std::atomic<long> allocated_nodes{0};

  template <class Node>
  struct node_base : R::template node_base<Node> {
    node_base() noexcept {
      live_nodes.fetch_add(1, std::memory_order_relaxed);
      allocated_nodes.fetch_add(1, std::memory_order_relaxed);
    }
    node_base(const node_base&) = delete;
    node_base& operator=(const node_base&) = delete;
    ~node_base() { live_nodes.fetch_sub(1, std::memory_order_relaxed); }
  };
};

using counting_reclaimer = counting<hazard_pointer_reclaimer>;

}  // namespace lf::test
