// Reclamation: what protecting a node costs, uncontended, in lf and in its peers, and what
// each of lf's reclaimers adds to one Michael–Scott queue.
//
//   reclaim_hp_protect     one thread protects an unchanging pointer, reads the object,
//                          and drops the protection: lf::hazard_pointer (made once;
//                          protect + reset_protection), libcds cds::gc::HP::Guard (made
//                          once; protect + clear), xenium's hazard_pointer guard_ptr
//                          (acquire + reset; its reset hands the hazard slot back to the
//                          thread's pool and acquire takes one again: xenium has no call
//                          that drops the protection and keeps the slot).
//   reclaim_epoch_pin      the same with epochs: lf::epoch_domain pin, acquire load,
//                          unpin; xenium's generic_epoch_based (default traits) guard_ptr
//                          acquire + reset outside any region_guard, which enters and
//                          leaves its critical region each time.
//   reclaim_ms_queue_pair  one thread, push then pop, lf::ms_queue over each lf reclaimer
//                          and over a baseline that frees at once (below): the per-
//                          operation reclamation overhead without contention, the
//                          comparison of Hart, McKenney, Demke Brown and Walpole 2007
//                          (papers/hart-2007-reclamation.md). The same queue under
//                          contention is in bench_queue.
//
// Every protect is checked: it must return the object's address, and the value read
// through it is summed and compared with what was stored. Figures: ns_per_op (one
// protect + read + drop), ns_per_pair (one push + one pop).
#include <memory>

#include "node_adapters.hpp"
#include "workloads.hpp"
#include "rcu/epoch.hpp"
#include "rcu/hazard_pointer.hpp"
#include "sync/atomic.hpp"

namespace lf_bench {
namespace {

constexpr std::uint64_t protects = 10'000'000;
constexpr std::uint64_t pairs = 10'000'000;

// What every protect reaches: a value the loop sums.
constexpr item payload = 7;

// ---- protect cost ------------------------------------------------------------------

// An adapter P offers `name`, `const item* protect()` (protects the object and returns
// the address of its value, or null if protect returned another address) and
// `void drop()` (ends the protection).
template <class P>
void protect_cost(benchmark::State& state, std::uint64_t ops) {
  for (auto _ : state) {
    const auto p = std::make_unique<P>();
    std::uint64_t reached = 0, sum = 0;
    const clock::time_point start = clock::now();
    for (std::uint64_t i = 0; i != ops; ++i) {
      if (const item* v = p->protect()) {
        ++reached;
        sum += *v;
      }
      p->drop();
    }
    const double seconds = std::chrono::duration<double>(clock::now() - start).count();
    if (reached != ops || sum != ops * payload) {
      state.SkipWithError(("protect reached the object " + std::to_string(reached) + " times of " +
                           std::to_string(ops) + ", read sum " + std::to_string(sum))
                              .c_str());
      break;
    }
    state.SetIterationTime(seconds);
    state.counters["ns_per_op"] = seconds * 1e9 / static_cast<double>(ops);
  }
}

struct lf_hazard_pointer_protect {
  static constexpr const char* name = "lf::hazard_pointer";
  struct object {
    item value = payload;
  };
  lf::hazard_domain domain;
  object target;
  lf::atomic<object*> src{&target};
  lf::hazard_pointer hp = lf::make_hazard_pointer(domain);  // after the domain: destroyed first

  const item* protect() {
    object* const o = hp.protect(src);
    return o == &target ? &o->value : nullptr;
  }
  void drop() { hp.reset_protection(); }
};

// libcds' guards need its runtime and an attached thread: the base attaches before the
// guard is built (node_adapters.hpp).
struct cds_hp_guard_protect : private cds_attached {
  static constexpr const char* name = "cds::gc::HP::Guard";
  struct object {
    item value = payload;
  };
  object target;
  lf::atomic<object*> src{&target};  // outside the model, lf::atomic is the standard atomic libcds takes
  cds::gc::HP::Guard guard;

  const item* protect() {
    object* const o = guard.protect(src);
    return o == &target ? &o->value : nullptr;
  }
  void drop() { guard.clear(); }
};

// xenium's schemes guard objects that derive from their enable_concurrent_ptr and are
// reached through their concurrent_ptr. The object is never retired.
template <class Reclaimer>
struct xenium_protect {
  struct object : Reclaimer::template enable_concurrent_ptr<object> {
    item value = payload;
  };
  using pointer = typename Reclaimer::template concurrent_ptr<object>;
  object target;
  pointer src;
  typename pointer::guard_ptr guard;

