// Stress lane: patterns/pipeline.hpp under real threads (TSan, ASan, -O2).
//
// What is counted and checked at the end of every run:
//   * every item the source produced reaches the sink exactly once (a per-item counter);
//     after a cancellation or an exception, at most once, and nothing is left alive (a
//     live-instance count of the item type returns to zero);
//   * a serial stage never has two items inside (a meter), a parallel(n) stage never
//     more than n; never more than max_live_items between the source and the sink;
//   * a serial_in_order stage sees the source's order (each item is the previous + 1),
//     so an in-order sink's deliveries are exactly a prefix 0..k-1;
//   * stream stages (fan_out, fan_out_ordered, merge): the sum and count of what comes
//     out, and fan_out_ordered's order.
// Pipelines of 3 to 5 stages (source, 1-3 middle stages, sink) cover every mode in every
// position, on threads of their own (4 on 2 CPUs: oversubscribed, so preemption lands
// inside gates) and on a worker_pool.
//
// Why these sizes suffice: the races are between a task leaving a gate and tasks
// entering or buffering at it, and between the last token's return and the source
// restarting; each happens once per item per gate. The windows are 3 to 16 items, so an
// in-order stage's reorder ring wraps N / window times: with N = 1'000'000 (optimized),
// 200'000 (-O0) or 100'000 (sanitized: TSan runs these loops 5-20x slower; on 2 CPUs
// each test stays under ~5 s) every gate sees each interleaving class thousands of times. Cancellation
// and exceptions are injected at random items, 24 rounds each (sanitized: 12), so the
// stop lands in every stage and in the source, at a random state of the gates.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "patterns/channel.hpp"
#include "patterns/context.hpp"
#include "patterns/pipeline.hpp"
#include "patterns/worker_pool.hpp"
#include "verification/support/concurrency_meter.hpp"
#include "verification/support/stress_scale.hpp"

