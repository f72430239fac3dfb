// Model lane for lf::task's join protocol (patterns/task.hpp, (J1)-(J4) and (W) in its
// header), checked from that very header: real lf::task coroutines, the header's
// root_state / join_handle / join_awaiter / sync_wait, run by Relacy threads.
//
// What cannot run under the model is the worker_pool (std::thread, its deques and
// timers), so every fiber here has no pool: its resumptions are posted to the thread
// that drives it (root_base::post_to_driver, (J4)), which is lf::sync_wait's path and
// the very code a pool-less fiber runs in production. The race under test is the one on
// a fiber's state word, which is the same whether the waker is a pool worker or not: a
// finishing fiber (J1) against
//   - an awaiting coroutine registering its record (J2), woken by a posted resumption
//     (its own sync_wait driver sleeping on its word, J3/J4); the same with the fiber
//     abandoned instead of finishing (what the pool's destroy_all does to a suspended
//     fiber: the awaiter gets std::future_error(broken_promise));
//   - the handle's detach (the state's two references: freed exactly once);
//   - a thread waiter sleeping on the word (J3);
//   - an awaiting frame destroyed while suspended (~join_awaiter withdraws, or waits for
//     a wake-up already taken to stop touching the record, (W));
//   - a bare join_waiter (the interface when_all and join_awaiter implement), counting
//     its wake-ups: exactly one of "register saw done" and "wake()" happens.
// And lf::done(ctx) (patterns/awaitables.hpp, (D1)/(D2)): a coroutine awaiting it while
// the context is cancelled, and the same awaiter destroyed with its frame while the
// cancel runs its callback (the withdraw through context_callback's destructor, (H2)).
// And coro_fiber.hpp's registry: destroy_all (the pool's destruction) abandoning two
// suspended fibers while a thread waits on their handles.
// Not here: sleep_for (the timer service runs a std::thread, which Relacy cannot).
//
// Fibers. The producer fiber is started in before() by lf::start_fiber(nullptr, ...),
// which runs it on the calling thread until it suspends at a model gate (a plain
// awaitable that keeps the handle); thread 0 then resumes it with run_coroutine, and it
// writes the payload, returns and finishes (final_suspend -> root_state::finish ->
// complete, (J1)). The payload is an lf::cell written before co_return and read by the
// waiting side after it was woken: a wake-up that does not publish it is a DATA RACE.
// Coroutine frames and the fiber states come from operator new, which Relacy replaces:
// a state or frame touched after it was freed is ACCESS TO FREED MEMORY, one freed twice
// DOUBLE FREE, one never freed MEMORY LEAK.
//
// g++ builds route symmetric transfer through a per-OS-thread trampoline
// (coro_fiber.hpp); Relacy's threads share one OS thread, so the cases here keep to
// paths whose transfers all go to noop_coroutine (a root's final_suspend, a join
// awaiter's bool await_suspend), which never touch the trampoline's pending slot.
//
// Search. Every case has two threads and a handful of atomic steps on one word (the join
// word, or the done awaiter's state and the context's node). Four cases are searched in
// full (every interleaving Relacy can produce: 40 to ~6*10^5 schedules). The cases whose
// waiting side is a sync_wait driver loop (it re-reads its word after every wake-up), and
// the full scheduler does not finish on them (measured: past 60 s), so they are searched
// exhaustively within a context bound: a lost or double wake-up, or an unpublished
// result, needs one preemption (the waiting side switched out between writing its record
// and its RMW, or the finishing side between storing its result and its RMW), and the
// posted resumption (J4) one more. Bound 4 for the awaiter racing a finishing fiber and
// for the destroyed done awaiter (~3.6*10^5 and ~2.6*10^5 schedules, about 1 s each);
// bound 3 for the awaiter racing an abandoned fiber and the done awaiter racing a cancel,
// whose longer paths made bound 4 cost 6-8 s each (3 still leaves a preemption spare);
// bound 2 for destroy_all (one preemption loses a wake-up, 2 leaves one spare; bound 3
// took 2.4 s and the full search ran past 60 s, measured). Every
// mutant in verification/mutants/task.cmake is killed within these searches (timings and
// iterations in notes/taskmodel-readme.md).
#include <coroutine>
#include <future>
#include <utility>

#include "patterns/awaitables.hpp"
#include "patterns/context.hpp"
#include "patterns/task.hpp"
#include "sync/atomic.hpp"
#include "sync/cell.hpp"
#include "verification/model/fiber_of.hpp"
#include "verification/model/model_driver.hpp"

