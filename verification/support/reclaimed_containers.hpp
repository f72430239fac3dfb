// Test support: the containers that free nodes, each over every reclaimer, as one type
// list for GoogleTest's typed tests (DESIGN §3: one container compared across hazard
// pointers, epochs and RCU; the unit and stress lanes run each pair).
#pragma once

#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "lockfree/elimination_stack.hpp"
#include "lockfree/lcrq.hpp"
#include "lockfree/lprq.hpp"
#include "lockfree/ms_queue.hpp"
#include "lockfree/treiber_stack.hpp"
#include "rcu/epoch_reclaimer.hpp"
#include "rcu/hazard_pointer_reclaimer.hpp"
#include "rcu/rcu_reclaimer.hpp"
#include "verification/support/counting_reclaimer.hpp"


namespace lf::test {

// One container over one reclaimer, counted: R::live_nodes says what is still allocated.
template <template <class, class> class Container, class Reclaimer, bool Fifo, const char* Name>
struct pairing {
  static constexpr const char* name = Name;
  using reclaimer = counting<Reclaimer>;
  using container = Container<std::uint64_t, reclaimer>;
  using domain = typename reclaimer::domain;
  static constexpr bool fifo = Fifo;
};

inline constexpr char treiber_hp[] = "treiber_stack_over_hazard_pointers";
inline constexpr char elimination_hp[] = "elimination_stack_over_hazard_pointers";
// LCRQ with two-cell rings: a ring closes every few pushes, so the typed suites also
// check ring turnover (rings closed, unlinked and retired thousands of times a run).
template <class T, class R>
struct lcrq_ring2 : lcrq<T, R> {
  explicit lcrq_ring2(typename R::domain& d) : lcrq<T, R>(d, 2) {}
};

// LPRQ likewise (its 8-byte values travel boxed, so boxes churn with the rings).
template <class T, class R>
struct lprq_ring2 : lprq<T, R> {
  explicit lprq_ring2(typename R::domain& d) : lprq<T, R>(d, 2) {}
};

inline constexpr char ms_queue_hp[] = "ms_queue_over_hazard_pointers";
inline constexpr char lcrq_hp[] = "lcrq_over_hazard_pointers";
inline constexpr char lcrq_ring2_hp[] = "lcrq_ring2_over_hazard_pointers";
inline constexpr char lcrq_epoch[] = "lcrq_over_epochs";
inline constexpr char lcrq_ring2_epoch[] = "lcrq_ring2_over_epochs";
inline constexpr char lcrq_rcu[] = "lcrq_over_rcu";
inline constexpr char lcrq_ring2_rcu[] = "lcrq_ring2_over_rcu";
inline constexpr char lprq_hp[] = "lprq_over_hazard_pointers";
inline constexpr char lprq_ring2_hp[] = "lprq_ring2_over_hazard_pointers";
inline constexpr char lprq_epoch[] = "lprq_over_epochs";
inline constexpr char lprq_ring2_epoch[] = "lprq_ring2_over_epochs";
inline constexpr char lprq_rcu[] = "lprq_over_rcu";
inline constexpr char lprq_ring2_rcu[] = "lprq_ring2_over_rcu";
inline constexpr char treiber_epoch[] = "treiber_stack_over_epochs";
inline constexpr char elimination_epoch[] = "elimination_stack_over_epochs";
inline constexpr char ms_queue_epoch[] = "ms_queue_over_epochs";
inline constexpr char treiber_rcu[] = "treiber_stack_over_rcu";
inline constexpr char elimination_rcu[] = "elimination_stack_over_rcu";
inline constexpr char ms_queue_rcu[] = "ms_queue_over_rcu";

using all_pairings = ::testing::Types<pairing<treiber_stack, hazard_pointer_reclaimer, false, treiber_hp>,
                                      pairing<elimination_stack, hazard_pointer_reclaimer, false, elimination_hp>,
                                      pairing<ms_queue, hazard_pointer_reclaimer, true, ms_queue_hp>,
                                      pairing<treiber_stack, epoch_reclaimer, false, treiber_epoch>,
                                      pairing<elimination_stack, epoch_reclaimer, false, elimination_epoch>,
                                      pairing<ms_queue, epoch_reclaimer, true, ms_queue_epoch>,
                                      pairing<treiber_stack, rcu_reclaimer, false, treiber_rcu>,
                                      pairing<elimination_stack, rcu_reclaimer, false, elimination_rcu>,
                                      pairing<ms_queue, rcu_reclaimer, true, ms_queue_rcu>,
                                      pairing<lcrq, hazard_pointer_reclaimer, true, lcrq_hp>,
                                      pairing<lcrq_ring2, hazard_pointer_reclaimer, true, lcrq_ring2_hp>,
                                      pairing<lcrq, epoch_reclaimer, true, lcrq_epoch>,
                                      pairing<lcrq_ring2, epoch_reclaimer, true, lcrq_ring2_epoch>,
                                      pairing<lcrq, rcu_reclaimer, true, lcrq_rcu>,
                                      pairing<lcrq_ring2, rcu_reclaimer, true, lcrq_ring2_rcu>,
                                      pairing<lprq, hazard_pointer_reclaimer, true, lprq_hp>,
                                      pairing<lprq_ring2, hazard_pointer_reclaimer, true, lprq_ring2_hp>,
                                      pairing<lprq, epoch_reclaimer, true, lprq_epoch>,
                                      pairing<lprq_ring2, epoch_reclaimer, true, lprq_ring2_epoch>,
                                      pairing<lprq, rcu_reclaimer, true, lprq_rcu>,
                                      pairing<lprq_ring2, rcu_reclaimer, true, lprq_ring2_rcu>>;

// Names the typed tests after the pairing: "ms_queue_over_hazard_pointers".
struct pairing_name {
  template <class P>
  static std::string GetName(int) {
    return P::name;
  }
};

}  // namespace lf::test
