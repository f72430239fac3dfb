// Unit lane: patterns/pipeline.hpp — lf::merge (variadic and vector, no input, null
// input, per-input order, cancellation while blocked, destruction while blocked),
// lf::fan_out (every value once, f with a context, move-only values, the first
// exception, n == 0), lf::fan_out_ordered (input order, the window bounding what is
// taken from the input while one item is slow, bad window), lf::pipeline (each mode's
// promise: in order, one at a time, at most n at once; max_live_items; own threads and a
// pool, run from a worker of a pool of one; exceptions from the source, a stage and the
// sink; a parent cancelled before and during the run, and mid-carry; one carrier
// carrying every item; items that are only move-constructible; destruction while
// running; every value destroyed; bad arguments). No sleeps: tests wait on channels, promises, atomics
// and contexts.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "patterns/channel.hpp"
#include "patterns/context.hpp"
#include "patterns/pipeline.hpp"
#include "patterns/worker_pool.hpp"
#include "verification/support/concurrency_meter.hpp"

namespace {

using lf::test::concurrency_meter;

std::string what_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  }
}

template <class F>
std::string thrown_message(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(nothing thrown)";
}

// Counts live instances, so a test can check that every value was destroyed.
struct counted {
  static std::atomic<int> alive;
  int v;
  explicit counted(int x) : v(x) { alive.fetch_add(1); }
  counted(counted&& o) noexcept : v(o.v) { alive.fetch_add(1); }
  counted& operator=(counted&&) = default;
  ~counted() { alive.fetch_sub(1); }
};
std::atomic<int> counted::alive{0};

// Fills a buffered channel with 0..n-1 from a thread, then closes it.
struct producer {
  producer(lf::channel<int>& ch, int n, int base = 0)
      : t([&ch, n, base] {
          for (int i = 0; i < n; ++i) {
            if (ch.send(base + i) != lf::chan_status::ok) break;
          }
          ch.close();
        }) {}
  std::jthread t;
};

// A source of 0..n-1.
auto counting_source(int n) {
  return lf::source([i = 0, n]() mutable -> std::optional<int> {
    if (i == n) return std::nullopt;
    return i++;
  });
}

// ---- merge ------------------------------------------------------------------------

TEST(merge, delivers_every_value_of_every_input_then_closes) {
  lf::channel<int> a(8), b(8), c(8);
  producer pa(a, 100, 0), pb(b, 100, 1000), pc(c, 100, 2000);
  lf::stream<int> m = lf::merge(lf::background(), a, b, c);
  std::vector<int> got;
  for (int v : m) got.push_back(v);
  std::sort(got.begin(), got.end());
  std::vector<int> want;
  for (int base : {0, 1000, 2000}) {
    for (int i = 0; i < 100; ++i) want.push_back(base + i);
  }
  EXPECT_EQ(got, want);
  EXPECT_NO_THROW(m.wait());
}

TEST(merge, keeps_the_order_of_each_input) {
  lf::channel<int> a(4), b(4);
  producer pa(a, 500, 0), pb(b, 500, 10000);
  lf::stream<int> m = lf::merge(lf::background(), std::vector<lf::channel<int>*>{&a, &b}, 16);
  EXPECT_EQ(m.out().capacity(), 16u);
  int last_a = -1, last_b = 9999;
  for (int v : m) {
    int& last = v < 10000 ? last_a : last_b;
    EXPECT_EQ(v, last + 1);
    last = v;
  }
  EXPECT_EQ(last_a, 499);
  EXPECT_EQ(last_b, 10499);
}

TEST(merge, without_inputs_is_closed_at_once) {
  lf::stream<int> m = lf::merge(lf::background(), std::vector<lf::channel<int>*>{});
  EXPECT_EQ(m.out().recv().status(), lf::chan_status::closed);
}

TEST(merge, a_null_input_throws_naming_its_index) {
  lf::channel<int> a;
  EXPECT_THROW((void)lf::merge(lf::background(), std::vector<lf::channel<int>*>{&a, nullptr}), std::invalid_argument);
  EXPECT_EQ(thrown_message([&] { (void)lf::merge(lf::background(), std::vector<lf::channel<int>*>{&a, nullptr}); }),
            "lf::merge: chans[1] is a null channel");
}

