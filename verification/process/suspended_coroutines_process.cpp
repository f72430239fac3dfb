// A process that exits while coroutines are suspended (the edge a long-running service
// reaches at shutdown): a static worker_pool holds coroutines parked in every kind of
// wait lf offers — a channel receive, a select over a channel and a timer, a context's
// done, a sleep — and main returns without waking any of them.
//
// Static destruction runs in reverse order of construction: the pool (constructed after
// the channels) is destroyed first; it joins its workers and destroys every suspended
// frame, each of whose awaiters withdraws from what it waited on — the channels (still
// alive), the timer service (immortal, its thread stopped at exit), a context (kept in
// the frame). The ledger, constructed first, is destroyed last and checks that every
// frame was destroyed exactly once and none was resumed. Passing means: exit status 0,
// the line printed, nothing reported by ASan or TSan, no hang.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "patterns/awaitables.hpp"
#include "patterns/channel.hpp"
#include "patterns/context.hpp"
#include "patterns/select.hpp"
#include "patterns/task.hpp"
#include "patterns/worker_pool.hpp"
#include "verification/process/check.hpp"

using namespace std::chrono_literals;

namespace {

constexpr int per_kind = 25;  // 4 kinds: 100 frames, enough to straddle both workers' queues
constexpr int kinds = 4;

struct ledger_t {
  std::atomic<int> parked{0};
  std::atomic<int> destroyed{0};
  std::atomic<int> resumed{0};
  ~ledger_t() {
    LF_CHECK(resumed.load() == 0);
    LF_CHECK(destroyed.load() == per_kind * kinds);
    std::printf("exit with %d suspended coroutines: every frame destroyed once, none resumed\n", destroyed.load());
  }
};

ledger_t ledger;                  // destroyed last
lf::channel<int> never;           // nobody sends: receivers stay parked
lf::channel<int> never_buffered(4);
lf::worker_pool pool(2);          // destroyed first

// Counts the frame's destruction (the frame is destroyed, not resumed, at exit).
struct frame_guard {
  ~frame_guard() { ledger.destroyed.fetch_add(1); }
};

lf::task<void> in_recv() {
  frame_guard g;
  ledger.parked.fetch_add(1);
  (void)co_await lf::recv(never);
  ledger.resumed.fetch_add(1);
}

lf::task<void> in_select() {
  frame_guard g;
  ledger.parked.fetch_add(1);
  (void)co_await lf::co_select(lf::on_recv(never_buffered, [](int) {}), lf::after(1h, [] {}));
  ledger.resumed.fetch_add(1);
}

lf::task<void> in_done(lf::context ctx) {  // by value: the frame keeps the context alive
  frame_guard g;
  ledger.parked.fetch_add(1);
  co_await lf::done(ctx);
  ledger.resumed.fetch_add(1);
}

lf::task<void> in_sleep() {
  frame_guard g;
  ledger.parked.fetch_add(1);
  co_await lf::sleep_for(1h);
  ledger.resumed.fetch_add(1);
}

}  // namespace

int main() {
  auto [ctx, cancel] = lf::with_timeout(lf::background(), 1h);
  for (int i = 0; i < per_kind; ++i) {
    lf::go(pool, in_recv).detach();
    lf::go(pool, in_select).detach();
    lf::go(pool, in_done, ctx).detach();
    lf::go(pool, in_sleep).detach();
  }
  // Every coroutine reaches its wait (parked counts just before it; the waits cannot
  // complete, so once all counted, a short pause leaves them suspended).
  for (int i = 0; i < 10'000 && ledger.parked.load() < per_kind * kinds; ++i) std::this_thread::sleep_for(1ms);
  LF_CHECK(ledger.parked.load() == per_kind * kinds);
  std::this_thread::sleep_for(20ms);
  LF_CHECK(ledger.destroyed.load() == 0);
  return 0;  // cancel is never called: the context's 1 h deadline is armed at exit too
}
