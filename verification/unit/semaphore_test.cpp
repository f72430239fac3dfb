// Unit lane for lf::weighted_semaphore (patterns/semaphore.hpp): Go's x/sync/semaphore
// semantics, lf's documented differences, bad input. Blocking is observed through the
// semaphore's own state (available_approx, try_acquire), never through sleeps.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "patterns/context.hpp"
#include "patterns/semaphore.hpp"
#include "verification/support/eventually.hpp"

namespace {

using namespace std::chrono_literals;
using lf::context_error;

using lf::test::eventually;

TEST(weighted_semaphore, starts_with_every_token_free) {
  lf::weighted_semaphore sem(5);
  EXPECT_EQ(sem.capacity(), 5);
  EXPECT_EQ(sem.available_approx(), 5);
}

TEST(weighted_semaphore, a_negative_or_huge_capacity_throws_naming_it) {
  try {
    lf::weighted_semaphore sem(-1);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("n = -1"), std::string::npos) << e.what();
  }
  EXPECT_THROW(lf::weighted_semaphore{lf::weighted_semaphore::max_capacity + 1}, std::invalid_argument);
  EXPECT_NO_THROW(lf::weighted_semaphore{lf::weighted_semaphore::max_capacity});
}

TEST(weighted_semaphore, a_weight_outside_zero_to_capacity_throws_naming_it) {
  lf::weighted_semaphore sem(4);
  try {
    (void)sem.acquire(lf::background(), 5);  // Go would block until ctx is done: it can never fit
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("w = 5"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("capacity 4"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)sem.try_acquire(-1), std::invalid_argument);
  EXPECT_THROW(sem.release(-2), std::invalid_argument);
  EXPECT_EQ(sem.available_approx(), 4);
}

TEST(weighted_semaphore, try_acquire_takes_tokens_while_they_fit) {
  lf::weighted_semaphore sem(5);
  EXPECT_TRUE(sem.try_acquire(3));
  EXPECT_TRUE(sem.try_acquire(2));
  EXPECT_FALSE(sem.try_acquire(1));
  sem.release(4);
  EXPECT_EQ(sem.available_approx(), 4);
  EXPECT_TRUE(sem.try_acquire(0));
}

TEST(weighted_semaphore, releasing_more_than_held_throws_and_changes_nothing) {
  lf::weighted_semaphore sem(3);
  ASSERT_TRUE(sem.try_acquire(1));
  EXPECT_THROW(sem.release(2), std::logic_error);
  EXPECT_EQ(sem.available_approx(), 2);
  sem.release(1);
  EXPECT_EQ(sem.available_approx(), 3);
}

TEST(weighted_semaphore, acquire_blocks_until_a_release_frees_enough) {
  lf::weighted_semaphore sem(2);
  ASSERT_TRUE(sem.try_acquire(2));
  std::atomic<bool> got{false};
  std::thread t([&] {
    EXPECT_EQ(sem.acquire(lf::background(), 2), context_error::none);
    got = true;
  });
  eventually([&] { return !sem.try_acquire(0); });  // t queued: even w = 0 waits behind it
  sem.release(1);
  EXPECT_FALSE(got.load());  // one token is not enough for t; it stays queued
  sem.release(1);
  t.join();
  EXPECT_TRUE(got.load());
  EXPECT_EQ(sem.available_approx(), 0);
}

TEST(weighted_semaphore, waiters_are_granted_in_fifo_order_and_a_big_one_is_not_starved) {
  lf::weighted_semaphore sem(10);
  ASSERT_TRUE(sem.try_acquire(5));
  std::mutex m;
  std::vector<int> order;
  std::thread big([&] {
    ASSERT_EQ(sem.acquire(lf::background(), 10), context_error::none);
    {
      std::lock_guard<std::mutex> l(m);
      order.push_back(10);
    }
    sem.release(10);
  });
  eventually([&] { return !sem.try_acquire(0); });  // big is queued: 5 free, yet nothing passes
  std::thread small([&] {
    ASSERT_EQ(sem.acquire(lf::background(), 1), context_error::none);
    {
      std::lock_guard<std::mutex> l(m);
      order.push_back(1);
    }
    sem.release(1);
  });
  EXPECT_EQ(sem.available_approx(), 5);  // small waits behind big although it would fit
  sem.release(5);
  big.join();
  small.join();
  ASSERT_EQ(order.size(), 2u);
  EXPECT_EQ(order[0], 10);
  EXPECT_EQ(order[1], 1);
  EXPECT_EQ(sem.available_approx(), 10);
}

TEST(weighted_semaphore, a_done_context_fails_at_once_even_with_free_tokens) {
  lf::weighted_semaphore sem(3);
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  cancel();
  EXPECT_EQ(sem.acquire(ctx, 1), context_error::canceled);
  EXPECT_EQ(sem.available_approx(), 3);
}

TEST(weighted_semaphore, cancelling_a_queued_waiter_returns_canceled_and_leaves_the_semaphore_whole) {
  lf::weighted_semaphore sem(2);
  ASSERT_TRUE(sem.try_acquire(2));
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  std::atomic<int> result{-1};
  std::thread t([&, c = ctx] { result = static_cast<int>(sem.acquire(c, 1)); });
  eventually([&] { return !sem.try_acquire(0); });
  cancel();
  t.join();
  EXPECT_EQ(result.load(), static_cast<int>(context_error::canceled));
  EXPECT_TRUE(sem.try_acquire(0));  // the queue is empty again: fast paths work
  sem.release(2);
  EXPECT_EQ(sem.available_approx(), 2);
}

TEST(weighted_semaphore, a_deadline_while_queued_returns_deadline_exceeded) {
  lf::weighted_semaphore sem(1);
  ASSERT_TRUE(sem.try_acquire(1));
  auto [ctx, cancel] = lf::with_timeout(lf::background(), 20ms);
  EXPECT_EQ(sem.acquire(ctx, 1), context_error::deadline_exceeded);
  sem.release(1);
  EXPECT_EQ(sem.available_approx(), 1);
}

// x/sync issue 45263: a cancelled waiter at the front must let the ones behind it in.
TEST(weighted_semaphore, a_cancelled_front_waiter_lets_the_fitting_waiters_behind_it_in) {
  lf::weighted_semaphore sem(10);
  ASSERT_TRUE(sem.try_acquire(8));
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  std::atomic<int> big_result{-1};
  std::thread big([&, c = ctx] { big_result = static_cast<int>(sem.acquire(c, 5)); });
  eventually([&] { return !sem.try_acquire(0); });
  std::atomic<bool> small_got{false};
  std::thread small([&] {
    EXPECT_EQ(sem.acquire(lf::background(), 2), context_error::none);
    small_got = true;
  });
  cancel();  // 2 tokens are free: small fits once big leaves the front
  big.join();
  small.join();
  EXPECT_EQ(big_result.load(), static_cast<int>(context_error::canceled));
  EXPECT_TRUE(small_got.load());
  EXPECT_EQ(sem.available_approx(), 0);
  sem.release(10);
}

// The x/sync race class: waiters cancelled around the moment they are granted. Whatever
// the interleaving, a waiter holds its tokens iff acquire said none, and at the end every
// token is back.
TEST(weighted_semaphore, grants_racing_cancellations_neither_lose_nor_create_tokens) {
  lf::weighted_semaphore sem(3);
  std::atomic<long> acquired{0}, cancelled{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        auto [ctx, cancel] = lf::with_cancel(lf::background());
        std::thread canceller;
        if ((i + t) % 3 == 0) canceller = std::thread([c = cancel] { c(); });
        const std::int64_t w = 1 + (i + t) % 3;
        if (sem.acquire(ctx, w) == context_error::none) {
          ++acquired;
          sem.release(w);
        } else {
          ++cancelled;
        }
        if (canceller.joinable()) canceller.join();
      }
    });
  }
  for (auto& th : ts) th.join();
  EXPECT_EQ(acquired.load() + cancelled.load(), 8000);
  EXPECT_EQ(sem.available_approx(), 3);
  EXPECT_TRUE(sem.try_acquire(3));
}

}  // namespace