TEST(merge, a_negative_capacity_throws) {
  lf::channel<int> a;
  EXPECT_THROW((void)lf::merge(lf::background(), std::vector<lf::channel<int>*>{&a}, -1), std::invalid_argument);
}

TEST(merge, cancelling_the_context_closes_the_output_while_inputs_stay_open) {
  lf::channel<int> a, b;  // nobody sends or closes
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  lf::stream<int> m = lf::merge(ctx, a, b);
  cancel();
  EXPECT_EQ(m.out().recv().status(), lf::chan_status::closed);  // the last forwarder closed it
  m.wait();
}

TEST(merge, a_context_done_before_the_call_closes_the_output) {
  lf::channel<int> a(4);
  ASSERT_EQ(a.send(1), lf::chan_status::ok);
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  cancel();
  lf::stream<int> m = lf::merge(ctx, a);
  EXPECT_EQ(m.out().recv().status(), lf::chan_status::closed);
  EXPECT_EQ(a.size(), 1u);  // the value stays in its input
}

TEST(merge, destroying_the_stream_stops_forwarders_blocked_on_send) {
  lf::channel<int> a(4);
  for (int i = 0; i < 4; ++i) ASSERT_EQ(a.send(i), lf::chan_status::ok);
  {
    lf::stream<int> m = lf::merge(lf::background(), a);  // unbuffered out, nobody reads
    (void)m.out().recv();  // the forwarder is running; it blocks on its next send
  }  // cancel + join: returns
  SUCCEED();
}

TEST(merge, a_moved_stream_keeps_running_and_the_moved_from_one_is_inert) {
  lf::channel<int> a(4);
  producer p(a, 10);
  lf::stream<int> m1 = lf::merge(lf::background(), a);
  lf::stream<int> m2 = std::move(m1);
  int n = 0;
  for (int v : m2) n += v;
  EXPECT_EQ(n, 45);
}

// ---- fan_out ----------------------------------------------------------------------

TEST(fan_out, applies_f_to_every_value_once) {
  lf::channel<int> in(16);
  producer p(in, 1000);
  lf::stream<long> sq = lf::fan_out(lf::background(), in, 4, [](int v) { return static_cast<long>(v) * v; }, 8);
  long sum = 0;
  int count = 0;
  for (long v : sq) {
    sum += v;
    ++count;
  }
  EXPECT_EQ(count, 1000);
  EXPECT_EQ(sum, 332833500L);  // sum of squares 0..999
  sq.wait();
}

TEST(fan_out, f_may_take_the_stream_context) {
  lf::channel<int> in(4);
  producer p(in, 10);
  std::atomic<bool> saw_live{true};
  lf::stream<int> s = lf::fan_out(lf::background(), in, 2, [&](const lf::context& c, int v) {
    if (c.done()) saw_live = false;
    return v + 1;
  });
  int sum = 0;
  for (int v : s) sum += v;
  EXPECT_EQ(sum, 55);
  EXPECT_TRUE(saw_live);
}

TEST(fan_out, moves_move_only_values) {
  lf::channel<std::unique_ptr<int>> in(4);
  std::jthread t([&] {
    for (int i = 0; i < 20; ++i) (void)in.send(std::make_unique<int>(i));
    in.close();
  });
  lf::stream<std::unique_ptr<int>> s =
      lf::fan_out(lf::background(), in, 3, [](std::unique_ptr<int> p) { return std::make_unique<int>(*p * 2); });
  int sum = 0;
  for (std::unique_ptr<int> p : s) sum += *p;
  EXPECT_EQ(sum, 380);
}

TEST(fan_out, n_zero_throws_naming_n) {
  lf::channel<int> in;
  EXPECT_EQ(thrown_message([&] { (void)lf::fan_out(lf::background(), in, 0, [](int v) { return v; }); }),
            "lf::fan_out: n = 0 (must be >= 1)");
}

