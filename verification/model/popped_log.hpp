// Model-lane support: what the threads of a stack case popped, so after() can check that
// every value pushed was taken exactly once (popped during the case or left inside).
#pragma once

#include <optional>

#include "sync/config.hpp"  // Relacy, under LF_MODEL_RELACY

namespace lf::model {

template <int Threads, int PerThread>
struct popped_log {
  int values[Threads][PerThread] = {};
  int count[Threads] = {};

  void record(unsigned thread, int v) { values[thread][count[thread]++] = v; }

  // Every value in [1, n] appears once among the popped ones and what is left in s.
  template <class Stack>
  void check_exactly_once(Stack& s, int n) {
    int seen[16] = {};
    for (int t = 0; t < Threads; ++t) {
      for (int i = 0; i < count[t]; ++i) ++seen[values[t][i]];
    }
    while (std::optional<int> v = s.try_pop()) ++seen[*v];
    for (int v = 1; v <= n; ++v) RL_ASSERT(seen[v] == 1);
    RL_ASSERT(s.empty());
  }
};

}  // namespace lf::model
