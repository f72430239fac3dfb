// fuzz lane: the pattern objects that carry time, one thread, against sequential models.
//
//   lf::context          a tree of up to 12 contexts (with_cancel, with_cancel_cause,
//                        with_timeout of 0 / 1 h / duration::max / negative, with_deadline
//                        in the past or at time_point::max, with_value, without_cancel,
//                        with_stop_token), cancelled in random order, handles dropped
//                        while children live, after_func registered and stopped. The model:
//                        err() and cause() of every node (a parent's cancel reaches every
//                        cancellable descendant not done yet, with its error and cause; a
//                        child never cancels its parent; the first error stays), deadline(),
//                        stop_token(), and how many after_funcs have run. Contexts use the
//                        steady clock (the API takes no clock), so the fuzz only uses
//                        deadlines that are decided when made: passed (done at once,
//                        deadline_exceeded), none (max), or an hour away (never reached
//                        within a run of milliseconds).
//   lf::rate_limiter     every *_at form on a fixed clock: a limit of 0 (an integer count
//                        of tokens that never refills, wait_n decided at once, with no
//                        context, a timeout of duration::max, or a cancelled one), inf
//                        (everything passes, n as large as int64 allows), and a finite
//                        limit that divides 1e9 (a token costs a whole number of ns, so the
//                        GCRA state z is exact in integer ns: allow_n, reserve_n with
//                        delay_from, cancel_at, time going backwards), plus the extremes
//                        (time_point::min/max, n and burst at INT64_MAX, tiny and huge
//                        limits), where only the invariants are checked: nothing throws that
//                        is not documented, a denied reservation delays nanoseconds::max(),
//                        tokens never exceed the burst. The differential test in
//                        verification/unit/rate_limiter_test.cpp checks x/time/rate's
//                        arithmetic at ordinary values; this model is for the edges.
//   lf::circuit_breaker  basic_circuit_breaker on a fake clock (verification/support):
//                        gobreaker's closed / open / half-open machine with max_requests
//                        0..3, a timeout and an optional fixed counting interval, tokens
//                        reported late (an older generation's outcome is dropped), dropped
//                        (an exclusion), and the manual states (forced_open, disabled,
//                        metrics_only, reset). The model keeps the counts and the state and
//                        predicts every on_state_change call.
// Bad input in each: a negative timeout, an empty after_func; a NaN or negative limit, a
// negative burst or n; breaker settings out of range. Each must throw the documented
// exception naming the value and leave the object as it was.
//
// Budget: 9'000 inputs of up to 512 bytes (about 1 M operations): about 4 s of CPU
// under ASan+UBSan on the 2-core machine. Each object gets 3'000 inputs; a context tree
// reaches its 12 nodes and is cancelled down in most, a limiter crosses empty and full
// many times per input, and a breaker trips, probes and closes several times per input.
// Seen to fail: with the breaker's half-open admission off by one (requests - exclusions
// <= max), and with context's cancel not passing the cause to children.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "patterns/circuit_breaker.hpp"
#include "patterns/context.hpp"
#include "patterns/rate_limiter.hpp"
#include "verification/fuzz/fuzz.hpp"
#include "verification/support/fake_clock.hpp"

