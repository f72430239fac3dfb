// Unit lane: lf::wait_group — counting, waiting at zero, reuse, and the negative counter
// reported as std::logic_error with the count unchanged.
#include <gtest/gtest.h>

#include <climits>
#include <stdexcept>
#include <thread>
#include <vector>

#include "patterns/wait_group.hpp"

namespace {

TEST(wait_group, wait_on_a_fresh_group_returns_at_once) {
  lf::wait_group g;
  g.wait();
  EXPECT_EQ(g.count_approx(), 0);
}

TEST(wait_group, add_and_done_count_up_and_down) {
  lf::wait_group g;
  g.add(3);
  EXPECT_EQ(g.count_approx(), 3);
  g.done();
  g.add(-2);
  EXPECT_EQ(g.count_approx(), 0);
  g.wait();
}

TEST(wait_group, done_below_zero_throws_logic_error_and_keeps_the_count) {
  lf::wait_group g;
  EXPECT_THROW(g.done(), std::logic_error);
  g.add(1);
  EXPECT_THROW(g.add(-2), std::logic_error);
  EXPECT_EQ(g.count_approx(), 1);
  g.done();
  g.wait();
}

TEST(wait_group, negative_counter_message_names_the_values) {
  lf::wait_group g;
  try {
    g.add(-1);
    FAIL() << "no exception";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("count 0, add -1"), std::string::npos) << e.what();
  }
}

TEST(wait_group, counter_past_int_max_throws_length_error) {
  lf::wait_group g;
  g.add(INT_MAX);
  EXPECT_THROW(g.add(1), std::length_error);
  EXPECT_EQ(g.count_approx(), INT_MAX);
}

TEST(wait_group, wait_returns_after_every_thread_is_done_and_sees_their_writes) {
  lf::wait_group g;
  constexpr int n = 4;
  std::vector<int> results(n, 0);
  g.add(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      results[i] = i + 1;
      g.done();
    });
  }
  g.wait();
  for (int i = 0; i < n; ++i) EXPECT_EQ(results[i], i + 1);
  for (auto& t : threads) t.join();
}

TEST(wait_group, a_group_is_reusable_after_wait) {
  lf::wait_group g;
  for (int round = 0; round < 3; ++round) {
    g.add(1);
    std::thread t([&] { g.done(); });
    g.wait();
    t.join();
    EXPECT_EQ(g.count_approx(), 0);
  }
}

}  // namespace
