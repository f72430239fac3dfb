// lf::rate_limiter — Go's golang.org/x/time/rate token bucket in C++, on one CAS word:
// the generic cell rate algorithm (GCRA, ATM Forum TM 4.0, 1996) keeps the bucket as
// a single time instead of a count and a time. Note: papers/atm-1996-gcra.md.
//
//   lf::rate_limiter lim(lf::rate_limit(100), 10);   // 100 events/s, bursts of 10
//   if (lim.allow()) serve();                          // drop what exceeds the rate
//   lf::reservation r = lim.reserve_n(now, 3);         // or queue for it ...
//   if (r.ok()) { sleep_for(r.delay_from(now)); act(); }
//   if (lim.wait(ctx) == lf::rate_error::none) act();  // ... or block until it is due
//
// The bucket holds up to burst() tokens, starts full and refills at limit() tokens per
// second; allow_n takes n tokens now or fails, reserve_n takes them now even if that
// drives the count negative (that is how reservations queue: the caller waits until
// the debt is repaid), wait_n reserves and sleeps. Time is a steady_clock time_point
// passed in (the *_at / (t, n) forms), so tests run on a fake clock.
//
// x/time/rate's rules kept (each is a unit test in verification/unit/rate_limiter_test.cpp):
//   - A failed reservation (n > burst, or a wait past the allowed maximum) changes nothing.
//   - n > burst() is never OK, except under an infinite limit, which ignores the burst,
//     lets everything through at once and makes cancel a no-op. burst 0 lets nothing
//     through (n = 0 is always OK, as in Go).
//   - cancel_at(t) gives back the reservation's tokens minus those reserved after it
//     (the reservations queued past its time to act), capped at burst, and does
//     nothing once the reservation's time to act is before t.
//   - set_limit_at / set_burst_at first bring the bucket up to t under the old settings.
// Where lf differs from x/time/rate 0.3.0, and why.
//   - Limit 0: the bucket never refills. allow_n/reserve_n/wait_n succeed while the
//     tokens left (the burst the bucket started with, or what it held when the limit
//     became 0) cover n, and then never: reserve_n returns a reservation that is not OK
//     and wait_n returns rate_error::would_exceed_deadline at once. x/time/rate before
//     0.3 reported OK with an infinite delay (a trap: Delay() = 292 years); 0.3 spends
//     burst() itself, so burst() shrinks and a later set_limit finds the burst gone.
//     lf spends the bucket's tokens and leaves burst() alone.
//   - A time earlier than one already seen does not move the state back: the bucket is
//     a function of time (GCRA's arrival time), so a stale t sees what the bucket held
//     then, minus what was taken since. x/time/rate rewinds its `last` field, and the
//     next call counts the same interval twice (free tokens).
//   - Resolution: the bucket is kept as a time in units of 2^-32 ns; a token costs
//     ceil(1e9 / limit ns) in those units, delays are rounded down to whole ns (as
//     x/time/rate truncates them), and a debt under 1 ns does not delay allow. So lf
//     admits at most burst + limit * (elapsed + 1 ns + burst * 2^-32 ns) events; where
//     x/time/rate counts float64 tokens, tokens() and delays can differ from its by a
//     rounding (a nanosecond of delay, a last bit of tokens).
//   - cancel measures "reserved after" from the bucket itself (its debt past the
//     reservation's time to act) rather than from x/time/rate's lastEvent field, which
//     a set_limit or another cancel leaves stale. After a set_limit/set_burst since the
//     reservation, the bucket has been rebased and the reservation's place in the queue
//     is no longer known, so cancel counts the whole debt still queued as reserved after
//     it: it may give back less than x/time/rate, never more (x/time/rate converts
//     with the old limit and can give back either). A reservation made under an infinite
//     limit took nothing and gives nothing back; x/time/rate's gives back n tokens if
//     the limit has become finite since. A reservation is move-only and cancels once
//     (x/time/rate's second Cancel gives the tokens back twice).
//   - Bad arguments throw std::invalid_argument naming the field: a NaN or negative
//     limit, a negative burst or n. (Go takes a negative n as a gift of tokens.)
//   - wait_n returns a status, not an exception: a context that is cancelled or whose
//     deadline comes first is an ordinary outcome of a wait in a service (Go returns an
//     error; lf's weighted_semaphore::acquire(ctx) answers the same way). Likewise
//     n > burst: the burst may change at run time, so it is a status, not a bad argument.
//
// Design. The bucket is z, the instant at which it held (or will hold) zero tokens:
// tokens(t) = min(burst, (t - z) / per_token). Taking n tokens at t is
//     z' = max(z, t - cap) + n * per_token       (cap = burst * per_token: a full
//                                                  bucket holds no more)
// and the reservation's time to act is max(t, z'). z (64.32 fixed point) and a 32-bit
// configuration generation share one 16-byte word (lf::atomic_wide): allow = one load
// of the word, plain loads of the configuration's slot, one CAS. Under a limit of 0 the
// word holds the token count (a double) instead of z; under an infinite limit nothing
// is written. Why 16 bytes and not 8: z needs 63 bits of ns and 32 of fraction to keep
// the resolution above, and the generation must change with every set_* (see below);
// an 8-byte word would trade one for a coarser cost (1 ns units make 3e8/s admit
// 2.5e8/s) or for a moving base that some caller must re-establish. The 16-byte CAS
// costs ~11 ns here (against ~2.5 for 8 bytes; AMD EPYC, measured), about a quarter of
// an uncontended allow; the clock read is half.
//
// The configuration (limit, burst and the derived per_token) lives in two
// slots; generation g uses slot g % 2. set_limit / set_burst (rare, serialised by a lock
// that callers of allow/reserve never take) fill the other slot and then move the word
// from {z, g} to {z rebased to the new settings, g + 1} by CAS. So:
//   - No token is lost or granted by a concurrent set_*: every reservation and every
//     set_* is one CAS on the same word, and each CAS expects the generation whose
//     settings it computed with. A reservation computed under g whose CAS comes after
//     the set_* fails (the generation moved on) and recomputes under g + 1; a set_* whose
//     CAS comes after a reservation fails and rebases the bucket that includes it. The
//     rebase keeps tokens(t) (rounded down to a 2^-32 ns unit of the new settings), so in the
//     order the CASes took, each step is the sequential algorithm. (ABA would need
//     2^32 set_* calls between one reservation's load and its CAS, and z unchanged.)
//   - A reader never acts on torn settings: slot g % 2 is rewritten only by the writer
//     of g + 2, after the word has left g (so a reservation's CAS expecting g fails), and
//     the slot is a seqlock (its gen field is cleared before and set after the fields), so
//     a reader that decides without a CAS (a denial) sees gen != g and retries.
// Ordering (numbers refer to the comments below): (W1) the writer's slot stores and
// (W2) its release CAS publish the new slot; (R1) a reader's acquire load of the word
// (or a CAS that fails and reloads it) pairs with (W2) — RMWs on the word extend its
// release sequence, so a reader that sees a later reservation's CAS still synchronises
// with (W2); (R2) the reader's acquire fence after the slot loads pairs with the
// writer's release fence (W0) of a later overwrite. Tokens are not data: a successful
// allow publishes nothing, so no other ordering is needed.
//
// Progress: allow/reserve/cancel are lock-free (the CAS retries only when another thread
// changed the word); tokens/limit/burst are wait-free unless a set_* is mid-write;
// set_limit/set_burst take a lock among themselves; wait_n blocks by design.
//
// The model lane checks this header: verification/model/rate_limiter_model.cpp.
#pragma once

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "patterns/context.hpp"
#include "patterns/detail/channel_core.hpp"
#include "sync/atomic.hpp"
#include "sync/config.hpp"
#include "sync/wait.hpp"

