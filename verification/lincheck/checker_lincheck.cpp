// Self-test of the linearizability checker (lincheck lane).
//
// Two kinds of evidence. Hand-built histories with known answers, one per rule of each
// specification, prove the search and the specifications right on cases a person can
// check on paper. Deliberately wrong structures (the lane's mutants: a queue that swaps
// two elements now and then, a stack whose pop can return a value twice, a ring with a
// check-then-act race on its capacity, a counter whose add is a load and a store) run on
// real threads beside their correct versions: the checker must flag every wrong one and
// accept every correct one. Without the flags, a green lincheck lane would prove nothing.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <deque>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "verification/lincheck/checker.hpp"
#include "verification/lincheck/driver.hpp"
#include "verification/lincheck/history.hpp"
#include "verification/lincheck/report.hpp"
#include "verification/lincheck/specs.hpp"
#include "verification/support/stress_scale.hpp"

namespace lc = lf::lincheck;
using lc::none;
using lc::operation;

namespace {

operation op(std::uint32_t thread, std::uint32_t kind, lc::value arg, lc::value result, std::uint64_t call,
             std::uint64_t ret, lc::value arg2 = 0) {
  operation o;
  o.thread = thread;
  o.kind = kind;
  o.arg = arg;
  o.arg2 = arg2;
  o.result = result;
  o.call = call;
  o.ret = ret;
  return o;
}

using Q = lc::queue_spec;

// ---- hand-built histories ------------------------------------------------------------

TEST(Checker, SequentialFifoHistoryIsLinearizable) {
  const lc::history h = {op(0, Q::push, 1, 1, 0, 1), op(0, Q::push, 2, 1, 2, 3), op(1, Q::pop, 0, 1, 4, 5),
                         op(1, Q::pop, 0, 2, 6, 7), op(1, Q::pop, 0, none, 8, 9)};
  EXPECT_TRUE(lc::check(Q::fifo(), h));
}

TEST(Checker, PopOfTheYoungerElementFirstIsNotLinearizable) {
  const lc::history h = {op(0, Q::push, 1, 1, 0, 1), op(0, Q::push, 2, 1, 2, 3), op(1, Q::pop, 0, 2, 4, 5)};
  EXPECT_EQ(lc::check(Q::fifo(), h).outcome, lc::verdict::not_linearizable);
}

TEST(Checker, OverlappingPushesMayTakeEffectInEitherOrder) {
  // push(1) spans push(2): either may go first, and the pops say push(2) did.
  const lc::history h = {op(0, Q::push, 1, 1, 0, 3), op(1, Q::push, 2, 1, 1, 2), op(2, Q::pop, 0, 2, 4, 5),
                         op(2, Q::pop, 0, 1, 6, 7)};
  EXPECT_TRUE(lc::check(Q::fifo(), h));
}

TEST(Checker, PopOfAValueNeverPushedIsNotLinearizable) {
  const lc::history h = {op(0, Q::push, 1, 1, 0, 1), op(1, Q::pop, 0, 9, 2, 3)};
  EXPECT_EQ(lc::check(Q::fifo(), h).outcome, lc::verdict::not_linearizable);
}

TEST(Checker, EmptyAnswerConcurrentWithThePushIsLinearizable) {
  const lc::history h = {op(0, Q::push, 1, 1, 0, 3), op(1, Q::pop, 0, none, 1, 2), op(1, Q::pop, 0, 1, 4, 5)};
  EXPECT_TRUE(lc::check(Q::fifo(), h));
}

// The shape of lf::mpmc_ring's edge: push(1) claims first and stalls, push(2) completes,
// then a pop answers empty. Exact edges reject it; relaxed edges accept it.
lc::history stalled_producer_history() {
  return {op(0, Q::push, 1, 1, 0, 10), op(1, Q::push, 2, 1, 1, 2), op(2, Q::pop, 0, none, 3, 4),
          op(2, Q::pop, 0, 1, 11, 12), op(2, Q::pop, 0, 2, 13, 14)};
}

TEST(Checker, BoundedQueueWithExactEdgesRejectsEmptyWhileALaterElementIsComplete) {
  EXPECT_EQ(lc::check(Q::bounded(4), stalled_producer_history()).outcome, lc::verdict::not_linearizable);
}

TEST(Checker, BoundedQueueWithRelaxedEdgesAcceptsThatEmpty) {
  EXPECT_TRUE(lc::check(Q::bounded(4, lc::edges::relaxed), stalled_producer_history()));
}

TEST(Checker, BoundedQueueJudgesFullAnswersAndCapacity) {
  const lc::history full_ok = {op(0, Q::push, 1, 1, 0, 1), op(0, Q::push, 2, 0, 2, 3)};
  EXPECT_TRUE(lc::check(Q::bounded(1), full_ok));
  const lc::history full_wrong = {op(0, Q::push, 1, 0, 0, 1)};
  EXPECT_FALSE(lc::check(Q::bounded(1), full_wrong));
  EXPECT_TRUE(lc::check(Q::bounded(1, lc::edges::relaxed), full_wrong));
  const lc::history over = {op(0, Q::push, 1, 1, 0, 1), op(1, Q::push, 2, 1, 2, 3)};
  EXPECT_FALSE(lc::check(Q::bounded(1), over));
  EXPECT_FALSE(lc::check(Q::bounded(1, lc::edges::relaxed), over));  // relaxed edges, exact capacity
}

TEST(Checker, BadSpecParametersThrow) {
  EXPECT_THROW(Q::bounded(0), std::invalid_argument);
  EXPECT_THROW(lc::channel_spec(0), std::invalid_argument);
  EXPECT_THROW(lc::recorder(0), std::invalid_argument);
  lc::recorder r(1);
  EXPECT_THROW(r.invoke(1, 0), std::invalid_argument);
}

TEST(Checker, StackIsLifo) {
  using S = lc::stack_spec;
  const lc::history lifo = {op(0, S::push, 1, 1, 0, 1), op(0, S::push, 2, 1, 2, 3), op(1, S::pop, 0, 2, 4, 5),
                            op(1, S::pop, 0, 1, 6, 7)};
  EXPECT_TRUE(lc::check(S{}, lifo));
  const lc::history fifo = {op(0, S::push, 1, 1, 0, 1), op(0, S::push, 2, 1, 2, 3), op(1, S::pop, 0, 1, 4, 5)};
  EXPECT_FALSE(lc::check(S{}, fifo));
  const lc::history twice = {op(0, S::push, 1, 1, 0, 1), op(1, S::pop, 0, 1, 2, 5), op(2, S::pop, 0, 1, 3, 4)};
  EXPECT_FALSE(lc::check(S{}, twice));
}

TEST(Checker, DequeOwnerTakesTheBottomThievesTheTop) {
  using D = lc::deque_spec;
  const lc::history ok = {op(0, D::push_bottom, 1, 1, 0, 1), op(0, D::push_bottom, 2, 1, 2, 3),
                          op(1, D::steal, 0, 1, 4, 5), op(0, D::pop_bottom, 0, 2, 6, 7),
                          op(1, D::steal, 0, none, 8, 9)};
  EXPECT_TRUE(lc::check(D{}, ok));
  const lc::history wrong = {op(0, D::push_bottom, 1, 1, 0, 1), op(0, D::push_bottom, 2, 1, 2, 3),
                             op(1, D::steal, 0, 2, 4, 5)};
  EXPECT_FALSE(lc::check(D{}, wrong));
}

TEST(Checker, MapIsCheckedKeyByKeyAndNamesTheFailingKey) {
  using M = lc::map_spec;
  const lc::history h = {op(0, M::put, 1, none, 0, 1, 10), op(1, M::put, 2, none, 2, 3, 20),
                         op(0, M::get, 1, 10, 4, 5),       op(1, M::get, 2, 21, 6, 7),
                         op(0, M::erase, 1, 10, 8, 9),     op(0, M::get, 1, none, 10, 11)};
  const auto r = lc::check(M{}, h);
  ASSERT_EQ(r.outcome, lc::verdict::not_linearizable);
  ASSERT_EQ(r.failed_part.size(), 2u);
  for (const auto& o : r.failed_part) EXPECT_EQ(o.arg, 2);  // key 1's part was linearizable
}

TEST(Checker, SetAnswersMustMatchMembership) {
  using S = lc::set_spec;
  const lc::history ok = {op(0, S::insert, 5, 1, 0, 3), op(1, S::insert, 5, 0, 1, 2), op(1, S::contains, 5, 1, 4, 5),
                          op(0, S::erase, 5, 1, 6, 7), op(1, S::contains, 5, 0, 8, 9)};
  EXPECT_TRUE(lc::check(S{}, ok));
  const lc::history both_inserted = {op(0, S::insert, 5, 1, 0, 3), op(1, S::insert, 5, 1, 1, 2)};
  EXPECT_FALSE(lc::check(S{}, both_inserted));
}

TEST(Checker, CounterAddsMustSeeEachOther) {
  using C = lc::counter_spec;
  const lc::history ok = {op(0, C::add, 1, 0, 0, 3), op(1, C::add, 1, 1, 1, 2), op(1, C::load, 0, 2, 4, 5)};
  EXPECT_TRUE(lc::check(C{}, ok));
  const lc::history lost = {op(0, C::add, 1, 0, 0, 3), op(1, C::add, 1, 0, 1, 2)};
  EXPECT_FALSE(lc::check(C{}, lost));
}

TEST(Checker, ChannelDrainsAfterCloseThenAnswersClosed) {
  using C = lc::channel_spec;
  const lc::history ok = {op(0, C::send, 1, C::sent, 0, 1), op(0, C::close, 0, 1, 2, 3), op(0, C::close, 0, 0, 4, 5),
                          op(1, C::send, 2, C::closed, 6, 7), op(1, C::recv, 0, 1, 8, 9),
                          op(1, C::recv, 0, C::closed, 10, 11)};
  EXPECT_TRUE(lc::check(C(2), ok));
  const lc::history closed_too_early = {op(0, C::send, 1, C::sent, 0, 1), op(0, C::close, 0, 1, 2, 3),
                                        op(1, C::recv, 0, C::closed, 4, 5)};
  EXPECT_FALSE(lc::check(C(2), closed_too_early));
}

// The ring's edge after close (seen by the lincheck lane under TSan): a send claims its
// slot before the close and is still writing; a try_recv after the close answers "would
// block"; the send then returns ok and the value drains. Relaxed edges accept it (the
// send is linearized before the close, and "would block" is the edge); exact edges do
// not, and "would block" once closed and drained is wrong under either.
TEST(Checker, RelaxedChannelWouldBlockAfterCloseOnlyWhileAValueIsInFlight) {
  using C = lc::channel_spec;
  const lc::history in_flight = {op(0, C::send, 1, C::sent, 0, 5), op(1, C::close, 0, 1, 1, 2),
                                 op(2, C::recv, 0, none, 3, 4), op(2, C::recv, 0, 1, 6, 7),
                                 op(2, C::recv, 0, C::closed, 8, 9)};
  EXPECT_TRUE(lc::check(C(2, lc::edges::relaxed), in_flight));
  EXPECT_FALSE(lc::check(C(2), in_flight));
  const lc::history drained = {op(1, C::close, 0, 1, 0, 1), op(2, C::recv, 0, none, 2, 3)};
  EXPECT_FALSE(lc::check(C(2, lc::edges::relaxed), drained));
}

// Rendezvous: a send and its receive complete together, so their calls must overlap; a
// value is taken once; "would block" is legal at any time; closed only after a close.
TEST(Checker, UnbufferedChannelPairsEachSendWithAnOverlappingReceive) {
  using U = lc::rendezvous_channel_spec;
  const lc::history ok = {op(0, U::send, 1, U::sent, 0, 3), op(1, U::recv, 0, 1, 1, 2),
                          op(2, U::send, 2, none, 1, 4), op(1, U::recv, 0, none, 5, 6),
                          op(0, U::close, 0, 1, 7, 8), op(2, U::recv, 0, U::closed, 9, 10)};
  EXPECT_TRUE(lc::check(U{}, ok));
  // Two pairs whose four calls all overlap: each pair still finds its adjacent points.
  const lc::history crossed = {op(0, U::send, 1, U::sent, 0, 7), op(1, U::send, 2, U::sent, 1, 6),
                               op(2, U::recv, 0, 2, 2, 5), op(3, U::recv, 0, 1, 3, 4)};
  EXPECT_TRUE(lc::check(U{}, crossed));
  const lc::history send_done_before_recv = {op(0, U::send, 1, U::sent, 0, 1), op(1, U::recv, 0, 1, 2, 3)};
  EXPECT_FALSE(lc::check(U{}, send_done_before_recv));
  const lc::history taken_twice = {op(0, U::send, 1, U::sent, 0, 5), op(1, U::recv, 0, 1, 1, 4),
                                   op(2, U::recv, 0, 1, 2, 3)};
  EXPECT_FALSE(lc::check(U{}, taken_twice));
  const lc::history never_sent = {op(1, U::recv, 0, 7, 0, 1)};
  EXPECT_FALSE(lc::check(U{}, never_sent));
  const lc::history sent_after_close = {op(0, U::close, 0, 1, 0, 1), op(1, U::send, 1, U::sent, 2, 5),
                                        op(2, U::recv, 0, 1, 3, 4)};
  EXPECT_FALSE(lc::check(U{}, sent_after_close));
  const lc::history closed_before_close = {op(1, U::recv, 0, U::closed, 0, 1), op(0, U::close, 0, 1, 2, 3)};
  EXPECT_FALSE(lc::check(U{}, closed_before_close));
}

// Memoization: n pushes all overlapping, then n pops all overlapping. Without the cache the
// search would try the pushes' n! orders; with it each (set, state) pair is met once. The
// bound 2^n * n * 4 is the cache's (sets of pushes x candidates per step, with slack).
TEST(Checker, MemoizationKeepsAWideHistoryCheap) {
  constexpr int n = 10;
  lc::history h;
  for (int i = 0; i < n; ++i) h.push_back(op(i, Q::push, i + 1, 1, i, 2 * n - i));
  for (int i = 0; i < n; ++i) h.push_back(op(n + i, Q::pop, 0, i + 1, 2 * n + 1 + i, 4 * n - i));
  const auto r = lc::check(Q::fifo(), h);
  EXPECT_TRUE(r);
  EXPECT_LT(r.steps, (1u << n) * n * 4u);
}

TEST(Checker, BudgetExhaustedIsUnknownNotAGuess) {
  const auto r = lc::check(Q::fifo(), stalled_producer_history(), {.max_steps = 1});
  EXPECT_EQ(r.outcome, lc::verdict::unknown);
}

TEST(Checker, ShrinkKeepsTheFailureAndDropsTheRest) {
  // The stalled-producer failure buried among unrelated, linearizable traffic of a 4th
  // thread: shrinking must keep the failure and drop thread 3 entirely.
  lc::history h = stalled_producer_history();
  for (int i = 0; i < 4; ++i) {
    h.push_back(op(3, Q::push, 100 + i, 1, 20 + 4 * i, 21 + 4 * i));
    h.push_back(op(3, Q::pop, 0, 100 + i, 22 + 4 * i, 23 + 4 * i));
  }
  const Q spec = Q::bounded(8);
  ASSERT_EQ(lc::check(spec, h).outcome, lc::verdict::not_linearizable);
  const lc::history small = lc::shrink(spec, h);
  EXPECT_EQ(lc::check(spec, small).outcome, lc::verdict::not_linearizable);
  EXPECT_LE(small.size(), 3u);  // push(2), the empty pop, and push(1) that spans them
  EXPECT_LE(lc::thread_count(small), 3u);
  for (const auto& o : small) EXPECT_LT(o.arg, 100);
}

TEST(Checker, ExplainPrintsATimelineAndWritesJson) {
  const std::string path = "lincheck-explain-test.json";
  const std::string text = lc::explain(Q::bounded(4), stalled_producer_history(), path);
  EXPECT_NE(text.find("NOT linearizable"), std::string::npos) << text;
  EXPECT_NE(text.find("thread 1"), std::string::npos) << text;  // push(2) and the empty pop remain
  EXPECT_NE(text.find("-> empty"), std::string::npos) << text;
  std::ifstream in(path);
  std::stringstream json;
  json << in.rdbuf();
  EXPECT_NE(json.str().find("\"operations\""), std::string::npos);
  EXPECT_NE(json.str().find("pop() -> empty"), std::string::npos);
  std::remove(path.c_str());
}

TEST(Checker, RecorderStampsAreOrderedPerThread) {
  lc::recorder rec(2, 4);
  std::thread other([&] {
    for (int i = 0; i < 3; ++i) rec.respond(1, rec.invoke(1, Q::push, i), 1);
  });
  for (int i = 0; i < 3; ++i) rec.respond(0, rec.invoke(0, Q::pop), none);
  other.join();
  const auto h = rec.collect();
  ASSERT_EQ(h.size(), 6u);
  std::vector<std::uint64_t> last(2, 0);
  std::vector<bool> first(2, true);
  for (const auto& o : h) {
    EXPECT_LT(o.call, o.ret);
    if (!first[o.thread]) {
      EXPECT_GT(o.call, last[o.thread]);
    }
    first[o.thread] = false;
    last[o.thread] = o.ret;
  }
}

// ---- wrong structures (the lane's mutants) and their correct versions -----------------

// How many runs to look for a bug: each wrong structure below was flagged within a few
// dozen runs in dev and TSan builds; 3000 leaves a wide margin and, when a run finds it
// (the usual case), the test stops there. A correct structure runs `clean_runs`.
constexpr std::size_t hunt_runs = 3000;
constexpr std::size_t clean_runs = lf::test::sanitized ? 500 : 2000;

lc::run_options options(const char* name, std::size_t runs) {
  lc::run_options o;
  o.threads = 3;
  o.ops_per_thread = 6;
  o.runs = runs;
  o.seed = 20240601;
  o.jitter = 64;
  o.name = name;
  return o;
}

// push with probability 3/5, else pop; values unique per (thread, index).
lc::operation queue_plan(std::mt19937_64& rng, std::size_t t, std::size_t i) {
  operation o;
  o.kind = rng() % 5 < 3 ? Q::push : Q::pop;
  o.arg = lc::unique_value(t, i);
  return o;
}

// The structures below have the lf::concurrent_queue shape, driven by lc::queue_target.
struct locked_queue {
  std::mutex m;
  std::deque<lc::value> q;
  bool try_push(lc::value v) {
    std::lock_guard g(m);
    q.push_back(v);
    return true;
  }
  std::optional<lc::value> try_pop() {
    std::lock_guard g(m);
    if (q.empty()) return std::nullopt;
    const lc::value v = q.front();
    q.pop_front();
    return v;
  }
};

// Mutant: every third push goes in front of the element pushed before it.
struct swapping_queue : locked_queue {
  unsigned pushes = 0;
  bool try_push(lc::value v) {
    std::lock_guard g(m);
    if (++pushes % 3 == 0 && !q.empty()) {
      q.insert(q.end() - 1, v);
    } else {
      q.push_back(v);
    }
    return true;
  }
};

struct locked_stack {
  std::mutex m;
  std::vector<lc::value> s;
  bool try_push(lc::value v) {
    std::lock_guard g(m);
    s.push_back(v);
    return true;
  }
  std::optional<lc::value> try_pop() {
    std::lock_guard g(m);
    if (s.empty()) return std::nullopt;
    const lc::value v = s.back();
    s.pop_back();
    return v;
  }
};

// Mutant: pop reads the top in one critical section and removes "the top" in another;
// two pops between them both return the same value (and a second value is lost).
struct double_pop_stack : locked_stack {
  std::optional<lc::value> try_pop() {
    lc::value v;
    {
      std::lock_guard g(m);
      if (s.empty()) return std::nullopt;
      v = s.back();
    }
    std::this_thread::yield();
    std::lock_guard g(m);
    if (!s.empty()) s.pop_back();
    return v;
  }
};

// A bounded ring of capacity 2 (head/tail counters over a fixed array).
struct locked_ring {
  static constexpr std::size_t capacity = 2;
  std::mutex m;
  lc::value slots[capacity] = {};
  std::size_t head = 0, tail = 0;
  bool try_push(lc::value v) {
    std::lock_guard g(m);
    if (tail - head == capacity) return false;
    slots[tail++ % capacity] = v;
    return true;
  }
  std::optional<lc::value> try_pop() {
    std::lock_guard g(m);
    if (tail == head) return std::nullopt;
    return slots[head++ % capacity];
  }
};

// Mutant: push checks for room, lets go of the lock, then writes: two pushes that both
// saw the last free slot overfill the ring and overwrite its oldest element.
struct check_then_act_ring : locked_ring {
  bool try_push(lc::value v) {
    {
      std::lock_guard g(m);
      if (tail - head == capacity) return false;
    }
    std::this_thread::yield();
    std::lock_guard g(m);
    slots[tail++ % capacity] = v;
    if (tail - head > capacity) ++head;  // the overwritten element is gone
    return true;
  }
};

template <class Impl>
auto maker() {
  return [] { return std::make_unique<lc::queue_target<Impl>>(); };
}

TEST(CheckerSelfTest, AcceptsALockedQueue) {
  const auto s = lc::run_random(Q::fifo(), maker<locked_queue>(), queue_plan, options("locked_queue", clean_runs));
  EXPECT_TRUE(s) << s.report;
  EXPECT_EQ(s.runs, clean_runs);
}

TEST(CheckerSelfTest, FlagsAQueueThatSwapsTwoElements) {
  const auto s = lc::run_random(Q::fifo(), maker<swapping_queue>(), queue_plan, options("swapping_queue", hunt_runs));
  ASSERT_EQ(s.failures, 1u) << "the swapping queue went unnoticed in " << s.runs << " runs";
  std::printf("%s", s.report.c_str());
}

TEST(CheckerSelfTest, AcceptsALockedStack) {
  const auto s = lc::run_random(lc::stack_spec{}, maker<locked_stack>(), queue_plan, options("locked_stack", clean_runs));
  EXPECT_TRUE(s) << s.report;
}

TEST(CheckerSelfTest, FlagsAStackWhosePopCanReturnAValueTwice) {
  const auto s =
      lc::run_random(lc::stack_spec{}, maker<double_pop_stack>(), queue_plan, options("double_pop_stack", hunt_runs));
  ASSERT_EQ(s.failures, 1u) << "the double pop went unnoticed in " << s.runs << " runs";
  std::printf("%s", s.report.c_str());
}

TEST(CheckerSelfTest, AcceptsALockedRing) {
  const auto s = lc::run_random(Q::bounded(locked_ring::capacity), maker<locked_ring>(), queue_plan,
                                options("locked_ring", clean_runs));
  EXPECT_TRUE(s) << s.report;
}

TEST(CheckerSelfTest, FlagsARingWithACheckThenActRace) {
  const auto s = lc::run_random(Q::bounded(locked_ring::capacity), maker<check_then_act_ring>(), queue_plan,
                                options("check_then_act_ring", hunt_runs));
  ASSERT_EQ(s.failures, 1u) << "the check-then-act race went unnoticed in " << s.runs << " runs";
  std::printf("%s", s.report.c_str());
}

// Counters: add(1) as one fetch_add (correct) or as a load and a store (mutant).
template <bool Racy>
struct counter_target {
  std::atomic<lc::value> n{0};
  lc::value apply(const operation& o) {
    if (o.kind == lc::counter_spec::load) return n.load();
    if constexpr (Racy) {
      const lc::value before = n.load();
      std::this_thread::yield();
      n.store(before + o.arg);
      return before;
    } else {
      return n.fetch_add(o.arg);
    }
  }
};

lc::operation counter_plan(std::mt19937_64& rng, std::size_t, std::size_t) {
  operation o;
  o.kind = rng() % 4 == 0 ? lc::counter_spec::load : lc::counter_spec::add;
  o.arg = 1;
  return o;
}

TEST(CheckerSelfTest, AcceptsAnAtomicCounterAndFlagsALoadThenStoreOne) {
  const auto good = lc::run_random(lc::counter_spec{}, [] { return std::make_unique<counter_target<false>>(); },
                                   counter_plan, options("atomic_counter", clean_runs));
  EXPECT_TRUE(good) << good.report;
  const auto bad = lc::run_random(lc::counter_spec{}, [] { return std::make_unique<counter_target<true>>(); },
                                  counter_plan, options("racy_counter", hunt_runs));
  ASSERT_EQ(bad.failures, 1u) << "the lost update went unnoticed in " << bad.runs << " runs";
}

}  // namespace
