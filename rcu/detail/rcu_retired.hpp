// lf — the machinery behind rcu/rcu.hpp: reader records, the header a retired object
// carries, and the domain's tuning. Read the public header first: the ordering argument
// is numbered there.
#pragma once

#include <cstddef>
#include <cstdint>

#include "sync/atomic.hpp"
#include "sync/config.hpp"
#include "sync/thread.hpp"

namespace lf::detail {

// The constants of the domain. The model shrinks them (DESIGN §2): a collection attempt
// at every retire makes each explored schedule race a grace period against a reader, and
// Relacy's few fibers need only a few records.
struct rcu_tuning {
#if defined(LF_MODEL_RELACY)
  static constexpr std::size_t collect_every = 1;
#else
  // Every collect_every-th retire of a domain tries to reclaim: it frees the batch sealed
  // last time if its grace period has passed, and seals what is pending into a new batch
  // (one heavy fence, a membarrier system call of a few microseconds). So the heavy fence
  // costs a few nanoseconds per retire, and while every reader keeps moving at most about
  // 2 * collect_every objects wait in the domain.
  static constexpr std::size_t collect_every = 256;
#endif
};

// One per lf::thread_index(), padded: written by its owner at every outermost lock and
// unlock, read by every grace period.
struct alignas(cache_line) rcu_reader_record {
  // 0 outside a read-side critical section; inside, the grace-period counter as the
  // outermost lock read it (the counter starts at 1, so a snapshot is never 0).
  lf::atomic<std::uint64_t> period{0};
  // Owned by the thread that holds the index: how deep it is in nested sections (0
  // outside), or never_entered before the record's first section, when the domain's
  // enrolment mark has yet to cover it (one test on the lock's path serves both). The
  // next owner of the index inherits it through the seam's release/acquire hand-off
  // (sync/thread.hpp); a thread that exits outside any section leaves it at 0.
  static constexpr unsigned never_entered = ~0u;
  unsigned nesting = never_entered;
};

// The header of a retired object (a private base of rcu_obj_base, and of the holder
// rcu_retire allocates; the names are long so that they never hide a name of T).
// Written by the retiring thread before the push that publishes it, then touched only by
// the thread that reclaims it.
struct rcu_retired {
  rcu_retired* rcu_retired_next = nullptr;
  void (*rcu_retired_reclaim)(rcu_retired*) noexcept = nullptr;  // runs the deleter; set by retire
};

// Runs every deleter of a list; returns how many ran. A deleter may retire further objects
// into the domain (they join the pending list, not this one).
inline std::size_t reclaim_list(rcu_retired* list) noexcept {
  std::size_t n = 0;
  while (list != nullptr) {
    rcu_retired* const obj = list;
    list = list->rcu_retired_next;
    obj->rcu_retired_reclaim(obj);
    ++n;
  }
  return n;
}

}  // namespace lf::detail
