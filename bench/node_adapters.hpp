// lf benchmarks — adapters of the unbounded, node-based containers (stacks and queues that
// allocate per item), in the shape of adapters.hpp: `explicit Q(std::size_t capacity)`,
// `bool try_push(item)`, `bool try_pop(item&)`, `name`, `capacity()`.
//
// These containers have no capacity: the constructor takes the workload's capacity and
// ignores it (boost::lockfree::stack and the mutex stack take it as a reservation hint,
// which each says), and capacity() reports 0, printed as such in the report. Their
// try_push always succeeds.
//
// As in adapters.hpp, each adapter calls the peer's own single-element operation, built
// the way its documentation says, and nothing else, except for the set-up a peer demands
// that the others do not (libcds' thread attach), which is named where it is done.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <atomic>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <vector>

#include <boost/lockfree/stack.hpp>
#include <cds/container/basket_queue.h>
#include <cds/container/msqueue.h>
#include <cds/container/segmented_queue.h>
#include <cds/container/treiber_stack.h>
#include <cds/gc/dhp.h>
#include <cds/gc/hp.h>
#include <cds/init.h>
#include <cds/threading/model.h>
#include <concurrentqueue/concurrentqueue.h>
#include <tbb/concurrent_queue.h>
#include <xenium/michael_scott_queue.hpp>
#include <xenium/policy.hpp>
#include <xenium/ramalhete_queue.hpp>
#include <xenium/reclamation/generic_epoch_based.hpp>
#include <xenium/reclamation/hazard_pointer.hpp>

// liburcu's wait-free queue in its inline (_LGPL_SOURCE) form, which liburcu recommends
// where speed matters (lf is header-only and inlined too); the macro is scoped to that
// header. Its lock-free stack cannot take that form in C++ (liburcu 0.13's inline pop
// passes a plain pointer where C++ needs its union type), so the stack calls the library.
#include <urcu/lfstack.h>
#if !defined(_LGPL_SOURCE)
#define _LGPL_SOURCE
#define LF_BENCH_UNDEF_LGPL_SOURCE
#endif
#include <urcu/wfcqueue.h>
#if defined(LF_BENCH_UNDEF_LGPL_SOURCE)
#undef _LGPL_SOURCE
#undef LF_BENCH_UNDEF_LGPL_SOURCE
#endif

#include "adapters.hpp"
#include "lockfree/elimination_stack.hpp"
#include "lockfree/lcrq.hpp"
#include "lockfree/lprq.hpp"
#include "lockfree/ms_queue.hpp"
#include "lockfree/treiber_stack.hpp"
#include "rcu/epoch_reclaimer.hpp"
#include "rcu/hazard_pointer_reclaimer.hpp"
#include "rcu/rcu_reclaimer.hpp"

