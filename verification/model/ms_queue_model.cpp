// Model lane for lockfree/ms_queue.hpp over hazard pointers, built from the shipped
// headers through the seam.
//
// What is checked: every value is taken exactly once (popped during the case or left in
// the queue), values of one producer come out in the order it pushed them (each consumer
// sees them increasing), a popper never reads a freed node (ACCESS TO FREED MEMORY) nor a
// value or link that no happens-before edge publishes (DATA RACE on the node's cell), and
// no node leaks (queue and domain are destroyed in after(); Relacy reports MEMORY LEAK).
// Under the model every retire scans (hazard_tuning), and Relacy's allocator hands a
// freed block to the next allocation of its size, so a node freed too early is reused.
//
// Searches and why they suffice. A publication bug needs one preemption (a popper stopped
// between loading next and taking its value, or a pusher stopped between linking and
// swinging tail): push_pop_two_threads_bare runs context bound 1, exhaustive over the
// fence-free reclaimer (33,696 schedules, 0.1 s; it kills msq_link_relaxed at schedule
// 19,489), and push_pop_two_threads_random 200'000 random schedules over hazard pointers
// for more preemptions. (The exhaustive search over hazard pointers was 3.5 M schedules,
// 41 s: the domain's own operations are scheduling points, and hazard_pointer_model
// checks those.) The three-thread cases (two pushers racing on a
// lagging tail; two poppers, one of them stopped while holding `next`) are too large for
// an exhaustive bound and run 300'000 random schedules each, three times what DESIGN §2
// says finds a two-preemption (ABA-class) bug; the mutant lane shows each of them caught.
// three_pushers_bare (one push per thread) runs context bound 1, exhaustive (150'528
// schedules, 2.3 s): the helping bug needs one preemption (a pusher stopped between its
// link and its own tail swing); the helper then runs whole, and the third pusher may
// read the tail value the helper's CAS wrote, since a load returns any value its
// happens-before still allows. Its mutant (msq_help_swing_relaxed) is found at schedule
// 32'833; bound 2 (2.2 M schedules, 35 s) finds nothing more.
#include <optional>

#include "lockfree/ms_queue.hpp"
#include "rcu/hazard_pointer.hpp"
#include "rcu/hazard_pointer_reclaimer.hpp"
#include "verification/model/model_driver.hpp"
#include "verification/support/deferred_reclaimer.hpp"

namespace {

using queue = lf::ms_queue<int, lf::hazard_pointer_reclaimer>;
// The queue's own orders, without the fences of hazard pointers (see deferred_reclaimer.hpp).
using bare_queue = lf::ms_queue<int, lf::test::deferred_reclaimer>;

// What the threads of a case popped, in order; after() checks exactly-once and FIFO.
// Producer p pushes p*10+1, p*10+2, ... so a value names its producer and its rank.
template <int Threads, int PerThread>
struct popped_log {
  int values[Threads][PerThread] = {};
  int count[Threads] = {};

  void record(unsigned thread, int v) { values[thread][count[thread]++] = v; }

  template <class Queue>
  void check(Queue& q, const int* pushed, int n) {
    int seen[64] = {};
    for (int t = 0; t < Threads; ++t) {
      int last_of[6] = {};  // per producer, the last rank this consumer saw
      for (int i = 0; i < count[t]; ++i) {
        const int v = values[t][i];
        ++seen[v];
        RL_ASSERT(v % 10 > last_of[v / 10]);  // per-producer FIFO
        last_of[v / 10] = v % 10;
      }
    }
    int last_left[6] = {};
    while (std::optional<int> v = q.try_pop()) {
      ++seen[*v];
      RL_ASSERT(*v % 10 > last_left[*v / 10]);
      last_left[*v / 10] = *v % 10;
    }
    for (int i = 0; i < n; ++i) RL_ASSERT(seen[pushed[i]] == 1);
    RL_ASSERT(q.empty());
  }
};

template <class Derived, unsigned Threads, class Queue = queue>
struct queue_case : rl::test_suite<Derived, Threads> {
  std::optional<typename Queue::domain_type> domain;
  std::optional<Queue> q;

