// Model lane for rcu/rcu.hpp and rcu/rcu_reclaimer.hpp, built from the shipped headers
// through the seam.
//
// Under the model the light and heavy fences are both seq_cst fences (sync/
// asymmetric_fence.hpp says why that is sound), and every retire tries to collect
// (lf::detail::rcu_tuning shrinks the trigger to one), so each explored schedule races a
// grace period against the readers. Deleting a node is a write to its lf::cell (its
// destructor destroys the value through the cell): a reader's read that no
// happens-before edge orders before the delete is a DATA RACE, a read after it ACCESS TO
// FREED MEMORY (the model flags keep the store that marks Relacy objects freed). Objects
// still retired when a case ends are freed by the domain the case owns, destroyed in
// after(); anything not freed by then is a MEMORY LEAK verdict.
//
// Searches and why they suffice. The failures these cases exist to catch need at most
// one preemption at the wrong place: the reader stopped between loading the pointer and
// reading the node (or between its snapshot load and its record store) while the writer
// unlinks, runs its grace period and frees; the rest is a stale value read at a load,
// which Relacy explores at every load whatever the scheduler. So every two-thread case
// explores at least all schedules with two preemptions, twice what the bugs need, and as
// much more as fits in about ten seconds: reader_vs_synchronize is searched in full
// (every schedule, 2'915'828 of them, 9 s on the 2-core dev machine); the two cases with
// two grace periods and two sections, reader_enters_during_grace_period and
// nested_sections, run context bound 3 (615'864 and 210'504 schedules, 3.5 s and 0.8 s);
// retire_and_barrier, the longest, context bound 2 (1'921'216 schedules, 15 s). The
// three-thread case (two grace periods at once) is too large for an exhaustive bound
// within a minute and runs 200'000 random schedules (1 s). The Treiber stack over
// rcu_reclaimer runs context bound 1 (as the stack's own model does, for the same
// reason: one preemption inside a pop; 1.7 s) plus 100'000 random schedules. The schedule
// at which each mutant is first caught is in papers/desnoyers-2012-user-level-rcu.md.
#include <mutex>
#include <optional>

#include "lockfree/treiber_stack.hpp"
#include "rcu/rcu.hpp"
#include "rcu/rcu_reclaimer.hpp"
#include "rcu/reclaimer.hpp"
#include "sync/atomic.hpp"
#include "sync/cell.hpp"
#include "verification/model/model_driver.hpp"

namespace {

struct node : lf::rcu_obj_base<node> {
  explicit node(int v) { ::new (static_cast<void*>(value.write())) int(v); }
  ~node() { value.destroy(); }  // the delete writes the cell: a racing read is a DATA RACE
  lf::cell<int> value;
};

// One read-side critical section: loads src and reads the node. Returns the value.
int read_once(lf::rcu_domain& domain, const lf::atomic<node*>& src) {
  std::scoped_lock lk(domain);
  const node* const p = src.load(std::memory_order_acquire);
  return *p->value.read();
}

// (a) The writer unlinks node 0 (src now holds node 1), waits for a grace period with
// rcu_synchronize and deletes node 0 itself. The reader, in one critical section, loads
// src and reads the node it found. Node 0 must never be deleted under the reader.
struct reader_vs_synchronize : rl::test_suite<reader_vs_synchronize, 2> {
  std::optional<lf::rcu_domain> domain;
  lf::atomic<node*> src{nullptr};
  node* fresh = nullptr;

  void before() {
    domain.emplace();
    src.store(new node(0), std::memory_order_relaxed);
    fresh = new node(1);
  }
  void after() {
    delete src.load(std::memory_order_relaxed);
    domain.reset();
  }

  void thread(unsigned index) {
    if (index == 0) {
      node* const old = src.exchange(fresh, std::memory_order_acq_rel);
      lf::rcu_synchronize(*domain);
      delete old;
    } else {
      const int v = read_once(*domain, src);
      RL_ASSERT(v == 0 || v == 1);
    }
  }
};

// The writer of cases (b) and (c): replaces the node twice (0 -> 1 -> 2) with a grace
// period and a delete after each; thread 1 is the case's reader.
template <class Derived>
struct replacing_writer : rl::test_suite<Derived, 2> {
  std::optional<lf::rcu_domain> domain;
  lf::atomic<node*> src{nullptr};
  node* fresh[2] = {};

