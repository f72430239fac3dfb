// The Go blog's "Pipelines and cancellation" (go.dev/blog/pipelines) with lf: a generator
// stage, two squaring stages reading the same channel (fan-out), a merge stage (fan-in),
// and a `done` context that stops every stage when the consumer has seen enough.
//
//   $ ./pipeline
//   all results: 4 9 16 25 36 49 64 81 (in some order)
//   first result only: 4 (or another square); every stage stopped: yes
//
// Each goroutine is a std::jthread; each channel is shared by the stages that use it.
// Where Go writes `case out <- n: case <-done: return`, lf writes `out->send(n, ctx)` and
// checks its status: ok, or canceled when the context is done (closed if the channel was
// closed).
#include <atomic>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "patterns/channel.hpp"
#include "patterns/context.hpp"
#include "patterns/wait_group.hpp"

using chan = std::shared_ptr<lf::channel<int>>;

struct stages {
  std::vector<std::jthread> threads;
  std::atomic<int> running{0};

  template <class F>
  void go(F f) {
    running.fetch_add(1);
    threads.emplace_back([this, f = std::move(f)] {
      f();
      running.fetch_sub(1);
    });
  }
};

// Emits nums on an unbuffered channel, then closes it; stops early when ctx is done.
chan gen(stages& s, const lf::context& ctx, std::vector<int> nums) {
  auto out = std::make_shared<lf::channel<int>>();
  s.go([ctx, out, nums = std::move(nums)] {
    for (int n : nums) {
      if (out->send(n, ctx) != lf::chan_status::ok) break;
    }
    out->close();
  });
  return out;
}

// Squares what arrives on `in` until it is closed or ctx is done.
chan sq(stages& s, const lf::context& ctx, chan in) {
  auto out = std::make_shared<lf::channel<int>>();
  s.go([ctx, in, out] {
    while (lf::recv_result<int> n = in->recv(ctx)) {
      if (out->send(*n * *n, ctx) != lf::chan_status::ok) break;
    }
    out->close();
  });
  return out;
}

// Fan-in: copies every input channel into one output, closed once all inputs are done.
chan merge(stages& s, const lf::context& ctx, std::vector<chan> inputs) {
  auto out = std::make_shared<lf::channel<int>>();
  auto wg = std::make_shared<lf::wait_group>();
  wg->add(static_cast<int>(inputs.size()));
  for (chan c : inputs) {
    s.go([ctx, c, out, wg] {
      while (lf::recv_result<int> n = c->recv(ctx)) {
        if (out->send(*n, ctx) != lf::chan_status::ok) break;
      }
      wg->done();
    });
  }
  s.go([out, wg] {
    wg->wait();
    out->close();
  });
  return out;
}

int main() {
  {
    // Drain everything: the pipeline ends by itself when the generator closes.
    stages s;
    auto [ctx, cancel] = lf::with_cancel(lf::background());
    chan in = gen(s, ctx, {2, 3, 4, 5, 6, 7, 8, 9});
    chan out = merge(s, ctx, {sq(s, ctx, in), sq(s, ctx, in)});
    std::printf("all results:");
    for (int v : *out) std::printf(" %d", v);
    std::printf(" (in some order)\n");
  }
  {
    // Take one result, then cancel: every stage blocked on a send or receive wakes up
    // with `canceled` and returns, and nothing is leaked.
    stages s;
    auto [ctx, cancel] = lf::with_cancel(lf::background());
    chan in = gen(s, ctx, {2, 3, 4, 5, 6, 7, 8, 9});
    chan out = merge(s, ctx, {sq(s, ctx, in), sq(s, ctx, in)});
    lf::recv_result<int> first = out->recv();
    cancel();
    for (auto& t : s.threads) t.join();
    std::printf("first result only: %d; every stage stopped: %s\n", first ? *first : -1,
                s.running.load() == 0 ? "yes" : "no");
  }
}
