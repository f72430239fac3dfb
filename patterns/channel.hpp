// lf::channel<T> — Go's channels (runtime/chan.go) over a lock-free buffer, after Koval,
// Alistarh & Elizarov, "Scalable FIFO Channels for Programming via CSP" (Euro-Par 2019).
// Buffered and unbuffered, MPMC, with close, drain-after-close, non-blocking, timed and
// context-aware operations, and (in patterns/select.hpp) lf::select.
//
// Lineage. The semantics are Go's (runtime/chan.go, runtime/select.go; the Go memory
// model's channel rules). The split between a lock-free buffer and a waiter queue taken
// only on the slow path follows the observation of Koval, Alistarh and Elizarov
// ("Scalable FIFO Channels for Programming via Communicating Sequential Processes",
// Euro-Par 2019; "Fast and Scalable Channels in Kotlin Coroutines", PPoPP 2023) that
// the fast path of a buffered channel need not touch a lock; their full design (every
// cell a rendezvous point, waiters stored in the cells) is not what lf does: see
// "Design" below. The buffer is Vyukov's bounded MPMC ring with an exact capacity and a
// seal (patterns/detail/channel_buffer.hpp).
//
//   lf::channel<int> ch(16);                 // buffered; lf::channel<int> u; is unbuffered
//   std::thread producer([&] { for (int i = 0; i < 100; ++i) (void)ch.send(i); ch.close(); });
//   for (int v : ch) use(v);                 // until closed and drained
//
// API.
//   channel<T>(capacity = 0)   0: unbuffered (rendezvous); > 0: holds up to `capacity`
//                              values. Negative throws std::invalid_argument, more than
//                              max_capacity throws std::length_error (both name the value).
//   send(v) / recv()                         block until done or closed
//   try_send(v) / try_recv()                 never block: would_block instead (also
//                                            while the value next in line is still being
//                                            written by its sender, even after close:
//                                            the ring's non-linearizable edge, below)
//   send_for(v, d) / send_until(v, tp)       block until done, closed or timeout
//   recv_for(d) / recv_until(tp)
//   send(v, ctx) / recv(ctx)                 block until done, closed or canceled (ctx
//                                            done; a ctx done already wins: see below)
//   close() -> bool                          false if it was closed already
//   for (auto v : ch)                        receives until closed and drained
//   size() / capacity()                      values buffered now (a snapshot) / capacity
// A send returns lf::chan_status, [[nodiscard]]: ok, closed, would_block, timeout or
// canceled. A receive returns lf::recv_result<T>: status() plus the value when ok
// (`if (auto r = ch.recv()) use(*r);`); *r without a value throws lf::bad_recv (a
// std::bad_optional_access) in every build, so `*ch.recv()` on a closed channel cannot
// go unnoticed. A send that does not return ok leaves its argument untouched: an rvalue
// is moved from only when the value was sent, so the caller still has it
// (send(std::move(v)) then, on closed, v is intact).
//
// Semantics, as Go's (the differences follow).
//   - Unbuffered: a send completes only when a receiver has taken the value, and
//     try_send succeeds only if a receiver is already waiting (blocked in recv or in a
//     select); symmetrically for try_recv.
//   - Buffered: a send completes once the value is in the buffer; it blocks while the
//     buffer is full. Values from one sender are received in the order sent.
//   - close(): later sends return closed; receivers get every value buffered before the
//     close, then closed; every blocked sender and receiver wakes (senders: closed; an
//     unbuffered receiver: closed; a buffered receiver: the drain, then closed). A close
//     happens before every receive that returns closed.
//   - A receive from a closed channel is "ready" (a select's receive case fires with
//     closed), as Go's is.
// Where C++ differs.
//   - Go panics on a send to a closed channel and on closing twice; lf returns closed
//     ([[nodiscard]]) and close() returns false. Neither is undefined behaviour.
//   - Go's receive from a closed channel yields the zero value; lf yields no value
//     (status closed). A channel is an object, shared by reference (destroying it while
//     a thread uses it is the caller's bug); Go's nil channel is a null channel pointer
//     given to a select case (patterns/select.hpp), which is never ready.
//   - Timed and context-aware variants exist where Go writes a select with time.After
//     or ctx.Done(); a negative duration throws std::invalid_argument (DESIGN §4).
//     A context that is done yields canceled; ctx.err() says whether it was a cancel or
//     a deadline.
//   - Which wins when both are ready. A context that is done when send(v, ctx) or
//     recv(ctx) is called wins over a channel that is ready: the call returns canceled
//     and leaves the channel (and v) alone. Go's select over ch and ctx.Done() picks
//     one of the two at random, so `for { select { case v := <-ch: ...; case
//     <-ctx.Done(): return } }` over a channel that never empties runs on for a random
//     number of rounds after the cancel; here `while (auto r = ch.recv(ctx))` stops at
//     the first call after it, which is what a cancel is for. It costs one load per call.
//     (A context that becomes done while the call waits races with the channel, as in
//     Go.) A deadline is the opposite: recv_for(d), recv_until(t), send_for and
//     send_until take a ready channel over an expired deadline, so recv_for(0ms) is
//     try_recv; a deadline bounds the wait, it does not refuse a value. lf::select keeps
//     Go's uniform choice for on_done and after cases.
//   - Blocked senders are not served strictly first-come-first-served on a buffered
//     channel: a sender that finds room on the fast path may take a slot a woken
//     sender was about to take (barging, as in most mutexes); the woken one tries
//     again. Values stay FIFO per sender, and nobody waits while there is room.
//
// Requirements on T: an object type, not const, nothrow move-constructible (a value is
// moved into and out of the buffer and handed over without a way to undo a half-done
// move) and nothrow destructible. Copying (send(const T&)) may throw: the copy is made
// before anything is claimed.
//
// Progress.
//   buffered try_send / try_recv   lock-free: the ring (one CAS per success) and, only
//                                  when someone is parked on the other side, one
//                                  wake-up (a lock, briefly)
//   unbuffered try_send / try_recv blocking in the strict sense (they take the channel's
//                                  lock), never wait for a partner; without one they
//                                  return at once without locking
//   send / recv and variants       blocking: spin, then sleep on a futex (the spin is
//                                  ~1.6 µs on buffered channels, ~25 µs where an
//                                  unbuffered partner's hand-off is awaited; a process
//                                  confined to one CPU does not spin but yields the CPU
//                                  a few times, since its partner cannot run meanwhile;
//                                  see spin_plan in detail/channel_core.hpp)
//   close                          blocking (the lock), wakes every waiter
//   size / capacity                wait-free
//
// Design: fast path and slow path.
//   Buffered channels. A send pushes into the ring; a receive pops from it. Neither
//   touches the lock. After its ring operation, each issues a seq_cst fence [F1] and
//   reads the count of waiters queued on the channel (C2): if a receiver (after a
//   push) or a sender (after a pop) is queued, it locks the channel and wakes one
//   (no thundering herd: one per operation). A thread that finds the ring empty (full)
//   takes the slow path: under the lock it queues itself and counts itself (C1),
//   issues a seq_cst fence [F2], and tries the ring once more before it sleeps. A woken
//   waiter was told "try again", not handed a value: values always pass through the
//   ring, which is what keeps them FIFO per sender.
//   Unbuffered channels have no ring: every operation takes the lock and either claims
//   a waiter queued on the other side and hands the value over directly (the move runs
//   after the lock is released, while the claimed waiter waits in "claimed"), or queues
//   itself and sleeps. This is Go's design; the lock is held for a few pointer writes.
//   Waiters, their state word and the lock are in patterns/detail/channel_core.hpp;
//   select and the slow path are one engine, patterns/detail/channel_select.hpp.
//   Why not Koval et al.'s lock-free design: its cells are rendezvous points that
//   waiters are stored in, and a select registers in one cell per channel and must
//   clean interrupted cells up — a large amount of subtle code for a path that, here,
//   runs only when a thread is about to sleep anyway (a futex sleep costs microseconds;
//   the lock costs tens of nanoseconds).
//
// Ordering argument. Every order weaker than seq_cst, by label:
//   ring       (1)-(6) in patterns/detail/channel_buffer.hpp: values and the seal.
//   waiters    (W0)-(W5) in patterns/detail/channel_core.hpp: a claimer's transition to
//              done (W1)/(W2) is release and the owner's load (W4) acquire, so a value
//              moved into the owner's slot, or out of its frame, is ordered before the
//              owner goes on; (W3)/(W5) end a claimer's last touch before the owner's
//              frame goes away.
//   lock       (L1)/(L2): queue edits, and the fields of a link that its owner wrote
//              before queueing it (its waiter, its case, its value's address).
//   closed     (C3)/(C4): close's flag for unbuffered channels and for "closed twice".
//   counts     (C1) relaxed increment, (C2) relaxed load: ordered by the fences.
// Why no wake-up is lost on a buffered channel (the Dekker pattern, as in
// patterns/detail/parking_lot.hpp). [F1] and [F2] are seq_cst fences, so one precedes
// the other in the single total order S:
//   - [F1] before [F2]: the waiter's re-check (after [F2]) reads the ring as the fast
//     path left it (after [F1]): it sees the value (the room) and does not sleep.
//   - [F2] before [F1]: the fast path's load (C2), after [F1], reads the waiter's count
//     (C1, before [F2]) or a later value. The count drops only when a link is unqueued:
//     by a claimer (who then wakes that waiter) or by its owner (who is then awake). So
//     the fast path locks and wakes some waiter on that side.
// A woken waiter tries again; if it finds nothing — another thread took the value, or
// the value sits behind a slot whose producer is still writing it (the ring's specified
// non-linearizable edge) — the thread that took it, or that producer when it publishes,
// runs the same check. One more rule closes the last gap ("relay"): a thread that pops
// and still sees values in the ring and receivers queued wakes one receiver, and a
// thread that pushes and still sees room and senders queued wakes one sender. Without
// it, a wake-up spent on a waiter that found the head slot still being written would
// leave a value behind a sleeping receiver (verification/model/channel_model.cpp,
// relay_behind_a_slow_producer).
// Unbuffered channels, select and close decide under the channel locks: a waiter is
// queued and polled in one critical section, so a partner either finds it queued or is
// found by its poll. Exactly one case of a select completes: completing a waiter is a
// CAS out of "waiting" on its state word (W1), and the poll that would complete a case
// of our own runs while we hold every lock a claimer of ours would need.
//
// The model lane checks these headers: verification/model/channel_model.cpp.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "patterns/context.hpp"
#include "patterns/detail/channel_buffer.hpp"
#include "patterns/detail/channel_core.hpp"
#include "patterns/detail/channel_select.hpp"
#include "sync/atomic.hpp"
#include "sync/cell.hpp"
#include "sync/config.hpp"
#include "sync/wait.hpp"

