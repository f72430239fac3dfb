// Unit lane: what lf::chase_lev_deque promises single-threaded — LIFO for the owner,
// FIFO for thieves, growth that keeps every element in place, bad capacities, the empty
// deque, and the racy-but-exact-when-quiet size and capacity.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "lockfree/chase_lev_deque.hpp"

namespace {

using deque = lf::chase_lev_deque<int>;

static_assert(deque::push_progress == lf::progress::wait_free);
static_assert(deque::pop_progress == lf::progress::wait_free);
static_assert(deque::steal_progress == lf::progress::lock_free);
static_assert(deque::max_owners == 1 && deque::max_thieves == lf::any_number);
static_assert(std::is_same_v<deque::value_type, int>);

TEST(chase_lev_deque, owner_pops_in_lifo_order) {
  deque q;
  for (int i = 1; i <= 10; ++i) q.push(i);
  for (int i = 10; i >= 1; --i) EXPECT_EQ(q.pop(), i);
  EXPECT_EQ(q.pop(), std::nullopt);
}

TEST(chase_lev_deque, thieves_steal_in_fifo_order) {
  deque q;
  for (int i = 1; i <= 10; ++i) q.push(i);
  for (int i = 1; i <= 10; ++i) {
    const lf::stolen<int> s = q.steal();
    ASSERT_EQ(s.status, lf::steal_status::success) << i;
    EXPECT_EQ(s.value, i);
  }
  EXPECT_EQ(q.steal().status, lf::steal_status::empty);
}

TEST(chase_lev_deque, owner_and_thief_take_from_opposite_ends) {
  deque q;
  for (int i = 1; i <= 4; ++i) q.push(i);
  EXPECT_EQ(q.try_steal(), 1);
  EXPECT_EQ(q.pop(), 4);
  EXPECT_EQ(q.try_steal(), 2);
  EXPECT_EQ(q.pop(), 3);
  EXPECT_EQ(q.pop(), std::nullopt);
  EXPECT_EQ(q.try_steal(), std::nullopt);
}

TEST(chase_lev_deque, empty_deque_pops_and_steals_nothing) {
  deque q(2);
  EXPECT_EQ(q.pop(), std::nullopt);
  const lf::stolen<int> s = q.steal();
  EXPECT_EQ(s.status, lf::steal_status::empty);  // empty, not lost_race: nobody competed
  EXPECT_FALSE(s);
  EXPECT_EQ(q.try_steal(), std::nullopt);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.size_approx(), 0u);
}

TEST(chase_lev_deque, pops_on_an_empty_deque_leave_it_usable) {
  // Each empty pop claims a position and gives it back; repeated, it must not drift.
  deque q(2);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(q.pop(), std::nullopt);
  q.push(7);
  EXPECT_EQ(q.size_approx(), 1u);
  EXPECT_EQ(q.try_steal(), 7);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(q.pop(), std::nullopt);
  q.push(8);
  EXPECT_EQ(q.pop(), 8);
  EXPECT_TRUE(q.empty());
}

TEST(chase_lev_deque, the_last_element_goes_to_exactly_one_taker) {
  deque q;
  q.push(1);
  EXPECT_EQ(q.pop(), 1);
  EXPECT_EQ(q.steal().status, lf::steal_status::empty);
  q.push(2);
  EXPECT_EQ(q.try_steal(), 2);
  EXPECT_EQ(q.pop(), std::nullopt);
}

TEST(chase_lev_deque, stolen_converts_to_true_only_on_success) {
  deque q;
  q.push(5);
  if (const lf::stolen<int> s = q.steal()) {
    EXPECT_EQ(s.value, 5);
  } else {
    FAIL() << "a lone thief on a non-empty deque must succeed";
  }
  EXPECT_FALSE(q.steal());
}

