// The Go blog's "Pipelines and cancellation" (go.dev/blog/pipelines) with lf's parts: a
// generator stage `gen`, squaring stages `sq` fanned out over one channel, a `merge`
// (fan-in), and a `done` context that stops every stage when the consumer has seen
// enough. Then the same computation as an lf::pipeline, the oneTBB-style shape with no
// channel between stages.
//
//   $ ./pipeline
//   all results: 4 9 16 25 36 49 64 81 (in some order)
//   first result only: 4 (or another square); every stage stopped: yes
//   in order (fan_out_ordered): 4 9 16 25 36 49 64 81
//   lf::pipeline: 4 9 16 25 36 49 64 81
//
// Go's `sq(done, in)` starts a goroutine and returns its output channel; lf::fan_out with
// n = 1 is that stage, returning an lf::stream (its output channel plus the thread that
// feeds it). A stream owns its threads: destroying it cancels and joins them, so no
// goroutine outlives the channels it uses — declare each stage's input before the stage.
// Where Go writes `case out <- n: case <-done: return`, the stages send and receive with
// the stream's context and stop when it is done.
#include <cstdio>
#include <optional>
#include <thread>
#include <vector>

#include "patterns/channel.hpp"
#include "patterns/context.hpp"
#include "patterns/pipeline.hpp"

// Emits nums on an unbuffered channel, then closes it; stops early when ctx is done.
std::jthread gen(const lf::context& ctx, lf::channel<int>& out, std::vector<int> nums) {
  return std::jthread([ctx, &out, nums = std::move(nums)] {
    for (int n : nums) {
      if (out.send(n, ctx) != lf::chan_status::ok) break;
    }
    out.close();
  });
}

// Squares what arrives on `in` until it is closed or ctx is done.
lf::stream<int> sq(const lf::context& ctx, lf::channel<int>& in) {
  return lf::fan_out(ctx, in, 1, [](int n) { return n * n; });
}

int main() {
  const std::vector<int> nums{2, 3, 4, 5, 6, 7, 8, 9};
  {
    // Drain everything: the pipeline ends by itself when the generator closes.
    auto [ctx, cancel] = lf::with_cancel(lf::background());
    lf::channel<int> in;
    std::jthread g = gen(ctx, in, nums);
    lf::stream<int> c1 = sq(ctx, in);  // fan-out: two stages read the same channel
    lf::stream<int> c2 = sq(ctx, in);
    lf::stream<int> out = lf::merge(ctx, c1.out(), c2.out());  // fan-in
    std::printf("all results:");
    for (int v : out) std::printf(" %d", v);
    std::printf(" (in some order)\n");
  }
  {
    // Take one result, then cancel: every stage blocked on a send or receive wakes up
    // with `canceled`, returns, and is joined; nothing is leaked.
    auto [ctx, cancel] = lf::with_cancel(lf::background());
    lf::channel<int> in;
    std::jthread g = gen(ctx, in, nums);
    lf::stream<int> c1 = sq(ctx, in);
    lf::stream<int> c2 = sq(ctx, in);
    lf::stream<int> out = lf::merge(ctx, c1.out(), c2.out());
    lf::recv_result<int> first = out.out().recv();
    cancel();
    out.wait();  // each wait() joins a stage's threads
    c1.wait();
    c2.wait();
    g.join();
    std::printf("first result only: %d; every stage stopped: %s\n", first ? *first : -1,
                out.out().recv().status() == lf::chan_status::closed ? "yes" : "no");
  }
  {
    // Bounded parallelism with the input's order kept: 4 squarers, a reorder window of 8.
    auto [ctx, cancel] = lf::with_cancel(lf::background());
    lf::channel<int> in;
    std::jthread g = gen(ctx, in, nums);
    lf::stream<int> out = lf::fan_out_ordered(ctx, in, 4, [](int n) { return n * n; }, 8);
    std::printf("in order (fan_out_ordered):");
    for (int v : out) std::printf(" %d", v);
    std::printf("\n");
  }
  {
    // The same as one lf::pipeline: a serial source, a parallel stage, an in-order sink,
    // at most 4 items in flight, on 2 threads of its own.
    std::size_t next = 0;
    std::printf("lf::pipeline:");
    lf::pipeline p(4, lf::source([&]() -> std::optional<int> {
                     if (next == nums.size()) return std::nullopt;
                     return nums[next++];
                   }),
                   lf::stage(lf::parallel(), [](int n) { return n * n; }),
                   lf::sink(lf::serial_in_order, [](int v) { std::printf(" %d", v); }));
    (void)p.run(lf::background(), 2);
    std::printf("\n");
  }
}