namespace lf {

// Thrown by recv_result's operator* and operator-> when the receive has no value (its
// status is closed, would_block, timeout or canceled), in every build: reading a value
// that is not there is never silent. A std::bad_optional_access, as std::optional's
// value() throws for the same mistake.
class bad_recv : public std::bad_optional_access {
 public:
  explicit bad_recv(chan_status status) noexcept : status_(status) {}
  chan_status status() const noexcept { return status_; }
  const char* what() const noexcept override {
    switch (status_) {
      case chan_status::closed: return "lf::recv_result: no value (status closed)";
      case chan_status::would_block: return "lf::recv_result: no value (status would_block)";
      case chan_status::timeout: return "lf::recv_result: no value (status timeout)";
      default: return "lf::recv_result: no value (status canceled)";
    }
  }

 private:
  chan_status status_;
};

namespace detail {
[[noreturn, gnu::cold, gnu::noinline]] inline void throw_bad_recv(chan_status status) { throw bad_recv(status); }
}  // namespace detail

// What a receive returns: a status and, when it is ok, the value.
//   if (auto r = ch.recv()) use(*r);
//   else if (r.status() == lf::chan_status::closed) ...
// *r and r-> throw lf::bad_recv when !r.ok() (one predictable branch); value() is the
// std::optional, empty unless ok().
template <class T>
class [[nodiscard]] recv_result {
 public:
  recv_result(chan_status status, std::optional<T> value) noexcept
      : status_(status), value_(std::move(value)) {}