namespace {

using namespace std::chrono_literals;
using lf::fuzz::input;
using lf::fuzz::throws_naming;

// ---- lf::context -----------------------------------------------------------------------

struct request_id {
  using value_type = std::string;
};

// One node of the tree and what the model says of it.
struct ctx_node {
  lf::context ctx;
  std::optional<lf::cancel_func> cancel;
  std::optional<lf::cancel_cause_func> cancel_cause;
  std::optional<std::stop_source> stop;
  int canceler = -1;   // the node whose cancellation this one follows (itself if it has a
                       // cancel of its own); -1: never done
  int parent_canceler = -1;  // for a cancellable node: whose cancellation reaches it
  bool dropped = false;      // the handles are gone (children keep the node alive)
  lf::context_error err = lf::context_error::none;  // meaningful when canceler == self
  int cause = -1;            // the given cause's number, -1: none (context_done_error)
  std::optional<lf::wait_clock::time_point> deadline;
  std::string value;         // request_id, "" if none
};

struct after_reg {
  lf::after_func_handle handle;
  int canceler;  // -1: never runs
  bool ran = false, stopped = false;
};

void context_case(input& in) {
  int ran = 0;  // after_funcs that ran (the real count); outlives every registration
  std::vector<ctx_node> nodes;
  std::vector<after_reg> afters;
  int next_cause = 0;
  const auto hour = lf::wait_clock::now() + 1h;  // never reached within a run

  auto state_of = [&](int c) -> const ctx_node* { return c < 0 ? nullptr : &nodes[static_cast<std::size_t>(c)]; };
  // The model's cancel: c and every cancellable descendant not done yet; after_funcs run.
  auto cancel_model = [&](auto& self, int c, lf::context_error e, int cause) -> void {
    ctx_node& n = nodes[static_cast<std::size_t>(c)];
    if (n.err != lf::context_error::none) return;
    n.err = e;
    n.cause = cause;
    for (after_reg& a : afters) {
      if (a.canceler == c && !a.ran && !a.stopped) a.ran = true;
    }
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      if (nodes[i].parent_canceler == c && nodes[i].canceler == static_cast<int>(i)) self(self, static_cast<int>(i), e, cause);
    }
  };
  auto pick_live = [&]() -> int {  // -1: background
    const std::size_t k = in.pick(nodes.size() + 1);
    if (k == nodes.size() || nodes[k].dropped) return -1;
    return static_cast<int>(k);
  };

  auto make_child = [&] {
    if (nodes.size() >= 12) return;
    const int p = pick_live();
    const lf::context parent = p < 0 ? lf::background() : nodes[static_cast<std::size_t>(p)].ctx;
    const int pc = p < 0 ? -1 : nodes[static_cast<std::size_t>(p)].canceler;
    const auto pdeadline = p < 0 ? std::nullopt : nodes[static_cast<std::size_t>(p)].deadline;
    const std::string pvalue = p < 0 ? "" : nodes[static_cast<std::size_t>(p)].value;
    const int self = static_cast<int>(nodes.size());
    ctx_node n;
    n.canceler = self;
    n.parent_canceler = pc;
    n.deadline = pdeadline;
    n.value = pvalue;
    bool passed = false;  // own deadline already passed
    switch (in.pick(10)) {
      case 0:
      case 1: {
        auto [c, f] = lf::with_cancel(parent);
        n.ctx = c;
        n.cancel = f;
        break;
      }
      case 2: {
        auto [c, f] = lf::with_cancel_cause(parent);
        n.ctx = c;
        n.cancel_cause = f;
        break;
      }
      case 3: {  // zero: done at once, deadline now; duration::max: no deadline at all
        const bool zero = in.coin();
        const auto before = lf::wait_clock::now();
        auto [c, f] = zero ? lf::with_timeout(parent, 0ns) : lf::with_timeout(parent, std::chrono::nanoseconds::max());
        n.ctx = c;
        n.cancel = f;
        if (zero && !(pdeadline && *pdeadline <= before)) {
          const auto d = c.deadline();
          LF_FUZZ_CHECK(d && *d >= before && *d <= lf::wait_clock::now());
          n.deadline = d;
          passed = true;
        }
        break;
      }
      case 4: {  // an hour away, or time_point::min (passed), or max (none); a parent's earlier one wins
        const lf::wait_clock::time_point d[] = {hour, lf::wait_clock::time_point::min(), lf::wait_clock::time_point::max()};
        const std::size_t k = in.pick(3);
        auto [c, f] = lf::with_deadline(parent, d[k]);
        n.ctx = c;
        n.cancel = f;
        if (k != 2 && !(pdeadline && *pdeadline <= d[k])) {
          n.deadline = d[k];
          passed = k == 1;
        }
        break;
      }
      case 5: {  // bad: a negative timeout
        const auto neg = in.coin() ? -1ns : std::chrono::nanoseconds::min();
        LF_FUZZ_CHECK(throws_naming<std::invalid_argument>([&] { (void)lf::with_timeout(parent, neg); }, "timeout"));
        return;
      }
      case 6: {
        n.value = "r-" + std::to_string(self);
        n.ctx = lf::with_value(parent, request_id{}, n.value);
        n.canceler = pc;  // a value node is done when its parent is
        n.parent_canceler = -1;
        break;
      }
      case 7: {
        n.ctx = lf::without_cancel(parent);
        n.canceler = -1;
        n.parent_canceler = -1;
        n.deadline = std::nullopt;
        break;
      }
      default: {
        n.stop.emplace();
        if (in.pick(4) == 0) n.stop->request_stop();  // requested before: done at once
        auto [c, f] = lf::with_stop_token(parent, n.stop->get_token());
        n.ctx = c;
        n.cancel = f;
        break;
      }
    }
    nodes.push_back(std::move(n));
    ctx_node& m = nodes.back();
    if (m.canceler == self) {
      const ctx_node* par = state_of(pc);
      if (par != nullptr && par->err != lf::context_error::none) {
        m.err = par->err;  // made from a done parent: done at once, the parent's error wins
        m.cause = par->cause;
      } else if (passed) {
        m.err = lf::context_error::deadline_exceeded;
      } else if (m.stop && m.stop->stop_requested()) {
        m.err = lf::context_error::canceled;
      }
    }
  };

