// Unit lane for rcu/rcu.hpp and rcu/rcu_reclaimer.hpp: the P2545 surface (rcu_obj_base,
// rcu_domain as a Lockable, rcu_default_domain, rcu_synchronize, rcu_barrier,
// rcu_retire), nesting, what a grace period waits for, what rcu_barrier and the domain's
// destructor free, retiring from inside a critical section, threads that exit, the
// reclaimer policy, and the misuse LF_ASSERT catches.
//
// "Waits for" is tested without sleeps: a reader holds its section open and gives the
// waiting thread many chances to return early (a bounded run of yields) before it checks
// that it did not; a correct domain passes whatever the timing.
#include <gtest/gtest.h>

#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <concepts>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "lockfree/treiber_stack.hpp"
#include "rcu/rcu.hpp"
#include "rcu/rcu_reclaimer.hpp"
#include "rcu/reclaimer.hpp"
#include "sync/asymmetric_fence.hpp"
#include "sync/atomic.hpp"
#include "sync/thread.hpp"
#include "verification/support/retire_chain.hpp"

namespace {

// A deleter that counts the objects it deletes.
struct counted;
struct counting_deleter {
  static inline std::atomic<int> deleted{0};
  void operator()(counted* p) const noexcept;
};
struct counted : lf::rcu_obj_base<counted, counting_deleter> {
  explicit counted(int v = 0) : value(v) {}
  int value;
};
void counting_deleter::operator()(counted* p) const noexcept {
  deleted.fetch_add(1);
  delete p;
}

// An object with the default deleter that counts its destructions.
struct plain : lf::rcu_obj_base<plain> {
  static inline std::atomic<int> destroyed{0};
  ~plain() { destroyed.fetch_add(1); }
};

class rcu_test : public ::testing::Test {
 protected:
  void SetUp() override {
    counting_deleter::deleted = 0;
    plain::destroyed = 0;
  }
};

// Gives a thread that should be blocked many chances to run to completion: returns early
// if `done` becomes true (which, for a correct domain, it must not).
bool becomes_true_within_many_yields(const std::atomic<bool>& done) {
  for (int i = 0; i < 20'000; ++i) {
    if (done.load()) return true;
    lf::yield_thread();
  }
  return done.load();
}

// ---- the P2545 surface ---------------------------------------------------------------

template <class M>
concept lockable = requires(M m) {
  m.lock();
  { m.try_lock() } -> std::same_as<bool>;
  m.unlock();
};
static_assert(lockable<lf::rcu_domain>);
static_assert(!std::is_copy_constructible_v<lf::rcu_domain> && !std::is_copy_assignable_v<lf::rcu_domain>);
static_assert(lf::reclaimer<lf::rcu_reclaimer>);

TEST_F(rcu_test, a_domain_is_lockable_with_scoped_lock) {
  lf::rcu_domain domain;
  {
    std::scoped_lock lk(domain);
  }
  {
    std::unique_lock lk(domain);
    EXPECT_TRUE(lk.owns_lock());
  }
  lf::rcu_synchronize(domain);  // would assert if a section were still open
}

TEST_F(rcu_test, try_lock_always_enters) {
  lf::rcu_domain domain;
  EXPECT_TRUE(domain.try_lock());
  EXPECT_TRUE(domain.try_lock());  // nested
  domain.unlock();
  domain.unlock();
  lf::rcu_synchronize(domain);
}

TEST_F(rcu_test, the_default_domain_is_one_instance) {
  EXPECT_EQ(&lf::rcu_default_domain(), &lf::rcu_default_domain());
}

TEST_F(rcu_test, retire_with_the_default_deleter_and_domain_then_barrier_deletes) {
  (new plain)->retire();
  lf::rcu_barrier();
  EXPECT_EQ(plain::destroyed.load(), 1);
}

TEST_F(rcu_test, retire_runs_the_given_deleter_exactly_once) {
  lf::rcu_domain domain;
  (new counted(3))->retire({}, domain);
  lf::rcu_barrier(domain);
  EXPECT_EQ(counting_deleter::deleted.load(), 1);
  lf::rcu_barrier(domain);
  EXPECT_EQ(counting_deleter::deleted.load(), 1);
}

// A deleter with state: the one passed to retire is the one that runs.
struct tagged;
struct tagging_deleter {
  int* into = nullptr;
  int tag = 0;
  void operator()(tagged* p) const noexcept;
};
struct tagged : lf::rcu_obj_base<tagged, tagging_deleter> {};
void tagging_deleter::operator()(tagged* p) const noexcept {
  *into = tag;
  delete p;
}

TEST_F(rcu_test, retire_stores_the_deleter_it_is_given) {
  int seen = 0;
  lf::rcu_domain domain;
  (new tagged)->retire(tagging_deleter{&seen, 42}, domain);
  lf::rcu_barrier(domain);
  EXPECT_EQ(seen, 42);
}

TEST_F(rcu_test, rcu_retire_takes_objects_that_do_not_derive_from_the_base) {
  lf::rcu_domain domain;
  int deleted = 0;
  auto* p = new int(7);
  lf::rcu_retire(
      p,
      [&deleted](int* q) {
        ++deleted;
        delete q;
      },
      domain);
  EXPECT_EQ(domain.unreclaimed(), 1u);
  lf::rcu_barrier(domain);
  EXPECT_EQ(deleted, 1);
  EXPECT_EQ(domain.unreclaimed(), 0u);
}

TEST_F(rcu_test, rcu_retire_with_the_default_deleter) {
  struct probe {
    ~probe() { plain::destroyed.fetch_add(1); }
  };
  lf::rcu_domain domain;
  lf::rcu_retire(new probe, std::default_delete<probe>(), domain);
  lf::rcu_barrier(domain);
  EXPECT_EQ(plain::destroyed.load(), 1);
}

// ---- what a grace period waits for -------------------------------------------------

TEST_F(rcu_test, synchronize_waits_for_a_reader_inside_its_section) {
  lf::rcu_domain domain;
  std::atomic<bool> inside{false}, release{false}, started{false}, returned{false};
  std::thread reader([&] {
    std::scoped_lock lk(domain);
    inside = true;
    while (!release.load()) lf::yield_thread();
  });
  while (!inside.load()) lf::yield_thread();
  std::thread writer([&] {
    started = true;
    lf::rcu_synchronize(domain);
    returned = true;
  });
  while (!started.load()) lf::yield_thread();
  EXPECT_FALSE(becomes_true_within_many_yields(returned));
  release = true;
  reader.join();
  writer.join();
  EXPECT_TRUE(returned.load());
}

// A property of waiting, not a speed threshold: synchronize blocked for 300 ms behind a
// reader must sleep, not spin (it used to burn the whole 300 ms of CPU). The waiter spins
// a few µs, yields 16 times, then sleeps 8 µs doubling to 1 ms: about 300 wake-ups of a
// few µs each. 30 ms leaves room for sanitizers and a loaded machine.
TEST_F(rcu_test, synchronize_sleeps_while_it_waits_for_a_long_reader) {
  lf::rcu_domain domain;
  std::atomic<bool> inside{false}, release{false};
  std::thread reader([&] {
    std::scoped_lock lk(domain);
    inside = true;
    while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  while (!inside.load()) lf::yield_thread();
  std::atomic<double> cpu_ms{-1};
  std::thread writer([&] {
    timespec a{}, b{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
    lf::rcu_synchronize(domain);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
    cpu_ms = static_cast<double>(b.tv_sec - a.tv_sec) * 1e3 + static_cast<double>(b.tv_nsec - a.tv_nsec) / 1e6;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  release = true;
  reader.join();
  writer.join();
  std::printf("rcu_synchronize CPU over a 300 ms wait: %.3f ms\n", cpu_ms.load());
  EXPECT_LT(cpu_ms.load(), 30.0);
}

TEST_F(rcu_test, synchronize_waits_for_the_outermost_unlock_of_a_nested_reader) {
  lf::rcu_domain domain;
  std::atomic<int> step{0};
  std::atomic<bool> returned{false};
  std::thread reader([&] {
    domain.lock();
    domain.lock();
    step = 1;
    while (step.load() != 2) lf::yield_thread();
    domain.unlock();  // inner: still inside
    step = 3;
    while (step.load() != 4) lf::yield_thread();
    domain.unlock();
  });
  while (step.load() != 1) lf::yield_thread();
  std::thread writer([&] {
    lf::rcu_synchronize(domain);
    returned = true;
  });
  step = 2;
  while (step.load() != 3) lf::yield_thread();
  EXPECT_FALSE(becomes_true_within_many_yields(returned));
  step = 4;
  reader.join();
  writer.join();
  EXPECT_TRUE(returned.load());
}

TEST_F(rcu_test, synchronize_does_not_wait_for_readers_outside_their_sections) {
  lf::rcu_domain domain;
  std::atomic<bool> entered_once{false}, release{false};
  std::thread idle([&] {
    { std::scoped_lock lk(domain); }  // enrolled, then quiescent
    entered_once = true;
    while (!release.load()) lf::yield_thread();
  });
  while (!entered_once.load()) lf::yield_thread();
  lf::rcu_synchronize(domain);  // returns although `idle` has not ended
  release = true;
  idle.join();
}

TEST_F(rcu_test, an_object_retired_during_a_section_survives_until_the_section_ends) {
  lf::rcu_domain domain;
  auto* obj = new counted(5);
  lf::atomic<counted*> src{obj};
  std::atomic<bool> inside{false}, release{false}, barrier_done{false};
  std::thread reader([&] {
    std::scoped_lock lk(domain);
    counted* p = src.load(std::memory_order_acquire);
    inside = true;
    while (!release.load()) lf::yield_thread();
    EXPECT_EQ(p->value, 5);  // under ASan, a read of a freed object is a report
  });
  while (!inside.load()) lf::yield_thread();
  src.store(nullptr);
  obj->retire({}, domain);
  std::thread writer([&] {
    lf::rcu_barrier(domain);
    barrier_done = true;
  });
  EXPECT_FALSE(becomes_true_within_many_yields(barrier_done));
  EXPECT_EQ(counting_deleter::deleted.load(), 0);
  release = true;
  reader.join();
  writer.join();
  EXPECT_EQ(counting_deleter::deleted.load(), 1);
}

// ---- rcu_barrier and reclamation ---------------------------------------------------

TEST_F(rcu_test, barrier_deletes_everything_retired_before_it) {
  lf::rcu_domain domain;
  for (int i = 0; i < 10; ++i) (new counted(i))->retire({}, domain);
  EXPECT_EQ(domain.unreclaimed(), 10u);
  lf::rcu_barrier(domain);
  EXPECT_EQ(counting_deleter::deleted.load(), 10);
  EXPECT_EQ(domain.unreclaimed(), 0u);
}

TEST_F(rcu_test, synchronize_also_deletes_what_was_retired_before_it) {
  lf::rcu_domain domain;
  for (int i = 0; i < 10; ++i) (new counted(i))->retire({}, domain);
  lf::rcu_synchronize(domain);
  EXPECT_EQ(counting_deleter::deleted.load(), 10);
}

TEST_F(rcu_test, barrier_with_nothing_retired_returns) {
  lf::rcu_domain domain;
  lf::rcu_barrier(domain);
  EXPECT_EQ(domain.unreclaimed(), 0u);
}

TEST_F(rcu_test, retired_objects_are_deleted_without_synchronize_once_enough_are_retired) {
  lf::rcu_domain domain;
  constexpr int n = 10'000;
  for (int i = 0; i < n; ++i) (new counted(i))->retire({}, domain);
  // Collections run every rcu_tuning::collect_every retires; with no reader, each frees
  // the batch sealed by the one before. At most two batches stay.
  EXPECT_GE(counting_deleter::deleted.load(), n - 2 * static_cast<int>(lf::detail::rcu_tuning::collect_every));
  EXPECT_EQ(domain.unreclaimed(), static_cast<std::size_t>(n - counting_deleter::deleted.load()));
}

TEST_F(rcu_test, unreclaimed_counts_what_is_retired_and_not_yet_deleted) {
  lf::rcu_domain domain;
  EXPECT_EQ(domain.unreclaimed(), 0u);
  (new counted)->retire({}, domain);
  (new counted)->retire({}, domain);
  EXPECT_EQ(domain.unreclaimed(), 2u);
  lf::rcu_barrier(domain);
  EXPECT_EQ(domain.unreclaimed(), 0u);
}

TEST_F(rcu_test, retiring_many_from_inside_a_section_neither_deadlocks_nor_frees_them) {
  lf::rcu_domain domain;
  constexpr int n = 5'000;  // many collection attempts, all made from inside the section
  {
    std::scoped_lock lk(domain);
    for (int i = 0; i < n; ++i) (new counted(i))->retire({}, domain);
    EXPECT_EQ(counting_deleter::deleted.load(), 0);  // our own section began before each retire
  }
  lf::rcu_barrier(domain);
  EXPECT_EQ(counting_deleter::deleted.load(), n);
}

TEST_F(rcu_test, destroying_the_domain_deletes_everything_still_retired) {
  {
    lf::rcu_domain domain;
    for (int i = 0; i < 10; ++i) (new counted(i))->retire({}, domain);
    EXPECT_EQ(counting_deleter::deleted.load(), 0);
  }
  EXPECT_EQ(counting_deleter::deleted.load(), 10);
}

// A deleter that retires another object, as a node owning a node would.
struct retire_to {
  template <class T>
  void operator()(T* p, lf::rcu_domain& d) const noexcept {
    p->retire({}, d);
  }
};
using chain = lf::test::retire_chain<lf::rcu_obj_base, lf::rcu_domain, retire_to>;

TEST_F(rcu_test, destroying_the_domain_deletes_objects_retired_by_deleters) {
  {
    lf::rcu_domain domain;
    chain::retire_new_chain(domain, 5);
  }
  EXPECT_EQ(chain::deleted, 5);
}

// ---- threads that come and go --------------------------------------------------------

TEST_F(rcu_test, objects_retired_by_an_exited_thread_are_deleted_by_barrier) {
  lf::rcu_domain domain;
  std::thread([&] {
    std::scoped_lock lk(domain);
    for (int i = 0; i < 3; ++i) (new counted(i))->retire({}, domain);
  }).join();
  EXPECT_EQ(domain.unreclaimed(), 3u);
  lf::rcu_barrier(domain);
  EXPECT_EQ(counting_deleter::deleted.load(), 3);
}

TEST_F(rcu_test, objects_retired_by_an_exited_thread_are_deleted_with_the_domain) {
  {
    lf::rcu_domain domain;
    std::thread([&] {
      for (int i = 0; i < 3; ++i) (new counted(i))->retire({}, domain);
    }).join();
  }
  EXPECT_EQ(counting_deleter::deleted.load(), 3);
}

TEST_F(rcu_test, a_thread_that_reuses_an_exited_threads_index_starts_outside_any_section) {
  lf::rcu_domain domain;
  std::size_t first = 0, second = 1;
  std::thread([&] {
    first = lf::thread_index();
    std::scoped_lock outer(domain);
    std::scoped_lock inner(domain);
  }).join();
  std::thread([&] {
    second = lf::thread_index();  // the lowest free index: the one just released
    lf::rcu_synchronize(domain);  // would assert if the inherited record said "inside"
    std::scoped_lock lk(domain);
  }).join();
  EXPECT_EQ(first, second);
  lf::rcu_synchronize(domain);  // and no record is left inside
}

// ---- the reclaimer policy ------------------------------------------------------------

TEST_F(rcu_test, guard_enters_at_first_protect_and_leaves_at_reset) {
  lf::rcu_domain domain;
  plain* obj = new plain;
  lf::atomic<plain*> src{obj};
  {
    lf::rcu_reclaimer::guard g(domain);
    EXPECT_EQ(g.protect(src), obj);
    EXPECT_EQ(g.protect(src), obj);  // already inside: no second level
    src.store(nullptr);
    lf::rcu_reclaimer::retire(domain, obj);
    g.reset();
    g.reset();  // idempotent
    lf::rcu_barrier(domain);  // would assert if the guard were still inside
  }
  EXPECT_EQ(plain::destroyed.load(), 1);
}

TEST_F(rcu_test, a_guard_that_never_protects_never_enters) {
  lf::rcu_domain domain;
  { lf::rcu_reclaimer::guard g(domain); }
  lf::rcu_synchronize(domain);
}

TEST_F(rcu_test, treiber_stack_over_rcu_pushes_and_pops) {
  lf::rcu_domain domain;
  {
    lf::treiber_stack<int, lf::rcu_reclaimer> s(domain);
    for (int i = 0; i < 1000; ++i) s.push(i);
    for (int i = 999; i >= 0; --i) EXPECT_EQ(s.try_pop(), std::optional<int>(i));
    EXPECT_FALSE(s.try_pop().has_value());
    s.push(7);  // left inside: the stack's destructor frees it
  }
  lf::rcu_barrier(domain);
  EXPECT_EQ(domain.unreclaimed(), 0u);
}

TEST_F(rcu_test, treiber_stack_over_rcu_moves_every_value_once_between_threads) {
  lf::rcu_domain domain;
  lf::treiber_stack<int, lf::rcu_reclaimer> s(domain);
  constexpr int per_thread = 20'000;
  std::atomic<long> sum{0};
  std::atomic<int> count{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 1; i <= per_thread; ++i) {
        s.push(t * per_thread + i);
        if (std::optional<int> v = s.try_pop()) {
          sum += *v;
          ++count;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  while (std::optional<int> v = s.try_pop()) {
    sum += *v;
    ++count;
  }
  const long n = 2L * per_thread;
  EXPECT_EQ(count.load(), n);
  EXPECT_EQ(sum.load(), n * (n + 1) / 2);
}

TEST_F(rcu_test, the_default_domain_serves_the_reclaimer_default) {
  EXPECT_EQ(&lf::rcu_reclaimer::default_domain(), &lf::rcu_default_domain());
  lf::treiber_stack<int, lf::rcu_reclaimer> s;
  s.push(1);
  EXPECT_EQ(s.try_pop(), std::optional<int>(1));
}

TEST_F(rcu_test, reports_whether_the_light_fence_is_compiler_only) {
  // Informational: on Linux with membarrier the read side pays no fence instruction.
  RecordProperty("asymmetric_fence_is_expedited", lf::asymmetric_fence_is_expedited() ? "yes" : "no");
  SUCCEED();
}

// ---- misuse -------------------------------------------------------------------------

#if LF_ASSERTS_ON && !defined(LF_UNDER_TSAN)
TEST(rcu_misuse, unlock_without_lock_is_caught) {
  EXPECT_DEATH(
      {
        lf::rcu_domain domain;
        domain.unlock();
      },
      "unlock without a matching lock");
}

TEST(rcu_misuse, synchronize_inside_a_section_is_caught) {
  EXPECT_DEATH(
      {
        lf::rcu_domain domain;
        std::scoped_lock lk(domain);
        lf::rcu_synchronize(domain);
      },
      "waits for itself");
}

TEST(rcu_misuse, barrier_inside_a_section_is_caught) {
  EXPECT_DEATH(
      {
        lf::rcu_domain domain;
        std::scoped_lock lk(domain);
        lf::rcu_barrier(domain);
      },
      "waits for itself");
}

TEST(rcu_misuse, retiring_an_object_twice_is_caught) {
  EXPECT_DEATH(
      {
        lf::rcu_domain domain;
        auto* obj = new plain;
        obj->retire({}, domain);
        obj->retire({}, domain);
      },
      "retired twice");
}

TEST(rcu_misuse, destroying_a_domain_with_a_reader_inside_is_caught) {
  EXPECT_DEATH(
      {
        auto* domain = new lf::rcu_domain;
        domain->lock();
        delete domain;
      },
      "reader is inside");
}
#endif

}  // namespace