TEST(chase_lev_deque, capacity_is_the_next_power_of_two_default_64) {
  EXPECT_EQ(deque().capacity(), 64u);
  EXPECT_EQ(deque(1).capacity(), 1u);
  EXPECT_EQ(deque(5).capacity(), 8u);
  EXPECT_EQ(deque(8).capacity(), 8u);
  EXPECT_EQ(deque(1000).capacity(), 1024u);
}

TEST(chase_lev_deque, growth_doubles_and_keeps_every_element_in_order) {
  deque q(2);
  for (int i = 0; i < 100; ++i) q.push(i);
  EXPECT_EQ(q.capacity(), 128u);
  EXPECT_EQ(q.size_approx(), 100u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(q.try_steal(), i);  // oldest first
  for (int i = 99; i >= 10; --i) EXPECT_EQ(q.pop(), i);      // newest first
  EXPECT_TRUE(q.empty());
}

TEST(chase_lev_deque, growth_copies_a_live_range_that_wraps_around_the_array) {
  // Steals move top forward, so the live range [top, bottom) straddles the end of the
  // 4-slot array when the fifth element forces a growth.
  deque q(4);
  int next_in = 0, next_steal = 0;
  for (int i = 0; i < 3; ++i) q.push(next_in++);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(q.try_steal(), next_steal++);
  for (int i = 0; i < 4; ++i) q.push(next_in++);  // positions 3..6: slots 3, 0, 1, 2
  EXPECT_EQ(q.capacity(), 4u);
  q.push(next_in++);  // full: grows to 8
  EXPECT_EQ(q.capacity(), 8u);
  while (std::optional<int> v = q.try_steal()) EXPECT_EQ(*v, next_steal++);
  EXPECT_EQ(next_steal, next_in);
}

TEST(chase_lev_deque, a_deque_of_capacity_one_grows_on_the_second_push) {
  deque q(1);
  q.push(1);
  EXPECT_EQ(q.capacity(), 1u);
  q.push(2);
  EXPECT_EQ(q.capacity(), 2u);
  EXPECT_EQ(q.pop(), 2);
  EXPECT_EQ(q.pop(), 1);
}

TEST(chase_lev_deque, size_approx_counts_pushes_pops_and_steals_when_quiet) {
  deque q(4);
  EXPECT_EQ(q.size_approx(), 0u);
  for (int i = 0; i < 6; ++i) q.push(i);
  EXPECT_EQ(q.size_approx(), 6u);
  EXPECT_FALSE(q.empty());
  (void)q.pop();
  EXPECT_EQ(q.size_approx(), 5u);
  (void)q.try_steal();
  (void)q.try_steal();
  EXPECT_EQ(q.size_approx(), 3u);
  while (q.pop()) {
  }
  EXPECT_EQ(q.size_approx(), 0u);
  EXPECT_TRUE(q.empty());
}

TEST(chase_lev_deque, holds_task_pointers) {
  struct task {
    int id;
  };
  std::vector<task> tasks{{1}, {2}, {3}};
  lf::chase_lev_deque<task*> q(2);
  for (task& t : tasks) q.push(&t);
  EXPECT_EQ(q.try_steal(), &tasks[0]);
  EXPECT_EQ((*q.pop())->id, 3);
  EXPECT_EQ(q.pop(), &tasks[1]);
}

TEST(chase_lev_deque, zero_capacity_is_rejected_naming_the_value) {
  try {
    deque q(0);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("lf::chase_lev_deque"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("capacity"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("0"), std::string::npos) << e.what();
  }
}

TEST(chase_lev_deque, capacity_whose_slots_overflow_is_rejected_naming_the_value) {
  const std::size_t huge = SIZE_MAX / 4;
  try {
    deque q(huge);
    FAIL() << "no exception";
  } catch (const std::length_error& e) {
    EXPECT_NE(std::string(e.what()).find(std::to_string(huge)), std::string::npos) << e.what();
  }
  EXPECT_THROW(deque(SIZE_MAX), std::length_error);
}

}  // namespace
