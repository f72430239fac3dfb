// lf::circuit_breaker internals: counters stamped with the epoch they count for.
//
// A breaker's counts belong to one generation (gobreaker clears them at every state
// change and interval expiry) and, with a rolling window, to one bucket of it. Clearing
// a shared array while other threads still add to it is a race; instead every counter
// word carries a stamp: the low 32 bits of the epoch it counts for, and its count in the
// other 32 bits (gobreaker's counts are uint32 too).
//   add(stamp, d)   same stamp: count += d; an older stamp: the word is reset to
//                   (stamp, d) (this is the lazy clear); a newer stamp: the caller is
//                   late (its epoch is over) and nothing changes.
//   read(stamp)     the count if the word carries `stamp`, else 0.
// Epochs only grow, and the breaker never lets an operation lag 2^31 epochs behind, so
// "older" is the sign of the 32-bit difference. Relaxed throughout: a count is its own
// datum, published to nobody; the state word orders what needs ordering (see
// patterns/circuit_breaker.hpp).
#pragma once

#include <cstdint>

#include "sync/atomic.hpp"

namespace lf::detail {

class stamped_count {
 public:
  stamped_count() noexcept = default;

  // Adds d for `stamp`: the new count, or -1 when the word already counts a newer epoch.
  std::int64_t add(std::uint32_t stamp, std::uint32_t d) noexcept {
    std::uint64_t w = word_.load(std::memory_order_relaxed);
    for (;;) {
      const std::uint32_t have = static_cast<std::uint32_t>(w >> 32);
      std::uint32_t count;
      if (have == stamp) {
        count = static_cast<std::uint32_t>(w) + d;  // wraps at 2^32, as gobreaker's uint32
      } else if (static_cast<std::int32_t>(stamp - have) > 0) {
        count = d;  // the lazy clear of an older epoch
      } else {
        return -1;
      }
      if (word_.compare_exchange_weak(w, pack(stamp, count), std::memory_order_relaxed, std::memory_order_relaxed)) {
        return count;
      }
    }
  }

  // Adds 1 for `stamp` only if admit(count before) holds when the add lands: check and
  // increment are one CAS, so no two callers pass on the same count (the half-open
  // admission, exact under any interleaving). The new count; -1 when the word counts a
  // newer epoch; -2 when admit refused.
  template <class Admit>
  std::int64_t add_one_if(std::uint32_t stamp, Admit admit) {
    std::uint64_t w = word_.load(std::memory_order_relaxed);
    for (;;) {
      const std::uint32_t have = static_cast<std::uint32_t>(w >> 32);
      std::uint32_t count;
      if (have == stamp) {
        count = static_cast<std::uint32_t>(w);
      } else if (static_cast<std::int32_t>(stamp - have) > 0) {
        count = 0;
      } else {
        return -1;
      }
      if (!admit(count)) return -2;
      if (word_.compare_exchange_weak(w, pack(stamp, count + 1), std::memory_order_relaxed, std::memory_order_relaxed)) {
        return count + 1;
      }
    }
  }

  std::uint32_t read(std::uint32_t stamp) const noexcept {
    const std::uint64_t w = word_.load(std::memory_order_relaxed);
    return static_cast<std::uint32_t>(w >> 32) == stamp ? static_cast<std::uint32_t>(w) : 0;
  }

 private:
  static std::uint64_t pack(std::uint32_t stamp, std::uint32_t count) noexcept {
    return (std::uint64_t{stamp} << 32) | count;
  }
  lf::atomic<std::uint64_t> word_{0};
};

// A run of consecutive outcomes, gobreaker's ConsecutiveSuccesses / ConsecutiveFailures
// in one word (one of the two is always 0: a success zeroes the failures and the other
// way round). Layout: stamp in bits 33-63 (31 bits), failures flag in bit 32, length in
// bits 0-31.
struct run_value {
  std::uint32_t successes = 0;
  std::uint32_t failures = 0;
};

class stamped_run {
 public:
  static constexpr std::uint32_t stamp_mask = 0x7fffffffu;

  // Appends one outcome for `stamp`; the run after it, or nothing when the word counts a
  // newer epoch (then `ok` is false).
  run_value add(std::uint32_t stamp, bool failure, bool& ok) noexcept {
    stamp &= stamp_mask;
    std::uint64_t w = word_.load(std::memory_order_relaxed);
    for (;;) {
      const std::uint32_t have = static_cast<std::uint32_t>(w >> 33);
      std::uint64_t next;
      if (have == stamp) {
        const bool was_failure = ((w >> 32) & 1) != 0;
        const std::uint32_t len = static_cast<std::uint32_t>(w);
        next = pack(stamp, failure, was_failure == failure ? len + 1 : 1);
      } else if (older(have, stamp)) {
        next = pack(stamp, failure, 1);
      } else {
        ok = false;
        return {};
      }
      if (word_.compare_exchange_weak(w, next, std::memory_order_relaxed, std::memory_order_relaxed)) {
        ok = true;
        return unpack(next);
      }
    }
  }

  run_value read(std::uint32_t stamp) const noexcept {
    const std::uint64_t w = word_.load(std::memory_order_relaxed);
    return static_cast<std::uint32_t>(w >> 33) == (stamp & stamp_mask) ? unpack(w) : run_value{};
  }

