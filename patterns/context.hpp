// lf::context — Go's context package (pkg.go.dev/context, Go 1.21) in C++: a tree of
// contexts that carries cancellation, deadlines and request-scoped values.
//
// What it is. An lf::context is a cheap, copyable handle (one pointer and a reference
// count) to an immutable node of a tree. The root is lf::background(): never done, no
// values, no deadline (it is the null handle, so it costs nothing and owns no state).
// Children are made by the with_* functions; cancelling a node cancels its whole
// subtree. Code that may block takes a context and stops when ctx.done() is ready.
//
//   auto [ctx, cancel] = lf::with_timeout(lf::background(), 50ms);
//   std::thread worker([ctx = ctx] { while (!ctx.done()) step(); });
//   ...
//   cancel();  // or let the deadline pass; either way the worker sees done()
//
// API (Go's name in brackets).
//   background()                          [Background]  the root; also what context{} is
//   with_cancel(parent)                   [WithCancel]  -> {ctx, cancel}; cancel() -> canceled
//   with_cancel_cause(parent)             [WithCancelCause] -> {ctx, cancel}; cancel(exception_ptr)
//   with_deadline(parent, time_point)     [WithDeadline] -> {ctx, cancel}
//   with_timeout(parent, duration)        [WithTimeout]  -> {ctx, cancel}
//   with_value(parent, Key{}, value)      [WithValue]    ctx.value<Key>() -> const value_type*
//   without_cancel(parent)                [WithoutCancel] keeps values, never done
//   with_stop_token(parent, token)        (C++ only) cancelled when the token is stop-requested
//   after_func(ctx, f) -> handle; handle.stop() -> bool   [AfterFunc]
//   ctx.done() -> context_done            [Done]   ready() / bool, wait(), wait_until(), wait_for()
//   ctx.err() -> context_error            [Err]    none / canceled / deadline_exceeded
//   ctx.cause() -> std::exception_ptr     [Cause]
//   ctx.deadline() -> optional<time_point> [Deadline]
//   ctx.stop_token() -> std::stop_token   (C++ only) requested when ctx is done
//   context_callback<F>(ctx.done(), f)    (C++ only) the low-level hook for select (below)
//
// Go's semantics kept.
//   - Cancelling a parent cancels every descendant, runs their after_funcs and wakes
//     their waiters. A child never cancels its parent.
//   - Calling a child's cancel detaches it from its parent: the parent's child list
//     shrinks and the child's deadline entry leaves the timer heap at once.
//   - A deadline never extends the parent's: with_deadline on a parent whose deadline is
//     earlier gives a plain cancellable child whose deadline() is the parent's.
//   - Cancelling twice is harmless; the first error and cause stay.
//   - A child made from a done parent is done at once, with the parent's error and cause
//     (a child whose own deadline has also passed takes the parent's error, as in Go).
//   - cause(): null while not done; the cause given to cancel, else an exception that
//     says err() (a child cancelled by its parent gets the parent's cause).
//   - after_func: f runs at most once, when ctx is done; stop() returns true iff it kept
//     f from running (a second stop() returns false). If ctx is done already, f runs
//     at once. Background and without_cancel contexts never run f.
//
// Where C++ differs, and why.
//   - err() is an enum, context_error, not an error value: it compares and switches
//     cheaply, and the open-ended "why" is the cause's job.
//   - cause is a std::exception_ptr, not a std::error_code: Go's cause is any error
//     value, and C++'s "any error value" is an exception object — it can carry a type,
//     a message and data, be rethrown at the place that gives up
//     (std::rethrow_exception(ctx.cause())), and travel through std::future and
//     lf::worker_pool the way task exceptions already do. An error_code would force
//     every cause into a category and an int. When no cause was given, cause() returns
//     an lf::context_done_error (a std::runtime_error holding err()), Go's Canceled /
//     DeadlineExceeded.
//   - Deadlines are on std::chrono::steady_clock (lf::wait_clock): a wall-clock deadline
//     moves when the clock is set; Go hides the difference behind its monotonic reading.
//   - with_timeout with a negative duration throws std::invalid_argument (DESIGN §4: a
//     negative timeout is a bad argument), where Go treats it as expired; a zero
//     duration, or a deadline already in the past, gives a context that is done at once
//     with deadline_exceeded.
//   - A context dropped without calling its cancel function leaks nothing: the parent's
//     child list and the timer heap hold weak references (Go keeps such a child alive
//     in its parent until the parent is cancelled). Still call cancel as in Go: it
//     releases the deadline and the parent's list entry at once rather than when the
//     last handle goes. One exception: an after_func registration keeps its context
//     alive until f runs or stop() is called (the parent must be able to reach it to
//     run f), so an after_func on a context that is never cancelled and never stopped
//     stays until exit — as in Go, where it stays reachable from the parent.
//   - after_func's f runs on the thread that makes the context done — the thread that
//     calls cancel (its own or an ancestor's), the timer thread for a deadline, the
//     thread that calls request_stop for with_stop_token, or the registering thread if
//     the context is done already — not on a new thread as Go's goroutine. So f must be
//     short and must not block; it must not throw (std::terminate, as for
//     std::stop_callback). This is what makes it cheap enough to be select's hook.
//   - ctx.done() returns a view, lf::context_done, valid while some handle to the
//     context lives (it does not take a reference: select builds one per call, and a
//     count on a shared context would be a contended cache line). Go's Done() is a
//     channel; here the view blocks (wait / wait_until / wait_for), polls (ready(),
//     explicit bool) and registers (context_callback). A context that can never be
//     done (background, without_cancel) has done().never() == true, as Done() == nil
//     in Go; wait() on it would block for ever (as receiving from a nil channel does),
//     a misuse LF_ASSERT catches in debug and test builds. wait_until / wait_for on it
//     simply time out.
//   - Values are keyed by type: a key is an empty class with a value_type, e.g.
//       struct request_id { using value_type = std::string; };
//       auto ctx = lf::with_value(parent, request_id{}, "r-42");
//       const std::string* id = ctx.value<request_id>();  // null if absent
//     A key type plays the part of Go's unexported key type; lookup needs no cast.
//   - Interop: ctx.stop_token() for code that takes a std::stop_token (a context that is
//     never done gives a token with stop_possible() == false), and with_stop_token(parent,
//     token) for a context cancelled (canceled, no cause) when the token is requested.
//
// The hook for select: lf::context_callback<F>(ctx.done(), f) registers f like
// after_func but without an allocation (the record is the callback object itself, on
// the caller's stack), and its destructor deregisters — if f is running on another
// thread at that moment, the destructor waits until f has returned, so f may refer to
// the caller's stack (std::stop_callback's rule). If ctx is done already, f runs in
// the constructor. A channel's select or recv(ctx) parks on its own word and lets f wake
// it. f must not destroy its own context_callback.
//
// Costs (n = children or hooks of the node cancelled).
//   done()/ready()/err()/deadline()   one acquire load, no lock
//   value<Key>()                      a walk up the chain of nodes, no lock
//   copy a context                    one relaxed increment (a decrement to destroy)
//   with_cancel / with_deadline       one allocation, the parent's lock once; a deadline
//                                     adds an O(log d) heap insert in the timer service
//   with_value / without_cancel       one allocation, no lock
//   cancel                            the node's lock once, one futex wake if anyone waits,
//                                     O(n) per node of the subtree, hooks run unlocked
//   after_func                        one allocation and the node's lock; stop(): the lock
//   context_callback                  the node's lock (no allocation)
//   stop_token()                      the node's lock; a std::stop_source on the first call
//   wait()                            a futex sleep; waking costs the canceller one system call
//
// Timers: one timer service per process (patterns/detail/timer_service.hpp), a thread
// started on the first deadline, sleeping on a futex word until the earliest deadline;
// never a thread per deadline. It stops and joins at exit.
//
// Concurrency. Every function may be called from any thread; one handle object is not
// to be written by two threads at once (like std::shared_ptr). The done word is one
// lf::atomic<int> (the error in its low bits, plus a waiters bit) that waiters park on
// with the seam's futex. Child and hook lists are guarded by a per-node futex lock: fine
// because registration and cancellation happen once per context, while the reads above
// never lock (detail/context_node.hpp says why no lock order can deadlock).
//
// Ordering argument (numbers as in detail/context_node.hpp).
//   (1) finish's exchange of the done word, release: the cause cell, written just
//       before under the node's lock, and everything the cancelling thread did before
//       cancel(), happen before (2).
//   (2) every read of the word — done(), err(), ready(), the waiter's reload after the
//       futex — is an acquire load: once it reads done, cause() reads a written cell
//       and the canceller's earlier writes are visible (Go's "cancel happens before
//       Done is closed").
//   (3) the wake after (1): a waiter announced itself by setting the waiters bit with a
//       CAS (W) before it sleeps, with the word value it compares in the futex. (1) is
//       a read-modify-write, so it reads (W) or a later value: if it reads the bit it
//       wakes the futex; if (W) comes after (1), (W) fails or the futex's compare sees
//       the new word. No wake-up is lost.
//   (4) registration (a child or a hook) re-checks the done word under the node's
//       lock, which finish() holds while it stores (1) and takes the lists: the child
//       is either in the list finish() takes, or sees done and is cancelled by its
//       creator. No cancellation is lost.
//   (5) a hook fires iff it was still linked when finish() took the list, and stop()
//       prevents it iff it unlinks it first: both decide under the same lock.
//   (L1)/(L2) the lock's acquire/release; (R1)-(R3) the reference count; (H1)/(H2) a
//       finished hook's flag, for the context_callback destructor's wait.
//
// Progress: reads wait-free; registration and cancel blocking (a lock, held for a few
// pointer writes); wait() blocking by nature.
//
// The model lane checks this header: verification/model/context_model.cpp (registration
// racing cancel, a waiter parking while cancel runs, stop() racing cancel, a child's last
// handle going while the parent cancels, parent and child cancelling at once; the timer
// thread is outside the model). Mutants: verification/mutants/context.cmake.
#pragma once

