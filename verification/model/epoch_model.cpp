// Model lane for rcu/epoch.hpp and rcu/epoch_reclaimer.hpp, built from the shipped
// headers through the seam.
//
// Under the model every retire flushes (lf::detail::epoch_tuning shrinks flush_every to
// one): it seals the object, tries to advance the epoch and frees what is two epochs
// old, so each explored schedule races an advance against a pin. Deleting a node is a
// write to its lf::cell (its destructor destroys the value through the cell), so a read
// of a node that no happens-before edge orders before its delete is a DATA RACE, and a
// read after the delete is ACCESS TO FREED MEMORY (the model flags keep the store that
// marks Relacy objects freed: -fno-lifetime-dse). Objects still retired when a case ends
// are freed by the domain the case owns, destroyed in after(); anything left over is a
// MEMORY LEAK verdict, and each case checks unreclaimed() against its own count of
// deletes first (exact once the threads are done).
//
// Searches and why they suffice. Times are for the epoch_model binary of the dev preset
// (g++ 12, -O1) on the shared 2-core dev machine, where they varied by up to 2x with
// the load of other jobs.
// - reader_vs_retire: two threads, context bound 2, exhaustive within the bound (316'056
//   schedules, 1.2-2.7 s). The bugs it exists to catch need one preemption in the wrong
//   place (the reader stopped between its pin and its read of the node, or between the
//   read and its unpin, while the writer unlinks, retires and drives the epoch forward)
//   plus a stale load, which Relacy explores at every load without a preemption (bound 1
//   kills each of its mutants, within 2'700 schedules). Bound 2 is twice that.
// - pin_vs_advance: three threads, so that the advance that races the reader's pin is
//   not the writer's own. (When the writer advances right after it seals, the seal's
//   fence already orders its scan; the mutants of the advance's fence and CAS survive a
//   two-thread case for that reason.) Context bound 2, exhaustive (3'140'728 schedules,
//   19-28 s); it finds each of the three mutants run against this case, at schedules
//   346'189 to 879'089. pin_vs_advance_random runs the same case over 300'000 random
//   schedules (1.4-2.8 s), which include more preemptions; it finds those mutants within
//   its first 300 schedules, so the mutant lane runs it.
// - two_retirers: two threads that each pin, read, replace and retire, then collect: each
//   is the other's reader and reclaimer. Context bound 2 (300'248 schedules, 1.2-2.6 s):
//   the mutant it exists for (the flush's acquire (11) relaxed) needs two preemptions
//   here; bound 1 misses it.
// - seal_frees_an_old_bag: two threads; the free it exists for (a seal's reuse of a bag
//   slot, after the reader itself advanced the epoch past the bag) needs two preemptions
//   (the reader stopped after its read, the writer after its first flush). Context bound
//   2, exhaustive (215'464 schedules, 2.6 s); the mutant of the seal's load (10) is found
//   at schedule 156'409, and bound 1 misses it.
// - treiber_over_epochs: lf::treiber_stack over lf::epoch_reclaimer, the shape of
//   treiber_stack_model's push_pop_two_threads, whose early-free and ABA schedules need one
//   preemption: context bound 1, exhaustive (50'272 schedules, under 0.5 s), and 200'000
//   random schedules (1.0-2.0 s) for more preemptions.
// Relacy models C++11 release sequences, which run on through later plain stores of the
// same thread: a relaxed announcement (2) is therefore invisible to it, and the release
// that C++20 needs there is argued in rcu/epoch.hpp and checked by the litmus lane
// (verification/litmus/release_orders_litmus.cpp, epoch_pin_announcement).
#include <optional>

#include "lockfree/treiber_stack.hpp"
#include "rcu/epoch.hpp"
#include "rcu/epoch_reclaimer.hpp"
#include "rcu/reclaimer.hpp"
#include "sync/atomic.hpp"
#include "sync/cell.hpp"
#include "verification/model/model_driver.hpp"

