// Model lane for channel operations awaited by coroutines (patterns/detail/channel_await.hpp,
// the waiter's coroutine owner in patterns/detail/waiter.hpp and chan_waiter's suspend /
// resumed / withdrawn, (K0)/(K1) and (W0)-(W5) in patterns/detail/channel_core.hpp),
// checked from those very headers: real lf::task coroutines awaiting lf::recv / lf::send
// on lf::channel, raced by a Relacy thread that sends, closes or cancels.
//
// As in task_model.cpp, no worker_pool runs under the model, so the coroutine's fiber has
// no pool: the claimer's wake-up posts its resumption to the thread that drives it
// (lf::sync_wait: root_base::post_to_driver), the path a pool-less fiber takes in
// production. The claimer's side — the CAS out of "waiting", the hand-off, the wake-up
// and its release of the word — is the same whether the resumption is then queued on a
// pool or posted to a driver, and that is what races here. Only one Relacy thread runs
// coroutines in each case, so g++'s per-OS-thread trampoline for symmetric transfer
// (coro_fiber.hpp), which Relacy's threads would share, is used by one of them only.
//
// Cases and what each would catch:
//   recv_races_a_thread_send_unbuffered  a coroutine receiver (its sync_wait driver asleep
//                          once it suspends) against a thread's send: resumed exactly
//                          once (never: DEADLOCK; twice: USER ASSERT FAILED or freed
//                          memory), with the value and what the sender wrote before
//                          sending (DATA RACE if the resumption is not ordered after them).
//   recv_races_a_thread_send_buffered    the same on a 1-slot channel with two values: the
//                          coroutine's "try again" rounds (the rounds task) and the ring's
//                          wake-ups; values in order.
//   send_races_a_thread_recv_unbuffered  a coroutine sender against a thread receiver.
//   close_races_a_suspended_receiver     close resumes it with closed, once.
//   cancel_races_a_suspended_recv        recv(ch, ctx) with no sender; a cancel resumes it
//                          with canceled, once (the context callback as the claimer).
//   frame_destroyed_while_a_sender_hands_off  the receiver's frame is destroyed (its
//                          fiber abandoned, what the pool's destruction does) while a
//                          thread's try_send claims it: the claimer never touches the
//                          freed frame (ACCESS TO FREED MEMORY), a value handed over is
//                          destroyed (MEMORY LEAK otherwise), and the coroutine is never
//                          resumed.
//   wait_group_waiter_races_the_last_done  co_await lf::wait(wg) against the done() that
//                          brings the count to zero ([G1]/[G2], the coro_wait_list's
//                          wake-up on the same waiter).
//   select_races_two_senders  co_await lf::co_select over two unbuffered channels against
//                          two thread senders (three threads): exactly one case commits
//                          (one handler, one resumption, the sender's payload visible),
//                          and the other sender's value reaches a later receive (not
//                          lost into the select, no link left queued in its freed frame).
//   select_cancel_races_a_sender  co_select over a channel and a context's done, raced by a
//                          thread sender and a thread that cancels: the context callback
//                          and the channel claimer race for the one waiter; one commits,
//                          and a cancelled select leaves the value to a later receive.
//
// Search, and why it suffices. Two threads each, a handful of atomic steps on the waiter's
// word and the channel lock. A lost or double resumption needs one preemption (the
// coroutine between queueing its link and its suspend() CAS (K1), or the claimer between
// its transition to done and its wake-up); an unpublished value one (the claimer between
// its claim and its move); the posted resumption to the sleeping driver (J4) one more.
// So a context bound of 2 covers each with room, exhaustively within the bound; bound 3
// cost 10-40x more here for no new schedule shape. The three-thread select cases take a
// random search: its bounded search ran past ten minutes even at bound 1 (every wait may
// be spurious, so the tree is deep; channel_model.cpp measured the same), and 2*10^5
// schedules take ~3-4 s each. Their mutants die at schedules 1, 68, 259 (two senders)
// and 2972 (the cancel), measured, so the budget is 67 times the farthest. Every mutant in verification/mutants/coro_channel.cmake
// is killed by its case within this search.
#include <coroutine>
#include <memory>
#include <utility>