namespace lf {

// Events per second (x/time/rate's Limit). inf() lets everything through; 0 none beyond
// the burst. Constructing from NaN or a negative number throws, naming the limit.
class rate_limit {
 public:
  constexpr rate_limit() noexcept = default;
  explicit rate_limit(double per_second) : v_(per_second) {
    if (!(per_second >= 0)) {
      throw std::invalid_argument("lf::rate_limit: limit = " + std::to_string(per_second) +
                                  " events/s (must be >= 0, not NaN)");
    }
  }
  static constexpr rate_limit inf() noexcept { return rate_limit(std::numeric_limits<double>::infinity(), 0); }

  constexpr double per_second() const noexcept { return v_; }
  constexpr bool is_inf() const noexcept { return v_ == std::numeric_limits<double>::infinity(); }
  friend constexpr bool operator==(rate_limit, rate_limit) noexcept = default;

 private:
  constexpr rate_limit(double v, int) noexcept : v_(v) {}
  double v_ = 0;
};

// One event per `interval` (x/time/rate's Every); an interval <= 0 is inf().
template <class Rep, class Period>
rate_limit every(std::chrono::duration<Rep, Period> interval) {
  if (interval <= interval.zero()) return rate_limit::inf();
  return rate_limit(1 / std::chrono::duration<double>(interval).count());
}

// wait_n's answer.
enum class rate_error {
  none,                   // the tokens are taken and due: act
  canceled,               // ctx was cancelled (before or while waiting): nothing held
  deadline_exceeded,      // ctx's deadline passed (before or while waiting): nothing held
  would_exceed_deadline,  // the tokens would not be due before ctx's deadline (or never, at
                          // limit 0): returned at once, nothing taken
  exceeds_burst,          // n > burst() under a finite limit: can never be granted
};

constexpr const char* to_string(rate_error e) noexcept {
  switch (e) {
    case rate_error::none: return "none";
    case rate_error::canceled: return "context canceled";
    case rate_error::deadline_exceeded: return "context deadline exceeded";
    case rate_error::would_exceed_deadline: return "rate: wait would exceed context deadline";
    case rate_error::exceeds_burst: return "rate: wait(n) exceeds limiter's burst";
  }
  return "?";
}

class rate_limiter;

namespace detail {
// Bucket time in units of 2^-32 ns (a 64.32 fixed point): fine enough that a token's
// cost is exact to 2^-32 ns at any limit up to 1e18/s, so `burst` single events fit a
// full bucket exactly as one event of `burst` tokens does.
using rate_fine = __int128;
}  // namespace detail

// What reserve_n granted: ok(), when to act, and the way to give the tokens back.
// Move-only: it cancels at most once. It refers to its limiter, which must outlive any
// cancel (as a waiter in wait_n must not outlive the limiter it waits on).
class reservation {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  reservation(reservation&& o) noexcept { *this = std::move(o); }
  reservation& operator=(reservation&& o) noexcept {
    lim_ = o.lim_;
    n_ = o.n_;
    time_to_act_ = o.time_to_act_;
    due_ = o.due_;
    gen_ = o.gen_;
    ok_ = o.ok_;
    took_ = o.took_;
    o.took_ = false;
    return *this;
  }
  reservation(const reservation&) = delete;
  reservation& operator=(const reservation&) = delete;

