// lf::send / lf::recv awaited by lf tasks (patterns/awaitables.hpp,
// patterns/detail/channel_await.hpp): one behaviour per test. Every wait in these tests
// ends by a partner's action, a close or a cancel; none asserts a time.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "patterns/awaitables.hpp"
#include "patterns/channel.hpp"
#include "patterns/context.hpp"
#include "patterns/task.hpp"
#include "patterns/wait_group.hpp"
#include "verification/support/channel_partners.hpp"

namespace {

using lf::chan_status;

using lf::test::destruction_counter;
using lf::test::send_when_a_receiver_waits;

// --- fast paths: nobody else runs, so a suspension would never be resumed (the test
// would hang): completing proves the operation did not suspend.

TEST(coro_channel, buffered_recv_of_a_ready_value_does_not_suspend) {
  lf::channel<int> ch(2);
  ASSERT_EQ(ch.send(7), chan_status::ok);
  auto t = [](lf::channel<int>& c) -> lf::task<int> {
    auto r = co_await lf::recv(c);
    co_return *r;
  };
  EXPECT_EQ(lf::sync_wait(t(ch)), 7);
}

TEST(coro_channel, buffered_send_with_room_does_not_suspend) {
  lf::channel<int> ch(1);
  auto t = [](lf::channel<int>& c) -> lf::task<chan_status> { co_return co_await lf::send(c, 5); };
  EXPECT_EQ(lf::sync_wait(t(ch)), chan_status::ok);
  EXPECT_EQ(*ch.try_recv(), 5);
}

TEST(coro_channel, recv_from_a_closed_drained_channel_does_not_suspend) {
  lf::channel<int> u;
  lf::channel<int> b(4);
  ASSERT_EQ(b.send(1), chan_status::ok);
  u.close();
  b.close();
  auto t = [](lf::channel<int>& u, lf::channel<int>& b) -> lf::task<void> {
    EXPECT_EQ((co_await lf::recv(u)).status(), chan_status::closed);
    EXPECT_EQ(*(co_await lf::recv(b)), 1);  // drain first
    EXPECT_EQ((co_await lf::recv(b)).status(), chan_status::closed);
    EXPECT_EQ(co_await lf::send(u, 1), chan_status::closed);
    EXPECT_EQ(co_await lf::send(b, 1), chan_status::closed);
  };
  lf::sync_wait(t(u, b));
}

// --- slow paths

TEST(coro_channel, unbuffered_thread_sender_and_coroutine_receiver) {
  lf::worker_pool pool(1);
  lf::channel<std::string> ch;
  auto h = lf::go(pool, [&ch]() -> lf::task<std::string> {
    auto r = co_await lf::recv(ch);
    co_return *std::move(r);
  });
  EXPECT_EQ(ch.send(std::string(100, 'x')), chan_status::ok);
  EXPECT_EQ(h.get(), std::string(100, 'x'));
}

TEST(coro_channel, unbuffered_coroutine_sender_and_thread_receiver) {
  lf::worker_pool pool(1);
  lf::channel<std::unique_ptr<int>> ch;
  auto h = lf::go(pool, [&ch]() -> lf::task<chan_status> {
    co_return co_await lf::send(ch, std::make_unique<int>(3));
  });
  auto r = ch.recv();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(**r, 3);
  EXPECT_EQ(h.get(), chan_status::ok);
}

TEST(coro_channel, coroutines_ping_pong_on_one_worker_without_blocking_it) {
  lf::worker_pool pool(1);  // both ends suspend in turn on the one worker
  lf::channel<int> ping, pong;
  constexpr int rounds = 2000;
  auto a = lf::go(pool, [&]() -> lf::task<long> {
    long sum = 0;
    for (int i = 0; i < rounds; ++i) {
      EXPECT_EQ(co_await lf::send(ping, i), chan_status::ok);
      sum += *(co_await lf::recv(pong));
    }
    co_return sum;
  });
  auto b = lf::go(pool, [&]() -> lf::task<void> {
    for (int i = 0; i < rounds; ++i) {
      auto r = co_await lf::recv(ping);
      EXPECT_EQ(co_await lf::send(pong, *r * 2), chan_status::ok);
    }
  });
  b.get();
  EXPECT_EQ(a.get(), static_cast<long>(rounds) * (rounds - 1));
}

TEST(coro_channel, buffered_coroutine_receivers_get_every_value_from_thread_senders_once) {
  lf::worker_pool pool(2);
  lf::channel<int> ch(2);
  constexpr int per_sender = 2000, senders = 2, receivers = 4;
  std::vector<std::atomic<int>> seen(per_sender * senders);
  std::vector<lf::join_handle<void>> rs;
  for (int i = 0; i < receivers; ++i) {
    rs.push_back(lf::go(pool, [&]() -> lf::task<void> {
      for (;;) {
        auto r = co_await lf::recv(ch);
        if (!r) break;
        seen[*r].fetch_add(1);
      }
    }));
  }
  std::vector<std::thread> ss;
  for (int s = 0; s < senders; ++s) {
    ss.emplace_back([&, s] {
      for (int i = 0; i < per_sender; ++i) EXPECT_EQ(ch.send(s * per_sender + i), chan_status::ok);
    });
  }
  for (auto& t : ss) t.join();
  ch.close();
  for (auto& h : rs) h.get();
  for (auto& n : seen) EXPECT_EQ(n.load(), 1);
}

TEST(coro_channel, buffered_coroutine_senders_wait_for_room) {
  lf::worker_pool pool(2);
  lf::channel<int> ch(1);
  constexpr int n = 3000;
  auto h = lf::go(pool, [&]() -> lf::task<void> {
    for (int i = 0; i < n; ++i) EXPECT_EQ(co_await lf::send(ch, i), chan_status::ok);
  });
  long sum = 0;
  for (int i = 0; i < n; ++i) sum += *ch.recv();
  h.get();
  EXPECT_EQ(sum, static_cast<long>(n) * (n - 1) / 2);
}

TEST(coro_channel, sync_wait_coroutine_receiver_is_resumed_on_its_thread) {
  lf::channel<int> ch;
  std::thread sender([&] { send_when_a_receiver_waits(ch, 9); });
  const auto me = std::this_thread::get_id();
  auto t = [](lf::channel<int>& c) -> lf::task<std::thread::id> {
    EXPECT_EQ(*(co_await lf::recv(c)), 9);
    co_return std::this_thread::get_id();
  };
  EXPECT_EQ(lf::sync_wait(t(ch)), me);
  sender.join();
}

// --- close

TEST(coro_channel, close_resumes_suspended_receivers_and_senders_with_closed) {
  lf::worker_pool pool(2);
  lf::channel<int> u;
  lf::channel<int> full(1);
  ASSERT_EQ(full.send(0), chan_status::ok);
  auto r = lf::go(pool, [&]() -> lf::task<chan_status> { co_return (co_await lf::recv(u)).status(); });
  std::string kept = "kept";
  lf::channel<std::string> us;
  auto s = lf::go(pool, [&]() -> lf::task<chan_status> { co_return co_await lf::send(us, std::move(kept)); });
  auto f = lf::go(pool, [&]() -> lf::task<chan_status> { co_return co_await lf::send(full, 1); });
  // Each is queued (or about to be) on its channel; closing any time resolves it.
  u.close();
  us.close();
  full.close();
  EXPECT_EQ(r.get(), chan_status::closed);
  EXPECT_EQ(s.get(), chan_status::closed);
  EXPECT_EQ(kept, "kept");  // an rvalue is moved from only when sent
  EXPECT_EQ(f.get(), chan_status::closed);
  EXPECT_EQ(*full.recv(), 0);  // drain after close
}

TEST(coro_channel, lvalue_send_copies_the_value) {
  lf::channel<std::string> ch(1);
  const std::string v = "copied";
  auto t = [](lf::channel<std::string>& c, const std::string& v) -> lf::task<chan_status> {
    co_return co_await lf::send(c, v);
  };
  EXPECT_EQ(lf::sync_wait(t(ch, v)), chan_status::ok);
  EXPECT_EQ(v, "copied");
  EXPECT_EQ(*ch.recv(), "copied");
}

TEST(coro_channel, send_converts_to_the_channel_type) {
  lf::channel<long> ch(1);
  auto t = [](lf::channel<long>& c) -> lf::task<chan_status> { co_return co_await lf::send(c, 5); };
  EXPECT_EQ(lf::sync_wait(t(ch)), chan_status::ok);
  EXPECT_EQ(*ch.recv(), 5L);
}

// --- contexts

TEST(coro_channel, a_context_done_before_the_call_wins_over_a_ready_channel) {
  lf::channel<int> ch(1);
  ASSERT_EQ(ch.send(1), chan_status::ok);
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  cancel();
  auto t = [](lf::channel<int>& c, lf::context x) -> lf::task<void> {
    EXPECT_EQ((co_await lf::recv(c, x)).status(), chan_status::canceled);
    EXPECT_EQ(co_await lf::send(c, 2, x), chan_status::canceled);
  };
  lf::sync_wait(t(ch, ctx));
  EXPECT_EQ(*ch.try_recv(), 1);  // the value stayed in the channel
}

TEST(coro_channel, cancel_resumes_suspended_context_operations_with_canceled) {
  lf::worker_pool pool(2);
  lf::channel<int> u;
  lf::channel<int> b(1);
  ASSERT_EQ(b.send(0), chan_status::ok);
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  auto r = lf::go(pool, [&](lf::context x) -> lf::task<chan_status> { co_return (co_await lf::recv(u, x)).status(); },
                  ctx);
  auto s = lf::go(pool, [&](lf::context x) -> lf::task<chan_status> { co_return co_await lf::send(b, 1, x); }, ctx);
  cancel();
  EXPECT_EQ(r.get(), chan_status::canceled);
  EXPECT_EQ(s.get(), chan_status::canceled);
  EXPECT_EQ(ctx.err(), lf::context_error::canceled);
  EXPECT_EQ(u.try_send(1), chan_status::would_block);  // nobody left queued
}

TEST(coro_channel, context_recv_still_receives_a_value) {
  lf::worker_pool pool(1);
  lf::channel<int> ch;
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  auto r = lf::go(pool, [&](lf::context x) -> lf::task<int> { co_return *(co_await lf::recv(ch, x)); }, ctx);
  EXPECT_EQ(ch.send(4), chan_status::ok);
  EXPECT_EQ(r.get(), 4);
  cancel();
}

// --- destruction

TEST(coro_channel, destroying_the_pool_frees_suspended_receivers_and_senders_without_resuming_them) {
  std::atomic<int> destroyed{0};
  std::atomic<int> arrived{0};
  lf::channel<int> u;
  lf::channel<std::string> b(1);
  ASSERT_EQ(b.send(std::string(64, 'f')), chan_status::ok);  // full
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  lf::join_handle<void> h;
  {
    lf::worker_pool pool(2);
    for (int i = 0; i < 20; ++i) {
      lf::go(pool, [&](lf::context x) -> lf::task<void> {
        destruction_counter d{&destroyed};
        arrived.fetch_add(1);
        (void)co_await lf::recv(u, x);
        ADD_FAILURE() << "a receiver resumed after its pool was destroyed";
      }, ctx).detach();
      lf::go(pool, [&]() -> lf::task<void> {
        destruction_counter d{&destroyed};
        arrived.fetch_add(1);
        (void)co_await lf::send(b, std::string(64, 's'));
        ADD_FAILURE() << "a sender resumed after its pool was destroyed";
      }).detach();
    }
    h = lf::go(pool, [&]() -> lf::task<void> {
      destruction_counter d{&destroyed};
      arrived.fetch_add(1);
      (void)co_await lf::recv(u);
    });
    // Wait until each has reached its co_await: a worker that runs a coroutine into its
    // suspension finishes that before the pool's destructor joins it.
    while (arrived.load() != 41) std::this_thread::yield();
  }
  EXPECT_EQ(destroyed.load(), 41);
  EXPECT_THROW(h.get(), std::future_error);
  // Nothing of theirs is left queued on the channels; they work on.
  EXPECT_EQ(u.try_send(1), chan_status::would_block);
  cancel();  // their context callbacks were deregistered (ASan: no use of a freed frame)
  EXPECT_EQ(b.try_send("x"), chan_status::would_block);
  EXPECT_EQ(*b.recv(), std::string(64, 'f'));
  EXPECT_EQ(b.try_send("x"), chan_status::ok);
}

}  // namespace
