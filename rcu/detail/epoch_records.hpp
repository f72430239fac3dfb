// lf — the machinery behind rcu/epoch.hpp: the global epoch, per-thread records, limbo
// lists, advancing and collecting. Read the public header first: the ordering argument
// is numbered there, and the numbers below refer to it.
//
// Layout of a domain:
//   epoch_     the global epoch, a 64-bit counter that only a successful advance (8)
//              changes, by one. It never wraps in practice (2^63 advances), so limbo
//              lists compare epochs directly instead of modulo 3 as the paper does.
//   used_      one past the highest thread index that has ever touched the domain: an
//              advance scans records [0, used_) only, not all lf::max_threads of them.
//   records_   one padded record per lf::thread_index(), in a thread_table (allocated in
//              chunks as threads first use the domain): the announcement word that
//              advancing threads read, and the owner's limbo lists. Only the thread that
//              owns the index touches the rest of its record (Relacy's fibers share
//              thread_local, hence the index). A thread that exits leaves its record as it
//              is; the next thread to get the same index inherits the retired objects,
//              through the seam's release/acquire hand-off of the index (sync/thread.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "sync/atomic.hpp"
#include "sync/config.hpp"
#include "sync/thread.hpp"
#include "sync/thread_table.hpp"

namespace lf::detail {

// The constants of the scheme. The model shrinks them (DESIGN §2): a flush at every
// retire makes each explored schedule race an advance against a pin, and Relacy's few
// fibers need only a few records (the thread_table's model size).
struct epoch_tuning {
#if defined(LF_MODEL_RELACY)
  static constexpr std::size_t flush_every = 1;
#else
  // A thread flushes (seals its new retirees with one fence, tries to advance, frees what
  // is two epochs old) once per flush_every retires: the fence and the O(threads) scan
  // are amortised over that many retires, and a thread holds about 3 * flush_every
  // unreclaimed objects while every thread keeps moving.
  static constexpr std::size_t flush_every = 64;
#endif
  // An object sealed in epoch e is freed once the global epoch is e + grace.
  static constexpr std::uint64_t grace = 2;
};

// The header a retired object carries (a private base of epoch_obj_base; the names are
// prefixed so that they cannot clash with the object's own). Touched only by the
// retiring thread, by the thread that inherits its record, and by the destructor.
struct epoch_retired {
  epoch_retired* epoch_next = nullptr;
  void (*epoch_reclaim)(epoch_retired*) noexcept = nullptr;  // set by retire; runs the deleter
};

// A list of retired objects; `epoch` is the seal of every object in it.
struct epoch_bag {
  epoch_retired* head = nullptr;
  epoch_retired* tail = nullptr;
  std::size_t count = 0;
  std::uint64_t epoch = 0;

  void push(epoch_retired* obj) noexcept {
    obj->epoch_next = head;
    head = obj;
    if (tail == nullptr) tail = obj;
    ++count;
  }
  // Moves every object of `other` in front of ours.
  void splice(epoch_bag& other) noexcept {
    if (other.head == nullptr) return;
    other.tail->epoch_next = head;
    if (tail == nullptr) tail = other.tail;
    head = std::exchange(other.head, nullptr);
    other.tail = nullptr;
    count += std::exchange(other.count, 0);
  }
  epoch_retired* take() noexcept {
    tail = nullptr;
    count = 0;
    return std::exchange(head, nullptr);
  }
};

// The announcement word: (epoch << 1) | 1 while the owner is pinned, 0 while it is not.
inline constexpr std::uint64_t announce(std::uint64_t epoch) noexcept { return (epoch << 1) | 1u; }
inline constexpr bool is_pinned(std::uint64_t word) noexcept { return (word & 1u) != 0; }
inline constexpr std::uint64_t announced_epoch(std::uint64_t word) noexcept { return word >> 1; }

struct alignas(cache_line) epoch_thread_record {
  // Written by the owner at each outermost pin (2) and unpin (4), read by every advance (7).
  lf::atomic<std::uint64_t> state{0};
  // Objects retired to this record and not freed yet; written by the owner only (relaxed,
  // single writer), summed by unreclaimed().
  lf::atomic<std::size_t> unreclaimed{0};
  // The owner's, unshared:
  std::size_t nesting = 0;       // pins held by the owner; only the outermost announces
  bool registered = false;       // this index is counted in used_
  std::size_t since_flush = 0;   // retires since the last flush
  epoch_bag pending;             // retired since the last seal: no epoch yet
  epoch_bag sealed[3];           // sealed[e % 3] holds the objects sealed in epoch e
};

class epoch_records {
 public:
  epoch_records() = default;
  epoch_records(const epoch_records&) = delete;
  epoch_records& operator=(const epoch_records&) = delete;

