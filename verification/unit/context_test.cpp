// Unit lane: lf::context (patterns/context.hpp) — Go's context tree, one behaviour per
// test: background, cancel and its propagation, detaching, deadlines, values,
// without_cancel, after_func and stop(), cause, std::stop_token both ways, the
// context_callback hook, and bad input.
//
// Timing: deadlines are 10-50 ms and the tests assert order and outcome, never exact
// times. A thread that must be parked before a cancel is waited for by watching the
// done word's waiters bit, not by sleeping; a sleep is used only to let a deadline pass.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <latch>
#include <mutex>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "patterns/context.hpp"

namespace {

using namespace std::chrono_literals;
using lf::context_error;

struct request_id {
  using value_type = std::string;
};
struct user_id {
  using value_type = int;
};

// Spins until a thread has announced itself as a waiter on ctx's done word.
void wait_until_parked(const lf::context& ctx) {
  const lf::detail::cancel_node* n = lf::detail::context_access::node(ctx)->canceler();
  while ((n->word(std::memory_order_relaxed) & lf::detail::cancel_node::waiters_bit) == 0) {
    lf::yield_thread();
  }
}

std::string message_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  }
}

// ---- background ---------------------------------------------------------------------

TEST(context, background_is_never_done_and_carries_nothing) {
  const lf::context bg = lf::background();
  EXPECT_FALSE(bg.done().ready());
  EXPECT_FALSE(static_cast<bool>(bg.done()));
  EXPECT_TRUE(bg.done().never());
  EXPECT_EQ(bg.err(), context_error::none);
  EXPECT_EQ(bg.cause(), nullptr);
  EXPECT_FALSE(bg.deadline().has_value());
  EXPECT_EQ(bg.value<request_id>(), nullptr);
  EXPECT_FALSE(bg.done().wait_for(10ms));
}

TEST(context, a_default_constructed_context_is_background) {
  const lf::context ctx;
  EXPECT_TRUE(ctx.done().never());
  EXPECT_EQ(ctx.err(), context_error::none);
}

// ---- cancel -------------------------------------------------------------------------

TEST(context, a_new_cancellable_context_is_not_done) {
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  EXPECT_FALSE(ctx.done().ready());
  EXPECT_FALSE(ctx.done().never());
  EXPECT_EQ(ctx.err(), context_error::none);
  EXPECT_EQ(ctx.cause(), nullptr);
  cancel();
}

TEST(context, cancel_makes_it_done_with_canceled) {
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  cancel();
  EXPECT_TRUE(ctx.done().ready());
  EXPECT_TRUE(static_cast<bool>(ctx.done()));
  EXPECT_EQ(ctx.err(), context_error::canceled);
  EXPECT_TRUE(ctx.done().wait_for(0ms));
}

TEST(context, cancel_wakes_a_blocked_wait) {
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  std::atomic<bool> woke{false};
  std::thread waiter([&, c = ctx] {
    c.done().wait();
    woke = true;
  });
  wait_until_parked(ctx);
  EXPECT_FALSE(woke.load());
  cancel();
  waiter.join();
  EXPECT_TRUE(woke.load());
}

TEST(context, cancel_wakes_every_waiter_including_timed_ones) {
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  std::atomic<int> woke{0};
  std::vector<std::thread> waiters;
  for (int i = 0; i < 4; ++i) {
    waiters.emplace_back([&, i, c = ctx] {
      if (i % 2 == 0) {
        c.done().wait();
        ++woke;
      } else if (c.done().wait_for(1h)) {
        ++woke;
      }
    });
  }
  wait_until_parked(ctx);
  cancel();
  for (auto& t : waiters) t.join();
  EXPECT_EQ(woke.load(), 4);
}

TEST(context, cancelling_twice_is_harmless_and_keeps_the_first_cause) {
  auto [ctx, cancel] = lf::with_cancel_cause(lf::background());
  cancel(std::make_exception_ptr(std::runtime_error("first")));
  cancel(std::make_exception_ptr(std::runtime_error("second")));
  EXPECT_EQ(ctx.err(), context_error::canceled);
  EXPECT_EQ(message_of(ctx.cause()), "first");
}

