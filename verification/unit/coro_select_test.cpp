// lf::co_select awaited by lf tasks (patterns/awaitables.hpp, patterns/detail/select_await.hpp):
// one behaviour per test. Every wait here ends by a partner's action, a close, a cancel
// or a deadline the test chose; none asserts a time.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "patterns/awaitables.hpp"
#include "patterns/channel.hpp"
#include "patterns/context.hpp"
#include "patterns/select.hpp"
#include "patterns/task.hpp"
#include "verification/support/channel_partners.hpp"

namespace {

using lf::chan_status;
using namespace std::chrono_literals;

using lf::test::destruction_counter;
using lf::test::send_when_a_receiver_waits;

// On a one-worker pool, returns once every coroutine started before has run into its
// first suspension (or finished): the worker takes the pool's queue in order and runs a
// coroutine until it suspends.
void drain_one_worker(lf::worker_pool& pool) {
  lf::go(pool, []() -> lf::task<void> { co_return; }).get();
}

// --- cases that are ready at the poll: no other thread runs, so a suspension would
// never be resumed (the test would hang): completing proves the select did not suspend.

TEST(coro_select, ready_recv_case_runs_its_handler_without_suspending) {
  lf::channel<int> empty(1), full(1);
  ASSERT_EQ(full.send(7), chan_status::ok);
  auto t = [](lf::channel<int>& e, lf::channel<int>& f) -> lf::task<int> {
    int got = 0;
    const lf::select_result r = co_await lf::co_select(lf::on_recv(e, [&](int) { ADD_FAILURE(); }),
                                                       lf::on_recv(f, [&](int v) { got = v; }));
    EXPECT_EQ(r.index, 1u);
    EXPECT_EQ(r.status, chan_status::ok);
    co_return got;
  };
  EXPECT_EQ(lf::sync_wait(t(empty, full)), 7);
}

TEST(coro_select, ready_send_case_sends_and_leaves_an_unchosen_rvalue_alone) {
  lf::channel<std::string> room(1), unbuffered;
  auto t = [](lf::channel<std::string>& room, lf::channel<std::string>& u) -> lf::task<void> {
    std::string a = "sent", b = "kept";
    bool sent = false;
    const lf::select_result r =
        co_await lf::co_select(lf::on_send(u, std::move(b), [] { ADD_FAILURE(); }),
                               lf::on_send(room, std::move(a), [&](chan_status st) { sent = st == chan_status::ok; }));
    EXPECT_EQ(r.index, 1u);
    EXPECT_TRUE(sent);
    EXPECT_EQ(b, "kept");  // moved from only if sent
  };
  lf::sync_wait(t(room, unbuffered));
  EXPECT_EQ(*room.try_recv(), "sent");
}

TEST(coro_select, lvalue_send_case_copies_the_value) {
  lf::channel<std::string> ch(1);
  const std::string v = "copied";
  auto t = [](lf::channel<std::string>& c, const std::string& v) -> lf::task<chan_status> {
    co_return (co_await lf::co_select(lf::on_send(c, v, [] {}))).status;
  };
  EXPECT_EQ(lf::sync_wait(t(ch, v)), chan_status::ok);
  EXPECT_EQ(v, "copied");
  EXPECT_EQ(*ch.recv(), "copied");
}

TEST(coro_select, closed_channels_are_ready_with_closed) {
  lf::channel<int> r, s(1);
  r.close();
  s.close();
  auto t = [](lf::channel<int>& r, lf::channel<int>& s) -> lf::task<void> {
    std::optional<int> seen = 5;
    auto a = co_await lf::co_select(lf::on_recv(r, [&](std::optional<int> v) { seen = v; }));
    EXPECT_EQ(a.status, chan_status::closed);
    EXPECT_FALSE(seen.has_value());
    chan_status sent = chan_status::ok;
    auto b = co_await lf::co_select(lf::on_send(s, 1, [&](chan_status st) { sent = st; }));
    EXPECT_EQ(b.status, chan_status::closed);
    EXPECT_EQ(sent, chan_status::closed);
  };
  lf::sync_wait(t(r, s));
}

TEST(coro_select, otherwise_runs_when_nothing_is_ready_and_never_suspends) {
  lf::channel<int> u, b(1);
  auto t = [](lf::channel<int>& u, lf::channel<int>& b) -> lf::task<void> {
    bool defaulted = false;
    auto r = co_await lf::co_select(lf::on_recv(u, [](int) { ADD_FAILURE(); }), lf::on_recv(b, [](int) { ADD_FAILURE(); }),
                                    lf::otherwise([&] { defaulted = true; }));
    EXPECT_EQ(r.index, 2u);
    EXPECT_EQ(r.status, chan_status::would_block);
    EXPECT_TRUE(defaulted);
  };
  lf::sync_wait(t(u, b));
  EXPECT_EQ(u.try_send(1), chan_status::would_block);  // a non-blocking select queued nothing
}

TEST(coro_select, otherwise_is_not_chosen_when_a_case_is_ready) {
  lf::channel<int> b(1);
  ASSERT_EQ(b.send(3), chan_status::ok);
  auto t = [](lf::channel<int>& b) -> lf::task<std::size_t> {
    co_return (co_await lf::co_select(lf::otherwise([] { ADD_FAILURE(); }), lf::on_recv(b, [](int v) { EXPECT_EQ(v, 3); })))
        .index;
  };
  EXPECT_EQ(lf::sync_wait(t(b)), 1u);
}

TEST(coro_select, a_context_done_before_the_call_is_a_ready_case) {
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  cancel();
  lf::channel<int> u;
  auto t = [](lf::channel<int>& u, lf::context x) -> lf::task<lf::select_result> {
    bool fired = false;
    auto r = co_await lf::co_select(lf::on_recv(u, [](int) {}), lf::on_done(x, [&] { fired = true; }));
    EXPECT_TRUE(fired);
    co_return r;
  };
  const lf::select_result r = lf::sync_wait(t(u, ctx));
  EXPECT_EQ(r.index, 1u);
  EXPECT_EQ(r.status, chan_status::canceled);
}

TEST(coro_select, an_expired_deadline_is_a_ready_case) {
  lf::channel<int> u;
  auto t = [](lf::channel<int>& u) -> lf::task<lf::select_result> {
    co_return co_await lf::co_select(lf::on_recv(u, [](int) {}), lf::after(0ms, [] {}));
  };
  const lf::select_result r = lf::sync_wait(t(u));
  EXPECT_EQ(r.index, 1u);
  EXPECT_EQ(r.status, chan_status::timeout);
}

TEST(coro_select, a_negative_deadline_throws_naming_it) {
  auto t = []() -> lf::task<void> { (void)co_await lf::co_select(lf::after(-1ms, [] {})); };
  try {
    lf::sync_wait(t());
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("lf::after: d"), std::string::npos) << e.what();
  }
}

