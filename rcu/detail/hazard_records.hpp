// lf — the machinery behind rcu/hazard_pointer.hpp: hazard slots, per-thread records,
// retired lists and the scan. Read the public header first: the ordering argument is
// numbered there, and the numbers (4)-(10) below continue it.
//
// Layout of a domain:
//   slots_    a list of hazard slots that only grows. A slot is claimed with a CAS on its
//             flag, so a thread may hold as many hazard pointers at once as it likes; a
//             new slot is pushed at the head when every slot is claimed. Slots are freed
//             only by the domain's destructor, so the list can be walked without locks.
//   records_  one padded record per lf::thread_index() (a thread_table, so allocated in
//             chunks as threads first use the domain): the thread's retired list and a
//             small cache of claimed, idle slots. Only the thread that owns the index
//             touches its record (Relacy's fibers share thread_local, hence the index).
//             A thread that exits leaves its record as it is; the next thread to get the
//             same index inherits the retired objects and the cached slots, through the
//             seam's release/acquire hand-off of the index (sync/thread.hpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include "sync/atomic.hpp"
#include "sync/config.hpp"
#include "sync/thread.hpp"
#include "sync/thread_table.hpp"

namespace lf::detail {

// The constants of the scheme. The model shrinks them (DESIGN §2): a scan at every retire
// makes each explored schedule race a scan against a protect, and Relacy's few fibers
// need only a few records (the thread_table's model size).
struct hazard_tuning {
#if defined(LF_MODEL_RELACY)
  static constexpr std::size_t scan_floor = 1;
  static constexpr std::size_t scan_per_slot = 0;
#else
  // A thread scans when its retired list reaches scan_floor + scan_per_slot * H, with H
  // the number of hazard slots. At most H of them can be protected, so a scan frees at
  // least scan_floor + H: the scan's O(H log H) cost is amortised to O(log H) per retire,
  // and no thread holds more than that many unreclaimed objects (Michael 2004, §3.2).
  static constexpr std::size_t scan_floor = 64;
  static constexpr std::size_t scan_per_slot = 2;
#endif
  // Idle slots a thread keeps for its next hazard pointer, so that creating one costs no
  // CAS in the common case (a container operation makes one or two).
  static constexpr std::size_t slot_cache = 4;
};

// One hazard pointer's publication point. Padded: it is written by its holder on every
// protect and read by every scanning thread.
struct alignas(cache_line) hazard_slot {
  // The address it protects, or null. Only compared, never dereferenced, hence void*
  // rather than const void* (which Relacy's atomics do not take).
  lf::atomic<void*> hazard{nullptr};
  lf::atomic<bool> claimed{true};  // born claimed by the thread that creates it
  hazard_slot* next = nullptr;     // written before the slot is published (9), then fixed
};

// The header a retired object carries (a member of hazard_pointer_obj_base). Touched only
// by the retiring thread, by the thread that inherits its record, and by the destructor.
struct hazard_retired {
  hazard_retired* next = nullptr;
  const void* object = nullptr;                         // the address hazard pointers hold
  void (*reclaim)(hazard_retired*) noexcept = nullptr;  // set by retire; runs the deleter
};

struct alignas(cache_line) hazard_thread_record {
  hazard_retired* retired = nullptr;
  std::size_t retired_count = 0;
  // retired_count as other threads may read it (hazard_domain::unreclaimed). relaxed,
  // written only by the owner: a statistic that orders nothing.
  lf::atomic<std::size_t> published_count{0};
  std::size_t cached = 0;
  hazard_slot* cache[hazard_tuning::slot_cache] = {};
  std::vector<const void*> snapshot;  // the scan's sorted copy of the hazards (kept for its capacity)
};

class hazard_records {
 public:
  hazard_records() = default;
  hazard_records(const hazard_records&) = delete;
  hazard_records& operator=(const hazard_records&) = delete;

  // Every thread that used the domain has finished with it (the owner's job: it joined
  // them), so the relaxed loads below see their last writes.
  ~hazard_records() {
#if LF_ASSERTS_ON
    // Every claimed slot must sit idle in some thread's cache; one that does not belongs
    // to a live hazard_pointer, whose destructor would write to the freed slot.
    std::size_t claimed = 0, cached = 0;
    for (hazard_slot* s = slots_.value.head.load(std::memory_order_relaxed); s != nullptr; s = s->next) {
      claimed += s->claimed.load(std::memory_order_relaxed) ? 1 : 0;
    }
    records_.for_each(records_.capacity, [&](const hazard_thread_record& r) { cached += r.cached; });
    LF_ASSERT(claimed == cached && "lf::hazard_domain destroyed while hazard pointers in it are alive");
#endif

    // A deleter may retire further objects (a node that owns nodes): repeat until quiet.
    for (bool freed = true; freed;) {
      freed = false;
      records_.for_each(records_.capacity, [&](hazard_thread_record& r) {
        hazard_retired* list = std::exchange(r.retired, nullptr);
        r.retired_count = 0;
        r.published_count.store(0, std::memory_order_relaxed);
        freed = freed || list != nullptr;
        reclaim_list(list);
      });
    }
    for (hazard_slot* s = slots_.value.head.load(std::memory_order_relaxed); s != nullptr;) {
      delete std::exchange(s, s->next);
    }
  }