TEST(context, writes_before_cancel_are_visible_after_done) {
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  int result = 0;
  std::thread canceller([&, c = cancel] {
    result = 42;
    c();
  });
  ctx.done().wait();
  EXPECT_EQ(result, 42);
  canceller.join();
}

TEST(context, wait_until_a_time_returns_false_while_not_done) {
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  EXPECT_FALSE(ctx.done().wait_until(lf::wait_clock::now() + 10ms));
  EXPECT_FALSE(ctx.done().wait_for(10ms));
  cancel();
}

// ---- the tree -----------------------------------------------------------------------

TEST(context, parent_cancel_cancels_every_descendant) {
  auto [parent, cancel] = lf::with_cancel(lf::background());
  auto [child, cancel_child] = lf::with_cancel(parent);
  const lf::context valued = lf::with_value(child, user_id{}, 7);
  auto [grandchild, cancel_grandchild] = lf::with_cancel(valued);
  auto [timed, cancel_timed] = lf::with_timeout(grandchild, 1h);
  cancel();
  for (const lf::context* c : std::initializer_list<const lf::context*>{&parent, &child, &valued, &grandchild, &timed}) {
    EXPECT_EQ(c->err(), context_error::canceled);
  }
}

TEST(context, parent_cancel_wakes_a_descendants_waiter) {
  auto [parent, cancel] = lf::with_cancel(lf::background());
  auto [child, cancel_child] = lf::with_cancel(lf::with_value(parent, user_id{}, 1));
  std::thread waiter([c = child] { c.done().wait(); });
  wait_until_parked(child);
  cancel();
  waiter.join();
  EXPECT_EQ(child.err(), context_error::canceled);
}

TEST(context, child_cancel_does_not_cancel_the_parent_or_siblings) {
  auto [parent, cancel] = lf::with_cancel(lf::background());
  auto [a, cancel_a] = lf::with_cancel(parent);
  auto [b, cancel_b] = lf::with_cancel(parent);
  cancel_a();
  EXPECT_EQ(a.err(), context_error::canceled);
  EXPECT_EQ(parent.err(), context_error::none);
  EXPECT_EQ(b.err(), context_error::none);
  cancel();
  EXPECT_EQ(b.err(), context_error::canceled);
}

TEST(context, child_cancel_detaches_it_from_the_parent) {
  auto [parent, cancel] = lf::with_cancel(lf::background());
  auto [a, cancel_a] = lf::with_cancel(parent);
  auto [b, cancel_b] = lf::with_cancel(parent);
  EXPECT_EQ(lf::detail::context_access::children_approx(parent), 2u);
  cancel_a();
  EXPECT_EQ(lf::detail::context_access::children_approx(parent), 1u);
  cancel_b();
  EXPECT_EQ(lf::detail::context_access::children_approx(parent), 0u);
  cancel();
}

TEST(context, a_child_dropped_without_cancel_leaves_the_parents_list) {
  auto [parent, cancel] = lf::with_cancel(lf::background());
  {
    auto [child, cancel_child] = lf::with_cancel(parent);
    EXPECT_EQ(lf::detail::context_access::children_approx(parent), 1u);
  }
  EXPECT_EQ(lf::detail::context_access::children_approx(parent), 0u);
  cancel();
}

TEST(context, parent_cancel_empties_its_child_list) {
  auto [parent, cancel] = lf::with_cancel(lf::background());
  auto [a, cancel_a] = lf::with_cancel(parent);
  auto [b, cancel_b] = lf::with_cancel(parent);
  cancel();
  EXPECT_EQ(lf::detail::context_access::children_approx(parent), 0u);
}

TEST(context, a_child_of_a_done_parent_is_done_at_once_with_the_parents_error_and_cause) {
  auto [parent, cancel] = lf::with_cancel_cause(lf::background());
  cancel(std::make_exception_ptr(std::runtime_error("shutdown")));
  auto [child, cancel_child] = lf::with_cancel(parent);
  EXPECT_EQ(child.err(), context_error::canceled);
  EXPECT_EQ(message_of(child.cause()), "shutdown");
  auto [timed, cancel_timed] = lf::with_deadline(parent, lf::wait_clock::now() - 1s);
  EXPECT_EQ(timed.err(), context_error::canceled);  // the parent's error wins, as in Go
}

