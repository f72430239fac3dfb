// lf — the seam's atomics: lf::atomic<T>, lf::atomic_wide<T>, lf::fence.
//
// Production: lf::atomic<T> *is* std::atomic<T> (an alias costs nothing, and a user's
// own std::atomic can be handed to lf), lf::atomic_wide<T> is boost::atomic<T> behind a
// std::memory_order interface (16-byte CAS is lock-free there with -mcx16; std::atomic's
// is not), and lf::fence is std::atomic_thread_fence.
//
// Model (LF_MODEL_RELACY): each call reaches rl::atomic with the caller's file and line,
// so a verdict names the library line that raced. wait/notify map onto Relacy's futex;
// a lost wake-up then shows up as a deadlock verdict. The constructor's initialisation
// is a plain write there (a shadow rl::var, see `born`), so an access that no
// happens-before edge orders after the construction is a DATA RACE, as it is in C++.
//
// Progress probe (LF_PROGRESS_PROBE, the progress lane only): lf::atomic<T> is a thin
// class over std::atomic<T>, and every operation of lf::atomic, lf::atomic_wide and
// lf::fence calls the hook of sync/detail/progress_probe.hpp once it has taken effect.
#pragma once

#include <atomic>
#include <cstdint>
#include <type_traits>

#include "sync/config.hpp"
#include "sync/detail/progress_probe.hpp"

#if !defined(LF_MODEL_RELACY)
#include <boost/atomic/atomic.hpp>
#include <cstring>
#if defined(__x86_64__)
#include <cpuid.h>
#include <emmintrin.h>
#endif
#endif

namespace lf {

#if !defined(LF_MODEL_RELACY)

#if !defined(LF_PROGRESS_PROBE)

template <class T>
using atomic = std::atomic<T>;

inline void fence(std::memory_order order) noexcept { std::atomic_thread_fence(order); }

#else  // LF_PROGRESS_PROBE: std::atomic, and the hook after each operation

template <class T>
class atomic {
  using op = detail::seam_op;

 public:
  using value_type = T;
  static constexpr bool is_always_lock_free = std::atomic<T>::is_always_lock_free;

  constexpr atomic() noexcept = default;
  constexpr atomic(T v) noexcept : a_(v) {}  // NOLINT: mirrors std::atomic's converting constructor
  atomic(const atomic&) = delete;
  atomic& operator=(const atomic&) = delete;

  T load(std::memory_order o = std::memory_order_seq_cst) const noexcept { return after(a_.load(o), op::load); }
  void store(T v, std::memory_order o = std::memory_order_seq_cst) noexcept {
    a_.store(v, o);
    LF_SEAM_PROBE(op::store);
  }
  T exchange(T v, std::memory_order o = std::memory_order_seq_cst) noexcept { return after(a_.exchange(v, o), op::rmw); }
  bool compare_exchange_weak(T& e, T d, std::memory_order o = std::memory_order_seq_cst) noexcept {
    return cas(a_.compare_exchange_weak(e, d, o));
  }
  bool compare_exchange_weak(T& e, T d, std::memory_order ok, std::memory_order fail) noexcept {
    return cas(a_.compare_exchange_weak(e, d, ok, fail));
  }
  bool compare_exchange_strong(T& e, T d, std::memory_order o = std::memory_order_seq_cst) noexcept {
    return cas(a_.compare_exchange_strong(e, d, o));
  }
  bool compare_exchange_strong(T& e, T d, std::memory_order ok, std::memory_order fail) noexcept {
    return cas(a_.compare_exchange_strong(e, d, ok, fail));
  }
  template <class D>
  T fetch_add(D v, std::memory_order o = std::memory_order_seq_cst) noexcept { return after(a_.fetch_add(v, o), op::rmw); }
  template <class D>
  T fetch_sub(D v, std::memory_order o = std::memory_order_seq_cst) noexcept { return after(a_.fetch_sub(v, o), op::rmw); }
  T fetch_or(T v, std::memory_order o = std::memory_order_seq_cst) noexcept { return after(a_.fetch_or(v, o), op::rmw); }
  T fetch_and(T v, std::memory_order o = std::memory_order_seq_cst) noexcept { return after(a_.fetch_and(v, o), op::rmw); }
  void wait(T old, std::memory_order o = std::memory_order_seq_cst) const noexcept { a_.wait(old, o); }
  void notify_one() noexcept { a_.notify_one(); }
  void notify_all() noexcept { a_.notify_all(); }
  bool is_lock_free() const noexcept { return a_.is_lock_free(); }

