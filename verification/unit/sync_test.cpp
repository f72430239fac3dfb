// Unit lane for the seam (sync/): what production mode promises.
#include <gtest/gtest.h>

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "sync/atomic.hpp"
#include "sync/cell.hpp"
#include "sync/thread.hpp"
#include "sync/wait.hpp"

namespace {

// Production lf::atomic is std::atomic itself: no wrapper, no cost, interchangeable.
static_assert(std::is_same_v<lf::atomic<int>, std::atomic<int>>);
static_assert(alignof(lf::padded<char>) == lf::cache_line);
static_assert(sizeof(lf::padded<char>) == lf::cache_line);
static_assert(sizeof(lf::cell<std::uint64_t>) == sizeof(std::uint64_t), "a cell is its storage, nothing more");

struct tagged_pointer {
  void* ptr;
  std::uint64_t tag;
};

TEST(atomic_wide, sixteen_bytes_are_lock_free) {
  static_assert(sizeof(tagged_pointer) == 16);
  lf::atomic_wide<tagged_pointer> w(tagged_pointer{nullptr, 0});
  EXPECT_TRUE(w.is_lock_free());
}

TEST(atomic_wide, compare_exchange_replaces_both_halves_or_reports_the_current_value) {
  int x = 0;
  lf::atomic_wide<tagged_pointer> w(tagged_pointer{nullptr, 1});
  tagged_pointer expected{nullptr, 1};
  EXPECT_TRUE(w.compare_exchange_strong(expected, tagged_pointer{&x, 2}, std::memory_order_acq_rel,
                                        std::memory_order_acquire));
  tagged_pointer stale{nullptr, 1};
  EXPECT_FALSE(w.compare_exchange_strong(stale, tagged_pointer{nullptr, 3}, std::memory_order_acq_rel,
                                         std::memory_order_acquire));
  EXPECT_EQ(stale.ptr, &x);
  EXPECT_EQ(stale.tag, 2u);
  EXPECT_EQ(w.load().tag, 2u);
}

TEST(cell, holds_a_value_constructed_in_place_and_moves_it_out) {
  lf::cell<std::vector<int>> c;
  ::new (static_cast<void*>(c.write())) std::vector<int>{1, 2, 3};
  EXPECT_EQ(c.read()->size(), 3u);
  std::vector<int> v = c.take();
  EXPECT_EQ(v, (std::vector<int>{1, 2, 3}));
}

TEST(thread_index, live_threads_have_distinct_indices_below_the_limit) {
  constexpr int n = 8;
  std::vector<std::size_t> got(n);
  std::atomic<int> arrived{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < n; ++i) {
    ts.emplace_back([&, i] {
      got[static_cast<std::size_t>(i)] = lf::thread_index();
      arrived.fetch_add(1);
      while (arrived.load() < n) std::this_thread::yield();  // all alive at once
    });
  }
  for (auto& t : ts) t.join();
  std::set<std::size_t> distinct(got.begin(), got.end());
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(n));
  for (std::size_t i : got) EXPECT_LT(i, lf::max_threads);
}

TEST(thread_index, is_stable_within_a_thread) { EXPECT_EQ(lf::thread_index(), lf::thread_index()); }

TEST(thread_index, indices_of_exited_threads_are_reused) {
  // 2000 short-lived threads, one at a time: each exiting thread gives its index back,
  // so they all reuse a few low indices (the registry hands out the lowest free one).
  const std::size_t before = lf::detail::thread_registry::instance().live();
  std::set<std::size_t> seen;
  for (int i = 0; i < 2000; ++i) {
    std::size_t idx = 0;
    std::thread([&] { idx = lf::thread_index(); }).join();
    seen.insert(idx);
  }
  EXPECT_LE(seen.size(), 4u);
  EXPECT_EQ(lf::detail::thread_registry::instance().live(), before);
}

// Review defect: the index was released by a thread_local destructor, so a thread_local
// constructed before the thread's first lf call, destroyed later, ran on an index another
// thread could already hold. The index must be held until every thread_local is gone.
TEST(thread_index, is_held_through_the_destructors_of_earlier_thread_locals) {
  struct probe {
    std::size_t index_in_life = 0;
    std::size_t index_in_destructor = 0;
    bool held_in_destructor = false;
    bool* done = nullptr;
    std::size_t* got_life = nullptr;
    std::size_t* got_dtor = nullptr;
    bool* got_held = nullptr;
    ~probe() {
      if (done == nullptr) return;
      *got_dtor = lf::thread_index();
      *got_held = lf::detail::thread_registry::instance().taken(*got_dtor);
      *got_life = index_in_life;
      *done = true;
    }
  };
  bool done = false, held = false;
  std::size_t life = 0, dtor = 1;
  std::thread([&] {
    thread_local probe p;  // constructed before the thread's first lf call
    p.done = &done;
    p.got_life = &life;
    p.got_dtor = &dtor;
    p.got_held = &held;
    p.index_in_life = lf::thread_index();
  }).join();
  ASSERT_TRUE(done);
  EXPECT_EQ(dtor, life);
  EXPECT_TRUE(held);
}