TEST(fan_out, the_first_exception_stops_the_workers_and_reaches_wait) {
  lf::channel<int> in;  // unbuffered and never closed: workers block unless stopped
  std::jthread t([&] { (void)in.send(7); });
  lf::stream<int> s = lf::fan_out(lf::background(), in, 3, [](int v) -> int {
    throw std::runtime_error("bad " + std::to_string(v));
  });
  EXPECT_EQ(s.out().recv().status(), lf::chan_status::closed);  // every worker returned
  EXPECT_TRUE(s.ctx().done());
  EXPECT_EQ(what_of(s.ctx().cause()), "bad 7");
  EXPECT_EQ(thrown_message([&] { s.wait(); }), "bad 7");
}

TEST(fan_out, cancel_wakes_workers_blocked_on_send) {
  lf::channel<int> in(8);
  for (int i = 0; i < 8; ++i) ASSERT_EQ(in.send(i), lf::chan_status::ok);
  lf::stream<int> s = lf::fan_out(lf::background(), in, 2, [](int v) { return v; });  // unbuffered, unread
  ASSERT_TRUE(s.out().recv().ok());
  s.cancel();
  s.wait();
  // Values the workers had taken and not sent were dropped; the rest are still in `in`.
  while (s.out().try_recv().ok()) {
  }
  EXPECT_EQ(s.out().recv().status(), lf::chan_status::closed);
}

// ---- fan_out_ordered --------------------------------------------------------------

TEST(fan_out_ordered, delivers_results_in_input_order) {
  lf::channel<int> in(16);
  producer p(in, 2000);
  lf::stream<int> s = lf::fan_out_ordered(
      lf::background(), in, 4,
      [](int v) {
        if (v % 7 == 0) std::this_thread::yield();  // let later items overtake
        return v * 3;
      },
      8);
  int expect = 0;
  for (int v : s) {
    EXPECT_EQ(v, expect * 3);
    ++expect;
  }
  EXPECT_EQ(expect, 2000);
  s.wait();
}

TEST(fan_out_ordered, one_slow_item_holds_at_most_window_items_out_of_the_input) {
  constexpr int window = 4;
  lf::channel<int> in(100);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(in.send(i), lf::chan_status::ok);
  in.close();
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> started{0};
  lf::stream<int> s = lf::fan_out_ordered(
      lf::background(), in, 3,
      [&](int v) {
        started.fetch_add(1);
        if (v == 0) released.wait();
        return v;
      },
      window, 100);
  // Item 0 is stuck: the source takes a token before each receive, so it can have taken
  // at most `window` values; the other workers finish theirs and wait at the sink.
  while (started.load() < window) std::this_thread::yield();
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(in.size(), 100u - window);
    EXPECT_EQ(s.out().size(), 0u);
    std::this_thread::yield();
  }
  EXPECT_EQ(started.load(), window);
  release.set_value();
  int expect = 0;
  for (int v : s) EXPECT_EQ(v, expect++);
  EXPECT_EQ(expect, 100);
}

TEST(fan_out_ordered, bad_n_and_window_throw_naming_them) {
  lf::channel<int> in;
  auto id = [](int v) { return v; };
  EXPECT_EQ(thrown_message([&] { (void)lf::fan_out_ordered(lf::background(), in, 0, id, 4); }),
            "lf::fan_out_ordered: n = 0 (must be >= 1)");
  EXPECT_EQ(thrown_message([&] { (void)lf::fan_out_ordered(lf::background(), in, 2, id, 0); }),
            "lf::fan_out_ordered: window = 0 (must be >= 1)");
}

TEST(fan_out_ordered, an_exception_reaches_wait_after_a_prefix) {
  lf::channel<int> in(64);
  producer p(in, 50);
  lf::stream<int> s = lf::fan_out_ordered(
      lf::background(), in, 3,
      [](int v) {
        if (v == 20) throw std::runtime_error("twenty");
        return v;
      },
      4, 64);
  int expect = 0;
  for (int v : s) EXPECT_EQ(v, expect++);
  EXPECT_LE(expect, 20);
  EXPECT_EQ(thrown_message([&] { s.wait(); }), "twenty");
}

// ---- pipeline: modes and bounds -----------------------------------------------------

TEST(pipeline, in_order_sink_gets_every_item_in_source_order) {
  std::vector<int> out;
  lf::pipeline p(8, counting_source(5000), lf::stage(lf::parallel(), [](int v) { return v * 2; }),
                 lf::sink(lf::serial_in_order, [&](int v) { out.push_back(v); }));
  EXPECT_EQ(p.max_live_items(), 8u);
  EXPECT_EQ(p.run(lf::background(), 3), lf::context_error::none);
  ASSERT_EQ(out.size(), 5000u);
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(out[static_cast<std::size_t>(i)], 2 * i);
}

