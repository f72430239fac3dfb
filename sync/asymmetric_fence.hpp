// lf — the seam's asymmetric fences: a light fence for the hot side of a store-load
// pair and a heavy fence for the cold side, which together order as much as two
// seq_cst fences would.
//
// Some protocols need a store-load fence on both sides, but run one side millions of
// times for each run of the other: an RCU reader on every lock, a synchronize once per
// grace period. Linux's membarrier(2) moves the whole cost to the cold side:
// MEMBARRIER_CMD_PRIVATE_EXPEDITED makes every CPU that is running a thread of this
// process execute a full barrier (by IPI) before the call returns, and a thread that is
// not running passes one at its next context switch. So the hot side needs only to keep
// the compiler from moving its accesses across the fence.
//
//   asymmetric_fence_light()  a compiler barrier when the process registered for private
//                             expedited membarrier (at start-up, below), else a seq_cst
//                             fence.
//   asymmetric_fence_heavy()  membarrier(PRIVATE_EXPEDITED), else a seq_cst fence.
//
// The contract: a light fence orders accesses only against a heavy fence of another
// thread. Two light fences order nothing between them (both may be compiler barriers);
// an argument that pairs a light fence with a release or acquire operation, or with
// another light fence, is wrong. A heavy fence pairs with light and heavy fences alike.
//
// Why two light+heavy fences behave as two seq_cst fences (the model maps both onto
// seq_cst fences, so this is what makes the model sound). Take a light fence L of thread
// R and a heavy fence H of thread W. membarrier makes R execute a full barrier at some
// point P of its instruction stream while H runs; interrupts are precise, so every access
// of R before P is complete and visible before H returns, and every access of R after P
// observes everything W did before H began. L is a compiler barrier, so R's accesses
// before L in program order are before it in the instruction stream too. If P falls
// before L, W's accesses before H are visible to all of R's after L: as if H preceded L
// in the total order of seq_cst fences. If P falls after L, R's accesses before L are
// visible to W after H: as if L preceded H. Either way the outcome is one that a pair of
// seq_cst fences permits, so a proof that holds with two seq_cst fences, and that pairs
// every light fence only with heavy fences, holds here.
//
// Registration happens once, during static initialisation (the inline variable below),
// before any thread but the main one exists. Until it has run, both fences are seq_cst
// fences; afterwards the choice never changes. A light fence that reads "registered" is
// therefore always answered by heavy fences that read it too (they run after the
// initialisation, or in threads created after it). Without Linux or its membarrier (and
// under LF_NO_MEMBARRIER), both fences are seq_cst fences: correct, and the light side
// pays a full fence.
//
// ThreadSanitizer does not model fences (nor membarrier): a protocol must not need a
// fence for a happens-before edge that protects plain memory; TSan needs those edges
// through release/acquire pairs (rcu/rcu.hpp says how it gets them).
//
// Model (LF_MODEL_RELACY): both are seq_cst fences, by the argument above.
#pragma once

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "sync/atomic.hpp"
#include "sync/config.hpp"

#if !defined(LF_MODEL_RELACY) && defined(__linux__) && !defined(LF_NO_MEMBARRIER)
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#define LF_HAS_MEMBARRIER 1
#else
#define LF_HAS_MEMBARRIER 0
#endif

namespace lf {

#if !defined(LF_MODEL_RELACY)

namespace detail {

#if LF_HAS_MEMBARRIER
inline long membarrier(int cmd) noexcept { return ::syscall(__NR_membarrier, cmd, 0u, 0); }

// True when this process may use MEMBARRIER_CMD_PRIVATE_EXPEDITED from now on.
inline bool register_private_expedited_membarrier() noexcept {
  const long supported = membarrier(MEMBARRIER_CMD_QUERY);
  if (supported < 0) return false;  // no membarrier (old kernel, or a seccomp filter)
  const long needed = MEMBARRIER_CMD_PRIVATE_EXPEDITED | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED;
  if ((supported & needed) != needed) return false;
  return membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
}

// Written once before main (dynamic initialisation), read-only afterwards.
inline const bool membarrier_registered = register_private_expedited_membarrier();
#else
inline constexpr bool membarrier_registered = false;
#endif

}  // namespace detail

// Whether the light fence is a compiler barrier only (tests and benchmarks report it).
inline bool asymmetric_fence_is_expedited() noexcept { return detail::membarrier_registered; }

inline void asymmetric_fence_light() noexcept {
  if (detail::membarrier_registered) [[likely]] {
    std::atomic_signal_fence(std::memory_order_seq_cst);  // the compiler's half only
  } else {
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
}

inline void asymmetric_fence_heavy() noexcept {
#if LF_HAS_MEMBARRIER
  if (detail::membarrier_registered) {
    // Registered, so the command cannot fail but for a kernel bug; readers rely on it and
    // a seq_cst fence here would not order their compiler-only fences: stop.
    if (detail::membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0) {
      std::fputs("lf::asymmetric_fence_heavy: membarrier(PRIVATE_EXPEDITED) failed after registration\n", stderr);
      std::abort();
    }
    return;
  }
#endif
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

#else  // LF_MODEL_RELACY

inline bool asymmetric_fence_is_expedited() noexcept { return false; }
// Both sides are seq_cst fences under the model: see "Why ..." above.
inline void asymmetric_fence_light(site s = {}) { fence(std::memory_order_seq_cst, s); }
inline void asymmetric_fence_heavy(site s = {}) { fence(std::memory_order_seq_cst, s); }

#endif  // LF_MODEL_RELACY

}  // namespace lf