  auto cancel = [&] {
    if (nodes.empty()) return;
    const int i = static_cast<int>(in.pick(nodes.size()));
    ctx_node& n = nodes[static_cast<std::size_t>(i)];
    if (n.cancel) {
      (*n.cancel)();
      cancel_model(cancel_model, i, lf::context_error::canceled, -1);
    } else if (n.cancel_cause) {
      const int c = next_cause++;
      (*n.cancel_cause)(std::make_exception_ptr(std::runtime_error("cause-" + std::to_string(c))));
      cancel_model(cancel_model, i, lf::context_error::canceled, c);
    }
    if (n.stop && in.coin()) {  // the token's request cancels (canceled, no cause)
      n.stop->request_stop();
      cancel_model(cancel_model, i, lf::context_error::canceled, -1);
    }
  };

  auto drop = [&] {  // let go of a node's handles; its children keep it alive
    if (nodes.empty()) return;
    ctx_node& n = nodes[in.pick(nodes.size())];
    n.ctx = lf::background();
    n.cancel.reset();
    n.cancel_cause.reset();
    n.dropped = true;
  };

  auto after = [&] {
    const int i = pick_live();
    const lf::context c = i < 0 ? lf::background() : nodes[static_cast<std::size_t>(i)].ctx;
    if (in.pick(8) == 0) {
      LF_FUZZ_CHECK(throws_naming<std::invalid_argument>(
          [&] { (void)lf::after_func(c, std::function<void()>()); }, "empty"));
      return;
    }
    const int owner = i < 0 ? -1 : nodes[static_cast<std::size_t>(i)].canceler;
    const ctx_node* o = state_of(owner);
    const bool done = o != nullptr && o->err != lf::context_error::none;
    afters.push_back({lf::after_func(c, [&ran]() noexcept { ++ran; }), owner, done, false});
  };

  auto stop = [&] {
    if (afters.empty()) return;
    after_reg& a = afters[in.pick(afters.size())];
    const bool kept = a.handle.stop();
    LF_FUZZ_CHECK(kept == (!a.ran && !a.stopped));
    if (kept) a.stopped = true;
  };

  auto check = [&] {
    int expected_ran = 0;
    for (const after_reg& a : afters) expected_ran += a.ran ? 1 : 0;
    LF_FUZZ_CHECK(ran == expected_ran);
    for (const ctx_node& n : nodes) {
      if (n.dropped) continue;
      const ctx_node* c = state_of(n.canceler);
      const lf::context_error e = c != nullptr ? c->err : lf::context_error::none;
      LF_FUZZ_CHECK(n.ctx.err() == e);
      LF_FUZZ_CHECK(n.ctx.done().ready() == (e != lf::context_error::none));
      LF_FUZZ_CHECK(n.ctx.done().never() == (c == nullptr));
      LF_FUZZ_CHECK(n.ctx.deadline() == n.deadline);
      const std::string* v = n.ctx.value<request_id>();
      LF_FUZZ_CHECK(n.value.empty() ? v == nullptr : v != nullptr && *v == n.value);
      const std::exception_ptr cause = n.ctx.cause();
      if (e == lf::context_error::none) {
        LF_FUZZ_CHECK(!cause);
        continue;
      }
      try {
        std::rethrow_exception(cause);
      } catch (const lf::context_done_error& d) {
        LF_FUZZ_CHECK(c->cause < 0 && d.error() == e);
      } catch (const std::runtime_error& r) {
        LF_FUZZ_CHECK(c->cause >= 0 && std::string(r.what()) == "cause-" + std::to_string(c->cause));
      }
    }
  };

