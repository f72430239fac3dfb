// Model lane for lockfree/elimination_stack.hpp over hazard pointers, built from the
// shipped headers through the seam.
//
// What is checked: every value is taken exactly once (popped during the case or left in
// the stack); an eliminated pop reads the pusher's value through a happens-before edge
// (DATA RACE otherwise) and owns the node it deletes (ACCESS TO FREED MEMORY if the
// pusher could still use it); no node leaks (MEMORY LEAK). Under the model the array has
// one slot and a pusher waits one pause (detail::elimination_tuning), so a push and a pop
// whose head CASes fail meet in every schedule that makes them fail. Relacy lets a weak
// CAS fail spuriously, so the head CAS fails without contention too and the elimination
// path is explored even in two-thread schedules.
//
// Searches and why they suffice. The hand-off through a slot takes one preemption or one
// spurious failure (a pusher parked in the slot while the popper arrives), and the
// treiber_stack model already covers the head with two-preemption searches: the two
// cases run 300'000 random schedules each; the mutant lane shows each elimination order
// and the withdrawal protocol caught by them.
#include <optional>

#include "lockfree/elimination_stack.hpp"
#include "rcu/hazard_pointer.hpp"
#include "rcu/hazard_pointer_reclaimer.hpp"
#include "verification/model/model_driver.hpp"
#include "verification/model/popped_log.hpp"

namespace {

using stack = lf::elimination_stack<int, lf::hazard_pointer_reclaimer>;

using lf::model::popped_log;

template <class Derived, unsigned Threads>
struct stack_case : rl::test_suite<Derived, Threads> {
  std::optional<lf::hazard_domain> domain;
  std::optional<stack> s;

  void before() {
    domain.emplace();
    s.emplace(*domain);
  }
  void finish() {
    s.reset();
    domain.reset();
  }
};

// (1) Thread 0 pushes 1 and 2 and pops; thread 1 pops twice and pushes 3: pushes and pops
// meet on the head and, when a CAS fails, in the slot.
struct push_pop_two_threads : stack_case<push_pop_two_threads, 2> {
  popped_log<2, 2> log;
  void after() {
    log.check_exactly_once(*s, 3);
    finish();
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

// (2) Two pushers and one popper on a stack that starts as [1]: the pushers collide on
// the head, so one of them offers its node in the slot while the popper arrives.
struct two_pushers_one_popper : stack_case<two_pushers_one_popper, 3> {
  popped_log<3, 2> log;
  void before() {
    stack_case::before();
    s->push(1);
  }
  void after() {
    log.check_exactly_once(*s, 3);
    finish();
  }
  void thread(unsigned index) {
    if (index == 2) {
      for (int i = 0; i < 2; ++i) {
        if (std::optional<int> v = s->try_pop()) log.record(index, *v);
      }
    } else {
      s->push(static_cast<int>(index) + 2);
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  using lf::model::search;
  return lf::model::run_cases(argc, argv,
                              {
                                  LF_MODEL_CASE("push_pop_two_threads", search::random(300000), push_pop_two_threads),
                                  LF_MODEL_CASE("two_pushers_one_popper", search::random(300000), two_pushers_one_popper),
                              });
}
