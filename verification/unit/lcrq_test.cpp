// Unit lane: what lf::lcrq promises beyond the typed suite every reclaimed container runs
// (verification/unit/reclaimed_containers_test.cpp): ring size validation, values that do
// not fit in a cell word (boxed), move-only and throwing types, leftovers destroyed, and
// rings closed and retired as values pass through small rings.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "lockfree/lcrq.hpp"
#include "rcu/hazard_pointer.hpp"
#include "rcu/hazard_pointer_reclaimer.hpp"
#include "verification/support/counting_reclaimer.hpp"
#include "verification/support/tracked.hpp"

namespace {

using lf::test::tracked;
using counted = lf::test::counting_reclaimer;

static_assert(lf::concurrent_queue<lf::lcrq<int>>);
static_assert(lf::concurrent_queue<lf::lcrq<std::unique_ptr<int>>>);
static_assert(lf::lcrq<int>::push_progress == lf::progress::lock_free);
static_assert(lf::lcrq<int>::max_producers == lf::any_number && lf::lcrq<int>::max_consumers == lf::any_number);

TEST(lcrq, sixteen_byte_cells_are_lock_free_here) { EXPECT_TRUE(lf::lcrq<int>::is_lock_free()); }

TEST(lcrq, ring_size_must_be_a_power_of_two_of_at_least_two) {
  lf::hazard_domain d;
  for (std::size_t bad : {std::size_t{0}, std::size_t{1}, std::size_t{3}, std::size_t{1000}}) {
    try {
      lf::lcrq<int> q(d, bad);
      FAIL() << "no exception for " << bad;
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("ring_size"), std::string::npos) << what;
      EXPECT_NE(what.find(std::to_string(bad)), std::string::npos) << what;
    }
  }
  lf::lcrq<int> q(d, 2);
  EXPECT_EQ(q.ring_size(), 2u);
}

TEST(lcrq, fifo_across_many_ring_closings) {
  lf::hazard_domain d;
  lf::lcrq<std::uint64_t, counted> q(d, 4);
  const long before = counted::allocated_nodes.load();
  std::uint64_t in = 0, out = 0;
  for (int round = 0; round < 200; ++round) {
    for (int k = 0; k < 7; ++k) q.push(in++);
    for (int k = 0; k < 5; ++k) {
      auto v = q.try_pop();
      ASSERT_TRUE(v.has_value());
      EXPECT_EQ(*v, out++);
    }
  }
  while (auto v = q.try_pop()) EXPECT_EQ(*v, out++);
  EXPECT_EQ(in, out);
  EXPECT_TRUE(q.empty());
  // 1400 values through rings of 4 cells: hundreds of rings were appended and retired.
  EXPECT_GT(counted::allocated_nodes.load() - before, 300);
}

TEST(lcrq, values_larger_than_a_word_are_boxed_and_intact) {
  lf::hazard_domain d;
  lf::lcrq<std::string> q(d, 2);
  const std::string long_text(200, 'x');
  for (int i = 0; i < 10; ++i) q.push(long_text + std::to_string(i));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(*q.try_pop(), long_text + std::to_string(i));
  EXPECT_FALSE(q.try_pop().has_value());
}

TEST(lcrq, moves_move_only_values) {
  lf::hazard_domain d;
  lf::lcrq<std::unique_ptr<int>> q(d, 2);
  q.push(std::make_unique<int>(7));
  q.emplace(new int(8));
  q.push(std::make_unique<int>(9));  // into a second ring
  EXPECT_EQ(**q.try_pop(), 7);
  EXPECT_EQ(**q.try_pop(), 8);
  EXPECT_EQ(**q.try_pop(), 9);
}

TEST(lcrq, destructor_destroys_exactly_the_values_left_in_every_ring) {
  tracked::live = 0;
  {
    lf::hazard_domain d;
    lf::lcrq<tracked> q(d, 2);
    for (int i = 0; i < 9; ++i) q.emplace(i);  // five rings
    for (int i = 0; i < 4; ++i) ASSERT_EQ(q.try_pop()->value, i);
    EXPECT_EQ(tracked::live, 5);
  }
  EXPECT_EQ(tracked::live, 0);
}

TEST(lcrq, a_throwing_constructor_leaves_the_queue_unchanged) {
  struct throws_on_negative {
    int v;
    explicit throws_on_negative(int x) : v(x) {
      if (x < 0) throw std::runtime_error("negative");
    }
  };
  lf::hazard_domain d;
  lf::lcrq<throws_on_negative> q(d, 2);
  q.emplace(1);
  EXPECT_THROW(q.emplace(-1), std::runtime_error);
  q.emplace(2);
  EXPECT_EQ(q.try_pop()->v, 1);
  EXPECT_EQ(q.try_pop()->v, 2);
  EXPECT_FALSE(q.try_pop().has_value());
}

TEST(lcrq, popping_an_empty_queue_many_times_does_not_strand_later_pushes) {
  // Every failed pop moves the ring's head on; fix_state must bring tail along, or the
  // next push would land behind the poppers.
  lf::hazard_domain d;
  lf::lcrq<int> q(d, 4);
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(q.try_pop().has_value());
  q.push(1);
  q.push(2);
  EXPECT_EQ(*q.try_pop(), 1);
  EXPECT_EQ(*q.try_pop(), 2);
  EXPECT_TRUE(q.empty());
}

}  // namespace
