// Test support for channel tests: a partner that waits for a queued receiver, and a
// counter of destructions (frames freed without being resumed).
#pragma once

#include <atomic>
#include <thread>
#include <utility>

#include "patterns/channel.hpp"

namespace lf::test {

// Sends once a receiver is queued on an unbuffered channel: try_send succeeds only
// against a queued partner (a blocked receive, or a select's link).
template <class T>
void send_when_a_receiver_waits(lf::channel<T>& ch, T v) {
  while (ch.try_send(std::move(v)) == lf::chan_status::would_block) std::this_thread::yield();
}

struct destruction_counter {
  std::atomic<int>* n;
  ~destruction_counter() { n->fetch_add(1); }
};

}  // namespace lf::test
