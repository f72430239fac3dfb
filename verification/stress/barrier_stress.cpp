// Stress lane for lf::barrier (patterns/barrier.hpp, every policy) and lf::phaser
// (patterns/phaser.hpp): real threads, run plain (-O2), under TSan and under ASan+UBSan.
//
//   phases with drops   episodes of 2-8 parties (more threads than the 2 cores, so
//                       waiters park), each thread arriving by arrive_and_wait,
//                       arrive()+wait(token) or arrive_and_wait_for(hours::max()) at
//                       random, and dropping out (arrive_and_drop) with probability 1/64
//                       per phase (thread 0 never drops). Counted and checked: the
//                       completion ran once per phase, and each time exactly the phase's
//                       parties had arrived (arrivals minus the drops of earlier phases);
//                       every leaver saw its phase's completion (a plain int, so TSan
//                       checks the happens-before edge); no phase was left unfinished.
//   phaser churn        parties register, arrive_and_await_advance a few phases and
//                       deregister, while the coordinator advances: every advance waits for
//                       exactly the registered parties, and the phaser terminates when the
//                       last one leaves.
//
// Sizes: 10,000 phases per policy plain (~2 s each: up to 8 threads on 2 cores park and
// wake every phase); 4,000 under a sanitizer, where the 10,000 of the issue took 2-6 s per
// policy under TSan on 2 cores (measured), past the lane's ~5 s per test. The bound
// suffices because every phase crosses the same three edges (arrivals -> completion ->
// leavers) and drops land at random phases: 4,000 phases give each policy ~16 episodes
// with 2-8 parties and ~100 drops, so every party count is run with and without a drop in
// flight many times over; the model lane (barrier_model) explores the interleavings of
// those edges exhaustively in the small.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include "patterns/barrier.hpp"
#include "patterns/phaser.hpp"
#include "verification/support/stress_scale.hpp"

namespace {

constexpr std::uint64_t total_phases = lf::test::stress_items(10'000, 4'000);
constexpr int phases_per_episode = 250;

// Plain bookkeeping, touched only by the completion (and read by leavers): the barrier's
// ordering is what makes it race-free.
struct ledger {
  int parties = 0;        // of the current phase
  int completed = 0;      // phases completed
  int bad_counts = 0;     // completions that saw the wrong number of arrivals
  std::atomic<int> arrived{0};
  std::atomic<int> dropped{0};  // drops in the current phase
};

struct check_phase {
  ledger* l;
  void operator()() noexcept {
    const int arrived = l->arrived.exchange(0, std::memory_order_relaxed);
    if (arrived != l->parties) ++l->bad_counts;
    l->parties -= l->dropped.exchange(0, std::memory_order_relaxed);
    ++l->completed;
  }
};

template <class Policy>
void run_episodes() {
  std::mt19937 rng(12345);
  std::uint64_t done = 0;
  while (done < total_phases) {
    const int parties = 2 + static_cast<int>(rng() % 7);
    ledger l;
    l.parties = parties;
    lf::barrier<check_phase, Policy> b(parties, check_phase{&l});
    std::atomic<int> stale_leavers{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < parties; ++t) {
      threads.emplace_back([&, t, seed = static_cast<unsigned>(rng())] {
        std::mt19937 r(seed);
        for (int phase = 0; phase < phases_per_episode; ++phase) {
          l.arrived.fetch_add(1, std::memory_order_relaxed);
          if (t != 0 && r() % 64 == 0) {
            l.dropped.fetch_add(1, std::memory_order_relaxed);
            b.arrive_and_drop();
            return;
          }
          switch (r() % 3) {
            case 0: b.arrive_and_wait(); break;
            case 1: b.wait(b.arrive()); break;
            default: EXPECT_TRUE(b.arrive_and_wait_for(std::chrono::hours::max())); break;
          }
          if (l.completed < phase + 1) stale_leavers.fetch_add(1, std::memory_order_relaxed);
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(l.completed, phases_per_episode);
    EXPECT_EQ(l.bad_counts, 0);
    EXPECT_EQ(stale_leavers.load(), 0);
    done += phases_per_episode;
  }
}

TEST(barrier_stress, central_phases_with_random_drops) { run_episodes<lf::barrier_policy::central>(); }
TEST(barrier_stress, dissemination_phases_with_random_drops) { run_episodes<lf::barrier_policy::dissemination>(); }
TEST(barrier_stress, tournament_phases_with_random_drops) { run_episodes<lf::barrier_policy::tournament>(); }
TEST(barrier_stress, tree_phases_with_random_drops) { run_episodes<lf::barrier_policy::tree>(); }

TEST(barrier_stress, phaser_parties_come_and_go) {
  constexpr int workers = 6;
  const auto rounds = static_cast<unsigned>(lf::test::stress_items(2'000, 300));
  lf::phaser ph(1);  // the coordinator
  // Arrivals and deregistrations by phase parity: phase k+2 cannot begin before the
  // coordinator has arrived in phase k+1, after it read phase k's counts.
  std::atomic<int> arrivals[2] = {0, 0};
  std::atomic<int> leaving[2] = {0, 0};
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    ph.register_party();  // all in phase 0: the coordinator has not arrived yet
    threads.emplace_back([&, w] {
      std::mt19937 r(static_cast<unsigned>(w));
      const int my_phases = 1 + static_cast<int>(r() % rounds);
      int phase = 0;
      for (int i = 0; i < my_phases; ++i) {
        arrivals[phase & 1].fetch_add(1, std::memory_order_relaxed);
        phase = ph.arrive_and_await_advance();
      }
      arrivals[phase & 1].fetch_add(1, std::memory_order_relaxed);
      leaving[phase & 1].fetch_add(1, std::memory_order_relaxed);
      ph.arrive_and_deregister();
    });
  }
  // Every advance must have waited for exactly the workers registered in that phase.
  int registered = workers;
  int short_phases = 0;
  for (int phase = 0; registered > 0; ++phase) {
    EXPECT_EQ(ph.arrive_and_await_advance(), phase + 1);
    if (arrivals[phase & 1].exchange(0, std::memory_order_relaxed) != registered) ++short_phases;
    registered -= leaving[phase & 1].exchange(0, std::memory_order_relaxed);
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(short_phases, 0);
  EXPECT_EQ(ph.registered_parties(), 1);
  EXPECT_GE(ph.arrive_and_deregister(), 0);
  EXPECT_TRUE(ph.is_terminated());
}

}  // namespace