namespace {

static_assert(lf::reclaimer<lf::epoch_reclaimer>);

// Deletes in the current schedule (plain: Relacy runs its threads as fibers of one OS
// thread, and the counter is not part of what is checked for races).
int deleted = 0;

struct node : lf::epoch_obj_base<node> {
  explicit node(int v) { ::new (static_cast<void*>(value.write())) int(v); }
  ~node() {
    value.destroy();  // the delete writes the cell: a racing read is a DATA RACE
    ++deleted;
  }
  lf::cell<int> value;
};

// (a) A writer swaps src from node 0 to 1 to 2, retiring each node it unlinks (and
// flushing, at every retire), then collects twice more to push the epoch on. A reader
// pins, reads the node src holds, unpins, twice. It must never read a freed node, nor one
// whose delete is unordered with its read.
struct reader_vs_retire : rl::test_suite<reader_vs_retire, 2> {
  std::optional<lf::epoch_domain> domain;
  lf::atomic<node*> src{nullptr};
  node* nodes[3] = {};

  void before() {
    deleted = 0;
    domain.emplace();
    for (int i = 0; i < 3; ++i) nodes[i] = new node(i);
    src.store(nodes[0], std::memory_order_relaxed);
  }
  void after() {
    RL_ASSERT(domain->unreclaimed() == static_cast<std::size_t>(2 - deleted));
    delete src.load(std::memory_order_relaxed);  // never unlinked
    domain.reset();
  }

  void thread(unsigned index) {
    if (index == 0) {
      for (int i = 1; i < 3; ++i) {
        node* const old = src.exchange(nodes[i], std::memory_order_acq_rel);
        old->retire(*domain);
      }
      domain->collect();
      domain->collect();
    } else {
      int last = -1;
      for (int round = 0; round < 2; ++round) {
        lf::epoch_guard g = domain->pin();
        node* const p = src.load(std::memory_order_acquire);
        const int v = *p->value.read();
        RL_ASSERT(v >= last && v < 3);  // src only moves forward
        last = v;
      }
    }
  }
};

// (b) The store-load race of the pin against an advance. Thread 2 advances the epoch
// while thread 1 pins and reads and thread 0 unlinks, retires and collects. A reader that
// loaded the epoch before an advance announces an older epoch; a writer that seals with
// an epoch older than the reader's announcement, or an advance that misses the
// announcement, frees the node under the reader.
struct pin_vs_advance : rl::test_suite<pin_vs_advance, 3> {
  std::optional<lf::epoch_domain> domain;
  lf::atomic<node*> src{nullptr};
  node* fresh = nullptr;

  void before() {
    deleted = 0;
    domain.emplace();
    src.store(new node(1), std::memory_order_relaxed);
    fresh = new node(2);
  }
  void after() {
    RL_ASSERT(domain->unreclaimed() == static_cast<std::size_t>(1 - deleted));
    delete src.load(std::memory_order_relaxed);
    domain.reset();
  }

  void thread(unsigned index) {
    if (index == 0) {
      src.exchange(fresh, std::memory_order_acq_rel)->retire(*domain);
      domain->collect();
      domain->collect();
    } else if (index == 1) {
      lf::epoch_guard g = domain->pin();
      const int v = *src.load(std::memory_order_acquire)->value.read();
      RL_ASSERT(v == 1 || v == 2);
    } else {
      domain->try_advance();
      domain->try_advance();
    }
  }
};

// (c) Two threads each pin, read the node src holds, replace it with a new one, unpin,
// retire what they unlinked and collect: each is the other's reader and reclaimer.
struct two_retirers : rl::test_suite<two_retirers, 2> {
  std::optional<lf::epoch_domain> domain;
  lf::atomic<node*> src{nullptr};

  void before() {
    deleted = 0;
    domain.emplace();
    src.store(new node(0), std::memory_order_relaxed);
  }
  void after() {
    RL_ASSERT(domain->unreclaimed() == static_cast<std::size_t>(2 - deleted));
    delete src.load(std::memory_order_relaxed);
    domain.reset();
  }

