// Test support: the highest number of callers seen between enter() and leave() at once,
// for tests that check a concurrency limit (errgroup's set_limit, a pipeline stage's mode).
#pragma once

#include <atomic>

namespace lf::test {

struct concurrency_meter {
  std::atomic<int> now{0};
  std::atomic<int> most{0};
  void enter() {
    const int n = now.fetch_add(1) + 1;
    int m = most.load();
    while (n > m && !most.compare_exchange_weak(m, n)) {
    }
  }
  void leave() { now.fetch_sub(1); }
};

}  // namespace lf::test
