// lf — the reclaimer policy: what a container that frees nodes asks of a memory
// reclamation scheme, so that one container can be run and compared over hazard
// pointers, epochs and RCU (xenium does the same with its reclaimer parameter).
//
// A reclaimer R is a stateless policy type; its state lives in a domain the container
// is given. It provides:
//   R::domain                   the scheme's domain type; containers hold a reference.
//   R::default_domain()         the domain of containers built without one (absent under
//                               the model, where each test owns its domain).
//   R::node_base<Node>          a base class every node derives from (the scheme's
//                               per-object header). Nodes are created with `new`; the
//                               scheme deletes retired ones with `delete`.
//   R::guard(domain&)           RAII, one per operation and thread: while it lives, a
//                               node obtained from its protect is not freed.
//   guard.protect(src)          loads an lf::atomic<Node*> and returns a pointer that stays
//                               dereferenceable until the next protect, reset or the
//                               guard's end. The load is at least acquire.
//   guard.reset()               ends the protection of the last protect.
//   R::retire(domain&, Node*)   the node is unlinked (no new reader can reach it); free it
//                               once no guard can still hold it. Never blocks: a thread
//                               may retire while another of its guards is alive.
//   domain.unreclaimed()        objects retired and not yet freed (a snapshot).
// Hazard pointers give a guard one hazard slot and protect re-validates. An epoch guard
// pins the epoch at its first protect and unpins at reset; an RCU guard enters a
// read-side critical section at its first protect and leaves it at reset (both nest, so
// a second guard of the same thread keeps the first's protection). protect is then a
// plain acquire load. A guard protects one node at a time; an operation that needs two at
// once holds two guards. Containers reset their guards before they retire, and delete
// the nodes still linked in their destructor directly.
#pragma once

#include <concepts>
#include <cstddef>

#include "sync/atomic.hpp"

namespace lf {

namespace detail {
template <class R>
struct reclaimer_probe : R::template node_base<reclaimer_probe<R>> {};
}  // namespace detail

template <class R>
concept reclaimer = requires(typename R::domain& domain, typename R::guard& guard,
                             const lf::atomic<detail::reclaimer_probe<R>*>& src, detail::reclaimer_probe<R>* node) {
  requires std::constructible_from<typename R::guard, typename R::domain&>;
  { guard.protect(src) } -> std::same_as<detail::reclaimer_probe<R>*>;
  guard.reset();
  R::retire(domain, node);
  { static_cast<const typename R::domain&>(domain).unreclaimed() } -> std::same_as<std::size_t>;
};

}  // namespace lf