  bool ok() const noexcept { return ok_; }
  std::int64_t tokens() const noexcept { return ok_ ? n_ : 0; }
  // When the tokens are due (meaningful only if ok()).
  time_point time_to_act() const noexcept { return time_point(std::chrono::nanoseconds(time_to_act_)); }
  // How long from t until the tokens are due: 0 if already due; nanoseconds::max()
  // (x/time/rate's InfDuration) if !ok().
  std::chrono::nanoseconds delay_from(time_point t) const noexcept;
  std::chrono::nanoseconds delay() const { return delay_from(std::chrono::steady_clock::now()); }
  // Gives the tokens back as far as later reservations allow (see the header comment).
  void cancel_at(time_point t);
  void cancel() { cancel_at(std::chrono::steady_clock::now()); }

 private:
  friend class rate_limiter;
  reservation(rate_limiter* lim, bool ok, bool took, std::int64_t n, std::int64_t tta, detail::rate_fine due,
              std::uint32_t gen) noexcept
      : lim_(lim), n_(n), time_to_act_(tta), due_(due), gen_(gen), ok_(ok), took_(took) {}

  rate_limiter* lim_ = nullptr;
  std::int64_t n_ = 0;
  std::int64_t time_to_act_ = 0;  // ns since the steady clock's epoch, rounded down
  detail::rate_fine due_ = 0;     // the same, exact (fine units)
  std::uint32_t gen_ = 0;         // the limiter's configuration generation when reserved
  bool ok_ = false;
  bool took_ = false;  // ok, took tokens from the bucket (limit not infinite), not yet cancelled
};

class rate_limiter {
 public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  // A full bucket of `burst` tokens refilled at `limit`. Throws std::invalid_argument
  // for a negative burst.
  rate_limiter(rate_limit limit, std::int64_t burst) {
    check_burst("lf::rate_limiter", burst);
    write_slot(0, limit, burst);
    const config c = make_config(limit, burst);
    // relaxed: not yet shared. The bucket is full at every time: z = the earliest time.
    state_.store(c.m == mode::zero ? zero_state(static_cast<double>(burst), 0) : full_state(0),
                 std::memory_order_relaxed);
  }
  rate_limiter(const rate_limiter&) = delete;
  rate_limiter& operator=(const rate_limiter&) = delete;

