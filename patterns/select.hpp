// lf::select — Go's select statement (runtime/select.go, selectgo) over lf::channel
// cases, a context's done, a deadline and a default.
//
//   lf::select(lf::on_recv(jobs, [&](job j) { run(std::move(j)); }),
//              lf::on_send(results, std::move(r), [] {}),
//              lf::on_done(ctx, [&] { stopping = true; }),
//              lf::after(100ms, [&] { report_idle(); }));
//
// Cases (Go's form in brackets):
//   on_recv(ch, f)        [case v, ok := <-ch]  f(std::optional<T>) gets the value, or
//                         nullopt when ch is closed; f(T) is called only with a value
//                         (a closed channel still fires the case, without calling f);
//                         f() is called either way [case <-ch].
//   on_send(ch, v, f)     [case ch <- v]  f() is called once v was sent; f(chan_status)
//                         is called with ok or closed. An rvalue v is moved from only if
//                         it was sent; an lvalue v is copied before the select starts.
//   on_done(ctx, f)       [case <-ctx.Done()]  f() once ctx is done.
//   after(d, f)           [case <-time.After(d)]  f() once d has passed and no other
//                         case was ready. A deadline on the select's own wait, no timer
//                         thread. d < 0 throws std::invalid_argument.
//   otherwise(f)          [default]  f() when no case is ready: the select does not block.
// select(cases...) runs exactly one case's f and returns which one, with its status:
// ok, closed, timeout (after), canceled (on_done) or would_block (otherwise).
// select chooses uniformly at random among the cases that are ready (Go's fairness);
// select_biased takes the first ready case in argument order (a priority select, which
// Go spells as nested selects). A receive from a closed channel is ready.
//
// Differences from Go. The callbacks run after the choice, on the calling thread, in
// place of Go's case bodies; a send to a closed channel fires its case with closed
// rather than panicking. Cases hold references (to the channel, to an rvalue being
// sent): build them inside the select call, as in the example, not ahead of it.
//
// How it works (patterns/detail/channel_select.hpp): lock the channels in address
// order, queue one link per channel case on a waiter whose state word decides the one
// case that completes, poll in random order, park on the word if nothing was ready.
// Progress: blocking (it may sleep); with otherwise(f) it never sleeps but takes the
// channels' locks.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "patterns/channel.hpp"
#include "patterns/context.hpp"
#include "patterns/detail/channel_select.hpp"

namespace lf {

struct select_result {
  std::size_t index;   // the argument position of the case that ran
  chan_status status;  // ok, closed, timeout, canceled, or would_block for otherwise
};

namespace detail {

template <class T, class F>
class on_recv_case : public recv_op<T> {
  static_assert(std::is_invocable_v<F&, std::optional<T>> || std::is_invocable_v<F&, T> || std::is_invocable_v<F&>,
                "lf::on_recv(ch, f): f must take std::optional<T>, T, or nothing");

 public:
  on_recv_case(channel<T>& ch, F f) : recv_op<T>(ch), f_(std::move(f)) {}
  void fire(chan_status st) {
    if constexpr (std::is_invocable_v<F&, std::optional<T>>) {
      f_(std::move(this->value));
    } else if constexpr (std::is_invocable_v<F&, T>) {
      if (st == chan_status::ok) f_(std::move(*this->value));
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
  // Sends *v (moved from only if sent).
  on_send_case(channel<T>& ch, T& v, F f) : send_op<T>(ch, v), f_(std::move(f)) {}
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

// on_send with an lvalue: owns a copy, made before the select starts.
template <class T>
struct owned_value {
  T value;
};
template <class T, class F>
class on_send_copy_case : private owned_value<T>, public on_send_case<T, F> {
 public:
  on_send_copy_case(channel<T>& ch, const T& v, F f)
      : owned_value<T>{v}, on_send_case<T, F>(ch, this->owned_value<T>::value, std::move(f)) {}
};

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

template <class... Cases>
select_result run_user_select(bool biased, Cases&... cases) {
  constexpr int n = static_cast<int>(sizeof...(Cases));
  constexpr int defaults = (0 + ... + (is_otherwise<Cases> ? 1 : 0));
  static_assert(n > 0, "lf::select: give at least one case");
  static_assert(defaults <= 1, "lf::select: at most one otherwise(f)");
  static_assert(n < waiter_state::max_cases, "lf::select: too many cases for the waiter's state word");
  constexpr int m = n - defaults;  // cases the engine runs

  select_case* engine_cases[m > 0 ? m : 1];
  int arg_of[m > 0 ? m : 1];  // engine index -> argument position
  int default_arg = -1;
  int next = 0;
  int arg = 0;
  const auto add = [&](auto& c) {
    if constexpr (is_otherwise<std::remove_cvref_t<decltype(c)>>) {
      default_arg = arg;
    } else {
      engine_cases[next] = &c;
      arg_of[next] = arg;
      ++next;
    }
    ++arg;
  };
  (add(cases), ...);

  int order[m > 0 ? m : 1];
  chan_core* cores[m > 0 ? m : 1];
  int chosen;
  chan_status st;
  if (m == 0) {
    chosen = default_arg;
    st = chan_status::would_block;
  } else {
    const select_outcome o =
        run_select(engine_cases, m, default_arg >= 0 ? m : -1, biased, order, cores);
    chosen = o.index == m ? default_arg : arg_of[o.index];
    st = o.status;
  }
  int at = 0;
  ((at++ == chosen ? cases.fire(st) : void()), ...);
  return {static_cast<std::size_t>(chosen), st};
}

}  // namespace detail

template <class T, class F>
detail::on_recv_case<T, std::decay_t<F>> on_recv(channel<T>& ch, F&& f) {
  return {ch, std::forward<F>(f)};
}

template <class T, class F>
detail::on_send_case<T, std::decay_t<F>> on_send(channel<T>& ch, T&& v, F&& f) {
  return {ch, v, std::forward<F>(f)};
}
template <class T, class F>
detail::on_send_copy_case<T, std::decay_t<F>> on_send(channel<T>& ch, const T& v, F&& f) {
  return {ch, v, std::forward<F>(f)};
}

template <class F>
detail::on_done_case<std::decay_t<F>> on_done(const context& ctx, F&& f) {
  return {ctx, std::forward<F>(f)};
}

template <class Rep, class Period, class F>
detail::after_case<std::decay_t<F>> after(const std::chrono::duration<Rep, Period>& d, F&& f) {
  return {lf::deadline_after("lf::after: d", d), std::forward<F>(f)};
}

template <class F>
detail::otherwise_case<std::decay_t<F>> otherwise(F&& f) {
  return detail::otherwise_case<std::decay_t<F>>(std::forward<F>(f));
}

// Runs one ready case (chosen uniformly among the ready ones), blocking until one is
// ready unless an otherwise(f) case is given.
template <class... Cases>
select_result select(Cases&&... cases) {
  return detail::run_user_select(false, cases...);
}

// As select, but the first ready case in argument order wins.
template <class... Cases>
select_result select_biased(Cases&&... cases) {
  return detail::run_user_select(true, cases...);
}

}  // namespace lf
