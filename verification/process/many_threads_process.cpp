// More threads alive at once than the first thread table held (review defect: 512 was a
// hard limit, and the failure threw from noexcept paths). 1100 threads, all alive at the
// same time (a barrier holds them), each with its own index: they push and pop on a
// Michael-Scott queue over hazard pointers, pin an epoch, and enter an RCU read-side
// section, so each domain's per-thread table grows to 18 chunks. Checks: distinct
// indices, every value popped exactly once, every index given back at the end.
#include <atomic>
#include <barrier>
#include <cstddef>
#include <cstdio>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "lockfree/ms_queue.hpp"
#include "rcu/epoch.hpp"
#include "rcu/hazard_pointer_reclaimer.hpp"
#include "rcu/rcu.hpp"
#include "sync/thread.hpp"
#include "verification/process/check.hpp"

int main() {
  constexpr int threads = 1100;
  constexpr int per_thread = 50;
  (void)lf::thread_index();  // main's own index, held throughout
  const std::size_t live_before = lf::detail::thread_registry::instance().live();
  std::vector<std::size_t> index(threads);
  std::atomic<long> popped{0}, popped_sum{0};
  {
    lf::hazard_domain hp_domain;
    lf::epoch_domain epoch_domain;
    lf::rcu_domain rcu_domain;
    lf::ms_queue<long> queue(hp_domain);
    std::barrier all_alive(threads);
    std::vector<std::thread> ts;
    ts.reserve(threads);
    for (int t = 0; t < threads; ++t) {
      ts.emplace_back([&, t] {
        index[static_cast<std::size_t>(t)] = lf::thread_index();
        all_alive.arrive_and_wait();  // every thread holds its index now
        for (int i = 0; i < per_thread; ++i) queue.push(static_cast<long>(t) * per_thread + i);
        for (int i = 0; i < per_thread; ++i) {
          if (auto v = queue.try_pop()) {
            popped.fetch_add(1);
            popped_sum.fetch_add(*v);
          }
        }
        {
          auto pin = epoch_domain.pin();
          std::scoped_lock section(rcu_domain);
        }
        all_alive.arrive_and_wait();  // and still holds it
      });
    }
    for (auto& th : ts) th.join();
    while (auto v = queue.try_pop()) {
      popped.fetch_add(1);
      popped_sum.fetch_add(*v);
    }
    lf::rcu_synchronize(rcu_domain);
  }
  const long n = static_cast<long>(threads) * per_thread;
  LF_CHECK(std::set<std::size_t>(index.begin(), index.end()).size() == static_cast<std::size_t>(threads));
  LF_CHECK(popped.load() == n);
  LF_CHECK(popped_sum.load() == n * (n - 1) / 2);
  LF_CHECK(lf::detail::thread_registry::instance().live() == live_before);
  std::printf("%d threads alive at once: distinct indices, %ld values popped once each\n", threads, n);
  return 0;
}
