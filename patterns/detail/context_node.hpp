// lf::detail context nodes — the tree behind lf::context (patterns/context.hpp): node
// ownership, the done word, child lists, done hooks and the cancel walk. The ordering
// argument is numbered here and summarised in context.hpp's essay.
//
// Ownership. Every node is reference-counted (refs_). Strong references: a context
// handle, a cancel function, a child (to its direct parent), an after_func record (to
// the node it waits on, while it is registered). Weak references, upgraded with
// try_retain() under the lock that guards them: a cancellable parent's child list and
// the timer heap. A node whose last strong reference goes away unlinks itself from its
// parent's list and from the timer heap in its destructor, so a context dropped without
// calling its cancel function leaks nothing (Go keeps it alive in the parent until the
// parent is cancelled; C++ has no collector, so the list must not own it).
//
// Locks. Each cancellable node has a small futex lock (context_lock) guarding its child
// list, its hook list and its stop_source. A thread holds at most one such lock at a
// time, and never while it runs user code or takes the timer's mutex, so there is no lock
// order to get wrong. A lock is fine here: registration and cancellation are not hot
// paths (each happens once per context), and the hot reads — done(), err(), cause(),
// value(), deadline() — take no lock.
#pragma once

#include <cstddef>
#include <exception>
#include <new>
#include <optional>
#include <stop_token>
#include <utility>

#include "patterns/detail/timer_service.hpp"
#include "sync/atomic.hpp"
#include "sync/cell.hpp"
#include "sync/config.hpp"
#include "sync/thread.hpp"
#include "sync/wait.hpp"

namespace lf {

// Why a context is done (Go's ctx.Err()). `none` while it is not.
enum class context_error : int { none = 0, canceled = 1, deadline_exceeded = 2 };

}  // namespace lf

namespace lf::detail {

// A mutex on one futex word (Drepper, "Futexes Are Tricky", 2011, mutex 2):
// 0 free, 1 locked, 2 locked and maybe contended. A short spin first: the sections it
// guards are a few pointer writes, so a waiter usually gets it without a system call.
class context_lock {
 public:
  context_lock() = default;
  context_lock(const context_lock&) = delete;
  context_lock& operator=(const context_lock&) = delete;

  void lock() {
    int c = 0;
    // (L1) acquire: the previous holder's section happens before ours; pairs with (L2).
    if (word_.compare_exchange_strong(c, 1, std::memory_order_acquire, std::memory_order_relaxed)) return;
    for (int i = 0; i < spins; ++i) {
      spin_pause();
      c = 0;
      if (word_.load(std::memory_order_relaxed) == 0 &&
          word_.compare_exchange_strong(c, 1, std::memory_order_acquire, std::memory_order_relaxed)) {
        return;  // (L1)
      }
    }
    c = word_.exchange(2, std::memory_order_acquire);  // (L1)
    while (c != 0) {
      futex_wait(word_, 2);
      c = word_.exchange(2, std::memory_order_acquire);  // (L1)
    }
  }

  void unlock() {
    // (L2) release: our section happens before the next holder's; pairs with (L1).
    if (word_.exchange(0, std::memory_order_release) == 2) futex_wake_one(word_);
  }

 private:
#if defined(LF_MODEL_RELACY)
  static constexpr int spins = 0;  // under the model the scheduler, not a spin, decides who runs
#else
  static constexpr int spins = 64;
#endif
  lf::atomic<int> word_{0};
};

class cancel_node;

// A node of the tree. Immutable after construction except for its count; published to
// other threads by whatever hands them the context (the handle's copy is the user's
// synchronization, as for any shared_ptr).
class context_node {
 public:
  context_node(const context_node&) = delete;
  context_node& operator=(const context_node&) = delete;

  void retain() noexcept {
    refs_.fetch_add(1, std::memory_order_relaxed);  // (R1) relaxed: made from a reference the caller holds
  }

