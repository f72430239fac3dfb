// Unit lane for rcu/epoch.hpp and rcu/epoch_reclaimer.hpp: the guard (empty, move,
// nesting), how the epoch advances around pins, when a retired object is freed and when
// it is kept, the deleter, unreclaimed(), threads that exit with retired objects, what a
// domain frees when it is destroyed, the reclaimer policy under lf::treiber_stack, and
// the misuse LF_ASSERT catches.
#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "lockfree/treiber_stack.hpp"
#include "rcu/epoch.hpp"
#include "rcu/epoch_reclaimer.hpp"
#include "rcu/reclaimer.hpp"
#include "sync/atomic.hpp"
#include "sync/thread.hpp"
#include "verification/support/retire_chain.hpp"

namespace {

static_assert(lf::reclaimer<lf::epoch_reclaimer>);
static_assert(!std::is_copy_constructible_v<lf::epoch_guard>);
static_assert(std::is_nothrow_move_constructible_v<lf::epoch_guard>);

// A deleter that counts the objects it deletes.
struct counted_obj;
struct counted_deleter {
  static inline int deleted = 0;
  void operator()(counted_obj* p) const noexcept;
};
struct counted_obj : lf::epoch_obj_base<counted_obj, counted_deleter> {
  explicit counted_obj(int v = 0) : value(v) {}
  int value;
};
void counted_deleter::operator()(counted_obj* p) const noexcept {
  ++deleted;
  delete p;
}

// Sends a thread into a pin of `domain` and keeps it there until release(): a reader
// that stalls inside its critical section.
class pinned_thread {
 public:
  explicit pinned_thread(lf::epoch_domain& domain)
      : thread_([this, &domain] {
          lf::epoch_guard g = domain.pin();
          state_.store(1, std::memory_order_release);
          while (state_.load(std::memory_order_acquire) != 2) lf::yield_thread();
        }) {
    while (state_.load(std::memory_order_acquire) != 1) lf::yield_thread();
  }
  pinned_thread(const pinned_thread&) = delete;
  pinned_thread& operator=(const pinned_thread&) = delete;
  ~pinned_thread() { release(); }

  // Unpins and joins the thread.
  void release() {
    if (!thread_.joinable()) return;
    state_.store(2, std::memory_order_release);
    thread_.join();
  }