  chan_status status() const noexcept { return status_; }
  bool ok() const noexcept { return status_ == chan_status::ok; }
  explicit operator bool() const noexcept { return ok(); }

  // The value; throws lf::bad_recv unless ok().
  T& operator*() & { return *checked(); }
  const T& operator*() const& { return *checked(); }
  T&& operator*() && { return std::move(*checked()); }
  T* operator->() { return checked(); }
  const T* operator->() const { return checked(); }
  // The value as an optional (empty unless ok()).
  std::optional<T>& value() & noexcept { return value_; }
  const std::optional<T>& value() const& noexcept { return value_; }
  std::optional<T>&& value() && noexcept { return std::move(value_); }

 private:
  T* checked() {
    if (!value_.has_value()) [[unlikely]] detail::throw_bad_recv(status_);
    return &*value_;
  }
  const T* checked() const {
    if (!value_.has_value()) [[unlikely]] detail::throw_bad_recv(status_);
    return &*value_;
  }
  chan_status status_;
  std::optional<T> value_;
};

template <class T>
class channel;

namespace detail {

template <class T>
class recv_op;
template <class T>
class send_op;
template <class T>
class recv_awaiter;
template <class T>
class send_awaiter;

// A deadline as a select case (timed operations, lf::after).
class timer_case : public select_case {
 public:
  explicit timer_case(wait_clock::time_point when) noexcept : when_(when) {}
  chan_status poll(const chan_waiter*) override {
    return wait_clock::now() >= when_ ? chan_status::timeout : chan_status::would_block;
  }
  const wait_clock::time_point* deadline() const override { return &when_; }