// --- nil channels

TEST(coro_select, a_nil_case_is_never_chosen) {
  lf::channel<int>* nil = nullptr;
  lf::channel<int> b(1);
  ASSERT_EQ(b.send(1), chan_status::ok);
  auto t = [](lf::channel<int>* nil, lf::channel<int>& b) -> lf::task<std::size_t> {
    co_return (co_await lf::co_select(lf::on_recv(nil, [](int) { ADD_FAILURE(); }),
                                      lf::on_send(nil, 2, [] { ADD_FAILURE(); }), lf::on_recv(b, [](int) {})))
        .index;
  };
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(lf::sync_wait(t(nil, b)), 2u);
    ASSERT_EQ(b.send(1), chan_status::ok);
  }
}

TEST(coro_select, only_nil_cases_run_the_otherwise_or_throw) {
  lf::channel<int>* nil = nullptr;
  auto with_default = [](lf::channel<int>* nil) -> lf::task<std::size_t> {
    co_return (co_await lf::co_select(lf::on_recv(nil, [](int) {}), lf::otherwise([] {}))).index;
  };
  EXPECT_EQ(lf::sync_wait(with_default(nil)), 1u);
  auto without = [](lf::channel<int>* nil) -> lf::task<void> { (void)co_await lf::co_select(lf::on_recv(nil, [](int) {})); };
  EXPECT_THROW(lf::sync_wait(without(nil)), std::invalid_argument);
}

