// Model lane for lockfree/lcrq.hpp over hazard pointers, built from the shipped header
// through the seam: the cases of verification/model/ring_queue_cases.hpp (what they check
// is said there) over lf::lcrq.
//
// Searches and why they suffice. one_cell (one pusher, one popper on one cell: the
// push-versus-invalidate race) is small enough for an exhaustive context bound of 2. The
// three-thread cases (pushers racing while a ring closes; two poppers crossing an empty
// ring's tail, marking a cell unsafe and unlinking a ring while a pusher appends) run
// 150'000 random schedules each: DESIGN §2 measured ~10^5 random schedules to find a
// two-preemption (ABA-class) bug in cases of this size, and the mutant lane shows each
// mutant written for these cases caught (most within a few thousand schedules).
#include "lockfree/lcrq.hpp"
#include "verification/model/ring_queue_cases.hpp"

int main(int argc, char** argv) {
  using lf::model::search;
  using namespace lf::model::ring_queue;
  return lf::model::run_cases(
      argc, argv,
      {
          LF_MODEL_CASE("one_cell", search::bounded(2), one_cell<lf::lcrq, int>),
          LF_MODEL_CASE("one_cell_boxed", search::bounded(2), one_cell<lf::lcrq, boxed>),
          LF_MODEL_CASE("ring_closes_while_pushers_race", search::random(150000), ring_closes_while_pushers_race<lf::lcrq, int>),
          LF_MODEL_CASE("ring_closes_while_pushers_race_boxed", search::random(150000), ring_closes_while_pushers_race<lf::lcrq, boxed>),
          LF_MODEL_CASE("ring_closes_while_pushers_race_boxed_bare", search::random(150000), ring_closes_while_pushers_race<lf::lcrq, boxed, lf::test::deferred_reclaimer>),
          LF_MODEL_CASE("pusher_stalled_on_a_closing_ring", search::random(150000), pusher_stalled_on_a_closing_ring<lf::lcrq, int>),
          LF_MODEL_CASE("two_poppers_one_pusher", search::random(150000), two_poppers_one_pusher<lf::lcrq, int>),
          LF_MODEL_CASE("two_poppers_one_pusher_boxed", search::random(150000), two_poppers_one_pusher<lf::lcrq, boxed>),
      });
}