#include "patterns/awaitables.hpp"
#include "patterns/channel.hpp"
#include "patterns/context.hpp"
#include "patterns/select.hpp"
#include "patterns/task.hpp"
#include "patterns/wait_group.hpp"
#include "sync/atomic.hpp"
#include "sync/cell.hpp"
#include "verification/model/fiber_of.hpp"
#include "verification/model/model_driver.hpp"

namespace {

using lf::chan_status;

using lf::model::fiber_of;

struct recv_races_a_thread_send_unbuffered : rl::test_suite<recv_races_a_thread_send_unbuffered, 2> {
  lf::channel<int> ch;
  lf::cell<int> payload;
  int resumed = 0;  // thread 1 only

  static lf::task<int> receiver(recv_races_a_thread_send_unbuffered& t) {
    auto r = co_await lf::recv(t.ch);
    ++t.resumed;
    RL_ASSERT(*t.payload.read() == 1);  // written before the send: ordered by the hand-off
    co_return *r;
  }

  void before() { resumed = 0; }

  void thread(unsigned index) {
    if (index == 0) {
      *payload.write() = 1;
      RL_ASSERT(ch.send(42) == chan_status::ok);
      return;
    }
    RL_ASSERT(lf::sync_wait(receiver(*this)) == 42);
  }

  void after() { RL_ASSERT(resumed == 1); }
};

struct recv_races_a_thread_send_buffered : rl::test_suite<recv_races_a_thread_send_buffered, 2> {
  lf::channel<int> ch{1};

  static lf::task<void> receiver(recv_races_a_thread_send_buffered& t) {
    auto a = co_await lf::recv(t.ch);
    auto b = co_await lf::recv(t.ch);
    RL_ASSERT(a.ok() && *a == 1);
    RL_ASSERT(b.ok() && *b == 2);
  }

  void thread(unsigned index) {
    if (index == 0) {
      RL_ASSERT(ch.send(1) == chan_status::ok);
      RL_ASSERT(ch.send(2) == chan_status::ok);
      return;
    }
    lf::sync_wait(receiver(*this));
  }
};

struct send_races_a_thread_recv_unbuffered : rl::test_suite<send_races_a_thread_recv_unbuffered, 2> {
  lf::channel<int> ch;

  static lf::task<chan_status> sender(send_races_a_thread_recv_unbuffered& t) { co_return co_await lf::send(t.ch, 7); }

  void thread(unsigned index) {
    if (index == 0) {
      auto r = ch.recv();
      RL_ASSERT(r.ok() && *r == 7);
      return;
    }
    RL_ASSERT(lf::sync_wait(sender(*this)) == chan_status::ok);
  }
};

struct close_races_a_suspended_receiver : rl::test_suite<close_races_a_suspended_receiver, 2> {
  lf::channel<int> ch;
  int resumed = 0;  // thread 1 only

  static lf::task<chan_status> receiver(close_races_a_suspended_receiver& t) {
    auto r = co_await lf::recv(t.ch);
    ++t.resumed;
    co_return r.status();
  }

  void before() { resumed = 0; }

  void thread(unsigned index) {
    if (index == 0) {
      RL_ASSERT(ch.close());
      return;
    }
    RL_ASSERT(lf::sync_wait(receiver(*this)) == chan_status::closed);
  }

  void after() { RL_ASSERT(resumed == 1); }
};

struct cancel_races_a_suspended_recv : rl::test_suite<cancel_races_a_suspended_recv, 2> {
  lf::channel<int> ch;
  lf::context ctx;
  lf::cancel_func cancel;
  int resumed = 0;  // thread 1 only

  static lf::task<chan_status> receiver(cancel_races_a_suspended_recv& t) {
    auto r = co_await lf::recv(t.ch, t.ctx);
    ++t.resumed;
    co_return r.status();
  }