  auto stop_token = [&] {  // the std interop agrees with done()
    if (nodes.empty()) return;
    const ctx_node& n = nodes[in.pick(nodes.size())];
    if (n.dropped) return;
    const std::stop_token t = n.ctx.stop_token();
    LF_FUZZ_CHECK(t.stop_possible() == !n.ctx.done().never());
    LF_FUZZ_CHECK(t.stop_requested() == n.ctx.done().ready());
  };

  lf::fuzz::drive(in, check, make_child, make_child, make_child, cancel, cancel, drop, after, stop, stop_token);
  for (after_reg& a : afters) (void)a.handle.stop();  // a registration on a context never done lives until stopped
}

// ---- lf::rate_limiter ------------------------------------------------------------------

using rl_time = lf::rate_limiter::time_point;
constexpr std::int64_t i64_max = std::numeric_limits<std::int64_t>::max();

rl_time at_ns(std::int64_t ns) { return rl_time(std::chrono::nanoseconds(ns)); }

// The bad arguments every limiter must refuse, naming the value, with its state unchanged.
void rate_bad_input(lf::rate_limiter& lim, input& in, rl_time t) {
  const double before = lim.tokens_at(t);
  const std::int64_t neg = in.coin() ? -1 : std::numeric_limits<std::int64_t>::min();
  const std::string v = std::to_string(neg);
  switch (in.pick(6)) {
    case 0: {
      const double bad[] = {std::nan(""), -1.0, -std::numeric_limits<double>::infinity(), -1e-300};
      const double l = bad[in.pick(4)];
      LF_FUZZ_CHECK(throws_naming<std::invalid_argument>([&] { (void)lf::rate_limit(l); }, "limit = "));
      break;
    }
    case 1:
      LF_FUZZ_CHECK(throws_naming<std::invalid_argument>([&] { (void)lim.allow_n(t, neg); }, "n = " + v));
      break;
    case 2:
      LF_FUZZ_CHECK(throws_naming<std::invalid_argument>([&] { (void)lim.reserve_n(t, neg); }, "n = " + v));
      break;
    case 3:
      LF_FUZZ_CHECK(throws_naming<std::invalid_argument>([&] { lim.set_burst_at(t, neg); }, "burst = " + v));
      break;
    case 4:
      LF_FUZZ_CHECK(throws_naming<std::invalid_argument>([&] { (void)lim.wait_n(lf::background(), neg); }, "n = " + v));
      break;
    default:
      LF_FUZZ_CHECK(throws_naming<std::invalid_argument>([&] { lf::rate_limiter l(lf::rate_limit(1), neg); },
                                                         "burst = " + v));
      break;
  }
  LF_FUZZ_CHECK(lim.tokens_at(t) == before || std::isnan(before));
}