  // Every thread that used the domain has finished with it (the owner's job: it joined
  // them), so the relaxed loads and plain reads below see their last writes.
  ~epoch_records() {
#if LF_ASSERTS_ON
    bool pinned = false;
    records_.for_each(records_.capacity, [&](const epoch_thread_record& r) { pinned = pinned || r.nesting != 0; });
    LF_ASSERT(!pinned && "lf::epoch_domain destroyed while a thread is pinned in it");
#endif
    // A deleter may retire further objects (a node that owns nodes): repeat until quiet.
    for (bool freed = true; freed;) {
      freed = false;
      records_.for_each(records_.capacity, [&](epoch_thread_record& r) {
        epoch_bag all;
        all.splice(r.pending);
        for (epoch_bag& b : r.sealed) all.splice(b);
        r.since_flush = 0;
        r.unreclaimed.store(0, std::memory_order_relaxed);  // relaxed: no thread runs any more
        freed = freed || all.head != nullptr;
        reclaim_list(all.take());
      });
    }
  }

  // Enters the read side (nestable); returns the caller's record for unpin.
  epoch_thread_record& pin() {
    epoch_thread_record& r = mine();
    if (r.nesting++ == 0) {
      // (1) relaxed: the value to announce may be stale; the fence (3) makes any value
      // safe to announce (the argument in the public header).
      const std::uint64_t e = epoch_.value.load(std::memory_order_relaxed);
      // (2) release: pairs with (7). Our reads under the previous pin happen before an
      // advance that reads this announcement (C++20 release sequences no longer
      // continue through the unpin (4) into this later store of ours). Relacy applies
      // C++11's rule and cannot tell; the litmus lane carries it
      // (verification/litmus/release_orders_litmus.cpp, epoch_pin_announcement).
      r.state.store(announce(e), std::memory_order_release);
      // (3) seq_cst, the store-load fence: the announcement (2) is ordered before every
      // read that follows the pin, for every advance (6) and seal (9). See the header.
      lf::fence(std::memory_order_seq_cst);  // (3)
    }
    return r;
  }

  void unpin(epoch_thread_record& r) noexcept {
    LF_ASSERT(r.nesting > 0 && "lf::epoch_guard: unpin without a pin");
    if (--r.nesting == 0) {
      // (4) release: pairs with (7); our reads of every object we reached while pinned
      // happen before an advance that sees us gone, hence before the free it permits.
      r.state.store(0, std::memory_order_release);
    }
  }

  void retire(epoch_retired* obj) noexcept {
    epoch_thread_record& r = mine();
    r.pending.push(obj);
    publish_count(r);
    if (++r.since_flush >= epoch_tuning::flush_every) flush(r);
  }

  // Seals the caller's new retirees, tries once to advance, frees what is old enough;
  // returns how many of the caller's objects stay unreclaimed.
  std::size_t collect() {
    epoch_thread_record& r = mine();
    flush(r);
    return r.unreclaimed.load(std::memory_order_relaxed);  // relaxed: our own last write
  }

  // One attempt to move the global epoch from e to e + 1, which succeeds if every pinned
  // thread has announced e. Returns true if the epoch is past e afterwards (advanced by
  // us or by another thread). Wait-free: no retry.
  bool try_advance() noexcept {
    // (5) relaxed: the epoch we try to leave; the fence (6) orders it for the argument,
    // and the CAS (8) fails if it is stale.
    std::uint64_t e = epoch_.value.load(std::memory_order_relaxed);
    // (6) seq_cst: the advance's half of the store-load pair with (3). Either a reader's
    // fence (3) comes first in the total order of seq_cst fences, and the loads below
    // see its announcement (2) or a later store of its record (and its index in used_,
    // (12)); or ours comes first, and then e is at most the m of the header's argument:
    // the epoch we set, at most m + 1, frees nothing that reader can reach.
    lf::fence(std::memory_order_seq_cst);  // (6)
    // relaxed: used_ only grows, and (12) is ordered before a reader's fence (3).
    // The record's chunk was published before the reader's fence (3), so an advance whose
    // fence (6) comes later finds it (thread_table's (1)); one whose fence comes earlier
    // need not see the record at all, by the argument above.
    const std::size_t used = used_.value.load(std::memory_order_relaxed);
    const bool all_announced_e = records_.for_each(used, [e](const epoch_thread_record& r) {
      // (7) acquire: pairs with (2) and (4). A pinned reader's reads before its latest
      // announcement, or all of them once it unpinned, happen before our CAS (8).
      const std::uint64_t s = r.state.load(std::memory_order_acquire);
      if (is_pinned(s) && announced_epoch(s) != e) return false;
      return true;
    });
    if (!all_announced_e) return false;
    // (8) release: pairs with (11). What (7) acquired from the readers happens before any
    // free that the new epoch permits. Every change of the epoch is this CAS, so a load
    // (11) that reads a later epoch still synchronizes with it (release sequence).
    // relaxed on failure: another thread advanced; we report that and move nothing.
    const std::uint64_t from = e;
    return epoch_.value.compare_exchange_strong(e, from + 1, std::memory_order_release, std::memory_order_relaxed) ||
           e != from;
  }

