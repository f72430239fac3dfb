// lf::detail::frame_allocate / frame_deallocate (patterns/detail/frame_cache.hpp), forced
// on in every build of this test, the sanitizers' included: under ASan, LeakSanitizer
// fails the program if a cached block outlives its thread, so the exit paths below are
// checked there. One behaviour per test.
#define LF_CORO_FRAME_CACHE 1
#include "patterns/detail/frame_cache.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace {

using lf::detail::frame_allocate;
using lf::detail::frame_cache;
using lf::detail::frame_deallocate;

TEST(frame_cache, a_freed_block_serves_the_next_request_of_its_class) {
  void* p = frame_allocate(100);
  frame_deallocate(p, 100);
  void* q = frame_allocate(110);  // 100 and 110 bytes are both in the 112-byte class
  EXPECT_EQ(p, q);
  frame_deallocate(q, 110);
}

TEST(frame_cache, a_class_keeps_at_most_per_class_blocks_and_frees_the_rest) {
  std::thread([] {  // a fresh thread: an empty cache
    std::vector<void*> blocks;
    for (std::uint32_t i = 0; i < frame_cache::per_class + 8; ++i) blocks.push_back(frame_allocate(64));
    for (void* p : blocks) frame_deallocate(p, 64);
    EXPECT_EQ(frame_cache::mine()->cached(frame_cache::class_of(64)), frame_cache::per_class);
  }).join();
}

TEST(frame_cache, requests_past_the_largest_class_bypass_the_cache) {
  std::thread([] {
    EXPECT_EQ(frame_cache::class_of(frame_cache::classes * frame_cache::granule + 1), frame_cache::classes);
    void* p = frame_allocate(4096);
    frame_deallocate(p, 4096);
    for (std::size_t c = 0; c < frame_cache::classes; ++c) EXPECT_EQ(frame_cache::mine()->cached(c), 0u) << c;
  }).join();
}

TEST(frame_cache, sizes_map_to_classes_of_16_bytes_up_to_512) {
  EXPECT_EQ(frame_cache::class_of(0), 0u);
  EXPECT_EQ(frame_cache::class_of(1), 0u);
  EXPECT_EQ(frame_cache::class_of(16), 0u);
  EXPECT_EQ(frame_cache::class_of(17), 1u);
  EXPECT_EQ(frame_cache::class_of(512), 31u);
  EXPECT_EQ(frame_cache::class_of(513), frame_cache::classes);
}

// A block freed by a thread_local destroyed after the thread's cache (constructed before
// it, so destroyed after it) goes to ::operator delete, not into the destroyed cache:
// under ASan a block kept there would be reported as leaked.
struct frees_at_exit {
  void* block = nullptr;
  ~frees_at_exit() {
    if (block != nullptr) frame_deallocate(block, 200);
  }
};
thread_local frees_at_exit late;

TEST(frame_cache, blocks_freed_after_the_threads_cache_is_gone_are_not_lost) {
  std::thread([] {
    frees_at_exit& l = late;  // constructed here, before the cache: destroyed after it
    l.block = frame_allocate(200);
    for (int i = 0; i < 16; ++i) frame_deallocate(frame_allocate(300), 300);  // the cache, with a block
  }).join();
}

// A thread that exits with full lists frees every cached block (LeakSanitizer's check).
TEST(frame_cache, a_thread_exits_with_full_lists_and_frees_them) {
  std::thread([] {
    std::vector<std::pair<void*, std::size_t>> blocks;
    for (std::size_t c = 0; c < frame_cache::classes; ++c) {
      for (std::uint32_t i = 0; i < frame_cache::per_class; ++i) {
        const std::size_t n = (c + 1) * frame_cache::granule;
        blocks.emplace_back(frame_allocate(n), n);
      }
    }
    for (auto [p, n] : blocks) frame_deallocate(p, n);
    for (std::size_t c = 0; c < frame_cache::classes; ++c) EXPECT_EQ(frame_cache::mine()->cached(c), frame_cache::per_class);
  }).join();
}

}  // namespace
