// Model lane for lf::channel and lf::select (patterns/channel.hpp, patterns/select.hpp,
// patterns/detail/channel_*.hpp), from those very headers. Capacities are the test's
// choice and tiny (1 or 2 slots): every edge of the ring (full, empty, a slot still being
// written or emptied) is a step or two away. The library has no other constant to shrink
// under the model: the spins before sleeping (chan_spin) are 0 there, and the select's
// poll order is the argument order (no random state carried between runs).
//
// Cases and what each would catch:
//   send_races_parking_receiver    buffered: a push racing a receiver on its way to sleep
//                                  (the [F1]/[F2] handshake): a lost wake-up is DEADLOCK.
//   recv_races_parking_sender      the same from the other side: a full buffer, a sender
//                                  on its way to sleep, a receive that makes room.
//   relay_behind_a_slow_producer   a wake-up spent on a receiver that found the head slot
//                                  still being written must not strand the value behind
//                                  it (the receivers' relay rule).
//   relay_behind_a_slow_receiver   the mirror image on a full buffer (the senders' relay).
//   unbuffered_handoff             a send completes only after the receiver entered recv,
//                                  and the value arrives intact (a missing wake is DEADLOCK,
//                                  a hand-off without happens-before a DATA RACE).
//   timed_handoff_is_all_or_nothing  a timed send and a timed receive on an unbuffered
//                                  channel (Relacy times a timed wait out at any step):
//                                  the send returned ok iff the receive got the value.
//   close_wakes_blocked_receivers  two receivers blocked on an unbuffered channel, a third
//                                  thread closes: both return closed.
//   close_races_an_unbuffered_pair a sender, a receiver and a close: both ok (they met) or
//                                  both closed.
//   close_races_blocked_sender     a full buffer, a blocked sender, a close and a draining
//                                  receiver: the send returns ok iff its value is drained.
//   select_claims_exactly_one_case two timed senders offer to one select over two
//                                  unbuffered channels: at most one is taken, and the one
//                                  whose send returned ok is the one the select got.
//   list_select_claims_exactly_one_case  the same select as an lf::select_cases list with
//                                  a nil case in it.
//   select_over_buffered_channels  a select receiving twice from two buffered channels,
//                                  woken by "try again" wake-ups.
//   two_by_two_through_one_slot    two senders, two receivers, one slot.
//   cancel_wakes_a_blocked_receiver  recv(ctx) blocked on an unbuffered channel, another
//                                  thread cancels (lf::context under the model as well).
//
// Search, and why it suffices. Two-thread cases: context bound 2, exhaustive within the
// bound (50k-1.2M schedules, 0.2-5 s). A lost wake-up needs one preemption (the sleeper
// between queueing itself and its re-check, or the fast path between its ring operation
// and its load of the waiter count) and a hand-off race one more, so K=2 covers them with
// room. Cases with three or four threads: random search. Measured here: their bounded
// searches run past ten minutes even at K=1 (every wake-up may be spurious, so a waiter
// loops and the schedule tree is deep), while the bugs they target need one or two
// specific preemptions. The relay cases take 10^6 random schedules (about 6 s each): the
// relay mutants are first killed at schedule 181,060 and 256,587 (Relacy's random
// scheduler is seeded, so these are the same every run), so the budget is 3.9-5.5 times
// the measured distance to the first failing schedule (DESIGN §2: the cheapest search
// that kills the case's mutants; 2*10^6 was run until CI time ran short); the other random cases
// take 2*10^5 or 10^6, and their mutants die within the first few hundred schedules. Every
// mutant in verification/mutants/channel.cmake is killed by its case within 3 s.
#include <chrono>
#include <optional>

#include "patterns/channel.hpp"
#include "patterns/context.hpp"
#include "patterns/select.hpp"
#include "sync/atomic.hpp"
#include "verification/model/model_driver.hpp"

namespace {

using lf::chan_status;

// A deadline that poll() never reaches: under the model a timed wait may time out at any
// step anyway, and the clock must not make a replayed schedule differ. Not
// time_point::max() itself, which every wait reads as "no deadline" (lf::deadline_after):
// the wait would then be untimed, and a sender the select did not take would block for
// ever (a DEADLOCK verdict at the first schedule instead of the timeout paths checked).
inline lf::wait_clock::time_point model_deadline() {
  return lf::wait_clock::time_point::max() - std::chrono::hours(1);
}

struct send_races_parking_receiver : rl::test_suite<send_races_parking_receiver, 2> {
  lf::channel<int> ch{1};

