// Model lane for rcu/hazard_pointer.hpp, built from the shipped header through the seam.
//
// Under the model every retire scans (lf::detail::hazard_tuning shrinks the threshold to
// one), so each explored schedule races a scan against a protect. Deleting a node is a
// write to its lf::cell (its destructor destroys the value through the cell), so a read
// of a node that no happens-before edge orders before its delete is a DATA RACE, and a
// read after the delete is ACCESS TO FREED MEMORY (the model flags keep the store that
// marks Relacy objects freed: -fno-lifetime-dse). Objects still retired when a case ends
// are freed by the domain the case owns, destroyed in after(); anything left over is a
// MEMORY LEAK verdict.
//
// Searches and why they suffice. The bugs these cases exist to catch need at most one
// preemption in the wrong place (the reader stopped between loading the pointer and
// publishing or re-validating its hazard, while the writer unlinks, retires and scans)
// plus a stale read, which Relacy explores at every load. Every case runs context bound
// 2, exhaustive within the bound: all schedules with up to two preemptions, twice what
// the bugs need. reader_vs_retire also runs 100'000 random schedules, which add
// schedules with more preemptions and the leak that only some of them leave (a node
// still protected at the writer's last scan). Measured on the 2-core dev machine
// (g++ 12, -O1): reader_vs_retire 80'552 schedules in 0.2 s; its random run 0.2 s;
// two_hazard_pointers_at_once 1'301'920 in 4.2 s; reader_vs_recycled_address 8'572 in
// 0.01 s. Each mutant in verification/mutants/hazard_pointer.cmake fails its case
// within its first 1'400 schedules.
#include <optional>

#include "rcu/hazard_pointer.hpp"
#include "sync/atomic.hpp"
#include "sync/cell.hpp"
#include "verification/model/model_driver.hpp"

namespace {

struct node : lf::hazard_pointer_obj_base<node> {
  explicit node(int v) { ::new (static_cast<void*>(value.write())) int(v); }
  ~node() { value.destroy(); }  // the delete writes the cell: a racing read is a DATA RACE
  lf::cell<int> value;
};

// (a) A writer swaps src from node 0 to 1 to 2, retiring each node it unlinks (and
// scanning, at every retire). A reader protects src twice and reads the node it got
// each time. It must never read a freed node, nor one whose delete is unordered with
// its read.
struct reader_vs_retire : rl::test_suite<reader_vs_retire, 2> {
  std::optional<lf::hazard_domain> domain;
  lf::atomic<node*> src{nullptr};
  node* nodes[3] = {};

  void before() {
    domain.emplace();
    for (int i = 0; i < 3; ++i) nodes[i] = new node(i);
    src.store(nodes[0], std::memory_order_relaxed);
  }
  void after() {
    delete src.load(std::memory_order_relaxed);  // never unlinked
    domain.reset();
  }

  void thread(unsigned index) {
    if (index == 0) {
      for (int i = 1; i < 3; ++i) {
        node* const old = src.exchange(nodes[i], std::memory_order_acq_rel);
        old->retire(*domain);
      }
    } else {
      lf::hazard_pointer hp = lf::make_hazard_pointer(*domain);
      int last = -1;
      for (int round = 0; round < 2; ++round) {
        node* const p = hp.protect(src);
        const int v = *p->value.read();
        RL_ASSERT(v >= last && v < 3);  // src only moves forward
        last = v;
        hp.reset_protection();
      }
    }
  }
};

// (b) One reader holds two hazard pointers at once (the second needs a second slot,
// pushed onto the domain's list while the writer may be scanning it) over two sources;
// the writer unlinks and retires both nodes. Both reads must stay safe.
struct two_hazard_pointers_at_once : rl::test_suite<two_hazard_pointers_at_once, 2> {
  std::optional<lf::hazard_domain> domain;
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
    if (index == 0) {
      for (int i = 0; i < 2; ++i) src[i].exchange(fresh[i], std::memory_order_acq_rel)->retire(*domain);
    } else {
      lf::hazard_pointer a = lf::make_hazard_pointer(*domain);
      lf::hazard_pointer b = lf::make_hazard_pointer(*domain);
      node* const pa = a.protect(src[0]);
      node* const pb = b.protect(src[1]);
      RL_ASSERT(*pa->value.read() % 10 == 0);
      RL_ASSERT(*pb->value.read() % 10 == 1);
    }
  }
};

// (c) The writer unlinks node A, retires it (the scan frees it at once if nobody protects
// it yet) and publishes a new node, which Relacy's allocator may place at A's freed
// address. A reader that guessed A before the unlink and validates after the publication
// finds "A" again and protects the new node: correct (it is linked), provided the reload
// (3) acquires the new node's contents rather than trusting the guess.
struct reader_vs_recycled_address : rl::test_suite<reader_vs_recycled_address, 2> {
  std::optional<lf::hazard_domain> domain;
  lf::atomic<node*> src{nullptr};

  void before() {
    domain.emplace();
    src.store(new node(1), std::memory_order_relaxed);
  }
  void after() {
    delete src.load(std::memory_order_relaxed);
    domain.reset();
  }

  void thread(unsigned index) {
    if (index == 0) {
      src.exchange(nullptr, std::memory_order_relaxed)->retire(*domain);
      src.store(new node(2), std::memory_order_release);  // publishes the new node's value
    } else {
      lf::hazard_pointer hp = lf::make_hazard_pointer(*domain);
      if (node* const p = hp.protect(src)) {
        const int v = *p->value.read();
        RL_ASSERT(v == 1 || v == 2);
      }
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  using lf::model::search;
  return lf::model::run_cases(argc, argv,
                              {
                                  LF_MODEL_CASE("reader_vs_retire", search::bounded(2), reader_vs_retire),
                                  LF_MODEL_CASE("reader_vs_retire_random", search::random(100000), reader_vs_retire),
                                  LF_MODEL_CASE("two_hazard_pointers_at_once", search::bounded(2), two_hazard_pointers_at_once),
                                  LF_MODEL_CASE("reader_vs_recycled_address", search::bounded(2), reader_vs_recycled_address),
                              });
}
