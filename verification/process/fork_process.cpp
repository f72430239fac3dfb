// fork() (review defect: no deadlines in the child). The child of a process whose timer
// thread runs has no timer thread; deadlines must fire there all the same — those armed
// before the fork and those armed after — and the rest of lf must work: RCU grace periods
// (membarrier), hazard pointers, channels with timeouts. Checked twice: forking while
// deadlines are armed, and forking after the service's thread was started and is idle.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "lockfree/ms_queue.hpp"
#include "patterns/channel.hpp"
#include "patterns/context.hpp"
#include "rcu/rcu.hpp"
#include "rcu/rcu_reclaimer.hpp"
#include "verification/process/check.hpp"

using namespace std::chrono_literals;

namespace {

// What the child does; its exit status reports the outcome (LF_CHECK exits 1).
void child(const lf::context& armed_before_fork) {
  // Armed in the parent, due after the fork: fires in the child.
  LF_CHECK(armed_before_fork.done().wait_for(20s));
  LF_CHECK(armed_before_fork.err() == lf::context_error::deadline_exceeded);
  // Armed in the child.
  auto [mine, cancel] = lf::with_timeout(lf::background(), 10ms);
  LF_CHECK(mine.done().wait_for(20s));
  LF_CHECK(mine.err() == lf::context_error::deadline_exceeded);
  // The rest of lf.
  lf::channel<int> ch(1);
  LF_CHECK(ch.recv_for(1ms).status() == lf::chan_status::timeout);
  lf::ms_queue<int> hp_queue;
  lf::ms_queue<int, lf::rcu_reclaimer> rcu_queue;
  for (int i = 0; i < 1000; ++i) {
    hp_queue.push(i);
    rcu_queue.push(i);
    LF_CHECK(hp_queue.try_pop() == i);
    LF_CHECK(rcu_queue.try_pop() == i);
  }
  lf::rcu_barrier();
}

void fork_and_check(const char* when, std::chrono::milliseconds parent_deadline) {
  auto [ctx, cancel] = lf::with_timeout(lf::background(), parent_deadline);
  std::fflush(stdout);
  const pid_t pid = fork();
  LF_CHECK(pid >= 0);
  if (pid == 0) {
    child(ctx);
    std::exit(0);  // runs the atexit handlers: the child's timer thread is stopped and joined
  }
  int status = 0;
  LF_CHECK(waitpid(pid, &status, 0) == pid);
  LF_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  LF_CHECK(ctx.done().wait_for(20s));  // and the parent's own deadline still fires
  std::printf("fork %s: deadlines fire in the child and in the parent\n", when);
}

}  // namespace

int main() {
  // 1. Forked while the timer thread sleeps until an armed deadline.
  fork_and_check("with a deadline armed", 50ms);
  // 2. Forked while the timer thread is idle (nothing armed: the context above is done).
  {
    auto [warm, cancel] = lf::with_timeout(lf::background(), 1ms);
    LF_CHECK(warm.done().wait_for(20s));
  }
  fork_and_check("with the timer idle", 30ms);
  return 0;
}