 private:
  wait_clock::time_point when_;
};

// A context's done as a select case (context-aware operations, lf::on_done).
class done_case : public select_case {
 public:
  explicit done_case(const context& ctx) noexcept : done_(ctx.done()) {}
  chan_status poll(const chan_waiter*) override {
    return done_.ready() ? chan_status::canceled : chan_status::would_block;
  }
  void subscribe(chan_waiter& w, int index) override { hook_.emplace(done_, waker{&w, index}); }
  void unsubscribe() override { hook_.reset(); }  // waits for a waker running elsewhere

 private:
  struct waker {
    chan_waiter* w;
    int index;
    void operator()() const noexcept {
      const int previous = w->try_complete(index, chan_status::canceled);
      if (previous >= 0) w->finish_wake(previous);
    }
  };
  context_done done_;
  std::optional<context_callback<waker>> hook_;
};

}  // namespace detail

template <class T>
class channel {
  static_assert(std::is_object_v<T> && !std::is_const_v<T> && !std::is_array_v<T>,
                "lf::channel<T>: T must be a non-const object type (not a reference, not an array)");
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "lf::channel<T>: T must be nothrow move-constructible (values are moved into and out of the buffer)");
  static_assert(std::is_nothrow_destructible_v<T>, "lf::channel<T>: T must be nothrow destructible");

 public:
  using value_type = T;
  static constexpr std::ptrdiff_t max_capacity = std::ptrdiff_t{1} << 32;

  // capacity 0: unbuffered. Throws std::invalid_argument for a negative capacity and
  // std::length_error above max_capacity.
  explicit channel(std::ptrdiff_t capacity = 0)
      : capacity_(static_cast<std::size_t>(validated(capacity))), core_(capacity > 0), buffer_(make_buffer(capacity_)) {}
  channel(const channel&) = delete;
  channel& operator=(const channel&) = delete;

  // --- send

  chan_status send(T&& v) { return blocking_send(v); }
  chan_status send(const T& v) {
    T copy(v);
    return send(std::move(copy));
  }

