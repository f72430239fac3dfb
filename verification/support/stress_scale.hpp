// Test support: how many items a stress test moves. Sanitizers slow these loops 5-20x,
// so sanitized builds move a tenth (or a fifth) of the plain count.
#pragma once

#include <cstdint>

#include "sync/config.hpp"

namespace lf::test {

#if LF_ASAN || LF_TSAN
inline constexpr bool sanitized = true;
#else
inline constexpr bool sanitized = false;
#endif

// `plain` items in an unsanitized build, `under_sanitizer` (200'000 unless said) otherwise.
constexpr std::uint64_t stress_items(std::uint64_t plain, std::uint64_t under_sanitizer = 200'000) {
  return sanitized ? under_sanitizer : plain;
}

}  // namespace lf::test
