// Built against the installed headers only (include root <prefix>/include/lf).
#include <cstdio>

#include "lockfree/mpmc_ring.hpp"
#include "lockfree/spsc_ring.hpp"
#include "sync/atomic.hpp"

int main() {
  lf::spsc_ring<int> s(4);
  lf::mpmc_ring<int> m(4);
  struct pair {
    void* p;
    unsigned long tag;
  };
  lf::atomic_wide<pair> wide(pair{nullptr, 0});
  const bool ok = s.try_push(1) && m.try_push(2) && s.try_pop() == 1 && m.try_pop() == 2 && wide.is_lock_free();
  std::printf("lf consumer: %s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