TEST(context, a_cancelled_child_stays_cancelled_when_the_parent_is_cancelled_later) {
  auto [parent, cancel] = lf::with_cancel_cause(lf::background());
  auto [child, cancel_child] = lf::with_cancel_cause(parent);
  cancel_child(std::make_exception_ptr(std::runtime_error("child")));
  cancel(std::make_exception_ptr(std::runtime_error("parent")));
  EXPECT_EQ(message_of(child.cause()), "child");
}

// ---- deadlines ----------------------------------------------------------------------

TEST(context, a_deadline_fires_with_deadline_exceeded) {
  const auto when = lf::wait_clock::now() + 20ms;
  auto [ctx, cancel] = lf::with_deadline(lf::background(), when);
  ASSERT_TRUE(ctx.deadline().has_value());
  EXPECT_EQ(*ctx.deadline(), when);
  ctx.done().wait();
  EXPECT_GE(lf::wait_clock::now(), when);
  EXPECT_EQ(ctx.err(), context_error::deadline_exceeded);
  cancel();
  EXPECT_EQ(ctx.err(), context_error::deadline_exceeded);
}

TEST(context, a_timeout_fires_and_its_descendants_see_deadline_exceeded) {
  auto [ctx, cancel] = lf::with_timeout(lf::background(), 10ms);
  auto [child, cancel_child] = lf::with_cancel(ctx);
  child.done().wait();
  EXPECT_EQ(child.err(), context_error::deadline_exceeded);
  EXPECT_EQ(child.deadline(), ctx.deadline());
}

TEST(context, deadlines_fire_in_deadline_order) {
  std::mutex m;
  std::vector<int> order;
  // One origin for the three deadlines: three with_timeout calls would each add to their
  // own now(), and a thread descheduled for 20 ms between them (seen under TSan on a busy
  // 2-core machine) would give `middle` a deadline after `late`'s.
  const auto t0 = lf::wait_clock::now();
  auto [late, c3] = lf::with_deadline(lf::background(), t0 + 50ms);
  auto [early, c1] = lf::with_deadline(lf::background(), t0 + 10ms);
  auto [middle, c2] = lf::with_deadline(lf::background(), t0 + 30ms);
  std::latch all_ran(3);
  auto note = [&](int i) {
    return [&, i] {
      {
        std::lock_guard<std::mutex> g(m);
        order.push_back(i);
      }
      all_ran.count_down();
    };
  };
  auto h1 = lf::after_func(early, note(1));
  auto h2 = lf::after_func(middle, note(2));
  auto h3 = lf::after_func(late, note(3));
  // Registered in deadline order, so a context already done at its registration runs f
  // here before the later ones can fire. Not late.done().wait(): done is set before the
  // timer thread runs late's after_func, so a waiter woken by done could look before
  // note(3) ran.
  all_ran.wait();
  std::lock_guard<std::mutex> g(m);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(context, with_deadline_never_extends_the_parents) {
  auto [parent, cancel] = lf::with_timeout(lf::background(), 20ms);
  auto [child, cancel_child] = lf::with_deadline(parent, lf::wait_clock::now() + 1h);
  EXPECT_EQ(child.deadline(), parent.deadline());
  child.done().wait();
  EXPECT_EQ(child.err(), context_error::deadline_exceeded);
}

TEST(context, an_earlier_child_deadline_fires_before_the_parents) {
  auto [parent, cancel] = lf::with_timeout(lf::background(), 1h);
  auto [child, cancel_child] = lf::with_timeout(parent, 10ms);
  EXPECT_LT(*child.deadline(), *parent.deadline());
  child.done().wait();
  EXPECT_EQ(child.err(), context_error::deadline_exceeded);
  EXPECT_EQ(parent.err(), context_error::none);
  cancel();
}

TEST(context, a_deadline_in_the_past_is_done_at_once) {
  auto [ctx, cancel] = lf::with_deadline(lf::background(), lf::wait_clock::now() - 1ms);
  EXPECT_EQ(ctx.err(), context_error::deadline_exceeded);
}

TEST(context, a_zero_timeout_is_done_at_once) {
  auto [ctx, cancel] = lf::with_timeout(lf::background(), 0ms);
  EXPECT_EQ(ctx.err(), context_error::deadline_exceeded);
}

TEST(context, a_negative_timeout_throws_invalid_argument_naming_it) {
  try {
    (void)lf::with_timeout(lf::background(), -5ms);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("timeout = -0.005"), std::string::npos) << e.what();
  }
}