  // Upgrades a weak reference; false when the node's last strong reference is gone (its
  // destructor is running or about to). Called only under the lock (or mutex) that
  // guards the weak reference, which the destructor takes before the node is freed.
  bool try_retain() noexcept {
    int n = refs_.load(std::memory_order_relaxed);
    while (n > 0) {
      // (R2) relaxed: the guarding lock orders the node's construction before this upgrade.
      if (refs_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed, std::memory_order_relaxed)) return true;
    }
    return false;
  }

  // Drops one strong reference; deletes the node, then its parent, ... as their counts
  // reach zero (a loop, not a recursion: a chain of contexts may be long).
  static void release(context_node* n) noexcept {
    // (R3) acq_rel: release publishes this holder's uses of the node to the deleting
    // thread; acquire makes every other holder's uses happen before the delete.
    while (n != nullptr && n->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      context_node* parent = n->parent_;
      delete n;
      n = parent;
    }
  }

  context_node* parent() const noexcept { return parent_; }
  cancel_node* canceler() const noexcept { return canceler_; }
  const std::optional<wait_clock::time_point>& deadline() const noexcept { return deadline_; }

  // The value stored under `key` by this node or its nearest ancestor that has one.
  const void* find_value(const void* key) const noexcept {
    for (const context_node* n = this; n != nullptr; n = n->parent_) {
      if (n->key_ == key) return n->value_address();
    }
    return nullptr;
  }

 protected:
  // Takes over one strong reference to `parent` (may be null: the background root).
  context_node(context_node* parent, cancel_node* canceler, std::optional<wait_clock::time_point> deadline,
               const void* key) noexcept
      : parent_(parent), canceler_(canceler), deadline_(deadline), key_(key) {}
  virtual ~context_node() = default;
  virtual const void* value_address() const noexcept { return nullptr; }

 private:
  lf::atomic<int> refs_{1};
  context_node* const parent_;   // strong; released by release() after the delete
  cancel_node* const canceler_;  // nearest cancellable node, this one or an ancestor; kept alive by parent_
  const std::optional<wait_clock::time_point> deadline_;
  const void* const key_;  // non-null for a value node
};

// A node that carries a value under a typed key (lf::with_value).
template <class T>
class value_node final : public context_node {
 public:
  template <class V>
  value_node(context_node* parent, const void* key, V&& v)
      : context_node(parent, parent != nullptr ? parent->canceler() : nullptr,
                     parent != nullptr ? parent->deadline() : std::optional<wait_clock::time_point>(), key),
        value_(std::forward<V>(v)) {}

 private:
  const void* value_address() const noexcept override { return &value_; }
  const T value_;
};

// A node that keeps its parent's values but is never done (lf::without_cancel).
class detached_node final : public context_node {
 public:
  explicit detached_node(context_node* parent) noexcept : context_node(parent, nullptr, std::nullopt, nullptr) {}
};

// A callback waiting for a node to be done: the record behind lf::after_func and
// lf::context_callback. Intrusive: it lives in its owner's hook list while linked.
struct done_hook {
  // Runs on the cancelling thread, outside every lock, once the node is done.
  void (*fire)(done_hook*) noexcept = nullptr;
  done_hook* prev = nullptr;  // guarded by the owner's lock while linked
  done_hook* next = nullptr;  // guarded by the owner's lock while linked; then the canceller's
  bool linked = false;        // guarded by the owner's lock
  // 0 until fire() has returned, 1 after. A deregistration that found the hook claimed
  // by a canceller waits for 1 before the hook's memory may go.
  lf::atomic<int> finished{0};

  void mark_finished() noexcept {
    finished.store(1, std::memory_order_release);  // (H1) release: f's effects before the wait (H2) returns
  }
  void wait_finished() const {
    lf::backoff b;
    while (finished.load(std::memory_order_acquire) == 0) b.pause();  // (H2) acquire: pairs with (H1)
  }
};

