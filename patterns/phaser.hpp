// lf::phaser — java.util.concurrent.Phaser (Java 7, Doug Lea) in C++: a reusable barrier
// whose parties register and deregister while it runs.
//
//   lf::phaser ph(1);                        // the coordinator is a party
//   for (auto& task : tasks) {
//     ph.register_party();                   // each worker joins the current phase
//     pool.submit([&] { step(); ph.arrive_and_deregister(); });
//   }
//   ph.arrive_and_await_advance();           // waits for every registered worker
//
// Java's semantics kept.
//   - register_party() / bulk_register(n) add unarrived parties to the current phase;
//     arrive() counts one arrival without waiting; arrive_and_deregister() arrives and
//     leaves for good; the arrival that leaves no party unarrived advances the phase, and
//     the new phase expects every registered party again.
//   - When an advance finds no registered party left, the phaser terminates: every waiter
//     returns, registration and arrival have no effect, and the phase-returning calls
//     return a negative number (the phase with the sign bit set, Java's phase +
//     Integer.MIN_VALUE). force_termination() terminates at once.
//   - Phase numbers run 0 .. max_phase (2^31 - 1) and wrap to 0; only equality is ever
//     asked of them, so the wrap is harmless (await_advance(p) compares p with the current
//     phase).
//   - await_advance(p) returns at once with the current phase if it is not p (or p if p is
//     negative), else waits for the advance and returns the new phase.
//   - arrive_and_await_advance() returns the phase that began (Java's implementation does
//     the same, though its documentation says "the arrival phase number").
// Where lf differs, and why.
//   - No onAdvance override (a C++ class is not subclassed for behaviour): termination is
//     "no parties left" or force_termination(). No tiering (parent phasers).
//   - Misuse throws: arrive on a phaser with no unarrived party -> std::logic_error (Java's
//     IllegalStateException); bulk_register(n) with n < 0 -> std::invalid_argument; more
//     than max_parties -> std::length_error, each naming the value.
//   - await_advance(p, ctx) also returns once ctx is done (std::nullopt), Java's
//     awaitAdvanceInterruptibly.
//
// Design: Java's one state word, made explicit. Bits: 63 terminated, 62..32 phase,
// 31..16 parties, 15..0 unarrived. Every change is one CAS on it, and the advance is part
// of the last arrival's CAS, so no registration can slip between "everyone arrived" and
// "the next phase began". Waiters park in a detail::parking_lot after a short spin.
//
// Ordering. (A) every arrival, registration and termination is an acq_rel CAS: the
// arrivals of a phase form one RMW chain, so the advancing CAS happens after each of them
// and everything before it. (W) a waiter's acquire load that reads the advanced (or a
// later) value synchronizes with the advancing CAS, hence with every arrival of the phase.
// The parking_lot's [P1]/[P2] only guarantee the wake-up (the advancer calls
// unpark_parked after its CAS).
//
// Progress: register, arrive and deregister are lock-free (a CAS loop); waits block by
// design. The model lane checks this header: verification/model/barrier_model.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "patterns/context.hpp"
#include "patterns/detail/parking_lot.hpp"
#include "sync/atomic.hpp"
#include "sync/config.hpp"
#include "sync/thread.hpp"
#include "sync/wait.hpp"

namespace lf {

class phaser {
 public:
  static constexpr int max_parties = 0xffff;
  static constexpr int max_phase = 0x7fffffff;

  explicit phaser(int parties = 0) : phaser(parties, 0) {}
  // Starts numbering at `first_phase` (in [0, max_phase]): for tests of the wrap, and for
  // code that resumes a numbering.
  phaser(int parties, int first_phase) : state_(initial(parties, first_phase)) {}
  phaser(const phaser&) = delete;
  phaser& operator=(const phaser&) = delete;
  ~phaser() { LF_ASSERT(lot_.sleepers_approx() == 0 && "lf::phaser destroyed with waiters"); }

  // Adds one unarrived party to the current phase; returns that phase (negative if terminated).
  int register_party() { return bulk_register(1); }

  int bulk_register(int n) {
    if (n < 0) throw std::invalid_argument("lf::phaser::bulk_register: n = " + std::to_string(n) + " (must be >= 0)");
    std::uint64_t s = state_.load(std::memory_order_relaxed);  // relaxed: the CAS (A) decides
    for (;;) {
      if (terminated(s)) return negative(s);
      if (parties(s) + static_cast<std::uint32_t>(n) > max_parties) {
        throw std::length_error("lf::phaser::bulk_register: n = " + std::to_string(n) + " with " +
                                std::to_string(parties(s)) + " parties registered (at most " +
                                std::to_string(max_parties) + ")");
      }
      const std::uint64_t add = (std::uint64_t{static_cast<std::uint32_t>(n)} << 16) | static_cast<std::uint32_t>(n);
      // (A) acq_rel: one chain with the arrivals of the phase.
      if (state_.compare_exchange_weak(s, s + add, std::memory_order_acq_rel, std::memory_order_relaxed)) {
        return phase_of(s);
      }
    }
  }

  // One arrival, no wait; returns the arrival phase (negative if terminated).
  int arrive() { return arrive_impl(false); }

  // Arrives and deregisters; returns the arrival phase (negative if terminated).
  int arrive_and_deregister() { return arrive_impl(true); }

