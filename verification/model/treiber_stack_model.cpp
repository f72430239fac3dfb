// Model lane for lockfree/treiber_stack.hpp over hazard pointers, built from the shipped
// headers through the seam.
//
// What is checked: every value is taken exactly once (each case records what its threads
// popped and checks, in after(), that popped plus left over is what was pushed, once
// each); a popper never reads a freed node (ACCESS TO FREED MEMORY) nor a value or link
// that no happens-before edge publishes (DATA RACE on the node's lf::cell); no node leaks
// (the stack and then the domain the case owns are destroyed in after(), and Relacy's
// allocator reports a MEMORY LEAK for any node not freed by then). Under the model every
// retire scans (lf::detail::hazard_tuning), and Relacy's allocator hands a freed block to
// the next allocation of its size, so a node freed too early is reused, as in ABA.
//
// Searches and why they suffice. A publication bug (a relaxed push CAS) and a missing or
// broken protection (freeing a node another popper still reads) need one preemption: a
// popper stopped between loading the top and reading its successor. The ABA failure of
// an unprotected CAS needs, with two threads, one preemption too (the popper stopped
// after reading the successor; the other thread pops, frees, pushes the reused node and
// finishes, which hands the processor back without a preemption). So
// push_pop_two_threads runs context bound 1, exhaustive (137'816 schedules, about 1 s on
// the 2-core dev machine), and 200'000 random schedules (about 1 s) for more
// preemptions. Context bound 2 on the same case takes 57 s (12'394'000 schedules) and is
// left out to keep this binary under a minute. The three-thread ABA shape is too large
// for an exhaustive bound (bound 1 did not finish in 5 minutes): it runs 1'000'000
// random schedules (about 7 s), ten times what DESIGN §2 says finds an ABA bug.
#include <optional>

#include "lockfree/treiber_stack.hpp"
#include "rcu/hazard_pointer.hpp"
#include "rcu/hazard_pointer_reclaimer.hpp"
#include "rcu/reclaimer.hpp"
#include "verification/model/model_driver.hpp"
#include "verification/model/popped_log.hpp"

namespace {

// The policy is named, not defaulted: this binary is also the model test of
// rcu/hazard_pointer_reclaimer.hpp, and its contract (rcu/reclaimer.hpp) must hold under
// the model's lf::atomic as it does in production.
static_assert(lf::reclaimer<lf::hazard_pointer_reclaimer>);
using stack = lf::treiber_stack<int, lf::hazard_pointer_reclaimer>;

using lf::model::popped_log;

// (1) Thread 0 pushes 1 and 2, then pops; thread 1 pops twice, then pushes 3. Thread 1's
// pops race thread 0's pushes for thread 0's nodes (a cross-thread hand-off needs no
// preemption at all). It is also the two-thread ABA shape: thread 0 stopped inside its
// pop after reading the successor of node 2, thread 1 pops 2 and 1 and pushes 3, which
// an early free would place at node 2's address; thread 0's CAS then finds "node 2" on
// top and would install the freed node 1. One preemption, and the switch back when
// thread 1 finishes, which costs none.
struct push_pop_two_threads : rl::test_suite<push_pop_two_threads, 2> {
  std::optional<lf::hazard_domain> domain;
  std::optional<stack> s;
  popped_log<2, 2> log;

  void before() {
    domain.emplace();
    s.emplace(*domain);
  }
  void after() {
    log.check_exactly_once(*s, 3);
    s.reset();
    domain.reset();
  }

  void thread(unsigned index) {
    if (index == 0) {
      s->push(1);
      s->push(2);
      if (std::optional<int> v = s->try_pop()) log.record(index, *v);
    } else {
      for (int i = 0; i < 2; ++i) {
        if (std::optional<int> v = s->try_pop()) log.record(index, *v);
      }
      s->push(3);
    }
  }
};

// (2) The ABA shape: the stack starts as 2 -> 1. Two poppers take one value each while a
// third thread pushes 3 and pops once. A popper stopped between reading the successor of
// the top and its CAS sees the top popped, freed and (without hazard pointers) reused
// by the push of 3.
struct aba_two_poppers_one_pusher : rl::test_suite<aba_two_poppers_one_pusher, 3> {
  std::optional<lf::hazard_domain> domain;
  std::optional<stack> s;
  popped_log<3, 1> log;

  void before() {
    domain.emplace();
    s.emplace(*domain);
    s->push(1);
    s->push(2);
  }
  void after() {
    log.check_exactly_once(*s, 3);
    s.reset();
    domain.reset();
  }

  void thread(unsigned index) {
    if (index == 2) s->push(3);
    if (std::optional<int> v = s->try_pop()) log.record(index, *v);
  }
};

}  // namespace

int main(int argc, char** argv) {
  using lf::model::search;
  return lf::model::run_cases(argc, argv,
                              {
                                  LF_MODEL_CASE("push_pop_two_threads", search::bounded(1), push_pop_two_threads),
                                  LF_MODEL_CASE("push_pop_two_threads_random", search::random(200000), push_pop_two_threads),
                                  LF_MODEL_CASE("aba_two_poppers_one_pusher", search::random(1000000), aba_two_poppers_one_pusher),
                              });
}
