// Unit lane: lf::channel and lf::select — Go's channel axioms one by one, the C++
// differences (statuses instead of panics, values not lost), bad input, and that an
// idle blocked receiver sleeps. Threads appear only where an axiom is about blocking;
// they synchronize through the channel under test or std::atomic flags, never sleeps
// (a sleep appears only where the test is that something does NOT happen for a while).
#include <gtest/gtest.h>

#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "patterns/channel.hpp"
#include "patterns/context.hpp"
#include "patterns/select.hpp"

namespace {

using namespace std::chrono_literals;
using lf::chan_status;

// Spins (yielding) until `pred` holds; for "the other thread has reached its wait".
template <class P>
void eventually(P pred) {
  while (!pred()) std::this_thread::yield();
}

// A receiver or sender blocked inside a channel call cannot announce itself from inside;
// these tests let it set a flag just before the call and then give it time to get into
// the call. The assertions never depend on that time: only how much of it is spent blocked.
void let_it_block() { std::this_thread::sleep_for(20ms); }

// --- construction and bad input

TEST(channel, default_capacity_is_unbuffered) {
  lf::channel<int> ch;
  EXPECT_EQ(ch.capacity(), 0u);
  EXPECT_EQ(ch.size(), 0u);
}

TEST(channel, capacity_is_exact_not_rounded) {
  lf::channel<int> ch(3);
  EXPECT_EQ(ch.capacity(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(ch.try_send(i), chan_status::ok);
  EXPECT_EQ(ch.try_send(3), chan_status::would_block);
  EXPECT_EQ(ch.size(), 3u);
}

TEST(channel, capacity_one_holds_exactly_one_value) {
  lf::channel<int> ch(1);
  EXPECT_EQ(ch.try_send(1), chan_status::ok);
  EXPECT_EQ(ch.try_send(2), chan_status::would_block);
  EXPECT_EQ(*ch.try_recv(), 1);
  EXPECT_EQ(ch.try_send(3), chan_status::ok);
}

TEST(channel, negative_capacity_throws_invalid_argument_naming_it) {
  try {
    lf::channel<int> ch(-2);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("capacity = -2"), std::string::npos) << e.what();
  }
}

TEST(channel, capacity_past_the_maximum_throws_length_error_naming_it) {
  const std::ptrdiff_t too_many = lf::channel<int>::max_capacity + 1;
  try {
    lf::channel<int> ch(too_many);
    FAIL() << "no exception";
  } catch (const std::length_error& e) {
    EXPECT_NE(std::string(e.what()).find("capacity = " + std::to_string(too_many)), std::string::npos) << e.what();
  }
}

TEST(channel, negative_timeout_throws_invalid_argument) {
  lf::channel<int> ch(1);
  EXPECT_THROW((void)ch.recv_for(-1ms), std::invalid_argument);
  EXPECT_THROW((void)ch.send_for(1, -1ms), std::invalid_argument);
  EXPECT_THROW(lf::select(lf::after(-1ms, [] {})), std::invalid_argument);
}

// --- buffered basics

TEST(channel, buffered_values_come_out_in_the_order_sent) {
  lf::channel<int> ch(8);
  for (int i = 0; i < 8; ++i) ASSERT_EQ(ch.send(i), chan_status::ok);
  for (int i = 0; i < 8; ++i) {
    auto r = ch.recv();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, i);
  }
}

TEST(channel, try_recv_on_an_empty_channel_would_block) {
  lf::channel<int> ch(2);
  EXPECT_EQ(ch.try_recv().status(), chan_status::would_block);
  lf::channel<int> u;
  EXPECT_EQ(u.try_recv().status(), chan_status::would_block);
}

TEST(channel, move_only_values_travel) {
  lf::channel<std::unique_ptr<int>> ch(1);
  ASSERT_EQ(ch.send(std::make_unique<int>(7)), chan_status::ok);
  auto r = ch.recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(**r, 7);
}

TEST(channel, dereferencing_a_receive_without_a_value_throws_bad_recv) {
  lf::channel<std::string> ch(1);
  auto empty = ch.try_recv();
  ASSERT_EQ(empty.status(), chan_status::would_block);
  EXPECT_THROW((void)*empty, lf::bad_recv);
  EXPECT_TRUE(ch.close());
  auto closed = ch.recv();
  try {
    (void)closed->size();
    FAIL() << "no exception";
  } catch (const lf::bad_recv& e) {
    EXPECT_EQ(e.status(), chan_status::closed);
    EXPECT_NE(std::string(e.what()).find("closed"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)*std::move(closed), std::bad_optional_access) << "bad_recv is a bad_optional_access";
  const auto& const_closed = closed;
  EXPECT_THROW((void)*const_closed, lf::bad_recv);
}

TEST(channel, destroying_a_channel_destroys_what_is_buffered) {
  auto counted = std::make_shared<int>(0);
  {
    lf::channel<std::shared_ptr<int>> ch(4);
    ASSERT_EQ(ch.send(counted), chan_status::ok);
    ASSERT_EQ(ch.send(counted), chan_status::ok);
    EXPECT_EQ(counted.use_count(), 3);
  }
  EXPECT_EQ(counted.use_count(), 1);
}

TEST(channel, a_full_channel_blocks_the_sender_until_a_receive) {
  lf::channel<int> ch(1);
  ASSERT_EQ(ch.send(1), chan_status::ok);
  std::atomic<bool> sent{false};
  std::thread sender([&] {
    EXPECT_EQ(ch.send(2), chan_status::ok);
    sent = true;
  });
  let_it_block();
  EXPECT_FALSE(sent.load());
  EXPECT_EQ(*ch.recv(), 1);
  sender.join();
  EXPECT_TRUE(sent.load());
  EXPECT_EQ(*ch.recv(), 2);
}

// --- unbuffered: rendezvous

TEST(channel, unbuffered_send_does_not_complete_before_a_receiver_takes_it) {
  lf::channel<int> ch;
  std::atomic<bool> sent{false};
  std::thread sender([&] {
    EXPECT_EQ(ch.send(42), chan_status::ok);
    sent = true;
  });
  let_it_block();
  EXPECT_FALSE(sent.load()) << "an unbuffered send completed with nobody receiving";
  EXPECT_EQ(*ch.recv(), 42);
  sender.join();
  EXPECT_TRUE(sent.load());
}

TEST(channel, unbuffered_try_send_without_a_waiting_receiver_would_block) {
  lf::channel<int> ch;
  int v = 5;
  EXPECT_EQ(ch.try_send(std::move(v)), chan_status::would_block);
  EXPECT_EQ(v, 5);
}

TEST(channel, unbuffered_try_send_hands_over_to_a_waiting_receiver) {
  lf::channel<int> ch;
  std::atomic<bool> receiving{false};
  std::optional<int> got;
  std::thread receiver([&] {
    receiving = true;
    auto r = ch.recv();
    if (r) got = *r;
  });
  eventually([&] { return receiving.load(); });
  // The receiver queues itself inside recv(); keep offering until it has.
  while (ch.try_send(9) == chan_status::would_block) std::this_thread::yield();
  receiver.join();
  EXPECT_EQ(got, 9);
}

TEST(channel, unbuffered_try_recv_takes_from_a_waiting_sender) {
  lf::channel<std::string> ch;
  std::thread sender([&] { EXPECT_EQ(ch.send(std::string("hi")), chan_status::ok); });
  lf::recv_result<std::string> r = ch.try_recv();
  while (r.status() == chan_status::would_block) {
    std::this_thread::yield();
    r = ch.try_recv();
  }
  sender.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "hi");
}

// --- close

TEST(channel, send_on_a_closed_channel_returns_closed_and_keeps_the_value) {
  lf::channel<std::string> ch(1);
  EXPECT_TRUE(ch.close());
  std::string v = "kept";
  EXPECT_EQ(ch.send(std::move(v)), chan_status::closed);
  EXPECT_EQ(v, "kept");
  EXPECT_EQ(ch.try_send(std::move(v)), chan_status::closed);
  EXPECT_EQ(v, "kept");
  lf::channel<std::string> u;
  EXPECT_TRUE(u.close());
  EXPECT_EQ(u.send(std::move(v)), chan_status::closed);
  EXPECT_EQ(v, "kept");
}

TEST(channel, send_on_a_full_closed_channel_returns_closed) {
  lf::channel<int> ch(1);
  ASSERT_EQ(ch.send(1), chan_status::ok);
  EXPECT_TRUE(ch.close());
  EXPECT_EQ(ch.try_send(2), chan_status::closed);
}

TEST(channel, closed_channel_drains_then_reports_closed) {
  lf::channel<int> ch(4);
  ASSERT_EQ(ch.send(1), chan_status::ok);
  ASSERT_EQ(ch.send(2), chan_status::ok);
  EXPECT_TRUE(ch.close());
  EXPECT_EQ(*ch.recv(), 1);
  EXPECT_EQ(*ch.try_recv(), 2);
  EXPECT_EQ(ch.recv().status(), chan_status::closed);
  EXPECT_EQ(ch.try_recv().status(), chan_status::closed);
  EXPECT_EQ(ch.recv_for(1ms).status(), chan_status::closed);
}

TEST(channel, recv_on_a_closed_unbuffered_channel_returns_closed) {
  lf::channel<int> ch;
  EXPECT_TRUE(ch.close());
  EXPECT_EQ(ch.recv().status(), chan_status::closed);
  EXPECT_EQ(ch.try_recv().status(), chan_status::closed);
}

TEST(channel, closing_twice_is_reported_not_undefined) {
  lf::channel<int> ch(1);
  EXPECT_TRUE(ch.close());
  EXPECT_FALSE(ch.close());
  lf::channel<int> u;
  EXPECT_TRUE(u.close());
  EXPECT_FALSE(u.close());
}

TEST(channel, close_wakes_every_blocked_receiver) {
  for (int capacity : {0, 2}) {
    lf::channel<int> ch(capacity);
    std::atomic<int> closed_seen{0};
    std::vector<std::thread> receivers;
    for (int i = 0; i < 3; ++i) {
      receivers.emplace_back([&] {
        if (ch.recv().status() == chan_status::closed) ++closed_seen;
      });
    }
    let_it_block();
    EXPECT_TRUE(ch.close());
    for (auto& t : receivers) t.join();
    EXPECT_EQ(closed_seen.load(), 3) << "capacity " << capacity;
  }
}

TEST(channel, close_wakes_every_blocked_sender_and_they_keep_their_values) {
  for (int capacity : {0, 1}) {
    lf::channel<std::string> ch(capacity);
    if (capacity == 1) {
      ASSERT_EQ(ch.send(std::string("fill")), chan_status::ok);
    }
    std::atomic<int> closed_seen{0};
    std::vector<std::thread> senders;
    for (int i = 0; i < 3; ++i) {
      senders.emplace_back([&, i] {
        std::string v = "v" + std::to_string(i);
        if (ch.send(std::move(v)) == chan_status::closed && v == "v" + std::to_string(i)) ++closed_seen;
      });
    }
    let_it_block();
    EXPECT_TRUE(ch.close());
    for (auto& t : senders) t.join();
    EXPECT_EQ(closed_seen.load(), 3) << "capacity " << capacity;
  }
}

// --- range-for

TEST(channel, range_for_drains_then_stops_at_close) {
  lf::channel<int> ch(3);
  std::thread producer([&] {
    for (int i = 0; i < 10; ++i) EXPECT_EQ(ch.send(i), chan_status::ok);
    EXPECT_TRUE(ch.close());
  });
  std::vector<int> got;
  for (int v : ch) got.push_back(v);
  producer.join();
  ASSERT_EQ(got.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(got[i], i);
}

TEST(channel, range_for_over_move_only_values) {
  lf::channel<std::unique_ptr<int>> ch(2);
  ASSERT_EQ(ch.send(std::make_unique<int>(1)), chan_status::ok);
  ASSERT_EQ(ch.send(std::make_unique<int>(2)), chan_status::ok);
  EXPECT_TRUE(ch.close());
  int sum = 0;
  for (auto p : ch) sum += *p;
  EXPECT_EQ(sum, 3);
}

// --- timed and context-aware

TEST(channel, timed_recv_times_out) {
  for (int capacity : {0, 1}) {
    lf::channel<int> ch(capacity);
    const auto start = lf::wait_clock::now();
    EXPECT_EQ(ch.recv_for(30ms).status(), chan_status::timeout);
    EXPECT_GE(lf::wait_clock::now() - start, 30ms);
  }
}

TEST(channel, timed_send_times_out_and_keeps_the_value) {
  lf::channel<std::string> u;
  std::string v = "mine";
  EXPECT_EQ(u.send_for(std::move(v), 10ms), chan_status::timeout);
  EXPECT_EQ(v, "mine");
  lf::channel<std::string> full(1);
  ASSERT_EQ(full.send(std::string("x")), chan_status::ok);
  EXPECT_EQ(full.send_until(std::move(v), lf::wait_clock::now() + 10ms), chan_status::timeout);
  EXPECT_EQ(v, "mine");
}

TEST(channel, timed_recv_returns_a_value_that_arrives_in_time) {
  lf::channel<int> ch;
  std::thread sender([&] { EXPECT_EQ(ch.send(3), chan_status::ok); });
  auto r = ch.recv_for(10s);
  sender.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 3);
}

TEST(channel, recv_with_a_cancelled_context_returns_canceled) {
  lf::channel<int> ch(1);
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  cancel();
  EXPECT_EQ(ch.recv(ctx).status(), chan_status::canceled);
  EXPECT_EQ(ch.send(1, ctx), chan_status::canceled);
}

// The documented rule (channel.hpp): a context done before the call wins over a ready
// channel, every time, and the channel is left as it was.
TEST(channel, a_done_context_wins_over_a_ready_value_and_leaves_it_there) {
  for (int capacity : {0, 1}) {
    lf::channel<int> ch(capacity);
    auto [ctx, cancel] = lf::with_cancel(lf::background());
    cancel();
    std::thread sender;
    if (capacity == 0) {
      sender = std::thread([&] { EXPECT_EQ(ch.send(5), chan_status::ok); });
    } else {
      ASSERT_EQ(ch.send(5), chan_status::ok);
    }
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(ch.recv(ctx).status(), chan_status::canceled) << "trial " << i;
    EXPECT_EQ(*ch.recv(), 5) << "capacity " << capacity;
    if (sender.joinable()) sender.join();
  }
}

TEST(channel, a_done_context_wins_over_room_and_the_value_is_kept) {
  lf::channel<std::string> ch(4);
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  cancel();
  std::string v = "kept";
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(ch.send(std::move(v), ctx), chan_status::canceled) << "trial " << i;
  EXPECT_EQ(v, "kept");
  EXPECT_EQ(ch.size(), 0u);
}

TEST(channel, a_receive_loop_on_a_channel_that_never_empties_stops_at_cancel) {
  lf::channel<int> ch(1);
  ASSERT_EQ(ch.send(0), chan_status::ok);
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  int received = 0;
  while (auto r = ch.recv(ctx)) {
    ++received;
    ASSERT_EQ(ch.send(*r + 1), chan_status::ok);  // never empty
    if (received == 10) cancel();
  }
  EXPECT_EQ(received, 10);
  EXPECT_EQ(ctx.err(), lf::context_error::canceled);
}

TEST(channel, recv_for_prefers_a_ready_value_over_an_expired_deadline) {
  lf::channel<int> ch(1);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(ch.send(i), chan_status::ok);
    auto r = ch.recv_for(0ms);
    ASSERT_EQ(r.status(), chan_status::ok) << "trial " << i;
    EXPECT_EQ(*r, i);
  }
}

