// Channels: lf::channel against the blocking queues C++ users reach for
// (moodycamel::BlockingConcurrentQueue, tbb::concurrent_bounded_queue), with Go's own
// channels measured by bench/go in the same run script under the same workload names, so
// bench/report.py puts all of them in one table.
//
// Workloads (one full run per repetition, fresh channel and threads, manual time; each
// run checks its count and checksum before it reports a figure; the smoke runs 1/1000 of
// each count, workloads.hpp's count()):
//   chan_buffered_1p1c, chan_buffered_2p2c   2'000'000 items through one channel of
//       capacity 1024 with blocking send and receive (moodycamel's queue is unbounded:
//       enqueue never blocks, which favours it). items_per_second.
//   chan_unbuffered_handoff   200'000 sends on an unbuffered channel (a rendezvous each)
//       to one receiver. lf, Go and the mutex + condition variable baseline (the
//       queues have no rendezvous). items_per_second.
//   chan_pingpong   100'000 round trips between two threads over two unbuffered
//       channels (lf, Go, the baseline) or two queues of capacity 1 (tbb) / unbounded
//       (moodycamel): ns_per_round_trip.
// baseline::mutex_condvar is the channel a C++ programmer writes by hand: a std::deque
// under one std::mutex with two std::condition_variables; capacity 0 is a rendezvous
// (the sender waits until its value was taken). It is the yardstick for how lf's
// spinning and parking compare with the kernel-assisted sleep of glibc's condvar,
// and it is run, like everything here, both with a CPU per thread and under
// `taskset -c 0` (both threads on one CPU).
//   chan_select4   4 producers each fill their own channel (capacity 1024); one consumer
//       selects over the 4 until 1'000'000 items arrived. lf and Go. items_per_second.
//   ctx_cancel_wakeup_4   4 threads block on a context's done(); the time from cancel()
//       until the last is awake, averaged over 2'000 rounds. lf and Go. ns_per_wakeup.
#include <benchmark/benchmark.h>

#include <concurrentqueue/blockingconcurrentqueue.h>
#include <tbb/concurrent_queue.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "patterns/channel.hpp"
#include "patterns/context.hpp"
#include "patterns/select.hpp"
#include "workloads.hpp"