TEST(context, a_negative_wait_for_throws_invalid_argument) {
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  EXPECT_THROW((void)ctx.done().wait_for(-1ms), std::invalid_argument);
}

TEST(context, cancelling_a_deadline_context_takes_its_timer_out) {
  auto& timers = lf::detail::timer_service::instance();
  const std::size_t before = timers.armed_approx();
  auto [ctx, cancel] = lf::with_timeout(lf::background(), 1h);
  EXPECT_EQ(timers.armed_approx(), before + 1);
  cancel();
  EXPECT_EQ(timers.armed_approx(), before);
}

TEST(context, dropping_a_deadline_context_takes_its_timer_out) {
  auto& timers = lf::detail::timer_service::instance();
  const std::size_t before = timers.armed_approx();
  { auto [ctx, cancel] = lf::with_timeout(lf::background(), 1h); }
  EXPECT_EQ(timers.armed_approx(), before);
}

TEST(context, cancelling_the_parent_takes_the_childs_timer_out) {
  auto& timers = lf::detail::timer_service::instance();
  const std::size_t before = timers.armed_approx();
  auto [parent, cancel] = lf::with_cancel(lf::background());
  auto [child, cancel_child] = lf::with_timeout(parent, 1h);
  cancel();
  EXPECT_EQ(timers.armed_approx(), before);
}

// ---- values -------------------------------------------------------------------------

TEST(context, values_are_found_through_ancestors_of_every_kind) {
  const lf::context a = lf::with_value(lf::background(), request_id{}, "r-1");
  auto [b, cancel] = lf::with_cancel(a);
  const lf::context c = lf::with_value(b, user_id{}, 7);
  auto [d, cancel_d] = lf::with_timeout(c, 1h);
  ASSERT_NE(d.value<request_id>(), nullptr);
  EXPECT_EQ(*d.value<request_id>(), "r-1");
  ASSERT_NE(d.value<user_id>(), nullptr);
  EXPECT_EQ(*d.value<user_id>(), 7);
  EXPECT_EQ(a.value<user_id>(), nullptr);  // values do not flow up
  cancel();
}

TEST(context, a_nearer_value_shadows_an_ancestors) {
  const lf::context outer = lf::with_value(lf::background(), user_id{}, 1);
  const lf::context inner = lf::with_value(outer, user_id{}, 2);
  EXPECT_EQ(*inner.value<user_id>(), 2);
  EXPECT_EQ(*outer.value<user_id>(), 1);
}

TEST(context, a_missing_key_gives_null) {
  const lf::context ctx = lf::with_value(lf::background(), user_id{}, 1);
  EXPECT_EQ(ctx.value<request_id>(), nullptr);
}

TEST(context, a_value_outlives_the_handle_it_was_set_through) {
  lf::context leaf;
  {
    const lf::context mid = lf::with_value(lf::background(), request_id{}, std::string(100, 'x'));
    leaf = lf::with_value(mid, user_id{}, 3);
  }
  ASSERT_NE(leaf.value<request_id>(), nullptr);
  EXPECT_EQ(leaf.value<request_id>()->size(), 100u);
}

// ---- without_cancel -----------------------------------------------------------------

TEST(context, without_cancel_keeps_values_and_is_never_done) {
  auto [parent, cancel] = lf::with_timeout(lf::with_value(lf::background(), user_id{}, 9), 1h);
  const lf::context detached = lf::without_cancel(parent);
  cancel();
  EXPECT_EQ(parent.err(), context_error::canceled);
  EXPECT_EQ(detached.err(), context_error::none);
  EXPECT_TRUE(detached.done().never());
  EXPECT_FALSE(detached.deadline().has_value());
  ASSERT_NE(detached.value<user_id>(), nullptr);
  EXPECT_EQ(*detached.value<user_id>(), 9);
}

