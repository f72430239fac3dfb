// lf::detail::frame_allocate / frame_deallocate — where lf::task's coroutine frames and
// fiber states get their memory (private machinery of patterns/task.hpp).
//
// A fork-join program makes and frees a frame per task: fib(25) on lf::when_all makes
// about 240,000 frames and 120,000 fiber states, and glibc's malloc keeps only 7 blocks
// per size in its per-thread cache, so a deep fork-join burst goes to the arena's bins
// (measured: malloc and free were a quarter of fib(25)'s time on 2 workers). Each thread
// here keeps freed blocks in its own lists, one per 16-byte size class up to 512 bytes, at
// most 32 blocks per class (at most ~270 KiB per thread, all of it freed when the thread
// exits). A block freed on another thread than the one that made it joins the freeing
// thread's list, as in malloc's own per-thread cache. Larger frames, full lists, and
// frees during or after the thread's exit go to ::operator new / delete.
// Why 16 bytes: glibc's chunks are multiples of 16 already, so a miss asks malloc for
// the size it would have been asked anyway, and its own per-size bins stay as they were.
// With 64-byte classes, frames and fiber states of different sizes met in one malloc
// bin; a spawner's burst then overflowed it and the frees from the other worker fought
// the spawner for the arena's lock (measured: coro_spawn_join lost 40%, in futex waits).
//
// Off under AddressSanitizer and ThreadSanitizer (a cached block would hide a use after
// free from the one and an ordering from the other) and under the model checker (Relacy
// counts every allocation to find leaks); LF_CORO_FRAME_CACHE=0 turns it off anywhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

#if !defined(LF_CORO_FRAME_CACHE)
#if defined(LF_MODEL_RELACY) || defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define LF_CORO_FRAME_CACHE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define LF_CORO_FRAME_CACHE 0
#endif
#endif
#endif
#if !defined(LF_CORO_FRAME_CACHE)
#define LF_CORO_FRAME_CACHE 1
#endif

namespace lf::detail {

#if LF_CORO_FRAME_CACHE

class frame_cache {
 public:
  static constexpr std::size_t granule = 16;
  static constexpr std::size_t classes = 32;  // blocks of 16, 32, ..., 512 bytes
  static constexpr std::uint32_t per_class = 32;

  // The class of an n-byte request, or `classes` when it is too large to cache.
  static constexpr std::size_t class_of(std::size_t n) noexcept {
    const std::size_t c = (n + granule - 1) / granule;
    return c == 0 ? 0 : (c <= classes ? c - 1 : classes);
  }

  void* take(std::size_t c) noexcept {
    block* b = heads_[c];
    if (b == nullptr) return nullptr;
    heads_[c] = b->next;
    --counts_[c];
    return b;
  }
  bool keep(void* p, std::size_t c) noexcept {
    if (counts_[c] == per_class) return false;
    heads_[c] = ::new (p) block{heads_[c]};
    ++counts_[c];
    return true;
  }

  std::uint32_t cached(std::size_t c) const noexcept { return counts_[c]; }  // for tests

  ~frame_cache() {
    exited_ = true;  // frees from later thread_local destructors go to ::operator delete
    for (std::size_t c = 0; c < classes; ++c) {
      while (void* p = take(c)) ::operator delete(p);
    }
  }

  // This thread's cache, or null once it was destroyed (the thread is exiting).
  static frame_cache* mine() noexcept {
    if (exited_) return nullptr;
    static thread_local frame_cache cache;
    return &cache;
  }

 private:
  struct block {
    block* next;
  };
  block* heads_[classes] = {};
  std::uint32_t counts_[classes] = {};
  static inline thread_local bool exited_ = false;
};

inline void* frame_allocate(std::size_t n) {
  const std::size_t c = frame_cache::class_of(n);
  if (c == frame_cache::classes) return ::operator new(n);
  if (frame_cache* cache = frame_cache::mine()) {
    if (void* p = cache->take(c)) return p;
  }
  return ::operator new((c + 1) * frame_cache::granule);  // the whole class: any block of it fits
}

inline void frame_deallocate(void* p, std::size_t n) noexcept {
  const std::size_t c = frame_cache::class_of(n);
  if (c == frame_cache::classes) {
    ::operator delete(p);
    return;
  }
  frame_cache* cache = frame_cache::mine();
  if (cache == nullptr || !cache->keep(p, c)) ::operator delete(p);
}

#endif  // LF_CORO_FRAME_CACHE; off, task.hpp declares no allocation functions: plain new

}  // namespace lf::detail