TEST(channel, cancel_wakes_a_blocked_receiver_and_sender) {
  lf::channel<int> ch;
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  std::atomic<int> canceled{0};
  std::thread receiver([&, c = ctx] {
    if (ch.recv(c).status() == chan_status::canceled) ++canceled;
  });
  lf::channel<int> full(1);
  ASSERT_EQ(full.send(0), chan_status::ok);
  std::thread sender([&, c = ctx] {
    if (full.send(1, c) == chan_status::canceled) ++canceled;
  });
  let_it_block();
  cancel();
  receiver.join();
  sender.join();
  EXPECT_EQ(canceled.load(), 2);
}

TEST(channel, a_context_deadline_ends_a_blocked_recv) {
  lf::channel<int> ch;
  auto [ctx, cancel] = lf::with_timeout(lf::background(), 20ms);
  EXPECT_EQ(ch.recv(ctx).status(), chan_status::canceled);
  EXPECT_EQ(ctx.err(), lf::context_error::deadline_exceeded);
}

// --- select

TEST(select, default_runs_when_no_case_is_ready) {
  lf::channel<int> a(1);
  lf::channel<int> u;
  int which = -1;
  const auto r = lf::select(lf::on_recv(a, [&](int) { which = 0; }), lf::on_recv(u, [&](int) { which = 1; }),
                            lf::otherwise([&] { which = 2; }));
  EXPECT_EQ(which, 2);
  EXPECT_EQ(r.index, 2u);
  EXPECT_EQ(r.status, chan_status::would_block);
}

