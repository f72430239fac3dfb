// lf::detail::timer_service — the one thread per process that fires context deadlines
// (patterns/context.hpp), so that a deadline costs a heap entry, never a thread.
//
// What it is. A binary min-heap of intrusive entries ordered by deadline, guarded by a
// mutex, and one thread, started on the first arm(), that sleeps on a futex word
// (sync/wait.hpp futex_wait_until) until the earliest deadline or until arm() puts an
// earlier entry on top. Each entry knows its heap index, so disarm() is O(log n) and a
// cancelled context leaves nothing behind in the heap.
//
// The entry's owner decides whether a due entry still matters: claim() is called under
// the service's mutex (a context node tries to take a reference there: a node whose
// last reference is being dropped says no), fire() outside it. An owner calls disarm()
// before it is destroyed; after disarm() returns, the service never touches the entry
// again (it reads an entry only under the mutex, and claim() keeps a claimed owner
// alive until fire() returns).
//
// Wake-up without loss: the thread reads `wake_` under the mutex before it unlocks and
// sleeps with that value; arm() changes `wake_` under the same mutex when the earliest
// deadline moves, then wakes the word. A change after the read makes futex_wait_until
// return at once (the kernel compares the word atomically with going to sleep).
//
// Lifetime: the service is immortal — allocated on first use and never destroyed — so an
// object destroyed at exit after everything else (a static context constructed before
// the service was) can still disarm into it. Its thread is stopped and joined at exit by
// an atexit handler registered when the thread first starts: after that, during static
// destruction, nothing fires any more, and an arm() (rare: a deadline context created by
// a static destructor) starts a fresh thread that the process's end then stops. So
// after_func callbacks never run concurrently with the destruction of statics that were
// constructed before the service started; they must not wait for the exiting thread.
//
// fork(): the child has no timer thread, only the parent's heap (the contexts in it were
// copied with the rest of memory). A pthread_atfork handler holds the mutex across the
// fork, so the heap is consistent in the child; the child's handler forgets the parent's
// thread and raises a flag. It does not start a thread itself: a thread made inside an
// atfork handler never runs under ASan and TSan (their fork interceptors hold their
// thread registries until fork returns), and POSIX allows only async-signal-safe calls
// there. The next arm() starts the thread, and so does every wait on or poll of a
// context (timer_restart_if_forked, one relaxed load of the flag), so deadlines armed
// before the fork fire in the child as soon as anything there looks at a context.
//
// Model (LF_MODEL_RELACY): the timer thread is out of the model's scope. There the
// service is a stub that keeps nothing and fires nothing; deadlines already past at
// creation still take effect (context.hpp handles them without the service).
//
// Cost: arm/disarm O(log n) under the mutex; a futex wake only when the earliest deadline
// moves. Progress: blocking (mutex), which is fine: arming happens once per deadline
// context, not on a hot path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "sync/atomic.hpp"
#include "sync/config.hpp"
#include "sync/thread.hpp"
#include "sync/wait.hpp"

#if !defined(LF_MODEL_RELACY)
#include <pthread.h>

#include <cstdlib>
#include <mutex>
#include <new>
#include <thread>
#endif

namespace lf::detail {

class timer_entry {
 public:
  timer_entry() = default;
  timer_entry(const timer_entry&) = delete;
  timer_entry& operator=(const timer_entry&) = delete;

 protected:
  ~timer_entry() = default;

 private:
  friend class timer_service;
  static constexpr std::size_t not_armed = static_cast<std::size_t>(-1);

  // Under the service's mutex: true when fire() should run (the owner stays alive until then).
  virtual bool timer_claim() noexcept = 0;
  // Outside the mutex, on the timer thread, after timer_claim() returned true.
  virtual void timer_fire() noexcept = 0;

  wait_clock::time_point when_{};
  std::size_t index_ = not_armed;  // guarded by the service's mutex
};

#if !defined(LF_MODEL_RELACY)

class timer_service {
 public:
  // Immortal: see "Lifetime" above.
  static timer_service& instance() {
    static timer_service* const service = new timer_service;
    return *service;
  }

  timer_service(const timer_service&) = delete;
  timer_service& operator=(const timer_service&) = delete;

