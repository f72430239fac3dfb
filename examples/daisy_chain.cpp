// Two of Go's classic goroutine programs, with lf coroutines (lf::go on an lf::worker_pool)
// in place of goroutines.
//
// 1. Go by Example's worker pool: three workers take jobs from a channel, each job takes a
//    moment (co_await lf::sleep_for: the worker thread runs other coroutines meanwhile),
//    and results come back on another channel. Five jobs of 100 ms on three workers take
//    about 200 ms, on a pool of one thread.
// 2. Rob Pike's daisy chain ("Go Concurrency Patterns", 2012): 100,000 coroutines in a
//    line, each waiting to receive a number from its right neighbour and pass it on plus
//    one to its left. A 1 sent into the right end comes out of the left end as 100,001.
//    The program prints how much memory the chain held while every coroutine was parked
//    (malloc'd bytes: frames, join records and the channels, one per link), on 2 threads.
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <vector>

#include "patterns/awaitables.hpp"
#include "patterns/channel.hpp"
#include "patterns/task.hpp"
#include "patterns/worker_pool.hpp"

namespace {

using namespace std::chrono_literals;

lf::task<void> worker(int id, lf::channel<int>& jobs, lf::channel<int>& results) {
  for (;;) {
    auto job = co_await lf::recv(jobs);
    if (!job) co_return;  // closed and drained: no more jobs
    std::printf("worker %d started  job %d\n", id, *job);
    co_await lf::sleep_for(100ms);  // the job's work; the thread is free meanwhile
    std::printf("worker %d finished job %d\n", id, *job);
    co_await lf::send(results, *job * 2);
  }
}

void worker_pools() {
  lf::worker_pool pool(1);  // one thread for the three workers
  constexpr int jobs_count = 5;
  lf::channel<int> jobs(jobs_count), results(jobs_count);
  const auto start = std::chrono::steady_clock::now();
  std::vector<lf::join_handle<void>> workers;
  for (int w = 1; w <= 3; ++w) workers.push_back(lf::go(pool, worker, w, std::ref(jobs), std::ref(results)));
  for (int j = 1; j <= jobs_count; ++j) (void)jobs.send(j);
  jobs.close();
  int sum = 0;
  for (int j = 1; j <= jobs_count; ++j) sum += *results.recv();
  for (auto& w : workers) w.get();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  std::printf("5 jobs of 100 ms on 3 coroutine workers, 1 thread: %lld ms, results sum %d\n",
              static_cast<long long>(ms.count()), sum);
}

std::size_t heap_bytes() {
  const struct mallinfo2 m = ::mallinfo2();
  return m.uordblks + m.hblkhd;
}

lf::task<void> link(lf::channel<int>& left, lf::channel<int>& right) {
  auto v = co_await lf::recv(right);
  co_await lf::send(left, 1 + *v);
}

void daisy_chain() {
  constexpr int n = 100'000;
  lf::worker_pool pool(2);
  const std::size_t before = heap_bytes();
  std::deque<lf::channel<int>> chans(n + 1);  // chans[0] is the left end; a deque never moves them
  std::vector<lf::join_handle<void>> links;
  links.reserve(n);
  for (int i = 0; i < n; ++i) links.push_back(lf::go(pool, link, std::ref(chans[i]), std::ref(chans[i + 1])));
  pool.wait_idle();  // every link has started and is parked in its receive
  const std::size_t parked = heap_bytes() - before;
  (void)chans[n].send(1);
  const int out = *chans[0].recv();
  for (auto& l : links) l.get();
  std::printf(
      "daisy chain of %d coroutines on 2 threads: %d (%.1f MB while all were parked: %zu B per link, of which "
      "%zu B its channel, padded against false sharing)\n",
      n, out, static_cast<double>(parked) / 1e6, parked / n, sizeof(lf::channel<int>));
}

}  // namespace

int main() {
  worker_pools();
  daisy_chain();
  return 0;
}