 private:
  static T after(T v, op what) noexcept {
    LF_SEAM_PROBE(what);
    return v;
  }
  static bool cas(bool ok) noexcept {
    LF_SEAM_PROBE(detail::cas_outcome(ok));
    return ok;
  }

  std::atomic<T> a_;  // the only member: sync/wait.hpp's futex takes the word's address
};

inline void fence(std::memory_order order) noexcept {
  std::atomic_thread_fence(order);
  LF_SEAM_PROBE(detail::seam_op::fence);
}

#endif  // LF_PROGRESS_PROBE

namespace detail {
constexpr boost::memory_order to_boost(std::memory_order o) noexcept {
  switch (o) {
    case std::memory_order_relaxed: return boost::memory_order_relaxed;
    case std::memory_order_consume: return boost::memory_order_consume;
    case std::memory_order_acquire: return boost::memory_order_acquire;
    case std::memory_order_release: return boost::memory_order_release;
    case std::memory_order_acq_rel: return boost::memory_order_acq_rel;
    default: return boost::memory_order_seq_cst;
  }
}

// 16-byte loads without a locked instruction. Boost.Atomic (like std::atomic and
// libatomic before GCC 13) loads 16 bytes with lock cmpxchg16b, which writes the line:
// a reader takes it exclusive and two readers contend as two writers would. Intel (SDM
// vol. 3A, 9.1.1, since 2021) guarantees that an aligned 16-byte MOVDQA is atomic on
// every processor that reports AVX in CPUID, and AMD has stated the same for its
// processors with AVX (GCC 13's libatomic relies on both). Off under ThreadSanitizer,
// which cannot see an asm load and would lose its acquire edge.
// -DLF_WIDE_LOAD_SSE=0 turns it off.
#if !defined(LF_WIDE_LOAD_SSE)
#if defined(__x86_64__) && !LF_TSAN
#define LF_WIDE_LOAD_SSE 1
#else
#define LF_WIDE_LOAD_SSE 0
#endif
#endif

#if LF_WIDE_LOAD_SSE
inline bool wide_loads_are_atomic() noexcept {
  static const bool yes = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    return __get_cpuid(1, &a, &b, &c, &d) != 0 && (c & bit_AVX) != 0;
  }();
  return yes;
}
#endif
}  // namespace detail

// A double-width (16-byte on x86-64) atomic for tagged pointers and counted heads. On
// x86-64 with AVX its load is one plain 16-byte load (detail::wide_loads_are_atomic).
template <class T>
class atomic_wide {
  static_assert(std::is_trivially_copyable_v<T>, "lf::atomic_wide<T>: T must be trivially copyable");

 public:
  static constexpr bool is_always_lock_free = boost::atomic<T>::is_always_lock_free;

  atomic_wide() noexcept = default;
  constexpr explicit atomic_wide(T v) noexcept : a_(v) {}
  atomic_wide(const atomic_wide&) = delete;
  atomic_wide& operator=(const atomic_wide&) = delete;