// --- suspended selects and what resumes them

TEST(coro_select, suspended_select_gets_a_thread_senders_value) {
  lf::worker_pool pool(1);
  lf::channel<int> a, b;
  auto h = lf::go(pool, [&]() -> lf::task<int> {
    int got = 0;
    auto r = co_await lf::co_select(lf::on_recv(a, [&](int v) { got = v; }), lf::on_recv(b, [&](int v) { got = -v; }));
    EXPECT_EQ(r.index, 1u);
    co_return got;
  });
  send_when_a_receiver_waits(b, 4);
  EXPECT_EQ(h.get(), -4);
  EXPECT_EQ(a.try_send(1), chan_status::would_block);  // its other link was unqueued
}

TEST(coro_select, suspended_send_case_hands_its_value_to_a_thread_receiver) {
  lf::worker_pool pool(1);
  lf::channel<std::unique_ptr<int>> a;
  lf::channel<int> b;
  auto h = lf::go(pool, [&]() -> lf::task<std::size_t> {
    co_return (co_await lf::co_select(lf::on_send(a, std::make_unique<int>(8), [] {}), lf::on_recv(b, [](int) {}))).index;
  });
  auto r = a.recv();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(**r, 8);
  EXPECT_EQ(h.get(), 0u);
}

TEST(coro_select, a_suspended_select_does_not_block_its_worker) {
  lf::worker_pool pool(1);  // the selector and its partner share the one worker
  lf::channel<int> a, b;
  auto selector = lf::go(pool, [&]() -> lf::task<int> {
    int got = 0;
    (void)co_await lf::co_select(lf::on_recv(a, [&](int v) { got = v; }), lf::on_recv(b, [&](int v) { got = v; }));
    co_return got;
  });
  auto sender = lf::go(pool, [&]() -> lf::task<chan_status> { co_return co_await lf::send(b, 11); });
  EXPECT_EQ(sender.get(), chan_status::ok);
  EXPECT_EQ(selector.get(), 11);
}

TEST(coro_select, coroutine_selects_on_both_ends_of_a_channel_pair) {
  lf::worker_pool pool(2);
  lf::channel<int> ping, pong;
  constexpr int rounds = 1000;
  auto a = lf::go(pool, [&]() -> lf::task<long> {
    long sum = 0;
    for (int i = 0; i < rounds; ++i) {
      (void)co_await lf::co_select(lf::on_send(ping, i, [] {}));
      (void)co_await lf::co_select(lf::on_recv(pong, [&](int v) { sum += v; }));
    }
    co_return sum;
  });
  auto b = lf::go(pool, [&]() -> lf::task<void> {
    for (int i = 0; i < rounds; ++i) {
      int v = 0;
      (void)co_await lf::co_select(lf::on_recv(ping, [&](int x) { v = x; }));
      (void)co_await lf::co_select(lf::on_send(pong, 2 * v, [] {}));
    }
  });
  b.get();
  EXPECT_EQ(a.get(), static_cast<long>(rounds) * (rounds - 1));
}

TEST(coro_select, sync_wait_select_is_resumed_on_its_thread) {
  lf::channel<int> a, b;
  std::thread sender([&] { send_when_a_receiver_waits(a, 9); });
  const auto me = std::this_thread::get_id();
  auto t = [](lf::channel<int>& a, lf::channel<int>& b) -> lf::task<std::thread::id> {
    (void)co_await lf::co_select(lf::on_recv(a, [](int v) { EXPECT_EQ(v, 9); }), lf::on_recv(b, [](int) {}));
    co_return std::this_thread::get_id();
  };
  EXPECT_EQ(lf::sync_wait(t(a, b)), me);
  sender.join();
}

