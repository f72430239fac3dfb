// Test support: a reclaimer that frees nothing until its domain is destroyed, and whose
// protect is one acquire load. It adds no fence and no synchronization of its own, so a
// model case over it checks a container's own memory orders: with hazard pointers the
// seq_cst fences inside protect can hide a missing release in the container (a fence
// after the writer's last write and one before the reader's use synchronize by
// themselves). Memory safety is then trivial (nothing is freed during the case), which
// is why the containers' model tests run over hazard pointers too.
#pragma once

#include <cstddef>

#include "sync/atomic.hpp"

namespace lf::test {

struct deferred_reclaimer {
  struct retired {
    retired* next_retired = nullptr;
    void (*destroy)(retired*) noexcept = nullptr;
  };

  class domain {
   public:
    domain() = default;
    domain(const domain&) = delete;
    domain& operator=(const domain&) = delete;
    ~domain() {
      retired* r = list_.load(std::memory_order_relaxed);
      while (r != nullptr) {
        retired* const next = r->next_retired;
        r->destroy(r);
        r = next;
      }
    }
    void add(retired* r) noexcept {
      retired* head = list_.load(std::memory_order_relaxed);
      do {
        r->next_retired = head;
        // relaxed: the list is read only by the destructor, after every thread is done;
        // an ordering here would add the synchronization this reclaimer must not add.
      } while (!list_.compare_exchange_weak(head, r, std::memory_order_relaxed, std::memory_order_relaxed));
      count_.fetch_add(1, std::memory_order_relaxed);
    }
    std::size_t unreclaimed() const noexcept { return count_.load(std::memory_order_relaxed); }

   private:
    lf::atomic<retired*> list_{nullptr};
    lf::atomic<std::size_t> count_{0};
  };

  template <class Node>
  struct node_base : retired {
    node_base() noexcept { this->destroy = [](retired* r) noexcept { delete static_cast<Node*>(r); }; }
  };

  class guard {
   public:
    explicit guard(domain&) noexcept {}
    template <class Node>
    Node* protect(const lf::atomic<Node*>& src) noexcept {
      return src.load(std::memory_order_acquire);
    }
    void reset() noexcept {}
  };

  template <class Node>
  static void retire(domain& d, Node* n) noexcept {
    d.add(static_cast<retired*>(n));
  }
};

}  // namespace lf::test