#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <type_traits>
#include <utility>

#include "patterns/detail/context_node.hpp"
#include "patterns/detail/timer_service.hpp"
#include "sync/atomic.hpp"
#include "sync/config.hpp"
#include "sync/wait.hpp"

namespace lf {

namespace detail {
struct context_access;
struct context_factory;
}  // namespace detail

// "context canceled", "context deadline exceeded" (Go's messages) or "none".
constexpr const char* to_string(context_error e) noexcept {
  switch (e) {
    case context_error::canceled: return "context canceled";
    case context_error::deadline_exceeded: return "context deadline exceeded";
    default: return "none";
  }
}

// What cause() returns for a context cancelled without a cause (Go's Canceled and
// DeadlineExceeded errors).
class context_done_error : public std::runtime_error {
 public:
  explicit context_done_error(context_error e) : std::runtime_error(to_string(e)), error_(e) {}
  context_error error() const noexcept { return error_; }

 private:
  context_error error_;
};

class context;
template <class F>
class context_callback;

// ctx.done(): a view of a context's done state. Valid while a handle to the context lives.
class context_done {
 public:
  // Ready once the context is done. An acquire load (2): after true, err() and cause()
  // are settled and the canceller's earlier writes are visible.
  bool ready() const noexcept {
    detail::timer_restart_if_forked();
    return node_ != nullptr && node_->done();
  }
  explicit operator bool() const noexcept { return ready(); }

