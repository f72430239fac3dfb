// lf::barrier — C++20 std::barrier's interface over the barriers of the literature:
// centralized sense-reversing, dissemination, tournament and the MCS tree (Mellor-Crummey
// & Scott 1991, "Algorithms for Scalable Synchronization on Shared-Memory
// Multiprocessors", ACM TOCS 9(1); Hensgen, Finkel & Manber 1988, "Two Algorithms for
// Barrier Synchronization", IJPP 17(1)). Notes: papers/mellor-crummey-1991-barriers.md,
// papers/hensgen-1988-dissemination.md. The algorithms: patterns/detail/barrier_algorithms.hpp.
//
//   lf::barrier sync(4, [&]() noexcept { ++generation; });   // 4 parties, a completion
//   sync.arrive_and_wait();                                   // in each of the 4 threads
//   lf::barrier<lf::barrier_noop, lf::barrier_policy::tree> b(16);   // the MCS tree
//
// std::barrier's semantics kept. A phase ends when `expected` arrivals have been made;
// the completion function then runs once, on the thread that made the last arrival,
// before any waiter of that phase returns, and everything every party did before it
// arrived happens before the completion, which happens before every waiter returns.
// arrive(n) makes n arrivals and returns a token of the phase; wait(token) blocks until
// that phase has ended (at once if it has); arrive_and_drop() arrives and removes one
// party from every later phase. max() is the most parties.
//
// Beyond std (where lf differs, and why).
//   - Bad input throws std::invalid_argument naming the value: expected <= 0 or > max()
//     at construction, arrive(n) with n < 1 or (central policy) more than the phase still
//     expects. An arrival on a barrier whose parties have all dropped throws
//     std::logic_error (it would wait for ever). std makes these undefined behaviour.
//   - wait(token, ctx) / arrive_and_wait(ctx) return context_error::none when the phase
//     ended, else ctx's error as soon as ctx is done; wait_for(token, d) /
//     arrive_and_wait_for(d) return false when `d` passed first (d = duration::max() is no
//     timeout). The waiter leaves, but its arrival still counts: the phase ends when the
//     others arrive, and the token may be waited on again (tokens are copyable values).
//     arrive_and_wait(ctx) with ctx already done still arrives (a party that silently did
//     not arrive would leave the others waiting for ever), then returns at once.
//   - A completion function may throw (std requires it to be noexcept): the phase still
//     ends, the exception is stored with that phase, and every wait on that phase
//     rethrows it — arrive_and_wait, wait(token) and the status-returning waits alike
//     (the completer's own arrive_and_wait too). arrive_and_drop waits for nothing, so it
//     reports nothing. A completion that cannot throw costs nothing for this.
//   - The algorithm is a policy (barrier_policy::central, dissemination, tournament,
//     tree), so that one program can compare them. Slotted policies give each arrival a
//     participant slot per phase (claimed by arrival, see barrier_algorithms.hpp), so
//     they need no thread ids from the caller and any thread may arrive.
//
// Waiting: spin (a short while, on the phase word or, for the tree, on the slot's own
// wake flag), then park in a detail::parking_lot (futex), so a parked waiter burns no CPU.
// The completer wakes parked waiters only when there are some (one fence and one load
// otherwise).
//
// Ordering (numbers refer to the comments below).
//   (A) an arrival is an acq_rel RMW on the phase word (central) or a chain of them on
//       tagged counters (slotted, (N) in barrier_algorithms.hpp): the last arrival reads
//       every earlier one, so every party's pre-arrival writes happen before the completer
//       goes on.
//   (P) the completer publishes the next phase with a release store, after running the
//       completion (and storing its exception) and computing the next phase's parties;
//   (W) waiters read the phase word with acquire loads: a waiter that sees the new phase
//       synchronizes with (P), so the completion happens before it returns.
// Parking adds nothing to this: the parking_lot's protocol ([P1]/[P2]) only guarantees
// the wake-up; the waiter re-reads the phase word (W) after every wake-up.
//
// Progress: arrive() and arrive_and_drop() are lock-free (a CAS loop; slotted: one claim
// CAS and O(log P) counter CASes); they spin briefly only while a phase's completion is
// running. Waits block by design. Precondition (as std): no more arrivals in a phase than
// it expects (LF_ASSERT where cheap), a token is waited on only during its phase or the
// next one, and the barrier outlives its waiters (LF_ASSERT in the destructor).
//
// The model lane checks this header: verification/model/barrier_model.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "patterns/context.hpp"
#include "patterns/detail/barrier_algorithms.hpp"
#include "patterns/detail/parking_lot.hpp"
#include "sync/atomic.hpp"
#include "sync/config.hpp"
#include "sync/thread.hpp"
#include "sync/wait.hpp"