  [[nodiscard]] std::uint64_t epoch() const noexcept {
    // relaxed: a snapshot for tests and diagnostics; it orders nothing.
    return epoch_.value.load(std::memory_order_relaxed);
  }

  // Objects retired and not yet freed, summed over every record. Exact when no thread
  // runs; a snapshot otherwise.
  [[nodiscard]] std::size_t unreclaimed() const noexcept {
    std::size_t n = 0;
    // relaxed: counters, not a synchronization; see the member's comment.
    const std::size_t used = used_.value.load(std::memory_order_relaxed);
    records_.for_each(used, [&](const epoch_thread_record& r) { n += r.unreclaimed.load(std::memory_order_relaxed); });
    return n;
  }

  // The caller's record, checked against misuse by the public header.
  epoch_thread_record& mine() {
    const std::size_t i = lf::thread_index();
    epoch_thread_record& r = records_.at(i);
    if (!r.registered) register_index(r, i);
    return r;
  }

 private:
  // Counts index i in used_ before its first pin or retire.
  void register_index(epoch_thread_record& r, std::size_t i) noexcept {
    std::size_t used = used_.value.load(std::memory_order_relaxed);
    // (12) relaxed: the pin that follows is ordered by its fence (3) before any advance
    // whose fence (6) comes later, and (6)'s load of used_ then reads this or a larger
    // value; an advance whose fence comes earlier need not see us (the argument of (6)).
    while (used <= i &&
           !used_.value.compare_exchange_weak(used, i + 1, std::memory_order_relaxed, std::memory_order_relaxed)) {
    }
    r.registered = true;
  }

  // Seal (9, 10), advance (5-8), collect (11).
  void flush(epoch_thread_record& r) noexcept {
    r.since_flush = 0;
    if (r.pending.head != nullptr) seal(r);
    try_advance();
    // (11) acquire: pairs with (8). Every reader's reads of the objects we free below
    // happen before the advance that saw it gone, hence before our frees.
    const std::uint64_t now = epoch_.value.load(std::memory_order_acquire);
    free_older_than(r, now);
  }

  // Gives the caller's new retirees the epoch they were unlinked in, or a later one.
  void seal(epoch_thread_record& r) noexcept {
    // (9) seq_cst: pairs with (3). Every unlink of a pending object happens before this
    // fence. If a reader's fence (3) comes after ours, the reader's loads see the unlink
    // and cannot reach the object. If it comes before, the load (10) reads an epoch no
    // smaller than any the reader announced, or any an advance had read before a fence
    // that precedes the reader's, which is what the header's argument needs.
    lf::fence(std::memory_order_seq_cst);  // (9)
    // (10) acquire: pairs with (8), like (11), since the seal may free the bag whose slot
    // it reuses (epoch_model's seal_frees_an_old_bag fails without it: mutant
    // epoch_seal_load_relaxed). The fence (9) is what makes the value a safe tag; it
    // comes before the load, so it makes the load acquire nothing.
    const std::uint64_t e = epoch_.value.load(std::memory_order_acquire);
    // A bag in slot e % 3 that is not empty was sealed at e - 3 or before: it goes with
    // every other bag old enough (safe, the epoch is at least e). The deleters run only
    // once the slot holds the new bag: they may retire and flush into this record.
    epoch_bag doomed = detach_older_than(r, e);
    epoch_bag& bag = r.sealed[e % 3];
    bag.epoch = e;
    bag.splice(r.pending);
    publish_count(r);
    reclaim_list(doomed.take());
  }

  // Frees the caller's bags sealed at most `now - grace`.
  void free_older_than(epoch_thread_record& r, std::uint64_t now) noexcept {
    epoch_bag doomed = detach_older_than(r, now);
    if (doomed.head == nullptr) return;
    publish_count(r);
    reclaim_list(doomed.take());
  }

  // Unlinks the caller's bags sealed at most `now - grace` and returns them as one list.
  // Callers run the deleters last, on a record left consistent: a deleter may retire more
  // objects into this very record (and flush it).
  static epoch_bag detach_older_than(epoch_thread_record& r, std::uint64_t now) noexcept {
    epoch_bag doomed;
    for (epoch_bag& b : r.sealed) {
      if (b.head != nullptr && b.epoch + epoch_tuning::grace <= now) doomed.splice(b);
    }
    return doomed;
  }

  static void publish_count(epoch_thread_record& r) noexcept {
    std::size_t n = r.pending.count;
    for (const epoch_bag& b : r.sealed) n += b.count;
    // relaxed: a statistic; single writer (the owner), read by unreclaimed().
    r.unreclaimed.store(n, std::memory_order_relaxed);
  }

  static void reclaim_list(epoch_retired* list) noexcept {
    while (list != nullptr) {
      epoch_retired* const obj = std::exchange(list, list->epoch_next);
      obj->epoch_reclaim(obj);
    }
  }

  padded<lf::atomic<std::uint64_t>> epoch_{0};
  padded<lf::atomic<std::size_t>> used_{0};
  thread_table<epoch_thread_record> records_;
};

}  // namespace lf::detail
