// Stress lane for rcu/rcu.hpp: real threads, run plain (-O2), under TSan and under
// ASan+UBSan. Writers replace the object behind a shared pointer and retire the old one
// (some from inside a critical section of their own), calling rcu_synchronize and
// rcu_barrier now and then; readers, started and ended throughout the run (thread churn,
// so reader records change hands), read the object inside critical sections, some of
// them nested. What is counted and checked:
//   safe reads     a reader only ever sees an intact object (its two fields agree; under
//                  ASan a read of a freed object is a report, under TSan a read unordered
//                  with its delete is);
//   barrier        after each rcu_barrier, every object the calling writer retired before
//                  it has been deleted (a per-writer count kept by the deleter);
//   nothing leaks  every object retired is deleted: unreclaimed() is 0 after a final
//                  barrier, and the live count is back where it started once the domain
//                  is gone;
//   stalled reader a reader frozen inside its section holds back every object retired
//                  after it entered (RCU's memory is not bounded, unlike hazard
//                  pointers'), and all of them are freed once it leaves.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "rcu/rcu.hpp"
#include "sync/atomic.hpp"
#include "sync/thread.hpp"
#include "verification/support/stress_scale.hpp"

namespace {

constexpr std::uint64_t replacements = lf::test::stress_items(2'000'000, 1'000'000);
constexpr int writers = 2;

struct item;
struct item_deleter {
  void operator()(item* p) const noexcept;
};

struct item : lf::rcu_obj_base<item, item_deleter> {
  static inline std::atomic<long> live{0};
  static inline std::atomic<std::uint64_t> deleted_by_retirer[writers] = {};
  explicit item(std::uint64_t v) : value(v), check(~v) { live.fetch_add(1, std::memory_order_relaxed); }
  item(const item&) = delete;
  item& operator=(const item&) = delete;
  ~item() {
    check = value;  // a write, so a read racing with the delete is a race even before free
    live.fetch_sub(1, std::memory_order_relaxed);
  }
  std::uint64_t value;
  std::uint64_t check;  // ~value: a torn, freed or recycled object shows as a mismatch
  int retired_by = -1;
};

void item_deleter::operator()(item* p) const noexcept {
  if (p->retired_by >= 0) item::deleted_by_retirer[p->retired_by].fetch_add(1, std::memory_order_relaxed);
  delete p;
}

// One reader thread's life: `sections` critical sections, every fifth one nested.
void read_for_a_while(lf::rcu_domain& domain, const lf::atomic<item*>& src, int sections,
                      std::atomic<std::uint64_t>& reads, std::atomic<std::uint64_t>& torn) {
  std::uint64_t n = 0, bad = 0;
  for (int s = 0; s < sections; ++s) {
    std::scoped_lock lk(domain);
    const item* p = src.load(std::memory_order_acquire);
    bad += p->check != ~p->value ? 1 : 0;
    if (s % 5 == 0) {
      std::scoped_lock inner(domain);
      const item* q = src.load(std::memory_order_acquire);
      bad += q->check != ~q->value ? 1 : 0;
    }
    // Still valid after the inner section ended, and for a while longer: a reader that
    // holds the object across many reads widens the window in which a premature delete
    // would be seen (ASan reports the read; TSan the race).
    // (volatile: every one of these reads happens, none is folded into the first.)
    const volatile item* const held = p;
    for (int k = 0; k < 16; ++k) bad += held->check != ~held->value ? 1 : 0;
    ++n;
  }
  reads.fetch_add(n);
  torn.fetch_add(bad);
}

TEST(rcu_stress, readers_see_only_intact_objects_while_writers_replace_and_retire) {
  const long live_before = item::live.load();
  for (auto& d : item::deleted_by_retirer) d = 0;
  {
    lf::rcu_domain domain;
    lf::atomic<item*> src{new item(0)};
    std::atomic<bool> done{false};
    std::atomic<std::uint64_t> reads{0}, torn{0}, barrier_misses{0}, readers_started{0};

    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w) {
      threads.emplace_back([&, w] {
        // Writers start once a reader has finished its sections: on a busy machine the
        // readers may otherwise not be scheduled before the writers end.
        while (reads.load() == 0) std::this_thread::yield();
        std::uint64_t retired = 0;
        for (std::uint64_t i = 1; i <= replacements / writers; ++i) {
          item* const fresh = new item(i * writers + static_cast<std::uint64_t>(w));
          // acq_rel: release publishes the new item's fields to readers that acquire src.
          item* const old = src.exchange(fresh, std::memory_order_acq_rel);
          old->retired_by = w;
          ++retired;
          if (i % 7 == 0) {
            std::scoped_lock lk(domain);  // retiring from inside a section must not deadlock
            old->retire({}, domain);
          } else {
            old->retire({}, domain);
          }
          if (i % 1'000 == 0) lf::rcu_synchronize(domain);
          if (i % 5'000 == 0) {
            lf::rcu_barrier(domain);
            if (item::deleted_by_retirer[w].load() < retired) barrier_misses.fetch_add(1);
          }
        }
      });
    }
    // Reader churn: two readers at a time, each living for a few hundred sections.
    threads.emplace_back([&] {
      int generation = 0;
      while (!done.load()) {
        std::thread a(read_for_a_while, std::ref(domain), std::cref(src), 2'000 + 97 * (generation % 11),
                      std::ref(reads), std::ref(torn));
        std::thread b(read_for_a_while, std::ref(domain), std::cref(src), 1'000 + 53 * (generation % 7),
                      std::ref(reads), std::ref(torn));
        a.join();
        b.join();
        readers_started.fetch_add(2);
        ++generation;
      }
    });
    for (int w = 0; w < writers; ++w) threads[static_cast<std::size_t>(w)].join();
    done = true;
    threads.back().join();

    lf::rcu_barrier(domain);
    EXPECT_EQ(torn.load(), 0u);
    EXPECT_EQ(barrier_misses.load(), 0u);
    EXPECT_GT(reads.load(), 0u);
    EXPECT_EQ(domain.unreclaimed(), 0u);
    std::uint64_t deleted = 0;
    for (auto& d : item::deleted_by_retirer) deleted += d.load();
    EXPECT_EQ(deleted, replacements / writers * writers);
    std::printf("rcu_stress: %llu replacements, %llu reads by %llu reader threads\n",
                static_cast<unsigned long long>(deleted), static_cast<unsigned long long>(reads.load()),
                static_cast<unsigned long long>(readers_started.load()));
    delete src.load();
  }
  EXPECT_EQ(item::live.load(), live_before);
}

TEST(rcu_stress, a_stalled_reader_holds_back_everything_retired_after_it_entered) {
  const long live_before = item::live.load();
  const std::uint64_t n = replacements / 10;
  {
    lf::rcu_domain domain;
    item* const first = new item(0);
    lf::atomic<item*> src{first};
    std::atomic<int> phase{0};
    bool first_intact = false;
    std::thread stalled([&] {
      std::scoped_lock lk(domain);
      const item* p = src.load(std::memory_order_acquire);
      phase = 1;
      while (phase.load() != 2) lf::yield_thread();
      first_intact = p == first && p->check == ~p->value;
    });
    while (phase.load() != 1) lf::yield_thread();
    for (std::uint64_t v = 1; v <= n; ++v) {
      src.exchange(new item(v), std::memory_order_acq_rel)->retire({}, domain);
    }
    // Every object was retired after the stalled reader entered: none can be deleted.
    const std::size_t held = domain.unreclaimed();
    phase = 2;
    stalled.join();
    lf::rcu_barrier(domain);
    std::printf("rcu_stress: a stalled reader held back %zu of %llu retired objects; 0 after it left: %zu\n", held,
                static_cast<unsigned long long>(n), domain.unreclaimed());
    EXPECT_TRUE(first_intact);
    EXPECT_EQ(held, n);
    EXPECT_EQ(domain.unreclaimed(), 0u);
    delete src.load();
  }
  EXPECT_EQ(item::live.load(), live_before);
}

}  // namespace