TEST(select, picks_only_a_ready_case) {
  lf::channel<int> a(1), b(1), c(1);
  ASSERT_EQ(b.send(5), chan_status::ok);
  for (int i = 0; i < 20; ++i) {
    int got = -1;
    const auto r = lf::select(lf::on_recv(a, [&](int) { got = 0; }), lf::on_recv(b, [&](int v) { got = v; }),
                              lf::on_recv(c, [&](int) { got = 2; }));
    EXPECT_EQ(r.index, 1u);
    EXPECT_EQ(got, 5);
    ASSERT_EQ(b.send(5), chan_status::ok);
  }
}

TEST(select, a_send_case_fires_when_there_is_room) {
  lf::channel<int> full(1), room(1);
  ASSERT_EQ(full.send(0), chan_status::ok);
  bool sent = false;
  const auto r = lf::select(lf::on_send(full, 1, [] {}), lf::on_send(room, 2, [&] { sent = true; }));
  EXPECT_EQ(r.index, 1u);
  EXPECT_TRUE(sent);
  EXPECT_EQ(*room.recv(), 2);
}

TEST(select, a_closed_channel_makes_its_recv_case_ready_with_nullopt) {
  lf::channel<int> open, shut;
  EXPECT_TRUE(shut.close());
  bool saw_close = false;
  const auto r = lf::select(lf::on_recv(open, [](int) {}),
                            lf::on_recv(shut, [&](std::optional<int> v) { saw_close = !v.has_value(); }));
  EXPECT_EQ(r.index, 1u);
  EXPECT_EQ(r.status, chan_status::closed);
  EXPECT_TRUE(saw_close);
}