namespace lf_bench {
namespace {

// The full counts; each workload runs count(full_...) of its own.
constexpr std::uint64_t full_items = 2'000'000;
constexpr std::uint64_t full_handoffs = 200'000;
constexpr std::uint64_t full_round_trips = 100'000;
constexpr std::uint64_t full_select_items = 1'000'000;
constexpr int cancel_waiters = 4;
constexpr std::uint64_t full_cancel_rounds = 2'000;

// ---- the blocking queues, behind one shape: send(v), recv() -> v ------------------------

struct lf_channel {
  static constexpr const char* name = "lf::channel";
  explicit lf_channel(std::size_t capacity) : ch(static_cast<std::ptrdiff_t>(capacity)) {}
  void send(item v) {
    if (ch.send(v) != lf::chan_status::ok) std::abort();  // never closed here
  }
  item recv() { return *ch.recv(); }
  lf::channel<item> ch;
};

struct moodycamel_blocking {
  static constexpr const char* name = "moodycamel::BlockingConcurrentQueue";
  explicit moodycamel_blocking(std::size_t capacity) : q(capacity) {}
  void send(item v) { q.enqueue(v); }
  item recv() {
    item v;
    q.wait_dequeue(v);
    return v;
  }
  moodycamel::BlockingConcurrentQueue<item> q;
};

struct tbb_bounded {
  static constexpr const char* name = "tbb::concurrent_bounded_queue";
  explicit tbb_bounded(std::size_t capacity) { q.set_capacity(static_cast<std::ptrdiff_t>(capacity)); }
  void send(item v) { q.push(v); }
  item recv() {
    item v;
    q.pop(v);
    return v;
  }
  tbb::concurrent_bounded_queue<item> q;
};

struct mutex_condvar {
  static constexpr const char* name = "baseline::mutex_condvar";
  explicit mutex_condvar(std::size_t capacity) : cap(capacity) {}
  void send(item v) {
    std::unique_lock<std::mutex> lock(m);
    // A rendezvous holds one value in flight: the next sender waits until it was taken.
    const std::size_t room = cap == 0 ? 1 : cap;
    not_full.wait(lock, [&] { return q.size() < room; });
    q.push_back(v);
    const std::uint64_t mine = ++pushed;
    not_empty.notify_one();
    if (cap == 0) taken_cv.wait(lock, [&] { return taken >= mine; });
  }
  item recv() {
    std::unique_lock<std::mutex> lock(m);
    not_empty.wait(lock, [&] { return !q.empty(); });
    const item v = q.front();
    q.pop_front();
    ++taken;
    not_full.notify_one();
    if (cap == 0) taken_cv.notify_all();
    return v;
  }
  std::mutex m;
  std::condition_variable not_empty, not_full, taken_cv;
  std::deque<item> q;
  std::uint64_t pushed = 0, taken = 0;
  const std::size_t cap;
};

// `items` is a multiple of Producers and of Consumers (count()'s unit).
template <class Q, unsigned Producers, unsigned Consumers>
void buffered(benchmark::State& state, std::uint64_t items) {
  const std::uint64_t per_producer = items / Producers;
  for (auto _ : state) {
    const auto q = std::make_unique<Q>(queue_capacity);
    std::vector<lf::padded<tally>> pushed(Producers), popped(Consumers);
    std::vector<std::function<void()>> roles;
    for (unsigned p = 0; p < Producers; ++p) {
      roles.emplace_back([&, p] {
        for (item v = p * per_producer + 1; v <= (p + 1) * per_producer; ++v) {
          q->send(v);
          pushed[p].value.add(v);
        }
      });
    }
    for (unsigned c = 0; c < Consumers; ++c) {
      roles.emplace_back([&, c] {
        for (std::uint64_t n = 0; n < items / Consumers; ++n) popped[c].value.add(q->recv());
      });
    }
    const double seconds = run_together(roles);
    if (const auto error = mismatch(total(pushed), total(popped), items)) {
      state.SkipWithError(error->c_str());
      break;
    }
    state.SetIterationTime(seconds);
    state.counters["items_per_second"] = static_cast<double>(items) / seconds;
  }
}

template <class Q>
void pingpong_blocking(benchmark::State& state, std::size_t capacity, std::uint64_t round_trips) {
  for (auto _ : state) {
    const auto there = std::make_unique<Q>(capacity);
    const auto back = std::make_unique<Q>(capacity);
    lf::padded<tally> sent, received;
    lf::padded<std::uint64_t> wrong{0};
    const double seconds = run_together({[&] {
                                           for (item i = 1; i <= round_trips; ++i) {
                                             there->send(i);
                                             sent.value.add(i);
                                             const item v = back->recv();
                                             received.value.add(v);
                                             if (v != i) ++wrong.value;
                                           }
                                         },
                                         [&] {
                                           for (std::uint64_t n = 0; n < round_trips; ++n) back->send(there->recv());
                                         }});
    auto error = mismatch(sent.value, received.value, round_trips);
    if (!error && wrong.value != 0) error = std::to_string(wrong.value) + " echoes out of order";
    if (error) {
      state.SkipWithError(error->c_str());
      break;
    }
    state.SetIterationTime(seconds);
    state.counters["ns_per_round_trip"] = seconds * 1e9 / static_cast<double>(round_trips);
  }
}

template <class Q>
void handoff(benchmark::State& state, std::uint64_t handoffs) {
  for (auto _ : state) {
    Q ch(0);
    lf::padded<tally> sent, got;
    const double seconds = run_together({[&] {
                                           for (item v = 1; v <= handoffs; ++v) {
                                             ch.send(v);
                                             sent.value.add(v);
                                           }
                                         },
                                         [&] {
                                           for (std::uint64_t n = 0; n < handoffs; ++n) got.value.add(ch.recv());
                                         }});
    if (const auto error = mismatch(sent.value, got.value, handoffs)) {
      state.SkipWithError(error->c_str());
      break;
    }
    state.SetIterationTime(seconds);
    state.counters["items_per_second"] = static_cast<double>(handoffs) / seconds;
  }
}

// `select_items` is a multiple of 4 (count()'s unit): the consumer waits for all of them.
void select4(benchmark::State& state, std::uint64_t select_items) {
  if (select_items % 4 != 0) {
    state.SkipWithError(("select4: " + std::to_string(select_items) + " items do not split over 4 channels").c_str());
    return;
  }
  const std::uint64_t per = select_items / 4;
  for (auto _ : state) {
    std::vector<std::unique_ptr<lf::channel<item>>> chans;
    for (int i = 0; i < 4; ++i) chans.push_back(std::make_unique<lf::channel<item>>(queue_capacity));
    std::vector<lf::padded<tally>> pushed(4);
    lf::padded<tally> got;
    std::vector<std::function<void()>> roles;
    for (unsigned p = 0; p < 4; ++p) {
      roles.emplace_back([&, p] {
        for (item v = p * per + 1; v <= (p + 1) * per; ++v) {
          if (chans[p]->send(v) != lf::chan_status::ok) std::abort();
          pushed[p].value.add(v);
        }
      });
    }
    roles.emplace_back([&] {
      const auto take = [&](item v) { got.value.add(v); };
      while (got.value.count < select_items) {
        (void)lf::select(lf::on_recv(*chans[0], take), lf::on_recv(*chans[1], take), lf::on_recv(*chans[2], take),
                         lf::on_recv(*chans[3], take));
      }
    });
    const double seconds = run_together(roles);
    if (const auto error = mismatch(total(pushed), got.value, select_items)) {
      state.SkipWithError(error->c_str());
      break;
    }
    state.SetIterationTime(seconds);
    state.counters["items_per_second"] = static_cast<double>(select_items) / seconds;
  }
}

void cancel_wakeup(benchmark::State& state, std::uint64_t cancel_rounds) {
  for (auto _ : state) {
    double total_seconds = 0;
    int wrong = 0;
    for (std::uint64_t r = 0; r < cancel_rounds; ++r) {
      auto [ctx, cancel] = lf::with_cancel(lf::background());
      std::atomic<int> ready{0}, awake{0};
      std::vector<std::thread> waiters;
      for (int i = 0; i < cancel_waiters; ++i) {
        waiters.emplace_back([&, c = ctx] {
          ready.fetch_add(1);
          c.done().wait();
          awake.fetch_add(1);
        });
      }
      while (ready.load() < cancel_waiters) std::this_thread::yield();
      // The waiters announced themselves; give them a moment to park (not timed).
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      const auto start = clock::now();
      cancel();
      // Yield, not spin: on 2 CPUs a spinning timer would hold a CPU a waiter needs.
      while (awake.load() < cancel_waiters) std::this_thread::yield();
      total_seconds += std::chrono::duration<double>(clock::now() - start).count();
      for (auto& t : waiters) t.join();
      if (ctx.err() != lf::context_error::canceled) ++wrong;
    }
    if (wrong != 0) {
      state.SkipWithError("a context did not report canceled");
      break;
    }
    state.SetIterationTime(total_seconds);
    state.counters["ns_per_wakeup"] = total_seconds * 1e9 / static_cast<double>(cancel_rounds);
  }
}

template <class Q>
void add_channel_peer() {
  add<Q>("chan_buffered_1p1c", buffered<Q, 1, 1>, count(full_items));
  add<Q>("chan_buffered_2p2c", buffered<Q, 2, 2>, count(full_items, 2));
}

void register_all() {
  add_channel_peer<lf_channel>();
  add_channel_peer<moodycamel_blocking>();
  add_channel_peer<tbb_bounded>();
  add_channel_peer<mutex_condvar>();
  add<lf_channel>("chan_unbuffered_handoff", handoff<lf_channel>, count(full_handoffs));
  add<mutex_condvar>("chan_unbuffered_handoff", handoff<mutex_condvar>, count(full_handoffs));
  // Capacity 0 (a rendezvous) for the channels, 1 for the queues (no rendezvous).
  add<lf_channel>("chan_pingpong", pingpong_blocking<lf_channel>, 0, count(full_round_trips));
  add<mutex_condvar>("chan_pingpong", pingpong_blocking<mutex_condvar>, 0, count(full_round_trips));
  add<moodycamel_blocking>("chan_pingpong", pingpong_blocking<moodycamel_blocking>, 1, count(full_round_trips));
  add<tbb_bounded>("chan_pingpong", pingpong_blocking<tbb_bounded>, 1, count(full_round_trips));
  add<lf_channel>("chan_select4", select4, count(full_select_items, 4));
  benchmark::RegisterBenchmark("ctx_cancel_wakeup_4/lf::context",
                               [n = count(full_cancel_rounds)](benchmark::State& state) { cancel_wakeup(state, n); })
      ->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
  add_calibration();
  benchmark::AddCustomContext("requested capacity", std::to_string(queue_capacity));
  benchmark::AddCustomContext("build flags", LF_BENCH_BUILD_FLAGS);
}

}  // namespace
}  // namespace lf_bench

int main(int argc, char** argv) {
  lf_bench::register_all();
  return lf_bench::run_benchmarks(argc, argv);
}