  rate_limit limit() const noexcept { return snapshot().second.limit; }
  std::int64_t burst() const noexcept { return snapshot().second.burst; }

  // Tokens in the bucket at t (negative while reservations queue).
  double tokens_at(time_point t) const noexcept {
    const auto [s, c] = snapshot();
    return tokens_of(s, c, fine_of(ns(t)));
  }
  double tokens() const noexcept { return tokens_at(clock::now()); }

  // allow(), reserve() and wait() read the clock after loading the bucket (and again if
  // their CAS fails), so a caller preempted between the two is never judged by a stale
  // time; the (t, n) forms take the caller's t as given.
  bool allow() { return take_if_due(now_reader{}, 1, "lf::rate_limiter::allow"); }
  // Whether n tokens are available at t; takes them if so.
  bool allow_n(time_point t, std::int64_t n) { return take_if_due(fixed_time{t}, n, "lf::rate_limiter::allow_n"); }

  reservation reserve() { return take(now_reader{}, 1, i64_max, i64_max, "lf::rate_limiter::reserve"); }
  // Takes n tokens at t, due at the returned time_to_act; not ok() (and nothing taken)
  // when n > burst() under a finite limit, or, at limit 0, when the tokens left are fewer.
  reservation reserve_n(time_point t, std::int64_t n) {
    return take(fixed_time{t}, n, i64_max, i64_max, "lf::rate_limiter::reserve_n");
  }

  [[nodiscard]] rate_error wait(const context& ctx) { return wait_n(ctx, 1); }
  // Blocks until n tokens are due (x/time/rate's WaitN): rate_error::none when they are.
  // A context already done, or n > burst(), or tokens not due before ctx's deadline:
  // the error at once, nothing taken. Cancelled while waiting: gives the tokens back.
  [[nodiscard]] rate_error wait_n(const context& ctx, std::int64_t n);

  void set_limit(rate_limit limit) { set_limit_at(clock::now(), limit); }
  void set_limit_at(time_point t, rate_limit limit) {
    detail::lock_guard lock(writer_);
    const config old = snapshot().second;  // under the lock: only we change the settings
    reconfigure(t, limit, old.burst);
  }
  void set_burst(std::int64_t burst) { set_burst_at(clock::now(), burst); }
  void set_burst_at(time_point t, std::int64_t burst) {
    check_burst("lf::rate_limiter::set_burst", burst);
    detail::lock_guard lock(writer_);
    const config old = snapshot().second;
    reconfigure(t, old.limit, burst);
  }

 private:
  friend class reservation;
  using fine = detail::rate_fine;
  static constexpr std::int64_t i64_max = std::numeric_limits<std::int64_t>::max();
  static constexpr fine one_ns = fine(1) << 32;
  // Every time_point, in fine units, lies in [fine_min, fine_max]; z is kept there too
  // (fine_max: "never"). Costs saturate at fine_huge, so sums stay far inside __int128.
  static constexpr fine fine_min = fine(std::numeric_limits<std::int64_t>::min()) * one_ns;
  static constexpr fine fine_max = fine(i64_max) * one_ns + (one_ns - 1);
  static constexpr fine fine_huge = fine(1) << 100;

  // The word: z (finite limit) as 64.32 fixed point in level:frac, or the token count's
  // bits (limit 0) in level; gen: the configuration generation, whose slot is gen % 2.
  // 32 bits of generation wrap after 2^32 set_* calls; a reservation would have to stall
  // between its load and its CAS through all of them, and find z unchanged, to be fooled.
  struct state {
    std::int64_t level;
    std::uint32_t frac;
    std::uint32_t gen;
    friend bool operator==(const state&, const state&) = default;
    template <class Stream>  // the model checker prints the values it traces
    friend Stream& operator<<(Stream& os, const state& s) {
      return os << s.level << '.' << s.frac << '@' << s.gen;
    }
  };
  enum class mode : std::uint8_t { finite, zero, infinite };
  struct config {
    rate_limit limit;
    std::int64_t burst = 0;
    fine per_token = 0;  // ceil(1e9 / limit ns * 2^32): what one token costs (finite mode)
    mode m = mode::finite;
    fine cap() const noexcept { return cost(burst, per_token); }  // the most z may lag t
  };
  // A seqlock: gen is no_gen while the writer fills the fields.
  static constexpr std::uint64_t no_gen = ~std::uint64_t{0};
  struct slot {
    lf::atomic<std::uint64_t> gen{no_gen};
    lf::atomic<std::uint64_t> limit_bits{0};
    lf::atomic<std::int64_t> burst{0};
    lf::atomic<std::uint64_t> per_token_lo{0};
    lf::atomic<std::uint64_t> per_token_hi{0};
  };

