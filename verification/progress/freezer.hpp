// lf progress lane — freeze one thread in the middle of an operation and watch the others.
//
// Built with -DLF_PROGRESS_PROBE: every seam operation (lf::atomic, lf::atomic_wide,
// lf::fence) then calls the probe installed on its thread (sync/detail/progress_probe.hpp).
// Two probes live here:
//   freezer     on the stalled thread: counts its seam operations from arm() on and stops
//               the thread right after the chosen one (the n-th of any kind, or the n-th
//               of one kind), until the test releases it. The thread is then suspended in
//               the middle of a container's operation, as preemption or a page fault can
//               suspend it for as long as it likes.
//   step_budget on each other thread: counts its seam operations per call and its calls.
//               A call that takes more than `max_steps_per_call` of its own seam operations,
//               or a goal that takes more than `max_calls` calls, means the thread cannot
//               progress without the frozen one; it then parks (reported as stuck) until
//               the test lets it go on, unbudgeted.
// The verdict is counted in the threads' own steps, never in wall time: a busy machine
// slows a thread down but adds no step, so the lane gives the same answer on any load.
//
// What freezing can and cannot show: a thread suspended forever is the adversary that
// separates non-blocking progress (the others still complete: lock-free or
// obstruction-free) from blocking progress (they wait for it). It does not separate
// wait-free from lock-free, nor lock-free from obstruction-free: that would take an
// adversarial scheduler that keeps every thread running.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "lockfree/detail/concepts.hpp"
#include "sync/atomic.hpp"

#if !defined(LF_PROGRESS_PROBE)
#error "verification/progress needs -DLF_PROGRESS_PROBE (the seam's hook: sync/detail/progress_probe.hpp)"
#endif

namespace lf::progress_lane {

using detail::seam_op;

inline const char* name(seam_op op) {
  switch (op) {
    case seam_op::load: return "load";
    case seam_op::store: return "store";
    case seam_op::rmw: return "rmw";
    case seam_op::failed_cas: return "failed cas";
    case seam_op::fence: return "fence";
  }
  return "?";
}

inline const char* name(progress p) {
  switch (p) {
    case progress::wait_free: return "wait_free";
    case progress::lock_free: return "lock_free";
    case progress::obstruction_free: return "obstruction_free";
    case progress::blocking: return "blocking";
  }
  return "?";
}

// The weaker of two guarantees (the enum runs from strongest to weakest).
constexpr progress weaker(progress a, progress b) noexcept { return a > b ? a : b; }

// Where to stop the thread: right after its nth seam operation since arm() (1-based),
// counting every operation, or only those of `kind`.
struct freeze_point {
  std::size_t nth = 1;
  std::optional<seam_op> kind;

  std::string describe() const {
    return "after seam op #" + std::to_string(nth) + (kind ? std::string(" of kind ") + name(*kind) : std::string());
  }
};

// A one-way gate the test opens; a parked thread sleeps on it (futex via atomic wait).
class gate {
 public:
  void open() noexcept {
    open_.store(true, std::memory_order_release);
    open_.notify_all();
  }
  void pass() const noexcept { open_.wait(false, std::memory_order_acquire); }
  bool is_open() const noexcept { return open_.load(std::memory_order_acquire); }

 private:
  std::atomic<bool> open_{false};
};

// The stalled thread's probe. One per run: arm() and disarm() on the stalled thread,
// wait_frozen() and release() on the test's.
class freezer {
 public:
  enum class state : int { running, frozen, finished };

  void arm(freeze_point at) noexcept {
    at_ = at;
    seen_ = 0;
    current = this;
    detail::seam_probe = &on_seam_op;
  }
  // After the armed operation returned: if it never reached the point, says so.
  void disarm() noexcept {
    detail::seam_probe = nullptr;
    current = nullptr;
    int expected = static_cast<int>(state::running);
    state_.compare_exchange_strong(expected, static_cast<int>(state::finished));
    state_.notify_all();
  }

  // True once the thread is frozen; false if its operation ended before the point.
  bool wait_frozen() const noexcept {
    int s;
    while ((s = state_.load(std::memory_order_acquire)) == static_cast<int>(state::running)) {
      state_.wait(s, std::memory_order_acquire);
    }
    return s == static_cast<int>(state::frozen);
  }
  void release() noexcept { thaw_.open(); }
  // The operation it was frozen at, for the report.
  seam_op frozen_at() const noexcept { return frozen_op_; }

