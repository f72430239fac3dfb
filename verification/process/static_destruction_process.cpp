// Static destruction order (review defect: a crash at exit). The process-wide services —
// the timer thread behind deadlines, the default reclamation domains, the thread-index
// registry — must outlive every object that uses them, including statics constructed
// before the service existed (destroyed after it) and threads still running at exit.
//
// The holder below is constructed before main, before any lf service exists; main gives
// it a deadline context, a queue on the default domains and a channel. At exit it is
// destroyed after everything main's first lf calls constructed. Its destructor disarms a
// deadline, waits for a new deadline to fire (the timer thread was stopped at exit and
// must start again), retires nodes into the default domains and uses a channel with a
// timeout. A detached thread keeps pushing and popping on the default domains while the
// process exits. Passing means: exit status 0, nothing reported by ASan/TSan, no hang.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <optional>
#include <thread>

#include "lockfree/ms_queue.hpp"
#include "patterns/channel.hpp"
#include "patterns/context.hpp"
#include "rcu/epoch_reclaimer.hpp"
#include "rcu/hazard_pointer_reclaimer.hpp"
#include "rcu/rcu_reclaimer.hpp"
#include "verification/process/check.hpp"

using namespace std::chrono_literals;

namespace {

struct holder {
  std::optional<lf::context_with_cancel> deadline;
  std::optional<lf::ms_queue<int, lf::hazard_pointer_reclaimer>> hp_queue;
  std::optional<lf::ms_queue<int, lf::epoch_reclaimer>> epoch_queue;
  std::optional<lf::ms_queue<int, lf::rcu_reclaimer>> rcu_queue;

  ~holder() {
    if (!deadline) return;
    LF_CHECK(!deadline->ctx.done());
    deadline.reset();  // disarms its timer entry: the timer service must still exist

    // A deadline made now, during static destruction, still fires.
    auto [late, cancel] = lf::with_timeout(lf::background(), 5ms);
    LF_CHECK(late.done().wait_for(10s));
    LF_CHECK(late.err() == lf::context_error::deadline_exceeded);

    for (int i = 0; i < 1000; ++i) {  // retires into the default domains
      hp_queue->push(i);
      epoch_queue->push(i);
      rcu_queue->push(i);
      LF_CHECK(hp_queue->try_pop().has_value());
      LF_CHECK(epoch_queue->try_pop().has_value());
      LF_CHECK(rcu_queue->try_pop().has_value());
    }
    hp_queue.reset();
    epoch_queue.reset();
    rcu_queue.reset();

    lf::channel<int> ch(1);
    LF_CHECK(ch.recv_for(1ms).status() == lf::chan_status::timeout);
    std::fputs("static destruction: the timer, the default domains and the channel still work\n", stdout);
  }
};

holder early;  // constructed before any lf service

}  // namespace

int main() {
  early.deadline.emplace(lf::with_timeout(lf::background(), 1h));  // starts the timer service
  early.hp_queue.emplace();
  early.epoch_queue.emplace();
  early.rcu_queue.emplace();

  // A thread still using the default domains while the process exits.
  std::atomic<bool> started{false};
  std::thread([&started] {
    auto* q = new lf::ms_queue<int>;  // leaked on purpose: the thread never ends
    auto* e = new lf::ms_queue<int, lf::epoch_reclaimer>;
    for (long i = 0;; ++i) {
      q->push(1);
      e->push(1);
      (void)q->try_pop();
      (void)e->try_pop();
      if (i == 1000) started.store(true);
    }
  }).detach();
  while (!started.load()) std::this_thread::yield();
  return 0;
}
