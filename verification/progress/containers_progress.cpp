// progress lane: every container of lockfree/, with one thread frozen in the middle of a
// call at each of its first seam operations (scenario.hpp), judged against the progress
// its header declares (push_progress, pop_progress, steal_progress, handoff_progress).
//
// Bounds, and why they suffice. One stalled thread and one other thread: a thread
// suspended forever is the whole adversary of the blocking/non-blocking distinction, and a
// second other thread would only add schedules the sweep does not control. Rings hold 8
// (the other thread's rounds then wrap past the stalled slot, where a ring can block its
// producers); LCRQ/LPRQ rings hold 16 cells, so the goal also closes a ring and opens the
// next. The goal moves 3 rounds of 4 values; its call budget is what the goal needs if
// nothing blocks, plus the values the stalled call and the fill put in its way, plus 16
// spare calls: a non-blocking container needs none of the spare, a blocked one answers
// "empty" or "full" without end and exceeds any budget. About 11 freeze points per
// scenario, ~1 ms each: the lane runs in well under a second.
#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>

#include "lockfree/chase_lev_deque.hpp"
#include "lockfree/detail/concepts.hpp"
#include "lockfree/elimination_stack.hpp"
#include "lockfree/lcrq.hpp"
#include "lockfree/lprq.hpp"
#include "lockfree/mpmc_ring.hpp"
#include "lockfree/ms_queue.hpp"
#include "lockfree/scq_ring.hpp"
#include "lockfree/spsc_ring.hpp"
#include "lockfree/treiber_stack.hpp"
#include "sync/atomic.hpp"
#include "sync/thread.hpp"
#include "verification/progress/scenario.hpp"