  void before() {
    domain.emplace();
    src.store(new node(0), std::memory_order_relaxed);
    for (int i = 0; i < 2; ++i) fresh[i] = new node(i + 1);
  }
  void after() {
    delete src.load(std::memory_order_relaxed);
    domain.reset();
  }

  void thread(unsigned index) {
    if (index == 0) {
      for (node* next : fresh) {
        // acq_rel: takes the old node from whoever published it, publishes the new one.
        node* const old = src.exchange(next, std::memory_order_acq_rel);
        lf::rcu_synchronize(*domain);
        delete old;
      }
    } else {
      static_cast<Derived*>(this)->reader();
    }
  }
};

// (b) A reader that enters while a grace period is in progress. The writer replaces the
// node twice (0 -> 1 -> 2), with a grace period and a delete after each; the reader runs
// two critical sections back to back, so its second one may begin during either grace
// period, with a snapshot taken before or after the advance, and its record store may
// be the one the grace period reads instead of the unlock before it.
struct reader_enters_during_grace_period : replacing_writer<reader_enters_during_grace_period> {
  void reader() {
    int last = -1;
    for (int round = 0; round < 2; ++round) {
      const int v = read_once(*domain, src);
      RL_ASSERT(v >= last && v <= 2);  // src only moves forward
      last = v;
    }
  }
};

// (b') Two grace periods at once: two writers each unlink their own node and synchronize
// (different targets, the >= comparison); a reader reads both sources in one section.
struct concurrent_grace_periods : rl::test_suite<concurrent_grace_periods, 3> {
  std::optional<lf::rcu_domain> domain;
  lf::atomic<node*> src[2];
  node* fresh[2] = {};

  void before() {
    domain.emplace();
    for (int i = 0; i < 2; ++i) {
      src[i].store(new node(i), std::memory_order_relaxed);
      fresh[i] = new node(10 + i);
    }
  }
  void after() {
    for (auto& s : src) delete s.load(std::memory_order_relaxed);
    domain.reset();
  }

  void thread(unsigned index) {
    if (index < 2) {
      node* const old = src[index].exchange(fresh[index], std::memory_order_acq_rel);
      lf::rcu_synchronize(*domain);
      delete old;
    } else {
      std::scoped_lock lk(*domain);
      const node* const a = src[0].load(std::memory_order_acquire);
      const node* const b = src[1].load(std::memory_order_acquire);
      RL_ASSERT(*a->value.read() % 10 == 0);
      RL_ASSERT(*b->value.read() % 10 == 1);
    }
  }
};

// (c) Nested sections: the reader loads a node in the outer section, enters and leaves an
// inner one, and reads the node again in the outer one. Leaving the inner section must
// not end the outer one. The writer replaces the node twice, as in (b).
struct nested_sections : replacing_writer<nested_sections> {
  void reader() {
    std::scoped_lock outer(*domain);
    const node* const p = src.load(std::memory_order_acquire);
    const int first = *p->value.read();
    {
      std::scoped_lock inner(*domain);
      RL_ASSERT(*src.load(std::memory_order_acquire)->value.read() >= first);
    }
    RL_ASSERT(*p->value.read() == first);  // still inside the outer section
  }
};

// (d) The retire path. Every retire tries to collect: it frees the sealed batch if a
// check of the records finds its grace period over, then seals what is pending and starts
// its grace period. The writer retires node 0 (sealed) and node 1 (the check for node 0's
// batch races the reader; node 1 is sealed), calls rcu_barrier, and retires node 2 from
// inside a critical section of its own, which must neither deadlock nor free the node
// under itself. Node 2 is still in the domain when the case ends: its destructor must
// free it. The reader runs two sections.
struct retire_and_barrier : rl::test_suite<retire_and_barrier, 2> {
  std::optional<lf::rcu_domain> domain;
  lf::atomic<node*> src{nullptr};
  node* fresh[3] = {};

  void before() {
    domain.emplace();
    src.store(new node(0), std::memory_order_relaxed);
    for (int i = 0; i < 3; ++i) fresh[i] = new node(i + 1);
  }
  void after() {
    delete src.load(std::memory_order_relaxed);
    domain.reset();
  }