  // True for a context that can never be done (background, without_cancel): Go's
  // Done() == nil. A select skips such a case; wait() on it is a misuse (LF_ASSERT).
  bool never() const noexcept { return node_ == nullptr; }

  // Blocks until done. On a context that is never done: LF_ASSERT, else blocks for ever.
  void wait() const {
    detail::timer_restart_if_forked();
    if (node_ != nullptr) {
      node_->wait();
      return;
    }
    LF_ASSERT(!"lf::context_done::wait on a context that is never done");
    lf::atomic<int> never_set{0};
    for (;;) futex_wait(never_set, 0);
  }

  // True when done before `deadline`; false once it has passed.
  bool wait_until(wait_clock::time_point deadline) const {
    detail::timer_restart_if_forked();
    if (node_ != nullptr) return node_->wait_until(deadline);
    lf::atomic<int> never_set{0};
    while (futex_wait_until(never_set, 0, deadline)) {
    }
    return false;
  }

  // wait_until(now + d). A negative duration throws std::invalid_argument.
  template <class Rep, class Period>
  bool wait_for(const std::chrono::duration<Rep, Period>& d) const {
    return wait_until(lf::deadline_after("lf::context_done::wait_for: d", d));
  }

 private:
  friend class context;
  template <class F>
  friend class context_callback;
  explicit context_done(detail::cancel_node* n) noexcept : node_(n) {}
  detail::cancel_node* node_;
};

// A handle to a node of the context tree. Default-constructed: background().
class context {
 public:
  context() noexcept = default;
  context(const context& o) noexcept : node_(o.node_) {
    if (node_ != nullptr) node_->retain();
  }
  context(context&& o) noexcept : node_(std::exchange(o.node_, nullptr)) {}
  context& operator=(const context& o) noexcept {
    context(o).swap(*this);
    return *this;
  }
  context& operator=(context&& o) noexcept {
    context(std::move(o)).swap(*this);
    return *this;
  }
  ~context() { detail::context_node::release(node_); }
  void swap(context& o) noexcept { std::swap(node_, o.node_); }

