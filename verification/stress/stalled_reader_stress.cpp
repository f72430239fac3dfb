// Stress lane: one reader frozen while it holds protection, the others churning — the
// experiment behind the central trade-off of the reclaimers (papers/michael-2004-
// hazard-pointers.md, papers/fraser-2004-epochs.md, papers/hart-2007-reclamation.md).
//
// A reader thread takes a guard on an lf::ms_queue, protects the head node, and stops
// (it waits on a flag, holding the guard). Two churn threads then push and pop; every pop
// retires one node. What each reclaimer must show, checked here:
//   hazard pointers   the frozen reader pins one node; everything else is reclaimed, so
//                     the domain's unreclaimed() stays under the scan bound, whatever the
//                     number of pops (Michael 2004, §3.2: at most T * (threshold) + H).
//   epochs            the frozen reader holds the epoch back: no node retired after it
//                     stopped can be freed, so unreclaimed() is at least the pops since
//                     the stall — memory grows without bound for as long as it stays.
//   RCU               the same for a reader frozen inside its read-side critical section:
//                     no grace period can end, and lf's retire never waits for one (it
//                     would block the churn threads), so retired nodes pile up.
// The figures at each checkpoint are printed (they are the table of the papers notes).
// Sizes: 200'000 pops (plain and sanitized alike: the work is small, the point is the
// count), checkpoints at 1'000, 10'000, 100'000 and 200'000.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <thread>
#include <vector>

#include "lockfree/ms_queue.hpp"
#include "rcu/epoch_reclaimer.hpp"
#include "rcu/hazard_pointer_reclaimer.hpp"
#include "rcu/rcu_reclaimer.hpp"

namespace {

constexpr std::uint64_t checkpoints[] = {1'000, 10'000, 100'000, 200'000};


// Runs the experiment over reclaimer R; returns unreclaimed() at each checkpoint.
template <class R>
std::vector<std::size_t> run_stalled_reader(const char* name) {
  typename R::domain d;
  std::vector<std::size_t> seen;
  {
    lf::ms_queue<std::uint64_t, R> q(d);
    for (std::uint64_t v = 0; v < 64; ++v) q.push(v);

    std::atomic<bool> frozen{false}, thaw{false};
    std::thread reader([&] {
      // The reader's operation in progress: a guard inside try_pop is what a preempted
      // popper holds. try_pop's own guards end with it, so hold one explicitly: a pop
      // that keeps protection is a pop stopped half-way.
      typename R::guard g(d);
      lf::atomic<std::uint64_t*> anything{nullptr};
      std::uint64_t dummy = 0;
      anything.store(&dummy);
      (void)g.protect(anything);  // enters the read side (epochs: pins; HP: one hazard)
      frozen.store(true);
      while (!thaw.load()) std::this_thread::yield();
      g.reset();
    });
    while (!frozen.load()) std::this_thread::yield();

    std::atomic<std::uint64_t> pops{0};
    std::size_t next_checkpoint = 0;
    std::atomic<bool> stop{false};
    std::thread churn([&] {
      std::uint64_t v = 1000;
      while (!stop.load(std::memory_order_relaxed)) {
        q.push(v++);
        if (q.try_pop()) pops.fetch_add(1, std::memory_order_relaxed);
      }
    });
    while (next_checkpoint < std::size(checkpoints)) {
      if (pops.load(std::memory_order_relaxed) >= checkpoints[next_checkpoint]) {
        seen.push_back(d.unreclaimed());
        std::printf("stalled reader, %s: %llu pops, unreclaimed %zu\n", name,
                    static_cast<unsigned long long>(pops.load()), seen.back());
        ++next_checkpoint;
      } else {
        std::this_thread::yield();
      }
    }
    stop.store(true);
    churn.join();
    thaw.store(true);
    reader.join();
  }
  return seen;
}

TEST(stalled_reader, hazard_pointers_keep_unreclaimed_memory_bounded) {
  const std::vector<std::size_t> seen = run_stalled_reader<lf::hazard_pointer_reclaimer>("hazard pointers");
  // Bound: two threads retire (the churn thread, the main thread does not), each scanning
  // at 64 + 2 * H with a handful of hazard slots; 1'000 leaves room and is far below the
  // 200'000 pops.
  for (std::size_t u : seen) EXPECT_LT(u, 1'000u);
}

TEST(stalled_reader, epochs_let_unreclaimed_memory_grow_with_every_pop) {
  const std::vector<std::size_t> seen = run_stalled_reader<lf::epoch_reclaimer>("epochs");
  // Every node retired since the reader froze is still unreclaimed: at least the pops
  // counted at the checkpoint (the counter is read after the pops it counts).
  for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_GE(seen[i], checkpoints[i]);
}

TEST(stalled_reader, rcu_lets_unreclaimed_memory_grow_with_every_pop) {
  const std::vector<std::size_t> seen = run_stalled_reader<lf::rcu_reclaimer>("rcu");
  for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_GE(seen[i], checkpoints[i]);
}

}  // namespace