TEST(select, a_send_case_on_a_closed_channel_fires_with_closed_and_keeps_the_value) {
  lf::channel<std::string> shut;
  EXPECT_TRUE(shut.close());
  std::string v = "kept";
  chan_status seen = chan_status::ok;
  const auto r = lf::select(lf::on_send(shut, std::move(v), [&](chan_status st) { seen = st; }));
  EXPECT_EQ(r.status, chan_status::closed);
  EXPECT_EQ(seen, chan_status::closed);
  EXPECT_EQ(v, "kept");
}

// Each of two always-ready cases must be chosen about half the time. With p = 1/2 and
// n = 10000, the count of one case is Binomial(10000, 1/2): mean 5000, sd 50. The bound
// [3000, 7000] is 40 sd away; Hoeffding gives P(|X - 5000| >= 2000) <= 2 exp(-2 * 2000^2
// / 10000) = 2 e^-800, so the test cannot flake on a correct select.
TEST(select, chooses_uniformly_among_ready_cases) {
  lf::channel<int> a(1), b(1);
  ASSERT_EQ(a.send(0), chan_status::ok);
  ASSERT_EQ(b.send(0), chan_status::ok);
  int counts[2] = {0, 0};
  constexpr int rounds = 10000;
  for (int i = 0; i < rounds; ++i) {
    const auto r = lf::select(lf::on_recv(a, [&](int v) { ASSERT_EQ(a.send(std::move(v)), chan_status::ok); }),
                              lf::on_recv(b, [&](int v) { ASSERT_EQ(b.send(std::move(v)), chan_status::ok); }));
    ++counts[r.index];
  }
  EXPECT_GE(counts[0], 3000);
  EXPECT_LE(counts[0], 7000);
  EXPECT_EQ(counts[0] + counts[1], rounds);
}