namespace {

// Suspends the producer in before(); thread 0 resumes it.
struct gate {
  std::coroutine_handle<> h;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> c) noexcept { h = c; }
  void await_resume() const noexcept {}
};

using lf::model::fiber_of;

lf::task<int> producer(gate& g, lf::cell<int>& payload, lf::detail::coro_fiber** self) {
  co_await fiber_of{self};
  co_await g;
  *payload.write() = 42;
  co_return 7;
}

// The fiber under test: the producer, started (not on a pool: a thread drives it) and
// run to its gate in before(); thread 0 of every case calls finish(), which runs it to
// its end and completes it (J1).
struct finishing_fiber {
  gate g;
  lf::cell<int> payload;
  lf::join_handle<int> handle;
  lf::detail::coro_fiber* state = nullptr;  // its root_state

  void start() {
    handle = lf::start_fiber<int>(nullptr, producer(g, payload, &state));
    RL_ASSERT(g.h && state != nullptr && !handle.is_ready());
  }
  void finish() { lf::detail::run_coroutine(g.h); }
};

// (J1) vs (J2): thread 1 is a coroutine awaiting the producer's handle, driven by
// sync_wait (its resumption is posted to it, (J4), while it sleeps on its own fiber's
// word, (J3)). It must be resumed exactly once (a lost wake-up is a DEADLOCK: sync_wait
// never returns), and read the payload the producer published (DATA RACE otherwise).
struct awaiter_registers_while_the_fiber_finishes : rl::test_suite<awaiter_registers_while_the_fiber_finishes, 2> {
  finishing_fiber f;
  int resumed = 0;  // thread 1 only

  static lf::task<int> consumer(awaiter_registers_while_the_fiber_finishes& t) {
    const int v = co_await std::move(t.f.handle);
    ++t.resumed;
    RL_ASSERT(*t.f.payload.read() == 42);
    co_return v;
  }

  void before() {
    resumed = 0;
    f.start();
  }

  void thread(unsigned index) {
    if (index == 0) return f.finish();
    RL_ASSERT(lf::sync_wait(consumer(*this)) == 7);
  }

  void after() {
    RL_ASSERT(resumed == 1);
    RL_ASSERT(!f.handle.valid());  // co_await took the result and the handle's reference
  }
};

// The awaited fiber abandoned instead (its pool destroyed it while suspended at its
// gate: destroy_all's abandon, on the closing thread) while a coroutine registers to
// await it. abandon completes the fiber with broken_promise (J1): the awaiter is resumed
// exactly once and co_await throws std::future_error; the fiber's frame and state are
// freed exactly once (Relacy's leak and freed-memory checks).
struct awaiter_registers_while_the_fiber_is_abandoned
    : rl::test_suite<awaiter_registers_while_the_fiber_is_abandoned, 2> {
  finishing_fiber f;
  int failed = 0;  // thread 1 only

  static lf::task<void> consumer(awaiter_registers_while_the_fiber_is_abandoned& t) {
    try {
      (void)co_await std::move(t.f.handle);
    } catch (const std::future_error& e) {
      RL_ASSERT(e.code() == std::future_errc::broken_promise);
      ++t.failed;
    }
  }

  void before() {
    failed = 0;
    f.start();
  }

  void thread(unsigned index) {
    if (index == 0) return f.state->abandon();
    lf::sync_wait(consumer(*this));
  }

  void after() { RL_ASSERT(failed == 1 && !f.handle.valid()); }
};

// (J1) vs detach: the state has two references, the frame's (dropped by complete) and
// the handle's. Whichever drops last frees it, exactly once: a state touched after it was
// freed, freed twice or never freed is Relacy's verdict.
struct detach_races_the_fiber_finishing : rl::test_suite<detach_races_the_fiber_finishing, 2> {
  finishing_fiber f;

  void before() { f.start(); }

  void thread(unsigned index) {
    if (index == 0) return f.finish();
    f.handle.detach();
  }

  void after() { RL_ASSERT(!f.handle.valid()); }
};

// (J1) vs (J3): thread 1 is a thread waiter (join_handle::get), sleeping on the word. It
// must wake (DEADLOCK otherwise) and see the published payload (DATA RACE otherwise).
struct thread_waiter_sleeps_while_the_fiber_finishes
    : rl::test_suite<thread_waiter_sleeps_while_the_fiber_finishes, 2> {
  finishing_fiber f;

  void before() { f.start(); }

  void thread(unsigned index) {
    if (index == 0) return f.finish();
    RL_ASSERT(f.handle.get() == 7);
    RL_ASSERT(*f.payload.read() == 42);
  }
};