  chan_status try_send(T&& v) {
    if (buffer_) return push(v);
    if (core_.closed()) return chan_status::closed;
    if (detail::chan_core::receivers(core_.waiting()) == 0) return chan_status::would_block;  // no partner: no lock
    detail::send_op<T> op(this, v);
    return run_nonblocking(op);
  }
  chan_status try_send(const T& v) {
    T copy(v);
    return try_send(std::move(copy));
  }

  chan_status send_until(T&& v, wait_clock::time_point deadline) {
    detail::timer_case timer(deadline);
    return blocking_send(v, timer);
  }
  chan_status send_until(const T& v, wait_clock::time_point deadline) {
    T copy(v);
    return send_until(std::move(copy), deadline);
  }
  template <class Rep, class Period>
  chan_status send_for(T&& v, const std::chrono::duration<Rep, Period>& d) {
    return send_until(std::move(v), lf::deadline_after("lf::channel::send_for: d", d));
  }
  template <class Rep, class Period>
  chan_status send_for(const T& v, const std::chrono::duration<Rep, Period>& d) {
    return send_until(v, lf::deadline_after("lf::channel::send_for: d", d));
  }

  // ok, closed, or canceled once ctx is done (ctx.err() says why). A context done
  // before the call wins over room in the channel: canceled, v untouched.
  chan_status send(T&& v, const context& ctx) {
    detail::done_case done(ctx);
    if (done.poll(nullptr) == chan_status::canceled) return chan_status::canceled;
    return blocking_send(v, done);
  }
  chan_status send(const T& v, const context& ctx) {
    T copy(v);
    return send(std::move(copy), ctx);
  }

  // --- receive

  recv_result<T> recv() { return blocking_recv(); }

  recv_result<T> try_recv() {
    std::optional<T> v;
    if (buffer_) {
      const chan_status st = pop(v);
      return {st, std::move(v)};
    }
    if (core_.closed()) return {chan_status::closed, std::nullopt};
    if (detail::chan_core::senders(core_.waiting()) == 0) return {chan_status::would_block, std::nullopt};
    detail::recv_op<T> op(this);
    const chan_status st = run_nonblocking(op);
    return {st, std::move(op.value)};
  }

  recv_result<T> recv_until(wait_clock::time_point deadline) {
    detail::timer_case timer(deadline);
    return blocking_recv(timer);
  }
  template <class Rep, class Period>
  recv_result<T> recv_for(const std::chrono::duration<Rep, Period>& d) {
    return recv_until(lf::deadline_after("lf::channel::recv_for: d", d));
  }

  // ok, closed, or canceled once ctx is done (ctx.err() says why). A context done
  // before the call wins over a ready value, which stays in the channel.
  recv_result<T> recv(const context& ctx) {
    detail::done_case done(ctx);
    if (done.poll(nullptr) == chan_status::canceled) return {chan_status::canceled, std::nullopt};
    return blocking_recv(done);
  }

  // --- close, ranges, sizes

  // Closes the channel; false (and no effect) if it was closed already.
  bool close() {
    detail::lock_guard g(core_.lock());
    if (core_.closed()) return false;
    core_.mark_closed();
    if (buffer_) buffer_->seal();
    // Buffered: "try again" (receivers drain, then see the seal). Unbuffered: closed.
    core_.complete_all(buffer_ ? chan_status::ok : chan_status::closed);
    return true;
  }

  // Receives until the channel is closed and drained. `*it` hands the value over by
  // move, so `for (auto v : ch)` works for move-only T.
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using reference = T&&;

    iterator() = default;
    explicit iterator(channel* ch) : ch_(ch) { next(); }
    T&& operator*() const noexcept { return std::move(*value_); }
    iterator& operator++() {
      next();
      return *this;
    }
    void operator++(int) { next(); }
    friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept { return !it.value_.has_value(); }

