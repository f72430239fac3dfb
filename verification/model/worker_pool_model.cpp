// Model lane for lf::worker_pool's park/wake protocol (patterns/detail/parking_lot.hpp),
// checked from that very header. The pool as a whole (std::thread, std::future, the
// allocator) cannot run under Relacy; what can lose a task is the moment a submitter
// publishes work while the last worker goes to sleep, and that is what these cases run.
// Work is an lf::atomic flag or counter standing for the pool's queues; the worker's
// ready() re-check is the pool's find_task.
//
// Search. The two-thread case: context bound 2, exhaustive within the bound (634
// schedules, instant). A lost wake-up needs one preemption (the sleeper switched out
// between its announcement and its wait, or the waker between its publication and its
// load of the sleeper count), so K=2 covers it with a spare; every mutant in
// verification/mutants/worker_pool.cmake is killed there with a DEADLOCK verdict. The
// three-thread cases: random search, 10^6 schedules (a few seconds): their workers loop
// after every (possibly spurious) wake-up, and the bounded and full schedulers do not
// terminate on them (measured: K=1 ran past a minute).
#include "patterns/detail/parking_lot.hpp"
#include "sync/atomic.hpp"
#include "verification/model/model_driver.hpp"

namespace {

// Thread 0 publishes one task (a flag) and wakes a sleeper; thread 1 is the last worker,
// going to sleep. The worker must run the task: it leaves its loop only after seeing the
// flag, so a lost wake-up is a DEADLOCK verdict.
struct submit_while_last_worker_parks : rl::test_suite<submit_while_last_worker_parks, 2> {
  lf::detail::parking_lot lot;
  lf::atomic<int> work{0};
  lf::atomic<int> payload{0};

  void thread(unsigned index) {
    if (index == 0) {
      payload.store(42, std::memory_order_relaxed);
      work.store(1, std::memory_order_release);  // the pool's queue push
      lot.unpark_one();
      return;
    }
    for (;;) {
      if (work.load(std::memory_order_acquire) == 1) break;  // the worker's own look for work
      bool seen = false;
      lot.park_until([&] { return seen = work.load(std::memory_order_acquire) == 1; });
      if (seen) break;
    }
    RL_ASSERT(payload.load(std::memory_order_relaxed) == 42);
  }
};

// Two sleepers, two tasks, one submitter calling unpark_one after each: each worker
// claims one task and leaves. notify_one must not wake the same sleeper twice while the
// other sleeps on, and a wake-up meant for a worker that found work on its own must not
// strand the other.
struct two_sleepers_two_tasks : rl::test_suite<two_sleepers_two_tasks, 3> {
  lf::detail::parking_lot lot;
  lf::atomic<int> available{0};
  lf::atomic<int> claimed{0};

  // Takes one task if one is published.
  bool try_claim() {
    int n = available.load(std::memory_order_acquire);
    while (n > 0) {
      if (available.compare_exchange_weak(n, n - 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
        return true;
      }
    }
    return false;
  }

  void thread(unsigned index) {
    if (index == 0) {
      for (int i = 0; i < 2; ++i) {
        available.fetch_add(1, std::memory_order_release);
        lot.unpark_one();
      }
      return;
    }
    for (;;) {
      if (try_claim()) break;
      bool got = false;
      lot.park_until([&] { return got = try_claim(); });
      if (got) break;
    }
    claimed.fetch_add(1, std::memory_order_relaxed);
  }

  void after() { RL_ASSERT(claimed.load(std::memory_order_relaxed) == 2); }
};

// Stop: a sleeper woken by unpark_all sees the stop flag (the pool's shutdown).
struct unpark_all_wakes_every_sleeper : rl::test_suite<unpark_all_wakes_every_sleeper, 3> {
  lf::detail::parking_lot lot;
  lf::atomic<int> stop{0};

  void thread(unsigned index) {
    if (index == 0) {
      stop.store(1, std::memory_order_release);
      lot.unpark_all();
      return;
    }
    while (stop.load(std::memory_order_acquire) == 0) {
      lot.park_until([&] { return stop.load(std::memory_order_acquire) == 1; });
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  using lf::model::search;
  using lf::model::simulate;
  return lf::model::run_cases(
      argc, argv,
      {
          {"submit_while_last_worker_parks", search::bounded(2), simulate<submit_while_last_worker_parks>},
          {"two_sleepers_two_tasks", search::random(1000000), simulate<two_sleepers_two_tasks>},
          {"unpark_all_wakes_every_sleeper", search::random(1000000), simulate<unpark_all_wakes_every_sleeper>},
      });
}
