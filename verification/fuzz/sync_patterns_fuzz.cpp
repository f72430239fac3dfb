// fuzz lane: the coordination objects, from one driver thread, against sequential models.
//
//   lf::barrier      (central and tree policies) arrive(n), arrive_and_drop, arrive_and_wait
//                    when it is the phase's last arrival (anything else would block the one
//                    driver thread), wait(token) on an ended phase, wait_for(token, 0) on the
//                    current one, and a completion that throws on chosen phases. The model:
//                    the phase number, the arrivals it still expects, the parties left after
//                    drops, and which phases' completions threw (their waits rethrow).
//   lf::phaser       register / bulk_register / arrive / arrive_and_deregister /
//                    arrive_and_await_advance (when it advances) / await_advance of another
//                    phase / force_termination, from a first phase near the wrap. The model:
//                    phase, registered and unarrived parties, terminated.
//   lf::worker_pool  (1-2 workers, no limit or a queue limit of 1..4 with each overflow
//    + lf::errgroup  policy) submit / try_submit / detach / submit(ctx) with a cancelled
//                    ctx / wait_idle / shutdown / shutdown_now in any order, and an
//                    errgroup on the pool (go / try_go / set_limit / wait). Workers run
//                    concurrently, so the model is the ledger, checked at the end: every
//                    accepted task ran exactly once or was dropped (its future says
//                    broken_promise, a dropped errgroup goroutine makes wait() return
//                    broken_promise), none ran twice, dropped() counts the drops, and every
//                    submission after shutdown began threw pool_closed.
// Bad input: barrier expected <= 0 or > max(), arrive n < 1 or past what the phase expects,
// an arrival after every party dropped; phaser parties < 0 or > max_parties, bulk_register
// n < 0 or past max_parties, an arrival with no unarrived party; pool workers < 0,
// queue_limit 0 or past INT_MAX, an unknown overflow policy; errgroup set_limit while
// goroutines are active (after wait() there are none, so it must succeed), go at limit 0.
//
// Budget: 4'000 inputs of up to 512 bytes, 1'000 per object (about 0.7 M operations). The
// barrier and phaser cases cost microseconds per op; a pool case starts and joins 1-2
// threads and takes at most 64 tasks (the ledger is what is tested, and the shutdown orders
// of one input cover it): about 3 s of CPU (6 s wall, the workers park and wake) under
// ASan+UBSan on the 2-core machine in all.
// Seen to fail: with the central barrier miscounting a phase's second drop, and with
// phaser's termination at zero parties removed.
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "patterns/barrier.hpp"
#include "patterns/context.hpp"
#include "patterns/errgroup.hpp"
#include "patterns/phaser.hpp"
#include "patterns/worker_pool.hpp"
#include "verification/fuzz/fuzz.hpp"

