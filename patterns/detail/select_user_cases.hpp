// lf::detail — the cases of lf::select as the user builds them: an engine case (a channel
// operation, a deadline or a context's done; patterns/detail/channel_select.hpp) joined to
// the user's function; what that function is handed (the rule is documented in
// patterns/select.hpp); and the step from the user's cases, fixed at compile time or
// listed at run time (lf::select_cases), to one run of the engine. Nil cases (a null
// channel, a disabled list entry) are left out before the engine sees the cases.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "patterns/channel.hpp"
#include "patterns/context.hpp"
#include "patterns/detail/channel_select.hpp"
#include "sync/wait.hpp"

namespace lf {

// What a select returns (public; see patterns/select.hpp).
struct select_result {
  std::size_t index;   // the argument position (or list index) of the case that ran
  chan_status status;  // ok, closed, timeout, canceled, or would_block for otherwise
};

namespace detail {

template <class>
inline constexpr bool always_false = false;

// A handler whose call operator is one non-template function (a lambda with typed
// parameters, a function object, a function pointer) names what it wants by its
// parameter's type. A generic lambda or an overload set does not, and is invocable with
// anything (trying it instantiates its body), so it is offered T first.
template <class F>
concept fixed_signature = !std::is_class_v<F> || requires { &F::operator(); };

// What an on_recv handler is handed.
enum class recv_arg { result, optional, value, nothing };

template <class T, class F>
constexpr recv_arg recv_arg_of() {
  if constexpr (!fixed_signature<F> && std::is_invocable_v<F&, T>) {
    return recv_arg::value;
  } else if constexpr (std::is_invocable_v<F&, recv_result<T>>) {
    return recv_arg::result;
  } else if constexpr (std::is_invocable_v<F&, std::optional<T>>) {
    return recv_arg::optional;
  } else if constexpr (std::is_invocable_v<F&, T>) {
    return recv_arg::value;
  } else if constexpr (std::is_invocable_v<F&>) {
    return recv_arg::nothing;
  } else {
    static_assert(always_false<F>, "lf::on_recv(ch, f): f must take lf::recv_result<T>, std::optional<T>, T, or nothing");
    return recv_arg::nothing;
  }
}

template <class T, class F>
class on_recv_case : public recv_op<T> {
  static constexpr recv_arg arg = recv_arg_of<T, F>();

 public:
  on_recv_case(channel<T>* ch, F f) : recv_op<T>(ch), f_(std::move(f)) {}
  void fire(chan_status st) {
    std::optional<T> v;
    v.swap(this->value);  // the case is empty again: a select_cases list runs it again
    if constexpr (arg == recv_arg::result) {
      f_(recv_result<T>(st, std::move(v)));
    } else if constexpr (arg == recv_arg::optional) {
      f_(std::move(v));
    } else if constexpr (arg == recv_arg::value) {
      if (v) f_(std::move(*v));
    } else {
      f_();
    }
  }

 private:
  F f_;
};

template <class T, class F>
class on_send_case : public send_op<T> {
  static_assert(std::is_invocable_v<F&, chan_status> || std::is_invocable_v<F&>,
                "lf::on_send(ch, v, f): f must take lf::chan_status or nothing");

 public:
  // Sends v (moved from only if sent).
  on_send_case(channel<T>* ch, T& v, F f) : send_op<T>(ch, v), f_(std::move(f)) {}
  void fire(chan_status st) {
    if constexpr (std::is_invocable_v<F&, chan_status>) {
      f_(st);
    } else if (st == chan_status::ok) {
      f_();
    }
  }

 private:
  F f_;
};

// on_send that owns its value (an lvalue's copy made before the select starts; the value
// a select_cases list keeps until it is sent).
template <class T>
struct owned_value {
  T value;
};
template <class T, class F>
class on_send_owned_case : private owned_value<T>, public on_send_case<T, F> {
 public:
  template <class V>
  on_send_owned_case(channel<T>* ch, V&& v, F f)
      : owned_value<T>{std::forward<V>(v)}, on_send_case<T, F>(ch, this->owned_value<T>::value, std::move(f)) {}
};

template <class C>
inline constexpr bool is_owned_send = false;
template <class T, class F>
inline constexpr bool is_owned_send<on_send_owned_case<T, F>> = true;

template <class F>
class after_case : public timer_case {
 public:
  after_case(wait_clock::time_point when, F f) : timer_case(when), f_(std::move(f)) {}
  void fire(chan_status) { f_(); }

 private:
  F f_;
};

template <class F>
class on_done_case : public done_case {
 public:
  on_done_case(const context& ctx, F f) : done_case(ctx), f_(std::move(f)) {}
  void fire(chan_status) { f_(); }

 private:
  F f_;
};

template <class F>
class otherwise_case {
 public:
  explicit otherwise_case(F f) : f_(std::move(f)) {}
  void fire(chan_status) { f_(); }

