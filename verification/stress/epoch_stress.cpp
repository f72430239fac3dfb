// Stress lane for rcu/epoch.hpp: real threads, run plain (-O2), under TSan and under
// ASan+UBSan. Writers replace the objects behind a few shared pointers and retire the old
// ones; readers pin and read them; short-lived threads come and go throughout. What is
// counted and checked:
//   safe reads     a reader only ever sees an intact object (its two fields agree; the
//                  destructor breaks the pair, so a read after a free shows, and under ASan
//                  it is a report, under TSan a read unordered with the delete is one);
//   churn          threads that start, retire and exit during the run leave their retired
//                  objects to the next owner of their index: nothing is lost;
//   exact count    once the threads are done, unreclaimed() is exactly the number of
//                  retired objects still alive;
//   nothing leaks  every object is freed once the domain is destroyed (a live count);
//   growth         a reader that stalls while pinned keeps alive everything retired after
//                  it pinned (printed), and all of it is freed once it unpins.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

#include "rcu/epoch.hpp"
#include "sync/atomic.hpp"
#include "sync/thread.hpp"
#include "verification/support/stress_scale.hpp"

namespace {

constexpr std::uint64_t replacements = lf::test::stress_items(1'000'000);
constexpr std::uint64_t churn_threads = lf::test::stress_items(2'000, 300);
constexpr std::uint64_t stalled_retires = lf::test::stress_items(200'000, 50'000);
constexpr int slots = 4;

struct item : lf::epoch_obj_base<item> {
  static inline std::atomic<long> live{0};
  explicit item(std::uint64_t v) : value(v), check(~v) { live.fetch_add(1, std::memory_order_relaxed); }
  item(const item&) = delete;
  item& operator=(const item&) = delete;
  ~item() {
    check = value;  // a reader that still reads this object sees a broken pair
    live.fetch_sub(1, std::memory_order_relaxed);
  }
  std::uint64_t value;
  std::uint64_t check;  // ~value while the object lives
};

struct shared_slots {
  lf::atomic<item*> slot[slots];
  shared_slots() {
    for (int i = 0; i < slots; ++i) slot[i].store(new item(0), std::memory_order_relaxed);
  }
  ~shared_slots() {
    for (auto& s : slot) delete s.load(std::memory_order_relaxed);
  }
  // Replaces slot i's object and retires the old one.
  void replace(lf::epoch_domain& domain, int i, std::uint64_t v) {
    // acq_rel: release publishes the new item's fields to readers that acquire the slot;
    // acquire orders the old item's construction before its delete, a write.
    item* const old = slot[i].exchange(new item(v), std::memory_order_acq_rel);
    old->retire(domain);
  }
};

// Pins and reads every slot, `rounds` times; returns how many reads found a broken item.
std::uint64_t read_all(lf::epoch_domain& domain, shared_slots& s, int rounds) {
  std::uint64_t torn = 0;
  for (int r = 0; r < rounds; ++r) {
    lf::epoch_guard g = domain.pin();
    for (int i = 0; i < slots; ++i) {
      const item* p = s.slot[i].load(std::memory_order_acquire);
      if (p->check != ~p->value) ++torn;
    }
  }
  return torn;
}

TEST(epoch_stress, readers_see_only_intact_objects_while_writers_retire_and_threads_churn) {
  const long live_before = item::live.load();
  std::atomic<std::uint64_t> reads{0}, torn{0}, retired{0};
  {
    lf::epoch_domain domain;
    {
      shared_slots s;
      std::atomic<bool> done{false};
      std::atomic<int> started{0};
      std::vector<std::thread> threads;
      for (int r = 0; r < 2; ++r) {
        threads.emplace_back([&] {
          std::uint64_t n = 0, bad = 0;
          while (!done.load(std::memory_order_acquire)) {
            bad += read_all(domain, s, 1 + static_cast<int>(n % 4));  // pins of varying length
            if (n++ == 0) started.fetch_add(1);
          }
          reads.fetch_add(n);
          torn.fetch_add(bad);
        });
      }
      // Churn and writers start once both readers have read: on a busy machine they may
      // otherwise not be scheduled before the writers end, and nothing would race.
      while (started.load() < 2) std::this_thread::yield();
      // Churn: short-lived threads, two at a time, each reads, replaces a few objects
      // (fewer than a flush, so they leave retired objects in their record) and exits.
      std::thread churn([&] {
        for (std::uint64_t t = 0; t < churn_threads; t += 2) {
          std::thread pair[2];
          for (int k = 0; k < 2; ++k) {
            pair[k] = std::thread([&, t, k] {
              std::uint64_t bad = read_all(domain, s, 2);
              for (int j = 0; j < 5; ++j) s.replace(domain, (k + j) % slots, t + 1);
              retired.fetch_add(5);
              bad += read_all(domain, s, 1);
              torn.fetch_add(bad);
            });
          }
          for (auto& p : pair) p.join();
        }
      });
      std::vector<std::thread> writers;
      for (int w = 0; w < 2; ++w) {
        writers.emplace_back([&, w] {
          for (std::uint64_t v = 1 + w; v <= replacements; v += 2) s.replace(domain, static_cast<int>(v % slots), v);
          retired.fetch_add(replacements / 2);
        });
      }
      for (auto& t : writers) t.join();
      churn.join();
      done.store(true, std::memory_order_release);
      for (auto& t : threads) t.join();

      // Quiet now: the count is exact. Everything alive but the linked objects is retired.
      EXPECT_EQ(static_cast<long>(domain.unreclaimed()), item::live.load() - live_before - slots);
    }
  }
  EXPECT_EQ(torn.load(), 0u);
  EXPECT_GT(reads.load(), 0u);
  EXPECT_EQ(retired.load(), replacements + 5 * churn_threads);
  EXPECT_EQ(item::live.load(), live_before);  // the domain freed every retired object
}

TEST(epoch_stress, a_stalled_pinned_reader_holds_back_everything_retired_until_it_unpins) {
  const long live_before = item::live.load();
  long max_live = 0;
  std::size_t unreclaimed_while_stalled = 0, unreclaimed_after = 99;
  {
    lf::epoch_domain domain;
    item* const first = new item(0);
    lf::atomic<item*> src{first};
    std::atomic<int> phase{0};
    bool first_intact = false;
    std::thread stalled([&] {
      lf::epoch_guard g = domain.pin();
      const item* p = src.load(std::memory_order_acquire);
      phase.store(1, std::memory_order_release);
      while (phase.load(std::memory_order_acquire) != 2) lf::yield_thread();
      first_intact = p == first && p->value == 0 && p->check == ~std::uint64_t{0};
    });
    while (phase.load(std::memory_order_acquire) != 1) lf::yield_thread();
    for (std::uint64_t v = 1; v <= stalled_retires; ++v) {
      src.exchange(new item(v), std::memory_order_acq_rel)->retire(domain);
      const long now = item::live.load(std::memory_order_relaxed) - live_before;
      if (now > max_live) max_live = now;
    }
    domain.collect();
    unreclaimed_while_stalled = domain.unreclaimed();
    phase.store(2, std::memory_order_release);
    stalled.join();
    EXPECT_TRUE(first_intact);
    domain.collect();
    unreclaimed_after = domain.collect();
    delete src.load();
  }
  std::printf("epoch_stress: %llu objects retired past a stalled pinned reader: at most %ld alive at "
              "once, %zu unreclaimed before it unpinned, %zu after two collects\n",
              static_cast<unsigned long long>(stalled_retires), max_live, unreclaimed_while_stalled,
              unreclaimed_after);
  // Pinned at e, the reader lets the epoch reach e + 1 only: nothing sealed at e or later
  // is freed, so every object retired past it stays.
  EXPECT_EQ(unreclaimed_while_stalled, stalled_retires);
  EXPECT_EQ(max_live, static_cast<long>(stalled_retires) + 1);
  EXPECT_EQ(unreclaimed_after, 0u);
  EXPECT_EQ(item::live.load(), live_before);
}

}  // namespace
