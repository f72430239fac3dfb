// lf::epoch_reclaimer — the reclaimer policy (rcu/reclaimer.hpp) over epochs
// (rcu/epoch.hpp): a guard pins the domain at its first protect and unpins at reset or
// its end; protect is then a plain acquire load; retire hands the node to the domain.
//
// A guard of an operation that needs two nodes at once (the MS queue holds two) pins
// once per guard: pins nest, so the thread stays pinned until its last guard resets.
// retire never waits for a grace period, so a container may retire while a guard of the
// same thread is still pinned.
#pragma once

#include "rcu/epoch.hpp"
#include "sync/atomic.hpp"

namespace lf {

struct epoch_reclaimer {
  using domain = epoch_domain;

#if !defined(LF_MODEL_RELACY)
  static domain& default_domain() { return epoch_default_domain(); }
#endif

  template <class Node>
  using node_base = epoch_obj_base<Node>;

  class guard {
   public:
    explicit guard(domain& d) noexcept : domain_(&d) {}

    // Pins on first use, so a guard that never protects costs nothing.
    template <class Node>
    Node* protect(const lf::atomic<Node*>& src) {
      if (!pin_.pinned()) pin_ = domain_->pin();
      // acquire: pairs with the release that published *node (the container's). The pin's
      // fence (3 in rcu/epoch.hpp) precedes this load.
      return src.load(std::memory_order_acquire);
    }
    void reset() noexcept { pin_.unpin(); }

   private:
    domain* domain_;
    epoch_guard pin_;
  };

  template <class Node>
  static void retire(domain& d, Node* node) noexcept {
    node->retire(d);
  }
};

}  // namespace lf