 private:
  F f_;
};

template <class C>
inline constexpr bool is_otherwise = false;
template <class F>
inline constexpr bool is_otherwise<otherwise_case<F>> = true;

// A case on a nil channel (a null pointer): never ready, never queued.
template <class C>
bool is_nil(const C& c) noexcept {
  if constexpr (requires { c.nil(); }) {
    return c.nil();
  } else {
    return false;
  }
}

// The step from the user's `n` cases to the engine's: the `m` cases that can become
// ready (`live`; `arg_of` maps each to its position among the user's cases) and the
// user's otherwise at `default_arg` (-1: none).
struct live_view {
  select_case* const* live;
  const int* arg_of;
  int m;
  int n;
  int default_arg;

  // With no live case the otherwise runs; without one the select could only block for
  // ever (Go's `select {}` over nil channels), which throws. True: `r` is that result.
  bool nothing_live(select_result& r) const {
    if (m != 0) return false;
    if (default_arg < 0) {
      throw std::invalid_argument("lf::select: cases = " + std::to_string(n) +
                                  ", none can become ready (nil channels, disabled cases) and there is no "
                                  "otherwise: the select would block for ever");
    }
    r = {static_cast<std::size_t>(default_arg), chan_status::would_block};
    return true;
  }
  // The engine's default index: m when there is an otherwise (the select does not block).
  int engine_default() const noexcept { return default_arg >= 0 ? m : -1; }
  // The engine's outcome as the user's case.
  select_result result_of(select_outcome o) const noexcept {
    const int chosen = o.index == m ? default_arg : arg_of[o.index];
    return {static_cast<std::size_t>(chosen), o.status};
  }
};

// Runs the engine, on the calling thread, over a view's cases.
inline select_result choose(const live_view& v, bool biased, int* order, chan_core** cores) {
  select_result r{};
  if (v.nothing_live(r)) return r;
  return v.result_of(run_select(v.live, v.m, v.engine_default(), biased, order, cores));
}

// The live cases among cases fixed at compile time.
template <class... Cases>
class live_cases {
 public:
  static constexpr int n = static_cast<int>(sizeof...(Cases));
  static constexpr int defaults = (0 + ... + (is_otherwise<Cases> ? 1 : 0));
  static_assert(n > 0, "lf::select: give at least one case");
  static_assert(defaults <= 1, "lf::select: at most one otherwise(f)");
  static_assert(n < waiter_state::max_cases, "lf::select: too many cases for the waiter's state word");

  explicit live_cases(Cases&... cases) noexcept {
    int arg = 0;
    const auto add = [&](auto& c) {
      if constexpr (is_otherwise<std::remove_cvref_t<decltype(c)>>) {
        default_arg_ = arg;
      } else if (!is_nil(c)) {
        live_[m_] = &c;
        arg_of_[m_] = arg;
        ++m_;
      }
      ++arg;
    };
    (add(cases), ...);
  }
  live_cases(const live_cases&) = delete;
  live_cases& operator=(const live_cases&) = delete;

  live_view view() const noexcept { return {live_, arg_of_, m_, n, default_arg_}; }

  // Runs the handler of the case that ran.
  static void fire(const select_result& r, Cases&... cases) {
    int at = 0;
    ((at++ == static_cast<int>(r.index) ? cases.fire(r.status) : void()), ...);
  }

 private:
  select_case* live_[n] = {};
  int arg_of_[n] = {};
  int m_ = 0;
  int default_arg_ = -1;
};

// lf::select over cases fixed at compile time.
template <class... Cases>
select_result run_user_select(bool biased, Cases&... cases) {
  using live = live_cases<Cases...>;
  const live l(cases...);
  int order[live::n];
  chan_core* cores[live::n];
  const select_result r = choose(l.view(), biased, order, cores);
  live::fire(r, cases...);
  return r;
}

// One entry of an lf::select_cases list: a case of the kinds above, on the heap (the
// engine holds pointers to its cases, and their links are queued on channels while a
// select waits, so a case never moves).
class listed_case {
 public:
  virtual ~listed_case() = default;
  // The engine's case; nullptr for otherwise.
  virtual select_case* engine() noexcept = 0;
  // Never ready: a nil channel, or a send whose value was sent already.
  virtual bool nil() const noexcept = 0;
  virtual void fire(chan_status st) = 0;
  bool enabled = true;
};

template <class C>
class listed final : public listed_case {
 public:
  template <class... A>
  explicit listed(A&&... args) : c_(std::forward<A>(args)...) {}
  select_case* engine() noexcept override {
    if constexpr (is_otherwise<C>) {
      return nullptr;
    } else {
      return &c_;
    }
  }
  bool nil() const noexcept override { return spent_ || is_nil(c_); }
  void fire(chan_status st) override {
    if constexpr (is_owned_send<C>) spent_ = st == chan_status::ok;  // its value is gone
    c_.fire(st);
  }

 private:
  C c_;
  bool spent_ = false;
};

}  // namespace detail
}  // namespace lf