  context_done done() const noexcept { return context_done(canceler()); }

  context_error err() const noexcept {
    const detail::cancel_node* c = canceler();
    return c != nullptr ? c->err() : context_error::none;
  }

  // Null while not done; the cause given to cancel; else a context_done_error(err()).
  std::exception_ptr cause() const {
    const detail::cancel_node* c = canceler();
    if (c == nullptr) return nullptr;
    const context_error e = c->err();  // (2): the cause cell is written when e != none
    if (e == context_error::none) return nullptr;
    std::exception_ptr given = c->stored_cause();
    return given ? given : std::make_exception_ptr(context_done_error(e));
  }

  std::optional<wait_clock::time_point> deadline() const noexcept {
    return node_ != nullptr ? node_->deadline() : std::nullopt;
  }

  // The value stored under Key by this context or its nearest ancestor that has one;
  // null if none. The pointer is valid while a handle to this context lives.
  template <class Key>
  const typename Key::value_type* value() const noexcept {
    if (node_ == nullptr) return nullptr;
    return static_cast<const typename Key::value_type*>(node_->find_value(key_id<Key>()));
  }

  // A token whose stop is requested when this context is done. For a context that is
  // never done: a token with stop_possible() == false.
  std::stop_token stop_token() const {
    detail::cancel_node* c = canceler();
    return c != nullptr ? c->stop_token() : std::stop_token();
  }

 private:
  friend struct detail::context_access;
  explicit context(detail::context_node* adopt) noexcept : node_(adopt) {}
  detail::cancel_node* canceler() const noexcept { return node_ != nullptr ? node_->canceler() : nullptr; }

  template <class Key>
  static const void* key_id() noexcept {
    static constexpr char tag = 0;  // one address per key type
    return &tag;
  }

  detail::context_node* node_ = nullptr;
};

namespace detail {
// Construction and inspection that the free functions and tests need.
struct context_access {
  static context adopt(context_node* n) noexcept { return context(n); }
  static context_node* node(const context& c) noexcept { return c.node_; }
  // Retains the node of `c` for a new owner (may be null).
  static context_node* share(const context& c) noexcept {
    if (c.node_ != nullptr) c.node_->retain();
    return c.node_;
  }
  template <class Key>
  static const void* key_id() noexcept {
    return context::key_id<Key>();
  }
  // Linked cancellable children of c's own cancellable node (tests).
  static std::size_t children_approx(const context& c) {
    cancel_node* n = c.canceler();
    return n != nullptr ? n->children_approx() : 0;
  }
};
}  // namespace detail

// cancel(): makes the context done with context_error::canceled (no cause) and detaches
// it from its parent. Copyable; any copy may be called from any thread, any number of times.
class cancel_func {
 public:
  cancel_func() noexcept = default;
  cancel_func(const cancel_func& o) noexcept : node_(o.node_) { retain(); }
  cancel_func(cancel_func&& o) noexcept : node_(std::exchange(o.node_, nullptr)) {}
  cancel_func& operator=(cancel_func o) noexcept {
    std::swap(node_, o.node_);
    return *this;
  }
  ~cancel_func() { detail::context_node::release(node_); }

  void operator()() const { detail::cancel_node::cancel_holding(node_, nullptr); }