TEST(select, on_send_converts_the_value_to_the_channels_type) {
  lf::channel<long> longs(2);
  lf::channel<std::string> strings(1);
  const int five = 5;
  EXPECT_EQ(lf::select(lf::on_send(longs, 5, [] {})).status, chan_status::ok);
  EXPECT_EQ(lf::select(lf::on_send(longs, five, [] {})).status, chan_status::ok);
  EXPECT_EQ(lf::select(lf::on_send(strings, "x", [] {})).status, chan_status::ok);
  EXPECT_EQ(*longs.recv(), 5L);
  EXPECT_EQ(*longs.recv(), 5L);
  EXPECT_EQ(*strings.recv(), "x");
}

TEST(select, a_generic_handler_gets_the_value_as_a_typed_one_does) {
  lf::channel<int> ch(1);
  ASSERT_EQ(ch.send(3), chan_status::ok);
  int got = 0;
  (void)lf::select(lf::on_recv(ch, [&](auto v) {
    static_assert(std::is_same_v<decltype(v), int>, "a generic handler is handed T");
    got = v;
  }));
  EXPECT_EQ(got, 3);
}

TEST(select, a_generic_handler_is_not_called_on_close_and_the_case_still_fires) {
  lf::channel<int> ch;
  EXPECT_TRUE(ch.close());
  bool called = false;
  const auto r = lf::select(lf::on_recv(ch, [&](auto) { called = true; }));
  EXPECT_EQ(r.status, chan_status::closed);
  EXPECT_FALSE(called);
}

TEST(select, a_handler_taking_recv_result_sees_the_value_and_the_close) {
  lf::channel<int> ch(1);
  ASSERT_EQ(ch.send(8), chan_status::ok);
  std::vector<chan_status> seen;
  int got = 0;
  const auto take = [&](lf::recv_result<int> r) {
    seen.push_back(r.status());
    if (r) got = *r;
  };
  (void)lf::select(lf::on_recv(ch, take));
  EXPECT_TRUE(ch.close());
  (void)lf::select(lf::on_recv(ch, take));
  EXPECT_EQ(seen, (std::vector<chan_status>{chan_status::ok, chan_status::closed}));
  EXPECT_EQ(got, 8);
}

TEST(select, a_nil_channel_case_is_never_chosen) {
  lf::channel<int> ready(1);
  lf::channel<int>* nil = nullptr;
  int nil_runs = 0;
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(ready.send(i), chan_status::ok);
    const auto r = lf::select(lf::on_recv(nil, [&](int) { ++nil_runs; }), lf::on_send(nil, 1, [&] { ++nil_runs; }),
                              lf::on_recv(ready, [](int) {}));
    EXPECT_EQ(r.index, 2u);
  }
  EXPECT_EQ(nil_runs, 0);
}

TEST(select, a_nil_send_case_leaves_its_value_alone) {
  std::string v = "kept";
  const auto r = lf::select(lf::on_send(static_cast<lf::channel<std::string>*>(nullptr), std::move(v), [] {}),
                            lf::otherwise([] {}));
  EXPECT_EQ(r.index, 1u);
  EXPECT_EQ(v, "kept");
}

TEST(select, only_nil_cases_and_otherwise_takes_otherwise) {
  lf::channel<int>* nil = nullptr;
  bool ran = false;
  const auto r = lf::select(lf::on_recv(nil, [](int) {}), lf::otherwise([&] { ran = true; }));
  EXPECT_TRUE(ran);
  EXPECT_EQ(r.index, 1u);
  EXPECT_EQ(r.status, chan_status::would_block);
}

TEST(select, only_nil_cases_without_otherwise_throws_invalid_argument) {
  lf::channel<int>* nil = nullptr;
  try {
    (void)lf::select(lf::on_recv(nil, [](int) {}), lf::on_send(nil, 1, [] {}));
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("cases = 2"), std::string::npos) << e.what();
  }
}

