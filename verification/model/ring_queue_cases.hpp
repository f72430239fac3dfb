// Model lane: the cases both fetch-and-add queues (lockfree/lcrq.hpp, lockfree/lprq.hpp)
// run, each over its queue template Q<T, Reclaimer>. Rings have 2 cells, so positions lap
// a ring every two operations, rings close after a few pushes and closed rings are
// unlinked and retired inside the cases.
//
// What is checked: every value is taken exactly once (popped during the case or left in
// the queue: after() drains it), each producer's values come out in its order, a popper
// never reads a freed ring (ACCESS TO FREED MEMORY) nor a boxed value that no
// happens-before edge publishes (DATA RACE on the box's cell: the cases use a 12-byte
// payload, which travels boxed, beside an int, which travels in the cell), and nothing
// leaks (queue and domain are destroyed in after(): MEMORY LEAK). Under the model every
// retire scans, and Relacy's allocator hands a freed block to the next allocation of its
// size, so a ring freed too early is reused at once. Searches and their bounds are in
// each queue's model file.
#pragma once

#include <optional>

#include "rcu/hazard_pointer.hpp"
#include "rcu/hazard_pointer_reclaimer.hpp"
#include "verification/model/model_driver.hpp"
#include "verification/support/deferred_reclaimer.hpp"

namespace lf::model::ring_queue {

// 12 bytes: too large for a cell word, so it travels in a heap box.
struct boxed {
  int v;
  int pad[2];
  boxed(int x) : v(x), pad{} {}  // NOLINT: converts like the int it stands for
  operator int() const { return v; }
};


// Producer p pushes p*10+1, p*10+2, ...; each consumer records what it popped in order.
template <int Threads, int PerThread>
struct log {
  int values[Threads][PerThread] = {};
  int count[Threads] = {};
  void record(unsigned t, int v) { values[t][count[t]++] = v; }

  template <class Q>
  void check(Q& q, const int* pushed, int n) {
    int seen[64] = {};
    for (int t = 0; t < Threads; ++t) {
      int last_of[6] = {};
      for (int i = 0; i < count[t]; ++i) {
        const int v = values[t][i];
        ++seen[v];
        RL_ASSERT(v % 10 > last_of[v / 10]);  // per-producer FIFO
        last_of[v / 10] = v % 10;
      }
    }
    int last_left[6] = {};
    while (auto v = q.try_pop()) {
      const int x = *v;
      ++seen[x];
      RL_ASSERT(x % 10 > last_left[x / 10]);
      last_left[x / 10] = x % 10;
    }
    for (int i = 0; i < n; ++i) RL_ASSERT(seen[pushed[i]] == 1);  // exactly once
    RL_ASSERT(q.empty());
  }
};

template <template <class, class> class Q, class Derived, unsigned Threads, class T,
          class R = lf::hazard_pointer_reclaimer>
struct ring_queue_case : rl::test_suite<Derived, Threads> {
  std::optional<typename R::domain> domain;
  std::optional<Q<T, R>> q;
  void before() {
    domain.emplace();
    q.emplace(*domain, 2);
  }
  void finish() {
    q.reset();
    domain.reset();
  }
  void pop_into(auto& l, unsigned index) {
    if (auto v = q->try_pop()) l.record(index, *v);
  }
};

// (1) One cell: a push and a pop race for position 0 (the pop may invalidate the cell
// before the push lands, which must then move to position 1), then the pusher pops.
template <template <class, class> class Q, class T>
struct one_cell : ring_queue_case<Q, one_cell<Q, T>, 2, T> {
  log<2, 2> l;
  void after() {
    const int pushed[] = {1};
    l.check(*this->q, pushed, 1);
    this->finish();
  }
  void thread(unsigned index) {
    if (index == 0) {
      this->q->push(1);
      this->pop_into(l, index);
    } else {
      this->pop_into(l, index);
    }
  }
};

// (2) Two pushers, three values each, into 2-cell rings: rings fill and close while the
// other pusher is inside them, and the pushers race to append the next ring. A popper
// takes two values meanwhile.
// Run over hazard pointers and (bare) over the fence-free deferred reclaimer: the seq_cst
// fence inside a hazard pointer's protect, after the box is built, would publish the box
// by itself and hide a relaxed (C1).
template <template <class, class> class Q, class T, class R = lf::hazard_pointer_reclaimer>
struct ring_closes_while_pushers_race : ring_queue_case<Q, ring_closes_while_pushers_race<Q, T, R>, 3, T, R> {
  log<3, 2> l;
  void after() {
    const int pushed[] = {1, 2, 3, 11, 12, 13};
    l.check(*this->q, pushed, 6);
    this->finish();
  }
  void thread(unsigned index) {
    if (index == 2) {
      this->pop_into(l, index);
      this->pop_into(l, index);
    } else {
      const int base = static_cast<int>(index) * 10;
      for (int i = 1; i <= 3; ++i) this->q->push(base + i);
    }
  }
};

// (3) One pusher, two poppers, two pops each on 2-cell rings: poppers cross the tail of
// an empty ring (fix_state), meet a value of an older lap whose popper is stalled (and
// clear the cell's safe bit), and unlink and retire drained rings while the pusher
// appends new ones and another popper still reads the old one.
template <template <class, class> class Q, class T>
struct two_poppers_one_pusher : ring_queue_case<Q, two_poppers_one_pusher<Q, T>, 3, T> {
  log<3, 2> l;
  void after() {
    const int pushed[] = {1, 2, 3};
    l.check(*this->q, pushed, 3);
    this->finish();
  }
  void thread(unsigned index) {
    if (index == 0) {
      for (int i = 1; i <= 3; ++i) this->q->push(i);
    } else {
      this->pop_into(l, index);
      this->pop_into(l, index);
    }
  }
};

// (4) The ring holds [1, 2] and is full. Pusher 0 finds it full, closes it and appends a
// ring; pusher 1 may have read the old ring as the list's tail before that and be
// stalled; the popper drains the old ring, unlinks it and pops on. A pusher that ignored
// the closed bit would put its value into the unlinked ring, where nobody pops it.
template <template <class, class> class Q, class T>
struct pusher_stalled_on_a_closing_ring : ring_queue_case<Q, pusher_stalled_on_a_closing_ring<Q, T>, 3, T> {
  log<3, 3> l;
  void before() {
    ring_queue_case<Q, pusher_stalled_on_a_closing_ring<Q, T>, 3, T>::before();
    this->q->push(1);
    this->q->push(2);
  }
  void after() {
    const int pushed[] = {1, 2, 11, 21};
    l.check(*this->q, pushed, 4);
    this->finish();
  }
  void thread(unsigned index) {
    if (index == 2) {
      for (int i = 0; i < 3; ++i) this->pop_into(l, index);
    } else {
      this->q->push(index == 0 ? 11 : 21);
    }
  }
};

}  // namespace lf::model::ring_queue
