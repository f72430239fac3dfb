// Stress lane for lf::circuit_breaker: real threads and the real clock, run plain (-O2),
// under TSan and under ASan+UBSan. Four threads call one breaker (half through execute,
// half through allow/done) in front of a dependency that fails 9 calls in 10 for the
// first part of the run, then recovers (one call in 50 of it excluded). What is counted
// and checked at the end:
//   - every call was admitted or refused: admitted + refused = calls, per thread kind;
//   - every admitted call ended as a success, a failure or an exclusion:
//     successes + failures + exclusions = admitted;
//   - in every half-open generation, admissions <= max_requests + exclusions reported
//     in it (an exclusion gives its slot back, as in gobreaker);
//   - on_state_change ran once per change, one at a time, in order: each change starts
//     from the state the previous one went to (its log is a plain vector: TSan checks
//     that the breaker's busy bit orders the calls);
//   - the breaker opened at least once, and closes again once the dependency is healthy.
// Sizes: 4 threads x 20,000 calls (4,000 under sanitizers), a 50 µs open period: the
// breaker cycles through open, half-open and closed hundreds of times in under a second.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "patterns/circuit_breaker.hpp"
#include "verification/support/stress_scale.hpp"

namespace {

using namespace std::chrono_literals;
using lf::breaker_state;

constexpr std::uint64_t calls_per_thread = lf::test::stress_items(20'000, 4'000);
constexpr std::uint32_t max_requests = 3;

struct excluded_error : std::runtime_error {
  excluded_error() : std::runtime_error("excluded") {}
};

struct tally {
  std::uint64_t calls = 0, admitted = 0, refused = 0, successes = 0, failures = 0, exclusions = 0;
  std::map<std::uint64_t, std::pair<std::uint64_t, std::uint64_t>> half_open;  // gen -> admitted, excluded
};

TEST(circuit_breaker_stress, totals_reconcile_while_a_dependency_fails_and_recovers) {
  std::vector<std::pair<breaker_state, breaker_state>> changes;
  lf::breaker_settings s;
  s.name = "dependency";
  s.max_requests = max_requests;
  s.timeout = 50us;
  s.on_state_change = [&](const std::string&, breaker_state from, breaker_state to) { changes.emplace_back(from, to); };
  s.is_excluded = [](std::exception_ptr e) {
    try {
      if (e) std::rethrow_exception(e);
    } catch (const excluded_error&) {
      return true;
    } catch (...) {
    }
    return false;
  };
  lf::circuit_breaker br(s);

  std::atomic<std::uint64_t> dependency_calls{0};
  const std::uint64_t failing_until = calls_per_thread;  // about a quarter of the calls
  // The dependency: 0 success, 1 failure, 2 excluded.
  auto dependency = [&]() -> int {
    const std::uint64_t n = dependency_calls.fetch_add(1, std::memory_order_relaxed);
    if (n < failing_until) return n % 10 == 0 ? 0 : 1;
    return n % 50 == 0 ? 2 : 0;
  };

  std::vector<tally> tallies(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      tally& my = tallies[static_cast<std::size_t>(t)];
      for (std::uint64_t i = 0; i < calls_per_thread; ++i) {
        ++my.calls;
        if (t % 2 == 0) {  // execute
          int outcome = -1;
          try {
            br.execute([&] {
              outcome = dependency();
              if (outcome == 1) throw std::runtime_error("down");
              if (outcome == 2) throw excluded_error();
            });
          } catch (const lf::breaker_rejected&) {
            ++my.refused;
            continue;
          } catch (const std::exception&) {
          }
          ++my.admitted;
          (outcome == 0 ? my.successes : outcome == 1 ? my.failures : my.exclusions) += 1;
        } else {  // allow / done
          auto tok = br.allow();
          if (!tok) {
            ++my.refused;
            continue;
          }
          ++my.admitted;
          const int outcome = dependency();
          if (tok.state() == breaker_state::half_open) {
            auto& h = my.half_open[tok.generation()];
            ++h.first;
            h.second += outcome == 2;
          }
          if (outcome == 2) {
            tok.done(std::make_exception_ptr(excluded_error()));
            ++my.exclusions;
          } else {
            tok.done(outcome == 0);
            (outcome == 0 ? my.successes : my.failures) += 1;
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();

  std::map<std::uint64_t, std::pair<std::uint64_t, std::uint64_t>> half_open;
  for (const tally& my : tallies) {
    EXPECT_EQ(my.admitted + my.refused, my.calls);
    EXPECT_EQ(my.successes + my.failures + my.exclusions, my.admitted);
    for (const auto& [gen, h] : my.half_open) {
      half_open[gen].first += h.first;
      half_open[gen].second += h.second;
    }
  }
  for (const auto& [gen, h] : half_open) {
    EXPECT_LE(h.first, max_requests + h.second) << "half-open generation " << gen;
  }

  // The dependency is healthy now: the breaker closes within a few open periods.
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (br.state() != breaker_state::closed && std::chrono::steady_clock::now() < give_up) {
    try {
      br.execute([&] { (void)dependency(); });
    } catch (const lf::breaker_rejected&) {
      std::this_thread::yield();
    }
  }
  EXPECT_EQ(br.state(), breaker_state::closed);

  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes.front().first, breaker_state::closed);
  std::size_t opened = 0;
  for (std::size_t i = 0; i < changes.size(); ++i) {
    if (i > 0) {
      EXPECT_EQ(changes[i].first, changes[i - 1].second) << "change " << i;
    }
    opened += changes[i].second == breaker_state::open;
  }
  EXPECT_GT(opened, 0u);
  EXPECT_EQ(changes.back().second, breaker_state::closed);
  std::printf("circuit_breaker_stress: %zu state changes, %zu openings, %zu half-open generations with admissions\n",
              changes.size(), opened, half_open.size());
}

}  // namespace