  void before() {
    resumed = 0;
    auto [c, f] = lf::with_cancel(lf::background());
    ctx = c;
    cancel = f;
  }

  void thread(unsigned index) {
    if (index == 0) {
      cancel();
      return;
    }
    RL_ASSERT(lf::sync_wait(receiver(*this)) == chan_status::canceled);
  }

  void after() { RL_ASSERT(resumed == 1); }
};

struct frame_destroyed_while_a_sender_hands_off : rl::test_suite<frame_destroyed_while_a_sender_hands_off, 2> {
  lf::channel<std::unique_ptr<int>> ch;
  lf::join_handle<void> awaiting;
  lf::detail::coro_fiber* awaiting_state = nullptr;
  int resumed = 0;

  static lf::task<void> receiver(frame_destroyed_while_a_sender_hands_off& t) {
    co_await fiber_of{&t.awaiting_state};
    (void)co_await lf::recv(t.ch);
    ++t.resumed;
  }

  void before() {
    resumed = 0;
    awaiting = lf::start_fiber<void>(nullptr, receiver(*this));  // runs until it suspends in recv
    RL_ASSERT(awaiting_state != nullptr && !awaiting.is_ready());
  }

  void thread(unsigned index) {
    if (index == 0) {
      // ok: handed over to the receiver (whose frame then destroys it); would_block: the
      // receiver was withdrawn first, and the value stays here.
      const chan_status st = ch.try_send(std::make_unique<int>(5));
      RL_ASSERT(st == chan_status::ok || st == chan_status::would_block);
      return;
    }
    awaiting_state->abandon();  // what the pool's destroy_all does to a suspended fiber
    awaiting.detach();
  }

  void after() { RL_ASSERT(resumed == 0); }
};

// lf::wait(wg) (patterns/awaitables.hpp, wait_group.hpp [G1]/[G2]): a coroutine waits on
// a count of one while a thread writes a payload and calls done(). Resumed exactly once
// (DEADLOCK if the store-buffering handshake loses the wake-up) and sees the payload.
struct wait_group_waiter_races_the_last_done : rl::test_suite<wait_group_waiter_races_the_last_done, 2> {
  lf::wait_group wg;
  lf::cell<int> payload;
  int resumed = 0;  // thread 1 only

  static lf::task<void> waiter(wait_group_waiter_races_the_last_done& t) {
    co_await lf::wait(t.wg);
    ++t.resumed;
    RL_ASSERT(*t.payload.read() == 1);
  }

  void before() {
    resumed = 0;
    wg.add(1);
  }

  void thread(unsigned index) {
    if (index == 0) {
      *payload.write() = 1;
      wg.done();
      return;
    }
    lf::sync_wait(waiter(*this));
  }

  void after() { RL_ASSERT(resumed == 1); }
};

// co_await lf::co_select (patterns/detail/select_await.hpp) over two unbuffered channels,
// raced by two thread senders, one per channel. Whichever commits first (a sender's claim
// of the select's waiter, or the select's own poll of a sender already queued), exactly one
// case runs: the select's value and status are one sender's, and what that sender wrote
// before sending is visible (DATA RACE otherwise). The other sender's value is not lost:
// after the selecting coroutine's frame is freed, the thread receives it from the other
// channel (DEADLOCK if it went into the select's slot as well; ACCESS TO FREED MEMORY if
// the select left its other link queued and the sender walks it).
struct select_races_two_senders : rl::test_suite<select_races_two_senders, 3> {
  lf::channel<int> a, b;
  lf::cell<int> payload[2];
  int resumed = 0;  // thread 2 only
  int ran = 0;      // thread 2 only: the handlers that ran