  static std::int64_t ns(time_point t) noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }
  static fine fine_of(std::int64_t ns) noexcept { return fine(ns) * one_ns; }
  static fine clamp(fine v) noexcept { return v <= fine_min ? fine_min + 1 : (v > fine_max ? fine_max : v); }
  static fine fine_floor(double x) noexcept {  // x finite or not, saturating at +-fine_huge
    if (!(x < 1.2676506002282294e30)) return x != x ? 0 : fine_huge;  // 2^100
    if (x <= -1.2676506002282294e30) return -fine_huge;
    return static_cast<fine>(std::floor(x));
  }
  // n tokens' cost: n * per_token, saturating.
  static fine cost(std::int64_t n, fine per_token) noexcept {
    using u128 = unsigned __int128;
    const auto lo = static_cast<std::uint64_t>(per_token);
    if (static_cast<u128>(per_token) >> 64 == 0) {  // every limit above 0.24/s: one multiply
      const u128 product = static_cast<u128>(lo) * static_cast<std::uint64_t>(n);
      return product > static_cast<u128>(fine_huge) ? fine_huge : static_cast<fine>(product);
    }
    if (n == 0) return 0;
    return per_token > fine_huge / n ? fine_huge : per_token * n;
  }
  static state fine_state(fine z, std::uint32_t gen) noexcept {
    z = clamp(z);
    return state{static_cast<std::int64_t>(z >> 32), static_cast<std::uint32_t>(z & (one_ns - 1)), gen};
  }
  // The word {i64 min, 0} is "full at every time" (a new limiter): z far below any t - cap.
  // fine_state never stores it for a real z (the clamp starts one unit above).
  static constexpr state full_state(std::uint32_t gen) noexcept { return state{std::numeric_limits<std::int64_t>::min(), 0, gen}; }
  static fine z_of(const state& s) noexcept {
    if (s.level == std::numeric_limits<std::int64_t>::min() && s.frac == 0) return -(fine(1) << 110);
    return fine(s.level) * one_ns + fine(s.frac);
  }
  static state zero_state(double tokens, std::uint32_t gen) noexcept {
    return state{std::bit_cast<std::int64_t>(tokens), 0, gen};
  }
  static double zero_tokens(const state& s) noexcept { return std::bit_cast<double>(s.level); }
  // fine units to whole ns, rounded down, saturating (x/time/rate truncates delays too).
  static std::int64_t whole_ns(fine v) noexcept {
    const fine q = v >> 32;
    return q > i64_max ? i64_max : (q < -i64_max - 1 ? -i64_max - 1 : static_cast<std::int64_t>(q));
  }

  // The checks inline to a compare and a branch; the messages are built out of line.
  static void check_burst(const char* what, std::int64_t burst) {
    if (burst < 0) [[unlikely]] throw_negative(what, "burst", burst);
  }
  static void check_n(const char* what, std::int64_t n) {
    if (n < 0) [[unlikely]] throw_negative(what, "n", n);
  }
  [[noreturn, gnu::cold, gnu::noinline]] static void throw_negative(const char* what, const char* field,
                                                                    std::int64_t v) {
    throw std::invalid_argument(std::string(what) + ": " + field + " = " + std::to_string(v) + " (must be >= 0)");
  }

  static config make_config(rate_limit limit, std::int64_t burst) noexcept {
    config c;
    c.limit = limit;
    c.burst = burst;
    if (limit.is_inf()) {
      c.m = mode::infinite;
    } else if (limit.per_second() == 0) {
      c.m = mode::zero;
    } else {
      c.m = mode::finite;
      // ceil(1e9 * 2^32 / limit), in long double (64-bit mantissa) so that the quotient is
      // within a fraction of a unit before ceil: costs are never below the limit's.
      const long double units = std::ceil(4294967296e9L / static_cast<long double>(limit.per_second()));
      c.per_token = units < 1.2676506002282294e30L ? std::max<fine>(1, static_cast<fine>(units)) : fine_huge;
    }
    return c;
  }

