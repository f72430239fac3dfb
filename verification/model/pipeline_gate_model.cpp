// Model lane for lf::pipeline's serial_in_order gate (patterns/detail/stage_gate.hpp),
// from that very header. The pipeline as a whole runs on a worker_pool, which Relacy
// cannot run; what can lose, repeat or reorder an item is the gate: an item that leaves
// itself in the reorder ring while the item before it leaves the stage (the store
// buffering pair (O2)/(O3) against (O4)/(O5)), and the CAS on the turn that decides who
// runs a deposited item. Each thread here is a carrier holding one item, as in
// pipeline::carry: enter; if entered or reclaimed, run the stage, leave, and run what
// leave hands back (the sink's loop). The stage is a log written through an lf::cell
// without any lock of its own, so a gate that lets two items in at once, or does not
// order one holder's stage before the next, is a DATA RACE; what ran is counted, so a
// stranded item (nobody runs it) or a repeated one is a USER ASSERT FAILED.
//
// Cases:
//   two_items     items 0 and 1 on two threads (window 2): every interleaving of the
//                 direct entry, the deposit with its re-check, and the leaver's look.
//   three_items   items 0, 1, 2 on three threads (window 3): hand-over chains (a leaver
//                 runs the next item and hands on the one after).
//   slot_reuse    two carriers, window 2, items 0..3: item k + 2 is born only once item k
//                 gave its token back (an lf::atomic counter standing for the source's
//                 word, (P4) -> (P1)), and lands in item k's slot: the slot's reuse must
//                 be ordered after its last use.
//
// Search. two_items: context bound 2, exhaustive within the bound (a stranded item needs
// the leaver's look to fall between the depositor's direct try and its deposit: one
// preemption). three_items and slot_reuse: random, 200,000 schedules each (a few
// seconds; the three-thread case and the spin of slot_reuse make the bounded search slow). The mutants in verification/mutants/pipeline_gate.cmake are each killed
// by the case named there, within the first few thousand schedules.
#include <cstdint>

#include "patterns/detail/stage_gate.hpp"
#include "sync/atomic.hpp"
#include "sync/cell.hpp"
#include "sync/thread.hpp"
#include "verification/model/model_driver.hpp"

namespace {

using gate_t = lf::detail::stage_gate<std::uint64_t>;

// What the stage saw: the items in the order they ran (plain memory, the gate's to order).
struct stage_log {
  lf::cell<std::uint64_t> next;     // the item the stage expects next
  lf::cell<std::uint64_t> checksum;  // sum of the values run

  void reset() {
    *next.write() = 0;
    *checksum.write() = 0;
  }
  void run(std::uint64_t seq, std::uint64_t value) {
    RL_ASSERT(*next.read() == seq);  // in order, once each
    *next.write() = seq + 1;
    *checksum.write() = *checksum.read() + value;
  }
};

// pipeline::carry at an in-order sink: enter, run, leave, and run what leave hands on.
template <class Done = void (*)(std::uint64_t)>
void carry(gate_t& gate, stage_log& log, std::uint64_t seq, Done done = [](std::uint64_t) {}) {
  std::uint64_t v = 100 + seq;
  switch (gate.enter(seq, v)) {
    case gate_t::entry::buffered:
      return;
    case gate_t::entry::reclaimed:
      v = gate.reclaim(seq);
      break;
    case gate_t::entry::entered:
      break;
  }
  for (;;) {
    RL_ASSERT(v == 100 + seq);  // the value deposited is the value run
    log.run(seq, v);
    std::optional<gate_t::item> next = gate.leave(seq);
    done(seq);
    if (!next) return;
    seq = next->first;
    v = next->second;
  }
}

template <unsigned Items>
struct in_order_items : rl::test_suite<in_order_items<Items>, Items> {
  gate_t gate;
  stage_log log;

  void before() {
    gate.init(1, true, Items);
    log.reset();
  }
  void thread(unsigned index) { carry(gate, log, index); }
  void after() {
    RL_ASSERT(*log.next.read() == Items);  // none stranded in the ring
    std::uint64_t sum = 0;
    for (unsigned i = 0; i < Items; ++i) sum += 100 + i;
    RL_ASSERT(*log.checksum.read() == sum);
  }
};

// Two carriers, window 2, items 0..3: each carrier takes item k + 2 only once item k is
// done (its token back: the source's word, (P4) -> (P1), stood for by `finished`), so
// items 2 and 3 land in the slots items 0 and 1 may have used.
struct slot_reuse : rl::test_suite<slot_reuse, 2> {
  gate_t gate;
  stage_log log;
  lf::atomic<int> finished{0};  // items run (each counted after its run, as finish_item does)

  void before() {
    gate.init(1, true, 2);
    log.reset();
  }
  void thread(unsigned index) {
    const auto done = [this](std::uint64_t) { finished.fetch_add(1, std::memory_order_release); };  // (P4)
    carry(gate, log, index, done);
    while (finished.load(std::memory_order_acquire) < static_cast<int>(index) + 1) lf::spin_pause();  // (P1)
    carry(gate, log, index + 2, done);
  }
  void after() {
    RL_ASSERT(*log.next.read() == 4);
    RL_ASSERT(*log.checksum.read() == 100 + 101 + 102 + 103);
  }
};

}  // namespace

int main(int argc, char** argv) {
  using lf::model::search;
  return lf::model::run_cases(argc, argv,
                              {
                                  LF_MODEL_CASE("two_items", search::bounded(2), in_order_items<2>),
                                  LF_MODEL_CASE("three_items", search::random(200000), in_order_items<3>),
                                  LF_MODEL_CASE("slot_reuse", search::random(200000), slot_reuse),
                              });
}
