// Model lane for lf::weighted_semaphore (patterns/semaphore.hpp), from that very header.
//
// Cases:
//   grant_races_cancel         a holder releases while a queued waiter's context is
//                              cancelled (the x/sync race class). Whatever the schedule:
//                              the waiter holds the token iff acquire said none, the
//                              payload the holder wrote is visible to a waiter that got
//                              the token, and at the end the token is back (nothing lost
//                              or created) and the queue is empty (the fast path works).
//   release_then_fast_acquire  the fast paths: a release (R) publishes the payload to the
//                              try_acquire (A) that takes the token.
//   fifo_grant_chain           two queued waiters (2 then 1) of a semaphore of 2: one
//                              release grants the first, whose release grants the second;
//                              a lost wake-up is a DEADLOCK.
//
// Search: random, 200,000 schedules each (3 threads). A grant lost on cancel needs the
// cancel to land between the grant and the waiter's re-check under the lock: two
// preemptions, which a random search of this size finds in every run we tried; the
// mutants in verification/mutants/semaphore.cmake are each killed within a few thousand
// schedules.
#include <cstdint>

#include "patterns/context.hpp"
#include "patterns/semaphore.hpp"
#include "sync/cell.hpp"
#include "verification/model/model_driver.hpp"

namespace {

struct grant_races_cancel : rl::test_suite<grant_races_cancel, 3> {
  lf::weighted_semaphore sem{1};
  lf::context ctx;
  lf::cancel_func cancel;
  lf::cell<int> payload;
  bool holder_took = false;

  void before() {
    *payload.write() = 0;
    holder_took = sem.try_acquire(1);
    auto r = lf::with_cancel(lf::background());
    ctx = r.ctx;
    cancel = r.cancel;
  }

  void thread(unsigned index) {
    if (index == 0) {  // the holder
      *payload.write() = 42;
      sem.release(1);
    } else if (index == 1) {  // the waiter
      if (sem.acquire(ctx, 1) == lf::context_error::none) {
        RL_ASSERT(*payload.read() == 42);
        sem.release(1);
      }
    } else {
      cancel();
    }
  }

  void after() {
    RL_ASSERT(holder_took);
    RL_ASSERT(sem.available_approx() == 1);
    RL_ASSERT(sem.try_acquire(1));  // no waiters bit left behind
  }
};

struct release_then_fast_acquire : rl::test_suite<release_then_fast_acquire, 2> {
  lf::weighted_semaphore sem{1};
  lf::cell<int> payload;

  void before() {
    *payload.write() = 0;
    RL_ASSERT(sem.try_acquire(1));
  }

  void thread(unsigned index) {
    if (index == 0) {
      *payload.write() = 7;
      sem.release(1);
    } else {
      while (!sem.try_acquire(1)) lf::spin_pause();
      RL_ASSERT(*payload.read() == 7);
    }
  }
};

struct fifo_grant_chain : rl::test_suite<fifo_grant_chain, 3> {
  lf::weighted_semaphore sem{2};

  void before() { RL_ASSERT(sem.try_acquire(2)); }

  void thread(unsigned index) {
    if (index == 0) {
      sem.release(2);
    } else {
      const std::int64_t w = index == 1 ? 2 : 1;
      sem.acquire(w);
      sem.release(w);
    }
  }

  void after() { RL_ASSERT(sem.available_approx() == 2); }
};

}  // namespace

int main(int argc, char** argv) {
  using lf::model::search;
  return lf::model::run_cases(argc, argv,
                              {
                                  LF_MODEL_CASE("grant_races_cancel", search::random(200000), grant_races_cancel),
                                  LF_MODEL_CASE("release_then_fast_acquire", search::random(200000), release_then_fast_acquire),
                                  LF_MODEL_CASE("fifo_grant_chain", search::random(200000), fifo_grant_chain),
                              });
}
