// Model lane for lf::rate_limiter (patterns/rate_limiter.hpp), from that very header.
//
// Time is a fake clock held still at t, so every answer is fixed by the order in which
// the operations' CASes land; each case asserts that the final bucket is what some
// sequential order of the same operations leaves (tokens neither created nor destroyed
// by the concurrency).
//
// Cases:
//   set_limit_races_reserve_and_cancel  a set_limit (1/s -> 2/s) races a reservation
//                                       that is then cancelled and an allow: at t the
//                                       bucket of 3 must end with exactly 2 tokens in
//                                       every order (the cancel gives back a token that
//                                       nothing queued behind), the allow must succeed,
//                                       and the limit must be 2/s. A reader that used the
//                                       settings of a generation it did not see published
//                                       (or a rebase that lost the rescale) breaks this.
//   allows_race_for_the_last_token      two allows on a bucket of 1: exactly one wins.
//   cancel_races_a_queued_reservation   on an empty bucket (1/s, burst 1), r is reserved
//                                       and cancelled while r2 is reserved: either r2
//                                       queued behind r (due 2 s; r's cancel gives back
//                                       nothing, x/time/rate's rule, bucket -2) or it did
//                                       not (due 1 s; bucket -1). Any other pair is a
//                                       token made or lost.
//
// Search: random, 100,000 schedules each (2-3 threads, 3-6 CASes per schedule). The
// orders that matter are which CAS lands first, one preemption each; the stale-settings
// read needs a relaxed load to return an older value, which Relacy's random scheduler
// picks often. The mutants in verification/mutants/rate_limiter.cmake are each killed
// within a few hundred schedules.
#include <chrono>
#include <cstdint>

#include "patterns/rate_limiter.hpp"
#include "verification/model/model_driver.hpp"

namespace {

using tp = std::chrono::steady_clock::time_point;
const tp t = tp(std::chrono::hours(1000));

struct set_limit_races_reserve_and_cancel : rl::test_suite<set_limit_races_reserve_and_cancel, 3> {
  lf::rate_limiter lim{lf::rate_limit(1), 3};
  bool allowed = false;

  void thread(unsigned index) {
    if (index == 0) {
      lim.set_limit_at(t, lf::rate_limit(2));
    } else if (index == 1) {
      lf::reservation r = lim.reserve_n(t, 1);
      RL_ASSERT(r.ok());
      RL_ASSERT(r.delay_from(t) == std::chrono::nanoseconds(0));
      r.cancel_at(t);
    } else {
      allowed = lim.allow_n(t, 1);
    }
  }

  void after() {
    RL_ASSERT(allowed);
    RL_ASSERT(lim.tokens_at(t) == 2.0);
    RL_ASSERT(lim.limit() == lf::rate_limit(2));
    RL_ASSERT(lim.burst() == 3);
  }
};

struct allows_race_for_the_last_token : rl::test_suite<allows_race_for_the_last_token, 2> {
  lf::rate_limiter lim{lf::rate_limit(1), 1};
  bool won[2] = {false, false};

  void thread(unsigned index) { won[index] = lim.allow_n(t, 1); }

  void after() {
    RL_ASSERT(won[0] != won[1]);
    RL_ASSERT(lim.tokens_at(t) == 0.0);
  }
};

struct cancel_races_a_queued_reservation : rl::test_suite<cancel_races_a_queued_reservation, 2> {
  lf::rate_limiter lim{lf::rate_limit(1), 1};
  std::chrono::nanoseconds r2_delay{-1};

  void before() { RL_ASSERT(lim.allow_n(t, 1)); }

  void thread(unsigned index) {
    if (index == 0) {
      lf::reservation r = lim.reserve_n(t, 1);
      RL_ASSERT(r.ok());
      r.cancel_at(t);
    } else {
      r2_delay = lim.reserve_n(t, 1).delay_from(t);
    }
  }

  void after() {
    const double left = lim.tokens_at(t);
    RL_ASSERT((r2_delay == std::chrono::seconds(1) && left == -1.0) ||
              (r2_delay == std::chrono::seconds(2) && left == -2.0));
  }
};

}  // namespace

int main(int argc, char** argv) {
  using lf::model::search;
  return lf::model::run_cases(
      argc, argv,
      {
          LF_MODEL_CASE("set_limit_races_reserve_and_cancel", search::random(100000), set_limit_races_reserve_and_cancel),
          LF_MODEL_CASE("allows_race_for_the_last_token", search::random(100000), allows_race_for_the_last_token),
          LF_MODEL_CASE("cancel_races_a_queued_reservation", search::random(100000), cancel_races_a_queued_reservation),
      });
}
