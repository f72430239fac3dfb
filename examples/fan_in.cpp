// Fan-in, after Go's "Concurrency Patterns" talk (Pike 2012): two boring generators talk
// on their own channels, and `fanIn` merges them into one, so whoever is ready talks
// first. Here fanIn is lf::merge; a context deadline ends the conversation, and the
// reader gives up after a quiet second, as the talk's select with time.After does.
//
//   $ ./fan_in
//   joe 0 / ann 0 / joe 1 / ...      (interleaved as the generators run)
//   conversation over: context deadline exceeded after N messages
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "patterns/channel.hpp"
#include "patterns/context.hpp"
#include "patterns/pipeline.hpp"
#include "patterns/select.hpp"

using namespace std::chrono_literals;

// Says "<name> <i>" every `every` on `out` until ctx is done, then closes it.
std::jthread boring(const lf::context& ctx, lf::channel<std::string>& out, std::string name,
                    std::chrono::milliseconds every) {
  return std::jthread([ctx, &out, name, every] {
    for (int i = 0; ctx.done().wait_for(every) == false; ++i) {
      if (out.send(name + " " + std::to_string(i), ctx) != lf::chan_status::ok) break;
    }
    out.close();
  });
}

int main() {
  auto [ctx, cancel] = lf::with_timeout(lf::background(), 120ms);
  lf::channel<std::string> joe_says, ann_says;  // declared before the threads and the merge that use them
  std::jthread joe = boring(ctx, joe_says, "joe", 10ms);
  std::jthread ann = boring(ctx, ann_says, "ann", 15ms);
  lf::stream<std::string> c = lf::merge(ctx, joe_says, ann_says);  // fanIn(joe, ann)

  int messages = 0;
  bool over = false;
  while (!over) {
    (void)lf::select(lf::on_recv(c.out(),
                                 [&](std::optional<std::string> s) {
                                   if (!s) {  // closed: both generators stopped
                                     over = true;
                                     return;
                                   }
                                   std::printf("%s\n", s->c_str());
                                   ++messages;
                                 }),
                     lf::after(1s, [&] {
                       std::printf("nobody talked for a second\n");
                       over = true;
                     }));
  }
  std::printf("conversation over: %s after %d messages\n", lf::to_string(ctx.err()), messages);
}
