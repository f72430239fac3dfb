// Linearizability test of demo::spsc_queue (built with lf_add_lincheck_test: real threads,
// histories recorded and judged by lf::lincheck against a sequential specification).
//
// 1. Random runs: one producer thread, one consumer thread, 8 tries each, 300 runs (the
//    size at which overlapping operations, the thing a linearizability bug needs, occur in
//    most runs and each check is exhaustive in microseconds). The fixed queue must be a
//    linearizable bounded FIFO queue with exact full/empty answers. Random runs are a poor
//    net for the bug as written: its window is two instructions long, while the producer
//    needs a cache-line transfer to see the freed slot, so the consumer's read nearly
//    always wins. Measured on the 2-core development machine with this driver: at capacity
//    2, 0 of 20'000 runs caught it; at capacity 1, four tries of 20'000 runs caught it at
//    runs 2647, 2947 and 2266, and once not at all. That is why the model checker exists,
//    and why step 2 exists here.
// 2. A schedule that holds the consumer in the bug's window. The payload's move
//    constructor can be made to wait (before it reads anything) until the test lets it go;
//    spsc_queue::try_pop moves the value out of its slot, so the consumer stops there, as a
//    preemption would stop it. Meanwhile the producer pushes, then the consumer finishes.
//    The history goes to the checker. As written: NOT linearizable (one value popped twice,
//    one lost; the timeline is printed and written as JSON). Fixed: linearizable.
// Exit status 0 iff all three verdicts are the expected ones.
#include <atomic>
#include <cstdio>
#include <memory>
#include <optional>
#include <random>
#include <thread>

#include "spsc_queue.hpp"
#include "verification/lincheck/checker.hpp"
#include "verification/lincheck/driver.hpp"
#include "verification/lincheck/report.hpp"
#include "verification/lincheck/specs.hpp"

namespace {

namespace lc = lf::lincheck;
using demo::pop_order;
using Q = lc::queue_spec;

// ---- 1. random runs --------------------------------------------------------------------

bool fixed_queue_passes_random_runs() {
  constexpr std::size_t capacity = 2;
  using queue = demo::spsc_queue<lc::value, pop_order::read_then_free>;
  auto make = [] { return std::make_unique<lc::queue_target<queue>>(std::size_t{capacity}); };
  // Thread 0 is the producer, thread 1 the consumer: the queue admits one of each.
  auto plan = [](std::mt19937_64&, std::size_t thread, std::size_t i) {
    lc::operation o;
    o.kind = thread == 0 ? Q::push : Q::pop;
    o.arg = lc::unique_value(thread, i);
    return o;
  };
  lc::run_options opt;
  opt.threads = 2;
  opt.ops_per_thread = 8;
  opt.runs = 300;
  opt.jitter = 64;
  opt.name = "verify_your_queue-random";
  const lc::run_summary s = lc::run_random(Q::bounded(capacity), make, plan, opt);
  std::printf("random runs, fixed queue: %zu runs, %zu not linearizable, %zu unknown\n%s", s.runs, s.failures,
              s.unknown, s.report.c_str());
  return static_cast<bool>(s);
}

// ---- 2. the consumer held in the window --------------------------------------------------

std::atomic<bool> gate_armed{false}, gate_reached{false}, gate_open{false};

// A payload whose next move waits at the gate, before reading its source.
struct gated {
  lc::value v;
  explicit gated(lc::value x) noexcept : v(x) {}
  gated(gated&& o) noexcept {
    if (gate_armed.exchange(false)) {
      gate_reached.store(true);
      while (!gate_open.load()) std::this_thread::yield();
    }
    v = o.v;
  }
  gated& operator=(gated&&) = default;
};

// Capacity 1. push(1); the consumer's pop stops inside the move; push(2); the pop ends;
// one more pop. Threads: 0 the consumer (its second pop runs after the first has been
// joined, so there is still one consumer at a time), 1 the producer.
template <pop_order Order>
lc::history consumer_held_in_the_window() {
  demo::spsc_queue<gated, Order> q(1);
  lc::recorder rec(2, 4);
  auto push = [&](lc::value v) {
    const auto i = rec.invoke(1, Q::push, v);
    rec.respond(1, i, q.try_push(gated{v}) ? 1 : 0);
  };
  auto pop = [&] {
    const auto i = rec.invoke(0, Q::pop);
    const std::optional<gated> got = q.try_pop();
    rec.respond(0, i, got ? got->v : lc::none);
  };
  push(1);
  gate_reached = false;
  gate_open = false;
  gate_armed = true;
  std::thread consumer(pop);
  while (!gate_reached.load()) std::this_thread::yield();  // the consumer is inside try_pop
  push(2);
  gate_open = true;
  consumer.join();
  pop();
  return rec.collect();
}

}  // namespace

int main() {
  const bool random_ok = fixed_queue_passes_random_runs();

  const Q spec = Q::bounded(1);
  const lc::history as_written = consumer_held_in_the_window<pop_order::free_then_read>();
  const lc::check_result bug = lc::check(spec, as_written);
  std::printf("held consumer, queue as written: %s\n%s", lc::to_string(bug.outcome),
              lc::explain(spec, as_written, "verify_your_queue-held-consumer.json").c_str());

  const lc::history fixed = consumer_held_in_the_window<pop_order::read_then_free>();
  const lc::check_result ok = lc::check(spec, fixed);
  std::printf("held consumer, fixed queue: %s\n", lc::to_string(ok.outcome));

  const bool bug_found = bug.outcome == lc::verdict::not_linearizable;
  const bool fixed_ok = ok.outcome == lc::verdict::linearizable;
  std::printf("verify_your_queue (lincheck): random runs %s; the bug %s; the fixed queue %s\n",
              random_ok ? "pass" : "FAIL", bug_found ? "is found" : "was NOT caught", fixed_ok ? "passes" : "FAILS");
  return random_ok && bug_found && fixed_ok ? 0 : 1;
}