// Limit 0: the bucket is an integer count that never refills (burst 0..4).
void rate_zero_case(input& in) {
  std::int64_t burst = static_cast<std::int64_t>(in.pick(5));
  lf::rate_limiter lim(lf::rate_limit(0), burst);
  std::int64_t have = burst;
  std::int64_t t = static_cast<std::int64_t>(in.pick(1000));
  std::vector<lf::reservation> held;
  auto n_of = [&] { return in.pick(8) == 0 ? i64_max : static_cast<std::int64_t>(in.pick(static_cast<std::size_t>(burst) + 2)); };
  // `have` is what the bucket stores; it serves min(have, burst) (a set_burst may have
  // lowered the burst below it).
  auto allow = [&] {
    const std::int64_t n = n_of();
    const bool ok = n <= std::min(have, burst);
    LF_FUZZ_CHECK(lim.allow_n(at_ns(t), n) == ok);
    if (ok) have = std::min(have, burst) - n;
  };
  auto reserve = [&] {
    const std::int64_t n = n_of();
    lf::reservation r = lim.reserve_n(at_ns(t), n);
    LF_FUZZ_CHECK(r.ok() == (n <= std::min(have, burst)));
    LF_FUZZ_CHECK(r.delay_from(at_ns(t)) == (r.ok() ? 0ns : std::chrono::nanoseconds::max()));
    if (r.ok()) {
      have = std::min(have, burst) - n;
      if (n > 0) held.push_back(std::move(r));
    }
  };
  auto give_back = [&] {  // due at once (time_to_act = t then): only a cancel at that very t gives back
    if (held.empty()) return;
    const std::size_t k = in.pick(held.size());
    const std::int64_t n = held[k].tokens();
    const bool in_time = held[k].time_to_act() >= at_ns(t);
    held[k].cancel_at(at_ns(t));
    if (in_time) have = std::min(burst, have + n);
    held.erase(held.begin() + static_cast<std::ptrdiff_t>(k));
  };
  auto wait = [&] {  // decided at once at limit 0: no sleeping
    const std::int64_t n = n_of();
    // background; a timeout of duration::max (no deadline); a context cancelled already.
    const std::size_t which = in.pick(3);
    const lf::context_with_cancel c = which == 1 ? lf::with_timeout(lf::background(), std::chrono::nanoseconds::max())
                                                 : lf::with_cancel(lf::background());
    if (which == 2) c.cancel();
    const lf::rate_error e = lim.wait_n(which == 0 ? lf::background() : c.ctx, n);
    LF_FUZZ_CHECK(e == (n > burst                     ? lf::rate_error::exceeds_burst
                        : which == 2                 ? lf::rate_error::canceled
                        : n <= std::min(have, burst) ? lf::rate_error::none
                                                     : lf::rate_error::would_exceed_deadline));
    if (e == lf::rate_error::none) have = std::min(have, burst) - n;
  };
  auto set_burst = [&] {
    const std::int64_t b = static_cast<std::int64_t>(in.pick(5));
    lim.set_burst_at(at_ns(t), b);
    have = std::min(have, burst);  // rebased under the old burst, read under the new
    burst = b;
  };
  auto tick = [&] { t += in.coin() ? static_cast<std::int64_t>(in.pick(1000)) : -static_cast<std::int64_t>(in.pick(100)); };
  auto bad = [&] { rate_bad_input(lim, in, at_ns(t)); };
  lf::fuzz::drive(
      in,
      [&] {
        LF_FUZZ_CHECK(lim.tokens_at(at_ns(t)) == static_cast<double>(std::min(have, burst)));
        LF_FUZZ_CHECK(lim.burst() == burst);
      },
      allow, allow, reserve, give_back, wait, set_burst, tick, bad);
}

// Limit inf: everything passes, any n, at any time; nothing is taken, cancel is a no-op.
void rate_inf_case(input& in) {
  const std::int64_t burst = in.pick(4) == 0 ? i64_max : static_cast<std::int64_t>(in.pick(5));
  lf::rate_limiter lim(lf::rate_limit::inf(), burst);
  const rl_time times[] = {rl_time::min(), at_ns(0), at_ns(1'000'000), rl_time::max()};
  auto op = [&] {
    const rl_time t = times[in.pick(4)];
    const std::int64_t n = in.coin() ? i64_max : static_cast<std::int64_t>(in.pick(16));
    switch (in.pick(4)) {
      case 0:
        LF_FUZZ_CHECK(lim.allow_n(t, n));
        break;
      case 1: {
        lf::reservation r = lim.reserve_n(t, n);
        LF_FUZZ_CHECK(r.ok() && r.delay_from(t) == 0ns);
        r.cancel_at(t);
        break;
      }
      case 2:
        LF_FUZZ_CHECK(lim.wait_n(lf::background(), n) == lf::rate_error::none);
        break;
      default:
        rate_bad_input(lim, in, t);
        break;
    }
    LF_FUZZ_CHECK(lim.tokens_at(t) == static_cast<double>(burst));
  };
  lf::fuzz::drive(in, [] {}, op);
}

