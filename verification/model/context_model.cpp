// Model lane for lf::context (patterns/context.hpp, patterns/detail/context_node.hpp),
// from those very headers.
//
// Cases:
//   child_registers_while_parent_cancels  one thread makes a child while another cancels
//       the parent: the child must end up done (no lost cancellation: (4)).
//   waiter_parks_while_cancel_runs  one thread waits on done() while another writes a
//       payload and cancels with a cause: the waiter must wake (no lost wake-up: (3)) and
//       then read the payload and the cause cell with a happens-before edge ((1)/(2)).
//   after_func_stop_races_cancel  stop() on one thread, cancel on another: f runs iff
//       stop() returned false, and at most once ((5)).
//   child_dropped_while_parent_cancels  the last handle to a child goes while the parent's
//       cancel walks its child list: the weak reference is upgraded or skipped, never
//       used after the free ((R2)/(R3)).
//   parent_and_child_cancel_race  both cancel at once; the grandchild's after_func runs
//       exactly once and everything ends done.
//
// Out of scope: the timer thread (patterns/detail/timer_service.hpp is a stub under the
// model, so deadlines never fire here; the unit and stress lanes cover them) and the
// std::stop_token bridge (its synchronization is the standard library's).
//
// The model has no global state: background() is the null handle and owns nothing, and
// every node is made inside the test (before() or a thread), so each iteration starts
// from nothing and Relacy's leak check sees every node freed.
//
// Search: context bound 2, exhaustive within the bound, for every case. Each race above
// needs one preemption inside the other thread's locked section or between its look and
// its lock; two leave room (the lock's own futex path needs a second). The mutants in
// verification/mutants/context.cmake are all killed at K=2, each in well under a second.
#include <exception>
#include <stdexcept>

#include "patterns/context.hpp"
#include "sync/cell.hpp"
#include "verification/model/model_driver.hpp"

namespace {

using lf::context_error;

struct child_registers_while_parent_cancels : rl::test_suite<child_registers_while_parent_cancels, 2> {
  lf::context parent;
  lf::cancel_func cancel_parent;
  lf::context child;
  lf::cancel_func cancel_child;

  void before() {
    auto [ctx, cancel] = lf::with_cancel(lf::background());
    parent = ctx;
    cancel_parent = cancel;
  }

  void thread(unsigned index) {
    if (index == 0) {
      auto [ctx, cancel] = lf::with_cancel(parent);
      child = ctx;
      cancel_child = cancel;
    } else {
      cancel_parent();
    }
  }

  void after() {
    RL_ASSERT(child.err() == context_error::canceled);  // no lost cancellation
    child = {};
    cancel_child = {};
    parent = {};
    cancel_parent = {};
  }
};

struct waiter_parks_while_cancel_runs : rl::test_suite<waiter_parks_while_cancel_runs, 2> {
  lf::context ctx;
  lf::cancel_cause_func cancel;
  lf::cell<int> payload;

  void before() {
    auto [c, f] = lf::with_cancel_cause(lf::background());
    ctx = c;
    cancel = f;
    *payload.write() = 0;
  }

  void thread(unsigned index) {
    if (index == 0) {
      *payload.write() = 42;
      cancel(std::make_exception_ptr(std::runtime_error("stop")));
    } else {
      ctx.done().wait();
      RL_ASSERT(ctx.err() == context_error::canceled);
      RL_ASSERT(ctx.cause() != nullptr);  // reads the cause cell: ordered by (1)/(2)
      RL_ASSERT(*payload.read() == 42);   // the canceller's earlier write is visible
    }
  }

  void after() {
    ctx = {};
    cancel = {};
  }
};

struct after_func_stop_races_cancel : rl::test_suite<after_func_stop_races_cancel, 2> {
  lf::context ctx;
  lf::cancel_func cancel;
  lf::after_func_handle handle;
  lf::atomic<int> runs{0};
  bool stopped = false;

  void before() {
    auto [c, f] = lf::with_cancel(lf::background());
    ctx = c;
    cancel = f;
    handle = lf::after_func(ctx, [this] { runs.fetch_add(1, std::memory_order_relaxed); });
  }

  void thread(unsigned index) {
    if (index == 0) {
      stopped = handle.stop();
    } else {
      cancel();
    }
  }

  void after() {
    RL_ASSERT(runs.load(std::memory_order_relaxed) == (stopped ? 0 : 1));  // f runs iff stop() said false
    handle = {};
    ctx = {};
    cancel = {};
  }
};

struct child_dropped_while_parent_cancels : rl::test_suite<child_dropped_while_parent_cancels, 2> {
  lf::context parent;
  lf::cancel_func cancel_parent;
  lf::context child;
  lf::cancel_func cancel_child;

  void before() {
    auto [p, fp] = lf::with_cancel(lf::background());
    parent = p;
    cancel_parent = fp;
    auto [c, fc] = lf::with_cancel(parent);
    child = c;
    cancel_child = fc;
  }

  void thread(unsigned index) {
    if (index == 0) {
      child = {};  // drops the last two references: the node unlinks itself and is freed
      cancel_child = {};
    } else {
      cancel_parent();
    }
  }

  void after() {
    RL_ASSERT(lf::detail::context_access::children_approx(parent) == 0);
    parent = {};
    cancel_parent = {};
  }
};

struct parent_and_child_cancel_race : rl::test_suite<parent_and_child_cancel_race, 2> {
  lf::context parent;
  lf::cancel_func cancel_parent;
  lf::context child;
  lf::cancel_func cancel_child;
  lf::context grandchild;
  lf::cancel_func cancel_grandchild;
  lf::after_func_handle handle;
  lf::atomic<int> runs{0};

  void before() {
    auto [p, fp] = lf::with_cancel(lf::background());
    parent = p;
    cancel_parent = fp;
    auto [c, fc] = lf::with_cancel(parent);
    child = c;
    cancel_child = fc;
    auto [g, fg] = lf::with_cancel(child);
    grandchild = g;
    cancel_grandchild = fg;
    handle = lf::after_func(grandchild, [this] { runs.fetch_add(1, std::memory_order_relaxed); });
  }

  void thread(unsigned index) {
    if (index == 0) {
      cancel_parent();
    } else {
      cancel_child();
    }
  }

  void after() {
    RL_ASSERT(runs.load(std::memory_order_relaxed) == 1);
    RL_ASSERT(parent.err() == context_error::canceled);
    RL_ASSERT(grandchild.err() == context_error::canceled);
    RL_ASSERT(lf::detail::context_access::children_approx(parent) == 0);
    handle = {};
    grandchild = {};
    cancel_grandchild = {};
    child = {};
    cancel_child = {};
    parent = {};
    cancel_parent = {};
  }
};

}  // namespace

int main(int argc, char** argv) {
  using lf::model::search;
  return lf::model::run_cases(
      argc, argv,
      {
          LF_MODEL_CASE("child_registers_while_parent_cancels", search::bounded(2), child_registers_while_parent_cancels),
          LF_MODEL_CASE("waiter_parks_while_cancel_runs", search::bounded(2), waiter_parks_while_cancel_runs),
          LF_MODEL_CASE("after_func_stop_races_cancel", search::bounded(2), after_func_stop_races_cancel),
          LF_MODEL_CASE("child_dropped_while_parent_cancels", search::bounded(2), child_dropped_while_parent_cancels),
          LF_MODEL_CASE("parent_and_child_cancel_race", search::bounded(2), parent_and_child_cancel_race),
      });
}