namespace lf {

// The default completion function: nothing.
struct barrier_noop {
  void operator()() const noexcept {}
};

template <class Completion = barrier_noop, class Policy = barrier_policy::central>
class barrier {
  static_assert(std::is_invocable_v<Completion&>, "lf::barrier: the completion must be callable with no arguments");

 public:
  // A phase's ticket, returned by arrive(); a small copyable value.
  class arrival_token {
   public:
    std::uint32_t phase() const noexcept { return phase_; }

   private:
    friend class barrier;
    explicit arrival_token(std::uint32_t p) noexcept : phase_(p) {}
    std::uint32_t phase_;
  };

  static constexpr std::ptrdiff_t max() noexcept { return Policy::max_parties; }

  explicit barrier(std::ptrdiff_t expected, Completion completion = Completion())
      : completion_(std::move(completion)),
        policy_(checked_parties(expected)),
        parties_(static_cast<std::uint32_t>(expected)),
        state_(detail::barrier_word(0, 0, static_cast<std::uint32_t>(expected))) {
    for (auto& d : drops_) d.store(0, std::memory_order_relaxed);  // before any sharing
  }
  barrier(const barrier&) = delete;
  barrier& operator=(const barrier&) = delete;
  // Precondition: nobody waits (LF_ASSERT).
  ~barrier() { LF_ASSERT(lot_.sleepers_approx() == 0 && "lf::barrier destroyed with waiters"); }

  [[nodiscard]] arrival_token arrive(std::ptrdiff_t n = 1) { return arrival_token(arrive_n(n, false).phase); }

  // Blocks until the token's phase has ended; rethrows that phase's completion exception.
  void wait(arrival_token t) const {
    (void)await(t.phase_, no_slot, wait_clock::time_point::max(), nullptr);
    rethrow_if_failed(t.phase_);
  }

  // As wait(t), or ctx's error once ctx is done (the arrival still counts).
  [[nodiscard]] context_error wait(arrival_token t, const context& ctx) const {
    return status(t.phase_, await(t.phase_, no_slot, wait_clock::time_point::max(), &ctx), ctx);
  }

  // As wait(t), or false once `d` has passed (the arrival still counts). Negative d throws.
  template <class Rep, class Period>
  [[nodiscard]] bool wait_for(arrival_token t, const std::chrono::duration<Rep, Period>& d) const {
    const auto deadline = deadline_after("lf::barrier::wait_for: d", d);
    return timed(t.phase_, await(t.phase_, no_slot, deadline, nullptr));
  }

  void arrive_and_wait() {
    const arrival a = arrive_n(1, false);
    (void)await(a.phase, a.slot, wait_clock::time_point::max(), nullptr, a.parties);
    rethrow_if_failed(a.phase);
  }

  [[nodiscard]] context_error arrive_and_wait(const context& ctx) {
    const arrival a = arrive_n(1, false);
    return status(a.phase, await(a.phase, a.slot, wait_clock::time_point::max(), &ctx, a.parties), ctx);
  }

  template <class Rep, class Period>
  [[nodiscard]] bool arrive_and_wait_for(const std::chrono::duration<Rep, Period>& d) {
    const auto deadline = deadline_after("lf::barrier::arrive_and_wait_for: d", d);
    const arrival a = arrive_n(1, false);
    return timed(a.phase, await(a.phase, a.slot, deadline, nullptr, a.parties));
  }

  // Arrives, and removes one party from every later phase.
  void arrive_and_drop() { (void)arrive_n(1, true); }

 private:
  static constexpr std::uint32_t no_slot = ~std::uint32_t{0};
  enum class outcome { ended, canceled, timed_out };

  struct arrival {
    std::uint32_t phase;
    std::uint32_t slot;     // slotted policies: the last slot claimed
    std::uint32_t parties;  // slotted policies: the phase's parties
  };

  static std::size_t checked_parties(std::ptrdiff_t expected) {
    if (expected <= 0 || expected > max()) {
      throw std::invalid_argument("lf::barrier: expected = " + std::to_string(expected) + " (must be in [1, " +
                                  std::to_string(max()) + "])");
    }
    return static_cast<std::size_t>(expected);
  }