  // Arrives and waits for the advance; returns the phase that began (negative if terminated).
  int arrive_and_await_advance() {
    const int p = arrive_impl(false);
    return p < 0 ? p : await_advance(p);
  }

  // Waits while the current phase is `phase`; returns the current phase (negative if terminated).
  int await_advance(int phase) const {
    if (phase < 0) return phase;
    return *await(phase, nullptr);
  }

  // As await_advance(phase), or std::nullopt once ctx is done.
  [[nodiscard]] std::optional<int> await_advance(int phase, const context& ctx) const {
    if (phase < 0) return phase;
    if (ctx.done().never()) return await(phase, nullptr);
    auto wake = [this]() noexcept { lot_.unpark_all(); };
    context_callback<decltype(wake)> hook(ctx.done(), wake);
    return await(phase, &ctx);
  }

  // Terminates now: waiters return, later calls have no effect.
  void force_termination() {
    // (A) acq_rel, as every change of the word.
    const std::uint64_t old = state_.fetch_or(terminated_bit, std::memory_order_acq_rel);
    if (!terminated(old)) lot_.unpark_parked();
  }

  // Snapshots.
  int phase() const { return current(state_.load(std::memory_order_acquire)); }  // (W)
  bool is_terminated() const { return terminated(state_.load(std::memory_order_acquire)); }  // (W)
  int registered_parties() const { return static_cast<int>(parties(state_.load(std::memory_order_relaxed))); }
  int unarrived_parties() const { return static_cast<int>(unarrived(state_.load(std::memory_order_relaxed))); }
  int arrived_parties() const {
    const std::uint64_t s = state_.load(std::memory_order_relaxed);  // relaxed: a snapshot
    return static_cast<int>(parties(s) - unarrived(s));
  }

 private:
  static constexpr std::uint64_t terminated_bit = std::uint64_t{1} << 63;

  static std::uint64_t initial(int parties, int first_phase) {
    if (parties < 0 || parties > max_parties) {
      throw std::invalid_argument("lf::phaser: parties = " + std::to_string(parties) + " (must be in [0, " +
                                  std::to_string(max_parties) + "])");
    }
    if (first_phase < 0) {
      throw std::invalid_argument("lf::phaser: first_phase = " + std::to_string(first_phase) + " (must be in [0, " +
                                  std::to_string(max_phase) + "])");
    }
    const auto p = static_cast<std::uint64_t>(parties);
    return (static_cast<std::uint64_t>(first_phase) << 32) | (p << 16) | p;
  }

  static bool terminated(std::uint64_t s) noexcept { return (s & terminated_bit) != 0; }
  static int phase_of(std::uint64_t s) noexcept { return static_cast<int>((s >> 32) & max_phase); }
  static std::uint32_t parties(std::uint64_t s) noexcept { return static_cast<std::uint32_t>(s >> 16) & 0xffff; }
  static std::uint32_t unarrived(std::uint64_t s) noexcept { return static_cast<std::uint32_t>(s) & 0xffff; }
  static int negative(std::uint64_t s) noexcept {
    return static_cast<int>(static_cast<std::uint32_t>(phase_of(s)) | 0x80000000u);
  }
  static int current(std::uint64_t s) noexcept { return terminated(s) ? negative(s) : phase_of(s); }

  int arrive_impl(bool deregister) {
    std::uint64_t s = state_.load(std::memory_order_relaxed);  // relaxed: the CAS (A) decides
    for (;;) {
      if (terminated(s)) return negative(s);
      const std::uint32_t left = unarrived(s);
      if (left == 0) {
        throw std::logic_error("lf::phaser: arrival with no unarrived party (" + std::to_string(parties(s)) +
                               " registered)");
      }
      std::uint32_t p = parties(s) - (deregister ? 1 : 0);
      std::uint64_t next = 0;
      if (left > 1) {
        next = s - 1 - (deregister ? std::uint64_t{1} << 16 : 0);
      } else {  // the last arrival: advance in the same CAS
        const auto next_phase = static_cast<std::uint64_t>((phase_of(s) + 1u) & max_phase);
        next = (next_phase << 32) | (std::uint64_t{p} << 16) | p | (p == 0 ? terminated_bit : 0);
      }
      // (A) acq_rel: publishes this party's writes; the advancing CAS takes them all.
      if (state_.compare_exchange_weak(s, next, std::memory_order_acq_rel, std::memory_order_relaxed)) {
        if (left == 1) lot_.unpark_parked();
        return phase_of(s);
      }
    }
  }

#if defined(LF_MODEL_RELACY)
  static constexpr int spin_limit = 1;
#else
  static constexpr int spin_limit = 4096;
#endif

  // (W) acquire: pairs with the advancing CAS (A).
  bool advanced(int phase) const {
    const std::uint64_t s = state_.load(std::memory_order_acquire);
    return terminated(s) || phase_of(s) != phase;
  }

  std::optional<int> await(int phase, const context* ctx) const {
    for (int i = 0; i < spin_limit && !advanced(phase); ++i) lf::spin_pause();
    for (;;) {
      if (advanced(phase)) return current(state_.load(std::memory_order_acquire));  // (W)
      if (ctx != nullptr && ctx->done()) return std::nullopt;
      lot_.park_until([&] { return advanced(phase) || (ctx != nullptr && ctx->done().ready()); });
    }
  }

  alignas(cache_line) lf::atomic<std::uint64_t> state_;
  mutable detail::parking_lot lot_;
};

}  // namespace lf
