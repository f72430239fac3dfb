// lf::detail::fork_watch — tells an object that owns threads whether this process is a
// fork()ed copy of the one that started them.
//
// A child of fork() has one thread, the one that called fork(); every other thread of
// the parent is missing, though its memory (its stack, the std::thread objects naming
// it) was copied. An object that started threads records generation() when it starts
// them (start(), which registers the counting handler on first use); if generation()
// differs later, the object is a copy in a forked child: its threads do not exist, and
// joining them would wait for ever. lf::worker_pool uses this (its header says what a
// pool in a forked child does).
//
// The count is raised by a pthread_atfork child handler, which runs in the child's only
// thread before fork() returns there; every thread the child starts later is created
// after it, so a relaxed load sees it (thread creation synchronises). A fork before the
// first start() is not counted, and concerns no object that asked: none had started
// threads to lose.
//
// Model (LF_MODEL_RELACY): no process forks there; generation() is always 0.
#pragma once

#include <cstdint>

#if !defined(LF_MODEL_RELACY)
#include <pthread.h>

#include <system_error>

#include "sync/atomic.hpp"
#endif

namespace lf::detail {

class fork_watch {
 public:
#if defined(LF_MODEL_RELACY)
  static std::uint32_t start() noexcept { return 0; }
  static std::uint32_t generation() noexcept { return 0; }
#else
  // Registers the handler (once per process) and returns the current generation.
  static std::uint32_t start() {
    static const int registered = [] {
      if (const int err = pthread_atfork(nullptr, nullptr, &in_child); err != 0) {
        throw std::system_error(err, std::generic_category(), "lf: pthread_atfork");
      }
      return 0;
    }();
    (void)registered;
    return generation();
  }

  // The forks counted so far in this process's line of descent.
  static std::uint32_t generation() noexcept { return count().load(std::memory_order_relaxed); }  // relaxed: see above

 private:
  static void in_child() noexcept {
    count().store(count().load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);  // relaxed: one thread here
  }
  static lf::atomic<std::uint32_t>& count() noexcept {
    static lf::atomic<std::uint32_t> forks{0};  // constant-initialised: usable in any static's constructor
    return forks;
  }
#endif
};

}  // namespace lf::detail
