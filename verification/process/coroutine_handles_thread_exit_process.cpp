// Thread exit with thread_locals that hold coroutine handles (issue 12's edge). A
// join_handle's destructor detaches its fiber; run by a thread_local at thread exit it
// must leave the fiber running on, or, when the pool has already destroyed the fiber,
// free the state it was the last to hold — whichever of the thread's exit and the pool's
// destruction comes first, and on a pool's own worker threads as they are joined. ASan
// (LeakSanitizer) and TSan builds run this program too: every frame and state is freed
// once, and nothing races.
//
//   1. 200 threads each keep, in a thread_local, the handle of a coroutine suspended in a
//      receive on a pool that outlives them; they exit; then each coroutine gets its
//      value and finishes (its state freed by the fiber, the handle having let go).
//   2. The same, but the pool is destroyed while the threads still hold the handles: the
//      pool destroys the suspended fibers, the handles then report broken_promise, and
//      the thread_locals' destructors free the states at thread exit.
//   3. Coroutines running on a pool's workers keep handles of other coroutines (still
//      suspended) in the workers' own thread_locals; the pool's destruction joins the
//      workers (the thread_locals detach) and destroys the suspended fibers.
#include <atomic>
#include <cstdio>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "patterns/awaitables.hpp"
#include "patterns/channel.hpp"
#include "patterns/task.hpp"
#include "patterns/worker_pool.hpp"
#include "verification/process/check.hpp"

namespace {

constexpr int threads = 200;

thread_local lf::join_handle<void> kept;  // constructed on first use, destroyed at thread exit

std::atomic<int> received{0};
std::atomic<int> frames_destroyed{0};

struct frame_witness {
  ~frame_witness() { frames_destroyed.fetch_add(1); }
};

lf::task<void> receive_one(lf::channel<int>& ch) {
  frame_witness w;
  auto r = co_await lf::recv(ch);
  if (r) received.fetch_add(1);
}

// Starts `threads` threads that each start a suspended receiver and keep its handle in
// `kept`; returns once they all exited.
void threads_keep_handles(lf::worker_pool& pool, lf::channel<int>& ch) {
  std::vector<std::thread> ts;
  for (int i = 0; i < threads; ++i) {
    ts.emplace_back([&] { kept = lf::spawn(pool, receive_one(ch)); });
  }
  for (auto& t : ts) t.join();
}

void handles_dropped_at_thread_exit_let_the_coroutines_run_on() {
  received = 0;
  frames_destroyed = 0;
  lf::worker_pool pool(2);
  lf::channel<int> ch;
  threads_keep_handles(pool, ch);
  for (int i = 0; i < threads; ++i) LF_CHECK(ch.send(i) == lf::chan_status::ok);
  pool.wait_idle();
  LF_CHECK(received.load() == threads);
  LF_CHECK(frames_destroyed.load() == threads);
  std::printf("handles dropped at thread exit: %d coroutines ran on and finished\n", threads);
}

void a_pool_destroyed_before_the_threads_exit_fails_their_handles() {
  received = 0;
  frames_destroyed = 0;
  auto pool = std::make_unique<lf::worker_pool>(2);
  lf::channel<int> ch;
  std::promise<void> pool_gone;
  std::shared_future<void> gone = pool_gone.get_future().share();
  std::atomic<int> started{0}, broken{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < threads; ++i) {
    ts.emplace_back([&, i] {
      kept = lf::spawn(*pool, receive_one(ch));
      started.fetch_add(1);
      gone.wait();
      if (i % 2 == 0) return;  // the thread_local's destructor lets go of the dead fiber's state
      try {
        kept.get();
      } catch (const std::future_error& e) {
        if (e.code() == std::future_errc::broken_promise) broken.fetch_add(1);
      }
    });
  }
  while (started.load() < threads) std::this_thread::yield();
  pool.reset();  // destroys the suspended fibers; the threads still hold their handles
  LF_CHECK(frames_destroyed.load() == threads);
  pool_gone.set_value();
  for (auto& t : ts) t.join();
  LF_CHECK(received.load() == 0);
  LF_CHECK(broken.load() == threads / 2);
  std::printf("pool destroyed first: %d fibers destroyed, their handles broken_promise, freed at thread exit\n",
              threads);
}

thread_local std::vector<lf::join_handle<void>> worker_kept;  // on the pool's worker threads

void workers_thread_locals_hold_handles_while_their_pool_is_destroyed() {
  received = 0;
  frames_destroyed = 0;
  lf::channel<int> ch;
  {
    lf::worker_pool pool(2);
    std::vector<lf::join_handle<void>> holders;
    for (int i = 0; i < threads; ++i) {
      holders.push_back(lf::go(pool, [&]() -> lf::task<void> {
        // On a worker: the handle goes into that worker thread's thread_local.
        worker_kept.push_back(lf::spawn(pool, receive_one(ch)));
        co_return;
      }));
    }
    for (auto& h : holders) h.get();
  }  // joins the workers (their thread_locals detach), then destroys the suspended fibers
  LF_CHECK(frames_destroyed.load() == threads);
  LF_CHECK(received.load() == 0);
  std::printf("workers' thread_locals held %d handles through their pool's destruction\n", threads);
}

}  // namespace

int main() {
  handles_dropped_at_thread_exit_let_the_coroutines_run_on();
  a_pool_destroyed_before_the_threads_exit_fails_their_handles();
  workers_thread_locals_hold_handles_while_their_pool_is_destroyed();
  return 0;
}
