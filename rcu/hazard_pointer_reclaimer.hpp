// lf::hazard_pointer_reclaimer — the reclaimer policy (rcu/reclaimer.hpp) over hazard
// pointers (rcu/hazard_pointer.hpp): a guard owns one hazard pointer, protect publishes
// and re-validates, retire hands the node to the domain.
#pragma once

#include "rcu/hazard_pointer.hpp"
#include "sync/atomic.hpp"

namespace lf {

struct hazard_pointer_reclaimer {
  using domain = hazard_domain;

#if !defined(LF_MODEL_RELACY)
  static domain& default_domain() { return hazard_pointer_default_domain(); }
#endif

  template <class Node>
  using node_base = hazard_pointer_obj_base<Node>;

  class guard {
   public:
    explicit guard(domain& d) : hp_(make_hazard_pointer(d)) {}

    template <class Node>
    Node* protect(const lf::atomic<Node*>& src) noexcept {
      return hp_.protect(src);
    }
    void reset() noexcept { hp_.reset_protection(); }

   private:
    hazard_pointer hp_;
  };

  template <class Node>
  static void retire(domain& d, Node* node) noexcept {
    node->retire(d);
  }
};

}  // namespace lf
