// Unit lane: what the fetch-and-add queues lf::lcrq and lf::lprq promise beyond the typed
// suite every reclaimed container runs (verification/unit/reclaimed_containers_test.cpp):
// ring size validation, values that do not fit in a cell word (boxed), move-only and
// throwing types, leftovers destroyed, and rings closed and retired as values pass
// through small rings. Each typed test runs over both queues; then what is one queue's own.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "lockfree/lcrq.hpp"
#include "lockfree/lprq.hpp"
#include "rcu/hazard_pointer.hpp"
#include "rcu/hazard_pointer_reclaimer.hpp"
#include "verification/support/counting_reclaimer.hpp"
#include "verification/support/tracked.hpp"

namespace {

using lf::test::tracked;
using counted = lf::test::counting_reclaimer;

static_assert(lf::concurrent_queue<lf::lcrq<int>>);
static_assert(lf::concurrent_queue<lf::lcrq<std::unique_ptr<int>>>);
static_assert(lf::lcrq<int>::push_progress == lf::progress::lock_free);
static_assert(lf::lcrq<int>::max_producers == lf::any_number && lf::lcrq<int>::max_consumers == lf::any_number);
static_assert(lf::concurrent_queue<lf::lprq<int>>);
static_assert(lf::concurrent_queue<lf::lprq<std::unique_ptr<int>>>);
static_assert(lf::lprq<int>::push_progress == lf::progress::lock_free && lf::lprq<int>::pop_progress == lf::progress::lock_free);
static_assert(lf::lprq<int>::max_producers == lf::any_number && lf::lprq<int>::max_consumers == lf::any_number);

TEST(lcrq, sixteen_byte_cells_are_lock_free_here) { EXPECT_TRUE(lf::lcrq<int>::is_lock_free()); }

TEST(lprq, single_word_cells_are_lock_free) { EXPECT_TRUE(lf::lprq<int>::is_lock_free()); }

// Small values travel shifted in the value word, past the byte that tells ⊥ and markers
// apart: every bit pattern, the all-ones ones included, must come back intact.
TEST(lprq, in_word_values_keep_every_bit) {
  lf::hazard_domain d;
  lf::lprq<std::uint32_t> q(d, 2);
  const std::uint32_t values[] = {0u, 1u, 0xffffffffu, 0x80000000u, 0x7fffffffu, 3u};
  for (std::uint32_t v : values) q.push(v);
  for (std::uint32_t v : values) EXPECT_EQ(*q.try_pop(), v);
  EXPECT_FALSE(q.try_pop().has_value());
}

// An 8-byte value leaves no bit for the markers: it travels boxed, every pattern intact
// (0, which is ⊥ as a word, and patterns whose low bits look like markers).
TEST(lprq, eight_byte_values_are_boxed_and_intact) {
  lf::hazard_domain d;
  lf::lprq<std::uint64_t> q(d, 4);
  const std::uint64_t values[] = {0u, 1u, 2u, 5u, ~std::uint64_t{0}, std::uint64_t{1} << 63};
  for (std::uint64_t v : values) q.push(v);
  for (std::uint64_t v : values) EXPECT_EQ(*q.try_pop(), v);
  EXPECT_FALSE(q.try_pop().has_value());
}

// The queue template under test, as a fixture parameter.
template <template <class, class> class Q>
struct queue_template {
  template <class T, class R = lf::hazard_pointer_reclaimer>
  using type = Q<T, R>;
};
template <class P>
struct faa_queue : ::testing::Test {
  template <class T, class R = lf::hazard_pointer_reclaimer>
  using queue = typename P::template type<T, R>;
};
struct queue_name {
  template <class P>
  static std::string GetName(int) {
    return std::is_same_v<P, queue_template<lf::lcrq>> ? "lcrq" : "lprq";
  }
};
using faa_queues = ::testing::Types<queue_template<lf::lcrq>, queue_template<lf::lprq>>;
TYPED_TEST_SUITE(faa_queue, faa_queues, queue_name);

TYPED_TEST(faa_queue, ring_size_must_be_a_power_of_two_of_at_least_two) {
  lf::hazard_domain d;
  for (std::size_t bad : {std::size_t{0}, std::size_t{1}, std::size_t{3}, std::size_t{1000}}) {
    try {
      typename TestFixture::template queue<int> q(d, bad);
      FAIL() << "no exception for " << bad;
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("ring_size"), std::string::npos) << what;
      EXPECT_NE(what.find(std::to_string(bad)), std::string::npos) << what;
    }
  }
  typename TestFixture::template queue<int> q(d, 2);
  EXPECT_EQ(q.ring_size(), 2u);
}

