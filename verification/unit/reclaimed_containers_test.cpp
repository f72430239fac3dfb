// Unit lane: every container that frees nodes (Treiber stack, elimination stack,
// Michael-Scott queue) over every reclaimer (verification/support/reclaimed_containers.hpp),
// one typed suite. Single-thread semantics, values destroyed exactly once, nodes freed by
// the time the domain is gone, and a small concurrent exactly-once check.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <thread>
#include <vector>

#include "rcu/reclaimer.hpp"
#include "verification/support/reclaimed_containers.hpp"

namespace {

template <class P>
class reclaimed_container : public ::testing::Test {};
TYPED_TEST_SUITE(reclaimed_container, lf::test::all_pairings, lf::test::pairing_name);

TYPED_TEST(reclaimed_container, models_the_reclaimer_and_queue_concepts) {
  static_assert(lf::reclaimer<typename TypeParam::reclaimer>);
  static_assert(lf::concurrent_queue<typename TypeParam::container>);
  static_assert(TypeParam::container::push_progress == lf::progress::lock_free);
  static_assert(TypeParam::container::pop_progress == lf::progress::lock_free);
  SUCCEED();
}

TYPED_TEST(reclaimed_container, pops_in_its_order_then_reports_empty) {
  typename TypeParam::domain d;
  typename TypeParam::container c(d);
  EXPECT_TRUE(c.empty());
  EXPECT_FALSE(c.try_pop().has_value());
  for (std::uint64_t v = 1; v <= 100; ++v) EXPECT_TRUE(c.try_push(v));
  EXPECT_FALSE(c.empty());
  for (std::uint64_t i = 1; i <= 100; ++i) {
    std::optional<std::uint64_t> v = c.try_pop();
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, TypeParam::fifo ? i : 101 - i);
  }
  EXPECT_TRUE(c.empty());
  EXPECT_FALSE(c.try_pop().has_value());
}

TYPED_TEST(reclaimed_container, every_node_is_freed_once_container_and_domain_are_gone) {
  using counter = typename TypeParam::reclaimer;
  const long before = counter::live_nodes.load();
  {
    typename TypeParam::domain d;
    {
      typename TypeParam::container c(d);
      for (std::uint64_t v = 0; v < 1000; ++v) c.push(v);
      for (int i = 0; i < 600; ++i) ASSERT_TRUE(c.try_pop().has_value());
    }  // the container deletes what it still links; popped nodes wait in the domain
  }
  EXPECT_EQ(counter::live_nodes.load(), before);
}

TYPED_TEST(reclaimed_container, unreclaimed_counts_retired_nodes_and_ends_at_zero) {
  typename TypeParam::domain d;
  {
    typename TypeParam::container c(d);
    for (std::uint64_t v = 0; v < 10; ++v) c.push(v);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(c.try_pop().has_value());
    // Ten nodes were unlinked (the queue's first dummy among them): each is retired and
    // either freed already or still counted, never more.
    EXPECT_LE(d.unreclaimed(), 10u);
  }
}

TYPED_TEST(reclaimed_container, two_threads_move_every_value_exactly_once) {
  constexpr std::uint64_t n = 20000;
  typename TypeParam::domain d;
  typename TypeParam::container c(d);
  std::vector<int> seen(n, 0);
  std::thread producer([&] {
    for (std::uint64_t v = 0; v < n; ++v) c.push(v);
  });
  std::uint64_t got = 0;
  std::uint64_t last = 0;
  bool in_order = true;
  while (got < n) {
    if (std::optional<std::uint64_t> v = c.try_pop()) {
      ++seen[*v];
      if (TypeParam::fifo && got > 0 && *v <= last) in_order = false;
      last = *v;
      ++got;
    }
  }
  producer.join();
  for (std::uint64_t v = 0; v < n; ++v) ASSERT_EQ(seen[v], 1) << "value " << v;
  if (TypeParam::fifo) {
    EXPECT_TRUE(in_order) << "one producer's values must come out in order";
  }
  EXPECT_TRUE(c.empty());
}

}  // namespace