namespace {

using lf::test::concurrency_meter;

// The 10^6 items in optimized builds (the release and clang presets); the dev
// preset's -O0 build moves a fifth, and the sanitized builds (TSan, ASan at -O2) 100'000.
#if defined(NDEBUG)
constexpr std::uint64_t plain_items = 1'000'000;
#else
constexpr std::uint64_t plain_items = 200'000;
#endif
constexpr std::uint64_t items = lf::test::stress_items(plain_items, 100'000);
constexpr int fault_rounds = lf::test::sanitized ? 12 : 24;
constexpr std::uint64_t fault_items = lf::test::stress_items(plain_items / 20, 15'000);

// An item that counts its live instances.
struct item {
  static std::atomic<long> alive;
  std::uint64_t seq;
  explicit item(std::uint64_t s) : seq(s) { alive.fetch_add(1, std::memory_order_relaxed); }
  item(item&& o) noexcept : seq(o.seq) { alive.fetch_add(1, std::memory_order_relaxed); }
  item& operator=(item&&) = default;
  ~item() { alive.fetch_sub(1, std::memory_order_relaxed); }
};
std::atomic<long> item::alive{0};

// What a middle stage or the sink checks on every call.
struct stage_check {
  explicit stage_check(lf::stage_mode m) : mode(m) {}
  lf::stage_mode mode;
  concurrency_meter meter;
  std::uint64_t next = 0;  // in-order stages: the number expected next (one caller at a time)
  std::atomic<bool> order_broken{false};

  void enter(std::uint64_t seq) {
    meter.enter();
    if (mode.ordered) {
      if (seq != next) order_broken.store(true);
      next = seq + 1;
    }
    if (seq % 64 == 0) std::this_thread::yield();  // let other items overtake
  }
  void leave() { meter.leave(); }
  void verify(const char* where) const {
    EXPECT_FALSE(order_broken.load()) << where << ": an in-order stage saw an item out of order";
    if (mode.limit != 0) {
      EXPECT_LE(static_cast<std::size_t>(meter.most.load()), mode.limit) << where;
    }
  }
};

// Everything one run observed.
struct run_record {
  explicit run_record(std::uint64_t n) : delivered(new std::atomic<std::uint8_t>[n]()), n_(n) {}
  std::unique_ptr<std::atomic<std::uint8_t>[]> delivered;
  std::atomic<std::uint64_t> produced{0};
  // Items between the source's return and the sink's call: at most the window, whichever
  // carrier took each one (the bound is on tokens, taken before the source is called and
  // given back after the sink returned, so this count stays under it).
  std::atomic<long> in_flight{0};
  std::atomic<long> most_in_flight{0};
  std::size_t window = 0;
  std::uint64_t n_;

  void born() {
    const long now = in_flight.fetch_add(1, std::memory_order_relaxed) + 1;
    long m = most_in_flight.load(std::memory_order_relaxed);
    while (now > m && !most_in_flight.compare_exchange_weak(m, now, std::memory_order_relaxed)) {
    }
  }

  // Every item once (complete) or at most once (stopped); an in-order sink: a prefix.
  void verify(bool complete, bool in_order_sink) const {
    const std::uint64_t made = produced.load();
    EXPECT_LE(most_in_flight.load(), static_cast<long>(window)) << "more items live than max_live_items";
    if (complete) {
      EXPECT_EQ(made, n_);
    }
    std::uint64_t count = 0;
    std::uint64_t twice = 0;
    std::uint64_t first_missing = made;
    std::uint64_t last_delivered = 0;
    for (std::uint64_t i = 0; i < made; ++i) {
      const std::uint8_t d = delivered[i].load();
      if (d > 1) ++twice;
      if (d >= 1) {
        ++count;
        last_delivered = i;
      } else if (first_missing == made) {
        first_missing = i;
      }
    }
    EXPECT_EQ(twice, 0u) << "items delivered more than once";
    if (complete) {
      EXPECT_EQ(count, n_);
    }
    if (in_order_sink && count > 0) {
      EXPECT_EQ(last_delivered + 1, count) << "an in-order sink's deliveries are not a prefix (first gap at "
                                           << first_missing << ")";
    }
  }
};

// A pipeline source -> m0 -> [m1 -> [m2]] -> sink over `item`, each stage checked.
// fault(seq, stage) may throw or cancel; stage -1 is the source.
template <class Fault>
lf::context_error run_pipeline(const std::vector<lf::stage_mode>& modes, std::size_t window, std::uint64_t n,
                               run_record& rec, std::vector<std::unique_ptr<stage_check>>& checks,
                               const lf::context& ctx, lf::worker_pool* pool, Fault fault) {
  for (lf::stage_mode m : modes) checks.push_back(std::make_unique<stage_check>(m));
  rec.window = window;
  auto source = lf::source([&rec, n, &fault, i = std::uint64_t{0}]() mutable -> std::optional<item> {
    if (i == n) return std::nullopt;
    fault(i, -1);
    rec.produced.fetch_add(1, std::memory_order_relaxed);
    rec.born();
    return item(i++);
  });
  auto middle = [&](std::size_t k) {
    return lf::stage(modes[k], [&, k](item v) {
      checks[k]->enter(v.seq);
      fault(v.seq, static_cast<int>(k));
      checks[k]->leave();
      return v;
    });
  };
  const std::size_t last = modes.size() - 1;
  auto sink = lf::sink(modes[last], [&, last](item v) {
    checks[last]->enter(v.seq);
    fault(v.seq, static_cast<int>(last));
    rec.delivered[v.seq].fetch_add(1, std::memory_order_relaxed);
    rec.in_flight.fetch_sub(1, std::memory_order_relaxed);
    checks[last]->leave();
  });
  auto go = [&](auto& p) { return pool != nullptr ? p.run(ctx, *pool) : p.run(ctx, 4); };
  switch (modes.size()) {
    case 2: {
      lf::pipeline p(window, std::move(source), middle(0), std::move(sink));
      return go(p);
    }
    case 3: {
      lf::pipeline p(window, std::move(source), middle(0), middle(1), std::move(sink));
      return go(p);
    }
    default: {
      lf::pipeline p(window, std::move(source), middle(0), middle(1), middle(2), std::move(sink));
      return go(p);
    }
  }
}

// The shapes: (middle stages..., sink), 3 to 5 stages with the source.
std::vector<std::vector<lf::stage_mode>> shapes() {
  return {
      {lf::parallel(), lf::serial_in_order},
      {lf::serial_out_of_order, lf::parallel(2), lf::serial_in_order},
      {lf::parallel(), lf::serial_in_order, lf::parallel(3), lf::serial_out_of_order},
      {lf::serial_in_order, lf::parallel(), lf::serial_in_order, lf::parallel()},
      {lf::parallel(3), lf::serial_out_of_order, lf::serial_in_order},
  };
}

constexpr std::size_t windows[] = {3, 7, 16};

void check_shapes_complete(lf::worker_pool* pool) {
  const auto all = shapes();
  for (std::size_t s = 0; s < all.size(); ++s) {
    const std::uint64_t n = items / all.size();
    run_record rec(n);
    std::vector<std::unique_ptr<stage_check>> checks;
    const lf::context_error e = run_pipeline(all[s], windows[s % 3], n, rec, checks, lf::background(), pool,
                                             [](std::uint64_t, int) {});
    EXPECT_EQ(e, lf::context_error::none) << "shape " << s;
    rec.verify(true, all[s].back().ordered);
    for (auto& c : checks) c->verify(("shape " + std::to_string(s)).c_str());
    EXPECT_EQ(item::alive.load(), 0);
  }
}

TEST(pipeline_stress, every_mode_delivers_every_item_once_on_own_threads) { check_shapes_complete(nullptr); }

TEST(pipeline_stress, every_mode_delivers_every_item_once_on_a_pool) {
  lf::worker_pool pool(3);
  check_shapes_complete(&pool);
}

TEST(pipeline_stress, cancellation_at_random_points_leaves_a_prefix_and_nothing_alive) {
  std::mt19937_64 rng(20240611);
  const auto all = shapes();
  for (int round = 0; round < fault_rounds; ++round) {
    const auto& modes = all[static_cast<std::size_t>(round) % all.size()];
    const std::uint64_t at = rng() % fault_items;
    const int where = static_cast<int>(rng() % (modes.size() + 1)) - 1;  // -1: the source
    auto [ctx, cancel] = lf::with_cancel(lf::background());
    run_record rec(fault_items);
    std::vector<std::unique_ptr<stage_check>> checks;
    lf::worker_pool pool(2);
    const lf::context_error e =
        run_pipeline(modes, windows[round % 3], fault_items, rec, checks, ctx, round % 2 ? &pool : nullptr,
                     [&, cancel = cancel](std::uint64_t seq, int stage) {
                       if (seq == at && stage == where) cancel();
                     });
    EXPECT_EQ(e, lf::context_error::canceled) << "round " << round;
    rec.verify(false, modes.back().ordered);
    for (auto& c : checks) c->verify("cancel");
    EXPECT_EQ(item::alive.load(), 0) << "round " << round;
  }
}

TEST(pipeline_stress, an_exception_at_a_random_point_is_rethrown_with_a_prefix_and_nothing_alive) {
  std::mt19937_64 rng(777);
  const auto all = shapes();
  for (int round = 0; round < fault_rounds; ++round) {
    const auto& modes = all[static_cast<std::size_t>(round) % all.size()];
    const std::uint64_t at = rng() % fault_items;
    const int where = static_cast<int>(rng() % (modes.size() + 1)) - 1;
    run_record rec(fault_items);
    std::vector<std::unique_ptr<stage_check>> checks;
    const std::string message = "fault at " + std::to_string(at) + " in stage " + std::to_string(where);
    std::string got;
    try {
      (void)run_pipeline(modes, windows[round % 3], fault_items, rec, checks, lf::background(), nullptr,
                         [&](std::uint64_t seq, int stage) {
                           if (seq == at && stage == where) throw std::runtime_error(message);
                         });
    } catch (const std::runtime_error& e) {
      got = e.what();
    }
    EXPECT_EQ(got, message) << "round " << round;
    rec.verify(false, modes.back().ordered);
    if (modes.back().ordered && where == static_cast<int>(modes.size()) - 1) {
      // The sink threw on `at` before counting it: exactly the items before it arrived.
      for (std::uint64_t i = 0; i < at; ++i) ASSERT_EQ(rec.delivered[i].load(), 1u) << "round " << round;
    }
    for (auto& c : checks) c->verify("exception");
    EXPECT_EQ(item::alive.load(), 0) << "round " << round;
  }
}

// ---- stream stages ------------------------------------------------------------------

TEST(stream_stress, fan_out_then_merge_moves_every_value_once) {
  const std::uint64_t n = items / 10;
  lf::channel<std::uint64_t> a(64), b(64);
  std::jthread pa([&] {
    for (std::uint64_t i = 1; i <= n; ++i) ASSERT_EQ(a.send(i), lf::chan_status::ok);
    a.close();
  });
  std::jthread pb([&] {
    for (std::uint64_t i = n + 1; i <= 2 * n; ++i) ASSERT_EQ(b.send(i), lf::chan_status::ok);
    b.close();
  });
  lf::stream<std::uint64_t> fa = lf::fan_out(lf::background(), a, 3, [](std::uint64_t v) { return v; }, 32);
  lf::stream<std::uint64_t> fb = lf::fan_out(lf::background(), b, 2, [](std::uint64_t v) { return v; }, 32);
  lf::stream<std::uint64_t> m = lf::merge(lf::background(), fa.out(), fb.out());
  std::uint64_t count = 0, sum = 0;
  for (std::uint64_t v : m) {
    ++count;
    sum += v;
  }
  EXPECT_EQ(count, 2 * n);
  EXPECT_EQ(sum, (2 * n) * (2 * n + 1) / 2);
  m.wait();
  fa.wait();
  fb.wait();
}

TEST(stream_stress, fan_out_ordered_keeps_order_and_stops_cleanly_when_cancelled) {
  std::mt19937_64 rng(99);
  for (int round = 0; round < fault_rounds; ++round) {
    const std::uint64_t n = fault_items;
    const std::uint64_t stop_at = rng() % n;
    auto [ctx, cancel] = lf::with_cancel(lf::background());
    lf::channel<item> in(16);
    std::jthread producer([&, c = ctx] {
      for (std::uint64_t i = 0; i < n; ++i) {
        if (in.send(item(i), c) != lf::chan_status::ok) break;
      }
      in.close();
    });
    {
      lf::stream<item> s = lf::fan_out_ordered(
          ctx, in, 3,
          [](item v) {
            if (v.seq % 32 == 0) std::this_thread::yield();
            return v;
          },
          windows[round % 3], 8);
      std::uint64_t expect = 0;
      for (item v : s) {
        ASSERT_EQ(v.seq, expect) << "round " << round;
        if (++expect == stop_at) cancel();
      }
      EXPECT_LE(expect, n);
      s.wait();
    }
    producer.join();
    while (in.try_recv().ok()) {
    }
    EXPECT_EQ(item::alive.load(), 0) << "round " << round;
  }
}

}  // namespace