// select.hpp: an expired deadline is one more ready case, chosen uniformly (Go's rule).
// Each case wins with probability 1/2 per trial; either never winning in 400 trials has
// probability 2 * 2^-400.
TEST(select, an_expired_after_is_one_more_ready_case_chosen_uniformly) {
  lf::channel<int> ch(1);
  int counts[2] = {0, 0};
  for (int i = 0; i < 400; ++i) {
    if (ch.size() == 0) {
      ASSERT_EQ(ch.send(i), chan_status::ok);
    }
    const auto r = lf::select(lf::on_recv(ch, [](int) {}), lf::after(0ms, [] {}));
    ++counts[r.index];
  }
  EXPECT_GE(counts[0], 1);
  EXPECT_GE(counts[1], 1);
}

TEST(select, biased_takes_the_first_ready_case) {
  lf::channel<int> a(1), b(1);
  ASSERT_EQ(a.send(0), chan_status::ok);
  ASSERT_EQ(b.send(0), chan_status::ok);
  for (int i = 0; i < 100; ++i) {
    const auto r = lf::select_biased(lf::on_recv(a, [&](int v) { ASSERT_EQ(a.send(std::move(v)), chan_status::ok); }),
                                     lf::on_recv(b, [](int) {}));
    EXPECT_EQ(r.index, 0u);
  }
}

TEST(select, after_fires_when_nothing_else_is_ready) {
  lf::channel<int> u;
  bool fired = false;
  const auto start = lf::wait_clock::now();
  const auto r = lf::select(lf::on_recv(u, [](int) {}), lf::after(20ms, [&] { fired = true; }));
  EXPECT_TRUE(fired);
  EXPECT_EQ(r.index, 1u);
  EXPECT_EQ(r.status, chan_status::timeout);
  EXPECT_GE(lf::wait_clock::now() - start, 20ms);
}

TEST(select, on_done_fires_when_the_context_is_cancelled) {
  lf::channel<int> u;
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  std::thread canceller([&, c = cancel] {
    let_it_block();
    c();
  });
  bool done = false;
  const auto r = lf::select(lf::on_recv(u, [](int) {}), lf::on_done(ctx, [&] { done = true; }));
  canceller.join();
  EXPECT_TRUE(done);
  EXPECT_EQ(r.index, 1u);
  EXPECT_EQ(r.status, chan_status::canceled);
}

TEST(select, a_blocked_select_receives_from_whichever_channel_a_sender_uses) {
  lf::channel<int> a, b;
  std::thread sender([&] { EXPECT_EQ(b.send(11), chan_status::ok); });
  int got = 0;
  const auto r = lf::select(lf::on_recv(a, [&](int v) { got = -v; }), lf::on_recv(b, [&](int v) { got = v; }));
  sender.join();
  EXPECT_EQ(r.index, 1u);
  EXPECT_EQ(got, 11);
}

TEST(select, a_blocked_select_sends_to_a_receiver_that_arrives) {
  lf::channel<int> a, b;
  std::thread receiver([&] { EXPECT_EQ(*a.recv(), 4); });
  const auto r = lf::select(lf::on_send(a, 4, [] {}), lf::on_send(b, 5, [] {}));
  receiver.join();
  EXPECT_EQ(r.index, 0u);
  EXPECT_EQ(r.status, chan_status::ok);
}

TEST(select, two_selects_meet_on_an_unbuffered_channel_and_agree_on_the_hand_off) {
  // Two selects, each offering a send on one channel and a receive on the other: they
  // must complete the same hand-off (both on `a` or both on `b`), each exactly once.
  for (int round = 0; round < 200; ++round) {
    lf::channel<int> a, b;
    int got_main = 0, got_other = 0;
    lf::select_result other_r{};
    std::thread t([&] {
      other_r = lf::select(lf::on_send(a, 8, [] {}), lf::on_recv(b, [&](int v) { got_other = v; }));
    });
    const auto r = lf::select(lf::on_recv(a, [&](int v) { got_main = v; }), lf::on_send(b, 1, [] {}));
    t.join();
    EXPECT_EQ(r.index, other_r.index);
    if (r.index == 0) {
      EXPECT_EQ(got_main, 8);
      EXPECT_EQ(got_other, 0);
    } else {
      EXPECT_EQ(got_main, 0);
      EXPECT_EQ(got_other, 1);
    }
  }
}

TEST(select, otherwise_alone_runs_it) {
  bool ran = false;
  const auto r = lf::select(lf::otherwise([&] { ran = true; }));
  EXPECT_TRUE(ran);
  EXPECT_EQ(r.index, 0u);
}

// --- select_cases: cases listed at run time

TEST(select_cases, drains_eight_closed_channels_disabling_each_at_its_close) {
  constexpr int channels = 8, per_channel = 5;
  std::vector<std::unique_ptr<lf::channel<int>>> ins;
  for (int c = 0; c < channels; ++c) {
    ins.push_back(std::make_unique<lf::channel<int>>(per_channel));
    for (int k = 0; k < per_channel; ++k) ASSERT_EQ(ins[c]->send(c * per_channel + k), chan_status::ok);
    EXPECT_TRUE(ins[c]->close());
  }
  std::vector<int> seen(channels * per_channel, 0);
  lf::select_cases cases;
  for (auto& in : ins) {
    cases.on_recv(*in, [&](std::optional<int> v) {
      if (v) ++seen[*v];
    });
  }
  int closes = 0;
  for (int open = channels; open > 0;) {
    const auto r = lf::select(cases);
    if (r.status == chan_status::closed) {
      cases.disable(r.index);
      --open;
      ++closes;
    }
  }
  EXPECT_EQ(closes, channels);
  for (int v = 0; v < channels * per_channel; ++v) EXPECT_EQ(seen[v], 1) << "value " << v;
}

