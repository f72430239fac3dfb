// Model lane for lockfree/chase_lev_deque.hpp, built from the shipped header through the
// seam.
//
// What every case checks: elements are the distinct ints 1..N; whoever takes one (the
// owner's pop or a thief's successful steal) asserts it is in range (a slot read before
// its write, or from the wrong array, yields 0 or a stale value) and counts it; the
// owner ends by popping until the deque reports empty, and after() asserts that every
// element was taken exactly once. A slot is a relaxed lf::atomic, so Relacy reports no
// race on it: a mis-ordered slot read shows up as a wrong or doubled value (USER ASSERT
// FAILED). The array's size is an lf::cell, so a thief that reads an array it did not
// acquire is a DATA RACE, and an array freed under a thief is ACCESS TO FREED MEMORY.
//
// Searches (DESIGN §2 costs). Each case kills mutants listed in verification/mutants/
// chase_lev_deque.cmake; the times are this binary's on the 2-core dev machine (g++ 12,
// -O1), and the whole binary runs in about 20 s.
// - last_element_race: context bound 4 over 2 threads, 228'366 schedules, 0.5 s. Every
//   schedule with up to four preemptions between the owner and the thief: the bugs it is
//   for (a missing or weakened fence, the missing CAS, an unpublished slot) are found
//   with two already.
// - two_thieves: context bound 2 over 3 threads, 820'680 schedules, 3.4 s: every
//   schedule with two preemptions. (Bound 3 is 27.8 M schedules, 116 s: too dear here.)
// - growth_during_steals: random, 200'000 schedules, 1.6 s. The growth mutants die
//   within the first 300 (a thief must load the array pointer, then be preempted across
//   a whole growth). growth_during_steals_bound2 runs the same case exhaustively for
//   two preemptions (1.55 M schedules, 13 s); it kills those mutants too, but finds the
//   array-before-bottom one only after 1.4 M schedules, so the mutant lane uses the
//   random case.
#include <optional>

#include "lockfree/chase_lev_deque.hpp"
#include "verification/model/model_driver.hpp"

namespace {

using deque = lf::chase_lev_deque<int>;

// Per-element take counts, checked in after(). Plain ints: Relacy runs the threads as
// fibers of one OS thread, and these are the test's bookkeeping, not shared state of
// the algorithm.
template <int N>
struct ledger {
  int taken[N + 1] = {};

  void take(int v) {
    RL_ASSERT(v >= 1 && v <= N);  // 0 is an unwritten slot; anything else a corrupt read
    ++taken[v];
  }
  void check_exactly_once() const {
    for (int v = 1; v <= N; ++v) RL_ASSERT(taken[v] == 1);
  }
};

// (a) Owner: push 1, 2; then pop until empty. Thief: two single steal attempts. The
// owner's second pop races the thief for the last element: exactly one of them may get
// it. Two elements rather than one, because the fence in pop matters only when the
// owner believes two are left while a thief has already taken one.
struct last_element_race : rl::test_suite<last_element_race, 2> {
  std::optional<deque> q;
  ledger<2> got;

  void before() {
    q.emplace(4);
    got = {};
  }
  void after() {
    got.check_exactly_once();
    RL_ASSERT(q->size_approx() == 0);
    q.reset();
  }

  void thread(unsigned index) {
    if (index == 0) {
      q->push(1);
      q->push(2);
      while (std::optional<int> v = q->pop()) got.take(*v);
    } else {
      for (int i = 0; i < 2; ++i) {
        if (const lf::stolen<int> s = q->steal()) got.take(s.value);
      }
    }
  }
};

// (b) Owner: push 1, 2, 3, pop, push 4, then pop until empty. Two thieves, each with
// try_steal twice (it retries lost races). Every element taken exactly once.
struct two_thieves : rl::test_suite<two_thieves, 3> {
  std::optional<deque> q;
  ledger<4> got;

  void before() {
    q.emplace(4);
    got = {};
  }
  void after() {
    got.check_exactly_once();
    q.reset();
  }

  void thread(unsigned index) {
    if (index == 0) {
      q->push(1);
      q->push(2);
      q->push(3);
      if (std::optional<int> v = q->pop()) got.take(*v);
      q->push(4);
      while (std::optional<int> v = q->pop()) got.take(*v);
    } else {
      for (int i = 0; i < 2; ++i) {
        if (std::optional<int> v = q->try_steal()) got.take(*v);
      }
    }
  }
};

// (c) Capacity 2; the owner pushes 1..9 while a thief makes three steal attempts, then
// pops until empty. At least six elements are inside when the ninth is pushed, so the
// array grows at least twice (2 -> 4 -> 8), with the thief reading old and new arrays.
struct growth_during_steals : rl::test_suite<growth_during_steals, 2> {
  static constexpr int n = 9;
  std::optional<deque> q;
  ledger<n> got;
  std::size_t grown_to = 0;

  void before() {
    q.emplace(2);
    got = {};
    grown_to = 0;
  }
  void after() {
    got.check_exactly_once();
    RL_ASSERT(grown_to >= 8);
    q.reset();
  }

  void thread(unsigned index) {
    if (index == 0) {
      for (int v = 1; v <= n; ++v) q->push(v);
      grown_to = q->capacity();
      while (std::optional<int> v = q->pop()) got.take(*v);
    } else {
      for (int i = 0; i < 3; ++i) {
        if (const lf::stolen<int> s = q->steal()) got.take(s.value);
      }
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  using lf::model::search;
  return lf::model::run_cases(argc, argv,
                              {
                                  LF_MODEL_CASE("last_element_race", search::bounded(4), last_element_race),
                                  LF_MODEL_CASE("two_thieves", search::bounded(2), two_thieves),
                                  LF_MODEL_CASE("growth_during_steals", search::random(200000), growth_during_steals),
                                  LF_MODEL_CASE("growth_during_steals_bound2", search::bounded(2), growth_during_steals),
                              });
}