namespace lf_bench {

// ---- lf ----------------------------------------------------------------------------

// Any lf container with try_push(T) and std::optional<T> try_pop(), on its reclaimer's
// default domain (as a user who names no domain gets).
template <class C>
struct lf_unbounded {
  explicit lf_unbounded(std::size_t /*capacity: unbounded*/) {}
  bool try_push(item v) { return c.try_push(v); }
  bool try_pop(item& out) { return pop_into(c, out); }
  static constexpr std::size_t capacity() { return 0; }
  C c;
};

// Short reclaimer names for the benchmark names.
struct lf_treiber_hp : lf_unbounded<lf::treiber_stack<item, lf::hazard_pointer_reclaimer>> {
  static constexpr const char* name = "lf::treiber_stack<hazard_pointer>";
  using lf_unbounded::lf_unbounded;
};
struct lf_treiber_epoch : lf_unbounded<lf::treiber_stack<item, lf::epoch_reclaimer>> {
  static constexpr const char* name = "lf::treiber_stack<epoch>";
  using lf_unbounded::lf_unbounded;
};
struct lf_treiber_rcu : lf_unbounded<lf::treiber_stack<item, lf::rcu_reclaimer>> {
  static constexpr const char* name = "lf::treiber_stack<rcu>";
  using lf_unbounded::lf_unbounded;
};
struct lf_elimination_hp : lf_unbounded<lf::elimination_stack<item, lf::hazard_pointer_reclaimer>> {
  static constexpr const char* name = "lf::elimination_stack<hazard_pointer>";
  using lf_unbounded::lf_unbounded;
};
struct lf_ms_queue_hp : lf_unbounded<lf::ms_queue<item, lf::hazard_pointer_reclaimer>> {
  static constexpr const char* name = "lf::ms_queue<hazard_pointer>";
  using lf_unbounded::lf_unbounded;
};
struct lf_ms_queue_epoch : lf_unbounded<lf::ms_queue<item, lf::epoch_reclaimer>> {
  static constexpr const char* name = "lf::ms_queue<epoch>";
  using lf_unbounded::lf_unbounded;
};
struct lf_ms_queue_rcu : lf_unbounded<lf::ms_queue<item, lf::rcu_reclaimer>> {
  static constexpr const char* name = "lf::ms_queue<rcu>";
  using lf_unbounded::lf_unbounded;
};

// LCRQ (fetch-and-add rings, 16-byte CAS), default ring of 1024 cells.
struct lf_lcrq_hp : lf_unbounded<lf::lcrq<item, lf::hazard_pointer_reclaimer>> {
  static constexpr const char* name = "lf::lcrq<hazard_pointer>";
  using lf_unbounded::lf_unbounded;
};
struct lf_lcrq_epoch : lf_unbounded<lf::lcrq<item, lf::epoch_reclaimer>> {
  static constexpr const char* name = "lf::lcrq<epoch>";
  using lf_unbounded::lf_unbounded;
};

// LPRQ (fetch-and-add rings, single-word CAS), default ring of 1024 cells. Its 8-byte items
// travel boxed (one allocation per item: the value word keeps a byte for its markers).
struct lf_lprq_hp : lf_unbounded<lf::lprq<item, lf::hazard_pointer_reclaimer>> {
  static constexpr const char* name = "lf::lprq<hazard_pointer>";
  using lf_unbounded::lf_unbounded;
};

// A queue of 32-bit values carrying the workloads' items, which are counters far below
// 2^32 (checked: a larger one throws, and the workload reports the failure). For the
// queues that carry only values narrower than a word in place: lprq (7 bytes) and xenium's
// ramalhete_queue (narrower than a pointer).
template <class C>
struct narrowed {
  bool try_push(item v) {
    if (v > UINT32_MAX) throw std::out_of_range("narrowed: item above 2^32");
    return static_cast<C*>(this)->push(static_cast<std::uint32_t>(v));
  }
  bool try_pop(item& out) {
    std::uint32_t v = 0;
    if (!static_cast<C*>(this)->pop(v)) return false;
    out = v;
    return true;
  }
  static constexpr std::size_t capacity() { return 0; }
};
struct lf_lprq_u32_hp final : narrowed<lf_lprq_u32_hp> {
  static constexpr const char* name = "lf::lprq<hazard_pointer,uint32>";
  explicit lf_lprq_u32_hp(std::size_t /*capacity: unbounded*/) {}
  bool push(std::uint32_t v) { return q.try_push(v); }
  bool pop(std::uint32_t& v) {
    std::optional<std::uint32_t> r = q.try_pop();
    if (r) v = *r;
    return r.has_value();
  }
  lf::lprq<std::uint32_t, lf::hazard_pointer_reclaimer> q;
};

// ---- libcds ------------------------------------------------------------------------

// libcds' garbage collectors are process-wide singletons that must exist, after
// cds::Initialize(), before any container that uses them runs; this one lives from the
// first libcds adapter to the end of the process. Defaults: 8 hazard pointers per thread,
// up to 100 attached threads.
struct cds_runtime {
  cds_runtime() { cds::Initialize(); }
  ~cds_runtime() { cds::Terminate(); }
  cds_runtime(const cds_runtime&) = delete;
  cds_runtime& operator=(const cds_runtime&) = delete;
};
struct cds_collectors {
  cds_runtime runtime;  // first in, last out
  cds::gc::HP hp;
  cds::gc::DHP dhp;
};
inline void cds_start() { static cds_collectors collectors; }

// libcds demands that every thread calling a container over HP or DHP be attached first
// (cds::threading::Manager::attachThread) and detached before it ends. The workloads know
// nothing of libcds, so the adapters attach lazily: each call first touches a
// thread_local whose constructor attaches the thread and whose destructor, at thread
// exit, detaches it. After the first call that costs a check of the thread_local's guard
// per operation; the containers' own work is unchanged.
struct cds_thread_attachment {
  cds_thread_attachment() {
    if (!cds::threading::Manager::isThreadAttached()) {
      cds::threading::Manager::attachThread();
      attached = true;
    }
  }
  ~cds_thread_attachment() {
    if (attached) cds::threading::Manager::detachThread();
  }
  cds_thread_attachment(const cds_thread_attachment&) = delete;
  cds_thread_attachment& operator=(const cds_thread_attachment&) = delete;
  bool attached = false;
};
inline void cds_attach_this_thread() {
  cds_start();
  thread_local cds_thread_attachment attachment;
}

// Attaches the thread that builds a container before the container is built (a base is
// constructed before the members). The same thread destroys it, still attached: the
// destructors pop what is left, through guards.
struct cds_attached {
  cds_attached() { cds_attach_this_thread(); }
};

template <class C>
struct cds_gc_container : private cds_attached {
  // `args`: what the container's own constructor takes (the segmented queue's width).
  template <class... A>
  explicit cds_gc_container(std::size_t /*capacity: unbounded*/, A... args) : c(args...) {}
  bool try_push(item v) {
    cds_attach_this_thread();
    return c.push(v);
  }
  bool try_pop(item& out) {
    cds_attach_this_thread();
    return c.pop(out);
  }
  static constexpr std::size_t capacity() { return 0; }
  C c;
};

// Treiber's stack over libcds' hazard pointers; default traits (no elimination, no
// back-off).
struct cds_treiber_stack_hp : cds_gc_container<cds::container::TreiberStack<cds::gc::HP, item>> {
  static constexpr const char* name = "cds::TreiberStack<HP>";
  using cds_gc_container::cds_gc_container;
};
// Michael–Scott over libcds' hazard pointers (HP: fixed slots per thread) and its dynamic
// hazard pointers (DHP: slots grow on demand); default traits.
struct cds_ms_queue_hp : cds_gc_container<cds::container::MSQueue<cds::gc::HP, item>> {
  static constexpr const char* name = "cds::MSQueue<HP>";
  using cds_gc_container::cds_gc_container;
};
struct cds_ms_queue_dhp : cds_gc_container<cds::container::MSQueue<cds::gc::DHP, item>> {
  static constexpr const char* name = "cds::MSQueue<DHP>";
  using cds_gc_container::cds_gc_container;
};
// libcds' basket queue (Hoffman, Shalev & Shavit 2007) and segmented queue (Afek, Korland &
// Yanovsky 2010, relaxed FIFO: an item may come out up to a segment's width early) over
// its hazard pointers, default traits; the segmented queue's quasi factor (segment width)
// is 16, the value its documentation's examples use.
struct cds_basket_queue_hp : cds_gc_container<cds::container::BasketQueue<cds::gc::HP, item>> {
  static constexpr const char* name = "cds::BasketQueue<HP>";
  using cds_gc_container::cds_gc_container;
};
struct cds_segmented_queue_hp : cds_gc_container<cds::container::SegmentedQueue<cds::gc::HP, item>> {
  static constexpr const char* name = "cds::SegmentedQueue<HP>";
  explicit cds_segmented_queue_hp(std::size_t capacity) : cds_gc_container(capacity, std::size_t{16}) {}
};

// ---- xenium ------------------------------------------------------------------------

// xenium's Michael–Scott queue over its hazard pointers (default traits: a static
// allocation of 3 hazard pointers per thread) and over its generic epoch-based scheme
// (default traits: new-epoch-based, Hart et al. 2007, with eager region extension, a scan
// every 100 critical-region entries over all threads). Threads register lazily with
// xenium itself (thread_local records), so nothing else is needed. No back-off (the
// default).
template <class Reclaimer>
struct xenium_ms_queue {
  explicit xenium_ms_queue(std::size_t /*capacity: unbounded*/) {}
  bool try_push(item v) {
    q.push(v);
    return true;
  }
  bool try_pop(item& out) { return q.try_pop(out); }
  static constexpr std::size_t capacity() { return 0; }
  xenium::michael_scott_queue<item, xenium::policy::reclaimer<Reclaimer>> q;
};
struct xenium_ms_queue_hp : xenium_ms_queue<xenium::reclamation::hazard_pointer<>> {
  static constexpr const char* name = "xenium::michael_scott_queue<hazard_pointer>";
  using xenium_ms_queue::xenium_ms_queue;
};
struct xenium_ms_queue_epoch : xenium_ms_queue<xenium::reclamation::generic_epoch_based<>> {
  static constexpr const char* name = "xenium::michael_scott_queue<generic_epoch_based>";
  using xenium_ms_queue::xenium_ms_queue;
};
// xenium's ramalhete_queue (Ramalhete & Correia's FAAArrayQueue: fetch-and-add on arrays
// of 512 entries linked Michael–Scott style) over its hazard pointers; it carries values
// narrower than a pointer in place, so the items travel as 32 bits (narrowed, above).
struct xenium_ramalhete_hp final : narrowed<xenium_ramalhete_hp> {
  static constexpr const char* name = "xenium::ramalhete_queue<hazard_pointer,uint32>";
  explicit xenium_ramalhete_hp(std::size_t /*capacity: unbounded*/) {}
  bool push(std::uint32_t v) {
    q.push(v);
    return true;
  }
  bool pop(std::uint32_t& v) { return q.try_pop(v); }
  xenium::ramalhete_queue<std::uint32_t, xenium::policy::reclaimer<xenium::reclamation::hazard_pointer<>>> q;
};

// ---- Boost.Lockfree ----------------------------------------------------------------

// Its default form: nodes come from a free list that starts with `capacity` nodes (the
// hint) and grows when push finds it empty (plain `push`, not `bounded_push`). Popped
// nodes go back to the free list, never to the allocator; tagged pointers stop ABA.
struct boost_stack {
  static constexpr const char* name = "boost::lockfree::stack";
  explicit boost_stack(std::size_t capacity_hint) : s(capacity_hint) {}
  bool try_push(item v) { return s.push(v); }
  bool try_pop(item& out) { return s.pop(out); }
  static constexpr std::size_t capacity() { return 0; }
  boost::lockfree::stack<item> s;
};

// ---- liburcu -----------------------------------------------------------------------

// liburcu's lock-free stack. Push is lock-free (one CAS loop); pop is
// cds_lfs_pop_blocking, liburcu's blocking pop: it takes the stack's internal mutex, which
// is what lets a popped node be freed at once (no other popper can be reading it), so the
// adapter deletes it right after the pop. (The lock-free __cds_lfs_pop needs RCU or
// another scheme around it, left to the caller.)
struct urcu_lfstack {
  static constexpr const char* name = "urcu::lfstack";
  struct node {
    cds_lfs_node link;
    item value;
  };
  explicit urcu_lfstack(std::size_t /*capacity: unbounded*/) { cds_lfs_init(&s); }
  ~urcu_lfstack() {
    item v;
    while (try_pop(v)) {
    }
    cds_lfs_destroy(&s);
  }
  urcu_lfstack(const urcu_lfstack&) = delete;
  urcu_lfstack& operator=(const urcu_lfstack&) = delete;
  bool try_push(item v) {
    node* const n = new node;
    cds_lfs_node_init(&n->link);
    n->value = v;
    cds_lfs_stack_ptr_t stack;  // C++ has no transparent unions: name the member
    stack.s = &s;
    cds_lfs_push(stack, &n->link);
    return true;
  }
  bool try_pop(item& out) {
    cds_lfs_node* const link = cds_lfs_pop_blocking(&s);
    if (link == nullptr) return false;
    node* const n = caa_container_of(link, node, link);
    out = n->value;
    delete n;
    return true;
  }
  static constexpr std::size_t capacity() { return 0; }
  cds_lfs_stack s;
};

// liburcu's wait-free concurrent queue: enqueue is wait-free (one exchange and a store);
// cds_wfcq_dequeue_blocking takes the queue's internal dequeue mutex and may wait for an
// enqueuer between its two steps. A dequeued node is no longer touched by enqueuers or
// other dequeuers, so the adapter deletes it at once.
struct urcu_wfcqueue {
  static constexpr const char* name = "urcu::wfcqueue";
  struct node {
    cds_wfcq_node link;
    item value;
  };
  explicit urcu_wfcqueue(std::size_t /*capacity: unbounded*/) { cds_wfcq_init(&head, &tail); }
  ~urcu_wfcqueue() {
    item v;
    while (try_pop(v)) {
    }
    cds_wfcq_destroy(&head, &tail);
  }
  urcu_wfcqueue(const urcu_wfcqueue&) = delete;
  urcu_wfcqueue& operator=(const urcu_wfcqueue&) = delete;
  bool try_push(item v) {
    node* const n = new node;
    cds_wfcq_node_init(&n->link);
    n->value = v;
    cds_wfcq_enqueue(cds_wfcq_head_cast(&head), &tail, &n->link);
    return true;
  }
  bool try_pop(item& out) {
    cds_wfcq_node* const link = cds_wfcq_dequeue_blocking(&head, &tail);
    if (link == nullptr) return false;
    node* const n = caa_container_of(link, node, link);
    out = n->value;
    delete n;
    return true;
  }
  static constexpr std::size_t capacity() { return 0; }
  // Head and tail on lines of their own, as liburcu's own tests lay them out.
  alignas(lf::cache_line) cds_wfcq_head head;
  alignas(lf::cache_line) cds_wfcq_tail tail;
};

// ---- moodycamel --------------------------------------------------------------------

// ConcurrentQueue through its token-less calls (enqueue, try_dequeue): each thread gets an
// implicit producer queue on its first enqueue; enqueue allocates blocks as needed. FIFO
// per producer only, not across producers (its documented semantics). Default
// construction (no pre-allocation): the capacity is ignored as for the other unbounded
// queues.
struct moodycamel_queue {
  static constexpr const char* name = "moodycamel::ConcurrentQueue";
  explicit moodycamel_queue(std::size_t /*capacity: unbounded*/) {}
  bool try_push(item v) { return q.enqueue(v); }
  bool try_pop(item& out) { return q.try_dequeue(out); }
  static constexpr std::size_t capacity() { return 0; }
  moodycamel::ConcurrentQueue<item> q;
};

// ConcurrentQueue through its token calls (enqueue(ProducerToken&, v), try_dequeue(
// ConsumerToken&, v)), as its documentation recommends for speed: each thread makes one
// token of each kind per queue on its first call and keeps it. Tokens live in the
// adapter (destroyed before the queue); a thread finds its slot through a thread_local
// that names the adapter by a serial number, not an address that a later adapter reuses.
struct moodycamel_queue_tokens {
  static constexpr const char* name = "moodycamel::ConcurrentQueue(tokens)";
  static constexpr std::size_t max_threads = 64;
  explicit moodycamel_queue_tokens(std::size_t /*capacity: unbounded*/) {}
  bool try_push(item v) { return q.enqueue(*mine().producer, v); }
  bool try_pop(item& out) { return q.try_dequeue(*mine().consumer, out); }
  static constexpr std::size_t capacity() { return 0; }