// The bare protocol: thread 1 registers a join_waiter of its own (J2) while the fiber
// finishes (J1). Exactly one of the two sides sees the other: either register_waiter
// answers "done already" and nobody wakes the record, or it answers "suspend" and the
// finishing side calls wake() once. A double wake-up (or none) fails the end check; a
// wake-up that does not publish the payload is a DATA RACE.
struct waiter_record_is_woken_exactly_once : rl::test_suite<waiter_record_is_woken_exactly_once, 2> {
  struct counting_waiter final : lf::detail::join_waiter {
    waiter_record_is_woken_exactly_once* t = nullptr;
    std::coroutine_handle<> wake() noexcept override {
      RL_ASSERT(*t->f.payload.read() == 42);
      t->wakes.fetch_add(1, std::memory_order_relaxed);
      return std::noop_coroutine();
    }
  };

  finishing_fiber f;
  counting_waiter w;
  lf::atomic<int> wakes{0};
  bool suspended = false;  // thread 1 only

  void before() {
    w.t = this;
    suspended = false;
    f.start();
  }

  void thread(unsigned index) {
    if (index == 0) return f.finish();
    suspended = static_cast<lf::detail::root_base*>(f.state)->register_waiter(w);
    if (!suspended) RL_ASSERT(*f.payload.read() == 42);  // (J2) acquired (J1)
  }

  void after() {
    RL_ASSERT(wakes.load(std::memory_order_relaxed) == (suspended ? 1 : 0));
    RL_ASSERT(f.handle.get() == 7);
  }
};

// (W): a suspended awaiting frame is destroyed (its pool closing: abandon) while the
// fiber it awaits finishes and takes the wake-up. The destructor either withdraws the
// record before (J1) or waits until wake() stopped touching it; wake() holds a reference
// to the awaiting fiber's state across its post. Thread 1 abandons the awaiting fiber and
// drops its handle, so that state may be freed the moment the waker lets go of it: any
// touch of a freed frame or state is ACCESS TO FREED MEMORY.
struct awaiting_frame_destroyed_while_the_fiber_finishes
    : rl::test_suite<awaiting_frame_destroyed_while_the_fiber_finishes, 2> {
  finishing_fiber f;
  lf::join_handle<int> awaiting;           // the awaiting fiber's handle
  lf::detail::coro_fiber* awaiting_state = nullptr;

  static lf::task<int> consumer(awaiting_frame_destroyed_while_the_fiber_finishes& t) {
    co_await fiber_of{&t.awaiting_state};
    co_return co_await std::move(t.f.handle);
  }

  void before() {
    f.start();
    // Runs the consumer here until it suspends on the producer (registered, (J2)).
    awaiting = lf::start_fiber<int>(nullptr, consumer(*this));
    RL_ASSERT(awaiting_state != nullptr && !awaiting.is_ready());
  }

  void thread(unsigned index) {
    if (index == 0) return f.finish();
    awaiting_state->abandon();  // what the pool's destroy_all does to a suspended fiber
    awaiting.detach();
  }

  void after() {
    // The destroyed awaiter never took the result: the producer's handle keeps its state.
    RL_ASSERT(f.handle.valid() && f.handle.is_ready());
    RL_ASSERT(f.handle.get() == 7);
  }
};

// The pool's destruction (coro_fiber.hpp, coro_registry::destroy_all): two suspended
// fibers in a registry are abandoned by the closing thread while a thread waits on both
// handles (J3). Each wait ends with std::future_error(broken_promise) (a fiber skipped is
// a DEADLOCK), and every frame and state is freed exactly once. (A fiber awaiting another
// in the same registry needs a real pool, whose closed queue refuses the wake-up; that
// ordering is the unit tests'.)
struct destroy_all_fails_the_thread_waiters : rl::test_suite<destroy_all_fails_the_thread_waiters, 2> {
  lf::detail::coro_registry registry;
  finishing_fiber a, b;

  static void expect_broken_promise(lf::join_handle<int>& h) {
    try {
      (void)h.get();
      RL_ASSERT(!"an abandoned fiber's handle returned a value");
    } catch (const std::future_error& e) {
      RL_ASSERT(e.code() == std::future_errc::broken_promise);
    }
  }