// As select's test: four always-ready cases, each Binomial(20000, 1/4): mean 5000, sd 61;
// Hoeffding bounds leaving [3000, 7000] by 2 exp(-2 * 2000^2 / 20000) = 2 e^-400.
TEST(select_cases, chooses_uniformly_among_ready_cases) {
  constexpr int n = 4, rounds = 20000;
  std::vector<std::unique_ptr<lf::channel<int>>> chans;
  lf::select_cases cases;
  for (int i = 0; i < n; ++i) {
    chans.push_back(std::make_unique<lf::channel<int>>(1));
    ASSERT_EQ(chans[i]->send(i), chan_status::ok);
    cases.on_recv(*chans[i], [&, i](int v) { ASSERT_EQ(chans[i]->send(std::move(v)), chan_status::ok); });
  }
  int counts[n] = {};
  for (int k = 0; k < rounds; ++k) ++counts[lf::select(cases).index];
  for (int i = 0; i < n; ++i) {
    EXPECT_GE(counts[i], 3000) << "case " << i;
    EXPECT_LE(counts[i], 7000) << "case " << i;
  }
}

TEST(select_cases, biased_takes_the_first_ready_case_in_list_order) {
  lf::channel<int> a(1), b(1);
  ASSERT_EQ(a.send(0), chan_status::ok);
  ASSERT_EQ(b.send(0), chan_status::ok);
  lf::select_cases cases;
  cases.on_recv(b, [](int) {});
  cases.on_recv(a, [](int) {});
  EXPECT_EQ(lf::select_biased(cases).index, 0u);
}

TEST(select_cases, a_disabled_case_is_never_chosen_until_enabled) {
  lf::channel<int> a(1), b(1);
  lf::select_cases cases;
  const std::size_t ia = cases.on_recv(a, [&](int v) { ASSERT_EQ(a.send(std::move(v)), chan_status::ok); });
  const std::size_t ib = cases.on_recv(b, [](int) {});
  ASSERT_EQ(a.send(1), chan_status::ok);
  cases.disable(ia);
  EXPECT_FALSE(cases.enabled(ia));
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(b.send(2), chan_status::ok);
    EXPECT_EQ(lf::select(cases).index, ib);
  }
  cases.enable(ia);
  EXPECT_EQ(lf::select(cases).index, ia);
}

TEST(select_cases, a_nil_channel_in_the_list_is_never_chosen) {
  lf::channel<int> ready(1);
  lf::select_cases cases;
  cases.on_recv(static_cast<lf::channel<int>*>(nullptr), [](int) {});
  cases.on_send(static_cast<lf::channel<int>*>(nullptr), 1, [] {});
  cases.on_recv(ready, [](int) {});
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(ready.send(i), chan_status::ok);
    EXPECT_EQ(lf::select(cases).index, 2u);
  }
}

TEST(select_cases, only_disabled_cases_and_otherwise_takes_otherwise) {
  lf::channel<int> a(1);
  ASSERT_EQ(a.send(1), chan_status::ok);
  lf::select_cases cases;
  cases.on_recv(a, [](int) {});
  cases.otherwise([] {});
  cases.disable(0);
  const auto r = lf::select(cases);
  EXPECT_EQ(r.index, 1u);
  EXPECT_EQ(r.status, chan_status::would_block);
}

TEST(select_cases, only_disabled_cases_without_otherwise_throws_invalid_argument) {
  lf::channel<int> a;
  lf::select_cases cases;
  cases.on_recv(a, [](int) {});
  cases.disable(0);
  EXPECT_THROW((void)lf::select(cases), std::invalid_argument);
  lf::select_cases none;
  EXPECT_THROW((void)lf::select(none), std::invalid_argument);
}

TEST(select_cases, a_send_case_sends_its_value_once_then_is_nil) {
  lf::channel<std::string> ch(2);
  lf::select_cases cases;
  cases.on_send(ch, "once", [] {});
  cases.otherwise([] {});
  EXPECT_EQ(lf::select(cases).index, 0u);
  EXPECT_EQ(lf::select(cases).index, 1u) << "the value was sent: the case is nil";
  EXPECT_EQ(ch.size(), 1u);
  EXPECT_EQ(*ch.recv(), "once");
}

TEST(select_cases, a_send_case_on_a_closed_channel_keeps_its_value_for_the_next_select) {
  lf::channel<std::string> shut;
  EXPECT_TRUE(shut.close());
  lf::select_cases cases;
  std::vector<chan_status> seen;
  cases.on_send(shut, std::string("v"), [&](chan_status st) { seen.push_back(st); });
  EXPECT_EQ(lf::select(cases).status, chan_status::closed);
  EXPECT_EQ(lf::select(cases).status, chan_status::closed) << "not sent: still in the list";
  EXPECT_EQ(seen.size(), 2u);
}