  void thread(unsigned index) {
    node* const mine = new node(10 + static_cast<int>(index));  // published by the exchange
    node* old;
    {
      lf::epoch_guard g = domain->pin();
      const int v = *src.load(std::memory_order_acquire)->value.read();
      RL_ASSERT(v == 0 || v == 10 || v == 11);
      old = src.exchange(mine, std::memory_order_acq_rel);
      RL_ASSERT(*old->value.read() < 12);  // the node we unlinked is still ours to read
    }
    old->retire(*domain);
    domain->collect();
  }
};

// (e) A seal that frees an old bag. The writer retires node 0, then node 1; each retire
// flushes, and the second one's seal reuses the slot of the first one's bag, freeing it
// once the epoch read at (10) is two past that bag's. The reader reads node 0 in one pin
// and then drives the epoch on itself (collect advances it), so the only path from its
// read to that free is its own advance (8), which the seal must acquire at (10): the
// fence (9) comes before the load and makes nothing acquire. A relaxed (10) frees node 0
// with no edge from the read: a DATA RACE on its cell.
struct seal_frees_an_old_bag : rl::test_suite<seal_frees_an_old_bag, 2> {
  std::optional<lf::epoch_domain> domain;
  lf::atomic<node*> src{nullptr};
  node* fresh[2] = {};

  void before() {
    deleted = 0;
    domain.emplace();
    src.store(new node(0), std::memory_order_relaxed);
    for (int i = 0; i < 2; ++i) fresh[i] = new node(i + 1);
  }
  void after() {
    RL_ASSERT(domain->unreclaimed() == static_cast<std::size_t>(2 - deleted));
    delete src.load(std::memory_order_relaxed);
    domain.reset();
  }

  void thread(unsigned index) {
    if (index == 0) {
      for (int i = 0; i < 2; ++i) src.exchange(fresh[i], std::memory_order_acq_rel)->retire(*domain);
    } else {
      {
        lf::epoch_guard g = domain->pin();
        const int v = *src.load(std::memory_order_acquire)->value.read();
        RL_ASSERT(v >= 0 && v < 3);
      }
      domain->collect();
      domain->collect();
    }
  }
};

// (d) lf::treiber_stack over the epoch reclaimer (its guard pins at the first protect and
// unpins at reset, before the retire). Thread 0 pushes 1 and 2 and pops; thread 1 pops
// twice and pushes 3: the cross-thread hand-off and the two-thread ABA shape of
// treiber_stack_model. Every value is taken exactly once.
using stack = lf::treiber_stack<int, lf::epoch_reclaimer>;

struct treiber_over_epochs : rl::test_suite<treiber_over_epochs, 2> {
  std::optional<lf::epoch_domain> domain;
  std::optional<stack> s;
  int popped[2][2] = {};
  int count[2] = {};

  void before() {
    domain.emplace();
    s.emplace(*domain);
    count[0] = count[1] = 0;
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

  void record(unsigned t, std::optional<int> v) {
    if (v) popped[t][count[t]++] = *v;
  }

  void thread(unsigned index) {
    if (index == 0) {
      s->push(1);
      s->push(2);
      record(index, s->try_pop());
    } else {
      record(index, s->try_pop());
      record(index, s->try_pop());
      s->push(3);
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  using lf::model::search;
  return lf::model::run_cases(argc, argv,
                              {
                                  LF_MODEL_CASE("reader_vs_retire", search::bounded(2), reader_vs_retire),
                                  LF_MODEL_CASE("pin_vs_advance", search::bounded(2), pin_vs_advance),
                                  LF_MODEL_CASE("pin_vs_advance_random", search::random(300000), pin_vs_advance),
                                  LF_MODEL_CASE("two_retirers", search::bounded(2), two_retirers),
                                  LF_MODEL_CASE("seal_frees_an_old_bag", search::bounded(2), seal_frees_an_old_bag),
                                  LF_MODEL_CASE("treiber_over_epochs", search::bounded(1), treiber_over_epochs),
                                  LF_MODEL_CASE("treiber_over_epochs_random", search::random(200000), treiber_over_epochs),
                              });
}
