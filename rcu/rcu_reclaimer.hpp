// lf::rcu_reclaimer — the reclaimer policy (rcu/reclaimer.hpp) over RCU (rcu/rcu.hpp): a
// guard is a read-side critical section, entered at its first protect and left at reset
// or at the guard's end; protect inside it is a plain acquire load; retire hands the node
// to the domain, which deletes it after a grace period.
//
// Guards nest: an operation that holds two guards of one domain (the Michael-Scott queue)
// holds two nested sections, and a node stays valid until the outer one ends. retire never
// waits for a grace period (rcu/rcu.hpp, "Progress"), so a container's pop that retires
// while a guard of its thread is still active stays lock-free and cannot deadlock.
#pragma once

#include <memory>

#include "rcu/rcu.hpp"
#include "sync/atomic.hpp"

namespace lf {

struct rcu_reclaimer {
  using domain = rcu_domain;

#if !defined(LF_MODEL_RELACY)
  static domain& default_domain() { return rcu_default_domain(); }
#endif

  template <class Node>
  using node_base = rcu_obj_base<Node>;

  class guard {
   public:
    explicit guard(domain& d) noexcept : domain_(&d) {}
    guard(const guard&) = delete;
    guard& operator=(const guard&) = delete;
    ~guard() { reset(); }

    template <class Node>
    Node* protect(const lf::atomic<Node*>& src) noexcept {
      if (!inside_) {
        domain_->lock();
        inside_ = true;
      }
      // acquire: pairs with the release that published the node (the container's, e.g.
      // treiber_stack's (T1)); the section keeps it from being freed.
      return src.load(std::memory_order_acquire);
    }

    void reset() noexcept {
      if (inside_) {
        inside_ = false;
        domain_->unlock();
      }
    }

   private:
    domain* domain_;
    bool inside_ = false;
  };

  template <class Node>
  static void retire(domain& d, Node* node) noexcept {
    node->retire(std::default_delete<Node>(), d);
  }
};

}  // namespace lf