   private:
    void next() {
      value_.reset();
      recv_result<T> r = ch_->recv();
      if (r.ok()) value_ = std::move(r).value();
    }
    channel* ch_ = nullptr;
    mutable std::optional<T> value_;
  };
  iterator begin() { return iterator(this); }
  std::default_sentinel_t end() noexcept { return {}; }

  // Values buffered now (a snapshot; 0 for an unbuffered channel).
  std::size_t size() const noexcept { return buffer_ ? buffer_->size_approx() : 0; }
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  friend class detail::recv_op<T>;
  friend class detail::send_op<T>;
  friend class detail::recv_awaiter<T>;  // patterns/detail/channel_await.hpp
  friend class detail::send_awaiter<T>;

  // The ring built in place. (Not emplace() into an empty optional: with ASan, g++ 12
  // warns that the ring's fields may be read uninitialized by the reset emplace inlines.)
  static std::optional<detail::chan_buffer<T>> make_buffer(std::size_t capacity) {
    if (capacity == 0) return std::nullopt;
    return std::optional<detail::chan_buffer<T>>(std::in_place, capacity);
  }

  static std::ptrdiff_t validated(std::ptrdiff_t capacity) {
    if (capacity < 0) {
      throw std::invalid_argument("lf::channel: capacity = " + std::to_string(capacity) + " (must be >= 0)");
    }
    if (capacity > max_capacity) {
      throw std::length_error("lf::channel: capacity = " + std::to_string(capacity) + " (more than max_capacity " +
                              std::to_string(max_capacity) + ")");
    }
    return capacity;
  }

  // The fast path, then a select of the operation and its `extra` cases (a deadline, a
  // context), polled in that order: a ready channel wins over an expired deadline, and
  // over a context that became done after the call's own check (a race either way).
  template <class... Extra>
  chan_status blocking_send(T& v, Extra&... extra) {
    if (buffer_) {
      const chan_status st = push(v);
      if (st != chan_status::would_block) return st;
    }
    detail::send_op<T> op(this, v);
    return run_blocking(op, extra...);
  }
  template <class... Extra>
  recv_result<T> blocking_recv(Extra&... extra) {
    if (buffer_) {
      std::optional<T> v;
      const chan_status st = pop(v);
      if (st != chan_status::would_block) return {st, std::move(v)};
    }
    detail::recv_op<T> op(this);
    const chan_status st = run_blocking(op, extra...);
    return {st, std::move(op.value)};
  }
  template <class... Extra>
  static chan_status run_blocking(detail::select_case& op, Extra&... extra) {
    constexpr int n = 1 + static_cast<int>(sizeof...(Extra));
    detail::select_case* cases[n] = {&op, &extra...};
    int order[n];
    detail::chan_core* cores[n];
    return detail::run_select(cases, n, -1, true, order, cores).status;
  }
  static chan_status run_nonblocking(detail::select_case& op) {
    detail::select_case* cases[1] = {&op};
    int order[1];
    detail::chan_core* cores[1];
    return detail::run_select(cases, 1, 1, true, order, cores).status;
  }

  // The buffered fast path, and its wake-ups ([F1], then the relay rule).
  chan_status push(T& v) {
    switch (buffer_->try_push(std::move(v))) {
      case detail::buffer_op::ok: after_push(); return chan_status::ok;
      case detail::buffer_op::closed: return chan_status::closed;
      default: return chan_status::would_block;
    }
  }
  chan_status pop(std::optional<T>& v) {
    switch (buffer_->try_pop(v)) {
      case detail::buffer_op::ok: after_pop(); return chan_status::ok;
      case detail::buffer_op::closed: return chan_status::closed;
      default: return chan_status::would_block;
    }
  }
  void after_push() {
    lf::fence(std::memory_order_seq_cst);  // [F1] orders the push before (C2); pairs with [F2]
    const std::uint64_t w = core_.waiting();
    if (detail::chan_core::receivers(w) != 0) core_.wake_one(false);
    if (detail::chan_core::senders(w) != 0 && buffer_->size_approx() < capacity_) core_.wake_one(true);
  }
  void after_pop() {
    lf::fence(std::memory_order_seq_cst);  // [F1] orders the pop before (C2); pairs with [F2]
    const std::uint64_t w = core_.waiting();
    if (detail::chan_core::senders(w) != 0) core_.wake_one(true);
    if (detail::chan_core::receivers(w) != 0 && buffer_->size_approx() > 0) core_.wake_one(false);
  }

  const std::size_t capacity_;
  detail::chan_core core_;
  std::optional<detail::chan_buffer<T>> buffer_;  // empty for an unbuffered channel
};