TEST(pipeline, runs_on_a_worker_pool_and_again_after_wait) {
  lf::worker_pool pool(2);
  long sum = 0;
  int n = 0;
  lf::pipeline p(4, lf::source([&n]() -> std::optional<int> {
                   if (n == 1000) return std::nullopt;
                   return n++;
                 }),
                 lf::stage(lf::parallel(2), [](int v) { return static_cast<long>(v); }),
                 lf::sink(lf::serial_out_of_order, [&](long v) { sum += v; }));
  EXPECT_EQ(p.run(lf::background(), pool), lf::context_error::none);
  EXPECT_EQ(sum, 499500);
  n = 0;
  sum = 0;
  p.start(lf::background(), pool);
  EXPECT_EQ(p.wait(), lf::context_error::none);
  EXPECT_EQ(sum, 499500);
}

TEST(pipeline, run_from_a_worker_of_a_pool_of_one_helps) {
  lf::worker_pool pool(1);
  std::vector<int> out;
  lf::pipeline p(3, counting_source(200), lf::stage(lf::parallel(), [](int v) { return v; }),
                 lf::sink(lf::serial_in_order, [&](int v) { out.push_back(v); }));
  lf::pool_future<lf::context_error> f = pool.submit([&] { return p.run(lf::background(), pool); });
  EXPECT_EQ(f.get(), lf::context_error::none);
  EXPECT_EQ(out.size(), 200u);
}

TEST(pipeline, serial_stages_run_one_item_at_a_time_and_in_order_ones_in_order) {
  concurrency_meter out_of_order, in_order;
  std::vector<int> seen_in_order;
  std::atomic<int> count{0};
  lf::pipeline p(16, counting_source(3000), lf::stage(lf::parallel(), [](int v) { return v; }),
                 lf::stage(lf::serial_out_of_order,
                           [&](int v) {
                             out_of_order.enter();
                             std::this_thread::yield();
                             out_of_order.leave();
                             return v;
                           }),
                 lf::stage(lf::parallel(), [](int v) { return v; }),
                 lf::stage(lf::serial_in_order,
                           [&](int v) {
                             in_order.enter();
                             seen_in_order.push_back(v);
                             in_order.leave();
                             return v;
                           }),
                 lf::sink(lf::parallel(), [&](int) { count.fetch_add(1); }));
  EXPECT_EQ(p.run(lf::background(), 4), lf::context_error::none);
  EXPECT_EQ(out_of_order.most.load(), 1);
  EXPECT_EQ(in_order.most.load(), 1);
  EXPECT_EQ(count.load(), 3000);
  ASSERT_EQ(seen_in_order.size(), 3000u);
  for (int i = 0; i < 3000; ++i) ASSERT_EQ(seen_in_order[static_cast<std::size_t>(i)], i);
}

TEST(pipeline, parallel_n_runs_at_most_n_at_once) {
  concurrency_meter m;
  lf::pipeline p(16, counting_source(2000),
                 lf::stage(lf::parallel(2),
                           [&](int v) {
                             m.enter();
                             std::this_thread::yield();
                             m.leave();
                             return v;
                           }),
                 lf::sink(lf::serial_out_of_order, [](int) {}));
  EXPECT_EQ(p.run(lf::background(), 4), lf::context_error::none);
  EXPECT_LE(m.most.load(), 2);
  EXPECT_GE(m.most.load(), 1);
}

TEST(pipeline, at_most_max_live_items_are_between_source_and_sink_end) {
  std::atomic<int> live{0};
  std::atomic<int> most{0};
  lf::pipeline p(5, lf::source([&, i = 0]() mutable -> std::optional<int> {
                   if (i == 3000) return std::nullopt;
                   const int n = live.fetch_add(1) + 1;
                   int m = most.load();
                   while (n > m && !most.compare_exchange_weak(m, n)) {
                   }
                   return i++;
                 }),
                 lf::stage(lf::parallel(), [](int v) {
                   std::this_thread::yield();
                   return v;
                 }),
                 lf::sink(lf::serial_in_order, [&](int) { live.fetch_sub(1); }));
  EXPECT_EQ(p.run(lf::background(), 4), lf::context_error::none);
  EXPECT_LE(most.load(), 5);
  EXPECT_EQ(live.load(), 0);
}

