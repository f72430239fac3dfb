// TSan probe (built and run in TSan builds only; verification/stress/CMakeLists.txt):
// the single-caller check of lockfree/detail/ring_common.hpp must not hide a misuse from
// ThreadSanitizer. Thread A plays producer on an SPSC ring (of 2 slots), filling it: its
// pushes record how far the slots are known free (the look-ahead, a plain write); thread
// B then plays producer too, after a hand-over through a relaxed flag, which orders nothing. Their
// calls never overlap in time, so the check's assertion stays quiet, and the hand-over is
// a data race on the producer's plain state. The ctest case passes only if TSan reports
// it. When the check's flag used acquire/release, the flag itself supplied the missing
// edge and this race went unreported.
#include <atomic>
#include <cstdio>
#include <thread>

#include "lockfree/spsc_ring.hpp"
#include "sync/thread.hpp"

int main() {
  lf::spsc_ring<int> ring(1);
  std::atomic<int> turn{0};
  std::thread a([&] {
    const bool first = ring.try_push(1);
    const bool second = ring.try_push(2);  // fills the ring
    std::printf("producer A: %d %d\n", first, second);
    turn.store(1, std::memory_order_relaxed);  // relaxed: the hand-over orders nothing
  });
  std::thread b([&] {
    while (turn.load(std::memory_order_relaxed) == 0) lf::spin_pause();
    const bool third = ring.try_push(3);  // reads the look-ahead A wrote: the race
    std::printf("producer B: %d\n", third);
  });
  a.join();
  b.join();
  return 0;
}