  void thread(unsigned index) {
    if (index == 0) {
      RL_ASSERT(ch.send(42) == chan_status::ok);
    } else {
      auto r = ch.recv();
      RL_ASSERT(r.ok() && *r == 42);
    }
  }
};

struct recv_races_parking_sender : rl::test_suite<recv_races_parking_sender, 2> {
  lf::channel<int> ch{1};

  void before() { RL_ASSERT(ch.try_send(1) == chan_status::ok); }

  void thread(unsigned index) {
    if (index == 0) {
      RL_ASSERT(ch.send(2) == chan_status::ok);  // blocks until the receive makes room
    } else {
      auto r = ch.recv();
      RL_ASSERT(r.ok() && *r == 1);
    }
  }

  void after() {
    auto r = ch.try_recv();
    RL_ASSERT(r.ok() && *r == 2);
  }
};

// Thread 0 sends 1; thread 1 sends 2, then receives; thread 2 receives. The schedule
// that needs the relay (one preemption): thread 2 sleeps; thread 0 claims slot 0 and is
// preempted before writing it; thread 1 fills slot 1 and wakes thread 2, then finds slot
// 0 unwritten and sleeps; thread 2 finds slot 0 unwritten too and sleeps again; thread 0
// writes slot 0 and wakes thread 1, which takes it. Slot 1 then waits for thread 2, and
// only thread 1's relay wakes it.
struct relay_behind_a_slow_producer : rl::test_suite<relay_behind_a_slow_producer, 3> {
  lf::channel<int> ch{2};
  int got[2] = {0, 0};

  void thread(unsigned index) {
    if (index == 0) {
      RL_ASSERT(ch.send(1) == chan_status::ok);
      return;
    }
    if (index == 1) RL_ASSERT(ch.send(2) == chan_status::ok);
    auto r = ch.recv();
    RL_ASSERT(r.ok());
    got[index - 1] = *r;
  }

  void after() { RL_ASSERT(got[0] + got[1] == 3); }
};

// The mirror image for senders, on a full buffer: thread 0 receives; thread 1 receives,
// then sends; thread 2 sends. Thread 0 claims slot 0's value and is preempted before
// freeing the slot; thread 1 empties slot 1, wakes thread 2 and then sends, finding the
// next slot (slot 0) not yet free; both sleep; thread 0 frees slot 0 and wakes thread 1,
// which fills it. Slot 1 is free and only thread 1's relay wakes thread 2.
struct relay_behind_a_slow_receiver : rl::test_suite<relay_behind_a_slow_receiver, 3> {
  lf::channel<int> ch{2};
  int got[2] = {0, 0};

  void before() {
    RL_ASSERT(ch.try_send(1) == chan_status::ok);
    RL_ASSERT(ch.try_send(2) == chan_status::ok);
  }

  void thread(unsigned index) {
    if (index == 2) {
      RL_ASSERT(ch.send(4) == chan_status::ok);
      return;
    }
    auto r = ch.recv();
    RL_ASSERT(r.ok());
    got[index] = *r;
    if (index == 1) RL_ASSERT(ch.send(3) == chan_status::ok);
  }

  void after() {
    int left = 0;
    for (auto r = ch.try_recv(); r.ok(); r = ch.try_recv()) left += *r;
    RL_ASSERT(got[0] + got[1] + left == 10);
  }
};

struct unbuffered_handoff : rl::test_suite<unbuffered_handoff, 2> {
  lf::channel<int> ch;
  lf::atomic<int> receiving{0};

  void thread(unsigned index) {
    if (index == 0) {
      RL_ASSERT(ch.send(42) == chan_status::ok);
      // Rendezvous: the send returned, so a receiver was inside recv().
      RL_ASSERT(receiving.load(std::memory_order_relaxed) == 1);
    } else {
      receiving.store(1, std::memory_order_relaxed);
      auto r = ch.recv();
      RL_ASSERT(r.ok() && *r == 42);
    }
  }
};

struct timed_handoff_is_all_or_nothing : rl::test_suite<timed_handoff_is_all_or_nothing, 2> {
  lf::channel<int> ch;
  chan_status sent = chan_status::would_block;
  std::optional<int> got;

