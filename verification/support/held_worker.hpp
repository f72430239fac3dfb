// Test support: holds one worker of an lf::worker_pool with a task until release(), so
// that what is submitted meanwhile stays queued (in a pool of one) and a test can look at
// queued work, a shutdown that drops it, or a future that cannot be ready yet.
// `task` is the held task's future: it is ready only after release(). The destructor
// releases it if need be and waits for the held task to return.
#pragma once

#include <future>
#include <thread>

#include "patterns/worker_pool.hpp"

namespace lf::test {

struct held_worker {
  std::promise<void> started;
  std::promise<void> release_gate;
  bool released = false;
  lf::pool_future<void> task;

  explicit held_worker(lf::worker_pool& pool) {
    task = pool.submit([this, gate = release_gate.get_future().share()] {
      started.set_value();
      gate.wait();
    });
    started.get_future().wait();
  }
  held_worker(const held_worker&) = delete;
  held_worker& operator=(const held_worker&) = delete;
  ~held_worker() {
    if (!released) release();
    if (task.valid()) task.wait();
  }
  void release() {
    released = true;
    release_gate.set_value();
  }
};

// Returns once `pool` refuses a submission from outside: its shutdown has begun (and,
// under shutdown_now, its workers drop whatever they take from now on).
inline void wait_until_refused(lf::worker_pool& pool) {
  for (;;) {
    try {
      pool.detach([] {});
    } catch (const lf::pool_closed&) {
      return;
    }
    std::this_thread::yield();
  }
}

}  // namespace lf::test
