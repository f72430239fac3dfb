// Go's worker-pool example, in lf: three workers take jobs as they come, each job takes
// a moment and yields a result, and the pool shuts down gracefully once no more jobs
// come. In Go the jobs and results travel over channels; here submit() hands each job
// to the pool and its lf::pool_future carries the result back. The second part runs the
// same jobs fire-and-forget with a wait group, the third as an errgroup, whose wait()
// also says whether any job failed.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <thread>
#include <vector>

#include "patterns/errgroup.hpp"
#include "patterns/wait_group.hpp"
#include "patterns/worker_pool.hpp"

int main() {
  constexpr int jobs = 5;
  lf::worker_pool pool(3);  // three workers

  std::vector<lf::pool_future<int>> results;
  for (int j = 1; j <= jobs; ++j) {
    results.push_back(pool.submit([j] {
      std::printf("job %d started\n", j);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the job's work
      std::printf("job %d finished\n", j);
      return j * 2;
    }));
  }
  int sum = 0;
  for (auto& r : results) sum += r.get();  // get() also rethrows what a job threw
  std::printf("results: sum %d (expected %d)\n", sum, jobs * (jobs + 1));

  // The same jobs fire-and-forget, with Go's sync.WaitGroup to know when they are done.
  lf::wait_group wg;
  std::atomic<int> done_jobs{0};
  for (int j = 1; j <= jobs; ++j) {
    wg.add(1);
    pool.detach([&] {
      done_jobs.fetch_add(1);
      wg.done();
    });
  }
  wg.wait();
  std::printf("detached: %d jobs done\n", done_jobs.load());

  // And as an errgroup on the same pool: wait() returns the first job's exception, if any.
  lf::errgroup group(pool);
  std::atomic<int> group_sum{0};
  for (int j = 1; j <= jobs; ++j) group.go([&, j] { group_sum.fetch_add(j * 2); });
  const std::exception_ptr error = group.wait();
  std::printf("errgroup: sum %d, %s\n", group_sum.load(), error ? "a job failed" : "no job failed");

  pool.shutdown();  // graceful: nothing queued is lost; the destructor would do the same
  return sum == jobs * (jobs + 1) && done_jobs.load() == jobs && group_sum.load() == sum && !error ? 0 : 1;
}