TEST(pipeline, one_live_item_runs_the_items_one_by_one) {
  std::vector<int> out;
  lf::pipeline p(1, counting_source(100), lf::stage(lf::parallel(), [](int v) { return v; }),
                 lf::sink(lf::serial_out_of_order, [&](int v) { out.push_back(v); }));
  EXPECT_EQ(p.run(lf::background(), 2), lf::context_error::none);
  ASSERT_EQ(out.size(), 100u);
  EXPECT_TRUE(std::is_sorted(out.begin(), out.end()));  // one live item: nothing can overtake
}

// A carrier takes an item from the source and carries it through every stage, then goes
// back to the source: on a pool of one worker one task runs the whole run, however many
// items (no task per item), and the in-order stages and the live bound still hold.
TEST(pipeline, one_carrier_runs_every_item_through_every_stage_in_order_within_the_bound) {
  lf::worker_pool pool(1);
  std::atomic<int> live{0};
  int most = 0;
  std::vector<int> middle, out;
  lf::pipeline p(3, lf::source([&, i = 0]() mutable -> std::optional<int> {
                   if (i == 1000) return std::nullopt;
                   most = std::max(most, live.fetch_add(1) + 1);
                   return i++;
                 }),
                 lf::stage(lf::serial_in_order,
                           [&](int v) {
                             middle.push_back(v);
                             return v;
                           }),
                 lf::stage(lf::parallel(), [](int v) { return v + 1; }),
                 lf::sink(lf::serial_in_order, [&](int v) {
                   out.push_back(v);
                   live.fetch_sub(1);
                 }));
  EXPECT_EQ(p.run(lf::background(), pool), lf::context_error::none);
  pool.wait_idle();  // completed() counts a task after its body returned
  EXPECT_LE(pool.completed(), 2u);  // one carrier (and at most one more, never one per item)
  EXPECT_LE(most, 3);
  ASSERT_EQ(middle.size(), 1000u);
  ASSERT_EQ(out.size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(middle[static_cast<std::size_t>(i)], i);
    ASSERT_EQ(out[static_cast<std::size_t>(i)], i + 1);
  }
}

// An item carried from one stage to the next checks the run first: a stage that cancels
// the run mid-carry keeps its own item, and every later one, out of the next stage.
TEST(pipeline, a_cancel_in_mid_carry_keeps_that_item_out_of_the_next_stage) {
  {
    auto [ctx, cancel] = lf::with_cancel(lf::background());
    std::vector<int> out;
    lf::worker_pool pool(2);
    lf::pipeline p(4, lf::source([i = 0]() mutable -> std::optional<counted> {
                     if (i == 100000) return std::nullopt;
                     return counted(i++);
                   }),
                   lf::stage(lf::serial_in_order,
                             [cancel = cancel](counted c) {
                               if (c.v == 300) cancel();
                               return c;
                             }),
                   lf::stage(lf::parallel(), [](counted c) { return c; }),
                   lf::sink(lf::serial_in_order, [&](counted c) { out.push_back(c.v); }));
    EXPECT_EQ(p.run(ctx, pool), lf::context_error::canceled);
    EXPECT_LT(out.size(), 301u);  // item 300 was cancelled on its way: it never reaches the sink
    for (std::size_t i = 0; i < out.size(); ++i) ASSERT_EQ(out[i], static_cast<int>(i));
  }
  EXPECT_EQ(counted::alive.load(), 0);  // the items in flight and in the reorder rings were destroyed
}