  void thread(unsigned index) {
    if (index == 0) {
      sent = ch.send_until(7, model_deadline());
    } else {
      auto r = ch.recv_until(model_deadline());
      RL_ASSERT(r.ok() || r.status() == chan_status::timeout);
      if (r.ok()) got = *r;
    }
  }

  void after() {
    RL_ASSERT(sent == chan_status::ok || sent == chan_status::timeout);
    RL_ASSERT((sent == chan_status::ok) == got.has_value());
    if (got) RL_ASSERT(*got == 7);
  }
};

struct close_wakes_blocked_receivers : rl::test_suite<close_wakes_blocked_receivers, 3> {
  lf::channel<int> ch;

  void thread(unsigned index) {
    if (index == 0) {
      RL_ASSERT(ch.close());
    } else {
      RL_ASSERT(ch.recv().status() == chan_status::closed);
    }
  }
};

// An unbuffered sender and receiver racing a close: either they met before the close
// (both ok, the value delivered) or both report closed; never one of each.
struct close_races_an_unbuffered_pair : rl::test_suite<close_races_an_unbuffered_pair, 3> {
  lf::channel<int> ch;
  chan_status sent = chan_status::would_block;
  chan_status received = chan_status::would_block;
  int got = 0;

  void thread(unsigned index) {
    if (index == 0) {
      RL_ASSERT(ch.close());
    } else if (index == 1) {
      sent = ch.send(5);
    } else {
      auto r = ch.recv();
      received = r.status();
      if (r.ok()) got = *r;
    }
  }

  void after() {
    RL_ASSERT(sent == chan_status::ok || sent == chan_status::closed);
    RL_ASSERT(sent == received);
    RL_ASSERT(got == (sent == chan_status::ok ? 5 : 0));
  }
};

struct close_races_blocked_sender : rl::test_suite<close_races_blocked_sender, 3> {
  lf::channel<int> ch{1};
  chan_status sent = chan_status::would_block;
  int drained = 0;

  void before() { RL_ASSERT(ch.try_send(1) == chan_status::ok); }

  void thread(unsigned index) {
    if (index == 0) {
      sent = ch.send(2);
      RL_ASSERT(sent == chan_status::ok || sent == chan_status::closed);
    } else if (index == 1) {
      RL_ASSERT(ch.close());
    } else {
      for (;;) {
        auto r = ch.recv();
        if (!r.ok()) break;
        drained += *r;
      }
    }
  }

  // Every send that returned ok is received: 1 always, 2 iff the blocked send got in.
  void after() { RL_ASSERT(drained == (sent == chan_status::ok ? 3 : 1)); }
};

// Listed: the same select built as an lf::select_cases list (its nil filter and index
// mapping run under the model too), with a nil case first to shift the indices.
template <bool Listed>
struct select_claims_one_case : rl::test_suite<select_claims_one_case<Listed>, 3> {
  lf::channel<int> a;
  lf::channel<int> b;
  chan_status sent[2] = {chan_status::would_block, chan_status::would_block};
  int got = 0;
  int fired = -1;

  void thread(unsigned index) {
    if (index == 0) {
      const auto take = [&](int v) { got = v; };
      // The timer never fires by the clock; Relacy may time the wait out at any step.
      if constexpr (Listed) {
        lf::select_cases cases;
        cases.on_recv(static_cast<lf::channel<int>*>(nullptr), take);
        cases.on_recv(a, take);
        cases.on_recv(b, take);
        cases.after(std::chrono::hours(1000), [] {});
        fired = static_cast<int>(lf::select(cases).index) - 1;
      } else {
        fired = static_cast<int>(
            lf::select(lf::on_recv(a, take), lf::on_recv(b, take), lf::after(std::chrono::hours(1000), [] {})).index);
      }
    } else {
      lf::channel<int>& ch = index == 1 ? a : b;
      sent[index - 1] = ch.send_until(static_cast<int>(index), model_deadline());
    }
  }