namespace {

using namespace std::chrono_literals;
using lf::fuzz::input;
using lf::fuzz::throws_naming;

// ---- lf::barrier -----------------------------------------------------------------------

struct phase_failed : std::runtime_error {
  explicit phase_failed(std::uint32_t p) : std::runtime_error("completion of phase " + std::to_string(p)) {}
};

// The completion: counts phases, throws on the phases `throw_on` names (bit p % 32).
struct completion {
  std::uint32_t* phases;
  std::uint32_t throw_on;
  void operator()() {
    const std::uint32_t p = (*phases)++;
    if ((throw_on >> (p % 32)) & 1) throw phase_failed(p);
  }
};

template <class Policy>
void barrier_case(input& in) {
  using B = lf::barrier<completion, Policy>;
  if (in.pick(16) == 0) {
    const std::ptrdiff_t bad[] = {0, -1, PTRDIFF_MIN, B::max() + 1};
    const std::ptrdiff_t e = bad[in.pick(4)];
    std::uint32_t unused = 0;
    LF_FUZZ_CHECK(throws_naming<std::invalid_argument>([&] { B b(e, completion{&unused, 0}); },
                                                       "expected = " + std::to_string(e)));
    return;
  }
  std::uint32_t completed = 0;
  const std::uint32_t throw_on = in.pick(4) == 0 ? static_cast<std::uint32_t>(in.pick(65536)) : 0;
  const auto expected = static_cast<std::uint32_t>(1 + in.pick(5));
  B b(expected, completion{&completed, throw_on});
  // The model.
  std::uint32_t phase = 0, parties = expected, left = expected, dropped = 0;
  std::optional<typename B::arrival_token> token;  // the last one taken, of phase token_phase
  std::uint32_t token_phase = 0;
  auto threw = [&](std::uint32_t p) { return ((throw_on >> (p % 32)) & 1) != 0; };
  // One arrival of n (n <= left) in the model; true if it ended the phase.
  auto arrive_model = [&](std::uint32_t n, bool drop) {
    left -= n;
    if (drop) ++dropped;
    if (left != 0) return false;
    ++phase;
    parties -= dropped;
    dropped = 0;
    left = parties;
    return true;
  };
  auto no_parties = [&](auto op) { LF_FUZZ_CHECK(throws_naming<std::logic_error>(op, "every party dropped")); };

  auto arrive = [&] {
    if (parties == 0) return no_parties([&] { (void)b.arrive(); });
    const std::ptrdiff_t n = static_cast<std::ptrdiff_t>(in.pick(left + 2));  // 0 .. left + 1
    if (n == 0) {
      LF_FUZZ_CHECK(throws_naming<std::invalid_argument>([&] { (void)b.arrive(0); }, "n = 0"));
      return;
    }
    if (static_cast<std::uint32_t>(n) > left) {
      // Central refuses more than the phase expects; a slotted policy would wait for the next
      // phase (a precondition, not a checked error) unless n exceeds the parties.
      if (!Policy::slotted || static_cast<std::uint32_t>(n) > parties) {
        LF_FUZZ_CHECK(throws_naming<std::invalid_argument>([&] { (void)b.arrive(n); }, "n = " + std::to_string(n)));
      }
      return;
    }
    const std::uint32_t p = phase;
    bool failed = false;
    try {
      token = b.arrive(n);
    } catch (const phase_failed&) {
      failed = true;  // the completer's arrive does not rethrow: only waits do
    }
    LF_FUZZ_CHECK(!failed);
    token_phase = p;
    LF_FUZZ_CHECK(token->phase() == p);
    arrive_model(static_cast<std::uint32_t>(n), false);
  };
  auto drop = [&] {
    if (parties == 0) return no_parties([&] { b.arrive_and_drop(); });
    b.arrive_and_drop();
    arrive_model(1, true);
  };
  auto arrive_and_wait = [&] {  // only as the last arrival: it returns at once
    if (parties == 0 || left != 1) return;
    const std::uint32_t p = phase;
    bool failed = false;
    try {
      b.arrive_and_wait();
    } catch (const phase_failed&) {
      failed = true;
    }
    LF_FUZZ_CHECK(failed == threw(p));
    arrive_model(1, false);
  };
  auto wait = [&] {
    if (!token) return;
    if (token_phase + 1 == phase) {  // ended: returns at once, rethrowing its completion's exception
      bool failed = false;
      try {
        b.wait(*token);
      } catch (const phase_failed&) {
        failed = true;
      }
      LF_FUZZ_CHECK(failed == threw(token_phase));
    } else if (token_phase == phase) {  // still open: a zero wait times out
      LF_FUZZ_CHECK(!b.wait_for(*token, 0ns));
      LF_FUZZ_CHECK(throws_naming<std::invalid_argument>([&] { (void)b.wait_for(*token, -1ns); }, "wait_for: d"));
    }
  };
  lf::fuzz::drive(in, [&] { LF_FUZZ_CHECK(completed == phase); }, arrive, arrive, arrive, drop, arrive_and_wait, wait);
}

// ---- lf::phaser ------------------------------------------------------------------------

void phaser_case(input& in) {
  if (in.pick(16) == 0) {
    const int bad[] = {-1, INT_MIN, lf::phaser::max_parties + 1, INT_MAX};
    const int p = bad[in.pick(4)];
    LF_FUZZ_CHECK(throws_naming<std::invalid_argument>([&] { lf::phaser ph(p); }, "parties = " + std::to_string(p)));
    return;
  }
  int parties = static_cast<int>(in.pick(4));
  const int first = in.coin() ? lf::phaser::max_phase - static_cast<int>(in.pick(3)) : static_cast<int>(in.pick(3));
  lf::phaser ph(parties, first);
  int phase = first, unarrived = parties;
  bool terminated = false;
  auto signed_phase = [&] { return terminated ? static_cast<int>(static_cast<std::uint32_t>(phase) | 0x80000000u) : phase; };
  auto advance = [&] {
    phase = phase == lf::phaser::max_phase ? 0 : phase + 1;
    unarrived = parties;
    if (parties == 0) terminated = true;
  };
  auto reg = [&] {
    const int n = in.pick(8) == 0 ? (in.coin() ? -1 : lf::phaser::max_parties) : static_cast<int>(in.pick(3));
    if (n < 0) {
      LF_FUZZ_CHECK(throws_naming<std::invalid_argument>([&] { (void)ph.bulk_register(n); }, "n = -1"));
    } else if (terminated) {
      LF_FUZZ_CHECK(ph.bulk_register(n) == signed_phase());
    } else if (parties + n > lf::phaser::max_parties) {
      LF_FUZZ_CHECK(throws_naming<std::length_error>([&] { (void)ph.bulk_register(n); }, "n = " + std::to_string(n)));
    } else {
      LF_FUZZ_CHECK((n == 1 && in.coin() ? ph.register_party() : ph.bulk_register(n)) == phase);
      parties += n;
      unarrived += n;
    }
  };
  auto arrive = [&] {
    const std::size_t how = in.pick(3);  // arrive, arrive_and_deregister, arrive_and_await_advance
    if (terminated) {
      LF_FUZZ_CHECK((how == 0 ? ph.arrive() : how == 1 ? ph.arrive_and_deregister() : ph.arrive_and_await_advance()) ==
                    signed_phase());
      return;
    }
    if (unarrived == 0) {
      LF_FUZZ_CHECK(throws_naming<std::logic_error>([&] { (void)ph.arrive(); }, "no unarrived party"));
      return;
    }
    if (how == 2 && unarrived != 1) return;  // it would block the one driver thread
    const int p = phase;
    const int got = how == 0 ? ph.arrive() : how == 1 ? ph.arrive_and_deregister() : ph.arrive_and_await_advance();
    if (how == 1) --parties;
    if (--unarrived == 0) advance();
    LF_FUZZ_CHECK(got == (how == 2 ? signed_phase() : p));
  };
  auto await_other = [&] {  // a phase that is not the current one returns at once
    const int other = in.coin() ? -5 : (phase == 0 ? 1 : phase - 1);
    LF_FUZZ_CHECK(ph.await_advance(other) == (other < 0 ? other : signed_phase()));
    if (!terminated) {
      auto [ctx, cancel] = lf::with_cancel(lf::background());
      cancel();
      LF_FUZZ_CHECK(!ph.await_advance(phase, ctx));  // the current phase and a done ctx: nullopt
    }
  };
  auto terminate = [&] {
    if (in.pick(4) != 0) return;
    ph.force_termination();
    terminated = true;
  };
  lf::fuzz::drive(
      in,
      [&] {
        LF_FUZZ_CHECK(ph.phase() == signed_phase() && ph.is_terminated() == terminated);
        if (!terminated) LF_FUZZ_CHECK(ph.registered_parties() == parties && ph.unarrived_parties() == unarrived);
      },
      reg, arrive, arrive, arrive, await_other, terminate);
}

// ---- lf::worker_pool + lf::errgroup ------------------------------------------------------

void pool_bad_options(input& in) {
  lf::pool_options o;
  std::string text;
  switch (in.pick(4)) {
    case 0:
      o.workers = in.coin() ? -1 : PTRDIFF_MIN;
      text = "workers = " + std::to_string(o.workers);
      break;
    case 1:
      o.queue_limit = in.coin() ? 0 : std::size_t{INT_MAX} + 1;
      text = "queue_limit = " + std::to_string(*o.queue_limit);
      break;
    case 2:
      o.on_full = static_cast<lf::overflow_policy>(7);
      text = "on_full = 7";
      break;
    default:
      LF_FUZZ_CHECK(throws_naming<std::invalid_argument>([] { lf::worker_pool p(-3); }, "n = -3"));
      return;
  }
  LF_FUZZ_CHECK(throws_naming<std::invalid_argument>([&] { lf::worker_pool p(o); }, text));
}

void pool_case(input& in) {
  if (in.pick(16) == 0) {
    pool_bad_options(in);
    return;
  }
  // Each task's id is its index in `runs`; a task adds 1 to its entry when it runs. The
  // entries are atomics read after the pool is joined.
  constexpr std::size_t max_tasks = 64;
  std::vector<std::atomic<int>> runs(max_tasks);
  enum class kind { future, detached, group };
  struct accepted {
    std::size_t id;
    kind k;
    bool throws;
    bool canceled_ctx;
    std::optional<lf::pool_future<std::size_t>> f;
  };
  std::vector<accepted> tasks;
  std::size_t next = 0;
  bool closed = false;
  lf::pool_options o;
  o.workers = static_cast<std::ptrdiff_t>(1 + in.pick(2));
  if (in.coin()) {
    o.queue_limit = 1 + in.pick(4);
    const lf::overflow_policy policies[] = {lf::overflow_policy::block, lf::overflow_policy::fail,
                                            lf::overflow_policy::caller_runs};
    o.on_full = policies[in.pick(3)];
  }
  std::atomic<int> detached_errors{0};
  o.on_detached_error = [&detached_errors](std::exception_ptr) { detached_errors.fetch_add(1); };
  auto pool = std::make_unique<lf::worker_pool>(o);
  std::optional<lf::errgroup> group(std::in_place, *pool);
  int group_limit = -1;
  const lf::context_with_cancel canceled = lf::with_cancel(lf::background());
  canceled.cancel();  // submit(ctx) with a done ctx: skipped, task_canceled
  const lf::context cctx = canceled.ctx;

  // Runs `submit` (which accepts the task or throws); pool_closed after shutdown, pool_full
  // under the fail policy, is the only way a task is not accepted.
  auto attempt = [&](auto submit) -> bool {
    try {
      submit();
      return true;
    } catch (const lf::pool_closed&) {
      LF_FUZZ_CHECK(closed);
    } catch (const lf::pool_full&) {
      LF_FUZZ_CHECK(o.on_full == lf::overflow_policy::fail && o.queue_limit);
    }
    return false;
  };
  auto body = [&runs](std::size_t id, bool throws) {
    runs[id].fetch_add(1);
    if (throws) throw std::runtime_error("task " + std::to_string(id));
    return id;
  };
  auto submit = [&] {
    if (next == max_tasks) return;
    const std::size_t id = next++;
    const bool throws = in.pick(4) == 0;
    const std::size_t how = in.pick(5);
    accepted a{id, how == 2 ? kind::detached : kind::future, throws, how == 3, std::nullopt};
    bool ok;
    switch (how) {
      case 0:
        ok = attempt([&] { a.f = pool->submit(body, id, throws); });
        break;
      case 1: {
        std::optional<lf::pool_future<std::size_t>> f;
        ok = attempt([&] { f = pool->try_submit(body, id, throws); });
        if (ok && !f) {  // turned away: only a queue limit does that
          LF_FUZZ_CHECK(o.queue_limit.has_value());
          ok = false;
        }
        if (ok) a.f = std::move(*f);
        break;
      }
      case 2:
        ok = attempt([&] { pool->detach([&body, id, throws] { (void)body(id, throws); }); });
        break;
      case 3:
        ok = attempt([&] { a.f = pool->submit(cctx, body, id, throws); });
        break;
      default:
        if (!group) return;
        a.k = kind::group;
        if (group_limit == 0) {
          if (in.coin()) {
            LF_FUZZ_CHECK(throws_naming<std::logic_error>([&] { group->go([] {}); }, "limit 0"));
          } else {
            LF_FUZZ_CHECK(!group->try_go([] {}));
          }
          return;
        }
        ok = attempt([&] { group->go([&body, id, throws] { (void)body(id, throws); }); });
        break;
    }
    if (ok) tasks.push_back(std::move(a));
  };
  auto group_wait = [&] {
    if (!group) return;
    (void)group->wait();  // its error is checked at the end: the first error stays
    // After wait() no goroutine is active: set_limit must succeed.
    group_limit = static_cast<int>(in.pick(4)) - 1;  // -1 (none) .. 2
    group->set_limit(group_limit);
  };
  auto idle = [&] {
    if (!closed) pool->wait_idle();
  };
  auto shut = [&] {
    if (in.pick(3) != 0) return;
    closed = true;
    if (in.coin()) {
      pool->shutdown();
    } else {
      pool->shutdown_now();
    }
  };
  lf::fuzz::drive(in, [] {}, submit, submit, submit, submit, group_wait, idle, shut);

  // The ledger. The group's wait and then the pool's shutdown: nothing is running after.
  std::exception_ptr group_error;
  if (group) group_error = group->wait();
  pool->shutdown_now();
  closed = true;
  LF_FUZZ_CHECK(throws_naming<lf::pool_closed>([&] { (void)pool->submit([] {}); }, "shut down"));
  std::uint64_t dropped = 0;
  int throwing_detached_ran = 0;
  bool group_lost = false;
  std::set<std::string> group_errors;  // what a goroutine that ran threw
  for (accepted& a : tasks) {
    const int r = runs[a.id].load();
    LF_FUZZ_CHECK(r == 0 || r == 1);
    if (a.k == kind::future) {
      try {
        const std::size_t v = a.f->get();
        LF_FUZZ_CHECK(r == 1 && !a.throws && !a.canceled_ctx && v == a.id);
      } catch (const lf::task_canceled& e) {
        LF_FUZZ_CHECK(r == 0 && a.canceled_ctx && e.error() == lf::context_error::canceled);
      } catch (const std::future_error& e) {
        LF_FUZZ_CHECK(r == 0 && e.code() == std::future_errc::broken_promise);
        ++dropped;
      } catch (const std::runtime_error& e) {
        LF_FUZZ_CHECK(r == 1 && a.throws && std::string(e.what()) == "task " + std::to_string(a.id));
      }
    } else {
      if (r == 0) {
        ++dropped;
        group_lost = group_lost || a.k == kind::group;
      }
      if (r == 1 && a.throws && a.k == kind::detached) ++throwing_detached_ran;
      if (r == 1 && a.throws && a.k == kind::group) group_errors.insert("task " + std::to_string(a.id));
    }
  }
  LF_FUZZ_CHECK(pool->dropped() == dropped);
  LF_FUZZ_CHECK(detached_errors.load() == throwing_detached_ran && pool->detached_errors() == static_cast<std::uint64_t>(throwing_detached_ran));
  // A group that lost a goroutine or had one throw reports the first such error; else none.
  LF_FUZZ_CHECK(static_cast<bool>(group_error) == (group_lost || !group_errors.empty()));
  if (group_error) {
    try {
      std::rethrow_exception(group_error);
    } catch (const std::future_error& e) {
      LF_FUZZ_CHECK(group_lost && e.code() == std::future_errc::broken_promise);
    } catch (const std::runtime_error& e) {
      LF_FUZZ_CHECK(group_errors.count(e.what()) == 1);
    }
  }
  group.reset();
  pool.reset();
}

void fuzz_sync_patterns(input& in) {
  lf::fuzz::one_of(in, barrier_case<lf::barrier_policy::central>, barrier_case<lf::barrier_policy::tree>, phaser_case,
                   pool_case);
}

}  // namespace

LF_FUZZ_MAIN("sync patterns", fuzz_sync_patterns, 4'000)