  [[noreturn]] static void no_parties_left() {
    throw std::logic_error("lf::barrier: arrival after every party dropped (it would wait for ever)");
  }

  // Inlines to a compare and a branch; the message is built out of line.
  static void check_n(std::ptrdiff_t n) {
    if (n < 1 || n > max()) [[unlikely]] bad_n(n);
  }
  [[noreturn, gnu::cold, gnu::noinline]] static void bad_n(std::ptrdiff_t n) {
    throw std::invalid_argument("lf::barrier::arrive: n = " + std::to_string(n) + " (must be in [1, " +
                                std::to_string(max()) + "])");
  }

  arrival arrive_n(std::ptrdiff_t n, bool drop) {
    check_n(n);
    if constexpr (Policy::slotted) {
      return arrive_slotted(static_cast<std::uint32_t>(n), drop);
    } else {
      return arrive_central(static_cast<std::uint32_t>(n), drop);
    }
  }

  arrival arrive_central(std::uint32_t n, bool drop) {
    std::uint64_t s = state_.load(std::memory_order_relaxed);  // relaxed: the CAS (A) decides
    lf::backoff spin;
    for (;;) {
      const std::uint32_t left = detail::barrier_low(s);
      if (left == 0) {  // the phase is completing (or no parties are left)
        if (detail::barrier_mid(s) == detail::barrier_no_parties) no_parties_left();
        spin.pause();
        s = state_.load(std::memory_order_relaxed);
        continue;
      }
      if (n > left) {
        throw std::invalid_argument("lf::barrier::arrive: n = " + std::to_string(n) + " but the phase expects only " +
                                    std::to_string(left) + " more arrivals");
      }
      const std::uint64_t next = s - n + (drop ? std::uint64_t{1} << 20 : 0);
      // (A) acq_rel: publishes this party's writes to the completer; the completer's
      // acquire half takes every earlier arrival's (they form one RMW chain).
      if (state_.compare_exchange_weak(s, next, std::memory_order_acq_rel, std::memory_order_relaxed)) break;
    }
    const std::uint32_t phase = detail::barrier_phase(s);
    if (detail::barrier_low(s) == n) {
      const std::uint32_t dropped = detail::barrier_mid(s) + (drop ? 1 : 0);
      const std::uint32_t next_parties = parties_ - dropped;
      parties_ = next_parties;  // only completers touch it; the phase chain orders them
      complete(phase, detail::barrier_word(detail::barrier_next_phase(phase),
                                           next_parties == 0 ? detail::barrier_no_parties : 0, next_parties));
    }
    return {phase, no_slot, 0};
  }

  arrival arrive_slotted(std::uint32_t n, bool drop) {
    std::uint64_t s = state_.load(std::memory_order_acquire);  // (W) acquire: the phase's parties
    lf::backoff spin;
    for (;;) {
      const std::uint32_t parties = detail::barrier_low(s);
      if (parties == 0) no_parties_left();
      if (n > parties) {
        throw std::invalid_argument("lf::barrier::arrive: n = " + std::to_string(n) + " exceeds the phase's " +
                                    std::to_string(parties) + " parties");
      }
      const std::uint32_t phase = detail::barrier_phase(s);
      std::uint32_t slot = 0;
      if (!policy_.claim(phase, parties, slot)) {  // the phase is full: wait for the next
        spin.pause();
        s = state_.load(std::memory_order_acquire);  // (W)
        continue;
      }
      // The first slot is ours for this phase, so the phase cannot end before we arrive;
      // a drop counted now is counted in this phase. The arrival (N) publishes it.
      if (drop) drops_[phase & 1].fetch_add(1, std::memory_order_relaxed);
      bool completed = policy_.arrive(phase, parties, slot);
      for (std::uint32_t i = 1; i < n; ++i) {
        const bool more = policy_.claim(phase, parties, slot);
        LF_ASSERT(more && "lf::barrier: more arrivals than the phase expects");
        if (!more) break;
        completed = policy_.arrive(phase, parties, slot) || completed;
      }
      if (completed) {
        // relaxed: every dropper's add happens before its arrival (N), which we acquired;
        // phase+2's droppers cannot start before we publish phase+1 (P).
        const std::uint32_t dropped = drops_[phase & 1].exchange(0, std::memory_order_relaxed);
        const std::uint32_t next_parties = parties - dropped;
        complete(phase, detail::barrier_word(detail::barrier_next_phase(phase), 0, next_parties));
      }
      return {phase, slot, parties};
    }
  }