  static double tokens_of(const state& s, const config& c, fine t) noexcept {
    const double burst = static_cast<double>(c.burst);
    switch (c.m) {
      case mode::infinite: return burst;
      case mode::zero: return std::min(burst, zero_tokens(s));
      case mode::finite: break;
    }
    const fine credit = t - z_of(s);
    if (credit >= c.cap()) return burst;
    return std::min(burst, static_cast<double>(credit) / static_cast<double>(c.per_token));
  }

  // Under writer_ (or before sharing): fills the slot of generation g. (W0) release
  // fence: a reader that loads any field stored here sees gen = no_gen after its (R2).
  void write_slot(std::uint32_t g, rate_limit limit, std::int64_t burst) noexcept {
    const config c = make_config(limit, burst);
    slot& s = slots_[g % 2];
    s.gen.store(no_gen, std::memory_order_relaxed);  // relaxed: ordered by (W0)
    lf::fence(std::memory_order_release);            // (W0) pairs with (R2)
    // relaxed: published by the gen store (W1) and by the word's CAS (W2).
    s.limit_bits.store(std::bit_cast<std::uint64_t>(c.limit.per_second()), std::memory_order_relaxed);
    s.burst.store(c.burst, std::memory_order_relaxed);
    s.per_token_lo.store(static_cast<std::uint64_t>(c.per_token), std::memory_order_relaxed);
    s.per_token_hi.store(static_cast<std::uint64_t>(c.per_token >> 64), std::memory_order_relaxed);
    s.gen.store(g, std::memory_order_release);  // (W1) the slot is whole again
  }

  // Reads the slot of generation g; false if a writer has been at it since (retry).
  bool read_slot(std::uint32_t g, config& c) const noexcept {
    const slot& s = slots_[g % 2];
    // relaxed: the word's acquire (R1) made generation g's stores visible; (R2) below
    // detects a later writer's.
    const double limit = std::bit_cast<double>(s.limit_bits.load(std::memory_order_relaxed));
    c.burst = s.burst.load(std::memory_order_relaxed);
    const std::uint64_t lo = s.per_token_lo.load(std::memory_order_relaxed);
    const std::uint64_t hi = s.per_token_hi.load(std::memory_order_relaxed);
    lf::fence(std::memory_order_acquire);                           // (R2) pairs with (W0)
    if (s.gen.load(std::memory_order_relaxed) != g) return false;  // relaxed: ordered by (R2)
    c.per_token = static_cast<fine>((static_cast<unsigned __int128>(hi) << 64) | lo);
    if (limit == std::numeric_limits<double>::infinity()) {
      c.limit = rate_limit::inf();
      c.m = mode::infinite;
    } else {
      c.limit = rate_limit(limit);
      c.m = limit == 0 ? mode::zero : mode::finite;
    }
    return true;
  }

  // A consistent {word, settings} pair.
  std::pair<state, config> snapshot() const noexcept {
    config c;
    for (;;) {
      const state s = state_.load(std::memory_order_acquire);  // (R1) pairs with (W2)
      if (read_slot(s.gen, c)) return {s, c};
    }
  }

  // Every change to the bucket: step(s, c) computes the next word from a consistent
  // {word, settings} pair and returns {next, answer}; a next equal to s (nothing to
  // write, linearised at the load) returns the answer at once, else the CAS decides.
  template <class Step>
  auto update(Step step) {
    state s = state_.load(std::memory_order_acquire);  // (R1) pairs with (W2)
    config c;
    for (;;) {
      if (!read_slot(s.gen, c)) {
        s = state_.load(std::memory_order_acquire);  // (R1)
        continue;
      }
      auto [next, answer] = step(s, c);
      if (next == s) return answer;
      // (R1) acquire on failure: the reloaded word may carry a new generation. Success
      // publishes nothing (tokens are not data); acquire keeps the CAS's orders alike.
      if (state_.compare_exchange_weak(s, next, std::memory_order_acquire, std::memory_order_acquire)) return answer;
    }
  }

  struct fixed_time {
    time_point t;
    time_point operator()() const noexcept { return t; }
  };
  struct now_reader {
    time_point operator()() const noexcept { return clock::now(); }
  };