TEST(coro_select, close_while_suspended_resumes_with_closed) {
  lf::worker_pool pool(1);
  lf::channel<int> a, b;
  auto h = lf::go(pool, [&]() -> lf::task<lf::select_result> {
    co_return co_await lf::co_select(lf::on_recv(a, [](std::optional<int> v) { EXPECT_FALSE(v); }),
                                     lf::on_recv(b, [](int) { ADD_FAILURE(); }));
  });
  drain_one_worker(pool);  // it is suspended now
  a.close();
  const lf::select_result r = h.get();
  EXPECT_EQ(r.index, 0u);
  EXPECT_EQ(r.status, chan_status::closed);
}

TEST(coro_select, cancel_while_suspended_resumes_with_canceled) {
  lf::worker_pool pool(1);
  lf::channel<int> u, full(1);
  ASSERT_EQ(full.send(0), chan_status::ok);
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  std::vector<lf::join_handle<lf::select_result>> hs;
  for (int i = 0; i < 8; ++i) {
    hs.push_back(lf::go(pool, [&](lf::context x) -> lf::task<lf::select_result> {
      co_return co_await lf::co_select(lf::on_recv(u, [](int) {}), lf::on_send(full, 1, [] {}), lf::on_done(x, [] {}));
    }, ctx));
  }
  drain_one_worker(pool);  // all 8 are suspended now
  cancel();
  for (auto& h : hs) {
    const lf::select_result r = h.get();
    EXPECT_EQ(r.index, 2u);
    EXPECT_EQ(r.status, chan_status::canceled);
  }
  EXPECT_EQ(u.try_send(1), chan_status::would_block);  // nobody left queued
  EXPECT_EQ(*full.try_recv(), 0);
  EXPECT_EQ(full.try_recv().status(), chan_status::would_block);  // no send case fired
}

TEST(coro_select, a_deadline_resumes_a_suspended_select_with_timeout) {
  lf::worker_pool pool(1);
  lf::channel<int> u;
  auto h = lf::go(pool, [&]() -> lf::task<lf::select_result> {
    bool fired = false;
    auto r = co_await lf::co_select(lf::on_recv(u, [](int) { ADD_FAILURE(); }), lf::after(1h, [] { ADD_FAILURE(); }),
                                    lf::after(2ms, [&] { fired = true; }));
    EXPECT_TRUE(fired);
    co_return r;
  });
  const lf::select_result r = h.get();
  EXPECT_EQ(r.index, 2u);  // the earliest deadline
  EXPECT_EQ(r.status, chan_status::timeout);
  EXPECT_EQ(u.try_send(1), chan_status::would_block);
}

TEST(coro_select, a_duration_max_deadline_never_fires) {
  lf::worker_pool pool(1);
  lf::channel<int> u;
  auto h = lf::go(pool, [&]() -> lf::task<lf::select_result> {
    co_return co_await lf::co_select(lf::on_recv(u, [](int v) { EXPECT_EQ(v, 3); }),
                                     lf::after(std::chrono::nanoseconds::max(), [] { ADD_FAILURE(); }),
                                     lf::after(std::chrono::hours::max(), [] { ADD_FAILURE(); }));
  });
  send_when_a_receiver_waits(u, 3);
  EXPECT_EQ(h.get().index, 0u);
}

TEST(coro_select, an_exception_from_the_handler_reaches_the_awaiter) {
  lf::channel<int> b(1);
  ASSERT_EQ(b.send(1), chan_status::ok);
  auto t = [](lf::channel<int>& b) -> lf::task<void> {
    (void)co_await lf::co_select(lf::on_recv(b, [](int) { throw std::runtime_error("from f"); }));
  };
  EXPECT_THROW(lf::sync_wait(t(b)), std::runtime_error);
}

