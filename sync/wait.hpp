// lf — the seam's parking word: wait on an lf::atomic<int> with or without a deadline,
// and the wakes that pair with it.
//
// lf::atomic<int>::wait / notify_* (C++20) have no timed form, and blocking code needs one
// (a channel's recv_for, a context's deadline). These functions park on the word itself:
//   futex_wait(word, old)                 returns once word != old was seen, or spuriously
//   futex_wait_until(word, old, deadline) the same, or false once the deadline has passed
//   futex_wake_one(word) / futex_wake_all(word)
// Rules. A word parked on with futex_wait* must be woken with futex_wake_*: libstdc++'s
// notify_* skips the system call when its own waiter count is zero, so it would not wake
// a futex_wait. Like every futex, a wait may return spuriously: callers loop on their
// condition. The value check and the sleep are one atomic step (the kernel's), so a wake
// issued after the store that changes the word is never lost.
//
// Production: Linux futex(2), private to the process, FUTEX_WAIT_BITSET with an absolute
// CLOCK_MONOTONIC deadline (std::chrono::steady_clock is CLOCK_MONOTONIC on Linux).
// Model (LF_MODEL_RELACY): Relacy's futex; a timed wait may time out at any step of the
// schedule, which is what a deadline means to the algorithm that waits.
#pragma once

#include <chrono>
#include <climits>
#include <ctime>
#include <stdexcept>
#include <string>

#include "sync/atomic.hpp"
#include "sync/config.hpp"

#if !defined(LF_MODEL_RELACY)
#if !defined(__linux__)
#error "sync/wait.hpp: futex-based waiting is implemented for Linux only"
#endif
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace lf {

using wait_clock = std::chrono::steady_clock;

// The deadline `d` from now, for every "…_for(d)" of the library: `what` names the caller
// and the parameter in the error ("lf::with_timeout: timeout"). A negative `d` (or NaN) throws std::invalid_argument naming the value.
// The sum saturates at time_point::max(), which every wait reads as "no deadline": Go's
// and C++'s idiom for "no timeout" is a huge duration (hours::max(), seconds::max()),
// and `now() + d` would wrap it into the past, and its conversion to the clock's
// nanoseconds alone overflows past 292 years.
template <class Rep, class Period>
wait_clock::time_point deadline_after(const char* what, const std::chrono::duration<Rep, Period>& d) {
  if (!(d >= d.zero())) {
    throw std::invalid_argument(std::string(what) + " = " + std::to_string(std::chrono::duration<double>(d).count()) +
                                " s (must be >= 0)");
  }
  const wait_clock::time_point now = wait_clock::now();
  const wait_clock::duration room = wait_clock::time_point::max() - now;
  // long double holds every 64-bit count exactly, so the comparison is in no unit that
  // could overflow, whatever d's period is.
  using exact_seconds = std::chrono::duration<long double>;
  if (exact_seconds(d) >= exact_seconds(room)) return wait_clock::time_point::max();
  const wait_clock::duration step = std::chrono::ceil<wait_clock::duration>(d);
  return step >= room ? wait_clock::time_point::max() : now + step;
}

#if !defined(LF_MODEL_RELACY)

namespace detail {
static_assert(sizeof(lf::atomic<int>) == sizeof(int), "the futex word is the atomic's int");

inline int* futex_address(const lf::atomic<int>& word) noexcept {
  return const_cast<int*>(reinterpret_cast<const int*>(&word));
}

inline long futex(const lf::atomic<int>& word, int op, int val, const timespec* t, unsigned bitset) noexcept {
  return ::syscall(SYS_futex, futex_address(word), op | FUTEX_PRIVATE_FLAG, val, t, nullptr, bitset);
}
}  // namespace detail

inline void futex_wait(const lf::atomic<int>& word, int old) noexcept {
  detail::futex(word, FUTEX_WAIT, old, nullptr, 0);
}

// False once `deadline` has passed; true when woken (or spuriously) before it.
// time_point::max() is no deadline at all.
inline bool futex_wait_until(const lf::atomic<int>& word, int old, wait_clock::time_point deadline) noexcept {
  if (deadline == wait_clock::time_point::max()) {
    futex_wait(word, old);
    return true;
  }
  const auto since_epoch = deadline.time_since_epoch();
  if (since_epoch.count() < 0) return false;
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - secs);
  timespec t{static_cast<time_t>(secs.count()), static_cast<long>(nanos.count())};
  if (detail::futex(word, FUTEX_WAIT_BITSET, old, &t, FUTEX_BITSET_MATCH_ANY) == 0) return true;
  return wait_clock::now() < deadline;  // EAGAIN (word changed) and EINTR count as woken
}

inline void futex_wake_one(lf::atomic<int>& word) noexcept { detail::futex(word, FUTEX_WAKE, 1, nullptr, 0); }
inline void futex_wake_all(lf::atomic<int>& word) noexcept { detail::futex(word, FUTEX_WAKE, INT_MAX, nullptr, 0); }

#else  // LF_MODEL_RELACY

inline void futex_wait(const lf::atomic<int>& word, int old, site s = {}) {
  rl::rl_futex(&word.model_word(s), rl::RL_FUTEX_WAIT, old, nullptr, nullptr, 0, detail::info(s));
}
inline bool futex_wait_until(const lf::atomic<int>& word, int old, wait_clock::time_point deadline, site s = {}) {
  if (deadline == wait_clock::time_point::max()) {
    futex_wait(word, old, s);
    return true;
  }
  const timespec any{0, 1};  // Relacy only asks whether there is a timeout, not how long
  return rl::rl_futex(&word.model_word(s), rl::RL_FUTEX_WAIT, old, &any, nullptr, 0, detail::info(s)) !=
         rl::RL_ETIMEDOUT;
}
inline void futex_wake_one(lf::atomic<int>& word, site s = {}) {
  rl::rl_futex(&word.model_word(s), rl::RL_FUTEX_WAKE, 1, nullptr, nullptr, 0, detail::info(s));
}
inline void futex_wake_all(lf::atomic<int>& word, site s = {}) {
  rl::rl_futex(&word.model_word(s), rl::RL_FUTEX_WAKE, 1 << 30, nullptr, nullptr, 0, detail::info(s));
}

#endif  // LF_MODEL_RELACY

}  // namespace lf