 private:
  std::atomic<int> state_{0};
  std::thread thread_;
};

class epoch_test : public ::testing::Test {
 protected:
  void SetUp() override { counted_deleter::deleted = 0; }
};

// ---- the guard ----------------------------------------------------------------------

TEST_F(epoch_test, a_default_constructed_guard_is_not_pinned) {
  lf::epoch_guard g;
  EXPECT_FALSE(g.pinned());
}

TEST_F(epoch_test, pin_returns_a_pinned_guard_and_unpin_ends_it) {
  lf::epoch_domain domain;
  lf::epoch_guard g = domain.pin();
  EXPECT_TRUE(g.pinned());
  g.unpin();
  EXPECT_FALSE(g.pinned());
  g.unpin();  // a second unpin does nothing
  EXPECT_FALSE(g.pinned());
}

TEST_F(epoch_test, move_construction_transfers_the_pin) {
  lf::epoch_domain domain;
  lf::epoch_guard a = domain.pin();
  lf::epoch_guard b(std::move(a));
  EXPECT_FALSE(a.pinned());  // NOLINT(bugprone-use-after-move): the state after a move is specified
  EXPECT_TRUE(b.pinned());
}

TEST_F(epoch_test, move_assignment_ends_the_targets_pin) {
  lf::epoch_domain domain;
  lf::epoch_guard a = domain.pin();
  lf::epoch_guard b = domain.pin();
  b = std::move(a);  // b's own pin ends; the thread stays pinned through the moved one
  EXPECT_FALSE(a.pinned());  // NOLINT(bugprone-use-after-move)
  EXPECT_TRUE(b.pinned());
  ASSERT_TRUE(domain.try_advance());  // pinned at the current epoch: one advance is allowed
  EXPECT_FALSE(domain.try_advance());  // but not a second
  b.unpin();
  EXPECT_TRUE(domain.try_advance());
}

// ---- advancing the epoch -------------------------------------------------------------

TEST_F(epoch_test, the_epoch_advances_freely_while_nobody_is_pinned) {
  lf::epoch_domain domain;
  const std::uint64_t start = domain.epoch();
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(domain.try_advance());
  EXPECT_EQ(domain.epoch(), start + 5);
}

TEST_F(epoch_test, a_pinned_thread_lets_the_epoch_advance_once_past_its_announcement) {
  lf::epoch_domain domain;
  const std::uint64_t start = domain.epoch();
  pinned_thread reader(domain);
  EXPECT_TRUE(domain.try_advance());
  EXPECT_FALSE(domain.try_advance());
  EXPECT_FALSE(domain.try_advance());
  EXPECT_EQ(domain.epoch(), start + 1);
  reader.release();
  EXPECT_TRUE(domain.try_advance());
  EXPECT_EQ(domain.epoch(), start + 2);
}

TEST_F(epoch_test, nested_pins_keep_the_thread_pinned_until_the_outermost_ends) {
  lf::epoch_domain domain;
  lf::epoch_guard outer = domain.pin();
  ASSERT_TRUE(domain.try_advance());
  {
    lf::epoch_guard inner = domain.pin();  // does not announce the newer epoch
    EXPECT_FALSE(domain.try_advance());
  }
  EXPECT_FALSE(domain.try_advance());  // the outer pin still holds
  outer.unpin();
  EXPECT_TRUE(domain.try_advance());
}

TEST_F(epoch_test, an_inner_pin_that_outlives_the_outer_keeps_the_thread_pinned) {
  lf::epoch_domain domain;
  lf::epoch_guard first = domain.pin();
  lf::epoch_guard second = domain.pin();
  ASSERT_TRUE(domain.try_advance());
  first.unpin();
  EXPECT_FALSE(domain.try_advance());
  second.unpin();
  EXPECT_TRUE(domain.try_advance());
}

// ---- retire and free -------------------------------------------------------------------

TEST_F(epoch_test, retire_then_two_collects_free_an_object_when_nobody_is_pinned) {
  lf::epoch_domain domain;
  (new counted_obj)->retire(domain);
  EXPECT_EQ(counted_deleter::deleted, 0);
  EXPECT_EQ(domain.collect(), 1u);  // sealed at e, epoch now e + 1
  EXPECT_EQ(domain.collect(), 0u);  // epoch e + 2: freed
  EXPECT_EQ(counted_deleter::deleted, 1);
}

TEST_F(epoch_test, an_object_is_kept_while_a_pin_older_than_its_retire_is_held) {
  lf::epoch_domain domain;
  auto* obj = new counted_obj(5);
  lf::atomic<counted_obj*> src{obj};
  std::atomic<int> state{0};
  int seen = 0;
  std::thread reader([&] {
    lf::epoch_guard g = domain.pin();
    counted_obj* p = src.load(std::memory_order_acquire);
    state.store(1, std::memory_order_release);
    while (state.load(std::memory_order_acquire) != 2) lf::yield_thread();
    seen = p->value;  // still valid: the pin predates the retire
  });
  while (state.load(std::memory_order_acquire) != 1) lf::yield_thread();
  src.store(nullptr);
  obj->retire(domain);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(domain.collect(), 1u);
  EXPECT_EQ(counted_deleter::deleted, 0);
  state.store(2, std::memory_order_release);
  reader.join();
  EXPECT_EQ(seen, 5);
  EXPECT_EQ(domain.collect(), 0u);  // the epoch moves on past the retire
  EXPECT_EQ(counted_deleter::deleted, 1);
}

TEST_F(epoch_test, the_retiring_threads_own_pin_delays_the_free_without_blocking_retire) {
  lf::epoch_domain domain;
  {
    lf::epoch_guard g = domain.pin();
    (new counted_obj)->retire(domain);  // retire while pinned: deferred, never waits
    for (int i = 0; i < 5; ++i) EXPECT_EQ(domain.collect(), 1u);
  }
  EXPECT_EQ(counted_deleter::deleted, 0);
  domain.collect();
  domain.collect();
  EXPECT_EQ(counted_deleter::deleted, 1);
}

TEST_F(epoch_test, a_pin_taken_after_the_retire_does_not_delay_the_free) {
  lf::epoch_domain domain;
  (new counted_obj)->retire(domain);
  domain.collect();  // sealed at e; the epoch is e + 1
  pinned_thread late(domain);  // announces e + 1: the advance to e + 2 may pass it
  EXPECT_EQ(domain.collect(), 0u);
  EXPECT_EQ(counted_deleter::deleted, 1);
}

// A deleter with state: the one passed to retire is the one that runs, once.
struct calls_counter;
struct counting_into {
  int* calls = nullptr;
  void operator()(calls_counter* p) const noexcept;
};
struct calls_counter : lf::epoch_obj_base<calls_counter, counting_into> {};
void counting_into::operator()(calls_counter* p) const noexcept {
  ++*calls;
  delete p;
}

TEST_F(epoch_test, retire_runs_the_given_deleter_exactly_once) {
  int calls = 0;
  {
    lf::epoch_domain domain;
    (new calls_counter)->retire(domain, counting_into{&calls});
    for (int i = 0; i < 5; ++i) domain.collect();
    EXPECT_EQ(calls, 1);
  }
  EXPECT_EQ(calls, 1);
}

TEST_F(epoch_test, retired_objects_are_freed_automatically_as_more_are_retired) {
  lf::epoch_domain domain;
  for (int i = 0; i < 10'000; ++i) (new counted_obj(i))->retire(domain);
  // A flush every flush_every retires frees what is two epochs old: all but the last
  // few flushes' worth.
  EXPECT_GT(counted_deleter::deleted, 9'000);
  EXPECT_EQ(domain.unreclaimed(), static_cast<std::size_t>(10'000 - counted_deleter::deleted));
}

TEST_F(epoch_test, unreclaimed_counts_what_is_retired_and_not_yet_freed) {
  lf::epoch_domain domain;
  EXPECT_EQ(domain.unreclaimed(), 0u);
  for (int i = 0; i < 5; ++i) (new counted_obj(i))->retire(domain);
  EXPECT_EQ(domain.unreclaimed(), 5u);
  domain.collect();
  EXPECT_EQ(domain.unreclaimed(), 5u);
  domain.collect();
  EXPECT_EQ(domain.unreclaimed(), 0u);
}

TEST_F(epoch_test, unreclaimed_sums_over_threads) {
  lf::epoch_domain domain;
  std::thread([&] {
    for (int i = 0; i < 3; ++i) (new counted_obj(i))->retire(domain);
  }).join();
  for (int i = 0; i < 2; ++i) (new counted_obj(i))->retire(domain);
  EXPECT_EQ(domain.unreclaimed(), 5u);
}

TEST_F(epoch_test, destroying_the_domain_frees_everything_still_retired) {
  {
    lf::epoch_domain domain;
    for (int i = 0; i < 10; ++i) (new counted_obj(i))->retire(domain);  // below the flush
    domain.collect();  // sealed, not yet two epochs old
    (new counted_obj)->retire(domain);  // pending, not even sealed
    EXPECT_EQ(counted_deleter::deleted, 0);
  }
  EXPECT_EQ(counted_deleter::deleted, 11);
}

// A deleter that retires another object, as a node owning a node would.
struct retire_to {
  template <class T>
  void operator()(T* p, lf::epoch_domain& d) const noexcept {
    p->retire(d);
  }
};
using chain = lf::test::retire_chain<lf::epoch_obj_base, lf::epoch_domain, retire_to>;

TEST_F(epoch_test, destroying_the_domain_frees_objects_retired_by_deleters) {
  {
    lf::epoch_domain domain;
    chain::retire_new_chain(domain, 5);
  }
  EXPECT_EQ(chain::deleted, 5);
}

TEST_F(epoch_test, collects_free_objects_that_deleters_retire_while_being_freed) {
  lf::epoch_domain domain;
  constexpr int n = 1000;  // deleters retire more than a flush's worth from inside flushes
  chain::retire_new_chain(domain, n);
  for (int i = 0; i < 4 * n && domain.unreclaimed() > 0; ++i) domain.collect();
  EXPECT_EQ(chain::deleted, n);
  EXPECT_EQ(domain.unreclaimed(), 0u);
}

TEST_F(epoch_test, objects_retired_by_an_exited_thread_are_freed_by_the_next_owner_of_its_index) {
  lf::epoch_domain domain;
  std::size_t first_index = 0, second_index = 1;
  std::thread([&] {
    first_index = lf::thread_index();
    for (int i = 0; i < 3; ++i) (new counted_obj(i))->retire(domain);
  }).join();
  EXPECT_EQ(counted_deleter::deleted, 0);  // left in the exited thread's record
  EXPECT_EQ(domain.unreclaimed(), 3u);
  std::size_t left = 99;
  std::thread([&] {
    second_index = lf::thread_index();  // the lowest free index: the one just released
    domain.collect();
    left = domain.collect();
  }).join();
  ASSERT_EQ(first_index, second_index);
  EXPECT_EQ(left, 0u);
  EXPECT_EQ(counted_deleter::deleted, 3);
  EXPECT_EQ(domain.unreclaimed(), 0u);
}

TEST_F(epoch_test, objects_retired_by_an_exited_thread_are_freed_with_the_domain) {
  {
    lf::epoch_domain domain;
    std::thread([&] {
      for (int i = 0; i < 3; ++i) (new counted_obj(i))->retire(domain);
    }).join();
    EXPECT_EQ(counted_deleter::deleted, 0);
  }
  EXPECT_EQ(counted_deleter::deleted, 3);
}

TEST_F(epoch_test, the_default_domain_serves_the_calls_that_name_none) {
  lf::epoch_domain& domain = lf::epoch_default_domain();
  EXPECT_EQ(&domain, &lf::epoch_default_domain());
  (new counted_obj)->retire();
  domain.collect();
  domain.collect();
  EXPECT_EQ(counted_deleter::deleted, 1);
}

// ---- the reclaimer policy ----------------------------------------------------------------

struct policy_node : lf::epoch_reclaimer::node_base<policy_node> {
  static inline int deleted = 0;
  ~policy_node() { ++deleted; }
};

TEST_F(epoch_test, a_reclaimer_guard_pins_at_its_first_protect_and_unpins_at_reset) {
  lf::epoch_domain domain;
  policy_node::deleted = 0;
  auto* n = new policy_node;
  lf::atomic<policy_node*> src{n};
  lf::epoch_reclaimer::guard g(domain);
  EXPECT_TRUE(domain.try_advance());
  EXPECT_TRUE(domain.try_advance());  // not pinned before the first protect
  EXPECT_EQ(g.protect(src), n);
  EXPECT_EQ(g.protect(src), n);  // a second protect does not re-pin
  src.store(nullptr);
  lf::epoch_reclaimer::retire(domain, n);
  for (int i = 0; i < 5; ++i) domain.collect();
  EXPECT_EQ(policy_node::deleted, 0);
  g.reset();
  domain.collect();
  domain.collect();
  EXPECT_EQ(policy_node::deleted, 1);
}

TEST_F(epoch_test, two_reclaimer_guards_of_one_thread_nest) {
  lf::epoch_domain domain;
  lf::atomic<policy_node*> src{nullptr};
  lf::epoch_reclaimer::guard a(domain), b(domain);
  (void)a.protect(src);
  (void)b.protect(src);
  ASSERT_TRUE(domain.try_advance());
  a.reset();
  EXPECT_FALSE(domain.try_advance());  // b still pins
  b.reset();
  EXPECT_TRUE(domain.try_advance());
}

TEST_F(epoch_test, treiber_stack_over_epochs_pops_in_lifo_order) {
  lf::epoch_domain domain;
  lf::treiber_stack<int, lf::epoch_reclaimer> s(domain);
  for (int i = 0; i < 1000; ++i) s.push(i);
  for (int i = 999; i >= 0; --i) {
    std::optional<int> v = s.try_pop();
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, i);
  }
  EXPECT_FALSE(s.try_pop().has_value());
  EXPECT_TRUE(s.empty());
  domain.collect();
  domain.collect();
  EXPECT_EQ(domain.unreclaimed(), 0u);
}

TEST_F(epoch_test, treiber_stack_over_epochs_moves_every_value_once_between_two_threads) {
  lf::epoch_domain domain;
  constexpr std::int64_t n = 20'000;
  std::int64_t sum = 0, count = 0;
  {
    lf::treiber_stack<std::int64_t, lf::epoch_reclaimer> s(domain);
    std::thread producer([&] {
      for (std::int64_t i = 1; i <= n; ++i) s.push(i);
    });
    while (count < n) {
      if (std::optional<std::int64_t> v = s.try_pop()) {
        sum += *v;
        ++count;
      }
    }
    producer.join();
    EXPECT_TRUE(s.empty());
  }
  EXPECT_EQ(count, n);
  EXPECT_EQ(sum, n * (n + 1) / 2);
}

// ---- misuse -------------------------------------------------------------------------

#if LF_ASSERTS_ON && !defined(LF_UNDER_TSAN)
TEST(epoch_misuse, retiring_an_object_twice_is_caught) {
  EXPECT_DEATH(
      {
        lf::epoch_domain domain;
        auto* obj = new counted_obj;
        obj->retire(domain);
        obj->retire(domain);
      },
      "retired twice");
}

TEST(epoch_misuse, destroying_a_domain_with_a_pinned_thread_is_caught) {
  EXPECT_DEATH(
      {
        auto* domain = new lf::epoch_domain;
        lf::epoch_guard g = domain->pin();
        delete domain;
      },
      "while a thread is pinned");
}

TEST(epoch_misuse, ending_a_guard_on_another_thread_is_caught) {
  EXPECT_DEATH(
      {
        lf::epoch_domain domain;
        lf::epoch_guard g = domain.pin();
        std::thread([&] { g.unpin(); }).join();
      },
      "another thread");
}
#endif

}  // namespace