namespace {

using lf::progress;
using lf::progress_lane::run_scenario;
using lf::progress_lane::scenario_report;
using lf::progress_lane::step_budget;
using lf::progress_lane::weaker;

constexpr std::size_t ring_capacity = 8;
constexpr std::size_t lcrq_ring_size = 4;
constexpr std::uint64_t fill_count = 2;  // values in the container before the stalled call
constexpr std::uint64_t rounds = 3;
constexpr std::uint64_t per_round = 4;
constexpr std::size_t spare_calls = 16;

// Values: the fill 1.., the stalled thread's 1000, the other thread's 2000...
constexpr std::uint64_t stalled_value = 1000;
constexpr std::uint64_t own_base = 2000;
bool own(std::uint64_t v) { return v >= own_base; }

// Pushes `per_round` of its own values and gets them all back, `rounds` times: across the
// rounds the values pass the stalled call's position (in a ring, on the next lap too).
template <class Q>
void move_own_values(Q& q, step_budget& budget) {
  std::uint64_t next = own_base;
  for (std::uint64_t r = 0; r < rounds; ++r) {
    for (std::uint64_t i = 0; i < per_round; ++i) {
      const std::uint64_t v = next++;
      for (;;) {
        budget.call();
        if (q.try_push(std::uint64_t{v})) break;
      }
    }
    for (std::uint64_t got = 0; got < per_round;) {
      budget.call();
      if (const std::optional<std::uint64_t> v = q.try_pop(); v && own(*v)) ++got;
    }
  }
}
// The calls move_own_values needs when nothing blocks it, plus the fill and the stalled
// value it may pop on the way, plus spare_calls.
constexpr std::size_t move_own_values_calls = 2 * rounds * per_round + fill_count + 1 + spare_calls;

template <class Q>
void fill(Q& q) {
  for (std::uint64_t v = 1; v <= fill_count; ++v) EXPECT_TRUE(q.try_push(std::uint64_t{v}));
}

// A queue or stack: a thread stalled in push, then one stalled in pop; the other thread
// moves its own values through. Both depend on the hand-over past the stalled call.
template <class Q, class Make>
void check_queue(const char* name, Make make) {
  constexpr progress declared = lf::handoff_progress_of<Q>();
  const std::string by = "handoff_progress_of: push/pop" + std::string(
                             requires { Q::handoff_progress; } ? " and the declared handoff_progress" : "");
  auto built = [&] {
    auto q = make();
    fill(*q);
    return q;
  };
  const scenario_report push = run_scenario(
      std::string(name) + " push stalled", declared, by, move_own_values_calls, built,
      [](Q& q) { (void)q.try_push(std::uint64_t{stalled_value}); }, [](Q& q, step_budget& b) { move_own_values(q, b); });
  const scenario_report pop = run_scenario(
      std::string(name) + " pop stalled", declared, by, move_own_values_calls, built,
      [](Q& q) { (void)q.try_pop(); }, [](Q& q, step_budget& b) { move_own_values(q, b); });
  for (const scenario_report* r : {&push, &pop}) {
    std::printf("%s\n", r->summary().c_str());
    EXPECT_TRUE(r->matches()) << r->summary();
  }
}

TEST(Progress, mpmc_ring) {
  check_queue<lf::mpmc_ring<std::uint64_t>>("mpmc_ring",
                                            [] { return std::make_unique<lf::mpmc_ring<std::uint64_t>>(ring_capacity); });
}
TEST(Progress, scq_ring) {
  check_queue<lf::scq_ring<std::uint64_t>>("scq_ring",
                                           [] { return std::make_unique<lf::scq_ring<std::uint64_t>>(ring_capacity); });
}
TEST(Progress, ms_queue) {
  check_queue<lf::ms_queue<std::uint64_t>>("ms_queue", [] { return std::make_unique<lf::ms_queue<std::uint64_t>>(); });
}
TEST(Progress, lcrq) {
  check_queue<lf::lcrq<std::uint64_t>>("lcrq", [] { return std::make_unique<lf::lcrq<std::uint64_t>>(lcrq_ring_size); });
}
TEST(Progress, lprq) {
  check_queue<lf::lprq<std::uint64_t>>("lprq", [] { return std::make_unique<lf::lprq<std::uint64_t>>(lcrq_ring_size); });
}
TEST(Progress, treiber_stack) {
  check_queue<lf::treiber_stack<std::uint64_t>>("treiber_stack",
                                                [] { return std::make_unique<lf::treiber_stack<std::uint64_t>>(); });
}
TEST(Progress, elimination_stack) {
  check_queue<lf::elimination_stack<std::uint64_t>>(
      "elimination_stack", [] { return std::make_unique<lf::elimination_stack<std::uint64_t>>(); });
}

// SPSC: the only other thread is the other side. Producer stalled: the consumer must get
// the fill. Consumer stalled: the producer must fill the rest of the ring (the stalled
// pop's slot may still be taken).
TEST(Progress, spsc_ring) {
  using Q = lf::spsc_ring<std::uint64_t>;
  auto built = [] {
    auto q = std::make_unique<Q>(ring_capacity);
    fill(*q);
    return q;
  };
  const std::string by = "push_progress, pop_progress";
  const scenario_report producer = run_scenario(
      "spsc_ring producer stalled", weaker(Q::push_progress, Q::pop_progress), by, fill_count + spare_calls, built,
      [](Q& q) { (void)q.try_push(std::uint64_t{stalled_value}); },
      [](Q& q, step_budget& b) {
        for (std::uint64_t got = 0; got < fill_count;) {
          b.call();
          if (const auto v = q.try_pop(); v && *v != stalled_value) ++got;
        }
      });
  const scenario_report consumer = run_scenario(
      "spsc_ring consumer stalled", weaker(Q::push_progress, Q::pop_progress), by,
      ring_capacity - fill_count + spare_calls, built, [](Q& q) { (void)q.try_pop(); },
      [](Q& q, step_budget& b) {
        std::uint64_t v = own_base;
        for (std::size_t pushed = 0; pushed < q.capacity() - fill_count;) {
          b.call();
          if (q.try_push(std::uint64_t{v})) ++pushed, ++v;
        }
      });
  for (const scenario_report* r : {&producer, &consumer}) {
    std::printf("%s\n", r->summary().c_str());
    EXPECT_TRUE(r->matches()) << r->summary();
  }
}

// Work-stealing deque: the owner stalled in push or pop while a thief steals the fill;
// a thief stalled in steal while the owner (the other thread) pushes and pops its own.
TEST(Progress, chase_lev_deque) {
  using D = lf::chase_lev_deque<std::uint64_t>;
  constexpr std::uint64_t deque_fill = 4;
  auto built = [] {
    auto d = std::make_unique<D>(ring_capacity);
    for (std::uint64_t v = 1; v <= deque_fill; ++v) d->push(v);
    return d;
  };
  // Steals until it holds `want` of the fill; a lost race is a call like any other.
  auto steal_fill = [](std::uint64_t want) {
    return [want](D& d, step_budget& b) {
      for (std::uint64_t got = 0; got < want;) {
        b.call();
        if (const lf::stolen<std::uint64_t> s = d.steal(); s && s.value != stalled_value) ++got;
      }
    };
  };
  const progress thief_side = weaker(D::steal_progress, weaker(D::push_progress, D::pop_progress));
  const std::string by = "push_progress, pop_progress, steal_progress";
  // A stalled push adds at most its own value; a stalled pop may be taking the bottom one.
  const scenario_report push = run_scenario("chase_lev_deque owner stalled in push", thief_side, by,
                                            deque_fill + 1 + spare_calls, built, [](D& d) { d.push(stalled_value); },
                                            steal_fill(deque_fill));
  const scenario_report pop = run_scenario("chase_lev_deque owner stalled in pop", thief_side, by,
                                           deque_fill + spare_calls, built, [](D& d) { (void)d.pop(); },
                                           steal_fill(deque_fill - 1));
  const scenario_report steal = run_scenario(
      "chase_lev_deque thief stalled in steal", thief_side, by, 2 * rounds * per_round + spare_calls, built,
      [](D& d) { (void)d.steal(); },
      [](D& d, step_budget& b) {
        std::uint64_t next = own_base;
        for (std::uint64_t r = 0; r < rounds; ++r) {
          for (std::uint64_t i = 0; i < per_round; ++i) {
            b.call();
            d.push(next++);
          }
          for (std::uint64_t got = 0; got < per_round;) {
            b.call();
            if (const auto v = d.pop(); v && own(*v)) ++got;
          }
        }
      });
  for (const scenario_report* r : {&push, &pop, &steal}) {
    std::printf("%s\n", r->summary().c_str());
    EXPECT_TRUE(r->matches()) << r->summary();
  }
}

// The lane's own mutants: it must be able to fail. A queue behind a spin lock written on
// the seam blocks every other thread while its holder is frozen; declared blocking it
// matches, and the same queue claiming lock_free must be caught.
template <progress Claimed>
class spin_locked_queue {
 public:
  static constexpr progress push_progress = Claimed;
  static constexpr progress pop_progress = Claimed;