// --- fairness. Two cases stay ready through all N = 2000 selects (each buffered channel
// holds N values). A uniform choice makes each side's wins Binomial(2000, 1/2): mean
// 1000, standard deviation 22.4, so "at least 30%" (600) is 17.9 deviations below the
// mean: a fair select fails it with probability below 1e-70, while a select that
// prefers one argument position (the bias this guards against) fails it every time.

template <bool Biased>
lf::task<int> count_first_wins(lf::channel<int>& a, lf::channel<int>& b, int n) {
  int first = 0;
  for (int i = 0; i < n; ++i) {
    if constexpr (Biased) {
      (void)co_await lf::co_select_biased(lf::on_recv(a, [&](int) { ++first; }), lf::on_recv(b, [](int) {}));
    } else {
      (void)co_await lf::co_select(lf::on_recv(a, [&](int) { ++first; }), lf::on_recv(b, [](int) {}));
    }
  }
  co_return first;
}

// Two buffered channels of n values each: both stay ready through n selects.
void fill_both(lf::channel<int>& a, lf::channel<int>& b, int n) {
  for (int i = 0; i < n; ++i) {
    ASSERT_EQ(a.send(i), chan_status::ok);
    ASSERT_EQ(b.send(i), chan_status::ok);
  }
}

TEST(coro_select, chooses_uniformly_among_ready_cases) {
  constexpr int n = 2000;
  lf::channel<int> a(n), b(n);
  fill_both(a, b, n);
  const int first = lf::sync_wait(count_first_wins<false>(a, b, n));
  EXPECT_GE(first, n * 3 / 10);
  EXPECT_GE(n - first, n * 3 / 10);
}

TEST(coro_select, biased_takes_the_first_ready_case) {
  constexpr int n = 2000;
  lf::channel<int> a(n), b(n);
  fill_both(a, b, n);
  EXPECT_EQ(lf::sync_wait(count_first_wins<true>(a, b, n)), n);
}

// --- threads and coroutines on the same channels

TEST(coro_select, thread_senders_and_coroutine_and_thread_selectors_share_channels) {
  lf::worker_pool pool(2);
  lf::channel<int> u;     // unbuffered
  lf::channel<int> b(2);  // buffered: its wake-ups only say "try again"
  constexpr int per_sender = 3000;
  std::vector<std::atomic<int>> seen(4 * per_sender);
  auto take = [&](int v) { seen[v].fetch_add(1); };
  std::thread senders[4];
  for (int s = 0; s < 4; ++s) {
    senders[s] = std::thread([&, s] {
      lf::channel<int>& ch = s % 2 ? b : u;
      for (int i = 0; i < per_sender; ++i) EXPECT_EQ(ch.send(s * per_sender + i), chan_status::ok);
    });
  }
  auto coroutine_selector = [&]() -> lf::task<void> {
    for (;;) {
      auto r = co_await lf::co_select(lf::on_recv(u, [&](std::optional<int> v) { if (v) take(*v); }),
                                      lf::on_recv(b, [&](std::optional<int> v) { if (v) take(*v); }));
      if (r.status == chan_status::closed) break;  // both close together below
    }
  };
  std::vector<lf::join_handle<void>> hs;
  for (int i = 0; i < 3; ++i) hs.push_back(lf::go(pool, coroutine_selector));
  std::thread thread_selector([&] {
    for (;;) {
      auto r = lf::select(lf::on_recv(u, [&](std::optional<int> v) { if (v) take(*v); }),
                          lf::on_recv(b, [&](std::optional<int> v) { if (v) take(*v); }));
      if (r.status == chan_status::closed) break;
    }
  });
  for (auto& s : senders) s.join();
  u.close();
  b.close();
  for (auto& h : hs) h.get();
  thread_selector.join();
  // A selector stops at the first closed case it sees; b may still hold values then.
  while (auto r = b.try_recv()) take(*r);
  for (std::size_t v = 0; v < seen.size(); ++v) ASSERT_EQ(seen[v].load(), 1) << "value " << v;
}