TYPED_TEST(faa_queue, fifo_across_many_ring_closings) {
  lf::hazard_domain d;
  typename TestFixture::template queue<std::uint64_t, counted> q(d, 4);
  const long before = counted::allocated_nodes.load();
  std::uint64_t in = 0, out = 0;
  for (int round = 0; round < 200; ++round) {
    for (int k = 0; k < 7; ++k) q.push(in++);
    for (int k = 0; k < 5; ++k) {
      auto v = q.try_pop();
      ASSERT_TRUE(v.has_value());
      EXPECT_EQ(*v, out++);
    }
  }
  while (auto v = q.try_pop()) EXPECT_EQ(*v, out++);
  EXPECT_EQ(in, out);
  EXPECT_TRUE(q.empty());
  // 1400 values through rings of 4 cells: hundreds of rings were appended and retired.
  EXPECT_GT(counted::allocated_nodes.load() - before, 300);
}

TYPED_TEST(faa_queue, values_larger_than_a_word_are_boxed_and_intact) {
  lf::hazard_domain d;
  typename TestFixture::template queue<std::string> q(d, 2);
  const std::string long_text(200, 'x');
  for (int i = 0; i < 10; ++i) q.push(long_text + std::to_string(i));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(*q.try_pop(), long_text + std::to_string(i));
  EXPECT_FALSE(q.try_pop().has_value());
}

TYPED_TEST(faa_queue, moves_move_only_values) {
  lf::hazard_domain d;
  typename TestFixture::template queue<std::unique_ptr<int>> q(d, 2);
  q.push(std::make_unique<int>(7));
  q.emplace(new int(8));
  q.push(std::make_unique<int>(9));  // into a second ring
  EXPECT_EQ(**q.try_pop(), 7);
  EXPECT_EQ(**q.try_pop(), 8);
  EXPECT_EQ(**q.try_pop(), 9);
}

TYPED_TEST(faa_queue, destructor_destroys_exactly_the_values_left_in_every_ring) {
  tracked::live = 0;
  {
    lf::hazard_domain d;
    typename TestFixture::template queue<tracked> q(d, 2);
    for (int i = 0; i < 9; ++i) q.emplace(i);  // five rings
    for (int i = 0; i < 4; ++i) ASSERT_EQ(q.try_pop()->value, i);
    EXPECT_EQ(tracked::live, 5);
  }
  EXPECT_EQ(tracked::live, 0);
}

TYPED_TEST(faa_queue, a_throwing_constructor_leaves_the_queue_unchanged) {
  struct throws_on_negative {
    int v;
    explicit throws_on_negative(int x) : v(x) {
      if (x < 0) throw std::runtime_error("negative");
    }
  };
  lf::hazard_domain d;
  typename TestFixture::template queue<throws_on_negative> q(d, 2);
  q.emplace(1);
  EXPECT_THROW(q.emplace(-1), std::runtime_error);
  q.emplace(2);
  EXPECT_EQ(q.try_pop()->v, 1);
  EXPECT_EQ(q.try_pop()->v, 2);
  EXPECT_FALSE(q.try_pop().has_value());
}

TYPED_TEST(faa_queue, popping_an_empty_queue_many_times_does_not_strand_later_pushes) {
  // Every failed pop moves the ring's head on; fix_state must bring tail along, or the
  // next push would land behind the poppers.
  lf::hazard_domain d;
  typename TestFixture::template queue<int> q(d, 4);
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(q.try_pop().has_value());
  q.push(1);
  q.push(2);
  EXPECT_EQ(*q.try_pop(), 1);
  EXPECT_EQ(*q.try_pop(), 2);
  EXPECT_TRUE(q.empty());
}

}  // namespace