  xenium_protect() { src.store(&target, std::memory_order_relaxed); }  // relaxed: read by this thread only
  const item* protect() {
    // acquire, as xenium's own containers ask (its default is seq_cst).
    guard.acquire(src, std::memory_order_acquire);
    return guard.get() == &target ? &guard->value : nullptr;
  }
  void drop() { guard.reset(); }
};
struct xenium_hp_protect : xenium_protect<xenium::reclamation::hazard_pointer<>> {
  static constexpr const char* name = "xenium::hazard_pointer";
};
struct xenium_epoch_protect : xenium_protect<xenium::reclamation::generic_epoch_based<>> {
  static constexpr const char* name = "xenium::generic_epoch_based";
};

struct lf_epoch_pin {
  static constexpr const char* name = "lf::epoch_domain";
  struct object {
    item value = payload;
  };
  lf::epoch_domain domain;
  object target;
  lf::atomic<object*> src{&target};
  lf::epoch_guard pin;

  const item* protect() {
    pin = domain.pin();
    // acquire: as epoch_reclaimer's protect (rcu/epoch_reclaimer.hpp), pairing with the
    // release that would publish the object.
    object* const o = src.load(std::memory_order_acquire);
    return o == &target ? &o->value : nullptr;
  }
  void drop() { pin.unpin(); }
};

// ---- the MS queue over each reclaimer --------------------------------------------

// Not a reclaimer for concurrent use: retire deletes the node at once. With a single
// thread nobody else can hold a retired node, so lf::ms_queue over it costs what the
// queue costs with no reclamation scheme at all (new and delete only): the floor the
// reclaimers' overheads are measured from. (Hart et al. 2007 used a leaking queue; a
// leak of ten million nodes would measure the allocator's growth instead.)
struct free_at_once_reclaimer {
  struct domain {
    std::size_t unreclaimed() const noexcept { return 0; }
  };
  static domain& default_domain() {
    static domain d;
    return d;
  }
  template <class Node>
  struct node_base {};
  class guard {
   public:
    explicit guard(domain& /*d*/) noexcept {}
    template <class Node>
    Node* protect(const lf::atomic<Node*>& src) noexcept {
      // acquire: what every reclaimer's protect gives (rcu/reclaimer.hpp), pairing with
      // the queue's publishing release.
      return src.load(std::memory_order_acquire);
    }
    void reset() noexcept {}
  };
  template <class Node>
  static void retire(domain& /*d*/, Node* node) noexcept {
    delete node;
  }
};
static_assert(lf::reclaimer<free_at_once_reclaimer>);

struct ms_queue_free_at_once : lf_unbounded<lf::ms_queue<item, free_at_once_reclaimer>> {
  static constexpr const char* name = "baseline::ms_queue<free_at_once>";
  using lf_unbounded::lf_unbounded;
};

void add_reclaim_benchmarks() {
  add<lf_hazard_pointer_protect>("reclaim_hp_protect", protect_cost<lf_hazard_pointer_protect>, count(protects));
  add<cds_hp_guard_protect>("reclaim_hp_protect", protect_cost<cds_hp_guard_protect>, count(protects));
  add<xenium_hp_protect>("reclaim_hp_protect", protect_cost<xenium_hp_protect>, count(protects));
  add<lf_epoch_pin>("reclaim_epoch_pin", protect_cost<lf_epoch_pin>, count(protects));
  add<xenium_epoch_protect>("reclaim_epoch_pin", protect_cost<xenium_epoch_protect>, count(protects));
  add<lf_ms_queue_hp>("reclaim_ms_queue_pair", push_pop_pair<lf_ms_queue_hp>, count(pairs));
  add<lf_ms_queue_epoch>("reclaim_ms_queue_pair", push_pop_pair<lf_ms_queue_epoch>, count(pairs));
  add<lf_ms_queue_rcu>("reclaim_ms_queue_pair", push_pop_pair<lf_ms_queue_rcu>, count(pairs));
  add<ms_queue_free_at_once>("reclaim_ms_queue_pair", push_pop_pair<ms_queue_free_at_once>, count(pairs));
  describe<lf_ms_queue_hp, lf_ms_queue_epoch, lf_ms_queue_rcu, ms_queue_free_at_once>(LF_BENCH_BUILD_FLAGS);
}

}  // namespace
}  // namespace lf_bench

int main(int argc, char** argv) {
  lf_bench::add_reclaim_benchmarks();
  return lf_bench::run_benchmarks(argc, argv);
}
