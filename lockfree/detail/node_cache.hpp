// lf — a per-thread cache of freed nodes for the node-based containers (Treiber stack,
// elimination stack, Michael-Scott queue).
//
// Why. A container that allocates a node per push pays the allocator twice per item, and
// measured, that is most of an uncontended push+pop: lf::treiber_stack spent ~40% of a
// push+pop pair in malloc and free (perf, bench_stack's stack_pair), where
// boost::lockfree::stack recycles nodes through its own free list. A node type that
// derives from recycled<Node> gets a class-specific operator new and delete: delete keeps
// up to `capacity` freed nodes in a list owned by the calling thread, and new takes the
// most recently freed one (still in this core's cache) before it asks the allocator.
//
// Safety. Nothing here changes when a node may be freed: the reclaimers still decide that
// (a node reaches operator delete only when no thread can hold it), and the cache only
// changes where its memory goes next. The lists are the thread's own (thread_local): no
// other thread ever touches them, so they need no atomics and give no ABA. A thread that
// exits gives its cached nodes back to the allocator; a node freed by that thread after
// its cache is gone (a domain destroyed late in thread exit) goes straight to the
// allocator.
//
// Where the cache is off. Under the model (Relacy's fibers share thread_local, and its
// allocator must see every free to find use-after-free), and under ASan and TSan, which
// find use-after-free only when freed memory is not handed out again at once.
#pragma once

#include <cstddef>
#include <new>

#include "sync/config.hpp"

namespace lf::detail {

#if defined(LF_MODEL_RELACY) || LF_ASAN || LF_TSAN
inline constexpr bool node_cache_enabled = false;
#else
inline constexpr bool node_cache_enabled = true;
#endif

template <class Node, bool = node_cache_enabled>
struct recycled;

// Freed nodes of one type, kept by one thread: a singly linked list through the nodes'
// own first bytes.
template <class Node>
class node_cache {
 public:
  // At most this many nodes per thread and node type: enough to absorb the bursts of a
  // hazard-pointer scan (64 + 2H nodes at a time), small enough not to hoard memory in a
  // thread that only frees (a consumer).
  static constexpr std::size_t capacity = 256;

  static void* take() noexcept {
    state& s = mine();
    if (s.head == nullptr) return nullptr;
    free_node* const n = s.head;
    s.head = n->next;
    --s.count;
    return n;
  }

  // False when the cache is full or gone: the caller frees to the allocator.
  static bool keep(void* p) noexcept {
    state& s = mine();
    if (s.count == capacity || s.phase == phase_t::gone) return false;
    if (s.phase == phase_t::fresh) {
      s.phase = phase_t::live;
      drainer_of_thread();  // registers the drain at thread exit
    }
    s.head = ::new (p) free_node{s.head};
    ++s.count;
    return true;
  }

 private:
  struct free_node {
    free_node* next;
  };
  enum class phase_t : unsigned char { fresh, live, gone };
  // Trivially destructible, so it stays usable until the thread's storage ends, after
  // the drainer below has run.
  struct state {
    free_node* head;
    std::size_t count;
    phase_t phase;
  };
  struct drainer {
    ~drainer() {
      state& s = mine();
      s.phase = phase_t::gone;
      while (s.head != nullptr) {
        free_node* const n = s.head;
        s.head = n->next;
        recycled<Node>::release(n);
      }
      s.count = 0;
    }
  };

  static state& mine() noexcept {
    thread_local state s{nullptr, 0, phase_t::fresh};
    return s;
  }
  static void drainer_of_thread() noexcept {
    thread_local drainer d;
    (void)d;
  }
};

// Base of a node type whose memory goes through node_cache<Node>. Where the cache is off
// it is empty and the global operators serve the node (the model's allocator sees them).
template <class Node, bool>
struct recycled {};

template <class Node>
struct recycled<Node, true> {
  static void* operator new(std::size_t size) {
    static_assert(sizeof(Node) >= sizeof(void*), "a cached node holds the list link in its first bytes");
    if (size == sizeof(Node)) {
      if (void* p = node_cache<Node>::take()) return p;
    }
    return allocate(size);
  }
  static void operator delete(void* p, std::size_t size) noexcept {
    if (size == sizeof(Node) && node_cache<Node>::keep(p)) return;
    release(p);
  }

  // The allocator's side, also used by node_cache to give nodes back.
  static constexpr bool over_aligned = alignof(Node) > __STDCPP_DEFAULT_NEW_ALIGNMENT__;
  static void* allocate(std::size_t size) {
    if constexpr (over_aligned) return ::operator new(size, std::align_val_t{alignof(Node)});
    return ::operator new(size);
  }
  static void release(void* p) noexcept {
    if constexpr (over_aligned) {
      ::operator delete(p, std::align_val_t{alignof(Node)});
    } else {
      ::operator delete(p);
    }
  }
};

}  // namespace lf::detail
