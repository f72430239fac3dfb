// lf::worker_pool's task record and its injection queue (private machinery of
// patterns/worker_pool.hpp).
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

#include "lockfree/mpmc_ring.hpp"
#include "sync/atomic.hpp"

namespace lf::detail {

// A queued task: one heap object per submission. Destroying it without run() is how a
// task is dropped; for submit() the packaged_task inside then breaks its promise.
//
// handed_over exists for ThreadSanitizer only. A task pushed on a worker's deque reaches a
// thief through the deque's release fence (chase_lev_deque.hpp, (2)) and the thief's
// acquire load of bottom (5); TSan does not model standalone fences, so it would report
// the thief's reads of the task as races with its construction. Under TSan the pusher
// also stores this flag with release and the taker loads it with acquire, a pair TSan
// sees. Without TSan the two calls are empty: the fence already orders the hand-over.
struct pool_task {
  virtual ~pool_task() = default;
  virtual void run() noexcept = 0;
#if defined(__SANITIZE_THREAD__) || defined(LF_UNDER_TSAN)
  void publish() noexcept { handed_over.store(true, std::memory_order_release); }
  void receive() const noexcept { (void)handed_over.load(std::memory_order_acquire); }
  lf::atomic<bool> handed_over{false};
#else
  void publish() noexcept {}
  void receive() const noexcept {}
#endif
};

template <class Fn>
struct pool_task_of final : pool_task {
  explicit pool_task_of(Fn&& f) : fn(std::move(f)) {}
  void run() noexcept override { fn(); }  // Fn catches what it throws (see worker_pool)
  Fn fn;
};

// Where submissions from outside the pool go: a bounded lock-free ring for the common
// case, and a mutex-protected deque behind it for overflow. Why both: the ring keeps a
// submission off any lock while the workers keep up, and the overflow keeps submit()
// from ever failing or blocking on a full ring (bounded submission with a rejection
// policy is a later, explicit option). Workers look at the overflow only when its
// counter says it holds something, so the lock is touched only while it does. No order
// is promised between tasks: overflow tasks may run after later ring tasks.
class injection_queue {
 public:
  explicit injection_queue(std::size_t ring_capacity) : ring_(ring_capacity) {}

  void push(pool_task* t) {
    if (ring_.try_push(t)) return;
    std::lock_guard<std::mutex> lock(overflow_mutex_);
    overflow_.push_back(t);
    // relaxed is enough: a worker that reads the count also takes the lock before
    // touching the deque, and the park/wake fences order it before the sleeper's re-check.
    overflow_size_.fetch_add(1, std::memory_order_relaxed);
  }

  pool_task* try_pop() {
    if (std::optional<pool_task*> t = ring_.try_pop()) return *t;
    if (overflow_size_.load(std::memory_order_relaxed) == 0) return nullptr;
    std::lock_guard<std::mutex> lock(overflow_mutex_);
    if (overflow_.empty()) return nullptr;
    pool_task* t = overflow_.front();
    overflow_.pop_front();
    overflow_size_.fetch_sub(1, std::memory_order_relaxed);
    return t;
  }

  std::size_t size_approx() const {
    return ring_.size_approx() + overflow_size_.load(std::memory_order_relaxed);
  }

 private:
  lf::mpmc_ring<pool_task*> ring_;
  std::mutex overflow_mutex_;
  std::deque<pool_task*> overflow_;
  lf::atomic<std::size_t> overflow_size_{0};
};

}  // namespace lf::detail
