// Stress lane for rcu/hazard_pointer.hpp: real threads, run plain (-O2), under TSan and
// under ASan+UBSan. A writer replaces the object behind a shared pointer and retires the
// old one, over and over; readers protect and read. What is counted and checked:
//   safe reads     a reader only ever sees an intact object (its two fields agree) and
//                  never an older one than it saw before (under ASan a read of a freed
//                  object is a report; under TSan a read unordered with its delete is);
//   bounded memory a reader that stalls while protecting one object pins that object
//                  only: the writer's unreclaimed objects stay within the scan threshold;
//   nothing leaks  every object is freed once the domain is destroyed (a live count).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

#include "rcu/hazard_pointer.hpp"
#include "sync/atomic.hpp"
#include "sync/thread.hpp"
#include "verification/support/stress_scale.hpp"

namespace {

constexpr std::uint64_t replacements = lf::test::stress_items(1'000'000);

struct item : lf::hazard_pointer_obj_base<item> {
  static inline std::atomic<long> live{0};
  explicit item(std::uint64_t v) : value(v), check(~v) { live.fetch_add(1, std::memory_order_relaxed); }
  item(const item&) = delete;
  item& operator=(const item&) = delete;
  ~item() { live.fetch_sub(1, std::memory_order_relaxed); }
  std::uint64_t value;
  std::uint64_t check;  // ~value: a torn or recycled object shows as a mismatch
};

// Replaces src's object `replacements` times, retiring each one it unlinks; calls
// after_retire() after each retire.
template <class F>
void replace_all(lf::hazard_domain& domain, lf::atomic<item*>& src, F after_retire) {
  for (std::uint64_t v = 1; v <= replacements; ++v) {
    // acq_rel: release publishes the new item's fields to readers that acquire src;
    // acquire is not needed for the old one (we only retire it), but costs nothing here.
    item* const old = src.exchange(new item(v), std::memory_order_acq_rel);
    old->retire(domain);
    after_retire();
  }
}

TEST(hazard_pointer_stress, readers_see_only_intact_objects_while_a_writer_retires) {
  const long live_before = item::live.load();
  {
    lf::hazard_domain domain;
    lf::atomic<item*> src{new item(0)};
    std::atomic<bool> done{false};
    std::atomic<std::uint64_t> reads{0}, torn{0}, backwards{0};
    std::atomic<int> started{0};
    std::vector<std::thread> readers;
    for (int r = 0; r < 2; ++r) {
      readers.emplace_back([&] {
        lf::hazard_pointer hp = lf::make_hazard_pointer(domain);
        std::uint64_t last = 0, n = 0;
        while (!done.load(std::memory_order_acquire)) {
          const item* p = hp.protect(src);
          if (p->check != ~p->value) torn.fetch_add(1);
          if (p->value < last) backwards.fetch_add(1);
          last = p->value;
          hp.reset_protection();
          if (n++ == 0) started.fetch_add(1);
        }
        reads.fetch_add(n);
      });
    }
    // The writer starts once both readers have read: on a busy machine they may otherwise
    // not be scheduled before it ends, and nothing would race.
    while (started.load() < 2) std::this_thread::yield();
    replace_all(domain, src, [] {});
    done.store(true, std::memory_order_release);
    for (auto& t : readers) t.join();
    EXPECT_EQ(torn.load(), 0u);
    EXPECT_EQ(backwards.load(), 0u);
    EXPECT_GT(reads.load(), 0u);
    delete src.load();
  }
  EXPECT_EQ(item::live.load(), live_before);
}

TEST(hazard_pointer_stress, a_stalled_reader_pins_one_object_and_memory_stays_bounded) {
  using tuning = lf::detail::hazard_tuning;
  const long live_before = item::live.load();
  long max_live = 0;
  {
    lf::hazard_domain domain;
    item* const first = new item(0);
    lf::atomic<item*> src{first};
    std::atomic<int> phase{0};
    bool first_intact = false;
    std::thread stalled([&] {
      lf::hazard_pointer hp = lf::make_hazard_pointer(domain);
      const item* p = hp.protect(src);
      phase.store(1, std::memory_order_release);
      while (phase.load(std::memory_order_acquire) != 2) lf::yield_thread();
      first_intact = p == first && p->value == 0 && p->check == ~std::uint64_t{0};
    });
    while (phase.load(std::memory_order_acquire) != 1) lf::yield_thread();
    replace_all(domain, src, [&] {
      const long now = item::live.load(std::memory_order_relaxed) - live_before;
      if (now > max_live) max_live = now;
    });
    phase.store(2, std::memory_order_release);
    stalled.join();
    EXPECT_TRUE(first_intact);
    delete src.load();
  }
  // One hazard slot (H = 1): the writer scans when it holds scan_floor + scan_per_slot
  // retired objects, and a scan keeps only the stalled one. So at most that many retired
  // objects, plus the linked one, are alive at once, however many were retired.
  const long bound = 1 + static_cast<long>(tuning::scan_floor + tuning::scan_per_slot);
  std::printf("hazard_pointer_stress: %llu objects retired past a stalled reader, "
              "at most %ld alive at once (bound %ld)\n",
              static_cast<unsigned long long>(replacements), max_live, bound);
  EXPECT_LE(max_live, bound);
  EXPECT_EQ(item::live.load(), live_before);
}

}  // namespace
