// lf::context, the way a Go programmer would write it: a server context cancelled at
// shutdown, one request context per job with a timeout and a request id, workers that
// stop when their context is done, and a thread that takes the context's std::stop_token.
//
//   $ ./context_cancel
//   job 1: done (result 6)
//   job 2: context deadline exceeded after 3 steps
//   ...
//   server: context canceled (cause: SIGTERM)
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "patterns/context.hpp"

using namespace std::chrono_literals;

struct request_id {
  using value_type = int;
};

// A job of `steps` steps of 5 ms each; gives up as soon as its context is done.
void work(const lf::context& ctx, int steps) {
  const int id = *ctx.value<request_id>();
  int sum = 0;
  for (int i = 1; i <= steps; ++i) {
    if (ctx.done().wait_for(5ms)) {  // a step's worth of "work", cut short by done
      std::printf("job %d: %s after %d steps\n", id, lf::to_string(ctx.err()), i - 1);
      return;
    }
    sum += i;
  }
  std::printf("job %d: done (result %d)\n", id, sum);
}

int main() {
  auto [server, shutdown] = lf::with_cancel_cause(lf::background());

  // Cleanup that runs once, on whichever thread ends the server context.
  auto cleanup = lf::after_func(server, [] { std::printf("server: closing listeners\n"); });

  std::vector<std::jthread> jobs;
  for (int id = 1; id <= 4; ++id) {
    // Each request: a value and a 20 ms budget. Job 1 fits in it; the others do not.
    auto [req, cancel] = lf::with_timeout(lf::with_value(server, request_id{}, id), 20ms);
    jobs.emplace_back([req = req, cancel = cancel, steps = id == 1 ? 3 : 10 * id] {
      work(req, steps);
      cancel();  // as Go's `defer cancel()`: releases the timer and the parent's list entry
    });
  }
  jobs.clear();  // joins

  // Code that speaks std::stop_token gets the context's token.
  std::thread poller([stop = server.stop_token()] {
    int polls = 0;
    while (!stop.stop_requested()) {
      ++polls;
      std::this_thread::sleep_for(1ms);
    }
    std::printf("poller: stopped after %s polls\n", polls > 0 ? "some" : "no");
  });

  std::this_thread::sleep_for(10ms);
  shutdown(std::make_exception_ptr(std::runtime_error("SIGTERM")));
  poller.join();

  try {
    std::rethrow_exception(server.cause());
  } catch (const std::exception& e) {
    std::printf("server: %s (cause: %s)\n", lf::to_string(server.err()), e.what());
  }
}
