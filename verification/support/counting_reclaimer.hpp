// Test support: hazard_pointer_reclaimer whose node base counts live nodes, so a test can
// check that every node a container allocated has been freed (once the container and
// its domain are gone), without reaching into the container's private node type.
#pragma once

#include <atomic>

#include "rcu/hazard_pointer_reclaimer.hpp"

namespace lf::test {

struct counting_reclaimer : hazard_pointer_reclaimer {
  static inline std::atomic<long> live_nodes{0};
  static inline std::atomic<long> allocated_nodes{0};

  template <class Node>
  struct node_base : hazard_pointer_obj_base<Node> {
    node_base() noexcept {
      live_nodes.fetch_add(1, std::memory_order_relaxed);
      allocated_nodes.fetch_add(1, std::memory_order_relaxed);
    }
    node_base(const node_base&) = delete;
    node_base& operator=(const node_base&) = delete;
    ~node_base() { live_nodes.fetch_sub(1, std::memory_order_relaxed); }
  };
};

}  // namespace lf::test
