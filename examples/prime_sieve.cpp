// The concurrent prime sieve from Go's documentation (go.dev/doc/play/sieve.go, after
// McIlroy's and Hoare's sieves), with coroutines in place of goroutines: a generator
// sends 2, 3, 4, ... down a channel; each prime found starts one more filter coroutine
// that passes on what its prime does not divide. With N primes there are N + 1
// coroutines, each suspended in a channel operation almost all the time, on a pool of
// two threads: a suspended coroutine holds no thread, as a blocked goroutine holds none.
//
//   $ ./prime_sieve [N]          (default N = 100)
//   2 3 5 7 11 ... 541
//   100 primes by 101 coroutines on 2 threads
//
// Shutting down, which the Go program leaves to the end of main: closing the first
// channel stops the generator; each filter sees its input closed, closes its output
// and returns, so the close runs down the chain; the sieve drains the last channel until
// it too is closed, then awaits every coroutine it started (a channel must outlive the
// operations on it: Go's collector keeps it alive, C++ keeps it in the sieve's frame).
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <vector>

#include "patterns/awaitables.hpp"
#include "patterns/channel.hpp"
#include "patterns/task.hpp"
#include "patterns/worker_pool.hpp"

namespace {

// Sends 2, 3, 4, ... to ch until ch is closed.
lf::task<void> generate(lf::channel<int>& ch) {
  for (int i = 2;; ++i) {
    if (co_await lf::send(ch, i) != lf::chan_status::ok) co_return;
  }
}

// Copies what `prime` does not divide from in to out; closes out when in is closed.
lf::task<void> filter(lf::channel<int>& in, lf::channel<int>& out, int prime) {
  for (;;) {
    lf::recv_result<int> r = co_await lf::recv(in);
    if (!r) break;
    if (*r % prime != 0 && co_await lf::send(out, *r) != lf::chan_status::ok) break;
  }
  out.close();
}

// Prints the first n primes; every coroutine it started has finished when it returns.
lf::task<int> sieve(lf::worker_pool& pool, int n) {
  std::deque<lf::channel<int>> chans(1);  // unbuffered, as in Go; a deque never moves them
  std::vector<lf::join_handle<void>> started;
  started.push_back(lf::go(pool, generate, std::ref(chans.front())));
  for (int i = 0; i < n; ++i) {
    lf::recv_result<int> prime = co_await lf::recv(chans.back());
    std::printf("%d%c", *prime, i + 1 == n ? '\n' : ' ');
    lf::channel<int>& in = chans.back();
    lf::channel<int>& out = chans.emplace_back();
    started.push_back(lf::go(pool, filter, std::ref(in), std::ref(out), *prime));
  }
  chans.front().close();
  while (co_await lf::recv(chans.back())) {
  }
  for (lf::join_handle<void>& h : started) co_await std::move(h);
  co_return static_cast<int>(started.size());
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 100;
  if (n < 1) {
    std::fprintf(stderr, "usage: prime_sieve [N >= 1]\n");
    return 2;
  }
  lf::worker_pool pool(2);
  const int coroutines = lf::sync_wait(sieve(pool, n));
  std::printf("%d primes by %d coroutines on 2 threads\n", n, coroutines);
}