 private:
  friend struct detail::context_factory;
  explicit cancel_func(detail::cancel_node* n) noexcept : node_(n) { retain(); }
  void retain() noexcept {
    if (node_ != nullptr) node_->retain();
  }
  detail::cancel_node* node_ = nullptr;
};

// cancel(cause): as cancel_func, and cause() then returns `cause` (a null cause means
// none: cause() returns context_done_error(canceled)).
class cancel_cause_func {
 public:
  cancel_cause_func() noexcept = default;
  cancel_cause_func(const cancel_cause_func& o) noexcept : node_(o.node_) { retain(); }
  cancel_cause_func(cancel_cause_func&& o) noexcept : node_(std::exchange(o.node_, nullptr)) {}
  cancel_cause_func& operator=(cancel_cause_func o) noexcept {
    std::swap(node_, o.node_);
    return *this;
  }
  ~cancel_cause_func() { detail::context_node::release(node_); }

  void operator()(std::exception_ptr cause) const { detail::cancel_node::cancel_holding(node_, cause); }

 private:
  friend struct detail::context_factory;
  explicit cancel_cause_func(detail::cancel_node* n) noexcept : node_(n) { retain(); }
  void retain() noexcept {
    if (node_ != nullptr) node_->retain();
  }
  detail::cancel_node* node_ = nullptr;
};

// What with_cancel, with_deadline, with_timeout and with_stop_token return:
//   auto [ctx, cancel] = lf::with_cancel(parent);
struct context_with_cancel {
  context ctx;
  cancel_func cancel;
};

// What with_cancel_cause returns.
struct context_with_cancel_cause {
  context ctx;
  cancel_cause_func cancel;
};

namespace detail {

// A cancellable node cancelled (canceled, no cause) when a std::stop_token is requested.
class stop_token_node final : public cancel_node {
 public:
  explicit stop_token_node(context_node* parent) noexcept
      : cancel_node(parent, parent != nullptr ? parent->deadline() : std::optional<wait_clock::time_point>(), false) {}
  // After attach(): registering may run the trigger at once (a token already requested).
  void listen(std::stop_token token) { callback_.emplace(std::move(token), trigger{this}); }