  // allow / allow_n: take's answer for max_wait 0 and no deadline, without building a
  // reservation. The same protocol as update() (one acquire load, the slot, one CAS) with
  // the finite limit's step written out, so that the common call is inlined whole; the
  // other modes, rare, go through take.
  template <class Time>
  bool take_if_due(Time time_of, std::int64_t n, const char* what) {
    check_n(what, n);
    state s = state_.load(std::memory_order_acquire);  // (R1): allow's load, pairs with (W2)
    config c;
    fine t = 0;
    bool have_t = false;
    bool t_after_load = false;  // t was read after s was loaded
    for (;;) {
      if (!read_slot(s.gen, c)) {
        s = state_.load(std::memory_order_acquire);  // (R1)
        continue;
      }
      if (c.m != mode::finite) [[unlikely]] return take(time_of, n, 0, i64_max, what).ok();
      // The clock is read after the first load (see allow()). A CAS that failed because
      // another caller took tokens retries with the same t, a moment of this call: no
      // clock read (~25 ns) widens the window in which the next CAS can fail (with two
      // callers on two cores that re-read made most CASes fail). A grant at that t is
      // what the sequential algorithm grants at it; a denial is judged only at a t read
      // after the state it denies on, so a caller stalled since its clock read is not
      // refused for the stall.
      if (!have_t) t = fine_of(ns(time_of())), have_t = t_after_load = true;
      // Denied (n > burst, or not due within 1 ns: wait > 0): linearised at the load.
      if (n > c.burst) return false;
      const fine z = taken(s, c, t, n);
      if (z - t >= one_ns) {
        if (t_after_load) return false;
        t = fine_of(ns(time_of())), t_after_load = true;
        continue;
      }
      const state next = fine_state(z, s.gen);
      if (next == s) return true;
      // (R1) acquire on failure, as in update(); success publishes nothing.
      if (state_.compare_exchange_weak(s, next, std::memory_order_acquire, std::memory_order_acquire)) return true;
      t_after_load = false;  // s is newer than t now
    }
  }

  // The finite limit's step: the bucket's z after taking n tokens at t (x/time/rate's
  // advance then reserve): z' = max(z, t - cap) + cost(n).
  static fine taken(const state& s, const config& c, fine t, std::int64_t n) noexcept {
    return clamp(std::max(z_of(s), t - c.cap()) + cost(n, c.per_token));
  }

  // The heart of allow / reserve / wait: takes n tokens at the time `time_of` gives if
  // they are due within max_wait ns and by `deadline` (ns since the clock's epoch;
  // x/time/rate's reserveN). A failure changes nothing.
  template <class Time>
  reservation take(Time time_of, std::int64_t n, std::int64_t max_wait, std::int64_t deadline, const char* what) {
    check_n(what, n);
    std::int64_t t_ns = 0;
    fine t = 0;
    struct answer {
      bool ok;
      bool took;
      fine due;
      std::uint32_t gen;
    };
    const answer a = update([&](const state& s, const config& c) -> std::pair<state, answer> {
      t_ns = ns(time_of());  // after the load: see allow()
      t = fine_of(t_ns);
      const answer no{false, false, 0, s.gen};
      switch (c.m) {
        case mode::infinite: return {s, answer{true, false, t, s.gen}};  // changes nothing
        case mode::zero: {
          const double have = std::min(static_cast<double>(c.burst), zero_tokens(s));
          if (n > c.burst || have < static_cast<double>(n)) return {s, no};
          return {zero_state(have - static_cast<double>(n), s.gen), answer{true, n != 0, t, s.gen}};
        }
        case mode::finite: break;
      }
      // z' = max(z, t - cap) + cost(n): refill up to the burst, then take n.
      const fine z = taken(s, c, t, n);
      const fine due = std::max(t, z);
      const std::int64_t wait = whole_ns(due - t);
      std::int64_t until_deadline;
      if (__builtin_sub_overflow(deadline, t_ns, &until_deadline)) until_deadline = deadline > t_ns ? i64_max : -1;
      if (n > c.burst || wait > max_wait || wait > until_deadline) return {s, no};
      return {fine_state(z, s.gen), answer{true, n != 0, due, s.gen}};
    });
    // t_ns + whole_ns(due - t) cannot pass i64 max: due <= fine_max.
    return reservation(this, a.ok, a.took, n, a.ok ? t_ns + whole_ns(a.due - t) : 0, a.due, a.gen);
  }

