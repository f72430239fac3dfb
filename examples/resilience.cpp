// A flaky service called the way a Go service calls one: through a rate limiter
// (golang.org/x/time/rate), a circuit breaker (sony/gobreaker) and a per-call deadline
// (context.WithTimeout). Each line says what the call met.
//
//   $ ./resilience
//   call  1: ok (answer 1)
//   ...
//   call 13: failed: service unavailable
//   [breaker "inventory": closed -> open]      (printed inside call 14's execute)
//   call 14: failed: service unavailable
//   call 15: refused by the breaker (open)
//   ...
//   [breaker "inventory": open -> half-open]
//   call 23: ok (answer 23)
//   [breaker "inventory": half-open -> closed]
//   ...
//   call 30: timed out: context deadline exceeded
//   ...
//   call 36: dropped by the limiter: rate: wait would exceed context deadline
//   totals: 23 ok, 3 failed, 2 timed out, 7 refused by the breaker, 5 dropped by the limiter
//   (the machine's timing can move a call or two from one kind to another)
//
// The service is down for calls 12 to 21 and answers slowly for calls 30 and 31; the
// limiter paces the client at 400 calls/s with a burst of 4 (the run takes ~100 ms).
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>

#include "patterns/circuit_breaker.hpp"
#include "patterns/context.hpp"
#include "patterns/rate_limiter.hpp"

using namespace std::chrono_literals;

namespace {

struct unavailable : std::runtime_error {
  unavailable() : std::runtime_error("service unavailable") {}
};

// The dependency: fails while "down", takes 30 ms when "slow", else answers at once.
// Like a Go handler it gives up when its context is done.
int call_service(const lf::context& ctx, int call) {
  if (call >= 12 && call <= 21) throw unavailable();
  if (call == 30 || call == 31) {
    if (ctx.done().wait_for(30ms)) throw std::runtime_error(lf::to_string(ctx.err()));
  }
  return call;
}

}  // namespace

int main() {
  // rate.NewLimiter(400, 4)
  lf::rate_limiter limiter(lf::rate_limit(400), 4);

  // gobreaker.Settings{Name: "inventory", MaxRequests: 2, Timeout: 20ms,
  //                    ReadyToTrip: 3 consecutive failures}
  lf::breaker_settings settings;
  settings.name = "inventory";
  settings.max_requests = 2;
  settings.timeout = 20ms;
  settings.ready_to_trip = [](const lf::breaker_counts& c) { return c.consecutive_failures >= 3; };
  settings.on_state_change = [](const std::string& name, lf::breaker_state from, lf::breaker_state to) {
    std::printf("[breaker \"%s\": %s -> %s]\n", name.c_str(), lf::to_string(from), lf::to_string(to));
  };
  lf::circuit_breaker breaker(settings);

  int ok = 0, failed = 0, timed_out = 0, refused = 0, dropped = 0;
  for (int call = 1; call <= 40; ++call) {
    // ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
    // From call 33 on, the client is in a hurry: 1 ms per call, less than the limiter's
    // 2.5 ms between tokens once the burst is spent.
    auto [call_ctx, cancel] = lf::with_timeout(lf::background(), call < 33 ? 10ms : 1ms);
    const lf::context& ctx = call_ctx;  // a lambda may not capture a structured binding before C++20's fix in clang 16

    // if err := limiter.Wait(ctx); err != nil { ... }
    if (const lf::rate_error e = limiter.wait(ctx); e != lf::rate_error::none) {
      std::printf("call %2d: dropped by the limiter: %s\n", call, lf::to_string(e));
      ++dropped;
      continue;
    }

    // answer, err := cb.Execute(func() (int, error) { return callService(ctx, call) })
    try {
      const int answer = breaker.execute([&] { return call_service(ctx, call); });
      std::printf("call %2d: ok (answer %d)\n", call, answer);
      ++ok;
    } catch (const lf::breaker_open&) {
      std::printf("call %2d: refused by the breaker (open)\n", call);
      ++refused;
    } catch (const lf::too_many_requests&) {
      std::printf("call %2d: refused by the breaker (half-open, probes in flight)\n", call);
      ++refused;
    } catch (const std::exception& e) {
      const bool deadline = ctx.err() == lf::context_error::deadline_exceeded;
      std::printf("call %2d: %s: %s\n", call, deadline ? "timed out" : "failed", e.what());
      ++(deadline ? timed_out : failed);
    }
    if (call == 22) std::this_thread::sleep_for(25ms);  // let the breaker's timeout pass
  }
  std::printf("totals: %d ok, %d failed, %d timed out, %d refused by the breaker, %d dropped by the limiter\n", ok,
              failed, timed_out, refused, dropped);
  return ok + failed + timed_out + refused + dropped == 40 ? 0 : 1;
}