  void before() {
    domain.emplace();
    q.emplace(*domain);
  }
  void finish() {
    q.reset();
    domain.reset();
  }
  void pop_into(auto& log, unsigned index) {
    if (std::optional<int> v = q->try_pop()) log.record(index, *v);
  }
};

// (1) Thread 0 pushes 1 and 2, then pops; thread 1 pops twice, then pushes 11. Pops race
// the pushes for the same nodes, and thread 1's push links behind a tail thread 0 may
// not have swung yet.
template <class Queue>
struct push_pop_two_threads : queue_case<push_pop_two_threads<Queue>, 2, Queue> {
  popped_log<2, 2> log;
  void after() {
    const int pushed[] = {1, 2, 11};
    log.check(*this->q, pushed, 3);
    this->finish();
  }
  void thread(unsigned index) {
    if (index == 0) {
      this->q->push(1);
      this->q->push(2);
      this->pop_into(log, index);
    } else {
      this->pop_into(log, index);
      this->pop_into(log, index);
      this->q->push(11);
    }
  }
};

// (2) Two pushers race on the tail (each may find it lagging and swing it for the other)
// while a popper takes two values and checks their order per producer. Run over hazard
// pointers and (bare) over the fence-free deferred reclaimer.
template <class Queue>
struct two_pushers_one_popper : queue_case<two_pushers_one_popper<Queue>, 3, Queue> {
  popped_log<3, 2> log;
  void after() {
    const int pushed[] = {1, 2, 11, 12};
    log.check(*this->q, pushed, 4);
    this->finish();
  }
  void thread(unsigned index) {
    if (index == 2) {
      this->pop_into(log, index);
      this->pop_into(log, index);
    } else {
      const int base = static_cast<int>(index) * 10;
      this->q->push(base + 1);
      this->q->push(base + 2);
    }
  }
};

// (3) The queue starts as [1, 2]. Two poppers race; one of them, stopped after its CAS
// made node 1 the dummy and before it moved the value out, must find node 1 still alive
// while the other pops 2 and retires node 1's predecessor and then node 1 itself would be
// next in line. A third thread pushes 11, which an early free would place at a freed
// node's address.
struct two_poppers_one_pusher : queue_case<two_poppers_one_pusher, 3> {
  popped_log<3, 2> log;
  void before() {
    queue_case::before();
    q->push(1);
    q->push(2);
  }
  void after() {
    const int pushed[] = {1, 2, 11};
    log.check(*q, pushed, 3);
    finish();
  }
  void thread(unsigned index) {
    if (index == 2) {
      q->push(11);
    } else {
      pop_into(log, index);
      pop_into(log, index);
    }
  }
};

// (4) Three pushers, one value each, on the fence-free deferred reclaimer. One pusher
// links its node and is stopped before it swings tail; a second finds tail lagging and
// swings it for the first (the helping (Q3)); the third then reads tail and the found
// node's `next`. Only the helper's release carries the node's construction to the third
// pusher: the seam makes that construction a plain write, so a read with no edge to it
// is a DATA RACE. With hazard pointers the protect's seq_cst fences would add edges of
// their own, hence the bare reclaimer.
struct three_pushers_bare : queue_case<three_pushers_bare, 3, bare_queue> {
  void after() {
    const int pushed[] = {1, 11, 21};
    popped_log<1, 1> none;
    none.check(*q, pushed, 3);
    finish();
  }
  void thread(unsigned index) { q->push(static_cast<int>(index) * 10 + 1); }
};

}  // namespace

int main(int argc, char** argv) {
  using lf::model::search;
  return lf::model::run_cases(argc, argv,
                              {
                                  LF_MODEL_CASE("push_pop_two_threads_bare", search::bounded(1), push_pop_two_threads<bare_queue>),
                                  LF_MODEL_CASE("push_pop_two_threads_random", search::random(200000), push_pop_two_threads<queue>),
                                  LF_MODEL_CASE("two_pushers_one_popper", search::random(300000), two_pushers_one_popper<queue>),
                                  LF_MODEL_CASE("two_poppers_one_pusher", search::random(300000), two_poppers_one_pusher),
                                  LF_MODEL_CASE("two_pushers_one_popper_bare", search::random(300000), two_pushers_one_popper<bare_queue>),
                                  LF_MODEL_CASE("three_pushers_bare", search::bounded(1), three_pushers_bare),
                              });
}
