// lf model lane — a small driver around rl::simulate. Each model test binary lists its
// cases with the search each one needs; `binary` runs them all, `binary NAME` one.
// A failing case prints "lf-model: NAME: FAILED (VERDICT)": the mutant lane matches
// that line to prove a mutant is caught by the verdict it was written to provoke.
#pragma once

#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <string>

#include "sync/config.hpp"  // includes Relacy under LF_MODEL_RELACY

namespace lf::model {

struct search {
  rl::scheduler_type_e type;
  unsigned long iterations;  // random search only
  unsigned context_bound;    // context-bound search only

  static search random(unsigned long n) { return {rl::sched_random, n, 0}; }
  static search bounded(unsigned k) { return {rl::sched_bound, 0, k}; }
  static search full() { return {rl::sched_full, 0, 0}; }
};

struct model_case {
  const char* name;
  search how;
  bool (*run)(rl::test_params&);
};

template <class Test>
bool simulate(rl::test_params& p) {
  return rl::simulate<Test>(p);
}

// Runs one case and prints its outcome; returns Relacy's verdict (rl::test_result_success
// when the search found nothing). A test that expects a failure (a mutant, a user's known
// bug) compares the verdict with the one it was written to provoke.
inline rl::test_result_e run_case(const model_case& c) {
  rl::test_params p;
  p.search_type = c.how.type;
  if (c.how.type == rl::sched_random) p.iteration_count = c.how.iterations;
  if (c.how.type == rl::sched_bound) p.context_bound = c.how.context_bound;
  std::printf("lf-model: %s: running\n", c.name);
  std::fflush(stdout);
  const bool passed = c.run(p);
  if (passed) {
    std::printf("lf-model: %s: passed (%llu iterations)\n", c.name, static_cast<unsigned long long>(p.stop_iteration));
  } else {
    std::printf("lf-model: %s: FAILED (%s) at iteration %llu\n", c.name, rl::test_result_str(p.test_result),
                static_cast<unsigned long long>(p.stop_iteration));
  }
  std::fflush(stdout);
  return passed ? rl::test_result_success : p.test_result;
}

inline int run_cases(int argc, char** argv, std::initializer_list<model_case> cases) {
  const char* only = argc > 1 ? argv[1] : nullptr;
  int failed = 0, ran = 0;
  for (const model_case& c : cases) {
    if (only != nullptr && std::strcmp(only, c.name) != 0) continue;
    ++ran;
    if (run_case(c) != rl::test_result_success) ++failed;
  }
  if (ran == 0) {
    std::printf("lf-model: no case named %s\n", only ? only : "(none)");
    return 2;
  }
  return failed == 0 ? 0 : 1;
}

}  // namespace lf::model
