// Unit lane for rcu/hazard_pointer.hpp: the P2530 surface (empty, move, swap, protect,
// try_protect, reset_protection, retire with a deleter), what a scan frees and keeps,
// what a domain frees when it is destroyed, threads that exit with retired objects, and
// the misuse LF_ASSERT catches.
#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "rcu/hazard_pointer.hpp"
#include "sync/atomic.hpp"
#include "sync/thread.hpp"
#include "verification/support/retire_chain.hpp"

namespace {

struct object : lf::hazard_pointer_obj_base<object> {
  explicit object(int v = 0) : value(v) {}
  int value;
};

// A deleter that counts the objects it deletes.
struct counted_obj;
struct counted_deleter {
  static inline int deleted = 0;
  void operator()(counted_obj* p) const noexcept;
};
struct counted_obj : lf::hazard_pointer_obj_base<counted_obj, counted_deleter> {
  explicit counted_obj(int v = 0) : value(v) {}
  int value;
};
void counted_deleter::operator()(counted_obj* p) const noexcept {
  ++deleted;
  delete p;
}

class hazard_pointer_test : public ::testing::Test {
 protected:
  void SetUp() override { counted_deleter::deleted = 0; }
};

TEST_F(hazard_pointer_test, default_constructed_is_empty) {
  lf::hazard_pointer hp;
  EXPECT_TRUE(hp.empty());
}

TEST_F(hazard_pointer_test, made_from_a_domain_is_not_empty) {
  lf::hazard_domain domain;
  lf::hazard_pointer hp = lf::make_hazard_pointer(domain);
  EXPECT_FALSE(hp.empty());
}

TEST_F(hazard_pointer_test, move_construction_leaves_the_source_empty) {
  lf::hazard_domain domain;
  lf::hazard_pointer a = lf::make_hazard_pointer(domain);
  lf::hazard_pointer b(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the state after a move is specified
  EXPECT_FALSE(b.empty());
}

TEST_F(hazard_pointer_test, move_assignment_releases_the_target_and_empties_the_source) {
  lf::hazard_domain domain;
  auto* obj = new counted_obj;
  lf::atomic<counted_obj*> src{obj};
  lf::hazard_pointer a = lf::make_hazard_pointer(domain);
  lf::hazard_pointer b = lf::make_hazard_pointer(domain);
  ASSERT_EQ(b.protect(src), obj);
  b = std::move(a);  // b's old slot, protecting obj, is released
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_FALSE(b.empty());
  obj->retire(domain);
  EXPECT_EQ(domain.scan(), 0u);
  EXPECT_EQ(counted_deleter::deleted, 1);
}

TEST_F(hazard_pointer_test, swap_exchanges_the_slots) {
  lf::hazard_domain domain;
  lf::hazard_pointer a = lf::make_hazard_pointer(domain);
  lf::hazard_pointer b;
  a.swap(b);
  EXPECT_TRUE(a.empty());
  EXPECT_FALSE(b.empty());
  swap(a, b);
  EXPECT_FALSE(a.empty());
  EXPECT_TRUE(b.empty());
}

TEST_F(hazard_pointer_test, protect_returns_what_the_source_holds_null_included) {
  lf::hazard_domain domain;
  object obj(7);
  lf::atomic<object*> src{&obj};
  lf::hazard_pointer hp = lf::make_hazard_pointer(domain);
  EXPECT_EQ(hp.protect(src), &obj);
  src.store(nullptr);
  EXPECT_EQ(hp.protect(src), nullptr);
}

TEST_F(hazard_pointer_test, try_protect_succeeds_while_the_source_is_unchanged) {
  lf::hazard_domain domain;
  object a, b;
  lf::atomic<object*> src{&a};
  lf::hazard_pointer hp = lf::make_hazard_pointer(domain);
  object* p = &a;
  EXPECT_TRUE(hp.try_protect(p, src));
  EXPECT_EQ(p, &a);
}

TEST_F(hazard_pointer_test, try_protect_fails_and_reports_the_current_value_after_a_change) {
  lf::hazard_domain domain;
  object a, b;
  lf::atomic<object*> src{&b};
  lf::hazard_pointer hp = lf::make_hazard_pointer(domain);
  object* p = &a;
  EXPECT_FALSE(hp.try_protect(p, src));
  EXPECT_EQ(p, &b);
}

TEST_F(hazard_pointer_test, a_protected_object_survives_scans_until_the_protection_ends) {
  lf::hazard_domain domain;
  auto* obj = new counted_obj(5);
  lf::atomic<counted_obj*> src{obj};
  lf::hazard_pointer hp = lf::make_hazard_pointer(domain);
  counted_obj* p = hp.protect(src);
  src.store(nullptr);
  p->retire(domain);
  EXPECT_EQ(domain.scan(), 1u);
  EXPECT_EQ(counted_deleter::deleted, 0);
  EXPECT_EQ(p->value, 5);
  hp.reset_protection();
  EXPECT_EQ(domain.scan(), 0u);
  EXPECT_EQ(counted_deleter::deleted, 1);
}

TEST_F(hazard_pointer_test, reset_protection_with_a_pointer_protects_it_without_a_source) {
  lf::hazard_domain domain;
  auto* obj = new counted_obj;
  lf::hazard_pointer hp = lf::make_hazard_pointer(domain);
  hp.reset_protection(obj);
  obj->retire(domain);
  EXPECT_EQ(domain.scan(), 1u);
  hp.reset_protection(nullptr);
  EXPECT_EQ(domain.scan(), 0u);
  EXPECT_EQ(counted_deleter::deleted, 1);
}

TEST_F(hazard_pointer_test, destroying_a_hazard_pointer_ends_its_protection) {
  lf::hazard_domain domain;
  auto* obj = new counted_obj;
  lf::atomic<counted_obj*> src{obj};
  {
    lf::hazard_pointer hp = lf::make_hazard_pointer(domain);
    (void)hp.protect(src);
    obj->retire(domain);
    EXPECT_EQ(domain.scan(), 1u);
  }
  EXPECT_EQ(domain.scan(), 0u);
  EXPECT_EQ(counted_deleter::deleted, 1);
}

TEST_F(hazard_pointer_test, many_hazard_pointers_held_at_once_each_protect_their_object) {
  lf::hazard_domain domain;
  constexpr int n = 20;  // more than a thread's cache of slots
  std::vector<lf::hazard_pointer> hps;
  std::vector<counted_obj*> objs;
  for (int i = 0; i < n; ++i) {
    objs.push_back(new counted_obj(i));
    hps.push_back(lf::make_hazard_pointer(domain));
    hps.back().reset_protection(objs.back());
  }
  for (counted_obj* o : objs) o->retire(domain);
  EXPECT_EQ(domain.scan(), static_cast<std::size_t>(n));
  for (int i = 0; i < n; i += 2) hps[i].reset_protection();
  EXPECT_EQ(domain.scan(), static_cast<std::size_t>(n / 2));
  EXPECT_EQ(counted_deleter::deleted, n / 2);
  hps.clear();
  EXPECT_EQ(domain.scan(), 0u);
  EXPECT_EQ(counted_deleter::deleted, n);
}

// A deleter with state: the one passed to retire is the one that runs.
struct calls_counter;
struct counting_into {
  int* calls = nullptr;
  void operator()(calls_counter* p) const noexcept;
};
struct calls_counter : lf::hazard_pointer_obj_base<calls_counter, counting_into> {};
void counting_into::operator()(calls_counter* p) const noexcept {
  ++*calls;
  delete p;
}

TEST_F(hazard_pointer_test, retire_runs_the_given_deleter_exactly_once) {
  int calls = 0;
  {
    lf::hazard_domain domain;
    (new calls_counter)->retire(domain, counting_into{&calls});
    EXPECT_EQ(domain.scan(), 0u);
    EXPECT_EQ(calls, 1);
  }
  EXPECT_EQ(calls, 1);
}

TEST_F(hazard_pointer_test, a_retired_object_is_freed_automatically_once_enough_are_retired) {
  lf::hazard_domain domain;
  for (int i = 0; i < 10'000; ++i) (new counted_obj(i))->retire(domain);
  // The scan threshold is a constant plus a multiple of the slot count: far below 10'000.
  EXPECT_GT(counted_deleter::deleted, 9'000);
}

TEST_F(hazard_pointer_test, destroying_the_domain_frees_everything_still_retired) {
  {
    lf::hazard_domain domain;
    for (int i = 0; i < 10; ++i) (new counted_obj(i))->retire(domain);  // below the threshold
    EXPECT_EQ(counted_deleter::deleted, 0);
  }
  EXPECT_EQ(counted_deleter::deleted, 10);
}

// A deleter that retires another object, as a node owning a node would.
struct retire_to {
  template <class T>
  void operator()(T* p, lf::hazard_domain& d) const noexcept {
    p->retire(d);
  }
};
using chain = lf::test::retire_chain<lf::hazard_pointer_obj_base, lf::hazard_domain, retire_to>;

TEST_F(hazard_pointer_test, destroying_the_domain_frees_objects_retired_by_deleters) {
  {
    lf::hazard_domain domain;
    chain::retire_new_chain(domain, 5);
  }
  EXPECT_EQ(chain::deleted, 5);
}

TEST_F(hazard_pointer_test, objects_retired_by_an_exited_thread_are_reclaimed_by_the_next_owner_of_its_index) {
  lf::hazard_domain domain;
  std::size_t first_index = 0, second_index = 1;
  std::thread([&] {
    first_index = lf::thread_index();
    for (int i = 0; i < 3; ++i) (new counted_obj(i))->retire(domain);
  }).join();
  EXPECT_EQ(counted_deleter::deleted, 0);  // left in the exited thread's record
  std::size_t left = 99;
  std::thread([&] {
    second_index = lf::thread_index();  // the lowest free index: the one just released
    left = domain.scan();
  }).join();
  ASSERT_EQ(first_index, second_index);
  EXPECT_EQ(left, 0u);
  EXPECT_EQ(counted_deleter::deleted, 3);
}

TEST_F(hazard_pointer_test, objects_retired_by_an_exited_thread_are_freed_with_the_domain) {
  {
    lf::hazard_domain domain;
    std::thread([&] {
      for (int i = 0; i < 3; ++i) (new counted_obj(i))->retire(domain);
    }).join();
    EXPECT_EQ(counted_deleter::deleted, 0);
  }
  EXPECT_EQ(counted_deleter::deleted, 3);
}

TEST_F(hazard_pointer_test, the_default_domain_serves_the_calls_that_name_none) {
  auto* obj = new counted_obj(3);
  lf::atomic<counted_obj*> src{obj};
  {
    lf::hazard_pointer hp = lf::make_hazard_pointer();
    EXPECT_EQ(hp.protect(src), obj);
    obj->retire();
    lf::hazard_pointer_default_domain().scan();
    EXPECT_EQ(counted_deleter::deleted, 0);
  }
  lf::hazard_pointer_default_domain().scan();
  EXPECT_EQ(counted_deleter::deleted, 1);
}

// ---- misuse -------------------------------------------------------------------------

#if LF_ASSERTS_ON && !defined(LF_UNDER_TSAN)
TEST(hazard_pointer_misuse, protecting_through_an_empty_hazard_pointer_is_caught) {
  object obj;
  lf::atomic<object*> src{&obj};
  EXPECT_DEATH(
      {
        lf::hazard_pointer hp;
        (void)hp.protect(src);
      },
      "empty hazard pointer");
}

TEST(hazard_pointer_misuse, retiring_an_object_twice_is_caught) {
  EXPECT_DEATH(
      {
        lf::hazard_domain domain;
        auto* obj = new object;
        obj->retire(domain);
        obj->retire(domain);
      },
      "retired twice");
}

TEST(hazard_pointer_misuse, destroying_a_domain_with_a_live_hazard_pointer_is_caught) {
  EXPECT_DEATH(
      {
        auto* domain = new lf::hazard_domain;
        lf::hazard_pointer hp = lf::make_hazard_pointer(*domain);
        delete domain;
      },
      "hazard pointers in it are alive");
}
#endif

}  // namespace
