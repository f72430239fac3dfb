// Unit lane: what every ring (spsc_ring, mpmc_ring, scq_ring) promises single-threaded —
// capacity, FIFO, bad input, move-only and counting payloads, destruction of leftovers —
// plus the SPSC bulk calls.
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "lockfree/mpmc_ring.hpp"
#include "lockfree/scq_ring.hpp"
#include "lockfree/spsc_ring.hpp"
#include "verification/support/tracked.hpp"

namespace {

static_assert(lf::concurrent_queue<lf::spsc_ring<int>>);
static_assert(lf::concurrent_queue<lf::mpmc_ring<int>>);
static_assert(lf::concurrent_queue<lf::mpmc_ring<std::unique_ptr<int>>>);
static_assert(lf::spsc_ring<int>::push_progress == lf::progress::wait_free);
static_assert(lf::spsc_ring<int>::max_producers == 1 && lf::spsc_ring<int>::max_consumers == 1);
static_assert(lf::mpmc_ring<int>::push_progress == lf::progress::lock_free);
static_assert(lf::mpmc_ring<int>::max_producers == lf::any_number);
static_assert(lf::concurrent_queue<lf::scq_ring<std::unique_ptr<int>>>);
static_assert(lf::scq_ring<int>::push_progress == lf::progress::lock_free);
static_assert(lf::scq_ring<int>::max_producers == lf::any_number && lf::scq_ring<int>::max_consumers == lf::any_number);

using lf::test::tracked;

template <class Ring>
class ring : public ::testing::Test {};

template <template <class> class R>
struct ring_kind {
  template <class T>
  using type = R<T>;
};
using kinds = ::testing::Types<ring_kind<lf::spsc_ring>, ring_kind<lf::mpmc_ring>, ring_kind<lf::scq_ring>>;
TYPED_TEST_SUITE(ring, kinds);

template <class Kind, class T>
using ring_t = typename Kind::template type<T>;

TYPED_TEST(ring, capacity_is_the_next_power_of_two_at_least_requested) {
  EXPECT_EQ((ring_t<TypeParam, int>(5).capacity()), 8u);
  EXPECT_EQ((ring_t<TypeParam, int>(8).capacity()), 8u);
  EXPECT_EQ((ring_t<TypeParam, int>(1000).capacity()), 1024u);
  EXPECT_GE((ring_t<TypeParam, int>(1).capacity()), 1u);
}

TYPED_TEST(ring, push_fails_exactly_when_capacity_elements_are_inside) {
  ring_t<TypeParam, int> q(6);
  for (std::size_t i = 0; i < q.capacity(); ++i) ASSERT_TRUE(q.try_push(static_cast<int>(i))) << i;
  EXPECT_FALSE(q.try_push(-1));
  EXPECT_EQ(q.size_approx(), q.capacity());
  ASSERT_TRUE(q.try_pop().has_value());
  EXPECT_TRUE(q.try_push(-1));
  EXPECT_FALSE(q.try_push(-2));
}

TYPED_TEST(ring, pops_in_fifo_order_across_many_laps) {
  ring_t<TypeParam, int> q(4);
  int next_in = 0, next_out = 0;
  for (int round = 0; round < 100; ++round) {
    while (q.try_push(next_in)) ++next_in;
    for (int k = 0; k < 3; ++k) {
      auto v = q.try_pop();
      ASSERT_TRUE(v.has_value());
      EXPECT_EQ(*v, next_out++);
    }
  }
  while (auto v = q.try_pop()) EXPECT_EQ(*v, next_out++);
  EXPECT_EQ(next_in, next_out);
}

TYPED_TEST(ring, empty_ring_pops_nothing) {
  ring_t<TypeParam, int> q(2);
  EXPECT_FALSE(q.try_pop().has_value());
  EXPECT_EQ(q.size_approx(), 0u);
}

TYPED_TEST(ring, zero_capacity_is_rejected_naming_the_value) {
  try {
    ring_t<TypeParam, int> q(0);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("capacity"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("0"), std::string::npos) << e.what();
  }
}

TYPED_TEST(ring, capacity_whose_storage_overflows_is_rejected_naming_the_value) {
  const std::size_t huge = SIZE_MAX / 2;
  try {
    ring_t<TypeParam, int> q(huge);
    FAIL() << "no exception";
  } catch (const std::length_error& e) {
    EXPECT_NE(std::string(e.what()).find(std::to_string(huge)), std::string::npos) << e.what();
  }
  EXPECT_THROW((ring_t<TypeParam, int>(SIZE_MAX)), std::length_error);
}

TYPED_TEST(ring, moves_move_only_values) {
  ring_t<TypeParam, std::unique_ptr<int>> q(2);
  ASSERT_TRUE(q.try_push(std::make_unique<int>(7)));
  ASSERT_TRUE(q.try_emplace(new int(8)));
  auto a = q.try_pop();
  auto b = q.try_pop();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(**a, 7);
  EXPECT_EQ(**b, 8);
}

TYPED_TEST(ring, copies_from_lvalues_and_keeps_strings_intact) {
  ring_t<TypeParam, std::string> q(2);
  const std::string long_text(200, 'x');
  ASSERT_TRUE(q.try_push(long_text));
  EXPECT_EQ(long_text.size(), 200u);  // copied, not moved from
  EXPECT_EQ(*q.try_pop(), long_text);
}

TYPED_TEST(ring, destructor_destroys_exactly_the_elements_left) {
  tracked::live = 0;
  {
    ring_t<TypeParam, tracked> q(4);
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(q.try_emplace(i));
    ASSERT_TRUE(q.try_pop().has_value());
    EXPECT_EQ(tracked::live, 3);
  }
  EXPECT_EQ(tracked::live, 0);
}

TYPED_TEST(ring, destructor_after_wraparound_destroys_the_live_window) {
  tracked::live = 0;
  {
    ring_t<TypeParam, tracked> q(4);
    for (int i = 0; i < 10; ++i) {  // two and a half laps, so the live window wraps
      ASSERT_TRUE(q.try_emplace(i));
      ASSERT_TRUE(q.try_pop().has_value());
    }
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(q.try_emplace(i));
    EXPECT_EQ(tracked::live, 3);
  }
  EXPECT_EQ(tracked::live, 0);
}

TYPED_TEST(ring, a_throwing_constructor_leaves_the_ring_unchanged) {
  struct throws_on_negative {
    int v;
    explicit throws_on_negative(int x) : v(x) {
      if (x < 0) throw std::runtime_error("negative");
    }
  };
  ring_t<TypeParam, throws_on_negative> q(2);
  ASSERT_TRUE(q.try_emplace(1));
  EXPECT_THROW((void)q.try_emplace(-1), std::runtime_error);
  EXPECT_EQ(q.size_approx(), 1u);
  EXPECT_EQ(q.try_pop()->v, 1);
  EXPECT_FALSE(q.try_pop().has_value());
}

// ---- spsc_ring bulk calls ---------------------------------------------------------

TEST(spsc_ring_bulk, push_n_pushes_a_prefix_up_to_free_room) {
  lf::spsc_ring<int> q(4);
  const std::vector<int> in{1, 2, 3, 4, 5, 6};
  EXPECT_EQ(q.try_push_n(in.begin(), in.size()), 4u);
  EXPECT_EQ(q.try_push_n(in.begin(), in.size()), 0u);
  std::vector<int> out(6, 0);
  EXPECT_EQ(q.try_pop_n(out.begin(), 6), 4u);
  EXPECT_EQ(out, (std::vector<int>{1, 2, 3, 4, 0, 0}));
}

TEST(spsc_ring_bulk, pop_n_interleaves_with_single_calls_in_fifo_order) {
  lf::spsc_ring<int> q(8);
  int src[3] = {1, 2, 3};
  ASSERT_EQ(q.try_push_n(src, 3), 3u);
  ASSERT_TRUE(q.try_push(4));
  EXPECT_EQ(*q.try_pop(), 1);
  int out[8] = {};
  EXPECT_EQ(q.try_pop_n(out, 8), 3u);
  EXPECT_EQ(out[0], 2);
  EXPECT_EQ(out[1], 3);
  EXPECT_EQ(out[2], 4);
  EXPECT_EQ(q.try_pop_n(out, 8), 0u);
}

TEST(spsc_ring_bulk, push_n_moves_through_move_iterators) {
  lf::spsc_ring<std::unique_ptr<int>> q(4);
  std::vector<std::unique_ptr<int>> in;
  for (int i = 0; i < 3; ++i) in.push_back(std::make_unique<int>(i));
  ASSERT_EQ(q.try_push_n(std::make_move_iterator(in.begin()), in.size()), 3u);
  std::vector<std::unique_ptr<int>> out;
  ASSERT_EQ(q.try_pop_n(std::back_inserter(out), 3), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(*out[static_cast<std::size_t>(i)], i);
}

TEST(spsc_ring_bulk, a_throwing_constructor_publishes_the_elements_before_it) {
  struct throws_on_negative {
    int v;
    throws_on_negative(int x) : v(x) {  // NOLINT: implicit on purpose, built from int
      if (x < 0) throw std::runtime_error("negative");
    }
  };
  lf::spsc_ring<throws_on_negative> q(8);
  const int in[4] = {1, 2, -1, 4};
  EXPECT_THROW((void)q.try_push_n(in, 4), std::runtime_error);
  EXPECT_EQ(q.size_approx(), 2u);
  EXPECT_EQ(q.try_pop()->v, 1);
  EXPECT_EQ(q.try_pop()->v, 2);
  EXPECT_FALSE(q.try_pop().has_value());
}

TEST(spsc_ring_bulk, bulk_calls_wrap_around_the_end_of_the_slots) {
  lf::spsc_ring<int> q(4);
  int next_in = 0, next_out = 0;
  for (int round = 0; round < 50; ++round) {
    int batch[3] = {next_in, next_in + 1, next_in + 2};
    next_in += static_cast<int>(q.try_push_n(batch, 3));
    int out[2];
    const std::size_t n = q.try_pop_n(out, 2);
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(out[i], next_out++);
  }
  while (auto v = q.try_pop()) EXPECT_EQ(*v, next_out++);
  EXPECT_EQ(next_in, next_out);
}

// ---- misuse -------------------------------------------------------------------------

#if LF_ASSERTS_ON && !defined(LF_UNDER_TSAN)
TEST(spsc_ring_misuse, overlapping_calls_on_one_side_are_caught_in_checked_builds) {
  // Two producer calls in flight at once: simulated by entering the producer's role
  // twice, which is what a second producer thread racing the first amounts to.
  EXPECT_DEATH(
      {
        lf::detail::single_caller role;
        lf::detail::single_caller::scope first(role);
        lf::detail::single_caller::scope second(role);
      },
      "single-producer or single-consumer");
}
#endif

}  // namespace
