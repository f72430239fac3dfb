// Model lane for lf::wait_group (patterns/wait_group.hpp), from that very header.
//
// Two workers each write their result and call done(); the main thread waits and must
// then see both results (a cell each, so a missing happens-before edge is a DATA RACE)
// and must return at all (a lost wake-up is a DEADLOCK).
//
// Search: context bound 2, exhaustive within the bound. A lost wake-up or an early
// return needs one preemption; the mutants in verification/mutants/wait_group.cmake are
// killed at K=2.
#include "patterns/wait_group.hpp"
#include "sync/atomic.hpp"
#include "sync/cell.hpp"
#include "verification/model/model_driver.hpp"

namespace {

struct two_workers_done_while_main_waits : rl::test_suite<two_workers_done_while_main_waits, 3> {
  lf::wait_group group;
  lf::cell<int> result[2];

  void before() {
    group.add(2);
    *result[0].write() = 0;
    *result[1].write() = 0;
  }

  void thread(unsigned index) {
    if (index == 0) {
      group.wait();
      RL_ASSERT(*result[0].read() == 1);
      RL_ASSERT(*result[1].read() == 2);
      RL_ASSERT(group.count_approx() == 0);
      return;
    }
    *result[index - 1].write() = static_cast<int>(index);
    group.done();
  }
};

}  // namespace

int main(int argc, char** argv) {
  using lf::model::search;
  return lf::model::run_cases(argc, argv,
                              {
                                  LF_MODEL_CASE("two_workers_done_while_main_waits", search::bounded(2), two_workers_done_while_main_waits),
                              });
}
