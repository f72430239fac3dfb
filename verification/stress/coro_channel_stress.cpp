// Channel operations awaited by coroutines, under real threads (run under TSan and ASan):
// what each case counts is checked at its end.
// Sizes, and why they suffice: the ring has 10^4 coroutines in plain builds (each hop a
// suspension and a resumption through the pool: 3*10^5 hops) and 2*10^3 under the
// sanitizers (6*10^4 hops, ~1-3 s under TSan on 2 cores), so every waiter path (fast path,
// suspend, suspend losing to a claimer, resumption on the other worker) runs thousands of
// times; the mixed channel moves 2*10^5 values (4*10^4 sanitized) through each of its two
// channels; the cancel case suspends 10^4 receivers in every build (the figure;
// each costs one frame and one link, well under a second under TSan). The select case
// moves 10^5 values (1.5*10^4 sanitized) through three channels shared by 8 selecting
// coroutines and 5 senders of three kinds: each select round (poll, queue three links,
// subscribe, suspend, withdraw) runs tens of thousands of times, ~1-3 s under TSan.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "patterns/awaitables.hpp"
#include "patterns/channel.hpp"
#include "patterns/context.hpp"
#include "patterns/select.hpp"
#include "patterns/task.hpp"
#include "verification/support/stress_scale.hpp"

