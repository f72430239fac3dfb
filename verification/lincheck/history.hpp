// lf::lincheck — histories: what a concurrent run did, as invocations and responses.
//
// A history (Herlihy & Wing 1990; papers/herlihy-1990-linearizability.md) is the set of
// operations a run performed, each with its arguments, its result and two stamps: the
// moment it was invoked and the moment it responded. The checker (checker.hpp) asks
// whether some total order of the operations, consistent with the stamps, is a legal
// run of a sequential specification (specs.hpp).
//
// The recorder gives every thread its own buffer (no sharing but the clock), so logging
// an operation costs two fetch_adds on one counter and two stores into memory the thread
// owns. Why one shared counter is right, not merely convenient: the stamps are taken with
// acq_rel RMWs on one atomic, so each one reads the stamp before it in the counter's
// modification order. If A's response stamp precedes B's invocation stamp, A's
// response-RMW synchronizes with B's invocation-RMW, so A's operation happens before B's.
// Every "A before B" the checker is told is a real happens-before edge, never an accident
// of clocks, and a verdict "not linearizable" cannot come from the recording.
//
// The clock is an lf::atomic, so a model test (Relacy, verification/model) can record a
// history through the same recorder: the stamps are then scheduling points of the model.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "sync/atomic.hpp"
#include "sync/config.hpp"

namespace lf::lincheck {

using value = std::int64_t;

// "No value" as a result: an empty pop, a get of an absent key.
inline constexpr value none = std::numeric_limits<value>::min();

// One completed operation. `kind` is the specification's operation code; `arg`/`arg2` are
// its arguments (a pushed value, a key and a mapped value) and `result` its answer, each
// interpreted by the specification. `call` < `ret` are stamps from the recorder's clock.
struct operation {
  std::uint32_t thread = 0;
  std::uint32_t kind = 0;
  value arg = 0;
  value arg2 = 0;
  value result = 0;
  std::uint64_t call = 0;
  std::uint64_t ret = 0;
};

using history = std::vector<operation>;

// Per-thread logs stamped from one clock. Thread t calls `invoke` right before the
// operation and `respond` right after it, in that order, one operation at a time.
class recorder {
 public:
  // `threads` logs, each with room for `ops_per_thread` operations reserved up front so
  // that recording never allocates while the run is timed (it may, past the hint).
  explicit recorder(std::size_t threads, std::size_t ops_per_thread = 64) : logs_(threads) {
    if (threads == 0) throw std::invalid_argument("lf::lincheck::recorder: threads must be > 0, got 0");
    for (auto& l : logs_) l.value.ops.reserve(ops_per_thread);
    clock_.store(0, std::memory_order_relaxed);  // relaxed: published by the threads' start
  }

  // Returns the index of the operation in thread t's log, for `respond`.
  std::size_t invoke(std::size_t t, std::uint32_t kind, value arg = 0, value arg2 = 0) {
    auto& ops = log(t);
    operation op;
    op.thread = static_cast<std::uint32_t>(t);
    op.kind = kind;
    op.arg = arg;
    op.arg2 = arg2;
    op.call = tick();
    ops.push_back(op);
    return ops.size() - 1;
  }

  void respond(std::size_t t, std::size_t index, value result) {
    auto& op = log(t).at(index);
    op.ret = tick();
    op.result = result;
  }

  // Every operation of every thread. Call after the threads have been joined.
  history collect() const {
    history h;
    for (const auto& l : logs_) h.insert(h.end(), l.value.ops.begin(), l.value.ops.end());
    return h;
  }

  std::size_t threads() const noexcept { return logs_.size(); }

 private:
  struct thread_log {
    std::vector<operation> ops;
  };

  std::vector<operation>& log(std::size_t t) {
    if (t >= logs_.size()) {
      throw std::invalid_argument("lf::lincheck::recorder: thread index " + std::to_string(t) + " >= threads " +
                                  std::to_string(logs_.size()));
    }
    return logs_[t].value.ops;
  }

  // acq_rel: each stamp synchronizes with the one before it (see the header comment).
  std::uint64_t tick() { return clock_.fetch_add(1, std::memory_order_acq_rel); }

  lf::atomic<std::uint64_t> clock_;
  std::vector<padded<thread_log>> logs_;  // padded: each thread writes only its own line
};

}  // namespace lf::lincheck