 private:
  struct trigger {
    stop_token_node* node;
    void operator()() const noexcept {
      // The node may be on its way out (count zero, destructor waiting for this very
      // callback in ~stop_callback): then there is nobody left to tell.
      if (!node->try_retain()) return;
      node->cancel(context_error::canceled, nullptr);
      release(node);
    }
  };
  // Destroyed first in the destructor: ~stop_callback waits for a trigger running elsewhere.
  std::optional<std::stop_callback<trigger>> callback_;
};

struct context_factory {
  template <class Node, class... A>
  static Node* make_cancel_node(const context& parent, A&&... a) {
    context_node* p = context_access::share(parent);
    try {
      return new Node(p, std::forward<A>(a)...);
    } catch (...) {
      context_node::release(p);
      throw;
    }
  }
  static context_with_cancel pair(cancel_node* n) { return {context_access::adopt(n), cancel_func(n)}; }
  static context_with_cancel_cause cause_pair(cancel_node* n) {
    return {context_access::adopt(n), cancel_cause_func(n)};
  }
};

}  // namespace detail

// The root: never done, no values, no deadline. Costs nothing (the null handle).
inline context background() noexcept { return context(); }

inline context_with_cancel with_cancel(const context& parent) {
  auto* n = detail::context_factory::make_cancel_node<detail::cancel_node>(parent, parent.deadline(), false);
  context_with_cancel r = detail::context_factory::pair(n);
  n->attach();
  return r;
}

inline context_with_cancel_cause with_cancel_cause(const context& parent) {
  auto* n = detail::context_factory::make_cancel_node<detail::cancel_node>(parent, parent.deadline(), false);
  context_with_cancel_cause r = detail::context_factory::cause_pair(n);
  n->attach();
  return r;
}

// Done with deadline_exceeded at `deadline` (at once if it has passed), unless cancelled
// first. A parent deadline at or before `deadline` wins: the child is then a plain
// cancellable context, and deadline() reports the parent's. time_point::max() means no
// deadline (what with_timeout(hours::max()) saturates to): a plain with_cancel, nothing armed.
inline context_with_cancel with_deadline(const context& parent, wait_clock::time_point deadline) {
  if (deadline == wait_clock::time_point::max()) return with_cancel(parent);
  const std::optional<wait_clock::time_point> inherited = parent.deadline();
  if (inherited && *inherited <= deadline) return with_cancel(parent);
  const bool passed = wait_clock::now() >= deadline;
  auto* n = detail::context_factory::make_cancel_node<detail::cancel_node>(parent, deadline, !passed);
  context_with_cancel r = detail::context_factory::pair(n);
  n->attach();
  if (passed) n->cancel(context_error::deadline_exceeded, nullptr);  // no-op if the parent was done: its error wins
  return r;
}

// with_deadline(parent, now + timeout). A negative timeout throws std::invalid_argument.
template <class Rep, class Period>
context_with_cancel with_timeout(const context& parent, const std::chrono::duration<Rep, Period>& timeout) {
  return with_deadline(parent, lf::deadline_after("lf::with_timeout: timeout", timeout));
}

// A child that carries `value` under the key type Key (an empty class with a
// value_type): ctx.value<Key>() finds it here and in every descendant, unless a
// descendant stores another value under the same key (shadowing).
template <class Key, class V>
context with_value(const context& parent, Key, V&& value) {
  static_assert(std::is_empty_v<Key>, "lf::with_value: the key is a type; make Key an empty class");
  using T = typename Key::value_type;
  static_assert(std::is_constructible_v<T, V&&>, "lf::with_value: Key::value_type cannot be made from the value");
  detail::context_node* p = detail::context_access::share(parent);
  try {
    return detail::context_access::adopt(
        new detail::value_node<T>(p, detail::context_access::key_id<Key>(), std::forward<V>(value)));
  } catch (...) {
    detail::context_node::release(p);
    throw;
  }
}

// A child with the parent's values that is never done, has no deadline and is not
// cancelled by the parent.
inline context without_cancel(const context& parent) {
  detail::context_node* p = detail::context_access::share(parent);
  if (p == nullptr) return background();
  try {
    return detail::context_access::adopt(new detail::detached_node(p));
  } catch (...) {
    detail::context_node::release(p);
    throw;
  }
}

// A cancellable child that is also cancelled (canceled, no cause) when `token` is
// stop-requested — at once if it is already. The trigger runs on the thread that calls
// request_stop(). A token with stop_possible() == false adds nothing.
inline context_with_cancel with_stop_token(const context& parent, std::stop_token token) {
  auto* n = detail::context_factory::make_cancel_node<detail::stop_token_node>(parent);
  context_with_cancel r = detail::context_factory::pair(n);
  n->attach();
  if (token.stop_possible()) n->listen(std::move(token));
  return r;
}

namespace detail {

// The heap record behind after_func: a done_hook shared by the handles (refs_) and by
// the registration (one more reference while linked). It holds a strong reference to its
// context for its whole life, so the parent can still reach it to run f.
class after_record : public done_hook {
 public:
  void retain() noexcept {
    refs_.fetch_add(1, std::memory_order_relaxed);  // (R1) as for nodes
  }
  static void release(after_record* r) noexcept {
    if (r != nullptr && r->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete r;  // (R3) as for nodes
  }

  bool stop() {
    if (owner_ != nullptr) {
      if (!owner_->remove_hook(*this)) return false;  // (5) a canceller took it first
      release(this);                                   // the registration's reference
      return true;
    }
    int expected = 0;  // never-done context: the first stop() prevents the call
    return finished.compare_exchange_strong(expected, 1, std::memory_order_relaxed);  // relaxed: nothing to publish
  }

 protected:
  after_record(cancel_node* owner, void (*run)(after_record*) noexcept) noexcept : owner_(owner), run_(run) {
    fire = &fire_thunk;
    if (owner_ != nullptr) owner_->retain();
  }
  virtual ~after_record() { context_node::release(owner_); }

 private:
  template <class F>
  friend class after_record_of;
  friend struct after_access;

  static void fire_thunk(done_hook* h) noexcept {
    auto* r = static_cast<after_record*>(h);
    r->run_(r);
    r->mark_finished();
    release(r);  // the registration's reference
  }

  lf::atomic<int> refs_{1};  // the registration's; the handle adds its own
  cancel_node* const owner_;
  void (*const run_)(after_record*) noexcept;
};

template <class F>
class after_record_of final : public after_record {
 public:
  after_record_of(cancel_node* owner, F f) : after_record(owner, &run), f_(std::move(f)) {}

