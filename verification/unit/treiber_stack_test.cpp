// Unit lane for lockfree/treiber_stack.hpp: LIFO order, empty, the queue-concept shape,
// move-only and counting payloads, and that every node is freed by the time the stack and
// its domain are gone.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "lockfree/treiber_stack.hpp"
#include "rcu/hazard_pointer.hpp"
#include "rcu/hazard_pointer_reclaimer.hpp"
#include "rcu/reclaimer.hpp"
#include "verification/support/counting_reclaimer.hpp"
#include "verification/support/tracked.hpp"

namespace {

using lf::test::counting_reclaimer;

static_assert(lf::reclaimer<lf::hazard_pointer_reclaimer>);
static_assert(lf::reclaimer<counting_reclaimer>);
static_assert(lf::concurrent_queue<lf::treiber_stack<int>>);
static_assert(lf::concurrent_queue<lf::treiber_stack<std::unique_ptr<int>>>);
static_assert(lf::treiber_stack<int>::push_progress == lf::progress::lock_free);
static_assert(lf::treiber_stack<int>::pop_progress == lf::progress::lock_free);
static_assert(lf::treiber_stack<int>::max_producers == lf::any_number);
static_assert(lf::treiber_stack<int>::max_consumers == lf::any_number);

using lf::test::tracked;

TEST(treiber_stack, pops_in_lifo_order) {
  lf::hazard_domain domain;
  lf::treiber_stack<int> s(domain);
  for (int i = 0; i < 100; ++i) s.push(i);
  for (int i = 99; i >= 0; --i) {
    std::optional<int> v = s.try_pop();
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, i);
  }
  EXPECT_FALSE(s.try_pop().has_value());
}

TEST(treiber_stack, empty_stack_pops_nothing_and_says_so) {
  lf::hazard_domain domain;
  lf::treiber_stack<int> s(domain);
  EXPECT_TRUE(s.empty());
  EXPECT_FALSE(s.try_pop().has_value());
  s.push(1);
  EXPECT_FALSE(s.empty());
  (void)s.try_pop();
  EXPECT_TRUE(s.empty());
}

TEST(treiber_stack, try_push_always_succeeds) {
  lf::hazard_domain domain;
  lf::treiber_stack<int> s(domain);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(s.try_push(i));
}

TEST(treiber_stack, interleaved_pushes_and_pops_keep_lifo_order) {
  lf::hazard_domain domain;
  lf::treiber_stack<int> s(domain);
  s.push(1);
  s.push(2);
  EXPECT_EQ(s.try_pop(), 2);
  s.push(3);
  EXPECT_EQ(s.try_pop(), 3);
  EXPECT_EQ(s.try_pop(), 1);
  EXPECT_EQ(s.try_pop(), std::nullopt);
}

TEST(treiber_stack, moves_move_only_values) {
  lf::hazard_domain domain;
  lf::treiber_stack<std::unique_ptr<int>> s(domain);
  s.push(std::make_unique<int>(7));
  EXPECT_TRUE(s.try_push(std::make_unique<int>(8)));
  std::optional<std::unique_ptr<int>> a = s.try_pop(), b = s.try_pop();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(**a, 8);
  EXPECT_EQ(**b, 7);
}

TEST(treiber_stack, copies_from_lvalues_and_keeps_strings_intact) {
  lf::hazard_domain domain;
  lf::treiber_stack<std::string> s(domain);
  const std::string long_text(200, 'x');
  s.push(long_text);
  EXPECT_EQ(long_text, std::string(200, 'x'));
  EXPECT_EQ(s.try_pop(), long_text);
}

TEST(treiber_stack, destructor_destroys_the_values_left_inside) {
  tracked::live = 0;
  {
    lf::hazard_domain domain;
    lf::treiber_stack<tracked> s(domain);
    for (int i = 0; i < 10; ++i) s.push(tracked(i));
    EXPECT_EQ(tracked::live, 10);
    (void)s.try_pop();
    EXPECT_EQ(tracked::live, 9);
  }
  EXPECT_EQ(tracked::live, 0);
}

TEST(treiber_stack, every_node_is_freed_once_the_stack_and_its_domain_are_gone) {
  const long before = counting_reclaimer::live_nodes.load();
  {
    lf::hazard_domain domain;
    lf::treiber_stack<int, counting_reclaimer> s(domain);
    for (int i = 0; i < 1000; ++i) s.push(i);
    for (int i = 0; i < 600; ++i) ASSERT_TRUE(s.try_pop().has_value());
    EXPECT_EQ(domain.scan(), 0u);  // no hazard pointer is alive: every popped node goes
    EXPECT_EQ(counting_reclaimer::live_nodes.load() - before, 1000 - 600);
  }
  EXPECT_EQ(counting_reclaimer::live_nodes.load(), before);
}

TEST(treiber_stack, the_default_domain_serves_a_stack_built_without_one) {
  lf::treiber_stack<int> s;
  s.push(1);
  s.push(2);
  EXPECT_EQ(s.try_pop(), 2);
  EXPECT_EQ(s.try_pop(), 1);
  EXPECT_TRUE(s.empty());
}

}  // namespace