// A cancellable node: with_cancel, with_cancel_cause, with_deadline, with_timeout,
// with_stop_token. The done word `word_` holds the error (context_error, low two bits)
// and a waiters bit, so one atomic load answers done() and err().
class cancel_node : public context_node, private timer_entry {
 public:
  static constexpr int err_mask = 3;
  static constexpr int waiters_bit = 4;

  // Takes over one strong reference to `parent`. `timer` says whether attach() will arm
  // the timer service for the deadline. Call attach() once the node is complete.
  cancel_node(context_node* parent, std::optional<wait_clock::time_point> deadline, bool timer) noexcept
      : context_node(parent, this, deadline, nullptr),
        cancel_parent_(parent ? parent->canceler() : nullptr),
        timer_armed_(timer) {}

  // Arms the timer (if the constructor was told to) and links the node under its
  // cancellable ancestor, or makes it done at once if that ancestor is done. The timer
  // is armed first, while the node is still private to this thread: everything a timer
  // or a canceller reads of it is then published by the mutex or lock they take.
  void attach() {
    if (timer_armed_) timer_service::instance().arm(*this, *deadline());
    if (cancel_parent_ != nullptr) cancel_parent_->adopt(this);
  }

  // --- reads, lock-free -------------------------------------------------------------
  // The raw word (error bits and waiters bit), for tests that watch a waiter park.
  int word(std::memory_order o) const noexcept { return word_.load(o); }
  bool done() const noexcept {
    return (word_.load(std::memory_order_acquire) & err_mask) != 0;  // (2) acquire: pairs with (1)
  }
  context_error err() const noexcept {
    return static_cast<context_error>(word_.load(std::memory_order_acquire) & err_mask);  // (2) pairs with (1)
  }
  // The cause given to cancel (may be null). Only after done() (or err()) returned true
  // on this thread: (2) then orders the write of the cell before this read.
  std::exception_ptr stored_cause() const { return *cause_.read(); }

  // --- blocking ---------------------------------------------------------------------
  void wait() {
    int w = word_.load(std::memory_order_acquire);  // (2)
    while ((w & err_mask) == 0) {
      if (!announce_waiter(w)) continue;
      futex_wait(word_, w);
      w = word_.load(std::memory_order_acquire);  // (2)
    }
  }
  // True when done; false once `deadline` has passed first.
  bool wait_until(wait_clock::time_point deadline) {
    int w = word_.load(std::memory_order_acquire);  // (2)
    while ((w & err_mask) == 0) {
      if (!announce_waiter(w)) continue;
      if (!futex_wait_until(word_, w, deadline)) return done();
      w = word_.load(std::memory_order_acquire);  // (2)
    }
    return true;
  }

  // --- cancellation -----------------------------------------------------------------
  // Makes this node and every descendant done with `err` and `cause`, runs their hooks,
  // and detaches this node from its parent. Returns false if it was done already.
  bool cancel(context_error err, const std::exception_ptr& cause) {
    cancel_node* work = nullptr;
    if (!finish(err, cause, work)) return false;
    detach_from_parent();
    // Descendants, breadth by list: each was unlinked from its parent under that
    // parent's lock and retained there, so it is on exactly one worklist.
    while (work != nullptr) {
      cancel_node* c = work;
      work = c->work_next_;
      c->finish(err, cause, work);
      release(c);
    }
    return true;
  }

  // cancel(canceled, cause) for a cancel function, holding its own reference across the
  // call: an after_func that runs inside may destroy the very cancel function (and with
  // it the caller's reference). A null node does nothing.
  static void cancel_holding(cancel_node* n, const std::exception_ptr& cause) {
    if (n == nullptr) return;
    n->retain();
    n->cancel(context_error::canceled, cause);
    release(n);
  }

  // --- hooks ------------------------------------------------------------------------
  // Links `h`; false (and nothing linked) if the node is done already.
  bool add_hook(done_hook& h) {
    if (done()) return false;
    lock_.lock();
    if (word_.load(std::memory_order_relaxed) & err_mask) {  // (4) for hooks; relaxed: finish() stores (1) under the lock
      lock_.unlock();
      return false;
    }
    h.prev = nullptr;
    h.next = first_hook_;
    if (first_hook_ != nullptr) first_hook_->prev = &h;
    first_hook_ = &h;
    h.linked = true;
    lock_.unlock();
    return true;
  }