// A pthread key destructor of another library may run after lf's and use lf: the thread
// then claims an index again, and glibc's next round of key destructors gives it back.
TEST(thread_index, a_later_key_destructor_that_uses_lf_gives_its_index_back) {
  (void)lf::thread_index();  // lf's key exists before ours, so ours runs after it
  static pthread_key_t later;
  ASSERT_EQ(pthread_key_create(&later, [](void*) { (void)lf::thread_index(); }), 0);
  const std::size_t before = lf::detail::thread_registry::instance().live();
  std::thread([] {
    (void)lf::thread_index();
    pthread_setspecific(later, reinterpret_cast<void*>(1));
  }).join();
  EXPECT_EQ(lf::detail::thread_registry::instance().live(), before);
  pthread_key_delete(later);
}

TEST(futex, timed_wait_returns_false_after_its_deadline) {
  lf::atomic<int> word{0};
  const auto deadline = lf::wait_clock::now() + std::chrono::milliseconds(20);
  while (lf::futex_wait_until(word, 0, deadline)) {
  }  // spurious returns loop; the deadline ends it
  EXPECT_GE(lf::wait_clock::now(), deadline);
}

TEST(futex, timed_wait_with_a_past_deadline_does_not_sleep) {
  lf::atomic<int> word{0};
  EXPECT_FALSE(lf::futex_wait_until(word, 0, lf::wait_clock::now() - std::chrono::seconds(1)));
  EXPECT_FALSE(lf::futex_wait_until(word, 0, lf::wait_clock::time_point{}));
}

TEST(futex, wait_returns_at_once_when_the_word_differs) {
  lf::atomic<int> word{1};
  lf::futex_wait(word, 0);  // would block forever if the value were not checked
  EXPECT_TRUE(lf::futex_wait_until(word, 0, lf::wait_clock::now() + std::chrono::hours(1)));
}

TEST(futex, wake_one_ends_a_wait_without_deadline) {
  lf::atomic<int> word{0};
  std::thread waiter([&] {
    while (word.load(std::memory_order_acquire) == 0) lf::futex_wait(word, 0);
  });
  word.store(1, std::memory_order_release);
  lf::futex_wake_one(word);
  waiter.join();  // a lost wake-up hangs here (and the lane's timeout reports it)
  EXPECT_EQ(word.load(), 1);
}

TEST(futex, wake_all_ends_every_timed_wait_before_its_deadline) {
  lf::atomic<int> word{0};
  const auto deadline = lf::wait_clock::now() + std::chrono::hours(1);
  std::atomic<int> woken{0};
  std::vector<std::thread> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.emplace_back([&] {
      while (word.load(std::memory_order_acquire) == 0) {
        if (!lf::futex_wait_until(word, 0, deadline)) return;
      }
      woken.fetch_add(1);
    });
  }
  word.store(1, std::memory_order_release);
  lf::futex_wake_all(word);
  for (auto& t : waiters) t.join();
  EXPECT_EQ(woken.load(), 3);
}

// "No timeout" is a huge duration in Go and in C++: it must not wrap into the past.
TEST(deadline_after, a_huge_duration_saturates_at_no_deadline) {
  constexpr auto never = lf::wait_clock::time_point::max();
  EXPECT_EQ(lf::deadline_after("t", std::chrono::hours::max()), never);
  EXPECT_EQ(lf::deadline_after("t", std::chrono::seconds::max()), never);
  EXPECT_EQ(lf::deadline_after("t", std::chrono::nanoseconds::max()), never);
  EXPECT_EQ(lf::deadline_after("t", std::chrono::duration<double>(1e300)), never);
  EXPECT_EQ(lf::deadline_after("t", std::chrono::duration<long long, std::pico>::max()) < never, true);
}

TEST(deadline_after, an_ordinary_duration_is_now_plus_d_rounded_up) {
  const auto before = lf::wait_clock::now();
  const auto d = lf::deadline_after("t", std::chrono::duration<double, std::milli>(1.5));
  const auto after = lf::wait_clock::now();
  EXPECT_GE(d, before + std::chrono::microseconds(1500));
  EXPECT_LE(d, after + std::chrono::microseconds(1500));
  const auto z = lf::deadline_after("t", std::chrono::seconds(0));
  EXPECT_LE(z, lf::wait_clock::now());
}

TEST(deadline_after, a_negative_or_nan_duration_throws_naming_the_caller_and_value) {
  try {
    (void)lf::deadline_after("lf::thing_for: d", std::chrono::milliseconds(-5));
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("lf::thing_for"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("-0.005"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)lf::deadline_after("t", std::chrono::duration<double>(std::nan(""))), std::invalid_argument);
}

TEST(futex, timed_wait_with_no_deadline_waits_for_the_wake) {
  lf::atomic<int> word{0};
  std::thread waker([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // long enough that a wrapped deadline would show
    word.store(1, std::memory_order_release);
    lf::futex_wake_all(word);
  });
  while (word.load(std::memory_order_acquire) == 0) {
    ASSERT_TRUE(lf::futex_wait_until(word, 0, lf::wait_clock::time_point::max()));
  }
  waker.join();
}

}  // namespace