// A stage's input need only be move-constructible: the gates and the sink's hand-over
// re-emplace values rather than assign them.
TEST(pipeline, items_need_only_be_move_constructible) {
  struct only_movable {
    std::unique_ptr<int> p;
    explicit only_movable(int v) : p(std::make_unique<int>(v)) {}
    only_movable(only_movable&&) noexcept = default;
    only_movable& operator=(only_movable&&) = delete;
  };
  std::vector<int> out;
  lf::pipeline p(4, lf::source([i = 0]() mutable -> std::optional<only_movable> {
                   if (i == 2000) return std::nullopt;
                   return std::optional<only_movable>(std::in_place, i++);
                 }),
                 lf::stage(lf::serial_in_order, [](only_movable v) { return v; }),
                 lf::stage(lf::parallel(), [](only_movable v) { return v; }),
                 lf::sink(lf::serial_in_order, [&](only_movable v) { out.push_back(*v.p); }));
  EXPECT_EQ(p.run(lf::background(), 3), lf::context_error::none);
  ASSERT_EQ(out.size(), 2000u);
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(out[static_cast<std::size_t>(i)], i);
}

TEST(pipeline, an_empty_source_completes_without_calling_the_sink) {
  bool called = false;
  lf::pipeline p(4, counting_source(0), lf::sink(lf::serial_in_order, [&](int) { called = true; }));
  EXPECT_EQ(p.run(), lf::context_error::none);
  EXPECT_FALSE(called);
}

TEST(pipeline, moves_move_only_items_and_destroys_every_value) {
  {
    int sum = 0;
    lf::pipeline p(6, lf::source([i = 0]() mutable -> std::optional<std::unique_ptr<counted>> {
                     if (i == 500) return std::nullopt;
                     return std::make_unique<counted>(i++);
                   }),
                   lf::stage(lf::parallel(), [](std::unique_ptr<counted> c) { return counted(c->v + 1); }),
                   lf::sink(lf::serial_in_order, [&](counted c) { sum += c.v; }));
    EXPECT_EQ(p.run(lf::background(), 3), lf::context_error::none);
    EXPECT_EQ(sum, 125250);
  }
  EXPECT_EQ(counted::alive.load(), 0);
}

TEST(pipeline, callables_may_take_the_run_context) {
  std::atomic<int> sum{0};
  lf::pipeline p(4, lf::source([i = 0](const lf::context& c) mutable -> std::optional<int> {
                   if (i == 10 || c.done()) return std::nullopt;
                   return i++;
                 }),
                 lf::stage(lf::parallel(), [](const lf::context&, int v) { return v; }),
                 lf::sink(lf::serial_in_order, [&](const lf::context&, int v) { sum += v; }));
  EXPECT_EQ(p.run(lf::background(), 2), lf::context_error::none);
  EXPECT_EQ(sum.load(), 45);
}

// ---- pipeline: errors, cancellation, destruction --------------------------------------

TEST(pipeline, an_exception_in_a_stage_stops_the_run_and_is_rethrown_after_a_prefix) {
  std::vector<int> out;
  lf::context seen;
  lf::pipeline p(8, counting_source(100000),
                 lf::stage(lf::parallel(),
                           [&](const lf::context& c, int v) {
                             if (v == 300) {
                               seen = c;
                               throw std::runtime_error("stage failed at 300");
                             }
                             return v;
                           }),
                 lf::sink(lf::serial_in_order, [&](int v) { out.push_back(v); }));
  EXPECT_EQ(thrown_message([&] { (void)p.run(lf::background(), 3); }), "stage failed at 300");
  EXPECT_EQ(out.size(), 300u);  // in order, so exactly the items before the failed one
  for (std::size_t i = 0; i < out.size(); ++i) ASSERT_EQ(out[i], static_cast<int>(i));
  EXPECT_TRUE(seen.done());
  EXPECT_EQ(what_of(seen.cause()), "stage failed at 300");
}

TEST(pipeline, an_exception_in_the_source_is_rethrown) {
  int delivered = 0;
  lf::pipeline p(4, lf::source([i = 0]() mutable -> std::optional<int> {
                   if (i == 50) throw std::logic_error("source broke");
                   return i++;
                 }),
                 lf::sink(lf::serial_in_order, [&](int) { ++delivered; }));
  EXPECT_EQ(thrown_message([&] { (void)p.run(lf::background(), 2); }), "source broke");
  EXPECT_LE(delivered, 50);
}