  static lf::task<lf::select_result> selector(select_races_two_senders& t) {
    int got = 0;
    const lf::select_result r = co_await lf::co_select(lf::on_recv(t.a, [&](int v) { got = v, ++t.ran; }),
                                                       lf::on_recv(t.b, [&](int v) { got = v, ++t.ran; }));
    ++t.resumed;
    RL_ASSERT(r.status == chan_status::ok);
    RL_ASSERT(got == static_cast<int>(r.index) + 1);
    RL_ASSERT(*t.payload[r.index].read() == 1);  // written before that send: ordered by the hand-off
    co_return r;
  }

  void before() {
    resumed = 0;
    ran = 0;
  }

  void thread(unsigned index) {
    if (index < 2) {
      *payload[index].write() = 1;
      RL_ASSERT((index == 0 ? a : b).send(static_cast<int>(index) + 1) == chan_status::ok);
      return;
    }
    const lf::select_result r = lf::sync_wait(selector(*this));  // the frame is freed here
    auto other = (r.index == 0 ? b : a).recv();
    RL_ASSERT(other.ok() && *other == (r.index == 0 ? 2 : 1));
  }

  void after() { RL_ASSERT(resumed == 1 && ran == 1); }
};

// co_await lf::co_select over an unbuffered channel and a context's done, raced by a thread
// sender and a thread that cancels: the context callback and the sender's claim race for
// the one waiter. Exactly one case commits; if it was the cancel, the sender's value is not
// lost: the thread receives it afterwards.
struct select_cancel_races_a_sender : rl::test_suite<select_cancel_races_a_sender, 3> {
  lf::channel<int> ch;
  lf::context ctx;
  lf::cancel_func cancel;
  int ran = 0;  // thread 2 only

  static lf::task<lf::select_result> selector(select_cancel_races_a_sender& t) {
    const auto got = [&](int v) {
      RL_ASSERT(v == 7);
      ++t.ran;
    };
    co_return co_await lf::co_select(lf::on_recv(t.ch, got), lf::on_done(t.ctx, [&] { ++t.ran; }));
  }

  void before() {
    ran = 0;
    auto [c, f] = lf::with_cancel(lf::background());
    ctx = c;
    cancel = f;
  }

  void thread(unsigned index) {
    if (index == 0) {
      RL_ASSERT(ch.send(7) == chan_status::ok);
      return;
    }
    if (index == 1) {
      cancel();
      return;
    }
    const lf::select_result r = lf::sync_wait(selector(*this));
    if (r.index == 1) {
      RL_ASSERT(r.status == chan_status::canceled);
      auto v = ch.recv();  // the sender's value went nowhere else
      RL_ASSERT(v.ok() && *v == 7);
    } else {
      RL_ASSERT(r.status == chan_status::ok);
    }
  }

  void after() { RL_ASSERT(ran == 1); }
};

}  // namespace

int main(int argc, char** argv) {
  using lf::model::search;
  return lf::model::run_cases(
      argc, argv,
      {
          LF_MODEL_CASE("recv_races_a_thread_send_unbuffered", search::bounded(2), recv_races_a_thread_send_unbuffered),
          LF_MODEL_CASE("recv_races_a_thread_send_buffered", search::random(200000), recv_races_a_thread_send_buffered),
          LF_MODEL_CASE("send_races_a_thread_recv_unbuffered", search::bounded(2), send_races_a_thread_recv_unbuffered),
          LF_MODEL_CASE("close_races_a_suspended_receiver", search::bounded(2), close_races_a_suspended_receiver),
          LF_MODEL_CASE("cancel_races_a_suspended_recv", search::bounded(2), cancel_races_a_suspended_recv),
          LF_MODEL_CASE("frame_destroyed_while_a_sender_hands_off", search::bounded(2), frame_destroyed_while_a_sender_hands_off),
          LF_MODEL_CASE("wait_group_waiter_races_the_last_done", search::bounded(2), wait_group_waiter_races_the_last_done),
          LF_MODEL_CASE("select_races_two_senders", search::random(200000), select_races_two_senders),
          LF_MODEL_CASE("select_cancel_races_a_sender", search::random(200000), select_cancel_races_a_sender),
      });
}