TEST(select_cases, a_blocked_list_select_receives_from_whichever_channel_a_sender_uses) {
  lf::channel<int> a, b, c;
  lf::select_cases cases;
  int got = 0;
  cases.on_recv(a, [&](int v) { got = -v; });
  cases.on_recv(b, [&](int v) { got = v; });
  cases.on_recv(c, [&](int v) { got = -v; });
  std::thread sender([&] { EXPECT_EQ(b.send(11), chan_status::ok); });
  const auto r = lf::select(cases);
  sender.join();
  EXPECT_EQ(r.index, 1u);
  EXPECT_EQ(got, 11);
}

TEST(select_cases, after_and_on_done_cases_fire) {
  lf::channel<int> u;
  lf::select_cases timed;
  timed.on_recv(u, [](int) {});
  timed.after(1ms, [] {});
  EXPECT_EQ(lf::select(timed).status, chan_status::timeout);

  auto [ctx, cancel] = lf::with_cancel(lf::background());
  cancel();
  lf::select_cases cancelled;
  cancelled.on_recv(u, [](int) {});
  bool done = false;
  cancelled.on_done(ctx, [&] { done = true; });
  EXPECT_EQ(lf::select(cancelled).status, chan_status::canceled);
  EXPECT_TRUE(done);
}

TEST(select_cases, bad_arguments_throw_naming_them) {
  lf::select_cases cases;
  cases.otherwise([] {});
  EXPECT_THROW(cases.otherwise([] {}), std::invalid_argument);
  try {
    cases.disable(5);
    FAIL() << "no exception";
  } catch (const std::out_of_range& e) {
    EXPECT_NE(std::string(e.what()).find("i = 5"), std::string::npos) << e.what();
  }
  EXPECT_THROW(cases.after(-1ms, [] {}), std::invalid_argument);
}

// --- spinning only where it can help (patterns/detail/channel_core.hpp, spin_plan)

TEST(channel_spin, on_one_cpu_a_waiter_yields_and_never_spins) {
  constexpr lf::detail::spin_plan plan = lf::detail::plan_spin(lf::detail::handoff_spin, 1);
  EXPECT_EQ(plan.pauses, 0);
  EXPECT_GT(plan.yields, 0);
}

TEST(channel_spin, on_several_cpus_a_waiter_spins_and_does_not_yield) {
  constexpr lf::detail::spin_plan plan = lf::detail::plan_spin(lf::detail::handoff_spin, 2);
  EXPECT_EQ(plan.pauses, lf::detail::handoff_spin);
  EXPECT_EQ(plan.yields, 0);
}

TEST(channel_spin, the_cpu_count_is_the_process_affinity_mask) {
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(getpid(), sizeof set, &set), 0);
  EXPECT_EQ(lf::detail::process_cpus(), CPU_COUNT(&set));
}

// --- sleeping, not spinning

double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// A property of parking, not a speed threshold: 200 ms blocked in recv() must cost the
// receiver almost no CPU (one spin of ~2 µs, a futex sleep, a wake). A receiver that
// spun or polled would burn most of the 200 ms. 5 ms leaves room for sanitizers.
TEST(channel, an_idle_blocked_receiver_uses_no_cpu) {
  for (int capacity : {0, 4}) {
    lf::channel<int> ch(capacity);
    std::atomic<double> cpu_ms{-1};
    std::thread receiver([&] {
      const double before = thread_cpu_ms();
      auto r = ch.recv();
      cpu_ms = thread_cpu_ms() - before;
      EXPECT_TRUE(r.ok());
    });
    std::this_thread::sleep_for(200ms);
    ASSERT_EQ(ch.send(1), chan_status::ok);
    receiver.join();
    EXPECT_LT(cpu_ms.load(), 5.0) << "capacity " << capacity;
    std::printf("capacity %d: receiver CPU over 200 ms blocked: %.3f ms\n", capacity, cpu_ms.load());
  }
}

TEST(channel, recv_for_seconds_max_waits_for_the_value) {
  lf::channel<int> ch;
  std::thread sender([&] {
    std::this_thread::sleep_for(20ms);  // long enough that a wrapped deadline would have timed out
    EXPECT_EQ(ch.send(7), chan_status::ok);
  });
  auto r = ch.recv_for(std::chrono::seconds::max());
  sender.join();
  ASSERT_EQ(r.status(), chan_status::ok);
  EXPECT_EQ(*r, 7);
}

TEST(channel, send_for_hours_max_waits_for_the_receiver) {
  lf::channel<int> ch;
  std::thread receiver([&] {
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(ch.recv().value().value_or(-1), 8);
  });
  EXPECT_EQ(ch.send_for(8, std::chrono::hours::max()), chan_status::ok);
  receiver.join();
}

}  // namespace