  bool try_push(std::uint64_t v) {
    lock();
    items_.push_back(v);
    unlock();
    return true;
  }
  std::optional<std::uint64_t> try_pop() {
    lock();
    std::optional<std::uint64_t> v;
    if (!items_.empty()) {
      v = items_.front();
      items_.pop_front();
    }
    unlock();
    return v;
  }

 private:
  void lock() {
    while (locked_.exchange(true, std::memory_order_acquire)) lf::spin_pause();
  }
  void unlock() { locked_.store(false, std::memory_order_release); }

  lf::atomic<bool> locked_{false};
  std::deque<std::uint64_t> items_;
};

TEST(ProgressSelfTest, a_spin_locked_queue_declared_blocking_is_seen_blocking) {
  using Q = spin_locked_queue<progress::blocking>;
  check_queue<Q>("spin_locked_queue (declared blocking)", [] { return std::make_unique<Q>(); });
}

TEST(ProgressSelfTest, a_spin_locked_queue_claiming_lock_free_is_caught) {
  using Q = spin_locked_queue<progress::lock_free>;
  const scenario_report r = run_scenario(
      "spin_locked_queue (claims lock_free)", lf::handoff_progress_of<Q>(), "push/pop", move_own_values_calls,
      [] {
        auto q = std::make_unique<Q>();
        fill(*q);
        return q;
      },
      [](Q& q) { (void)q.try_push(stalled_value); }, [](Q& q, step_budget& b) { move_own_values(q, b); });
  std::printf("%s\n", r.summary().c_str());
  EXPECT_GT(r.blocked_points(), 0u) << "the lock's holder was frozen, yet the other thread went on";
  EXPECT_FALSE(r.matches()) << "a wrong lock_free claim passed the lane";
}

// And the other direction: a lock-free container that claimed blocking would be an
// unexplained weakening; the lane reports a mismatch (mpmc_ring's real claim is above).
TEST(ProgressSelfTest, a_lock_free_stack_claiming_blocking_is_caught) {
  using Q = lf::treiber_stack<std::uint64_t>;
  const scenario_report r = run_scenario(
      "treiber_stack (claims blocking)", progress::blocking, "the test's false claim", move_own_values_calls,
      [] {
        auto q = std::make_unique<Q>();
        fill(*q);
        return q;
      },
      [](Q& q) { (void)q.try_pop(); }, [](Q& q, step_budget& b) { move_own_values(q, b); });
  std::printf("%s\n", r.summary().c_str());
  EXPECT_EQ(r.blocked_points(), 0u);
  EXPECT_FALSE(r.matches());
}

}  // namespace