  // Puts `e` in the heap to fire at `when`. `e` must not be armed already.
  void arm(timer_entry& e, wait_clock::time_point when) {
    bool earliest;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      heap_.push_back(&e);  // first: if it throws, `e` stays unarmed
      e.when_ = when;
      e.index_ = heap_.size() - 1;
      sift_up(e.index_);
      earliest = e.index_ == 0;
      if (!thread_.joinable()) {
        try {
          start_thread();
        } catch (...) {
          remove_at(e.index_);
          throw;
        }
      }
      if (earliest) wake_.fetch_add(1, std::memory_order_relaxed);  // relaxed: ordered by the mutex
    }
    if (earliest) futex_wake_one(wake_);
  }

  // Takes `e` out of the heap if it is still there. Afterwards the service does not touch `e`.
  void disarm(timer_entry& e) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    if (e.index_ != timer_entry::not_armed) remove_at(e.index_);
  }

  // Whether the service's thread is running (tests watch it start again after a fork).
  bool running() {
    std::lock_guard<std::mutex> lock(mutex_);
    return thread_.joinable();
  }

  // Entries waiting to fire (a snapshot; tests use it to see that nothing is left behind).
  std::size_t armed_approx() {
    std::lock_guard<std::mutex> lock(mutex_);
    return heap_.size();
  }

 private:
  timer_service() {
    if (const int err = pthread_atfork(&before_fork, &after_fork_in_parent, &after_fork_in_child); err != 0) {
      throw std::system_error(err, std::generic_category(), "lf timer service: pthread_atfork");
    }
  }

  // Under mutex_. The first start registers the exit handler (once: atexit entries
  // cannot be removed, and the service never goes away).
  void start_thread() {
    if (!exit_handler_registered_) {
      if (std::atexit(&stop_at_exit) != 0) throw std::runtime_error("lf timer service: atexit failed");
      exit_handler_registered_ = true;
    }
    const std::uint64_t generation = ++generation_;
    thread_ = std::thread([this, generation] { run(generation); });
  }

  // Stops and joins the thread, if one runs (at exit).
  void stop() noexcept {
    std::thread t;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!thread_.joinable()) return;
      ++generation_;  // the running thread's generation is over
      wake_.fetch_add(1, std::memory_order_relaxed);  // relaxed: the mutex orders it with the thread's read
      t = std::move(thread_);
    }
    futex_wake_all(wake_);
    t.join();
  }

  static void stop_at_exit() noexcept { instance().stop(); }

  // The mutex is held across fork(), so the child's copy of the heap is whole.
  static void before_fork() noexcept { instance().mutex_.lock(); }
  static void after_fork_in_parent() noexcept { instance().mutex_.unlock(); }
  static void after_fork_in_child() noexcept {
    timer_service& s = instance();
    // The parent's thread does not exist here: forget its handle. Joining, detaching or
    // destroying it would act on a thread of the parent; a new, empty std::thread made in
    // its storage ends the old object's lifetime without running its destructor.
    new (&s.thread_) std::thread();
    if (!s.heap_.empty()) forked_with_deadlines.store(true, std::memory_order_relaxed);  // relaxed: one thread here
    s.mutex_.unlock();
  }

 public:
  // Set in a forked child whose heap holds deadlines and no thread runs them yet.
  static inline lf::atomic<bool> forked_with_deadlines{false};

  // Starts the thread in a forked child if deadlines wait for it (see "fork()" above).
  // If no thread can be made now, the flag stays up and a later call tries again.
  void restart_after_fork() noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    // relaxed: under the mutex, which the child's handler released after setting it.
    if (!forked_with_deadlines.load(std::memory_order_relaxed)) return;
    try {
      if (!thread_.joinable() && !heap_.empty()) start_thread();
      forked_with_deadlines.store(false, std::memory_order_relaxed);
    } catch (...) {
    }
  }

 private:

  // Fires due entries one at a time (the mutex is released around each fire), so the
  // thread holds no memory of its own: nothing is left behind on its stack by a fork.
  void run(std::uint64_t generation) {
    std::unique_lock<std::mutex> lock(mutex_);
    while (generation_ == generation) {
      if (!heap_.empty() && heap_.front()->when_ <= wait_clock::now()) {
        timer_entry* e = heap_.front();
        remove_at(0);
        if (e->timer_claim()) {
          lock.unlock();
          e->timer_fire();
          lock.lock();
        }
        continue;
      }
      const int seen = wake_.load(std::memory_order_relaxed);  // relaxed: read under the mutex arm() bumps it under
      const bool idle = heap_.empty();
      const wait_clock::time_point next = idle ? wait_clock::time_point{} : heap_.front()->when_;
      lock.unlock();
      if (idle) {
        futex_wait(wake_, seen);
      } else {
        futex_wait_until(wake_, seen, next);
      }
      lock.lock();
    }
  }

  bool earlier(std::size_t a, std::size_t b) const noexcept { return heap_[a]->when_ < heap_[b]->when_; }

  void swap_at(std::size_t a, std::size_t b) noexcept {
    std::swap(heap_[a], heap_[b]);
    heap_[a]->index_ = a;
    heap_[b]->index_ = b;
  }

  void sift_up(std::size_t i) noexcept {
    while (i > 0 && earlier(i, (i - 1) / 2)) {
      swap_at(i, (i - 1) / 2);
      i = (i - 1) / 2;
    }
  }

  void sift_down(std::size_t i) noexcept {
    for (;;) {
      const std::size_t l = 2 * i + 1, r = l + 1;
      std::size_t m = i;
      if (l < heap_.size() && earlier(l, m)) m = l;
      if (r < heap_.size() && earlier(r, m)) m = r;
      if (m == i) return;
      swap_at(i, m);
      i = m;
    }
  }

  void remove_at(std::size_t i) noexcept {
    timer_entry* e = heap_[i];
    const std::size_t last = heap_.size() - 1;
    if (i != last) swap_at(i, last);
    heap_.pop_back();
    e->index_ = timer_entry::not_armed;
    if (i < heap_.size()) {
      sift_up(i);
      sift_down(i);
    }
  }

  std::mutex mutex_;
  std::vector<timer_entry*> heap_;        // guarded by mutex_
  std::uint64_t generation_ = 0;          // guarded by mutex_; a thread runs while it is its own
  bool exit_handler_registered_ = false;  // guarded by mutex_
  std::thread thread_;                    // started by arm() (or after a fork), under mutex_
  lf::atomic<int> wake_{0};               // the thread's parking word; changed under mutex_
};

