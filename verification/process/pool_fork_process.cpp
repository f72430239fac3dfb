// fork() with a worker_pool (patterns/worker_pool.hpp, "fork()"; issue 12's edge): the
// child of a process whose pool holds suspended coroutines has none of the pool's
// workers. There the pool must refuse work with lf::pool_closed (not queue it for
// nobody), its destructor must return (not join threads that do not exist), a new pool
// must work, and the parent's pool must be unaffected: its suspended coroutines resume
// and finish there. A task that forks and returns in the child stops that child with
// SIGABRT (the documented message), and one that _exits there ends it normally.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "patterns/awaitables.hpp"
#include "patterns/channel.hpp"
#include "patterns/task.hpp"
#include "patterns/worker_pool.hpp"
#include "verification/process/check.hpp"

namespace {

template <class F>
bool throws_closed_naming_fork(F&& f) {
  try {
    f();
  } catch (const lf::pool_closed& e) {
    return std::string(e.what()).find("fork()") != std::string::npos;
  }
  return false;
}

// In the child: the parent's pool refuses everything and goes away; a new pool works.
void child(std::unique_ptr<lf::worker_pool> parents, lf::channel<int>& ch) {
  LF_CHECK(throws_closed_naming_fork([&] { (void)parents->submit([] { return 1; }); }));
  LF_CHECK(throws_closed_naming_fork([&] { parents->detach([] {}); }));
  LF_CHECK(throws_closed_naming_fork([&] { (void)lf::go(*parents, []() -> lf::task<void> { co_return; }); }));
  LF_CHECK(throws_closed_naming_fork([&] { parents->wait_idle(); }));
  // A value handed to one of the parent's suspended coroutines (here a copy): the
  // hand-off succeeds, its resumption is refused, and it stays suspended.
  const lf::chan_status sent = ch.try_send(1);
  LF_CHECK(sent == lf::chan_status::ok || sent == lf::chan_status::would_block);
  parents->shutdown_now();
  parents.reset();  // returns: joins nothing
  lf::worker_pool mine(2);
  LF_CHECK(mine.submit([] { return 42; }).get() == 42);
  LF_CHECK(lf::go(mine, []() -> lf::task<int> { co_return 7; }).get() == 7);
}

void fork_with_suspended_coroutines() {
  auto pool = std::make_unique<lf::worker_pool>(2);
  lf::channel<int> ch;
  constexpr int coroutines = 10;
  std::atomic<int> started{0};
  std::atomic<long> sum{0};
  std::vector<lf::join_handle<void>> handles;
  for (int i = 0; i < coroutines; ++i) {
    handles.push_back(lf::go(*pool, [&]() -> lf::task<void> {
      started.fetch_add(1);
      auto r = co_await lf::recv(ch);
      sum.fetch_add(*r);
    }));
  }
  while (started.load() < coroutines) std::this_thread::yield();
  std::fflush(stdout);
  const pid_t pid = fork();
  LF_CHECK(pid >= 0);
  if (pid == 0) {
    child(std::move(pool), ch);
    std::_Exit(0);  // the parent's join handles and channel stay untouched in the child
  }
  int status = 0;
  LF_CHECK(waitpid(pid, &status, 0) == pid);
  LF_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  // The parent's pool and coroutines are as they were.
  for (int i = 1; i <= coroutines; ++i) LF_CHECK(ch.send(i) == lf::chan_status::ok);
  for (auto& h : handles) h.get();
  LF_CHECK(sum.load() == coroutines * (coroutines + 1) / 2);
  LF_CHECK(pool->submit([] { return 5; }).get() == 5);
  std::printf("fork with suspended coroutines: the child's copy refuses work and goes; the parent's runs on\n");
}

// Returns the child's wait status.
int fork_in_a_task(bool exit_in_child) {
  lf::worker_pool pool(2);
  auto f = pool.submit([exit_in_child] {
    std::fflush(stdout);
    const pid_t pid = fork();
    if (pid == 0) {
      if (exit_in_child) _exit(7);
      const rlimit no_core{0, 0};
      (void)setrlimit(RLIMIT_CORE, &no_core);  // the abort below is expected: no core file
      return pid;  // back into the worker in the child: it must abort
    }
    return pid;
  });
  const pid_t pid = f.get();
  LF_CHECK(pid > 0);
  int status = 0;
  LF_CHECK(waitpid(pid, &status, 0) == pid);
  LF_CHECK(pool.submit([] { return 1; }).get() == 1);  // the parent's pool is unaffected
  return status;
}

}  // namespace

int main() {
  fork_with_suspended_coroutines();
  const int returned = fork_in_a_task(false);
  LF_CHECK(WIFSIGNALED(returned) && WTERMSIG(returned) == SIGABRT);
  std::printf("a task that forks and returns in the child: the child's worker aborts\n");
  const int exited = fork_in_a_task(true);
  LF_CHECK(WIFEXITED(exited) && WEXITSTATUS(exited) == 7);
  std::printf("a task that forks and _exits in the child: the child ends normally\n");
  return 0;
}
