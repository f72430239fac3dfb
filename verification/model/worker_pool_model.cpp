// Model lane for lf::worker_pool's sleeping places (patterns/detail/parking_lot.hpp),
// checked from that very header. The pool as a whole (std::thread, the allocator, the
// futures' shared_ptr) cannot run under Relacy; what can lose a task, a submitter or a
// waiter is a moment when one thread publishes something while another goes to sleep,
// and that is what these cases run:
//   parking_lot  a submitter publishes work while the last worker parks (and variants);
//   slot_gate    a submitter parks for room under the queue limit while a worker frees a
//                slot (pool_options::queue_limit with overflow_policy::block), and
//                shutdown wakes a submitter parked for room;
//   completion   a waiter for a pool_future's result, parked as a helper in the pool's
//                lot or blocked on the word, while the task completes it; and the same
//                with a deadline (pool_future::wait_for), where Relacy's timed futex may
//                time the wait out at any step.
// Work is an lf::atomic flag or counter standing for the pool's queues; the worker's
// ready() re-check is the pool's find_task. A result is an lf::cell, so a completion
// that does not publish it is a DATA RACE.
//
// Search. The two-thread cases: context bound 2, exhaustive within the bound (hundreds
// to a few thousand schedules, instant). A lost wake-up needs one preemption (the
// sleeper switched out between its announcement and its wait, or the waker between its
// publication and its load of the sleeper count), so K=2 covers it with a spare; every
// mutant in verification/mutants/worker_pool.cmake is killed there, with a DEADLOCK
// verdict (a lost wake-up) or DATA RACE (an unpublished result). The three-thread
// cases: random search, 10^6 schedules (a few seconds): their sleepers loop after every
// (possibly spurious) wake-up, and the bounded and full schedulers do not terminate on
// them (measured: K=1 ran past a minute).
#include <chrono>

#include "patterns/detail/parking_lot.hpp"
#include "sync/atomic.hpp"
#include "sync/cell.hpp"
#include "sync/wait.hpp"
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

// Queue limit 1, the one slot taken (a queued task). Thread 0 is the worker taking that
// task out of the queue (release); thread 1 is a submitter under overflow_policy::block.
// The submitter must get the slot: a lost wake-up is a DEADLOCK.
struct submitter_waits_for_room_while_a_worker_frees_a_slot
    : rl::test_suite<submitter_waits_for_room_while_a_worker_frees_a_slot, 2> {
  lf::detail::slot_gate gate{1};

  void before() { RL_ASSERT(gate.try_acquire()); }

  void thread(unsigned index) {
    if (index == 0) {
      gate.release();
      return;
    }
    RL_ASSERT(gate.acquire([] { return false; }));
    RL_ASSERT(gate.used_approx() == 1);
  }
};

// Limit 2, both slots taken; the worker frees both; two submitters park for them. Each
// must get one: a wake-up lost, or two meant for one sleeper, strands the other.
struct submitters_wait_for_room_while_a_worker_frees_slots
    : rl::test_suite<submitters_wait_for_room_while_a_worker_frees_slots, 3> {
  lf::detail::slot_gate gate{2};

  void before() {
    RL_ASSERT(gate.try_acquire());
    RL_ASSERT(gate.try_acquire());
  }

  void thread(unsigned index) {
    if (index == 0) {
      gate.release();
      gate.release();
      return;
    }
    RL_ASSERT(gate.acquire([] { return false; }));
  }

  void after() { RL_ASSERT(gate.used_approx() == 2); }
};

// Limit 1, the slot taken and never freed; thread 0 is shutdown (the stop condition, then
// wake_all); thread 1 a submitter parked for room. It must give up: a DEADLOCK otherwise.
struct shutdown_wakes_a_submitter_waiting_for_room
    : rl::test_suite<shutdown_wakes_a_submitter_waiting_for_room, 2> {
  lf::detail::slot_gate gate{1};
  lf::atomic<int> closed{0};

  void before() { RL_ASSERT(gate.try_acquire()); }

  void thread(unsigned index) {
    if (index == 0) {
      closed.store(1, std::memory_order_seq_cst);  // the pool's state_ store
      gate.wake_all();
      return;
    }
    RL_ASSERT(!gate.acquire([&] { return closed.load(std::memory_order_seq_cst) != 0; }));
  }
};

