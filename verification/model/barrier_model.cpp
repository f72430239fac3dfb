// Model lane for lf::barrier (patterns/barrier.hpp, patterns/detail/barrier_algorithms.hpp)
// and lf::phaser (patterns/phaser.hpp), from those very headers.
//
// Cases:
//   central_two_phases        3 parties, two phases of arrive_and_wait, sense-reversing
//   dissemination_two_phases  the same over the dissemination policy (3 slots, 2 rounds)
//       Each party writes its own cell of the phase before it arrives. The completion
//       reads every cell of its phase (the arrivals happen before it), writes the phase's
//       "completed" cell and counts its runs; each leaver reads the "completed" cell (the
//       completion happens before every leaver) and every party's cell (nobody leaves
//       phase k before everyone arrived). After: exactly one completion per phase. Plain
//       cells make a missing happens-before edge a DATA RACE, a missing arrival a USER
//       ASSERT. Waiters spin once, then park (spin_limit shrinks under the model), so a
//       lost wake-up is a DEADLOCK.
//   drop_races_arrivals       3 parties: one arrive_and_drop()s while two arrive_and_wait
//       twice: the second phase expects 2 and ends (else DEADLOCK), the completion runs
//       twice.
//   phaser_deregisters_during_advance   3 parties of a phaser: one arrives and
//       deregisters while two arrive_and_await_advance twice: the first advance carries
//       all three parties' writes, the second needs only the two that stayed.
//
// Search: random, 200,000 schedules each (3 threads, 2 phases, ~40-80 atomic steps per
// schedule; about 15 s for the binary). The mutants in verification/mutants/barrier.cmake
// (a relaxed arrival, the phase published before the completion, a wake-up skipped, a
// drop not counted, a relaxed counter step, a relaxed phaser CAS) are each killed in the
// first schedule: every schedule of these cases crosses the edge each one removes. The
// bound is there for the orders the mutants do not name (a claim probing past a taken
// slot, a late dissemination relay, a deregistration landing in either phase).
#include "patterns/barrier.hpp"
#include "patterns/phaser.hpp"
#include "sync/cell.hpp"
#include "verification/model/model_driver.hpp"

namespace {

constexpr int parties = 3;
constexpr int phases = 2;

// Shared by the two barrier cases: cells per phase and party, and the completion's cells.
struct phase_cells {
  lf::cell<int> arrived[phases][parties];
  lf::cell<int> completed[phases];
  lf::cell<int> runs;

  void init() {
    for (auto& row : arrived)
      for (auto& c : row) *c.write() = 0;
    for (auto& c : completed) *c.write() = 0;
    *runs.write() = 0;
  }

  // The completion of the phase that is `*runs` (the completions are ordered by the barrier).
  void complete() {
    const int phase = *runs.read();
    RL_ASSERT(phase < phases);
    for (auto& c : arrived[phase]) RL_ASSERT(*c.read() == 1);
    *completed[phase].write() = 1;
    *runs.write() = phase + 1;
  }

  void check_left(int phase) {
    RL_ASSERT(*completed[phase].read() == 1);
    for (auto& c : arrived[phase]) RL_ASSERT(*c.read() == 1);
  }
};

struct completion_fn {
  phase_cells* cells;
  void operator()() noexcept { cells->complete(); }
};

template <class Policy, class Derived>
struct two_phases : rl::test_suite<Derived, parties> {
  phase_cells cells;
  lf::barrier<completion_fn, Policy> b{parties, completion_fn{&cells}};

  void before() { cells.init(); }

  void thread(unsigned index) {
    for (int phase = 0; phase < phases; ++phase) {
      *cells.arrived[phase][index].write() = 1;
      b.arrive_and_wait();
      cells.check_left(phase);
    }
  }

  void after() { RL_ASSERT(*cells.runs.read() == phases); }
};

struct central_two_phases : two_phases<lf::barrier_policy::central, central_two_phases> {};
struct dissemination_two_phases : two_phases<lf::barrier_policy::dissemination, dissemination_two_phases> {};

struct drop_races_arrivals : rl::test_suite<drop_races_arrivals, 3> {
  lf::cell<int> runs;
  struct count_runs {
    lf::cell<int>* runs;
    void operator()() noexcept { *runs->write() = *runs->read() + 1; }
  };
  lf::barrier<count_runs> b{3, count_runs{&runs}};

  void before() { *runs.write() = 0; }

  void thread(unsigned index) {
    if (index == 0) {
      b.arrive_and_drop();
    } else {
      b.arrive_and_wait();
      RL_ASSERT(*runs.read() >= 1);
      b.arrive_and_wait();  // the second phase expects the two that stayed
      RL_ASSERT(*runs.read() == 2);
    }
  }
};

struct phaser_deregisters_during_advance : rl::test_suite<phaser_deregisters_during_advance, 3> {
  lf::phaser ph{3};
  lf::cell<int> wrote[3];

  void before() {
    for (auto& c : wrote) *c.write() = 0;
  }

  void thread(unsigned index) {
    *wrote[index].write() = 1;
    if (index == 0) {
      RL_ASSERT(ph.arrive_and_deregister() == 0);
      return;
    }
    RL_ASSERT(ph.arrive_and_await_advance() == 1);
    for (auto& c : wrote) RL_ASSERT(*c.read() == 1);  // the advance carries every arrival
    RL_ASSERT(ph.arrive_and_await_advance() == 2);    // two parties are left
  }

  void after() {
    RL_ASSERT(ph.phase() == 2);
    RL_ASSERT(ph.registered_parties() == 2);
  }
};

}  // namespace

int main(int argc, char** argv) {
  using lf::model::search;
  return lf::model::run_cases(
      argc, argv,
      {
          LF_MODEL_CASE("central_two_phases", search::random(200000), central_two_phases),
          LF_MODEL_CASE("dissemination_two_phases", search::random(200000), dissemination_two_phases),
          LF_MODEL_CASE("drop_races_arrivals", search::random(200000), drop_races_arrivals),
          LF_MODEL_CASE("phaser_deregisters_during_advance", search::random(200000), phaser_deregisters_during_advance),
      });
}