// --- lists built at run time

TEST(coro_select, a_list_runs_until_every_input_is_closed) {
  lf::worker_pool pool(1);
  lf::channel<int> in[3];
  lf::select_cases cases;
  long sum = 0;
  for (auto& ch : in) cases.on_recv(ch, [&](std::optional<int> v) { sum += v.value_or(0); });
  auto h = lf::go(pool, [&]() -> lf::task<int> {
    int rounds = 0;
    for (std::size_t open = 3; open > 0; ++rounds) {
      const lf::select_result r = co_await lf::co_select(cases);
      if (r.status == chan_status::closed) {
        cases.disable(r.index);
        --open;
      }
    }
    co_return rounds;
  });
  for (int i = 0; i < 3; ++i) {
    for (int v = 1; v <= 100; ++v) EXPECT_EQ(in[i].send(v), chan_status::ok);
    in[i].close();
  }
  EXPECT_EQ(h.get(), 303);
  EXPECT_EQ(sum, 3 * 5050);
}

TEST(coro_select, a_biased_list_takes_its_first_ready_case) {
  lf::channel<int> a(1), b(1);
  lf::select_cases cases;
  cases.on_recv(a, [](int) {});
  cases.on_recv(b, [](int) {});
  cases.otherwise([] {});
  auto t = [](lf::select_cases& c) -> lf::task<std::size_t> { co_return (co_await lf::co_select_biased(c)).index; };
  EXPECT_EQ(lf::sync_wait(t(cases)), 2u);  // nothing ready
  ASSERT_EQ(a.send(1), chan_status::ok);
  ASSERT_EQ(b.send(1), chan_status::ok);
  EXPECT_EQ(lf::sync_wait(t(cases)), 0u);
  EXPECT_EQ(lf::sync_wait(t(cases)), 1u);
}

// --- destruction

TEST(coro_select, destroying_the_pool_frees_suspended_selects_without_resuming_them) {
  std::atomic<int> destroyed{0};
  std::atomic<int> arrived{0};
  lf::channel<int> u;
  lf::channel<std::string> full(1);
  ASSERT_EQ(full.send(std::string(64, 'f')), chan_status::ok);
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  lf::join_handle<void> h;
  {
    lf::worker_pool pool(2);
    for (int i = 0; i < 20; ++i) {
      lf::go(pool, [&](lf::context x) -> lf::task<void> {
        destruction_counter d{&destroyed};
        arrived.fetch_add(1);
        (void)co_await lf::co_select(lf::on_recv(u, [](int) {}), lf::on_send(full, std::string(64, 's'), [] {}),
                                     lf::on_done(x, [] {}), lf::after(1h, [] {}));
        ADD_FAILURE() << "a select resumed after its pool was destroyed";
      }, ctx).detach();
    }
    h = lf::go(pool, [&]() -> lf::task<void> {
      destruction_counter d{&destroyed};
      arrived.fetch_add(1);
      (void)co_await lf::co_select(lf::on_recv(u, [](int) {}));
    });
    // Wait until each has reached its co_await: a worker that runs a coroutine into its
    // suspension finishes that before the pool's destructor joins it.
    while (arrived.load() != 21) std::this_thread::yield();
  }
  EXPECT_EQ(destroyed.load(), 21);
  EXPECT_THROW(h.get(), std::future_error);
  // Nothing of theirs is left queued; their context callbacks and timer entries are gone
  // (ASan: no use of a freed frame when the context is cancelled).
  EXPECT_EQ(u.try_send(1), chan_status::would_block);
  cancel();
  EXPECT_EQ(*full.recv(), std::string(64, 'f'));
  EXPECT_EQ(full.try_recv().status(), chan_status::would_block);
  EXPECT_EQ(full.try_send("x"), chan_status::ok);
}

}  // namespace