  // Unlinks `h` if a canceller has not taken it: true when h's fire will never run.
  bool remove_hook(done_hook& h) {
    lock_.lock();
    const bool was_linked = h.linked;
    if (was_linked) {
      if (h.prev != nullptr) {
        h.prev->next = h.next;
      } else {
        first_hook_ = h.next;
      }
      if (h.next != nullptr) h.next->prev = h.prev;
      h.linked = false;
    }
    lock_.unlock();
    return was_linked;
  }

  // --- interop ----------------------------------------------------------------------
  // A token requested when this node is done (the source is made on first use).
  std::stop_token stop_token() {
    lock_.lock();
    if (!stop_source_.stop_possible()) stop_source_ = std::stop_source();
    std::stop_source source = stop_source_;
    const bool is_done = (word_.load(std::memory_order_relaxed) & err_mask) != 0;  // relaxed: under the lock
    lock_.unlock();
    if (is_done) source.request_stop();
    return source.get_token();
  }

  // Cancellable children linked right now (a snapshot; tests use it to see detaching).
  std::size_t children_approx() {
    lock_.lock();
    std::size_t n = 0;
    for (cancel_node* c = first_child_; c != nullptr; c = c->next_sibling_) ++n;
    lock_.unlock();
    return n;
  }

 protected:
  ~cancel_node() override {
    if (timer_armed_) timer_service::instance().disarm(*this);
    detach_from_parent();
    LF_ASSERT(first_child_ == nullptr);  // children hold strong references to us
    LF_ASSERT(first_hook_ == nullptr);   // a context_callback outlived its context
    if (word_.load(std::memory_order_relaxed) & err_mask) cause_.destroy();  // relaxed: (R3) ordered us last
  }

 private:
  // Sets the waiters bit in `w` (the caller's last reading of the word) before parking.
  // False if the word changed meanwhile: `w` is reloaded and the caller looks again.
  bool announce_waiter(int& w) {
    if (w & waiters_bit) return true;
    // (W) the bit only asks finish() to wake us, so the success order need not be more
    // than relaxed; it is acquire because the failure order (which needs acquire: the
    // reloaded `w` may say done, and then it is a (2)) may not be stronger. finish's
    // exchange (1) is an RMW and reads this value or a later one: if later, it sees the
    // bit and wakes us; if (1) comes first, this CAS fails (the word changed), or the
    // futex's compare finds the new word and returns at once.
    if (!word_.compare_exchange_strong(w, w | waiters_bit, std::memory_order_acquire, std::memory_order_acquire)) {
      return false;
    }
    w |= waiters_bit;
    return true;
  }

  // The locked part of cancellation for this one node: publish done, take the children
  // (appended to `work`, each retained), the hooks and the stop source; then, unlocked,
  // wake the waiters, disarm the timer, request stop and run the hooks.
  bool finish(context_error err, const std::exception_ptr& cause, cancel_node*& work) {
    lock_.lock();
    if (word_.load(std::memory_order_relaxed) & err_mask) {  // relaxed: under the lock
      lock_.unlock();
      return false;
    }
    ::new (static_cast<void*>(cause_.write())) std::exception_ptr(cause);
    // (1) release: the cause (and everything the canceller wrote before cancel) happens
    // before any thread whose acquire load (2) reads done. The exchange also reads the
    // waiters bit (W) of every waiter that announced itself before it.
    const int old = word_.exchange(static_cast<int>(err), std::memory_order_release);
    for (cancel_node* c = first_child_; c != nullptr;) {
      cancel_node* next = c->next_sibling_;
      c->linked_ = false;
      if (c->try_retain()) {  // a child whose count reached zero is being destroyed: skip it
        c->work_next_ = work;
        work = c;
      }
      c = next;
    }
    first_child_ = nullptr;
    done_hook* hooks = first_hook_;
    first_hook_ = nullptr;
    for (done_hook* h = hooks; h != nullptr; h = h->next) h->linked = false;
    std::stop_source source = stop_source_;
    lock_.unlock();

    if (old & waiters_bit) futex_wake_all(word_);  // (3) after (1): a woken waiter's reload reads done
    if (timer_armed_) timer_service::instance().disarm(*this);
    if (source.stop_possible()) source.request_stop();
    for (done_hook* h = hooks; h != nullptr;) {
      done_hook* next = h->next;  // read first: once fired, h may be gone
      h->fire(h);
      h = next;
    }
    return true;
  }

