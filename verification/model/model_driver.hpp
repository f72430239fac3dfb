// lf model lane — a small driver around rl::simulate. Each model test binary lists its
// cases with the search each one needs, as LF_MODEL_CASE(name, search, Test); `binary`
// runs them all, `binary NAME` one.
// A failing case prints "lf-model: NAME: FAILED (VERDICT)": the mutant lane matches
// that line to prove a mutant is caught by the verdict it was written to provoke.
// A mutant runs one case, so its build defines LF_MODEL_ONLY_CASE="NAME": the other
// cases' tests are then never instantiated (Relacy's simulation of each is most of a
// model binary's code; measured: one mutant 6.7 -> 2.8 s of CPU), and the binary runs
// and knows only that case.
#pragma once

#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>

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

// Whether this binary builds the case `name` (every case, unless LF_MODEL_ONLY_CASE).
constexpr bool built(std::string_view name) {
#if defined(LF_MODEL_ONLY_CASE)
  return name == std::string_view(LF_MODEL_ONLY_CASE);
#else
  (void)name;
  return true;
#endif
}

// The case's runner, or none where this binary does not build the case.
template <bool Built, class Test>
constexpr bool (*runner())(rl::test_params&) {
  if constexpr (Built) {
    return &simulate<Test>;
  } else {
    return nullptr;
  }
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
    if (c.run == nullptr) continue;  // not built (LF_MODEL_ONLY_CASE names another)
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

// One row of a case table: LF_MODEL_CASE("name", search::random(n), Test). The test type
// may be a template-id with commas (the macro's last argument takes them all).
#define LF_MODEL_CASE(name, how, ...) \
  ::lf::model::model_case { name, how, ::lf::model::runner<::lf::model::built(name), __VA_ARGS__>() }