TEST(context, a_cancellable_child_of_without_cancel_is_cancelled_only_by_itself) {
  auto [parent, cancel] = lf::with_cancel(lf::background());
  auto [child, cancel_child] = lf::with_cancel(lf::without_cancel(parent));
  cancel();
  EXPECT_EQ(child.err(), context_error::none);
  cancel_child();
  EXPECT_EQ(child.err(), context_error::canceled);
}

// ---- after_func ---------------------------------------------------------------------

TEST(context, after_func_runs_once_on_cancel) {
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  int runs = 0;
  auto stop = lf::after_func(ctx, [&] { ++runs; });
  EXPECT_EQ(runs, 0);
  cancel();
  cancel();
  EXPECT_EQ(runs, 1);
}

TEST(context, after_func_sees_the_context_done) {
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  context_error seen = context_error::none;
  auto stop = lf::after_func(ctx, [&, c = ctx] { seen = c.err(); });
  cancel();
  EXPECT_EQ(seen, context_error::canceled);
}

TEST(context, after_func_stop_before_cancel_prevents_the_call) {
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  int runs = 0;
  auto handle = lf::after_func(ctx, [&] { ++runs; });
  EXPECT_TRUE(handle.stop());
  EXPECT_FALSE(handle.stop());  // the second stop prevents nothing more
  cancel();
  EXPECT_EQ(runs, 0);
}

TEST(context, after_func_stop_after_cancel_returns_false) {
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  int runs = 0;
  auto handle = lf::after_func(ctx, [&] { ++runs; });
  cancel();
  EXPECT_FALSE(handle.stop());
  EXPECT_EQ(runs, 1);
}

TEST(context, after_func_on_a_done_context_runs_at_once) {
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  cancel();
  int runs = 0;
  auto handle = lf::after_func(ctx, [&] { ++runs; });
  EXPECT_EQ(runs, 1);
  EXPECT_FALSE(handle.stop());
}

TEST(context, after_func_on_background_never_runs_and_the_first_stop_prevents_it) {
  int runs = 0;
  auto handle = lf::after_func(lf::background(), [&] { ++runs; });
  EXPECT_TRUE(handle.stop());
  EXPECT_FALSE(handle.stop());
  EXPECT_EQ(runs, 0);
}

TEST(context, after_func_runs_on_the_cancelling_thread) {
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  std::thread::id ran_on;
  auto handle = lf::after_func(ctx, [&] { ran_on = std::this_thread::get_id(); });
  std::thread::id canceller;
  std::thread t([&, c = cancel] {
    canceller = std::this_thread::get_id();
    c();
  });
  t.join();
  EXPECT_EQ(ran_on, canceller);
}

TEST(context, after_func_of_a_descendant_runs_when_an_ancestor_is_cancelled) {
  auto [parent, cancel] = lf::with_cancel(lf::background());
  int runs = 0;
  lf::after_func_handle handle;
  {
    auto [child, cancel_child] = lf::with_cancel(lf::with_value(parent, user_id{}, 1));
    handle = lf::after_func(child, [&] { ++runs; });
  }  // the child's handles are gone; the registration keeps it reachable
  cancel();
  EXPECT_EQ(runs, 1);
}

TEST(context, after_func_on_a_deadline_runs_on_the_timer_thread) {
  auto [ctx, cancel] = lf::with_timeout(lf::background(), 10ms);
  std::atomic<bool> ran{false};
  std::thread::id ran_on;
  auto handle = lf::after_func(ctx, [&] {
    ran_on = std::this_thread::get_id();
    ran = true;
  });
  ctx.done().wait();
  while (!ran) lf::yield_thread();  // f runs after the done store
  EXPECT_NE(ran_on, std::this_thread::get_id());
}

TEST(context, after_func_with_an_empty_function_throws_invalid_argument) {
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  void (*null_function)() = nullptr;
  EXPECT_THROW((void)lf::after_func(ctx, null_function), std::invalid_argument);
  EXPECT_THROW((void)lf::after_func(ctx, std::function<void()>()), std::invalid_argument);
  cancel();
}

