// Litmus lane: the orders of lf's headers that the Relacy lane cannot judge, each as the
// smallest program that shows its pattern, checked exhaustively by litmus.hpp against
// C++20 (and, where Relacy's C++11 release sequences are the reason it is blind, against
// C++11 too). Each pattern runs twice: with the order the header ships, where the bad
// outcome must be forbidden, and with the weakening, where it must be reachable. The
// weakened run is this lane's mutant: the case fails if the weakening is not seen.
// papers/model-checker-blind-spots.md walks through them.
//
// Bounds: none are needed. Every program has at most 13 events and 3 stores to a
// location, so the enumeration of every reads-from and modification-order choice is
// complete (the counts are printed) and takes milliseconds.
#include <cstdio>

#include "verification/litmus/litmus.hpp"

namespace {

using namespace lf::litmus;

int failures = 0;

void expect(bool got, bool want, const char* what) {
  if (got != want) {
    std::printf("litmus: FAILED: %s\n", what);
    ++failures;
  }
}

// The checker's own calibration: message passing and load buffering, the two shapes
// the lf cases are made of, with the answers every C++ memory-model tool gives.
void calibration() {
  enum { data = 0, flag = 1 };
  for (order w : {order::release, order::relaxed}) {
    program mp{2, {{plain_write(data), store(flag, 1, w)}, {load(flag, order::acquire, 1), plain_read(data)}}};
    const bool race = reachable(w == order::release ? "calibration: message passing, release/acquire"
                                                    : "calibration: message passing, relaxed/acquire",
                                mp, release_rule::cxx20, [](const execution& x) { return x.race; });
    expect(race, w == order::relaxed, "message passing");
  }
  enum { x = 0, y = 1 };
  program lb{2, {{load(x, order::relaxed), store(y, 1, order::relaxed)}, {load(y, order::relaxed), store(x, 1, order::relaxed)}}};
  expect(reachable("calibration: load buffering, relaxed", lb, release_rule::cxx20,
                   [](const execution& e) { return e.read_value[0][0] == 1 && e.read_value[1][0] == 1; }),
         true, "load buffering is allowed by C++ (no thin-air axiom)");
}

// Row "steal's CAS on top (7)" — lockfree/chase_lev_deque.hpp. A thief reads the slot
// of position t, then CASes top from t to t + 1. The owner's push (1) acquires top = t + 1
// and writes the same slot for the position one lap later. The thief must not read that
// later value: its read happens before the owner's write only through (7)'s release.
// Relaxed, nothing orders the read before the CAS, and the read may take the owner's
// later store (load buffering; a compiler may also sink the relaxed load below the
// relaxed CAS). Relacy never lets a load read a store that comes later in its schedule,
// so it cannot see this; the checker can. The shipped order is seq_cst, which this
// checker does not model; its release half is what the argument uses.
void chase_lev_steal_cas() {
  enum { top = 0, slot = 1 };
  for (order cas : {order::release, order::relaxed}) {
    program p{2,
              {{load(slot, order::relaxed), rmw(top, 0, 1, cas)},                    // thief: read, (7)
               {load(top, order::acquire, 1), store(slot, 2, order::relaxed)}}};  // owner: (1), next lap
    const bool stale = reachable(cas == order::release ? "chase_lev steal CAS (7) release: thief reads next lap"
                                                       : "chase_lev steal CAS (7) relaxed: thief reads next lap",
                                 p, release_rule::cxx20, [](const execution& x) { return x.read_value[0][0] == 2; });
    expect(stale, cas == order::relaxed, "chase_lev steal CAS (7)");
  }
}

// Row "pop's last-element CAS on top" — lockfree/chase_lev_deque.hpp, relaxed there
// (argued in the header). The owner's pop CASes top after a thief's CAS (7); a later
// push (1) acquires top from the owner's own CAS. The thief's read of the slot must still
// happen before the owner's next write of it: the pop's CAS is a read-modify-write, so
// it continues the release sequence that the thief's (7) heads, whatever its own order.
void chase_lev_pop_cas() {
  enum { top = 0, slot = 1 };
  program p{2,
            {{load(slot, order::relaxed), rmw(top, 0, 1, order::release)},   // thief: read, (7)
             {rmw(top, 1, 2, order::relaxed),                                  // owner: pop's CAS
              load(top, order::acquire, 2), store(slot, 2, order::relaxed)}}};  // push: (1), next lap
  expect(reachable("chase_lev pop CAS relaxed: thief reads next lap", p, release_rule::cxx20,
                   [](const execution& x) { return x.read_value[0][0] == 2; }),
         false, "chase_lev pop CAS relaxed");
}

// Rows "the read side's (2) release store" — rcu/rcu.hpp — and "the pin announcement (2)
// release store" — rcu/detail/epoch_records.hpp. A reader's section reads an object and
// ends with the release store (4) of 0; its next section announces itself with (2). A
// grace period (an advance) that reads that announcement no longer waits for the reader,
// and the object may be freed. The section's read must happen before the free: through
// (4), if (2) is in the release sequence (4) heads — C++11's rule, which Relacy follows
// (a later plain store of the same thread continues it) — but C++20's release sequence
// is (4) and the read-modify-writes after it only. So C++20 needs (2) itself to release.
// The reader's seq_cst fences (3), modelled as acq_rel here, add no edge in the needed
// direction: the older one comes before the section's read, the newer one after (2).
void rcu_read_side_announcement() {
  enum { record = 0, counter = 1, object = 2 };
  for (order announce : {order::release, order::relaxed}) {
    for (release_rule rule : {release_rule::cxx20, release_rule::cxx11}) {
      program p{3,
                {{fence(order::acq_rel), plain_read(object),         // (3) of the old section; its read
                  store(record, 0, order::release),                   // (4) unlock
                  load(counter, order::relaxed, 1),                   // (1) of the new section: after the advance
                  store(record, 1, announce), fence(order::acq_rel)},  // (2), (3)
                 {fence(order::acq_rel), rmw(counter, 0, 1, order::relaxed),  // grace period: (6), (7)
                  load(record, order::acquire, 1),                            // (9): a snapshot >= target
                  plain_write(object)}}};                                     // the delete
      const char* name = announce == order::release ? "rcu read side (2) release: delete races the read"
                                                    : "rcu read side (2) relaxed: delete races the read";
      const bool race = reachable(name, p, rule, [](const execution& x) { return x.race; });
      expect(race, announce == order::relaxed && rule == release_rule::cxx20, name);
    }
  }
}

void epoch_pin_announcement() {
  enum { state = 0, epoch = 1, object = 2 };
  for (order announce : {order::release, order::relaxed}) {
    for (release_rule rule : {release_rule::cxx20, release_rule::cxx11}) {
      program p{3,
                {{fence(order::acq_rel), plain_read(object),  // (3) of the old pin; its read
                  store(state, 0, order::release),             // (4) unpin
                  load(epoch, order::relaxed, 0),              // (1) of the new pin: epoch 0
                  store(state, 1, announce), fence(order::acq_rel)},  // (2) announce(0), (3)
                 {load(epoch, order::relaxed, 0), fence(order::acq_rel),  // advance: (5), (6)
                  load(state, order::acquire, 1),                         // (7): pinned at 0
                  rmw(epoch, 0, 1, order::release)},                      // (8)
                 {load(epoch, order::acquire, 1), plain_write(object)}}};  // (11), the free
      const char* name = announce == order::release ? "epoch pin (2) release: free races the read"
                                                    : "epoch pin (2) relaxed: free races the read";
      const bool race = reachable(name, p, rule, [](const execution& x) { return x.race; });
      expect(race, announce == order::relaxed && rule == release_rule::cxx20, name);
    }
  }
}

}  // namespace

int main() {
  calibration();
  chase_lev_steal_cas();
  chase_lev_pop_cas();
  rcu_read_side_announcement();
  epoch_pin_announcement();
  std::printf("litmus: %s\n", failures == 0 ? "all as expected" : "FAILED");
  return failures == 0 ? 0 : 1;
}