  struct tokens {
    std::optional<moodycamel::ProducerToken> producer;
    std::optional<moodycamel::ConsumerToken> consumer;
  };
  // A thread remembers its slots in the last few queues it used (ping-pong uses two at
  // once), so alternating between queues does not take a new slot each time.
  tokens& mine() {
    struct seen {
      std::uint64_t serial = 0;
      tokens* slot = nullptr;
    };
    thread_local seen cache[4];
    thread_local unsigned next_victim = 0;
    for (const seen& c : cache) {
      if (c.serial == serial) return *c.slot;
    }
    const std::size_t i = next_slot.fetch_add(1, std::memory_order_relaxed);
    if (i >= max_threads) throw std::length_error("moodycamel_queue_tokens: more than 64 threads");
    tokens* slot = &slots[i];
    slot->producer.emplace(q);
    slot->consumer.emplace(q);
    cache[next_victim++ % 4] = seen{serial, slot};
    return *slot;
  }
  static std::uint64_t next_serial() {
    static std::atomic<std::uint64_t> counter{0};
    return counter.fetch_add(1, std::memory_order_relaxed) + 1;
  }

  moodycamel::ConcurrentQueue<item> q;  // declared first: destroyed after the tokens
  const std::uint64_t serial = next_serial();
  std::atomic<std::size_t> next_slot{0};
  tokens slots[max_threads];
};

// ---- oneTBB ------------------------------------------------------------------------

// oneTBB's unbounded concurrent_queue (micro-queues chosen by ticket): push, try_pop.
struct tbb_queue {
  static constexpr const char* name = "tbb::concurrent_queue";
  explicit tbb_queue(std::size_t /*capacity: unbounded*/) {}
  bool try_push(item v) {
    q.push(v);
    return true;
  }
  bool try_pop(item& out) { return q.try_pop(out); }
  static constexpr std::size_t capacity() { return 0; }
  tbb::concurrent_queue<item> q;
};

// ---- mutex baselines ---------------------------------------------------------------

// A std::vector under one std::mutex, reserved to the capacity hint.
struct mutex_vector_stack {
  static constexpr const char* name = "baseline::mutex_vector_stack";
  explicit mutex_vector_stack(std::size_t capacity_hint) { v.reserve(capacity_hint); }
  bool try_push(item x) {
    std::lock_guard<std::mutex> lock(m);
    v.push_back(x);
    return true;
  }
  bool try_pop(item& out) {
    std::lock_guard<std::mutex> lock(m);
    if (v.empty()) return false;
    out = v.back();
    v.pop_back();
    return true;
  }
  static constexpr std::size_t capacity() { return 0; }
  std::mutex m;
  std::vector<item> v;
};

// A std::deque under one std::mutex, without a bound (adapters.hpp's mutex_deque is the
// bounded one).
struct mutex_deque_unbounded {
  static constexpr const char* name = "baseline::mutex_deque_unbounded";
  explicit mutex_deque_unbounded(std::size_t /*capacity: unbounded*/) {}
  bool try_push(item v) {
    std::lock_guard<std::mutex> lock(m);
    q.push_back(v);
    return true;
  }
  bool try_pop(item& out) {
    std::lock_guard<std::mutex> lock(m);
    if (q.empty()) return false;
    out = q.front();
    q.pop_front();
    return true;
  }
  static constexpr std::size_t capacity() { return 0; }
  std::mutex m;
  std::deque<item> q;
};

}  // namespace lf_bench
