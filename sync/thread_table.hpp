// lf — a table of per-thread records, one per lf::thread_index(), for the domains of
// rcu/ (hazard records, epoch records, RCU reader records).
//
// Indices go up to lf::max_threads (2^18), but a domain should cost memory in proportion
// to the threads that used it. So the records live in chunks of `Chunk`, allocated the
// first time an index of the chunk asks for its record, and published with one CAS on
// the chunk's pointer; a chunk, once there, stays until the table is destroyed, so a
// record's address never changes and readers need no protection.
//
//   at(i)        the record of index i, allocating its chunk if needed (may throw
//                std::bad_alloc; a domain asks at the thread's first use)
//   find(i)      the record of index i, or nullptr if its chunk was never allocated
//   for_each(n, f)   f(record) for every allocated record with index < n; when f returns
//                bool, false stops the walk and for_each returns false
//
// Memory order (numbers local to this file): (1) acquire on the chunk pointer pairs with
// the (2) release of the CAS that published it, so whoever reaches a record through the
// pointer sees it constructed. Everything else about a record is the domain's business.
//
// Model (LF_MODEL_RELACY): Relacy runs a handful of fibers, so the table is one chunk of
// `model_records`, allocated by the constructor: no chunk pointer, no CAS to explore.
#pragma once

#include <cstddef>
#include <memory>
#include <type_traits>

#include "sync/atomic.hpp"
#include "sync/config.hpp"
#include "sync/thread.hpp"

namespace lf::detail {

template <class R, std::size_t Chunk = 64>
class thread_table {
  template <class F>
  static bool visit(F& f, R& r) {
    if constexpr (std::is_same_v<std::invoke_result_t<F&, R&>, bool>) {
      return f(r);
    } else {
      f(r);
      return true;
    }
  }

 public:
#if defined(LF_MODEL_RELACY)
  static constexpr std::size_t model_records = 8;
  static constexpr std::size_t capacity = model_records;

  thread_table() : records_(new R[model_records]) {}
  R& at(std::size_t i) {
    LF_ASSERT(i < model_records && "more model threads than lf::detail::thread_table::model_records");
    return records_[i];
  }
  R* find(std::size_t i) const noexcept { return i < model_records ? &records_[i] : nullptr; }
  template <class F>
  bool for_each(std::size_t end, F&& f) const {
    for (std::size_t i = 0; i < end && i < model_records; ++i) {
      if (!visit(f, records_[i])) return false;
    }
    return true;
  }

 private:
  const std::unique_ptr<R[]> records_;
#else
  static_assert(max_threads % Chunk == 0, "a chunk size that divides lf::max_threads");
  static constexpr std::size_t capacity = max_threads;

  thread_table() : chunks_(new lf::atomic<R*>[chunk_count]) {
    for (std::size_t c = 0; c < chunk_count; ++c) chunks_[c].store(nullptr, std::memory_order_relaxed);  // unshared yet
  }
  thread_table(const thread_table&) = delete;
  thread_table& operator=(const thread_table&) = delete;
  // The owner destroys the table once no thread uses it: relaxed loads see every chunk.
  ~thread_table() {
    for (std::size_t c = 0; c < chunk_count; ++c) delete[] chunks_[c].load(std::memory_order_relaxed);
  }

  R& at(std::size_t i) {
    LF_ASSERT(i < max_threads);
    if (R* chunk = chunks_[i / Chunk].load(std::memory_order_acquire)) [[likely]] return chunk[i % Chunk];  // (1)
    return publish(i / Chunk)[i % Chunk];
  }

  R* find(std::size_t i) const noexcept {
    if (i >= max_threads) return nullptr;
    R* chunk = chunks_[i / Chunk].load(std::memory_order_acquire);  // (1)
    return chunk != nullptr ? &chunk[i % Chunk] : nullptr;
  }

  template <class F>
  bool for_each(std::size_t end, F&& f) const {
    if (end > max_threads) end = max_threads;
    for (std::size_t c = 0; c * Chunk < end; ++c) {
      R* chunk = chunks_[c].load(std::memory_order_acquire);  // (1)
      if (chunk == nullptr) continue;
      for (std::size_t k = 0; k < Chunk && c * Chunk + k < end; ++k) {
        if (!visit(f, chunk[k])) return false;
      }
    }
    return true;
  }

 private:
  static constexpr std::size_t chunk_count = max_threads / Chunk;

  [[gnu::noinline]] R* publish(std::size_t c) {
    R* fresh = new R[Chunk];
    R* seen = nullptr;
    // (2) release: publishes the constructed records; pairs with (1). acquire on failure:
    // another thread published first, and we use its chunk, constructed.
    if (chunks_[c].compare_exchange_strong(seen, fresh, std::memory_order_acq_rel, std::memory_order_acquire)) {
      return fresh;
    }
    delete[] fresh;
    return seen;
  }

  const std::unique_ptr<lf::atomic<R*>[]> chunks_;
#endif
};

}  // namespace lf::detail
