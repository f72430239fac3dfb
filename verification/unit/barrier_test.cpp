// Unit lane for lf::barrier (patterns/barrier.hpp, every policy) and lf::phaser
// (patterns/phaser.hpp): std::barrier's semantics, lf's additions (context and timed
// waits, a throwing completion), bad input, and Java Phaser's semantics. Blocking is
// observed through the objects' own state, never through sleeps.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "patterns/barrier.hpp"
#include "patterns/context.hpp"
#include "patterns/phaser.hpp"
#include "verification/support/eventually.hpp"

namespace {

using namespace std::chrono_literals;
using lf::context_error;

using lf::test::eventually;

template <class Policy>
class barrier_test : public ::testing::Test {};
using policies = ::testing::Types<lf::barrier_policy::central, lf::barrier_policy::dissemination,
                                  lf::barrier_policy::tournament, lf::barrier_policy::tree>;
TYPED_TEST_SUITE(barrier_test, policies);

template <class Policy, class F = lf::barrier_noop>
using barrier_of = lf::barrier<F, Policy>;

struct counting_completion {
  std::atomic<int>* runs;
  void operator()() noexcept { runs->fetch_add(1, std::memory_order_relaxed); }
};

TYPED_TEST(barrier_test, zero_negative_or_too_many_parties_throw_naming_the_value) {
  using B = barrier_of<TypeParam>;
  for (std::ptrdiff_t bad : {std::ptrdiff_t{0}, std::ptrdiff_t{-3}, B::max() + 1}) {
    try {
      B b(bad);
      FAIL() << "no exception for " << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("expected = " + std::to_string(bad)), std::string::npos) << e.what();
    }
  }
  EXPECT_GT(B::max(), 1000);
}

TYPED_TEST(barrier_test, arrive_with_a_bad_count_throws_naming_it) {
  barrier_of<TypeParam> b(2);
  try {
    (void)b.arrive(0);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("n = 0"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)b.arrive(-1), std::invalid_argument);
  EXPECT_THROW((void)b.arrive(3), std::invalid_argument);  // more than the phase's parties
  // Nothing was counted: two arrivals still end the phase.
  auto t = b.arrive(2);
  b.wait(t);
}

TYPED_TEST(barrier_test, one_party_passes_at_once_and_runs_the_completion_every_phase) {
  std::atomic<int> runs{0};
  barrier_of<TypeParam, counting_completion> b(1, counting_completion{&runs});
  for (int i = 1; i <= 5; ++i) {
    b.arrive_and_wait();
    EXPECT_EQ(runs.load(), i);
  }
}

TYPED_TEST(barrier_test, arrive_n_ends_the_phase_and_tokens_name_consecutive_phases) {
  std::atomic<int> runs{0};
  barrier_of<TypeParam, counting_completion> b(3, counting_completion{&runs});
  auto t0 = b.arrive(3);
  b.wait(t0);
  EXPECT_EQ(runs.load(), 1);
  auto t1 = b.arrive(2);
  EXPECT_NE(t1.phase(), t0.phase());
  EXPECT_EQ(runs.load(), 1);  // one arrival missing
  auto t2 = b.arrive(1);
  EXPECT_EQ(t2.phase(), t1.phase());
  b.wait(t1);
  b.wait(t1);  // a token of an ended phase returns at once, again
  EXPECT_EQ(runs.load(), 2);
}