// Thread 0 is the task: it writes its result and completes. Thread 1 is a worker waiting
// on the future inside the pool (worker_pool::wait_done + help_until, with no other task
// to run): it registers as a helper, then parks in the pool's lot until done. It must
// wake (DEADLOCK otherwise) and then read the result (DATA RACE if it is not published).
// Timed: the same with a deadline (pool_future::wait_for on a worker). Relacy may time
// the park out at any step, so either outcome happens; a helper that saw done reads a
// published result, and one that did not is woken or times out, never stuck.
template <bool Timed>
struct helper_parks_while_the_result_completes : rl::test_suite<helper_parks_while_the_result_completes<Timed>, 2> {
  lf::detail::parking_lot lot;
  lf::detail::completion done;
  lf::cell<int> result;

  void thread(unsigned index) {
    if (index == 0) {
      *result.write() = 42;
      done.complete(&lot);
      return;
    }
    const lf::wait_clock::time_point deadline =
        Timed ? lf::wait_clock::now() + std::chrono::seconds(1) : lf::wait_clock::time_point::max();
    if (done.register_helper()) {
      while (!done.is_done()) {
        if (!lot.park_until([&] { return done.is_done(); }, deadline)) break;  // timed out
      }
    }
    if (Timed && !done.is_done()) return;
    RL_ASSERT(*result.read() == 42);
  }
};

// The same with a waiter off the pool: it sleeps on the completion word itself (timed:
// until a deadline, pool_future::wait_for off the pool).
template <bool Timed>
struct blocked_waiter_sleeps_while_the_result_completes
    : rl::test_suite<blocked_waiter_sleeps_while_the_result_completes<Timed>, 2> {
  lf::detail::completion done;
  lf::cell<int> result;

  void thread(unsigned index) {
    if (index == 0) {
      *result.write() = 42;
      done.complete(nullptr);
      return;
    }
    const lf::wait_clock::time_point deadline =
        Timed ? lf::wait_clock::now() + std::chrono::seconds(1) : lf::wait_clock::time_point::max();
    if (!done.wait_blocking(deadline)) return;  // timed out (only when Timed)
    RL_ASSERT(*result.read() == 42);
  }
};

}  // namespace

int main(int argc, char** argv) {
  using lf::model::search;
  return lf::model::run_cases(
      argc, argv,
      {
          LF_MODEL_CASE("submit_while_last_worker_parks", search::bounded(2), submit_while_last_worker_parks),
          LF_MODEL_CASE("two_sleepers_two_tasks", search::random(1000000), two_sleepers_two_tasks),
          LF_MODEL_CASE("unpark_all_wakes_every_sleeper", search::random(1000000), unpark_all_wakes_every_sleeper),
          LF_MODEL_CASE("submitter_waits_for_room_while_a_worker_frees_a_slot", search::bounded(2), submitter_waits_for_room_while_a_worker_frees_a_slot),
          LF_MODEL_CASE("submitters_wait_for_room_while_a_worker_frees_slots", search::random(1000000), submitters_wait_for_room_while_a_worker_frees_slots),
          LF_MODEL_CASE("shutdown_wakes_a_submitter_waiting_for_room", search::bounded(2), shutdown_wakes_a_submitter_waiting_for_room),
          LF_MODEL_CASE("helper_parks_while_the_result_completes", search::bounded(2), helper_parks_while_the_result_completes<false>),
          LF_MODEL_CASE("blocked_waiter_sleeps_while_the_result_completes", search::bounded(2), blocked_waiter_sleeps_while_the_result_completes<false>),
          LF_MODEL_CASE("timed_helper_parks_while_the_result_completes", search::bounded(2), helper_parks_while_the_result_completes<true>),
          LF_MODEL_CASE("timed_blocked_waiter_sleeps_while_the_result_completes", search::bounded(2), blocked_waiter_sleeps_while_the_result_completes<true>),
      });
}