  T load(std::memory_order o = std::memory_order_seq_cst) const noexcept {
#if LF_WIDE_LOAD_SSE
    if constexpr (sizeof(T) == 16) {
      if (detail::wide_loads_are_atomic()) {
        // One aligned MOVDQA: a single atomic access on these processors (see
        // wide_loads_are_atomic), and, as every x86 load, an acquire one; a seq_cst load
        // needs nothing more on x86 (the seq_cst stores and RMWs carry the fence). The
        // "memory" clobber keeps the compiler from moving accesses across it.
        static_assert(sizeof(a_) == 16 && alignof(boost::atomic<T>) >= 16);
        __m128i v;
        asm volatile("movdqa %1, %0" : "=x"(v) : "m"(*reinterpret_cast<const __m128i*>(&a_)) : "memory");
        T out;
        std::memcpy(&out, &v, sizeof out);
        LF_SEAM_PROBE(detail::seam_op::load);
        return out;
      }
    }
#endif
    const T out = a_.load(detail::to_boost(o));  // cmpxchg16b: a locked write of the line
    LF_SEAM_PROBE(detail::seam_op::load);
    return out;
  }
  void store(T v, std::memory_order o = std::memory_order_seq_cst) noexcept {
    a_.store(v, detail::to_boost(o));
    LF_SEAM_PROBE(detail::seam_op::store);
  }
  T exchange(T v, std::memory_order o = std::memory_order_seq_cst) noexcept {
    const T old = a_.exchange(v, detail::to_boost(o));
    LF_SEAM_PROBE(detail::seam_op::rmw);
    return old;
  }
  bool compare_exchange_weak(T& expected, T desired, std::memory_order success, std::memory_order failure) noexcept {
    const bool ok = a_.compare_exchange_weak(expected, desired, detail::to_boost(success), detail::to_boost(failure));
    LF_SEAM_PROBE(detail::cas_outcome(ok));
    return ok;
  }
  bool compare_exchange_strong(T& expected, T desired, std::memory_order success, std::memory_order failure) noexcept {
    const bool ok = a_.compare_exchange_strong(expected, desired, detail::to_boost(success), detail::to_boost(failure));
    LF_SEAM_PROBE(detail::cas_outcome(ok));
    return ok;
  }
  bool is_lock_free() const noexcept { return a_.is_lock_free(); }

 private:
  boost::atomic<T> a_;
};

#else  // LF_MODEL_RELACY

namespace detail {
constexpr rl::memory_order to_relacy(std::memory_order o) noexcept {
  switch (o) {
    case std::memory_order_relaxed: return rl::mo_relaxed;
    case std::memory_order_consume: return rl::mo_consume;
    case std::memory_order_acquire: return rl::mo_acquire;
    case std::memory_order_release: return rl::mo_release;
    case std::memory_order_acq_rel: return rl::mo_acq_rel;
    default: return rl::mo_seq_cst;
  }
}
// A failure order may not be release or acq_rel; derive it as std::atomic does.
constexpr std::memory_order failure_order(std::memory_order o) noexcept {
  if (o == std::memory_order_acq_rel) return std::memory_order_acquire;
  if (o == std::memory_order_release) return std::memory_order_relaxed;
  return o;
}
inline rl::debug_info info(site s) noexcept { return rl::debug_info("", s.file, s.line); }
}  // namespace detail

template <class T>
class atomic {
 public:
  static constexpr bool is_always_lock_free = true;

  atomic() noexcept : a_(T()) {}
  atomic(T v) noexcept : a_(v) {}  // NOLINT: mirrors std::atomic's converting constructor
  atomic(const atomic&) = delete;
  atomic& operator=(const atomic&) = delete;

