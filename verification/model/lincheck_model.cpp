// Model lane: histories taken from Relacy schedules, judged by the linearizability checker.
//
// Each case runs a few operations per thread on a shipped container (lockfree/ms_queue.hpp,
// lockfree/treiber_stack.hpp, over hazard pointers), records every operation through
// lf::lincheck::recorder (verification/lincheck/history.hpp), and in after() asks
// lf::lincheck::check whether the schedule's history is linearizable with respect to the
// sequential specification (specs.hpp: fifo queue, stack). A history that is not fails the
// case (RL_ASSERT), so what is checked is the specification itself, not ad-hoc assertions:
// a pop that answers "empty" while the container provably held a value, a value popped
// twice, out of order, or one that was never pushed.
//
// Why the recorded order is one Relacy really executed. The recorder's clock is an
// lf::atomic, so under LF_MODEL_RELACY each stamp is an acq_rel fetch_add on a modelled
// atomic: a scheduling point, and one more RMW in that atomic's single modification order.
// An RMW reads the last value before it in that order, so the stamps are that order. The
// invoke stamp is taken right before the operation starts and the response stamp right
// after it returns, in the same thread: the operation's own steps lie between them in
// program order. If A's response stamp is below B's invoke stamp, A's response RMW is
// earlier in the counter's order than B's invoke RMW, so (release, then acquire, on one
// atomic) A's response synchronizes with B's invoke and all of A happens before all of B:
// the real-time order the checker is given is a real happens-before order of this schedule.
// Operations whose intervals overlap are left unordered, and the stamps can only widen an
// interval, so the recording never makes a linearizable run look otherwise.
//
// The recorder's per-thread logs are std::vectors reserved in before(), so the threads
// never allocate while recording (the logs are plain memory each thread writes alone, and
// Relacy sees only the clock). The checker runs in after(), single-threaded, on plain std
// containers.
//
// Searches and why they suffice. Every case runs 20'000 random schedules (under 1.5 s each,
// about 3 s for the binary). Two threads, two operations each (push, push | pop, pop) let a
// pop meet a push mid-link or mid-swing; three threads (one pusher, two poppers, two
// operations each, the container holding two values first) let two pops collide on one
// head while values remain. The races need one preemption between a load and its CAS,
// which most random schedules make; an exhaustive context bound of 1 is too large here
// (measured: past 2 M schedules and a minute for the two-thread queue case, since every
// stamp is a scheduling point too), so the random search is the CI-sized one. Both mutants
// are found at the first schedule.
//
// Seen to fail: msq_pop_gives_up_on_contention (verification/mutants/ms_queue.cmake), a
// pop that answers "empty" when its head CAS loses, and treiber_pop_gives_up_on_contention
// (treiber_stack.cmake), the same for the stack's unlink. Neither breaks memory safety or
// takes a value twice; ms_queue_model's own cases pass with the queue's (its
// two_poppers_one_pusher ran 300'000 schedules and found nothing): only the specification
// catches it.
#include <cstdio>
#include <optional>
#include <type_traits>

#include "lockfree/ms_queue.hpp"
#include "lockfree/treiber_stack.hpp"
#include "rcu/hazard_pointer.hpp"
#include "rcu/hazard_pointer_reclaimer.hpp"
#include "verification/lincheck/checker.hpp"
#include "verification/lincheck/history.hpp"
#include "verification/lincheck/specs.hpp"
#include "verification/model/model_driver.hpp"

namespace {

namespace lc = lf::lincheck;

// One case: `Threads` threads of `Ops` operations on a `Container`, judged against `Spec`.
// `Prefill` values (1, 2, ...) are pushed and recorded, as thread 0's first operations,
// before the threads start. At each step thread t pushes 10 * (t + 1) + step if
// Derived::pushes(t, step), else pops.
template <class Derived, class Container, class Spec, unsigned Threads, int Prefill, int Ops>
struct recorded_case : rl::test_suite<Derived, Threads> {
  std::optional<lf::hazard_domain> domain;
  std::optional<Container> c;
  std::optional<lc::recorder> rec;

  void before() {
    domain.emplace();
    c.emplace(*domain);
    rec.emplace(Threads, Prefill + Ops);
    for (int i = 1; i <= Prefill; ++i) push(0, i);
  }

  void push(unsigned t, int v) {
    const std::size_t k = rec->invoke(t, Spec::push, v);
    c->push(v);
    rec->respond(t, k, 1);
  }
  void pop(unsigned t) {
    const std::size_t k = rec->invoke(t, Spec::pop);
    const std::optional<int> v = c->try_pop();
    rec->respond(t, k, v ? lc::value{*v} : lc::none);
  }

  void thread(unsigned t) {
    for (int step = 0; step < Ops; ++step) {
      if (Derived::pushes(t, step)) {
        push(t, static_cast<int>(10 * (t + 1)) + step);
      } else {
        pop(t);
      }
    }
  }

  // The unbounded FIFO for the queue, the stack spec for the stack.
  static Spec spec() {
    if constexpr (std::is_same_v<Spec, lc::queue_spec>) {
      return lc::queue_spec::fifo();
    } else {
      return Spec{};
    }
  }

  void after() {
    const lc::history h = rec->collect();
    const lc::check_result r = lc::check(spec(), h);
    if (!r) {
      std::printf("lf-model: not linearizable as a %s:\n", spec().name().c_str());
      for (const lc::operation& o : h) {
        std::printf("  thread %u [%llu, %llu] %s -> %s\n", o.thread, static_cast<unsigned long long>(o.call),
                    static_cast<unsigned long long>(o.ret), spec().call_text(o).c_str(),
                    spec().result_text(o).c_str());
      }
    }
    RL_ASSERT(r.outcome == lc::verdict::linearizable);
    rec.reset();
    c.reset();
    domain.reset();
  }
};

using queue = lf::ms_queue<int, lf::hazard_pointer_reclaimer>;
using stack = lf::treiber_stack<int, lf::hazard_pointer_reclaimer>;

// Thread 0 pushes twice, thread 1 pops twice: pops meet pushes mid-link and mid-swing.
template <class Container, class Spec>
struct push_push_pop_pop : recorded_case<push_push_pop_pop<Container, Spec>, Container, Spec, 2, 0, 2> {
  static bool pushes(unsigned t, int) { return t == 0; }
};

// The container holds 1, 2; thread 0 pushes twice, threads 1 and 2 pop twice each: two
// pops collide on the same head while values remain.
template <class Container, class Spec>
struct one_pusher_two_poppers : recorded_case<one_pusher_two_poppers<Container, Spec>, Container, Spec, 3, 2, 2> {
  static bool pushes(unsigned t, int) { return t == 0; }
};

}  // namespace

int main(int argc, char** argv) {
  using lf::model::search;
  return lf::model::run_cases(
      argc, argv,
      {
          LF_MODEL_CASE("ms_queue_two_threads", search::random(20000), push_push_pop_pop<queue, lc::queue_spec>),
          LF_MODEL_CASE("ms_queue_three_threads", search::random(20000), one_pusher_two_poppers<queue, lc::queue_spec>),
          LF_MODEL_CASE("treiber_two_threads", search::random(20000), push_push_pop_pop<stack, lc::stack_spec>),
          LF_MODEL_CASE("treiber_three_threads", search::random(20000), one_pusher_two_poppers<stack, lc::stack_spec>),
      });
}