namespace {

using lf::chan_status;

// A ring of n coroutines joined by n unbuffered channels: coroutine 0 puts k tokens in,
// every token goes round `laps` times (each hop adds 1), then coroutine 0 takes them out.
// k < n, so a coroutine holds at most one token and the ring never jams.
TEST(coro_channel_stress, tokens_go_round_a_ring_of_coroutines_on_two_workers) {
  constexpr int n = static_cast<int>(lf::test::stress_items(10'000, 2'000));
  constexpr int k = 10, laps = 3;
  lf::worker_pool pool(2);
  std::vector<lf::channel<std::uint64_t>> ch(static_cast<std::size_t>(n));
  std::vector<lf::join_handle<void>> hops;
  for (int i = 1; i < n; ++i) {
    hops.push_back(lf::go(pool, [&ch, i]() -> lf::task<void> {
      auto& in = ch[static_cast<std::size_t>(i)];
      auto& out = ch[static_cast<std::size_t>((i + 1) % n)];
      for (int j = 0; j < k * laps; ++j) {
        auto v = co_await lf::recv(in);
        EXPECT_TRUE(v.ok());
        EXPECT_EQ(co_await lf::send(out, *v + 1), chan_status::ok);
      }
    }));
  }
  auto head = lf::go(pool, [&ch]() -> lf::task<std::uint64_t> {
    for (std::uint64_t t = 0; t < k; ++t) EXPECT_EQ(co_await lf::send(ch[1], t), chan_status::ok);
    for (int lap = 1; lap < laps; ++lap) {
      for (int t = 0; t < k; ++t) {
        auto v = co_await lf::recv(ch[0]);
        EXPECT_EQ(co_await lf::send(ch[1], *v + 1), chan_status::ok);
      }
    }
    std::uint64_t sum = 0;
    for (int t = 0; t < k; ++t) sum += *(co_await lf::recv(ch[0]));
    co_return sum;
  });
  for (auto& h : hops) h.get();
  // Each token started at its index and gained one per hop: n hops per lap, less the
  // first hop out of coroutine 0 (a send of the token as is).
  const std::uint64_t hops_per_token = static_cast<std::uint64_t>(n) * laps - 1;
  EXPECT_EQ(head.get(), std::uint64_t{k} * (k - 1) / 2 + std::uint64_t{k} * hops_per_token);
}

// Thread and coroutine senders and receivers on one unbuffered and one 4-slot channel at
// once: every value is received exactly once (per-value counts) and the sums match.
TEST(coro_channel_stress, thread_and_coroutine_senders_and_receivers_share_a_channel_exactly_once) {
  constexpr int per_sender = static_cast<int>(lf::test::stress_items(50'000, 10'000));
  constexpr int senders_each = 2;  // threads, and as many coroutines
  for (std::ptrdiff_t capacity : {0, 4}) {
    lf::worker_pool pool(2);
    lf::channel<int> ch(capacity);
    const int total = per_sender * senders_each * 2;
    std::vector<std::atomic<int>> seen(static_cast<std::size_t>(total));
    std::atomic<long> received{0};
    auto take = [&](int v) {
      seen[static_cast<std::size_t>(v)].fetch_add(1, std::memory_order_relaxed);
      received.fetch_add(1, std::memory_order_relaxed);
    };
    std::vector<lf::join_handle<void>> coros;
    std::vector<std::thread> threads;
    for (int r = 0; r < 2; ++r) {
      coros.push_back(lf::go(pool, [&]() -> lf::task<void> {
        while (auto v = co_await lf::recv(ch)) take(*v);
      }));
      threads.emplace_back([&] {
        while (auto v = ch.recv()) take(*v);
      });
    }
    std::vector<lf::join_handle<void>> coro_senders;
    std::vector<std::thread> thread_senders;
    for (int s = 0; s < senders_each; ++s) {
      const int base_t = s * per_sender, base_c = (senders_each + s) * per_sender;
      thread_senders.emplace_back([&ch, base_t] {
        for (int i = 0; i < per_sender; ++i) EXPECT_EQ(ch.send(base_t + i), chan_status::ok);
      });
      coro_senders.push_back(lf::go(pool, [&ch, base_c]() -> lf::task<void> {
        for (int i = 0; i < per_sender; ++i) EXPECT_EQ(co_await lf::send(ch, base_c + i), chan_status::ok);
      }));
    }
    for (auto& t : thread_senders) t.join();
    for (auto& h : coro_senders) h.get();
    ch.close();
    for (auto& t : threads) t.join();
    for (auto& h : coros) h.get();
    EXPECT_EQ(received.load(), total) << "capacity " << capacity;
    int wrong = 0;
    for (auto& c : seen) wrong += c.load() != 1;
    EXPECT_EQ(wrong, 0) << "capacity " << capacity;
  }
}

// 10^4 coroutines suspended in recv(ch, ctx) on one channel; one cancel resumes each once
// with canceled, and nothing is left queued (ASan/LSan: every frame freed).
TEST(coro_channel_stress, one_cancel_resumes_ten_thousand_suspended_receivers_once) {
  constexpr int n = 10'000;
  lf::worker_pool pool(2);
  lf::channel<std::unique_ptr<int>> ch;
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  std::atomic<int> arrived{0}, canceled{0}, resumed{0};
  std::vector<lf::join_handle<void>> hs;
  hs.reserve(n);
  for (int i = 0; i < n; ++i) {
    hs.push_back(lf::go(pool, [&](lf::context c) -> lf::task<void> {
      arrived.fetch_add(1, std::memory_order_relaxed);
      auto r = co_await lf::recv(ch, c);
      resumed.fetch_add(1, std::memory_order_relaxed);
      if (r.status() == chan_status::canceled) canceled.fetch_add(1, std::memory_order_relaxed);
    }, ctx));
  }
  while (arrived.load() != n) std::this_thread::yield();
  cancel();
  for (auto& h : hs) h.get();
  EXPECT_EQ(resumed.load(), n);
  EXPECT_EQ(canceled.load(), n);
  EXPECT_EQ(ch.try_send(std::make_unique<int>(1)), chan_status::would_block);  // nobody queued
}

// Coroutine selects over three shared channels (two unbuffered, one 2-slot buffered),
// fed by thread selects over send cases, a plain thread sender, and coroutine selects over
// send cases. Half of the receiving selects carry a 50 µs deadline that fires now and
// then (they go round), so the timer's claim races the senders' claims on the same
// waiters; all carry a context case, cancelled at the end. Every value is received exactly
// once (per-value counts), and the cases that fired are what was sent.
TEST(coro_channel_stress, coroutine_selects_receive_every_value_from_mixed_senders_exactly_once) {
  using namespace std::chrono_literals;
  constexpr int per_sender = static_cast<int>(lf::test::stress_items(20'000, 3'000));
  constexpr int thread_selectors = 2, coro_senders = 2, receivers = 8;
  constexpr int total = per_sender * (thread_selectors + 1 + coro_senders);
  lf::worker_pool pool(2);
  lf::channel<int> u1, u2, b(2);
  auto [ctx, cancel] = lf::with_cancel(lf::background());
  std::vector<std::atomic<int>> seen(static_cast<std::size_t>(total));
  std::atomic<long> timeouts{0};
  auto take = [&](int v) { seen[static_cast<std::size_t>(v)].fetch_add(1, std::memory_order_relaxed); };

  std::vector<lf::join_handle<void>> selectors;
  for (int r = 0; r < receivers; ++r) {
    selectors.push_back(lf::go(pool, [&, timed = r % 2 == 1](lf::context x) -> lf::task<void> {
      for (;;) {
        lf::select_result res{};
        if (timed) {
          res = co_await lf::co_select(lf::on_recv(u1, take), lf::on_recv(u2, take), lf::on_recv(b, take),
                                       lf::on_done(x, [] {}), lf::after(50us, [&] { timeouts.fetch_add(1); }));
        } else {
          res = co_await lf::co_select(lf::on_recv(u1, take), lf::on_recv(u2, take), lf::on_recv(b, take),
                                       lf::on_done(x, [] {}));
        }
        if (res.status == chan_status::canceled) co_return;
        EXPECT_TRUE(res.status == chan_status::ok || res.status == chan_status::timeout);
      }
    }, ctx));
  }
  std::vector<std::thread> threads;
  for (int s = 0; s < thread_selectors; ++s) {
    threads.emplace_back([&, base = s * per_sender] {
      for (int i = 0; i < per_sender; ++i) {
        const lf::select_result r = lf::select(lf::on_send(u1, base + i, [] {}), lf::on_send(u2, base + i, [] {}));
        EXPECT_EQ(r.status, chan_status::ok);
      }
    });
  }
  threads.emplace_back([&, base = thread_selectors * per_sender] {
    for (int i = 0; i < per_sender; ++i) EXPECT_EQ(b.send(base + i), chan_status::ok);
  });
  std::vector<lf::join_handle<void>> senders;
  for (int s = 0; s < coro_senders; ++s) {
    senders.push_back(lf::go(pool, [&, base = (thread_selectors + 1 + s) * per_sender]() -> lf::task<void> {
      for (int i = 0; i < per_sender; ++i) {
        const lf::select_result r = co_await lf::co_select(lf::on_send(u2, base + i, [] {}), lf::on_send(b, base + i, [] {}));
        EXPECT_EQ(r.status, chan_status::ok);
      }
    }));
  }
  for (auto& t : threads) t.join();
  for (auto& h : senders) h.get();
  cancel();  // every value was sent: the unbuffered ones were received; b may hold two
  for (auto& h : selectors) h.get();
  while (auto v = b.try_recv()) take(*v);
  int wrong = 0;
  for (auto& c : seen) wrong += c.load() != 1;
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(u1.try_send(0), chan_status::would_block);  // no select left a link queued
  EXPECT_EQ(u2.try_recv().status(), chan_status::would_block);
  std::printf("deadlines fired: %ld\n", timeouts.load());
}

}  // namespace
