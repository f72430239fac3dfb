// lf — pieces the array-backed containers share: capacity validation and the
// single-caller check.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "sync/atomic.hpp"
#include "sync/config.hpp"

namespace lf::detail {

// The ring size for a requested capacity: the next power of two (indices are masked,
// not divided), at least `minimum`. Throws, naming the value, for 0 or for a size whose
// storage of `slot_bytes` each would not fit in the address space.
inline std::size_t ring_size(const char* ring, std::size_t capacity, std::size_t minimum, std::size_t slot_bytes) {
  if (capacity == 0) {
    throw std::invalid_argument(std::string(ring) + ": capacity must be at least 1, got 0");
  }
  constexpr std::size_t max_bytes = static_cast<std::size_t>(PTRDIFF_MAX);
  const std::size_t wanted = capacity < minimum ? minimum : capacity;
  if (wanted > (std::size_t{1} << (SIZE_WIDTH - 2)) || std::bit_ceil(wanted) > max_bytes / slot_bytes) {
    throw std::length_error(std::string(ring) + ": capacity " + std::to_string(capacity) +
                            " needs more than PTRDIFF_MAX bytes of slots");
  }
  return std::bit_ceil(wanted);
}

// Catches, in debug and test builds, two threads inside an operation that admits one
// (two producers on an SPSC ring). Costs nothing where LF_ASSERT is off, and is left
// out under the model, where tests drive the roles exactly and extra atomics would only
// enlarge the search.
//
// Ordering argument: both accesses to the flag are relaxed. The flag detects, it does not
// hand over: a caller that finds it clear goes on without waiting, so it cannot be what
// orders one caller after the next; a role moves between threads only through a hand-over
// that synchronizes on its own (a join, a release/acquire pair), as the containers require.
//   (1) the entry's exchange  needs only its atomicity: it reads the last value in the
//       flag's modification order. If another caller's entry comes before it there and
//       that caller's exit (2) after it, it reads true and the assertion fires.
//   (2) the exit's store  needs no release: after a proper hand-over it happens before
//       the next entry (1), which by coherence reads it (false), so there is no false
//       alarm either.
// What relaxed buys: with acquire/release the flag itself made each caller's accesses
// happen before the next caller's, so two threads that take turns at one side without
// synchronizing (a data race on the side's plain fields, such as spsc_ring's cached
// index) ran clean under ThreadSanitizer: the checker supplied the very edge the program
// lacked. Relaxed, TSan reports that race: the TSan lane's probe
// stress.tsan.unsynchronized_handover_is_reported (verification/stress/
// unsynchronized_handover_probe.cpp) passes only then, and was seen failing with
// acquire/release. On x86-64 both forms compile to the same xchg and mov.
#if LF_ASSERTS_ON && !defined(LF_MODEL_RELACY)
class single_caller {
 public:
  class scope {
   public:
    explicit scope(single_caller& c) noexcept : c_(c) {
      const bool was_busy = c_.busy_.exchange(true, std::memory_order_relaxed);  // (1) relaxed: detects only
      LF_ASSERT(!was_busy && "two threads in a single-producer or single-consumer operation");
    }
    ~scope() { c_.busy_.store(false, std::memory_order_relaxed); }  // (2) relaxed: see above
    scope(const scope&) = delete;
    scope& operator=(const scope&) = delete;

   private:
    single_caller& c_;
  };

 private:
  lf::atomic<bool> busy_{false};
};
#else
class single_caller {
 public:
  struct scope {
    explicit scope(single_caller&) noexcept {}
  };
};
#endif

}  // namespace lf::detail
