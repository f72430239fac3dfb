// Model lane for lockfree/spsc_ring.hpp, built from the shipped header through the seam.
//
// Searches and why they suffice (each kills the mutants in verification/mutants that
// name this file; DESIGN §2's measured costs):
// - The ring's races are one-preemption races: a publication or a slot release that is
//   not ordered is seen as a DATA RACE on the slot's cell the first time the other side
//   touches the slot, whatever else interleaves. A random search of 20'000 schedules
//   over a ring of 2 slots (the smallest; capacity_one asks for 1) or 4 visits every
//   full/empty boundary many times (each schedule crosses them on every push), and kills
//   every ordering mutant within its first hundred iterations; context bound 2 is run for
//   the wrap-around case as the exhaustive check of two-preemption schedules.
// - The producer's look-ahead probes min(look_ahead, size) - 1 slots ahead: on these rings
//   the far probe is the last slot of the ring, so the schedules run both the look-ahead
//   and the step to the next slot (a probe that fails while the consumer is behind).
#include <optional>
#include <vector>

#include "lockfree/spsc_ring.hpp"
#include "sync/thread.hpp"
#include "verification/model/model_driver.hpp"

namespace {

// A producer pushes 1..n through a ring of `cap`; the consumer pops and checks order.
template <std::size_t Cap, int N>
struct pass_through : rl::test_suite<pass_through<Cap, N>, 2> {
  std::optional<lf::spsc_ring<int>> q;

  void before() { q.emplace(Cap); }
  void after() { q.reset(); }

  void thread(unsigned index) {
    if (index == 0) {
      for (int i = 1; i <= N; ++i) {
        while (!q->try_push(i)) lf::spin_pause();
      }
    } else {
      for (int i = 1; i <= N; ++i) {
        std::optional<int> v;
        while (!(v = q->try_pop())) lf::spin_pause();
        RL_ASSERT(*v == i);
      }
    }
  }
};

// Batches: the producer pushes 1..6 in batches of up to 3 into a ring of 4, the
// consumer drains with batches of up to 2; one index store publishes each batch.
struct batches : rl::test_suite<batches, 2> {
  std::optional<lf::spsc_ring<int>> q;

  void before() { q.emplace(4); }
  void after() { q.reset(); }

  void thread(unsigned index) {
    if (index == 0) {
      int next = 1;
      while (next <= 6) {
        int batch[3] = {next, next + 1, next + 2};
        const std::size_t want = static_cast<std::size_t>(7 - next < 3 ? 7 - next : 3);
        const std::size_t n = q->try_push_n(batch, want);
        next += static_cast<int>(n);
        if (n == 0) lf::spin_pause();
      }
    } else {
      int expect = 1;
      while (expect <= 6) {
        int out[2] = {0, 0};
        const std::size_t n = q->try_pop_n(out, 2);
        for (std::size_t i = 0; i < n; ++i) RL_ASSERT(out[i] == expect++);
        if (n == 0) lf::spin_pause();
      }
    }
  }
};

// Leftovers: the consumer takes one of three elements; the destructor (run in after())
// must destroy exactly the two left, counted by the payload.
struct counted {
  int* live;
  explicit counted(int* l) : live(l) { ++*live; }
  counted(counted&& o) noexcept : live(o.live) { ++*live; }
  ~counted() { --*live; }
};

struct leftovers : rl::test_suite<leftovers, 2> {
  int live = 0;
  std::optional<lf::spsc_ring<counted>> q;

  void before() { q.emplace(2); }
  void after() {
    q.reset();
    RL_ASSERT(live == 0);
  }

  void thread(unsigned index) {
    if (index == 0) {
      for (int i = 0; i < 3; ++i) {
        while (!q->try_emplace(&live)) lf::spin_pause();
      }
    } else {
      while (!q->try_pop()) lf::spin_pause();
    }
  }
};

// An observer beside the two sides: size_approx must never go negative (as a size_t, it
// must never exceed the capacity). The producer pushes one element and the consumer pops
// it while a third thread takes a snapshot. Reading head = 1 and then the tail of before
// the push would give 0 - 1. Its acquire load of head (5) rules that out: the consumer
// read tail = 1 before it stored head = 1, so the observer's later tail load reads 1.
// Context bound 1, exhaustive: the stale tail needs no preemption at all (the observer,
// scheduled last, may read any tail its happens-before allows), so bound 1 covers it
// with room to spare.
struct size_never_negative : rl::test_suite<size_never_negative, 3> {
  std::optional<lf::spsc_ring<int>> q;
  void before() { q.emplace(2); }
  void after() { q.reset(); }
  void thread(unsigned index) {
    if (index == 0) {
      const bool pushed = q->try_push(1);  // the ring is empty: it fits
      RL_ASSERT(pushed);
    } else if (index == 1) {
      while (!q->try_pop()) lf::spin_pause();
    } else {
      RL_ASSERT(q->size_approx() <= q->capacity());
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  using lf::model::search;
  return lf::model::run_cases(argc, argv,
                              {
                                  LF_MODEL_CASE("wraparound", search::random(20000), pass_through<2, 5>),
                                  LF_MODEL_CASE("wraparound_bound2", search::bounded(2), pass_through<2, 3>),
                                  LF_MODEL_CASE("capacity_one", search::random(20000), pass_through<1, 3>),
                                  LF_MODEL_CASE("batches", search::random(20000), batches),
                                  LF_MODEL_CASE("leftovers", search::random(20000), leftovers),
                                  LF_MODEL_CASE("size_never_negative", search::bounded(1), size_never_negative),
                              });
}