TYPED_TEST(barrier_test, nobody_leaves_before_everyone_arrived_and_the_completion_ran_once) {
  constexpr int parties = 4;
  constexpr int phases = 200;
  std::atomic<int> arrived{0};
  std::atomic<int> runs{0};
  std::atomic<bool> failed{false};
  auto completion = [&]() noexcept {
    // Every party of this phase arrived before the completion runs.
    if (arrived.load(std::memory_order_relaxed) != (runs.load(std::memory_order_relaxed) + 1) * parties) {
      failed.store(true);
    }
    runs.fetch_add(1, std::memory_order_relaxed);
  };
  barrier_of<TypeParam, decltype(completion)> b(parties, completion);
  std::vector<std::thread> threads;
  for (int t = 0; t < parties; ++t) {
    threads.emplace_back([&] {
      for (int p = 1; p <= phases; ++p) {
        arrived.fetch_add(1, std::memory_order_relaxed);
        b.arrive_and_wait();
        // The completion of phase p ran before anyone left it.
        if (runs.load(std::memory_order_relaxed) < p) failed.store(true);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_FALSE(failed.load());
  EXPECT_EQ(runs.load(), phases);
}

TYPED_TEST(barrier_test, arrive_and_drop_removes_a_party_from_later_phases) {
  std::atomic<int> runs{0};
  barrier_of<TypeParam, counting_completion> b(3, counting_completion{&runs});
  b.arrive_and_drop();            // phase 0: 1 of 3
  auto t = b.arrive(2);           // phase 0 ends
  b.wait(t);
  EXPECT_EQ(runs.load(), 1);
  auto t1 = b.arrive(2);          // phase 1 has 2 parties
  b.wait(t1);
  EXPECT_EQ(runs.load(), 2);
  EXPECT_THROW((void)b.arrive(3), std::invalid_argument);
}

TYPED_TEST(barrier_test, arriving_after_every_party_dropped_throws) {
  barrier_of<TypeParam> b(2);
  b.arrive_and_drop();
  b.arrive_and_drop();
  EXPECT_THROW((void)b.arrive(), std::logic_error);
  EXPECT_THROW(b.arrive_and_wait(), std::logic_error);
}

TYPED_TEST(barrier_test, a_waiter_parked_past_the_spin_is_woken) {
  barrier_of<TypeParam> b(2);
  std::atomic<bool> left{false};
  std::thread waiter([&] {
    b.arrive_and_wait();
    left.store(true);
  });
  std::this_thread::sleep_for(20ms);  // not synchronization: lets the waiter get past its spin
  EXPECT_FALSE(left.load());
  b.arrive_and_wait();
  waiter.join();
  EXPECT_TRUE(left.load());
}

TYPED_TEST(barrier_test, arrive_and_wait_for_times_out_and_its_arrival_still_counts) {
  std::atomic<int> runs{0};
  barrier_of<TypeParam, counting_completion> b(2, counting_completion{&runs});
  EXPECT_FALSE(b.arrive_and_wait_for(1ms));
  EXPECT_EQ(runs.load(), 0);
  auto t = b.arrive();  // the second arrival ends the phase: the first still counted
  EXPECT_EQ(runs.load(), 1);
  b.wait(t);
}

TYPED_TEST(barrier_test, a_token_can_be_waited_on_again_after_a_timeout) {
  barrier_of<TypeParam> b(2);
  auto t = b.arrive();
  EXPECT_FALSE(b.wait_for(t, 0s));
  std::thread other([&] { b.arrive_and_wait(); });
  EXPECT_TRUE(b.wait_for(t, std::chrono::hours::max()));  // duration::max(): no timeout
  other.join();
}

TYPED_TEST(barrier_test, a_negative_timeout_throws) {
  barrier_of<TypeParam> b(2);
  EXPECT_THROW((void)b.arrive_and_wait_for(-1ms), std::invalid_argument);
  auto t = b.arrive(2);
  EXPECT_THROW((void)b.wait_for(t, -1s), std::invalid_argument);
}

TYPED_TEST(barrier_test, a_cancelled_context_releases_the_waiter_and_the_arrival_counts) {
  std::atomic<int> runs{0};
  barrier_of<TypeParam, counting_completion> b(2, counting_completion{&runs});
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  std::atomic<int> result{-1};
  std::thread waiter([&, ctx = ctx] { result.store(static_cast<int>(b.arrive_and_wait(ctx))); });
  std::this_thread::sleep_for(10ms);  // not synchronization: the waiter is likely parked
  cancel();
  waiter.join();
  EXPECT_EQ(result.load(), static_cast<int>(context_error::canceled));
  EXPECT_EQ(runs.load(), 0);
  b.arrive_and_wait();  // completes the phase the cancelled waiter arrived in
  EXPECT_EQ(runs.load(), 1);
}

TYPED_TEST(barrier_test, a_context_done_before_the_call_still_arrives) {
  barrier_of<TypeParam> b(2);
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  cancel();
  EXPECT_EQ(b.arrive_and_wait(ctx), context_error::canceled);
  auto t = b.arrive();
  EXPECT_EQ(b.wait(t, ctx), context_error::none);  // ended before the look at ctx matters
}

TYPED_TEST(barrier_test, an_expired_deadline_reports_deadline_exceeded) {
  barrier_of<TypeParam> b(2);
  auto [ctx, cancel] = lf::with_timeout(lf::background(), 1ms);
  EXPECT_EQ(b.arrive_and_wait(ctx), context_error::deadline_exceeded);
  auto t = b.arrive();
  b.wait(t);
}

TYPED_TEST(barrier_test, the_completion_ran_before_a_context_waiter_returns_none) {
  int written = 0;  // plain: the completion must happen before the waiter reads it
  auto completion = [&]() noexcept { written = 7; };
  barrier_of<TypeParam, decltype(completion)> b(2, completion);
  std::thread other([&] { b.arrive_and_wait(); });
  EXPECT_EQ(b.arrive_and_wait(lf::background()), context_error::none);
  EXPECT_EQ(written, 7);
  other.join();
}

struct throwing_completion {
  int* phase;
  void operator()() {
    if ((*phase)++ == 1) throw std::runtime_error("completion failed in phase 1");
  }
};

TYPED_TEST(barrier_test, a_throwing_completion_is_rethrown_to_every_waiter_of_its_phase_only) {
  int phase = 0;
  barrier_of<TypeParam, throwing_completion> b(2, throwing_completion{&phase});
  std::atomic<int> thrown{0};
  auto party = [&] {
    for (int p = 0; p < 3; ++p) {
      try {
        b.arrive_and_wait();
      } catch (const std::runtime_error& e) {
        EXPECT_EQ(p, 1);
        EXPECT_NE(std::string(e.what()).find("phase 1"), std::string::npos);
        thrown.fetch_add(1);
      }
    }
  };
  std::thread other(party);
  party();
  other.join();
  EXPECT_EQ(thrown.load(), 2);  // both waiters of phase 1, the completer among them
  EXPECT_EQ(phase, 3);          // the barrier went on
}

TYPED_TEST(barrier_test, a_throwing_completion_reaches_token_and_status_waits) {
  int phase = 1;  // the first phase's completion throws
  barrier_of<TypeParam, throwing_completion> b(1, throwing_completion{&phase});
  auto t = b.arrive();
  EXPECT_THROW(b.wait(t), std::runtime_error);
  EXPECT_THROW((void)b.wait(t, lf::background()), std::runtime_error);
  EXPECT_THROW((void)b.wait_for(t, 1s), std::runtime_error);
  auto t2 = b.arrive();
  EXPECT_NO_THROW(b.wait(t2));  // phase 1's completion did not throw
}

TYPED_TEST(barrier_test, many_threads_with_more_threads_than_parties_over_time) {
  // Threads come and go (slots are claimed per phase, not per thread): 6 successive pairs.
  barrier_of<TypeParam> b(2);
  for (int pair = 0; pair < 6; ++pair) {
    std::thread a([&] {
      for (int i = 0; i < 50; ++i) b.arrive_and_wait();
    });
    std::thread c([&] {
      for (int i = 0; i < 50; ++i) b.arrive_and_wait();
    });
    a.join();
    c.join();
  }
}

// ---- lf::phaser ----

TEST(phaser, bad_arguments_throw_naming_the_value) {
  try {
    lf::phaser p(-1);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("parties = -1"), std::string::npos) << e.what();
  }
  EXPECT_THROW(lf::phaser(lf::phaser::max_parties + 1), std::invalid_argument);
  EXPECT_THROW(lf::phaser(1, -5), std::invalid_argument);
  lf::phaser p(lf::phaser::max_parties - 1);
  EXPECT_THROW(p.bulk_register(-1), std::invalid_argument);
  try {
    p.bulk_register(2);
    FAIL() << "no exception";
  } catch (const std::length_error& e) {
    EXPECT_NE(std::string(e.what()).find("n = 2"), std::string::npos) << e.what();
  }
  EXPECT_EQ(p.register_party(), 0);
  EXPECT_EQ(p.registered_parties(), lf::phaser::max_parties);
}

TEST(phaser, arrival_without_an_unarrived_party_throws) {
  lf::phaser p;
  EXPECT_THROW(p.arrive(), std::logic_error);
  EXPECT_FALSE(p.is_terminated());  // no parties yet is not termination
}

TEST(phaser, the_last_arrival_advances_and_reports_the_arrival_phase) {
  lf::phaser p(2);
  EXPECT_EQ(p.phase(), 0);
  EXPECT_EQ(p.arrive(), 0);
  EXPECT_EQ(p.arrived_parties(), 1);
  EXPECT_EQ(p.unarrived_parties(), 1);
  EXPECT_EQ(p.arrive(), 0);
  EXPECT_EQ(p.phase(), 1);
  EXPECT_EQ(p.unarrived_parties(), 2);
}

TEST(phaser, registration_joins_the_current_phase) {
  lf::phaser p(1);
  EXPECT_EQ(p.register_party(), 0);
  EXPECT_EQ(p.bulk_register(2), 0);
  EXPECT_EQ(p.registered_parties(), 4);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(p.arrive(), 0);
  EXPECT_EQ(p.phase(), 0);
  EXPECT_EQ(p.arrive_and_await_advance(), 1);  // the last arrival returns the new phase
}

TEST(phaser, await_advance_returns_at_once_for_another_phase_or_a_negative_one) {
  lf::phaser p(1);
  EXPECT_EQ(p.await_advance(5), 0);
  EXPECT_EQ(p.await_advance(-3), -3);
  EXPECT_EQ(p.arrive_and_await_advance(), 1);
}

TEST(phaser, await_advance_waits_for_the_other_parties) {
  lf::phaser p(2);
  std::atomic<int> seen{-1};
  std::thread waiter([&] { seen.store(p.arrive_and_await_advance()); });
  eventually([&] { return p.arrived_parties() == 1; });
  EXPECT_EQ(seen.load(), -1);
  EXPECT_EQ(p.arrive(), 0);
  waiter.join();
  EXPECT_EQ(seen.load(), 1);
}

TEST(phaser, deregistering_the_last_party_terminates) {
  lf::phaser p(2);
  EXPECT_EQ(p.arrive_and_deregister(), 0);
  EXPECT_EQ(p.registered_parties(), 1);
  EXPECT_EQ(p.arrive_and_deregister(), 0);  // the advance finds no party: terminated
  EXPECT_TRUE(p.is_terminated());
  EXPECT_LT(p.phase(), 0);
  EXPECT_EQ(p.phase() & lf::phaser::max_phase, 1);  // the phase, with the sign bit set
  EXPECT_LT(p.register_party(), 0);                 // no effect
  EXPECT_LT(p.arrive(), 0);
  EXPECT_LT(p.await_advance(1), 0);
}

TEST(phaser, deregistration_shrinks_the_next_phase) {
  lf::phaser p(3);
  p.arrive_and_deregister();
  p.arrive();
  EXPECT_EQ(p.arrive(), 0);  // phase 0 ends with 2 parties left
  EXPECT_EQ(p.registered_parties(), 2);
  EXPECT_EQ(p.arrive(), 1);
  EXPECT_EQ(p.arrive(), 1);
  EXPECT_EQ(p.phase(), 2);
}

TEST(phaser, force_termination_releases_waiters) {
  lf::phaser p(2);
  std::atomic<int> seen{0};
  std::thread waiter([&] { seen.store(p.arrive_and_await_advance()); });
  eventually([&] { return p.arrived_parties() == 1; });
  p.force_termination();
  waiter.join();
  EXPECT_LT(seen.load(), 0);
  EXPECT_TRUE(p.is_terminated());
}

TEST(phaser, phase_numbers_wrap_to_zero) {
  lf::phaser p(1, lf::phaser::max_phase);
  EXPECT_EQ(p.phase(), lf::phaser::max_phase);
  EXPECT_EQ(p.arrive_and_await_advance(), 0);
  EXPECT_EQ(p.arrive(), 0);
  EXPECT_EQ(p.await_advance(lf::phaser::max_phase), 1);
}

TEST(phaser, await_advance_with_a_context_returns_nullopt_when_cancelled) {
  lf::phaser p(2);
  EXPECT_EQ(p.arrive(), 0);
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  std::thread canceller([&, cancel = cancel] {
    std::this_thread::sleep_for(5ms);  // not synchronization: usually the waiter is parked
    cancel();
  });
  EXPECT_EQ(p.await_advance(0, ctx), std::nullopt);
  canceller.join();
  EXPECT_EQ(p.arrive(), 0);
  EXPECT_EQ(p.await_advance(0, ctx), std::optional<int>(1));  // ended: the phase wins
}

TEST(phaser, a_party_registered_by_a_worker_holds_the_phase) {
  lf::phaser p(1);
  std::atomic<bool> worker_done{false};
  p.register_party();
  std::thread worker([&] {
    worker_done.store(true);
    p.arrive_and_deregister();
  });
  EXPECT_EQ(p.arrive_and_await_advance(), 1);
  EXPECT_TRUE(worker_done.load());
  worker.join();
  EXPECT_EQ(p.registered_parties(), 1);
}

}  // namespace
