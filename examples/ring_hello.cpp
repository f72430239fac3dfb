// A first look at lf: one thread produces lines of work, another consumes them, through
// a bounded single-producer single-consumer ring. Then the same through the MPMC ring,
// with two producers and two consumers.
#include <atomic>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "lockfree/mpmc_ring.hpp"
#include "lockfree/spsc_ring.hpp"
#include "sync/thread.hpp"

int main() {
  lf::spsc_ring<std::string> lines(8);  // holds at least 8 (capacity() says exactly how many)
  std::thread producer([&] {
    for (int i = 0; i < 5; ++i) {
      std::string line = "job " + std::to_string(i);
      while (!lines.try_push(std::move(line))) lf::spin_pause();  // full: wait for the consumer
    }
  });
  for (int received = 0; received < 5;) {
    if (auto line = lines.try_pop()) {
      std::printf("spsc: %s\n", line->c_str());
      ++received;
    } else {
      lf::spin_pause();  // empty: wait for the producer
    }
  }
  producer.join();

  lf::mpmc_ring<int> jobs(16);
  std::vector<std::thread> threads;
  std::atomic<long> sum{0};
  for (int p = 0; p < 2; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 1; i <= 100; ++i) {
        while (!jobs.try_push(p * 1000 + i)) lf::yield_thread();
      }
    });
  }
  for (int c = 0; c < 2; ++c) {
    threads.emplace_back([&] {
      for (int n = 0; n < 100; ++n) {
        std::optional<int> v;
        while (!(v = jobs.try_pop())) lf::yield_thread();
        sum.fetch_add(*v, std::memory_order_relaxed);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::printf("mpmc: 200 jobs, sum %ld (expected %d)\n", sum.load(), 2 * 5050 + 1000 * 100);
  return sum.load() == 2 * 5050 + 1000 * 100 ? 0 : 1;
}
