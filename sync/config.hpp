// lf — build configuration shared by every layer: the model switch, assertions,
// cache-line geometry and the call-site record the model checker reports.
//
// LF_MODEL_RELACY   defined only by model-test translation units: the seam maps every
//                   atomic, fence, shared cell and wait onto Relacy.
// LF_ENABLE_ASSERT  turns LF_ASSERT on in optimised builds (test presets define it);
//                   debug builds (no NDEBUG) have it on anyway.
// LF_ASAN, LF_TSAN  1 in a build with AddressSanitizer / ThreadSanitizer, else 0, with
//                   either compiler: g++ defines __SANITIZE_ADDRESS__ / __SANITIZE_THREAD__,
//                   clang 14 defines neither and answers __has_feature instead.
//                   LF_UNDER_TSAN (the tsan preset defines it) forces LF_TSAN.
#pragma once

#include <cstddef>
#include <cstdio>
#include <cstdlib>

#if defined(LF_MODEL_RELACY)
#include "sync/detail/relacy.hpp"
#endif

#if defined(__SANITIZE_ADDRESS__)
#define LF_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LF_ASAN 1
#endif
#endif
#if !defined(LF_ASAN)
#define LF_ASAN 0
#endif

#if defined(__SANITIZE_THREAD__) || defined(LF_UNDER_TSAN)
#define LF_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LF_TSAN 1
#endif
#endif
#if !defined(LF_TSAN)
#define LF_TSAN 0
#endif

namespace lf {

// Where a seam operation was called from. Defaulted as `site s = {}` in a parameter
// list, the builtins take the caller's file and line (g++ and clang alike), so a
// Relacy verdict names the algorithm's line, not the seam's. Production code never
// reads it and the optimiser drops it.
struct site {
  const char* file = __builtin_FILE();
  unsigned line = __builtin_LINE();
};

// Destructive-interference distance: how far apart two variables written by different
// cores must be. 128 bytes, not the 64-byte line, on x86-64 as on AArch64 and POWER: the
// L2 spatial prefetcher of Intel and AMD cores fetches lines in 128-byte aligned pairs, so
// a write to one line of a pair also disturbs the other. Measured on this project's
// 2-core AMD EPYC machine: spsc_ring 1P1C throughput went from 142 to 225 M items/s when
// its producer and consumer lines moved from 64 to 128 bytes apart.
inline constexpr std::size_t cache_line = 128;

// A value alone on its cache line(s).
template <class T>
struct alignas(cache_line) padded {
  T value;
};

namespace detail {
[[noreturn]] inline void assert_failed(const char* expr, const char* file, unsigned line) {
  std::fprintf(stderr, "%s:%u: LF_ASSERT(%s) failed\n", file, line, expr);
  std::abort();
}
}  // namespace detail

}  // namespace lf

// LF_ASSERT(x): misuse that is cheap to detect (two producers on an SPSC ring).
// LF_ASSERTS_ON is 1 where LF_ASSERT checks (debug and test builds, and the model).
#if defined(LF_MODEL_RELACY)
#define LF_ASSERTS_ON 1
#define LF_ASSERT(x) RL_ASSERT(x)
#elif !defined(NDEBUG) || defined(LF_ENABLE_ASSERT)
#define LF_ASSERTS_ON 1
#define LF_ASSERT(x) \
  ((x) ? static_cast<void>(0) : ::lf::detail::assert_failed(#x, __FILE__, __LINE__))
#else
#define LF_ASSERTS_ON 0
#define LF_ASSERT(x) static_cast<void>(0)
#endif