// A finite limit that divides 1e9 (a token costs c whole ns): GCRA in integer ns. z is the
// time the bucket held (or will hold) zero tokens; taking n at t: z' = max(z, t - burst*c)
// + n*c, due at max(t, z'); allow_n only if due <= t; reserve_n if n <= burst.
void rate_finite_case(input& in) {
  const std::int64_t per_second[] = {1, 4, 1000, 1'000'000'000};
  const std::int64_t c = 1'000'000'000 / per_second[in.pick(4)];
  const std::int64_t burst = static_cast<std::int64_t>(in.pick(6));
  lf::rate_limiter lim(lf::rate_limit(static_cast<double>(1'000'000'000 / c)), burst);
  std::int64_t t = 1'000'000'000'000 + static_cast<std::int64_t>(in.pick(1000)) * c;
  std::int64_t z = std::numeric_limits<std::int64_t>::min() / 2;  // full: "long ago"
  struct held_res {
    lf::reservation r;
    std::int64_t n, due;
  };
  std::vector<held_res> held;
  auto n_of = [&] { return in.pick(8) == 0 ? i64_max : static_cast<std::int64_t>(in.pick(static_cast<std::size_t>(burst) + 2)); };
  auto take = [&](bool only_now) {
    const std::int64_t n = n_of();
    if (n > burst) {
      if (only_now) {
        LF_FUZZ_CHECK(!lim.allow_n(at_ns(t), n));
      } else {
        LF_FUZZ_CHECK(!lim.reserve_n(at_ns(t), n).ok());
      }
      return;
    }
    const std::int64_t z2 = std::max(z, t - burst * c) + n * c;
    const std::int64_t due = std::max(t, z2);
    if (only_now) {
      const bool ok = due <= t;
      LF_FUZZ_CHECK(lim.allow_n(at_ns(t), n) == ok);
      if (ok) z = z2;
      return;
    }
    lf::reservation r = lim.reserve_n(at_ns(t), n);
    LF_FUZZ_CHECK(r.ok() && r.time_to_act() == at_ns(due) && r.delay_from(at_ns(t)).count() == due - t);
    z = z2;
    if (n > 0) held.push_back({std::move(r), n, due});
  };
  auto cancel = [&] {  // gives back n*c less the debt queued past its due time, capped at the burst
    if (held.empty()) return;
    const std::size_t k = in.pick(held.size());
    held_res& h = held[k];
    h.r.cancel_at(at_ns(t));
    if (h.due >= t) {
      const std::int64_t restore = h.n * c - std::max<std::int64_t>(0, z - h.due);
      if (restore > 0) z = std::max(t - burst * c, std::max(z, t - burst * c) - restore);
    }
    held.erase(held.begin() + static_cast<std::ptrdiff_t>(k));
  };
  auto tick = [&] {
    const std::int64_t steps[] = {0, 1, c / 2, c, 3 * c, -c};  // -c: a stale time
    t += steps[in.pick(6)];
  };
  auto bad = [&] { rate_bad_input(lim, in, at_ns(t)); };
  lf::fuzz::drive(
      in,
      [&] {
        const std::int64_t credit = t - z;
        const double expected = credit >= burst * c ? static_cast<double>(burst)
                                                    : static_cast<double>(credit) / static_cast<double>(c);
        LF_FUZZ_CHECK(lim.tokens_at(at_ns(t)) == expected);
      },
      [&] { take(true); }, [&] { take(false); }, cancel, tick, tick, bad);
}

// The extremes: only what must hold whatever the arithmetic does at the ends.
void rate_extreme_case(input& in) {
  const double limits[] = {1e-300, 1e-9, 1e300, std::numeric_limits<double>::max(), 1.0};
  const std::int64_t bursts[] = {0, 1, i64_max, i64_max / 2};
  lf::rate_limiter lim(lf::rate_limit(limits[in.pick(5)]), bursts[in.pick(4)]);
  const rl_time times[] = {rl_time::min(), at_ns(-1), at_ns(0), at_ns(i64_max / 2), rl_time::max()};
  auto op = [&] {
    const rl_time t = times[in.pick(5)];
    const std::int64_t n = in.coin() ? i64_max : static_cast<std::int64_t>(in.pick(4));
    switch (in.pick(4)) {
      case 0: {
        lf::reservation r = lim.reserve_n(t, n);
        LF_FUZZ_CHECK(n <= lim.burst() || !r.ok());
        LF_FUZZ_CHECK(r.ok() || r.delay_from(t) == std::chrono::nanoseconds::max());
        LF_FUZZ_CHECK(r.delay_from(t) >= 0ns);
        if (in.coin()) r.cancel_at(times[in.pick(5)]);
        break;
      }
      case 1:
        (void)lim.allow_n(t, n);
        break;
      case 2:
        lim.set_limit_at(t, lf::rate_limit(limits[in.pick(5)]));
        break;
      default:
        lim.set_burst_at(t, bursts[in.pick(4)]);
        break;
    }
    const double tokens = lim.tokens_at(t);
    LF_FUZZ_CHECK(!std::isnan(tokens) && tokens <= static_cast<double>(lim.burst()));
  };
  lf::fuzz::drive(in, [] {}, op);
}

void rate_limiter_case(input& in) { lf::fuzz::one_of(in, rate_zero_case, rate_inf_case, rate_finite_case, rate_extreme_case); }

// ---- lf::circuit_breaker ---------------------------------------------------------------

struct breaker_tag {};
using fclock = lf::test::fake_clock<breaker_tag>;
using breaker = lf::basic_circuit_breaker<fclock>;
using lf::breaker_state;

// Bad settings: each throws std::invalid_argument naming the field.
void breaker_bad_settings(input& in) {
  lf::breaker_settings s;
  std::string field;
  switch (in.pick(6)) {
    case 0:
      s.failure_rate_threshold = in.coin() ? std::nan("") : (in.coin() ? -1.0 : 100.5);
      field = "failure_rate_threshold";
      break;
    case 1:
      s.slow_call_rate_threshold = 101;
      field = "slow_call_rate_threshold";
      break;
    case 2:
      s.sliding_window_size = in.coin() ? 0 : breaker::max_buckets + 1;
      field = "sliding_window_size = " + std::to_string(s.sliding_window_size);
      break;
    case 3:
      s.minimum_number_of_calls = 0;
      field = "minimum_number_of_calls = 0";
      break;
    case 4:
      s.slow_call_rate_threshold = 50;
      s.slow_call_duration = in.coin() ? 0ns : -1ns;
      field = "slow_call_duration";
      break;
    default:
      s.interval = std::chrono::nanoseconds::max();
      s.bucket_period = 1ns;
      field = "bucket_period = 1 ns";
      break;
  }
  LF_FUZZ_CHECK(throws_naming<std::invalid_argument>([&] { breaker b(s); }, field));
}

void breaker_case(input& in) {
  if (in.pick(16) == 0) {
    breaker_bad_settings(in);
    return;
  }
  fclock::set(std::chrono::milliseconds(in.pick(1000)));
  // Times move in whole ms; the timeout and interval end on a half ms, so "> timeout"
  // (gobreaker's expiry.Before(now)) is never decided by an equality.
  const std::uint32_t max_requests = static_cast<std::uint32_t>(in.pick(4));
  const std::int64_t timeout_ns = (1 + static_cast<std::int64_t>(in.pick(20))) * 1'000'000 + 500'000;
  const std::int64_t interval_ns = in.coin() ? 0 : (1 + static_cast<std::int64_t>(in.pick(30))) * 1'000'000 + 500'000;
  const std::uint32_t trip_after = static_cast<std::uint32_t>(in.pick(4));  // 0: gobreaker's default (> 5)
  std::vector<std::pair<breaker_state, breaker_state>> changes;
  lf::breaker_settings s;
  s.name = "fuzz";
  s.max_requests = max_requests;
  s.timeout = std::chrono::nanoseconds(timeout_ns);
  s.interval = std::chrono::nanoseconds(interval_ns);
  if (trip_after != 0) s.ready_to_trip = [trip_after](const lf::breaker_counts& c) { return c.consecutive_failures >= trip_after; };
  s.on_state_change = [&changes](const std::string&, breaker_state from, breaker_state to) { changes.emplace_back(from, to); };
  breaker br(s);

  // The model.
  breaker_state st = breaker_state::closed;
  std::uint64_t gen = 1;  // the first generation
  std::int64_t start = fclock::now().time_since_epoch().count();
  lf::breaker_counts counts;
  std::vector<std::pair<breaker_state, breaker_state>> expected_changes;
  const std::uint32_t admit = max_requests == 0 ? 1 : max_requests;
  auto to = [&](breaker_state next, bool notify) {
    if (notify) expected_changes.emplace_back(st, next);
    st = next;
    ++gen;
    counts = {};
    start = fclock::now().time_since_epoch().count();
  };
  auto now_ns = [] { return fclock::now().time_since_epoch().count(); };
  auto advance_model = [&] {  // gobreaker's currentState
    if ((st == breaker_state::closed || st == breaker_state::metrics_only) && interval_ns > 0 &&
        now_ns() - start > interval_ns) {
      to(st, false);
    } else if (st == breaker_state::open && now_ns() - start > timeout_ns) {
      to(breaker_state::half_open, true);
    }
  };
  struct held_token {
    breaker::token t;
    std::uint64_t gen;
  };
  std::vector<held_token> tokens;

  auto allow = [&] {
    advance_model();
    breaker::token t = br.allow();
    bool ok = false;
    lf::breaker_error why = lf::breaker_error::none;
    switch (st) {
      case breaker_state::open:
      case breaker_state::forced_open:
        why = lf::breaker_error::open;
        break;
      case breaker_state::half_open:
        ok = counts.requests - counts.total_exclusions < admit;
        if (!ok) why = lf::breaker_error::too_many_requests;
        break;
      default:
        ok = true;
        break;
    }
    LF_FUZZ_CHECK(t.ok() == ok && t.error() == why && t.state() == st && t.generation() == gen);
    if (ok && st != breaker_state::disabled) {
      ++counts.requests;
      if (tokens.size() < 6) {
        tokens.push_back({std::move(t), gen});
      } else {
        ++counts.total_exclusions;  // dropped here: reported as an exclusion
      }
    }
  };
  auto report = [&] {
    if (tokens.empty()) return;
    const std::size_t k = in.pick(tokens.size());
    held_token h = std::move(tokens[k]);
    tokens.erase(tokens.begin() + static_cast<std::ptrdiff_t>(k));
    const int how = static_cast<int>(in.pick(4));  // 0 success, 1 failure, 2 thrown (failure), 3 dropped
    if (how == 3) {  // an exclusion, if still the generation's (no time moves)
      const bool counted = h.gen == gen && (st == breaker_state::closed || st == breaker_state::half_open ||
                                            st == breaker_state::metrics_only);
      h.t = breaker::token();
      if (counted) ++counts.total_exclusions;
      return;
    }
    if (how == 2) {
      h.t.done(std::make_exception_ptr(std::runtime_error("call failed")));
    } else {
      h.t.done(how == 0);
    }
    advance_model();
    if (h.gen != gen) return;  // an older generation's outcome: dropped
    const bool failure = how != 0;
    if (st == breaker_state::half_open && failure) {
      to(breaker_state::open, true);
      return;
    }
    if (st != breaker_state::closed && st != breaker_state::half_open && st != breaker_state::metrics_only) return;
    if (failure) {
      ++counts.total_failures;
      ++counts.consecutive_failures;
      counts.consecutive_successes = 0;
    } else {
      ++counts.total_successes;
      ++counts.consecutive_successes;
      counts.consecutive_failures = 0;
    }
    if (st == breaker_state::half_open && counts.consecutive_successes >= admit) {
      to(breaker_state::closed, true);
    } else if (st == breaker_state::closed && failure &&
               (trip_after == 0 ? counts.consecutive_failures > 5 : counts.consecutive_failures >= trip_after)) {
      to(breaker_state::open, true);
    }
  };
  auto tick = [&] {
    fclock::advance(std::chrono::milliseconds(in.pick(8)));
  };
  auto state = [&] {
    advance_model();
    LF_FUZZ_CHECK(br.state() == st);
  };
  auto manual = [&] {
    advance_model();
    if (in.pick(3) == 0) {
      br.reset();
      to(breaker_state::closed, st != breaker_state::closed);
      return;
    }
    const breaker_state all[] = {breaker_state::closed,      breaker_state::half_open, breaker_state::open,
                                 breaker_state::forced_open, breaker_state::disabled,  breaker_state::metrics_only};
    const breaker_state next = all[in.pick(6)];
    br.transition_to(next);
    if (next != st) to(next, true);
  };
  lf::fuzz::drive(
      in,
      [&] {
        LF_FUZZ_CHECK(br.counts() == counts);
        LF_FUZZ_CHECK(br.generation() == gen);
        LF_FUZZ_CHECK(changes == expected_changes);
      },
      allow, allow, allow, report, report, report, tick, tick, state, manual);
  tokens.clear();  // before the breaker: a token reports to it when dropped
}

void fuzz_timed_patterns(input& in) { lf::fuzz::one_of(in, context_case, rate_limiter_case, breaker_case); }

}  // namespace

LF_FUZZ_MAIN("timed patterns", fuzz_timed_patterns, 9'000)