  // The last arrival of `phase`: runs the completion, then publishes the next phase.
  void complete(std::uint32_t phase, std::uint64_t next_word) {
    run_completion(phase);
    publish(next_word);
  }

  void run_completion(std::uint32_t phase) {
    if constexpr (std::is_nothrow_invocable_v<Completion&>) {
      completion_();
    } else {
      try {
        completion_();
        errors_[phase & 1] = nullptr;
      } catch (...) {
        errors_[phase & 1] = std::current_exception();
      }
    }
  }

  void publish(std::uint64_t next_word) {
    state_.store(next_word, std::memory_order_release);  // (P) release: the completion; pairs with (W)
    if constexpr (Policy::slotted) policy_.released(detail::barrier_phase(next_word));
    lot_.unpark_parked();
  }

  // (W) acquire: pairs with (P).
  bool ended(std::uint32_t phase) const { return detail::barrier_phase(state_.load(std::memory_order_acquire)) != phase; }

#if defined(LF_MODEL_RELACY)
  static constexpr int spin_limit = 1;  // under the model: exercise the parking path
#else
  static constexpr int spin_limit = 4096;  // ~10-40 µs of pauses: a few phases of a busy team
#endif

  outcome await(std::uint32_t phase, std::uint32_t slot, wait_clock::time_point deadline, const context* ctx,
                std::uint32_t parties = 0) const {
    const std::uint32_t next = detail::barrier_next_phase(phase);
    outcome o = spin_then_park(phase, slot, next, deadline, ctx);
    if constexpr (Policy::slotted) {
      if (o == outcome::ended && slot != no_slot) policy_.pass_on(slot, parties, next);
    }
    return o;
  }

  outcome spin_then_park(std::uint32_t phase, std::uint32_t slot, std::uint32_t next, wait_clock::time_point deadline,
                         const context* ctx) const {
    for (int i = 0; i < spin_limit; ++i) {
      if constexpr (Policy::wake_tree) {
        // The tree's waiter watches its own flag and looks at the shared word only when
        // the flag says so, or every 64 rounds; other policies watch the word.
        if (slot == no_slot || policy_.woken(slot, next) || (i & 63) == 63) {
          if (ended(phase)) return outcome::ended;
        }
      } else {
        if (ended(phase)) return outcome::ended;
      }
      lf::spin_pause();
    }
    if (ctx == nullptr || ctx->done().never()) return park(phase, deadline, nullptr);
    auto wake = [this]() noexcept { lot_.unpark_all(); };
    context_callback<decltype(wake)> hook(ctx->done(), wake);
    return park(phase, deadline, ctx);
  }

  outcome park(std::uint32_t phase, wait_clock::time_point deadline, const context* ctx) const {
    for (;;) {
      if (ended(phase)) return outcome::ended;
      if (ctx != nullptr && ctx->done()) return outcome::canceled;
      const bool in_time =
          lot_.park_until([&] { return ended(phase) || (ctx != nullptr && ctx->done().ready()); }, deadline);
      if (!in_time) return ended(phase) ? outcome::ended : outcome::timed_out;
    }
  }

  void rethrow_if_failed(std::uint32_t phase) const {
    if constexpr (!std::is_nothrow_invocable_v<Completion&>) {
      // Written by the phase's completer before (P), which the waiter acquired (W); the
      // slot is rewritten only two phases later, after this waiter's next arrival.
      if (errors_[phase & 1] != nullptr) std::rethrow_exception(errors_[phase & 1]);
    }
  }

  context_error status(std::uint32_t phase, outcome o, const context& ctx) const {
    if (o == outcome::ended) {
      rethrow_if_failed(phase);
      return context_error::none;
    }
    return ctx.err();
  }

  bool timed(std::uint32_t phase, outcome o) const {
    if (o != outcome::ended) return false;
    rethrow_if_failed(phase);
    return true;
  }

  Completion completion_;
  mutable Policy policy_;  // the tree's waiters pass the wake-up on
  std::uint32_t parties_;  // central: this phase's parties; only completers touch it
  lf::atomic<std::uint32_t> drops_[2];  // slotted: arrive_and_drop calls, by phase parity
  std::exception_ptr errors_[2];
  alignas(cache_line) lf::atomic<std::uint64_t> state_;
  mutable detail::parking_lot lot_;
};

}  // namespace lf
