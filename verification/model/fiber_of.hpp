// A probe for the coroutine model tests: `co_await fiber_of{&p}` does not suspend and
// stores the awaiting lf task's fiber (its root_state) in p, so a test thread can
// abandon that fiber as the pool's destruction would (coro_registry::destroy_all).
#pragma once

#include <coroutine>

#include "patterns/detail/coro_fiber.hpp"

namespace lf::model {

struct fiber_of {
  lf::detail::coro_fiber** out;
  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    *out = h.promise().fiber;
    return false;
  }
  void await_resume() const noexcept {}
};

}  // namespace lf::model