  // A claimed slot for a new hazard pointer: from the caller's cache, else the first
  // unclaimed slot of the list, else a new slot pushed onto the list.
  hazard_slot* acquire_slot() {
    hazard_thread_record& r = mine();
    if (r.cached > 0) return r.cache[--r.cached];
    // (10) acquire: pairs with (9); the slots and their `next` links are visible.
    for (hazard_slot* s = slots_.value.head.load(std::memory_order_acquire); s != nullptr; s = s->next) {
      // The relaxed load is a peek that skips taken slots without writing their line; the
      // exchange decides. (7) acquire: pairs with (8); the previous holder's last hazard
      // store is ordered before ours, so its stale value never overwrites our hazard.
      if (!s->claimed.load(std::memory_order_relaxed) && !s->claimed.exchange(true, std::memory_order_acquire)) {
        return s;
      }
    }
    auto* s = new hazard_slot;
    hazard_slot* head = slots_.value.head.load(std::memory_order_relaxed);
    do {
      s->next = head;
      // (9) release: publishes the slot and its `next`; pairs with (5) and (10). Every
      // change of the head is this CAS, so a later reader of the head acquires all
      // earlier pushes too (release sequence).
    } while (!slots_.value.head.compare_exchange_weak(head, s, std::memory_order_release, std::memory_order_relaxed));
    // relaxed: a count for the scan threshold, a heuristic that orders nothing.
    slots_.value.count.fetch_add(1, std::memory_order_relaxed);
    return s;
  }

  // A slot whose hazard has been cleared goes back to the caller's cache, or to the list.
  void release_slot(hazard_slot* s) noexcept {
    hazard_thread_record& r = mine();
    if (r.cached < hazard_tuning::slot_cache) {
      r.cache[r.cached++] = s;
      return;
    }
    // (8) release: pairs with (7). Our hazard stores precede the next holder's.
    s->claimed.store(false, std::memory_order_release);
  }

  void retire(hazard_retired* obj) noexcept {
    hazard_thread_record& r = mine();
    obj->next = r.retired;
    r.retired = obj;
    ++r.retired_count;
    r.published_count.store(r.retired_count, std::memory_order_relaxed);
    // relaxed: a slot pushed since only raises the threshold; the count decides when to
    // scan, never what is safe to free.
    const std::size_t slots = slots_.value.count.load(std::memory_order_relaxed);
    if (r.retired_count >= hazard_tuning::scan_floor + hazard_tuning::scan_per_slot * slots) scan(r);
  }

  // Scans the caller's retired list now; returns how many objects stay retired.
  std::size_t scan_mine() noexcept {
    hazard_thread_record& r = mine();
    scan(r);
    return r.retired_count;
  }

  // Objects retired and not yet freed, over all records: exact when the domain is quiet,
  // a snapshot while threads retire and scan.
  std::size_t unreclaimed() const noexcept {
    std::size_t n = 0;
    records_.for_each(records_.capacity,
                      [&](const hazard_thread_record& r) { n += r.published_count.load(std::memory_order_relaxed); });
    return n;
  }

 private:
  hazard_thread_record& mine() { return records_.at(lf::thread_index()); }

  // Frees every retired object of `r` that no hazard slot protects.
  void scan(hazard_thread_record& r) noexcept {
    // (4) seq_cst: the other half of the store-load pair with (2), in the public
    // header. Every unlink of an object in our list happens before this fence; so either
    // a reader's fence (2) comes first in the single total order of seq_cst fences, and
    // the loads below see its hazard (1) (and the slot it lives in, via (5)), or ours
    // comes first, and the reader's re-validation (3) sees the unlink and gives up.
    lf::fence(std::memory_order_seq_cst);
    std::vector<const void*>& hazards = r.snapshot;
    hazards.clear();
    try {
      // (5) acquire: pairs with (9); we reach every slot pushed before the head we read.
      for (hazard_slot* s = slots_.value.head.load(std::memory_order_acquire); s != nullptr; s = s->next) {
        // (6) acquire: pairs with the release of the hazard's stores (1): a reader's
        // accesses to an object happen before the store that drops it from its slot, so
        // they happen before our delete.
        if (const void* h = s->hazard.load(std::memory_order_acquire)) hazards.push_back(h);
      }
    } catch (const std::bad_alloc&) {
      return;  // no memory for the snapshot: free nothing now, try again at a later retire
    }
    // std::less: a total order on unrelated pointers, which `<` does not promise.
    std::sort(hazards.begin(), hazards.end(), std::less<>());

    // Relink the survivors first and run the deleters last: a deleter may retire more
    // objects into this very record (and scan it) and must find it consistent.
    hazard_retired* list = std::exchange(r.retired, nullptr);
    r.retired_count = 0;
    hazard_retired* doomed = nullptr;
    while (list != nullptr) {
      hazard_retired* const obj = std::exchange(list, list->next);
      if (std::binary_search(hazards.begin(), hazards.end(), obj->object, std::less<>())) {
        obj->next = r.retired;
        r.retired = obj;
        ++r.retired_count;
      } else {
        obj->next = doomed;
        doomed = obj;
      }
    }
    r.published_count.store(r.retired_count, std::memory_order_relaxed);
    reclaim_list(doomed);
  }

  static void reclaim_list(hazard_retired* list) noexcept {
    while (list != nullptr) {
      hazard_retired* const obj = std::exchange(list, list->next);
      obj->reclaim(obj);
    }
  }

  struct slot_list {
    lf::atomic<hazard_slot*> head{nullptr};
    lf::atomic<std::size_t> count{0};
  };
  padded<slot_list> slots_{};
  thread_table<hazard_thread_record> records_;
};

}  // namespace lf::detail
