// Model lane for the seam itself (sync/): the wait/notify hooks that blocking code
// (channels, the worker pool) will park on, as they map onto Relacy's futex.
//
// Search: context bound 2, exhaustive within the bound (178 schedules for the hand-off,
// 666k for three threads; about a second). A lost wake-up needs one preemption (the
// waiter parks before the notifier stores), so K=2 covers it with room to spare; the
// full-search scheduler does not terminate here, because a parked thread's spurious
// wake-ups make the schedule tree unbounded.
#include "sync/atomic.hpp"
#include "sync/wait.hpp"
#include "verification/model/model_driver.hpp"

namespace {

// Thread 0 publishes a value and raises a flag, then wakes one waiter; thread 1 parks
// until the flag is up and must then see the value.
struct wait_notify_handoff : rl::test_suite<wait_notify_handoff, 2> {
  lf::atomic<int> flag{0};
  lf::atomic<int> value{0};

  void thread(unsigned index) {
    if (index == 0) {
      value.store(42, std::memory_order_relaxed);
      flag.store(1, std::memory_order_release);  // publishes `value`; pairs with the acquire in wait
      flag.notify_one();
    } else {
      flag.wait(0, std::memory_order_acquire);
      RL_ASSERT(value.load(std::memory_order_relaxed) == 42);
    }
  }
};

// Both threads park on one word; a third wakes all of them.
struct notify_all_wakes_every_waiter : rl::test_suite<notify_all_wakes_every_waiter, 3> {
  lf::atomic<int> flag{0};

  void thread(unsigned index) {
    if (index == 0) {
      flag.store(1, std::memory_order_release);
      flag.notify_all();
    } else {
      flag.wait(0, std::memory_order_acquire);
    }
  }
};

// The same hand-off on the seam's own futex (sync/wait.hpp), untimed.
struct futex_handoff : rl::test_suite<futex_handoff, 2> {
  lf::atomic<int> flag{0};
  lf::atomic<int> value{0};

  void thread(unsigned index) {
    if (index == 0) {
      value.store(42, std::memory_order_relaxed);
      flag.store(1, std::memory_order_release);  // publishes `value`; pairs with the acquire below
      lf::futex_wake_one(flag);
    } else {
      while (flag.load(std::memory_order_acquire) == 0) lf::futex_wait(flag, 0);
      RL_ASSERT(value.load(std::memory_order_relaxed) == 42);
    }
  }
};

// A timed wait ends either woken with the flag up or timed out with it possibly still
// down; it never blocks for good and never reports a wake it did not get from the value.
struct futex_timed_wait : rl::test_suite<futex_timed_wait, 2> {
  lf::atomic<int> flag{0};
  lf::atomic<int> value{0};

  void thread(unsigned index) {
    if (index == 0) {
      value.store(42, std::memory_order_relaxed);
      flag.store(1, std::memory_order_release);
      lf::futex_wake_all(flag);
    } else {
      const auto deadline = lf::wait_clock::now();
      while (flag.load(std::memory_order_acquire) == 0) {
        if (!lf::futex_wait_until(flag, 0, deadline)) return;  // timed out: nothing to check
      }
      RL_ASSERT(value.load(std::memory_order_relaxed) == 42);
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  using lf::model::search;
  return lf::model::run_cases(argc, argv,
                              {
                                  LF_MODEL_CASE("wait_notify_handoff", search::bounded(2), wait_notify_handoff),
                                  LF_MODEL_CASE("notify_all_wakes_every_waiter", search::bounded(2), notify_all_wakes_every_waiter),
                                  LF_MODEL_CASE("futex_handoff", search::bounded(2), futex_handoff),
                                  LF_MODEL_CASE("futex_timed_wait", search::bounded(2), futex_timed_wait),
                              });
}