TEST(context, an_after_func_may_destroy_the_cancel_function_that_is_running_it) {
  auto owner = std::make_unique<lf::context_with_cancel>(lf::with_cancel(lf::background()));
  bool ran = false;
  // The handle is not kept: after f, the registration's reference is the last one.
  (void)lf::after_func(owner->ctx, [&] {
    owner.reset();  // the last handles to the context go while its cancel is running
    ran = true;
  });
  owner->cancel();
  EXPECT_TRUE(ran);
  EXPECT_EQ(owner, nullptr);
}

TEST(context, a_default_after_func_handle_stops_nothing) {
  lf::after_func_handle handle;
  EXPECT_FALSE(handle.stop());
}

// ---- cause --------------------------------------------------------------------------

TEST(context, cause_is_null_until_done) {
  auto [ctx, cancel] = lf::with_cancel_cause(lf::background());
  EXPECT_EQ(ctx.cause(), nullptr);
  cancel(nullptr);
}

TEST(context, cause_is_what_cancel_was_given) {
  auto [ctx, cancel] = lf::with_cancel_cause(lf::background());
  cancel(std::make_exception_ptr(std::out_of_range("disk full")));
  EXPECT_EQ(ctx.err(), context_error::canceled);
  EXPECT_THROW(std::rethrow_exception(ctx.cause()), std::out_of_range);
}

TEST(context, cause_without_a_cause_says_the_error) {
  auto [ctx, cancel] = lf::with_cancel_cause(lf::background());
  cancel(nullptr);
  try {
    std::rethrow_exception(ctx.cause());
  } catch (const lf::context_done_error& e) {
    EXPECT_EQ(e.error(), context_error::canceled);
    EXPECT_STREQ(e.what(), "context canceled");
  }
  auto [timed, cancel_timed] = lf::with_timeout(lf::background(), 0ms);
  try {
    std::rethrow_exception(timed.cause());
  } catch (const lf::context_done_error& e) {
    EXPECT_EQ(e.error(), context_error::deadline_exceeded);
  }
}

TEST(context, descendants_get_the_ancestors_cause) {
  auto [parent, cancel] = lf::with_cancel_cause(lf::background());
  auto [child, cancel_child] = lf::with_cancel(lf::with_value(parent, user_id{}, 1));
  cancel(std::make_exception_ptr(std::runtime_error("why")));
  EXPECT_EQ(message_of(child.cause()), "why");
}

TEST(context, to_string_names_each_error) {
  EXPECT_STREQ(lf::to_string(context_error::none), "none");
  EXPECT_STREQ(lf::to_string(context_error::canceled), "context canceled");
  EXPECT_STREQ(lf::to_string(context_error::deadline_exceeded), "context deadline exceeded");
}

// ---- std::stop_token interop ----------------------------------------------------------

TEST(context, stop_token_is_requested_when_the_context_is_cancelled) {
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  const std::stop_token token = ctx.stop_token();
  EXPECT_TRUE(token.stop_possible());
  EXPECT_FALSE(token.stop_requested());
  int callbacks = 0;
  std::stop_callback on_stop(token, [&] { ++callbacks; });
  cancel();
  EXPECT_TRUE(token.stop_requested());
  EXPECT_EQ(callbacks, 1);
}

TEST(context, stop_token_of_a_done_context_is_requested_already) {
  auto [ctx, cancel] = lf::with_timeout(lf::background(), 0ms);
  EXPECT_TRUE(ctx.stop_token().stop_requested());
}

TEST(context, stop_token_of_a_context_that_is_never_done_cannot_stop) {
  EXPECT_FALSE(lf::background().stop_token().stop_possible());
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  EXPECT_FALSE(lf::without_cancel(ctx).stop_token().stop_possible());
  cancel();
}

TEST(context, stop_token_is_requested_when_an_ancestor_is_cancelled) {
  auto [parent, cancel] = lf::with_cancel(lf::background());
  auto [child, cancel_child] = lf::with_cancel(parent);
  const std::stop_token token = child.stop_token();
  cancel();
  EXPECT_TRUE(token.stop_requested());
}