  void before() {
    a.start();
    b.start();
    registry.add(*a.state);
    registry.add(*b.state);
  }

  void thread(unsigned index) {
    if (index == 0) return registry.destroy_all(nullptr);
    expect_broken_promise(a.handle);
    expect_broken_promise(b.handle);
  }
};

// lf::done(ctx) (patterns/awaitables.hpp, (D1)/(D2)): thread 0 writes a payload and
// cancels the context; thread 1 is a coroutine awaiting done(ctx), driven by sync_wait.
// The callback may run before, during or after the awaiter's registration: it must be
// resumed exactly once (DEADLOCK if never: sync_wait never returns) and see the payload.
struct done_waiter_suspends_while_the_context_is_cancelled
    : rl::test_suite<done_waiter_suspends_while_the_context_is_cancelled, 2> {
  lf::context ctx;
  lf::cancel_func cancel;
  lf::cell<int> payload;
  int resumed = 0;  // thread 1 only

  static lf::task<void> waiter(done_waiter_suspends_while_the_context_is_cancelled& t) {
    co_await lf::done(t.ctx);
    ++t.resumed;
    RL_ASSERT(*t.payload.read() == 42);
  }

  void before() {
    resumed = 0;
    auto [c, f] = lf::with_cancel(lf::background());
    ctx = c;
    cancel = f;
  }

  void thread(unsigned index) {
    if (index == 0) {
      *payload.write() = 42;
      cancel();
      return;
    }
    lf::sync_wait(waiter(*this));
  }

  void after() { RL_ASSERT(resumed == 1); }
};

// The same awaiter destroyed while suspended (its pool closing: abandon) as the context
// is cancelled: ~done_awaiter deregisters its callback, or waits for a callback already
// running to return, before the frame is freed; the callback touches neither the frame
// nor the fiber's state after that (ACCESS TO FREED MEMORY otherwise).
struct done_waiter_destroyed_while_the_context_is_cancelled
    : rl::test_suite<done_waiter_destroyed_while_the_context_is_cancelled, 2> {
  lf::context ctx;
  lf::cancel_func cancel;
  lf::join_handle<void> awaiting;
  lf::detail::coro_fiber* awaiting_state = nullptr;

  static lf::task<void> waiter(done_waiter_destroyed_while_the_context_is_cancelled& t) {
    co_await fiber_of{&t.awaiting_state};
    co_await lf::done(t.ctx);
  }

  void before() {
    auto [c, f] = lf::with_cancel(lf::background());
    ctx = c;
    cancel = f;
    awaiting = lf::start_fiber<void>(nullptr, waiter(*this));  // runs until it suspends
    RL_ASSERT(awaiting_state != nullptr && !awaiting.is_ready());
  }

  void thread(unsigned index) {
    if (index == 0) {
      cancel();
      return;
    }
    awaiting_state->abandon();
    awaiting.detach();
  }
};

}  // namespace

int main(int argc, char** argv) {
  using lf::model::search;
  return lf::model::run_cases(
      argc, argv,
      {
          LF_MODEL_CASE("awaiter_registers_while_the_fiber_finishes", search::bounded(4), awaiter_registers_while_the_fiber_finishes),
          LF_MODEL_CASE("awaiter_registers_while_the_fiber_is_abandoned", search::bounded(3), awaiter_registers_while_the_fiber_is_abandoned),
          LF_MODEL_CASE("detach_races_the_fiber_finishing", search::full(), detach_races_the_fiber_finishing),
          LF_MODEL_CASE("thread_waiter_sleeps_while_the_fiber_finishes", search::full(), thread_waiter_sleeps_while_the_fiber_finishes),
          LF_MODEL_CASE("waiter_record_is_woken_exactly_once", search::full(), waiter_record_is_woken_exactly_once),
          LF_MODEL_CASE("awaiting_frame_destroyed_while_the_fiber_finishes", search::full(), awaiting_frame_destroyed_while_the_fiber_finishes),
          LF_MODEL_CASE("destroy_all_fails_the_thread_waiters", search::bounded(2), destroy_all_fails_the_thread_waiters),
          LF_MODEL_CASE("done_waiter_suspends_while_the_context_is_cancelled", search::bounded(3), done_waiter_suspends_while_the_context_is_cancelled),
          LF_MODEL_CASE("done_waiter_destroyed_while_the_context_is_cancelled", search::bounded(4), done_waiter_destroyed_while_the_context_is_cancelled),
      });
}