// Called by every wait on and poll of a context: after a fork, starts the timer thread
// that deadlines armed in the parent need (one relaxed load otherwise).
inline void timer_restart_if_forked() noexcept {
  // relaxed: a hint; restart_after_fork decides under the service's mutex.
  if (timer_service::forked_with_deadlines.load(std::memory_order_relaxed)) [[unlikely]] {
    timer_service::instance().restart_after_fork();
  }
}

#else  // LF_MODEL_RELACY: the timer thread is outside the model (see above).

class timer_service {
 public:
  static timer_service& instance() noexcept {
    static timer_service service;
    return service;
  }
  void arm(timer_entry&, wait_clock::time_point) noexcept {}
  void disarm(timer_entry&) noexcept {}
  std::size_t armed_approx() noexcept { return 0; }
};
inline void timer_restart_if_forked() noexcept {}

#endif  // LF_MODEL_RELACY

// A timer entry whose owner (a suspended coroutine's awaiter) may be destroyed while the
// entry fires on the timer thread: withdraw() returns once the service can no longer
// touch the entry. The firing calls fired() as its last touch of the entry.
//   (E1) timer_claim, under the service's mutex, marks the entry claimed; withdraw()'s
//        disarm takes the same mutex, so an owner that finds the entry gone reads (E1).
//   (E2) fired()'s release store; withdraw()'s acquire load pairs with it.
class withdrawable_timer_entry : public timer_entry {
 protected:
  withdrawable_timer_entry() = default;
  ~withdrawable_timer_entry() = default;

  // `*this` must not be armed. May fire at once, on the timer thread.
  void arm_at(wait_clock::time_point when) {
    phase_.store(idle, std::memory_order_relaxed);  // relaxed: published by arm's mutex
    timer_service::instance().arm(*this, when);
  }
  // After arm_at: disarms, and waits for a firing under way to call fired().
  void withdraw() noexcept {
    timer_service::instance().disarm(*this);
    if (phase_.load(std::memory_order_acquire) != idle) {  // (E1) claimed: the fire is under way
      backoff b;
      while (phase_.load(std::memory_order_acquire) != done) b.pause();  // (E2)
    }
  }
  // The firing's last touch of *this.
  void fired() noexcept { phase_.store(done, std::memory_order_release); }  // (E2) pairs with withdraw()

 private:
  static constexpr int idle = 0, claimed = 1, done = 2;

  bool timer_claim() noexcept final {
    phase_.store(claimed, std::memory_order_relaxed);  // (E1) relaxed: under the service's mutex
    return true;
  }

  lf::atomic<int> phase_{idle};
};

}  // namespace lf::detail
