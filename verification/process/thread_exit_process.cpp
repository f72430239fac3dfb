// Thread exit with thread_locals (review defect: thread-index aliasing). A thread_local
// object constructed before the thread's first lf call is destroyed after everything lf
// constructed on that thread; if its destructor uses lf, it must still run on the
// thread's own index, with its own hazard, epoch and RCU records. The index used to be
// released by an lf thread_local, before such a destructor ran, and two threads then
// shared one record: a heap-use-after-free in the hazard records under ASan, an abort in
// malloc at -O2.
//
// For each reclaimer: 300 rounds of two threads whose first statement creates such a
// thread_local; its destructor checks that the thread still holds the index it had while
// alive, then pushes and pops on a shared Michael-Scott queue (retiring nodes into the
// thread's record). At the end: every value pushed was popped exactly once, every retired
// node is freed with the domain (ASan's leak check), and every index was given back.
#include <atomic>
#include <cstddef>
#include <cstdio>
#include <thread>

#include "lockfree/ms_queue.hpp"
#include "rcu/epoch_reclaimer.hpp"
#include "rcu/hazard_pointer_reclaimer.hpp"
#include "rcu/rcu_reclaimer.hpp"
#include "sync/thread.hpp"
#include "verification/process/check.hpp"

namespace {

constexpr int rounds = 300;
constexpr long ops_per_phase = 64;  // pushes (then pops) in the thread's life, and again in the destructor

// Created by the thread's first statement, before any lf call; its destructor runs after
// lf's per-thread state would have been torn down if lf kept it in a thread_local.
struct late_user {
  void (*at_exit)(void*) = nullptr;
  void* arg = nullptr;
  ~late_user() {
    if (at_exit != nullptr) at_exit(arg);
  }
};

template <class R>
struct shared_state {
  lf::ms_queue<long, R>* queue;
  std::atomic<long> pushed_sum{0};
  std::atomic<long> popped_sum{0};
  std::atomic<long> popped_count{0};
  std::atomic<int> index_lost{0};
};

template <class R>
struct per_thread {
  shared_state<R>* shared;
  std::size_t index_in_life;
  long next_value;
};

template <class R>
void push_then_pop(shared_state<R>& s, long& next_value) {
  for (long i = 0; i < ops_per_phase; ++i) {
    s.queue->push(next_value);
    s.pushed_sum.fetch_add(next_value, std::memory_order_relaxed);
    ++next_value;
  }
  for (long i = 0; i < ops_per_phase; ++i) {
    if (auto v = s.queue->try_pop()) {
      s.popped_sum.fetch_add(*v, std::memory_order_relaxed);
      s.popped_count.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

template <class R>
void at_thread_exit(void* p) {
  auto* t = static_cast<per_thread<R>*>(p);
  const std::size_t now = lf::thread_index();
  if (now != t->index_in_life || !lf::detail::thread_registry::instance().taken(now)) {
    t->shared->index_lost.fetch_add(1);
  }
  push_then_pop(*t->shared, t->next_value);
  delete t;
}

template <class R>
void worker(shared_state<R>* s, long first_value) {
  thread_local late_user user;  // before the thread's first lf call
  auto* t = new per_thread<R>{s, lf::thread_index(), first_value};
  user.at_exit = &at_thread_exit<R>;
  user.arg = t;
  push_then_pop(*s, t->next_value);
}

template <class R>
void run(const char* name) {
  const std::size_t live_before = lf::detail::thread_registry::instance().live();
  long pushed = 0;
  {
    typename R::domain domain;
    lf::ms_queue<long, R> queue(domain);
    shared_state<R> s{&queue};
    for (int r = 0; r < rounds; ++r) {
      const long base = static_cast<long>(r) * 4 * ops_per_phase;
      std::thread a(worker<R>, &s, base);
      std::thread b(worker<R>, &s, base + 2 * ops_per_phase);
      a.join();
      b.join();
    }
    while (auto v = queue.try_pop()) {
      s.popped_sum.fetch_add(*v, std::memory_order_relaxed);
      s.popped_count.fetch_add(1, std::memory_order_relaxed);
    }
    pushed = static_cast<long>(rounds) * 2 * 2 * ops_per_phase;
    LF_CHECK(s.index_lost.load() == 0);
    LF_CHECK(s.popped_count.load() == pushed);
    LF_CHECK(s.popped_sum.load() == s.pushed_sum.load());
  }  // the queue, then the domain: every retired node is freed here
  LF_CHECK(lf::detail::thread_registry::instance().live() == live_before);
  std::printf("%s: %d rounds of 2 threads, %ld values, each index held through thread_local destructors\n", name,
              rounds, pushed);
}

}  // namespace

int main() {
  (void)lf::thread_index();  // the main thread holds an index throughout, as a program would
  run<lf::hazard_pointer_reclaimer>("hazard pointers");
  run<lf::epoch_reclaimer>("epochs");
  run<lf::rcu_reclaimer>("RCU");
  return 0;
}
