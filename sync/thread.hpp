// lf — the seam's thread services: a dense per-thread index, spin pauses, backoff.
//
// Relacy runs its threads as fibers of one OS thread, so `thread_local` is shared
// between them there; per-thread state (hazard slots, epoch records) is reached through
// lf::thread_index(), which is the simulated thread's index under the model and a
// small, recycled number per live OS thread in production. Per-thread records live in an
// lf::detail::thread_table (sync/thread_table.hpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

#if !defined(LF_MODEL_RELACY)
#include <pthread.h>

#include <atomic>
#endif

#include "sync/atomic.hpp"
#include "sync/config.hpp"

namespace lf {

// Upper bound on threads alive at once that hold an lf index. Per-thread tables
// (sync/thread_table.hpp) allocate their records in chunks as indices are first used, so
// the bound costs a few kilobytes of chunk pointers per domain, not a record per thread.
inline constexpr std::size_t max_threads = std::size_t{1} << 18;

#if !defined(LF_MODEL_RELACY)

namespace detail {

// The owner of every index: one bit per index, set while a thread holds it. A thread
// claims the lowest free index on its first call to lf::thread_index() and gives it back
// only when nothing on that thread can use lf any more:
//
//   C++ thread_local destructors run first at thread exit (glibc: __call_tls_dtors), and
//   any of them may use lf — an object constructed before the thread's first lf call is
//   destroyed after everything lf constructed. The index is therefore not held by a
//   thread_local object but by a pthread key, whose destructor glibc runs after every
//   thread_local destructor. A key destructor of another library that runs after ours and
//   uses lf claims an index again and sets the key again, and glibc then runs the key
//   destructors once more (up to PTHREAD_DESTRUCTOR_ITERATIONS rounds), so it too gives
//   the index back.
//
// The registry is immortal (allocated once, never destroyed): threads may exit, and
// release their index, while or after static destructors run.
//
// fork(): the child inherits the bitmap. The indices of the parent's other threads stay
// taken in the child (their records may hold a section that was open at the fork, which
// no new owner must inherit); the forking thread keeps its own.
class thread_registry {
 public:
  static thread_registry& instance() {
    static thread_registry* const r = new thread_registry;  // immortal, see above
    return *r;
  }

  std::size_t claim() {
    for (std::size_t w = 0; w < words; ++w) {
      // relaxed: a filter that skips full words without a locked instruction; the CAS decides.
      std::uint64_t bits = taken_[w].load(std::memory_order_relaxed);
      while (bits != ~std::uint64_t{0}) {
        const std::uint64_t lowest_free = ~bits & (bits + 1);
        // acquire: the index's previous owner released it (release()); its per-thread
        // records are ours to reuse only after that release.
        if (taken_[w].compare_exchange_weak(bits, bits | lowest_free, std::memory_order_acquire,
                                            std::memory_order_relaxed)) {
          return w * 64 + static_cast<std::size_t>(__builtin_ctzll(lowest_free));
        }
      }
    }
    throw std::length_error("lf::thread_index: more than lf::max_threads (" + std::to_string(max_threads) +
                            ") threads alive at once");
  }

  // release: everything the exiting thread wrote to its per-thread records happens
  // before the next owner of the index claims it (acquire, above).
  void release(std::size_t i) noexcept {
    taken_[i / 64].fetch_and(~(std::uint64_t{1} << (i % 64)), std::memory_order_release);
  }

  // Whether index i is held by a thread now (a snapshot; tests use it).
  bool taken(std::size_t i) const noexcept {
    return (taken_[i / 64].load(std::memory_order_relaxed) >> (i % 64)) & 1u;  // relaxed: a snapshot
  }
  // Indices held now (a snapshot; tests use it to see that exiting threads give theirs back).
  std::size_t live() const noexcept {
    std::size_t n = 0;
    for (std::size_t w = 0; w < words; ++w) n += static_cast<std::size_t>(__builtin_popcountll(taken_[w].load(std::memory_order_relaxed)));
    return n;
  }

  pthread_key_t key() const noexcept { return key_; }

 private:
  static constexpr std::size_t words = max_threads / 64;

  thread_registry() : taken_(new std::atomic<std::uint64_t>[words]) {
    for (std::size_t w = 0; w < words; ++w) taken_[w].store(0, std::memory_order_relaxed);  // before any sharing
    if (const int err = pthread_key_create(&key_, &on_thread_exit); err != 0) {
      throw std::system_error(err, std::generic_category(), "lf::thread_index: pthread_key_create");
    }
  }

  static void on_thread_exit(void* held) noexcept;

  std::atomic<std::uint64_t>* const taken_;
  pthread_key_t key_{};
};

// The calling thread's index plus one, or 0 before its first claim and after its release.
// Trivially destructible, so reading it costs one TLS load and no guard.
inline thread_local std::size_t thread_index_plus_one = 0;

inline void thread_registry::on_thread_exit(void* held) noexcept {
  thread_index_plus_one = 0;
  instance().release(reinterpret_cast<std::uintptr_t>(held) - 1);
}

[[gnu::noinline]] inline std::size_t claim_thread_index() {
  thread_registry& r = thread_registry::instance();
  const std::size_t i = r.claim();
  if (const int err = pthread_setspecific(r.key(), reinterpret_cast<void*>(static_cast<std::uintptr_t>(i) + 1));
      err != 0) {
    r.release(i);
    throw std::system_error(err, std::generic_category(), "lf::thread_index: pthread_setspecific");
  }
  thread_index_plus_one = i + 1;
  return i;
}

}  // namespace detail

// Dense index of the calling thread, in [0, max_threads). Stable from the thread's first
// lf call until every thread_local destructor of the thread has run (see
// detail::thread_registry); then another thread may get it. Throws std::length_error
// when max_threads threads hold one already.
inline std::size_t thread_index() {
  if (const std::size_t v = detail::thread_index_plus_one; v != 0) [[likely]] return v - 1;
  return detail::claim_thread_index();
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
  // Still in the spinning phase (the next pause spins rather than yields).
  bool spinning() const noexcept { return step_ <= spin_limit; }

 private:
  static constexpr unsigned spin_limit = 6;  // at most 64 pauses (~2-8 µs) before yielding
  unsigned step_ = 0;
};

// Backoff for a wait that may last long (a grace period, a lock held across one): a short
// spin, a few yields, then sleeps that double from 8 µs up to 1 ms. The waiter then costs
// almost no CPU however long the wait, and sees the end at most about 1 ms late — the
// right trade where the wait is for another thread's read-side section, not for a CAS.
class idle_backoff {
 public:
#if defined(LF_MODEL_RELACY)
  void pause() { spin_pause(); }
#else
  void pause() {
    if (spin_.spinning()) {
      spin_.pause();
    } else if (yields_ < yield_limit) {
      ++yields_;
      yield_thread();
    } else {
      std::this_thread::sleep_for(sleep_);
      if (sleep_ < max_sleep) sleep_ *= 2;
    }
  }

 private:
  static constexpr unsigned yield_limit = 16;  // after the spin, let runnable threads have the core
  static constexpr std::chrono::microseconds max_sleep{1024};
  backoff spin_;
  unsigned yields_ = 0;
  std::chrono::microseconds sleep_{8};
#endif
};

}  // namespace lf