  void thread(unsigned index) {
    if (index == 0) {
      for (int i = 0; i < 2; ++i) src.exchange(fresh[i], std::memory_order_acq_rel)->retire({}, *domain);
      lf::rcu_barrier(*domain);
      std::scoped_lock lk(*domain);
      node* const old = src.exchange(fresh[2], std::memory_order_acq_rel);
      old->retire({}, *domain);
      RL_ASSERT(*old->value.read() == 2);  // retired inside our own section: not freed yet
    } else {
      int last = -1;
      for (int round = 0; round < 2; ++round) {
        const int v = read_once(*domain, src);
        RL_ASSERT(v >= last && v <= 3);
        last = v;
      }
    }
  }
};

// (f) Collectors in turn. Two threads each retire one node; every retire collects, so
// the first to take the collector seals its node's batch and starts its grace period,
// and the second, taking the collector after it, reads that sealed batch and its target
// and frees or keeps it. The batch lives in cells: only the collector flag's acquire (11)
// and release (12) order the second collector's reads after the first one's writes, and
// without them the read is a DATA RACE. No reader: the hand-over is the whole case.
// Context bound 1, exhaustive: the hand-over needs no preemption (each thread's retire
// runs whole, one after the other) and bound 1 adds every single interleaving of the two
// retires' steps as well.
struct collectors_in_turn : rl::test_suite<collectors_in_turn, 2> {
  std::optional<lf::rcu_domain> domain;
  node* mine[2] = {};

  void before() {
    domain.emplace();
    for (int i = 0; i < 2; ++i) mine[i] = new node(i);
  }
  void after() { domain.reset(); }  // frees what is still sealed or pending

  void thread(unsigned index) { mine[index]->retire({}, *domain); }
};

// (e) lf::treiber_stack over lf::rcu_reclaimer: the policy's guard enters a section at its
// first protect and leaves it at reset; retire defers. Thread 0 pushes 1 and 2 and pops;
// thread 1 pops twice and pushes 3 (the stack model's two-thread shape, where a node
// freed early is reused by the next push). Every value is taken exactly once.
static_assert(lf::reclaimer<lf::rcu_reclaimer>);
using rcu_stack = lf::treiber_stack<int, lf::rcu_reclaimer>;

struct treiber_over_rcu : rl::test_suite<treiber_over_rcu, 2> {
  std::optional<lf::rcu_domain> domain;
  std::optional<rcu_stack> s;
  int popped[2][2] = {};
  int count[2] = {};

  void before() {
    domain.emplace();
    s.emplace(*domain);
  }
  void after() {
    int seen[4] = {};
    for (int t = 0; t < 2; ++t) {
      for (int i = 0; i < count[t]; ++i) ++seen[popped[t][i]];
    }
    while (std::optional<int> v = s->try_pop()) ++seen[*v];
    for (int v = 1; v <= 3; ++v) RL_ASSERT(seen[v] == 1);
    s.reset();
    domain.reset();
  }

  void thread(unsigned index) {
    if (index == 0) {
      s->push(1);
      s->push(2);
      if (std::optional<int> v = s->try_pop()) popped[index][count[index]++] = *v;
    } else {
      for (int i = 0; i < 2; ++i) {
        if (std::optional<int> v = s->try_pop()) popped[index][count[index]++] = *v;
      }
      s->push(3);
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  using lf::model::search;
  return lf::model::run_cases(
      argc, argv,
      {
          LF_MODEL_CASE("reader_vs_synchronize", search::full(), reader_vs_synchronize),
          LF_MODEL_CASE("reader_enters_during_grace_period", search::bounded(3), reader_enters_during_grace_period),
          LF_MODEL_CASE("concurrent_grace_periods", search::random(200000), concurrent_grace_periods),
          LF_MODEL_CASE("nested_sections", search::bounded(3), nested_sections),
          LF_MODEL_CASE("retire_and_barrier", search::bounded(2), retire_and_barrier),
          LF_MODEL_CASE("collectors_in_turn", search::bounded(1), collectors_in_turn),
          LF_MODEL_CASE("treiber_over_rcu", search::bounded(1), treiber_over_rcu),
          LF_MODEL_CASE("treiber_over_rcu_random", search::random(100000), treiber_over_rcu),
      });
}