TEST(context, with_stop_token_is_cancelled_when_the_token_is_requested) {
  std::stop_source source;
  auto [ctx, cancel] = lf::with_stop_token(lf::background(), source.get_token());
  EXPECT_EQ(ctx.err(), context_error::none);
  source.request_stop();
  EXPECT_EQ(ctx.err(), context_error::canceled);
}

TEST(context, with_stop_token_of_a_requested_token_is_done_at_once) {
  std::stop_source source;
  source.request_stop();
  auto [ctx, cancel] = lf::with_stop_token(lf::background(), source.get_token());
  EXPECT_EQ(ctx.err(), context_error::canceled);
}

TEST(context, with_stop_token_follows_its_parent_too) {
  std::stop_source source;
  auto [parent, cancel] = lf::with_cancel(lf::background());
  auto [ctx, cancel_ctx] = lf::with_stop_token(parent, source.get_token());
  cancel();
  EXPECT_EQ(ctx.err(), context_error::canceled);
  source.request_stop();  // harmless now
}

TEST(context, with_stop_token_dropped_before_the_request_is_not_touched_by_it) {
  std::stop_source source;
  { auto [ctx, cancel] = lf::with_stop_token(lf::background(), source.get_token()); }
  source.request_stop();  // its stop_callback is gone with the node (ASan would see a use after free)
  SUCCEED();
}

TEST(context, with_stop_token_of_a_token_that_cannot_stop_is_a_plain_cancellable_context) {
  auto [ctx, cancel] = lf::with_stop_token(lf::background(), std::stop_token());
  EXPECT_EQ(ctx.err(), context_error::none);
  cancel();
  EXPECT_EQ(ctx.err(), context_error::canceled);
}

// ---- context_callback: the hook for select ----------------------------------------------

TEST(context, context_callback_runs_when_the_context_is_cancelled) {
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  int runs = 0;
  lf::context_callback hook(ctx.done(), [&] { ++runs; });
  EXPECT_EQ(runs, 0);
  cancel();
  EXPECT_EQ(runs, 1);
}

TEST(context, context_callback_destroyed_before_cancel_never_runs) {
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  int runs = 0;
  { lf::context_callback hook(ctx.done(), [&] { ++runs; }); }
  cancel();
  EXPECT_EQ(runs, 0);
}

TEST(context, context_callback_on_a_done_context_runs_in_its_constructor) {
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  cancel();
  int runs = 0;
  lf::context_callback hook(ctx.done(), [&] { ++runs; });
  EXPECT_EQ(runs, 1);
}

TEST(context, context_callback_on_background_never_runs) {
  int runs = 0;
  { lf::context_callback hook(lf::background().done(), [&] { ++runs; }); }
  EXPECT_EQ(runs, 0);
}

TEST(context, context_callback_destructor_waits_for_a_running_callback) {
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  std::atomic<int> phase{0};
  int finished = 0;
  std::thread canceller;
  {
    lf::context_callback hook(ctx.done(), [&] {
      phase = 1;
      while (phase.load() != 2) lf::yield_thread();
      finished = 1;
    });
    canceller = std::thread([c = cancel] { c(); });
    while (phase.load() != 1) lf::yield_thread();
    phase = 2;
  }  // ~context_callback must not return before the callback has
  EXPECT_EQ(finished, 1);
  canceller.join();
}

TEST(context, with_timeout_of_hours_max_is_a_context_without_deadline) {
  auto [ctx, cancel] = lf::with_timeout(lf::background(), std::chrono::hours::max());
  EXPECT_FALSE(ctx.done());
  EXPECT_FALSE(ctx.deadline().has_value());
  EXPECT_FALSE(ctx.done().wait_for(5ms));
  cancel();
  EXPECT_EQ(ctx.err(), context_error::canceled);
}

TEST(context, wait_for_seconds_max_waits_until_cancelled) {
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  std::thread canceller([&, c = cancel] {
    std::this_thread::sleep_for(20ms);  // long enough that a wrapped deadline would have returned false
    c();
  });
  EXPECT_TRUE(ctx.done().wait_for(std::chrono::seconds::max()));
  canceller.join();
}

}  // namespace
