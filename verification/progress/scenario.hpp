// lf progress lane — one scenario: a thread stalled at each of its first seam operations
// inside one call, and what the other threads achieve meanwhile, judged against the
// progress the container's header declares.
//
// For every freeze point (the 1st, 2nd, ... K-th seam operation of the stalled call, then
// the 1st ... R-th read-modify-write, where claims happen):
//   1. make() builds the container and fills it (on the test's thread, unprobed);
//   2. the stalled thread arms a freezer and makes its call; the test waits until it is
//      frozen (or its call ended before the point: the sweep of that kind stops there);
//   3. one other thread pursues a goal (push its own values and get them back, steal what
//      was there, ...) under a step_budget; the run is "blocked" when a call of it takes
//      more than max_steps_per_call seam operations or the goal more than max_calls calls;
//   4. the test lets both go on and joins them: a blocked goal must still finish once the
//      stalled thread does, so every run ends.
// Verdict: a scenario whose declared progress is non-blocking passes only if no point
// blocked the others; one declared blocking passes only if some point did (a claim of
// blocking that no freeze point shows would be an unexplained weakening, or a sign that the
// sweep is too short). Either way, at least one point must have frozen the thread.
#pragma once

#include <cstddef>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "lockfree/detail/concepts.hpp"
#include "verification/progress/freezer.hpp"

namespace lf::progress_lane {

struct point_result {
  freeze_point at;
  seam_op frozen_op = seam_op::load;
  bool blocked = false;
  std::string reason;
  std::size_t max_steps = 0;  // the most seam ops one call of the other thread took
};

struct scenario_report {
  std::string name;
  progress declared = progress::lock_free;
  std::string declared_by;  // which header constants the claim comes from
  std::vector<point_result> points;

  std::size_t blocked_points() const {
    std::size_t n = 0;
    for (const point_result& p : points) n += p.blocked ? 1 : 0;
    return n;
  }
  // The header's claim holds at the points tried (see the file comment).
  bool matches() const {
    if (points.empty()) return false;
    return declared == progress::blocking ? blocked_points() > 0 : blocked_points() == 0;
  }
  std::string summary() const {
    std::ostringstream out;
    out << name << ": declared " << lf::progress_lane::name(declared) << " (" << declared_by << "); froze at "
        << points.size() << " points, others blocked at " << blocked_points();
    std::size_t worst = 0;
    for (const point_result& p : points) {
      if (!p.blocked && p.max_steps > worst) worst = p.max_steps;
    }
    out << "; longest unblocked call " << worst << " seam ops";
    for (const point_result& p : points) {
      if (p.blocked) {
        out << "\n    blocked " << p.at.describe() << " (a " << lf::progress_lane::name(p.frozen_op) << "): " << p.reason;
      }
    }
    out << "\n    verdict: " << (matches() ? "matches the header" : "CONTRADICTS the header");
    return out.str();
  }
};

// The sweep every scenario runs. K = 8 ops of any kind reaches past the first claim of every
// lf container's fast path (a guess load, the slot or node load, the claiming RMW, the
// publication); the first 3 RMWs reach the claims of the longer paths (hazard-pointer
// protection before an FAA, a ring's close). Each point is one run of ~1 ms.
struct sweep {
  std::size_t any_ops = 8;
  std::size_t rmw_ops = 3;
  // A call of the others that takes more of its own seam ops is stuck: far above what any
  // lf call here needs (the longest seen is printed per scenario, a few hundred), far
  // below what a spinning thread reaches in a millisecond.
  std::size_t max_steps_per_call = std::size_t{1} << 16;
};

// Stalled(C&) is the frozen thread's call; Goal(C&, step_budget&) is the other thread's
// goal, calling budget.call() before each call of the container.
template <class Make, class Stalled, class Goal>
scenario_report run_scenario(std::string name, progress declared, std::string declared_by, std::size_t max_calls,
                             Make make, Stalled stalled, Goal goal, sweep sw = {}) {
  scenario_report report{std::move(name), declared, std::move(declared_by), {}};
  auto run_point = [&](freeze_point at) -> bool {
    auto container = make();
    freezer f;
    std::thread victim([&] {
      f.arm(at);
      stalled(*container);
      f.disarm();
    });
    if (!f.wait_frozen()) {
      victim.join();
      return false;
    }
    step_budget budget(sw.max_steps_per_call, max_calls);
    std::thread other([&] {
      budget.install();
      goal(*container, budget);
      budget.uninstall();
    });
    point_result r{at, f.frozen_at(), budget.wait_outcome(1), {}, 0};
    if (r.blocked) r.reason = budget.stuck_reason();
    budget.release();
    f.release();
    other.join();
    victim.join();
    r.max_steps = budget.max_steps_seen();
    report.points.push_back(r);
    return true;
  };
  for (std::size_t n = 1; n <= sw.any_ops; ++n) {
    if (!run_point({n, std::nullopt})) break;
  }
  for (std::size_t n = 1; n <= sw.rmw_ops; ++n) {
    if (!run_point({n, seam_op::rmw})) break;
  }
  return report;
}

}  // namespace lf::progress_lane