  // Called on the parent (`this`) by a new child: link it, or cancel it at once.
  void adopt(cancel_node* child) {
    if (child->done()) return;  // its deadline fired already: nothing to link
    if (done()) {  // (2): the cause is readable
      child->cancel_from_parent(err(), stored_cause());
      return;
    }
    lock_.lock();
    // The re-check under the lock: a cancel that began after the look above is either
    // finished (we see done here and cancel the child ourselves) or waits for the lock
    // and then finds the child in the list. Without it the child would be linked into a
    // list that finish() has already taken, and never be cancelled.
    if (word_.load(std::memory_order_relaxed) & err_mask) {  // (4) for children; relaxed: finish() stores (1) under the lock
      lock_.unlock();
      child->cancel_from_parent(err(), stored_cause());
      return;
    }
    // A child whose timer fired meanwhile is not linked: its detach_from_parent() may
    // have run before this section (it locks us after its done store (1)).
    if (child->done()) {
      lock_.unlock();
      return;
    }
    child->prev_sibling_ = nullptr;
    child->next_sibling_ = first_child_;
    if (first_child_ != nullptr) first_child_->prev_sibling_ = child;
    first_child_ = child;
    child->linked_ = true;
    lock_.unlock();
  }

  // A child born under a done parent: done at once, with the parent's error and cause.
  void cancel_from_parent(context_error err, const std::exception_ptr& cause) {
    cancel_node* work = nullptr;
    finish(err, cause, work);
    LF_ASSERT(work == nullptr);  // a node being attached has no children yet
  }

  void detach_from_parent() noexcept {
    if (cancel_parent_ == nullptr) return;
    cancel_node* p = cancel_parent_;
    p->lock_.lock();
    if (linked_) {
      if (prev_sibling_ != nullptr) {
        prev_sibling_->next_sibling_ = next_sibling_;
      } else {
        p->first_child_ = next_sibling_;
      }
      if (next_sibling_ != nullptr) next_sibling_->prev_sibling_ = prev_sibling_;
      linked_ = false;
    }
    p->lock_.unlock();
  }

  // timer_entry: the timer thread claims the node under its mutex, then cancels it.
  bool timer_claim() noexcept override { return try_retain(); }
  void timer_fire() noexcept override {
    cancel(context_error::deadline_exceeded, nullptr);
    release(this);
  }

  lf::atomic<int> word_{0};  // error bits and waiters bit; the futex word waiters park on
  context_lock lock_;
  cancel_node* const cancel_parent_;  // the parent's canceller (null under background / without_cancel)

  // Guarded by cancel_parent_->lock_:
  cancel_node* prev_sibling_ = nullptr;
  cancel_node* next_sibling_ = nullptr;
  bool linked_ = false;

  // Guarded by lock_:
  cancel_node* first_child_ = nullptr;
  done_hook* first_hook_ = nullptr;
  std::stop_source stop_source_{std::nostopstate};

  // The canceller's worklist link; used only after the node left its parent's list.
  cancel_node* work_next_ = nullptr;
  // Whether the node was (or is being) armed with the timer service; set before the node is shared.
  const bool timer_armed_;
  // Written once in finish() before (1); read after (2).
  lf::cell<std::exception_ptr> cause_;
};

}  // namespace lf::detail