 private:
  static void on_seam_op(seam_op op) noexcept {
    freezer* const self = current;
    if (self == nullptr || self->thaw_.is_open()) return;
    if (self->at_.kind && *self->at_.kind != op) return;
    if (++self->seen_ != self->at_.nth) return;
    self->frozen_op_ = op;
    self->state_.store(static_cast<int>(state::frozen), std::memory_order_release);
    self->state_.notify_all();
    self->thaw_.pass();
  }

  static inline thread_local freezer* current = nullptr;

  freeze_point at_;
  std::size_t seen_ = 0;
  seam_op frozen_op_ = seam_op::load;
  std::atomic<int> state_{static_cast<int>(state::running)};
  gate thaw_;
};

// The other threads' probe and meter: one per run, shared by the other threads.
class step_budget {
 public:
  step_budget(std::size_t max_steps_per_call, std::size_t max_calls)
      : max_steps_per_call_(max_steps_per_call), max_calls_(max_calls) {}

  // On each other thread, before its goal and after it.
  void install() noexcept {
    current = this;
    steps_ = 0;
    detail::seam_probe = &on_seam_op;
  }
  void uninstall() noexcept {
    detail::seam_probe = nullptr;
    current = nullptr;
    finished_.fetch_add(1, std::memory_order_acq_rel);
    wake_.fetch_add(1, std::memory_order_release);
    wake_.notify_all();
  }

  // Before each call of the container: counts it against max_calls, and restarts the
  // per-call step count.
  void call() noexcept {
    steps_ = 0;
    const std::size_t n = calls_.fetch_add(1, std::memory_order_relaxed) + 1;
    if (n > max_calls_) stuck(why::calls);
  }

  // On the test's thread: waits until every other thread finished its goal or one is stuck.
  // True when one is stuck (the others could not progress without the frozen thread).
  bool wait_outcome(std::size_t threads) noexcept {
    for (;;) {
      const int w = wake_.load(std::memory_order_acquire);
      if (stuck_.load(std::memory_order_acquire) != 0) return true;
      if (finished_.load(std::memory_order_acquire) == threads) return false;
      wake_.wait(w, std::memory_order_acquire);
    }
  }
  // Lets stuck threads go on, unbudgeted (they may finish once the frozen one does).
  void release() noexcept { go_on_.open(); }

  std::string stuck_reason() const {
    switch (static_cast<why>(stuck_.load(std::memory_order_acquire))) {
      case why::steps: return "a call took more than " + std::to_string(max_steps_per_call_) + " of its own seam ops";
      case why::calls: return "the goal took more than " + std::to_string(max_calls_) + " calls";
      case why::none: break;
    }
    return "not stuck";
  }
  // The most seam ops one call of the others took (a stuck call counts up to the budget).
  std::size_t max_steps_seen() const noexcept { return max_steps_seen_.load(std::memory_order_relaxed); }
  std::size_t calls() const noexcept { return calls_.load(std::memory_order_relaxed); }

 private:
  enum class why : int { none, steps, calls };

  static void on_seam_op(seam_op) noexcept {
    step_budget* const self = current;
    if (self == nullptr || self->go_on_.is_open()) return;
    const std::size_t s = ++self->steps_;
    std::size_t seen = self->max_steps_seen_.load(std::memory_order_relaxed);
    while (s > seen && !self->max_steps_seen_.compare_exchange_weak(seen, s, std::memory_order_relaxed)) {
    }
    if (s > self->max_steps_per_call_) self->stuck(why::steps);
  }

  void stuck(why w) noexcept {
    if (go_on_.is_open()) return;
    int none = static_cast<int>(why::none);
    stuck_.compare_exchange_strong(none, static_cast<int>(w), std::memory_order_acq_rel);
    wake_.fetch_add(1, std::memory_order_release);
    wake_.notify_all();
    go_on_.pass();
  }

  static inline thread_local step_budget* current = nullptr;
  static inline thread_local std::size_t steps_ = 0;

  const std::size_t max_steps_per_call_;
  const std::size_t max_calls_;
  std::atomic<std::size_t> calls_{0};
  std::atomic<std::size_t> finished_{0};
  std::atomic<std::size_t> max_steps_seen_{0};
  std::atomic<int> stuck_{static_cast<int>(why::none)};
  std::atomic<int> wake_{0};
  gate go_on_;
};

}  // namespace lf::progress_lane