namespace detail {

// A receive as a select case. A null channel is Go's nil channel: a select never polls
// or queues the case (see nil()).
template <class T>
class recv_op : public select_case {
 public:
  explicit recv_op(channel<T>* ch) noexcept : ch_(ch) {
    core = ch ? &ch->core_ : nullptr;
    link.send = false;
    link.slot = &slot_;
  }

  bool nil() const noexcept { return ch_ == nullptr; }

  std::optional<T> value;  // the received value, once the case completed with ok

  chan_status poll(const chan_waiter* self) override {
    if (ch_->buffer_) {
      switch (ch_->buffer_->try_pop(value)) {
        case buffer_op::ok: return chan_status::ok;
        case buffer_op::closed: return chan_status::closed;
        default: return chan_status::would_block;
      }
    }
    // Unbuffered: claim a queued sender (not one of our own select's cases).
    partner_ = core->claim_one(true, self);
    if (partner_.waiter) return chan_status::ok;
    return core->closed() ? chan_status::closed : chan_status::would_block;
  }

  void after_poll() override {
    if (ch_->buffer_) {
      if (value) ch_->after_pop();
      return;
    }
    if (!partner_.waiter) return;  // closed
    value.emplace(std::move(*static_cast<T*>(partner_.slot)));  // the sender waits in "claimed" until complete()
    partner_.waiter->finish_wake(partner_.waiter->complete(partner_.index, chan_status::ok));
  }

  chan_status finish(chan_status st) override {
    if (ch_->buffer_) return ch_->pop(value);  // "try again"
    if (st == chan_status::ok) value.emplace(slot_.take());  // a sender moved its value in before (W2)
    return st;
  }

  void discard(chan_status st) override {
    if (!ch_->buffer_ && st == chan_status::ok) (void)slot_.take();  // a value handed over, never received
  }

 private:
  channel<T>* ch_;
  cell<T> slot_;      // an unbuffered sender constructs the value here
  chan_core::partner partner_;  // the sender our poll claimed (its slot: the T to move from)
};

// A send as a select case. Moves from *v only when the value is sent. A null channel is
// a nil channel, as for recv_op.
template <class T>
class send_op : public select_case {
 public:
  send_op(channel<T>* ch, T& v) noexcept : ch_(ch), v_(v) {
    core = ch ? &ch->core_ : nullptr;
    link.send = true;
    link.slot = &v_;
  }

  bool nil() const noexcept { return ch_ == nullptr; }

  chan_status poll(const chan_waiter* self) override {
    if (ch_->buffer_) {
      switch (ch_->buffer_->try_push(std::move(v_))) {
        case buffer_op::ok: pushed_ = true; return chan_status::ok;
        case buffer_op::closed: return chan_status::closed;
        default: return chan_status::would_block;
      }
    }
    if (core->closed()) return chan_status::closed;
    // Unbuffered: claim a queued receiver (not one of our own select's cases).
    partner_ = core->claim_one(false, self);
    return partner_.waiter ? chan_status::ok : chan_status::would_block;
  }

  void after_poll() override {
    if (ch_->buffer_) {
      if (pushed_) ch_->after_push();
      return;
    }
    if (!partner_.waiter) return;  // closed
    auto* to = static_cast<cell<T>*>(partner_.slot);
    ::new (static_cast<void*>(to->write())) T(std::move(v_));  // the receiver waits in "claimed"
    partner_.waiter->finish_wake(partner_.waiter->complete(partner_.index, chan_status::ok));
  }

  chan_status finish(chan_status st) override {
    if (ch_->buffer_) return ch_->push(v_);  // "try again"
    return st;  // ok: a receiver moved the value out before (W2); closed: v_ is untouched
  }

 private:
  channel<T>* ch_;
  T& v_;
  bool pushed_ = false;
  chan_core::partner partner_;  // the receiver our poll claimed (its slot: the cell<T> to construct into)
};

}  // namespace detail
}  // namespace lf
