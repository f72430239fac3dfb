// Test support: objects whose deleter retires the next object of a chain, as a node that
// owns a node would. Each reclamation scheme's unit test uses it to check that its domain
// frees what deleters retire while the domain is collecting or being destroyed.
//
//   using chain = lf::test::retire_chain<lf::epoch_obj_base, lf::epoch_domain, retire_to>;
//   chain::retire_new_chain(domain, 5);   // retires the head; each deleter retires the next
//   ... chain::deleted == 5 once the domain is gone
// `Retire` is a stateless callable, Retire{}(node*, Domain&), that retires one object the
// way the scheme spells it.
#pragma once

namespace lf::test {

template <template <class, class> class ObjBase, class Domain, class Retire>
struct retire_chain {
  struct node;
  struct deleter {
    void operator()(node* c) const noexcept {
      if (c->next != nullptr) Retire{}(c->next, *c->domain);
      ++deleted;
      delete c;
    }
  };
  struct node : ObjBase<node, deleter> {
    node* next = nullptr;  // hides nothing of the base: its header's names are prefixed
    Domain* domain = nullptr;
  };

  static inline int deleted = 0;

  // Builds a chain of n objects of `domain` and retires its head.
  static void retire_new_chain(Domain& domain, int n) {
    deleted = 0;
    node* head = nullptr;
    for (int i = 0; i < n; ++i) {
      auto* c = new node;
      c->next = head;
      c->domain = &domain;
      head = c;
    }
    Retire{}(head, domain);
  }
};

}  // namespace lf::test