TEST(pipeline, an_exception_in_the_sink_delivers_nothing_after_it) {
  std::vector<int> out;
  lf::pipeline p(8, counting_source(1000), lf::stage(lf::parallel(), [](int v) { return v; }),
                 lf::sink(lf::serial_in_order, [&](int v) {
                   if (v == 77) throw std::runtime_error("sink");
                   out.push_back(v);
                 }));
  EXPECT_THROW((void)p.run(lf::background(), 3), std::runtime_error);
  ASSERT_EQ(out.size(), 77u);
  for (int i = 0; i < 77; ++i) ASSERT_EQ(out[static_cast<std::size_t>(i)], i);
}

TEST(pipeline, a_parent_cancelled_mid_run_stops_it_with_a_prefix_and_no_value_left) {
  {
    auto [ctx, cancel] = lf::with_cancel(lf::background());
    std::vector<int> out;
    lf::pipeline p(8, lf::source([i = 0]() mutable -> std::optional<counted> {
                     if (i == 1000000) return std::nullopt;
                     return counted(i++);
                   }),
                   lf::stage(lf::parallel(), [](counted c) { return c; }),
                   lf::sink(lf::serial_in_order, [&, cancel = cancel](counted c) {
                     out.push_back(c.v);
                     if (c.v == 500) cancel();
                   }));
    EXPECT_EQ(p.run(ctx, 3), lf::context_error::canceled);
    ASSERT_GE(out.size(), 501u);
    for (std::size_t i = 0; i < out.size(); ++i) ASSERT_EQ(out[i], static_cast<int>(i));
    EXPECT_LT(out.size(), 1000000u);
  }
  EXPECT_EQ(counted::alive.load(), 0);  // dropped items were destroyed, none leaked
}

TEST(pipeline, a_parent_done_before_the_run_calls_nothing) {
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  cancel();
  bool called = false;
  lf::pipeline p(4, lf::source([&]() -> std::optional<int> {
                   called = true;
                   return 1;
                 }),
                 lf::sink(lf::serial_in_order, [](int) {}));
  EXPECT_EQ(p.run(ctx, 2), lf::context_error::canceled);
  EXPECT_FALSE(called);
}

TEST(pipeline, a_deadline_reports_deadline_exceeded) {
  auto [ctx, cancel] = lf::with_timeout(lf::background(), std::chrono::milliseconds(0));
  lf::pipeline p(4, counting_source(10), lf::sink(lf::serial_in_order, [](int) {}));
  EXPECT_EQ(p.run(ctx, 2), lf::context_error::deadline_exceeded);
}

TEST(pipeline, destroying_a_running_pipeline_stops_and_waits) {
  std::atomic<int> delivered{0};
  {
    lf::pipeline p(4, lf::source([](const lf::context& c) -> std::optional<int> {
                     if (c.done()) return std::nullopt;
                     return 1;  // endless until stopped
                   }),
                   lf::sink(lf::serial_in_order, [&](int) { delivered.fetch_add(1); }));
    p.start(lf::background(), 2);
    while (delivered.load() < 10) std::this_thread::yield();
  }
  const int after = delivered.load();
  EXPECT_GE(after, 10);
}

// ---- pipeline: bad arguments ------------------------------------------------------

TEST(pipeline, bad_arguments_throw_naming_the_parameter) {
  auto sink = lf::sink(lf::serial_in_order, [](int) {});
  EXPECT_EQ(thrown_message([&] { lf::pipeline p(0, counting_source(1), sink); }),
            "lf::pipeline: max_live_items = 0 (must be >= 1)");
  EXPECT_EQ(thrown_message([] { (void)lf::parallel(0); }),
            "lf::parallel: n = 0 (must be >= 1; lf::parallel() for no limit)");
  lf::pipeline p(2, counting_source(1), sink);
  EXPECT_THROW({ lf::pipeline q(decltype(p)::max_live_limit + 1, counting_source(1), sink); }, std::length_error);
  EXPECT_EQ(thrown_message([&] { (void)p.run(lf::background(), std::size_t{0}); }),
            "lf::pipeline: threads = 0 (must be >= 1)");
  EXPECT_THROW((void)p.wait(), std::logic_error);
  p.start(lf::background(), 1);
  EXPECT_THROW(p.start(lf::background(), 1), std::logic_error);
  EXPECT_EQ(p.wait(), lf::context_error::none);
}

}  // namespace
