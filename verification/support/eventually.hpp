// Test support: lf::test::eventually(cond) spins (yielding) until `cond` holds. For
// "the other thread has reached the state the test checks next", never as the
// synchronization under test.
#pragma once

#include <thread>

namespace lf::test {

template <class Cond>
void eventually(Cond cond) {
  while (!cond()) std::this_thread::yield();
}

}  // namespace lf::test