  // cancel_at's work at t: gives back n tokens that were due at `due` under generation
  // `gen`, less the debt queued past `due` (the tokens reserved after them; after a
  // rebase, the whole debt past t), capped at the burst.
  void give_back(std::int64_t t_ns, std::int64_t n, fine due, std::uint32_t gen) noexcept {
    const fine t = fine_of(t_ns);
    update([&](const state& s, const config& c) -> std::pair<state, bool> {
      switch (c.m) {
        case mode::infinite: return {s, true};  // x/time/rate: nothing to give back under Inf
        case mode::zero:                        // nothing queues at limit 0
          return {zero_state(std::min(static_cast<double>(c.burst), zero_tokens(s) + static_cast<double>(n)), s.gen),
                  true};
        case mode::finite: break;
      }
      const fine z = z_of(s);
      const fine restore = cost(n, c.per_token) - std::max<fine>(0, z - (s.gen == gen ? due : t));
      if (restore <= 0) return {s, true};
      const fine full = t - c.cap();
      return {fine_state(std::max(full, std::max(z, full) - restore), s.gen), true};
    });
  }

  // Under writer_: brings the bucket to t under the current settings, then moves the
  // word to the next generation with the new ones, keeping tokens(t).
  void reconfigure(time_point tp, rate_limit limit, std::int64_t burst) {
    const fine t = fine_of(ns(tp));
    auto [s, old] = snapshot();
    const std::uint32_t next_gen = s.gen + 1;
    write_slot(next_gen, limit, burst);  // the slot of s.gen - 1: nobody may use it any more
    const config c = make_config(limit, burst);
    for (;;) {
      state next{0, 0, next_gen};
      switch (c.m) {
        case mode::infinite: break;
        case mode::zero: next = zero_state(tokens_of(s, old, t), next_gen); break;  // capped at the old burst
        case mode::finite: {
          // The credit t - z, capped at the old burst (x/time/rate's advance), in the new
          // units, rounded down: a rebase never grants a fraction of a token.
          fine credit;
          if (old.m == mode::finite) {
            const fine had = std::min(t - z_of(s), old.cap());
            credit = fine_floor(static_cast<double>(had) *
                                (static_cast<double>(c.per_token) / static_cast<double>(old.per_token)));
          } else {
            credit = fine_floor(tokens_of(s, old, t) * static_cast<double>(c.per_token));
          }
          next = fine_state(t - std::min(credit, c.cap()), next_gen);
          break;
        }
      }
      // (W2) release: publishes slot next_gen (W1) to every reader that loads this word.
      if (state_.compare_exchange_weak(s, next, std::memory_order_release, std::memory_order_relaxed)) return;
    }
  }

  alignas(cache_line) lf::atomic_wide<state> state_;
  slot slots_[2];
  detail::chan_lock writer_;
};

inline std::chrono::nanoseconds reservation::delay_from(time_point t) const noexcept {
  if (!ok_) return std::chrono::nanoseconds::max();
  const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  std::int64_t d;
  if (__builtin_sub_overflow(time_to_act_, now, &d)) d = time_to_act_ > now ? std::numeric_limits<std::int64_t>::max() : 0;
  return std::chrono::nanoseconds(d > 0 ? d : 0);
}

inline void reservation::cancel_at(time_point t) {
  if (!took_) return;
  const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  if (time_to_act_ < now) return;  // already due: the tokens were (or may have been) used
  took_ = false;
  lim_->give_back(now, n_, due_, gen_);
}

inline rate_error rate_limiter::wait_n(const context& ctx, std::int64_t n) {
  check_n("lf::rate_limiter::wait_n", n);
  const auto exceeds_burst = [this, n] {
    const config c = snapshot().second;
    return n > c.burst && c.m != mode::infinite;
  };
  if (exceeds_burst()) return rate_error::exceeds_burst;
  const auto ctx_error = [&ctx] {
    return ctx.err() == context_error::canceled ? rate_error::canceled : rate_error::deadline_exceeded;
  };
  if (ctx.done()) return ctx_error();
  const std::int64_t deadline = ctx.deadline() ? ns(*ctx.deadline()) : i64_max;
  reservation r = take(now_reader{}, n, i64_max, deadline, "lf::rate_limiter::wait_n");
  if (!r.ok()) return exceeds_burst() ? rate_error::exceeds_burst : rate_error::would_exceed_deadline;
  if (r.time_to_act_ <= ns(clock::now())) return rate_error::none;
  if (!ctx.done().wait_until(r.time_to_act())) return rate_error::none;
  r.cancel();
  return ctx_error();
}

}  // namespace lf
