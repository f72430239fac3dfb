// Go's errgroup example (golang.org/x/sync/errgroup, "JustErrors" with a context), in
// lf: fetch a few pages at once; the first failure cancels the others through the
// group's context, and wait() returns that failure.
#include <chrono>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "patterns/context.hpp"
#include "patterns/errgroup.hpp"
#include "patterns/worker_pool.hpp"

// Stands in for an HTTP GET: 20 steps of 10 ms each, giving up when ctx is done.
// One address answers 503 after 30 ms.
std::string fetch(const lf::context& ctx, const std::string& url) {
  for (int step = 0; step < 20; ++step) {
    if (ctx.done().wait_for(std::chrono::milliseconds(10))) throw std::runtime_error(url + ": cancelled");
    if (url.find("stupid") != std::string::npos && step == 2) {
      throw std::runtime_error(url + ": 503 Service Unavailable");
    }
  }
  return "<html>" + url + "</html>";
}

int main() {
  const std::vector<std::string> urls = {"http://www.golang.org/", "http://www.google.com/",
                                         "http://www.somestupidname.com/"};
  lf::worker_pool pool(3);
  auto [g, ctx] = lf::errgroup::with_context(lf::background(), pool);
  std::vector<std::string> pages(urls.size());
  for (std::size_t i = 0; i < urls.size(); ++i) {
    g.go([&pages, &urls, i, ctx = ctx] {
      pages[i] = fetch(ctx, urls[i]);  // a throw is this goroutine's error
      std::printf("fetched %s\n", urls[i].c_str());
    });
  }
  std::exception_ptr err = g.wait();  // the first error; the others were cancelled by it
  if (!err) {
    std::printf("successfully fetched all URLs\n");
    return 1;  // not this time: one address fails
  }
  try {
    std::rethrow_exception(err);
  } catch (const std::exception& e) {
    std::printf("first error: %s\n", e.what());
    std::printf("context: %s\n", lf::to_string(ctx.err()));
    return std::string(e.what()).find("503") != std::string::npos ? 0 : 1;
  }
}
