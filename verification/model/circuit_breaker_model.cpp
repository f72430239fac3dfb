// Model lane for lf::circuit_breaker (patterns/circuit_breaker.hpp), from that very header.
//
// Cases:
//   half_open_admits_at_most_max_requests  three threads ask a half-open breaker with
//                              max_requests 2 for admission and hold what they get:
//                              exactly two are admitted, whatever the schedule (the
//                              property resilience4j's issue 1090 lost).
//   stale_outcome_is_dropped   a failure reported for generation 1 races a reset (to
//                              generation 2) followed by one successful call: generation
//                              2's counts are that one success, whatever the schedule.
//   trip_publishes_open_period one thread's failure trips the breaker at t = 100 (timeout
//                              50); another looks at the state at the same instant: it
//                              must never see half-open, which it would if it read the
//                              open state without the open period's start time.
//   striped_runs_are_linearizable  two failures and a success on a closed breaker that
//                              counts in stripes (2 stripes here, so two threads share
//                              one): the consecutive counts each failure hands to
//                              ready_to_trip, and the final counts, must be those of one
//                              order of the three calls. A failure that added up the
//                              successes without synchronising with the failure before it
//                              could see fewer than that one did, and restart the run.
//
// Search: random, 100,000 schedules each (2-3 threads, a handful of atomic steps each).
// A check-then-increment admission needs two admitters to interleave between one
// load and one store; a dropped generation check needs the reset to land before the
// report: one preemption each. The stale start time needs a weak-memory read that Relacy
// offers on every schedule where the reader comes after the trip, and so does the stale
// stripe read of a relaxed failure mark. The four mutants in
// verification/mutants/circuit_breaker.cmake are each killed within the first thousands
// of schedules (the relaxed mark at the second).
#include <algorithm>
#include <cstdint>

#include "patterns/circuit_breaker.hpp"
#include "verification/model/model_driver.hpp"

namespace {

// The model's clock: set in a test suite's constructor and before(), read by the
// threads, never moved while they run (Relacy runs them as fibers of one thread).
std::int64_t model_now_ns = 0;

struct model_clock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<model_clock, duration>;
  static constexpr bool is_steady = true;
  static time_point now() noexcept { return time_point(duration(model_now_ns)); }
};

using breaker = lf::basic_circuit_breaker<model_clock>;

lf::breaker_settings settings(std::uint32_t max_requests) {
  lf::breaker_settings s;
  s.max_requests = max_requests;
  s.timeout = std::chrono::nanoseconds(50);
  s.ready_to_trip = [](const lf::breaker_counts& c) { return c.consecutive_failures >= 1; };
  return s;
}

struct half_open_admits_at_most_max_requests : rl::test_suite<half_open_admits_at_most_max_requests, 3> {
  breaker br{settings(2)};
  breaker::token held[3];

  void before() { br.transition_to(lf::breaker_state::half_open); }

  void thread(unsigned index) { held[index] = br.allow(); }

  void after() {
    int admitted = 0, refused = 0;
    for (auto& t : held) {
      if (t) ++admitted;
      if (t.error() == lf::breaker_error::too_many_requests) ++refused;
    }
    RL_ASSERT(admitted == 2);
    RL_ASSERT(refused == 1);
  }
};

struct stale_outcome_is_dropped : rl::test_suite<stale_outcome_is_dropped, 2> {
  breaker br{settings(1)};
  breaker::token old;

  void before() {
    old = br.allow();
    RL_ASSERT(old);
  }

  void thread(unsigned index) {
    if (index == 0) {
      old.done(false);  // generation 1: counted there (and may trip it), or dropped
    } else {
      br.reset();  // generation 2, closed
      auto t = br.allow();
      if (t) t.done(true);  // refused only if the failure tripped generation 2
    }
  }

  void after() {
    const lf::breaker_counts c = br.counts();
    RL_ASSERT(c.requests == 1 && c.total_successes == 1 && c.total_failures == 0 && c.consecutive_successes == 1 &&
              c.consecutive_failures == 0);
    RL_ASSERT(br.state() == lf::breaker_state::closed);
  }
};

// What ready_to_trip was handed, per thread (set in before(), written by the threads).
lf::breaker_counts seen_by[3];

struct striped_runs_are_linearizable : rl::test_suite<striped_runs_are_linearizable, 3> {
  static lf::breaker_settings never_trips() {
    lf::breaker_settings s;
    s.ready_to_trip = [](const lf::breaker_counts& c) {
      seen_by[lf::thread_index()] = c;
      return false;
    };
    return s;
  }
  breaker br{never_trips()};

  void before() {
    for (auto& c : seen_by) c = {};
  }

  void thread(unsigned index) {
    auto t = br.allow();
    RL_ASSERT(t);
    t.done(index == 2);  // threads 0 and 1 fail, thread 2 succeeds
  }

  void after() {
    const lf::breaker_counts end = br.counts();
    RL_ASSERT(end.requests == 3 && end.total_successes == 1 && end.total_failures == 2);
    // Some order of the three calls must explain every observation.
    unsigned order[3] = {0, 1, 2};
    bool explained = false;
    do {
      std::uint32_t s = 0, f = 0;
      bool fits = true;
      for (unsigned who : order) {
        if (who == 2) {
          ++s, f = 0;
        } else {
          ++f, s = 0;
          fits = fits && seen_by[who].consecutive_failures == f && seen_by[who].consecutive_successes == 0;
        }
      }
      explained = explained || (fits && end.consecutive_successes == s && end.consecutive_failures == f);
    } while (std::next_permutation(order, order + 3));
    RL_ASSERT(explained);
  }
};

struct trip_publishes_open_period : rl::test_suite<trip_publishes_open_period, 2> {
  int clock_at_zero = (model_now_ns = 0);  // the breaker's first generation starts at 0
  breaker br{settings(1)};
  breaker::token tok;

  void before() {
    tok = br.allow();
    model_now_ns = 100;  // 100 ns later; the open period will run to 150
  }

  void thread(unsigned index) {
    if (index == 0) {
      tok.done(false);  // trips: open from 100
    } else {
      RL_ASSERT(br.state() != lf::breaker_state::half_open);
    }
  }

  void after() { RL_ASSERT(br.state() == lf::breaker_state::open); }
};

}  // namespace

int main(int argc, char** argv) {
  using lf::model::search;
  return lf::model::run_cases(
      argc, argv,
      {
          LF_MODEL_CASE("half_open_admits_at_most_max_requests", search::random(100000), half_open_admits_at_most_max_requests),
          LF_MODEL_CASE("stale_outcome_is_dropped", search::random(100000), stale_outcome_is_dropped),
          LF_MODEL_CASE("trip_publishes_open_period", search::random(100000), trip_publishes_open_period),
          LF_MODEL_CASE("striped_runs_are_linearizable", search::random(100000), striped_runs_are_linearizable),
      });
}