 private:
  static void run(after_record* r) noexcept { std::invoke(static_cast<after_record_of*>(r)->f_); }
  F f_;
};

// The callables that can be empty (a lambda converts to a function pointer that never is).
template <class F>
struct is_std_function : std::false_type {};
template <class R, class... A>
struct is_std_function<std::function<R(A...)>> : std::true_type {};

struct after_access {
  static cancel_node* owner(const after_record& r) noexcept { return r.owner_; }
  static void run_now(after_record& r) noexcept { after_record::fire_thunk(&r); }
};

}  // namespace detail

// What after_func returns. stop() keeps f from running; true iff it did (f has not
// started and never will). Copyable: the copies share one registration.
class after_func_handle {
 public:
  after_func_handle() noexcept = default;
  after_func_handle(const after_func_handle& o) noexcept : record_(o.record_) {
    if (record_ != nullptr) record_->retain();
  }
  after_func_handle(after_func_handle&& o) noexcept : record_(std::exchange(o.record_, nullptr)) {}
  after_func_handle& operator=(after_func_handle o) noexcept {
    std::swap(record_, o.record_);
    return *this;
  }
  ~after_func_handle() { detail::after_record::release(record_); }

  bool stop() { return record_ != nullptr && record_->stop(); }

 private:
  template <class F>
  friend after_func_handle after_func(const context& ctx, F f);
  explicit after_func_handle(detail::after_record* r) noexcept : record_(r) {}
  detail::after_record* record_ = nullptr;
};

// Runs f once ctx is done (at once, on this thread, if it is done already). f runs on
// the thread that makes ctx done; it must be short, must not block and must not throw.
// An empty f (a null function pointer, an empty std::function) throws std::invalid_argument.
template <class F>
after_func_handle after_func(const context& ctx, F f) {
  static_assert(std::is_invocable_v<F&>, "lf::after_func: f must be callable with no arguments");
  if constexpr (std::is_pointer_v<F> || std::is_member_pointer_v<F> || detail::is_std_function<F>::value) {
    if (f == nullptr) throw std::invalid_argument("lf::after_func: f is empty (null)");
  }
  detail::cancel_node* owner = ctx.done().never() ? nullptr : detail::context_access::node(ctx)->canceler();
  auto* r = new detail::after_record_of<F>(owner, std::move(f));
  after_func_handle handle(r);
  r->retain();  // the handle's reference; the record's own is the registration's
  if (owner == nullptr) {
    detail::after_record::release(r);  // nothing to register with: f never runs
  } else if (!owner->add_hook(*r)) {
    detail::after_access::run_now(*r);  // done already: run f now (drops the registration's reference)
  }
  return handle;
}

// The low-level hook for select and context-aware blocking: f runs once the context
// of `done` is done — on the cancelling thread, or in this constructor if it is done
// already — unless this object is destroyed first. No allocation. The destructor
// deregisters; if f is running on another thread it waits until f has returned, so f
// may use the caller's stack. Valid while a handle to the context lives. f must be
// short, must not block, must not throw and must not destroy this object.
template <class F>
class context_callback : private detail::done_hook {
 public:
  context_callback(context_done done, F f) : owner_(done.node_), f_(std::move(f)) {
    detail::timer_restart_if_forked();
    fire = &fire_thunk;
    if (owner_ == nullptr) {
      finished.store(1, std::memory_order_relaxed);  // never fires: nothing to wait for
      return;
    }
    if (!owner_->add_hook(*this)) fire_thunk(this);
  }
  context_callback(const context_callback&) = delete;
  context_callback& operator=(const context_callback&) = delete;

  ~context_callback() {
    if (owner_ != nullptr && !owner_->remove_hook(*this)) wait_finished();  // (H2)
  }

 private:
  static void fire_thunk(detail::done_hook* h) noexcept {
    auto* self = static_cast<context_callback*>(h);
    std::invoke(self->f_);
    self->mark_finished();  // (H1); after it, *self may be gone
  }

  detail::cancel_node* const owner_;
  F f_;
};

}  // namespace lf