  T load(std::memory_order o = std::memory_order_seq_cst, site s = {}) const {
    born(s);
    return a_(detail::info(s)).load(detail::to_relacy(o));
  }
  void store(T v, std::memory_order o = std::memory_order_seq_cst, site s = {}) {
    born(s);
    a_(detail::info(s)).store(v, detail::to_relacy(o));
  }
  T exchange(T v, std::memory_order o = std::memory_order_seq_cst, site s = {}) {
    born(s);
    return a_(detail::info(s)).exchange(v, detail::to_relacy(o));
  }
  bool compare_exchange_weak(T& e, T d, std::memory_order o = std::memory_order_seq_cst, site s = {}) {
    return compare_exchange_weak(e, d, o, detail::failure_order(o), s);
  }
  bool compare_exchange_weak(T& e, T d, std::memory_order ok, std::memory_order fail, site s = {}) {
    born(s);
    return a_(detail::info(s)).compare_exchange_weak(e, d, detail::to_relacy(ok), detail::to_relacy(fail));
  }
  bool compare_exchange_strong(T& e, T d, std::memory_order o = std::memory_order_seq_cst, site s = {}) {
    return compare_exchange_strong(e, d, o, detail::failure_order(o), s);
  }
  bool compare_exchange_strong(T& e, T d, std::memory_order ok, std::memory_order fail, site s = {}) {
    born(s);
    return a_(detail::info(s)).compare_exchange_strong(e, d, detail::to_relacy(ok), detail::to_relacy(fail));
  }
  using difference_type = typename rl::atomic_add_type<T>::type;

  T fetch_add(difference_type v, std::memory_order o = std::memory_order_seq_cst, site s = {}) {
    born(s);
    return a_(detail::info(s)).fetch_add(v, detail::to_relacy(o));
  }
  T fetch_sub(difference_type v, std::memory_order o = std::memory_order_seq_cst, site s = {}) {
    born(s);
    return a_(detail::info(s)).fetch_sub(v, detail::to_relacy(o));
  }
  T fetch_or(T v, std::memory_order o = std::memory_order_seq_cst, site s = {}) {
    born(s);
    return a_(detail::info(s)).fetch_or(v, detail::to_relacy(o));
  }
  T fetch_and(T v, std::memory_order o = std::memory_order_seq_cst, site s = {}) {
    born(s);
    return a_(detail::info(s)).fetch_and(v, detail::to_relacy(o));
  }

  // C++20 atomic wait, modelled on Relacy's futex (int words only: that is what the
  // futex takes, and what the library waits on).
  void wait(T old, std::memory_order o = std::memory_order_seq_cst, site s = {}) const {
    static_assert(std::is_same_v<T, int>, "lf::atomic<T>::wait under the model needs T = int");
    while (load(o, s) == old) {
      rl::rl_futex(&a_, rl::RL_FUTEX_WAIT, old, nullptr, nullptr, 0, detail::info(s));
    }
  }
  void notify_one(site s = {}) { wake(1, s); }
  void notify_all(site s = {}) { wake(1 << 30, s); }

  // The modelled word, for the seam's futex calls (sync/wait.hpp); an access like any other.
  rl::atomic<T>& model_word(site s = {}) const {
    born(s);
    return a_;
  }

 private:
  void wake(int n, site s) {
    static_assert(std::is_same_v<T, int>, "lf::atomic<T>::notify under the model needs T = int");
    born(s);
    rl::rl_futex(&a_, rl::RL_FUTEX_WAKE, n, nullptr, nullptr, 0, detail::info(s));
  }

  // The initialisation is a plain write, as std::atomic's constructor is: every access
  // must happen after it, or the program has a data race ([atomics.types.operations]:
  // the constructor's initialization is not an atomic operation). rl::atomic records its
  // initial value as a relaxed store, which no access can race with, so a node whose
  // `next` is read by a thread that never synchronized with its creator passed unseen.
  // This shadow is written by the constructor and read by every operation: Relacy then
  // reports such a read as a DATA RACE at the caller's line. A read of an rl::var is no
  // scheduling point, so the search is no larger.
  void born(site s) const { (void)init_(detail::info(s)).load(); }

  mutable rl::atomic<T> a_;
  rl::var<int> init_{0};
};

// Under the model a 16-byte word is one more rl::atomic: Relacy checks orderings and
// interleavings; lock-freedom of the hardware instruction is production's concern.
template <class T>
using atomic_wide = atomic<T>;

inline void fence(std::memory_order o, site s = {}) {
  rl::atomic_thread_fence(detail::to_relacy(o), detail::info(s));
}

#endif  // LF_MODEL_RELACY

}  // namespace lf
