// Fan-in with select, after Go's "Concurrency Patterns" talk: two generators talk on their
// own channels; one loop selects over both and gives up after a quiet period, and a
// context deadline ends the whole conversation.
//
//   $ ./fan_in
//   joe 0 / ann 0 / joe 1 / ...      (interleaved as the generators run)
//   conversation over: context deadline exceeded after N messages
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "patterns/channel.hpp"
#include "patterns/context.hpp"
#include "patterns/select.hpp"

using namespace std::chrono_literals;

// Says "<name> <i>" every `every` until ctx is done, then closes its channel.
std::shared_ptr<lf::channel<std::string>> boring(const lf::context& ctx, std::string name,
                                                std::chrono::milliseconds every, std::jthread& thread) {
  auto out = std::make_shared<lf::channel<std::string>>();
  thread = std::jthread([ctx, out, name, every] {
    for (int i = 0; ctx.done().wait_for(every) == false; ++i) {
      if (out->send(name + " " + std::to_string(i), ctx) != lf::chan_status::ok) break;
    }
    out->close();
  });
  return out;
}

int main() {
  auto [ctx, cancel] = lf::with_timeout(lf::background(), 120ms);
  std::jthread joe_thread, ann_thread;
  auto joe = boring(ctx, "joe", 10ms, joe_thread);
  auto ann = boring(ctx, "ann", 15ms, ann_thread);

  int messages = 0;
  bool over = false;
  while (!over) {
    const auto print = [&](std::string s) {
      std::printf("%s\n", s.c_str());
      ++messages;
    };
    (void)lf::select(lf::on_recv(*joe, print), lf::on_recv(*ann, print),
                     lf::on_done(ctx, [&] { over = true; }),
                     lf::after(1s, [&] {
                       std::printf("nobody talked for a second\n");
                       over = true;
                     }));
  }
  std::printf("conversation over: %s after %d messages\n", lf::to_string(ctx.err()), messages);
}
