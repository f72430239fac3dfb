// Unit lane for lockfree/detail/node_cache.hpp: a freed node's memory comes back to the
// same thread's next allocation, most recent first; the cache keeps at most `capacity`
// nodes; another thread's cache is its own. (The cache is off under ASan, TSan and the
// model, where these tests only check that allocation still works.)
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <thread>
#include <vector>

#include "lockfree/detail/node_cache.hpp"

namespace {

struct test_node : lf::detail::recycled<test_node> {
  std::uint64_t payload[3] = {};
};
using cache = lf::detail::node_cache<test_node>;

// Each test starts from an empty cache on this thread.
class node_cache : public ::testing::Test {
 protected:
  void SetUp() override {
    while (void* p = cache::take()) ::operator delete(p);
  }
};

TEST_F(node_cache, a_freed_node_is_the_next_one_allocated_on_the_same_thread) {
  test_node* a = new test_node;
  void* const where = a;
  delete a;
  test_node* b = new test_node;
  if (lf::detail::node_cache_enabled) {
    EXPECT_EQ(static_cast<void*>(b), where);
  }
  EXPECT_EQ(b->payload[0], 0u);  // constructed anew, whatever the memory held
  delete b;
}

TEST_F(node_cache, keeps_at_most_its_capacity_most_recent_first) {
  std::vector<test_node*> nodes;
  for (std::size_t i = 0; i < cache::capacity + 10; ++i) nodes.push_back(new test_node);
  // The first `capacity` freed fill the cache; the 10 after them go to the allocator.
  for (test_node* n : nodes) delete n;
  for (std::size_t i = 0; i < cache::capacity; ++i) {
    test_node* n = new test_node;
    if (lf::detail::node_cache_enabled) {
      EXPECT_EQ(static_cast<void*>(n), static_cast<void*>(nodes[cache::capacity - 1 - i])) << "allocation " << i;
    }
    nodes[cache::capacity - 1 - i] = n;
  }
  if (lf::detail::node_cache_enabled) {
    EXPECT_EQ(cache::take(), nullptr);
  }
  for (std::size_t i = 0; i < cache::capacity; ++i) delete nodes[i];
}

TEST_F(node_cache, a_node_freed_by_another_thread_stays_in_that_threads_cache) {
  std::set<void*> ours;
  std::vector<test_node*> batch;
  for (int i = 0; i < 8; ++i) batch.push_back(new test_node);
  for (test_node* n : batch) ours.insert(n);
  // Freed by a thread that exits: its cache takes them and gives them back to the
  // allocator at its exit; none of them enters this thread's cache.
  std::thread([&batch] {
    for (test_node* n : batch) delete n;
  }).join();
  test_node* fresh = new test_node;
  if (lf::detail::node_cache_enabled) {
    // This thread's cache held nothing of that batch, so `fresh` came from elsewhere (the
    // allocator may hand back one of those addresses, freed at the thread's exit, but
    // not from our cache: ours is empty, as take() shows).
    EXPECT_EQ(cache::take(), nullptr);
  }
  delete fresh;
}

}  // namespace