  void after() {
    // At most one sender was taken, and it is the one the select reports.
    const int ok = (sent[0] == chan_status::ok) + (sent[1] == chan_status::ok);
    if (fired == 2) {  // the select timed out
      RL_ASSERT(ok == 0 && got == 0);
    } else {
      RL_ASSERT(fired == 0 || fired == 1);
      RL_ASSERT(ok == 1);
      RL_ASSERT(sent[fired] == chan_status::ok);
      RL_ASSERT(got == fired + 1);
    }
  }
};

// A select over two buffered channels receives twice while two threads each send once:
// a "try again" wake-up reaches a select, which must retry that case and, if it lost the
// value, go round rather than sleep past the other channel's value.
struct select_over_buffered_channels : rl::test_suite<select_over_buffered_channels, 3> {
  lf::channel<int> a{1};
  lf::channel<int> b{1};
  int got = 0;

  void thread(unsigned index) {
    if (index == 0) {
      for (int i = 0; i < 2; ++i) {
        const auto r = lf::select(lf::on_recv(a, [&](int v) { got += v; }), lf::on_recv(b, [&](int v) { got += v; }));
        RL_ASSERT(r.status == chan_status::ok);
      }
    } else {
      RL_ASSERT((index == 1 ? a : b).send(static_cast<int>(index)) == chan_status::ok);
    }
  }

  void after() { RL_ASSERT(got == 3); }
};

// Two senders and two receivers through one slot.
struct two_by_two_through_one_slot : rl::test_suite<two_by_two_through_one_slot, 4> {
  lf::channel<int> ch{1};
  lf::atomic<int> sum{0};

  void thread(unsigned index) {
    if (index < 2) {
      RL_ASSERT(ch.send(static_cast<int>(index) + 1) == chan_status::ok);
    } else {
      auto r = ch.recv();
      RL_ASSERT(r.ok());
      sum.fetch_add(*r, std::memory_order_relaxed);
    }
  }

  void after() { RL_ASSERT(sum.load(std::memory_order_relaxed) == 3); }
};

struct cancel_wakes_a_blocked_receiver : rl::test_suite<cancel_wakes_a_blocked_receiver, 2> {
  lf::channel<int> ch;
  lf::context ctx;
  lf::cancel_func cancel;

  void before() {
    auto [c, f] = lf::with_cancel(lf::background());
    ctx = c;
    cancel = f;
  }

  void thread(unsigned index) {
    if (index == 0) {
      RL_ASSERT(ch.recv(ctx).status() == chan_status::canceled);
    } else {
      cancel();
    }
  }

  void after() {
    ctx = lf::context();
    cancel = lf::cancel_func();
  }
};

}  // namespace

int main(int argc, char** argv) {
  using lf::model::search;
  return lf::model::run_cases(
      argc, argv,
      {
          LF_MODEL_CASE("send_races_parking_receiver", search::bounded(2), send_races_parking_receiver),
          LF_MODEL_CASE("recv_races_parking_sender", search::bounded(2), recv_races_parking_sender),
          LF_MODEL_CASE("relay_behind_a_slow_producer", search::random(1000000), relay_behind_a_slow_producer),
          LF_MODEL_CASE("relay_behind_a_slow_receiver", search::random(1000000), relay_behind_a_slow_receiver),
          LF_MODEL_CASE("unbuffered_handoff", search::bounded(2), unbuffered_handoff),
          LF_MODEL_CASE("timed_handoff_is_all_or_nothing", search::bounded(2), timed_handoff_is_all_or_nothing),
          LF_MODEL_CASE("close_wakes_blocked_receivers", search::random(200000), close_wakes_blocked_receivers),
          LF_MODEL_CASE("close_races_an_unbuffered_pair", search::random(200000), close_races_an_unbuffered_pair),
          LF_MODEL_CASE("close_races_blocked_sender", search::random(200000), close_races_blocked_sender),
          LF_MODEL_CASE("select_claims_exactly_one_case", search::random(200000), select_claims_one_case<false>),
          LF_MODEL_CASE("list_select_claims_exactly_one_case", search::random(200000), select_claims_one_case<true>),
          LF_MODEL_CASE("select_over_buffered_channels", search::random(1000000), select_over_buffered_channels),
          LF_MODEL_CASE("two_by_two_through_one_slot", search::random(1000000), two_by_two_through_one_slot),
          LF_MODEL_CASE("cancel_wakes_a_blocked_receiver", search::bounded(2), cancel_wakes_a_blocked_receiver),
      });
}