  // Replaces the run read as `before` by `after` (gobreaker's roll-time subtraction);
  // false when the word changed since `before` was computed from it.
  bool replace(std::uint32_t stamp, std::uint64_t& seen, run_value after) noexcept {
    stamp &= stamp_mask;
    const std::uint64_t next = pack(stamp, after.failures != 0, after.failures != 0 ? after.failures : after.successes);
    return word_.compare_exchange_strong(seen, next, std::memory_order_relaxed, std::memory_order_relaxed);
  }

  std::uint64_t raw() const noexcept { return word_.load(std::memory_order_relaxed); }
  static run_value unpack_for(std::uint64_t w, std::uint32_t stamp) noexcept {
    return static_cast<std::uint32_t>(w >> 33) == (stamp & stamp_mask) ? unpack(w) : run_value{};
  }

 private:
  static bool older(std::uint32_t have, std::uint32_t stamp) noexcept {
    return ((stamp - have) & stamp_mask) != 0 && ((stamp - have) & stamp_mask) < (1u << 30);
  }
  static std::uint64_t pack(std::uint32_t stamp, bool failure, std::uint32_t len) noexcept {
    return (std::uint64_t{stamp} << 33) | (std::uint64_t{failure} << 32) | len;
  }
  static run_value unpack(std::uint64_t w) noexcept {
    const std::uint32_t len = static_cast<std::uint32_t>(w);
    return ((w >> 32) & 1) != 0 ? run_value{0, len} : run_value{len, 0};
  }
  lf::atomic<std::uint64_t> word_{0};
};

// One bucket of gobreaker's counts (the whole counts when there is one bucket). A call
// writes its bucket's words only: one 64-byte line for the five of them (in production;
// the model allocates through Relacy, which has no aligned operator new).
#if defined(LF_MODEL_RELACY)
struct breaker_bucket {
#else
struct alignas(64) breaker_bucket {
#endif
  stamped_count requests;
  stamped_count successes;
  stamped_count failures;
  stamped_count exclusions;
  stamped_run run;  // the bucket's own consecutive counts; with one bucket, the breaker's
};

// One thread's share of a striped generation's requests and successes. A breaker with
// one bucket and no rate window counts its closed (and metrics-only) calls in stripes
// picked by lf::thread_index(), so a call that succeeds writes only its stripe's line:
// threads that call the breaker concurrently do not move one counts line between their
// cores on every call. Readers add the stripes up.
#if defined(LF_MODEL_RELACY)
struct breaker_stripe {
#else
struct alignas(64) breaker_stripe {
#endif
  stamped_count requests;
  stamped_count successes;
};

// The consecutive counts of a striped generation. Successes never write it: a failure
// records the length of the failure run and the generation's success total it saw, and
//     consecutive_failures  = that length, if the success total is still what it saw, else 0
//     consecutive_successes = the success total now - the total the last failure saw
// (the whole total before the generation's first failure). The total only grows, so
// "unchanged" means "no success since". Ordering (numbers as in the breaker's header):
//   (F1) a failure's CAS is release and its loads of the mark acquire: the stripe reads
//        of the failure that wrote a mark happen before those of the failure that reads
//        it, so by read-read coherence the later failure never sees a smaller total
//        (which would restart the run and invent successes).
//   (F2) a reader loads the mark (acquire) before it adds the stripes up, for the same
//        reason: its total is never below the mark's.
class stamped_failure_run {
 public:
  struct mark {
    std::uint32_t stamp = 0;
    std::uint32_t failures = 0;
    std::uint32_t successes_at = 0;
    std::uint32_t unused = 0;  // keeps the word 16 bytes with no padding bits
    friend bool operator==(const mark&, const mark&) = default;  // the model's CAS compares with ==
    template <class Stream>  // the model checker prints the values it traces
    friend Stream& operator<<(Stream& os, const mark& m) {
      return os << m.failures << "f@" << m.stamp << "/s" << m.successes_at;
    }
  };

  // Appends one failure for `stamp`; total() adds up the generation's successes. The
  // run's length after it, or 0 when the word already counts a newer epoch.
  template <class Total>
  std::uint32_t add_failure(std::uint32_t stamp, Total total) {
    mark m = word_.load(std::memory_order_acquire);  // (F1) acquire: pairs with the release CAS
    for (;;) {
      if (m.stamp != stamp && static_cast<std::int32_t>(stamp - m.stamp) < 0) return 0;
      const std::uint32_t s = total();
      const bool same_run = m.stamp == stamp && m.successes_at == s && m.failures != 0;
      const mark next{stamp, same_run ? m.failures + 1 : 1, s, 0};
      // (F1) release: our stripe reads come before any failure that builds on this mark.
      if (word_.compare_exchange_weak(m, next, std::memory_order_acq_rel, std::memory_order_acquire)) {
        return next.failures;
      }
    }
  }

  // The consecutive counts for `stamp`, total() being read after the mark (F2).
  template <class Total>
  run_value read(std::uint32_t stamp, Total total) const {
    const mark m = word_.load(std::memory_order_acquire);  // (F2) acquire: pairs with (F1)'s release
    const std::uint32_t s = total();
    if (m.stamp != stamp || m.failures == 0) return run_value{s, 0};
    return s == m.successes_at ? run_value{0, m.failures} : run_value{s - m.successes_at, 0};
  }

 private:
  lf::atomic_wide<mark> word_{mark{}};
};

// One bucket of a resilience4j-style rate window: calls, failures and slow calls.
struct rate_bucket {
  stamped_count calls;
  stamped_count failures;
  stamped_count slow;
};

}  // namespace lf::detail
