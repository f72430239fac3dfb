// lf — the seam's thread services: a dense per-thread index, spin pauses, backoff.
//
// Relacy runs its threads as fibers of one OS thread, so `thread_local` is shared
// between them there; per-thread state (hazard slots, epoch records) is reached through
// lf::thread_index(), which is the simulated thread's index under the model and a
// small, recycled number per live OS thread in production.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <thread>

#include "sync/atomic.hpp"
#include "sync/config.hpp"

namespace lf {

// Upper bound on threads alive at once that hold an lf index (sizes per-thread tables).
inline constexpr std::size_t max_threads = 512;

#if !defined(LF_MODEL_RELACY)

namespace detail {

// Slot i is taken while a live thread owns index i. A thread claims the lowest free
// slot on its first call and frees it when it exits, so indices stay dense under churn.
class thread_registry {
 public:
  static thread_registry& instance() noexcept {
    static thread_registry r;
    return r;
  }
  std::size_t claim() {
    for (std::size_t i = 0; i < max_threads; ++i) {
      bool expected = false;
      // acquire: a slot's previous owner released it (below); its per-thread records
      // are ours to reuse only after that release.
      // relaxed: a filter that skips taken slots without a locked instruction; the CAS decides.
      if (!taken_[i].value.load(std::memory_order_relaxed) &&
          taken_[i].value.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
        return i;
      }
    }
    throw std::length_error("lf::thread_index: more than lf::max_threads (" + std::to_string(max_threads) +
                            ") threads alive at once");
  }
  // release: everything the exiting thread wrote to its per-thread records happens
  // before the next owner of the slot claims it (acquire, above).
  void release(std::size_t i) noexcept { taken_[i].value.store(false, std::memory_order_release); }

 private:
  struct flag {
    std::atomic<bool> value{false};
  };
  flag taken_[max_threads];
};

struct thread_slot {
  std::size_t index = thread_registry::instance().claim();
  thread_slot() = default;
  thread_slot(const thread_slot&) = delete;
  thread_slot& operator=(const thread_slot&) = delete;
  ~thread_slot() { thread_registry::instance().release(index); }
};

}  // namespace detail

// Dense index of the calling thread, in [0, max_threads). Stable for the thread's life.
inline std::size_t thread_index() {
  thread_local detail::thread_slot slot;
  return slot.index;
}

// One pause of a spin-wait loop: tells the core we are spinning (saves power, frees the
// sibling hyperthread, avoids the memory-order mis-speculation on loop exit).
inline void spin_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// Gives the processor to another runnable thread.
inline void yield_thread() noexcept { std::this_thread::yield(); }

#else  // LF_MODEL_RELACY

inline std::size_t thread_index() { return rl::thread_index(); }
// A spin loop under the model must tell the scheduler it waits, or Relacy calls it a
// livelock; rl::yield lets another fiber run.
inline void spin_pause(site s = {}) { rl::yield(1, detail::info(s)); }
inline void yield_thread(site s = {}) { rl::yield(1, detail::info(s)); }

#endif  // LF_MODEL_RELACY

// Exponential backoff for contended retry loops: 1, 2, 4 ... pauses, then yields.
class backoff {
 public:
#if defined(LF_MODEL_RELACY)
  // Under the model one yield per retry: the scheduler, not the clock, decides who runs.
  void pause() { spin_pause(); }
#else
  void pause() {
    if (step_ <= spin_limit) {
      for (unsigned i = 0; i < (1u << step_); ++i) spin_pause();
      ++step_;
    } else {
      yield_thread();
    }
  }
#endif
  void reset() noexcept { step_ = 0; }

 private:
  static constexpr unsigned spin_limit = 6;  // at most 64 pauses (~2-8 µs) before yielding
  unsigned step_ = 0;
};

}  // namespace lf
