// lf::select — Go's select statement (runtime/select.go, selectgo) over lf::channel
// cases, a context's done, a deadline and a default; and lf::select_cases, the same over
// a list of cases built at run time (Go's reflect.Select).
//
//   lf::select(lf::on_recv(jobs, [&](job j) { run(std::move(j)); }),
//              lf::on_send(results, std::move(r), [] {}),
//              lf::on_done(ctx, [&] { stopping = true; }),
//              lf::after(100ms, [&] { report_idle(); }));
//
// Cases (Go's form in brackets):
//   on_recv(ch, f)        [case v, ok := <-ch]  f is handed what its parameter asks for:
//                           f(lf::recv_result<T>)  the status (ok or closed), the value if ok
//                           f(std::optional<T>)    the value, or nullopt when ch is closed
//                           f(T)                   the value; a closed channel fires the
//                                                  case without calling f
//                           f()                    called either way [case <-ch]
//                         A handler with typed parameters (`[](T v)`, a function pointer,
//                         a function object with one operator()) is matched in that order.
//                         A generic one (`[](auto v)`, an overload set), which would
//                         accept anything, is offered T first: it gets the value, as
//                         `[](T v)` does. To see the close, name the type.
//   on_send(ch, v, f)     [case ch <- v]  f() is called once v was sent; f(chan_status)
//                         (a generic f too) is called with ok or closed. v converts to the
//                         channel's T, as for send(): on_send(longs, 5, f) and
//                         on_send(strings, "x", f) work. An rvalue v is moved from only if
//                         it was sent; an lvalue v is copied before the select starts.
//   on_done(ctx, f)       [case <-ctx.Done()]  f() once ctx is done.
//   after(d, f)           [case <-time.After(d)]  f() once d has passed. An expired
//                         deadline is one more ready case, chosen uniformly among the
//                         ready ones, as in Go: after(0ms, f) beside a ready channel runs
//                         about half the time. A deadline on the select's own wait, no
//                         timer thread. d < 0 throws std::invalid_argument.
//   otherwise(f)          [default]  f() when no case is ready: the select does not block.
// Nil channels [a case on a nil chan]: on_recv and on_send take a channel pointer as well
// as a reference, and a null pointer makes a case that is never ready: Go's idiom for
// switching off a drained input (`in = nullptr;` then on_recv(in, f)). The pointer needs
// its type (a variable, or static_cast<lf::channel<int>*>(nullptr)). A select whose every
// case is nil runs its otherwise; without one it throws std::invalid_argument, where Go's
// would block for ever.
// select(cases...) runs exactly one case's f and returns which one, with its status:
// ok, closed, timeout (after), canceled (on_done) or would_block (otherwise).
// select chooses uniformly at random among the cases that are ready (Go's fairness);
// select_biased takes the first ready case in argument order (a priority select, which
// Go spells as nested selects). A receive from a closed channel is ready.
//
// Cases built at run time: lf::select_cases, a list run by the same select and
// select_biased, with the same fairness, waiting, handler rules and nil pointers.
//   lf::select_cases cases;
//   for (lf::channel<int>& in : inputs) cases.on_recv(in, [&](std::optional<int> v) { ... });
//   for (std::size_t open = inputs.size(); open > 0;) {
//     const lf::select_result r = lf::select(cases);  // r.index: the list index that ran
//     if (r.status == lf::chan_status::closed) { cases.disable(r.index); --open; }
//   }
// Its builders are the free ones as members (on_recv, on_send, on_done, after, otherwise),
// each returning the new case's index; disable(i) / enable(i) switch a case off (nil) and
// on, Go's `cases[i].Chan = reflect.Value{}`. Because a list outlives the statement that
// built it, it differs in three ways: it owns the value of each send (copied or moved in)
// and sends it once, after which that case is nil; after(d) is a deadline fixed when the
// case is added (a time.After made once); and every channel and context it names must
// outlive it. Each case is one allocation, made when it is added: build a list once and
// select over it many times. One thread at a time runs a given list.
//
// Differences from Go. The callbacks run after the choice, on the calling thread, in
// place of Go's case bodies; a send to a closed channel fires its case with closed
// rather than panicking. Cases built by the free functions hold references (to the
// channel, to an rvalue being sent): build them inside the select call, as in the
// example, not ahead of it.
//
// Coroutines: co_await lf::co_select(cases...) / co_select_biased / co_select(list)
// (patterns/awaitables.hpp) take the same cases and run the same engine, suspending the
// coroutine instead of parking the thread; both kinds may wait on the same channels.
//
// How it works (patterns/detail/channel_select.hpp): lock the channels in address
// order, queue one link per channel case on a waiter whose state word decides the one
// case that completes, poll in random order, park on the word if nothing was ready.
// Nil cases are left out before that (patterns/detail/select_user_cases.hpp).
// Progress: blocking (it may sleep); with otherwise(f) it never sleeps but takes the
// channels' locks.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "patterns/channel.hpp"
#include "patterns/context.hpp"
#include "patterns/detail/channel_select.hpp"
#include "patterns/detail/select_user_cases.hpp"

namespace lf {

// A null ch: a case that is never ready.
template <class T, class F>
detail::on_recv_case<T, std::decay_t<F>> on_recv(channel<T>* ch, F&& f) {
  return {ch, std::forward<F>(f)};
}
template <class T, class F>
detail::on_recv_case<T, std::decay_t<F>> on_recv(channel<T>& ch, F&& f) {
  return on_recv(&ch, std::forward<F>(f));
}

// T comes from the channel; v converts to it. A null ch: a case that is never ready (v
// is left alone).
template <class T, class F>
detail::on_send_case<T, std::decay_t<F>> on_send(channel<T>* ch, std::type_identity_t<T>&& v, F&& f) {
  return {ch, v, std::forward<F>(f)};
}
template <class T, class F>
detail::on_send_owned_case<T, std::decay_t<F>> on_send(channel<T>* ch, const std::type_identity_t<T>& v, F&& f) {
  return {ch, v, std::forward<F>(f)};
}
template <class T, class F>
detail::on_send_case<T, std::decay_t<F>> on_send(channel<T>& ch, std::type_identity_t<T>&& v, F&& f) {
  return on_send(&ch, std::move(v), std::forward<F>(f));
}
template <class T, class F>
detail::on_send_owned_case<T, std::decay_t<F>> on_send(channel<T>& ch, const std::type_identity_t<T>& v, F&& f) {
  return on_send(&ch, v, std::forward<F>(f));
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

class select_cases;
namespace detail {
class select_list_awaiter;  // patterns/detail/select_await.hpp
}

// Runs one ready case (chosen uniformly among the ready ones), blocking until one is
// ready unless an otherwise(f) case is given.
template <class... Cases>
  requires(!(std::is_same_v<std::remove_cvref_t<Cases>, select_cases> || ...))
select_result select(Cases&&... cases) {
  return detail::run_user_select(false, cases...);
}

// As select, but the first ready case in argument order wins.
template <class... Cases>
  requires(!(std::is_same_v<std::remove_cvref_t<Cases>, select_cases> || ...))
select_result select_biased(Cases&&... cases) {
  return detail::run_user_select(true, cases...);
}

// A select's cases, listed at run time (see the top of this file).
class select_cases {
 public:
  select_cases() = default;
  select_cases(const select_cases&) = delete;
  select_cases& operator=(const select_cases&) = delete;
  select_cases(select_cases&&) noexcept = default;
  select_cases& operator=(select_cases&&) noexcept = default;

  template <class T, class F>
  std::size_t on_recv(channel<T>& ch, F&& f) {
    return on_recv(&ch, std::forward<F>(f));
  }
  template <class T, class F>
  std::size_t on_recv(channel<T>* ch, F&& f) {
    return add<detail::on_recv_case<T, std::decay_t<F>>>(ch, std::forward<F>(f));
  }

  // The list keeps v until it is sent, once.
  template <class T, class F>
  std::size_t on_send(channel<T>& ch, std::type_identity_t<T> v, F&& f) {
    return on_send(&ch, std::move(v), std::forward<F>(f));
  }
  template <class T, class F>
  std::size_t on_send(channel<T>* ch, std::type_identity_t<T> v, F&& f) {
    return add<detail::on_send_owned_case<T, std::decay_t<F>>>(ch, std::move(v), std::forward<F>(f));
  }

  // ctx's node must outlive the list (keep a handle to the context).
  template <class F>
  std::size_t on_done(const context& ctx, F&& f) {
    return add<detail::on_done_case<std::decay_t<F>>>(ctx, std::forward<F>(f));
  }

  // The deadline is now + d, fixed here. d < 0 throws std::invalid_argument.
  template <class Rep, class Period, class F>
  std::size_t after(const std::chrono::duration<Rep, Period>& d, F&& f) {
    return add<detail::after_case<std::decay_t<F>>>(lf::deadline_after("lf::select_cases::after: d", d),
                                                    std::forward<F>(f));
  }

  // At most one: a second throws std::invalid_argument.
  template <class F>
  std::size_t otherwise(F&& f) {
    if (default_ >= 0) {
      throw std::invalid_argument("lf::select_cases::otherwise: the list has one already (index " +
                                  std::to_string(default_) + ")");
    }
    const std::size_t i = add<detail::otherwise_case<std::decay_t<F>>>(std::forward<F>(f));
    default_ = static_cast<int>(i);
    return i;
  }

  // Switches case i off (never ready, as a nil channel) or on again. An i past the end
  // throws std::out_of_range naming it.
  void disable(std::size_t i) { at("disable", i).enabled = false; }
  void enable(std::size_t i) { at("enable", i).enabled = true; }
  bool enabled(std::size_t i) const { return cases_[checked("enabled", i)]->enabled; }

  std::size_t size() const noexcept { return cases_.size(); }
  void clear() noexcept {
    cases_.clear();
    default_ = -1;
  }

 private:
  friend select_result select(select_cases& cases);
  friend select_result select_biased(select_cases& cases);
  friend class detail::select_list_awaiter;

  template <class C, class... A>
  std::size_t add(A&&... args) {
    if (cases_.size() + 1 >= static_cast<std::size_t>(detail::waiter_state::max_cases)) {
      throw std::length_error("lf::select_cases: size = " + std::to_string(cases_.size() + 1) + " (at most " +
                              std::to_string(detail::waiter_state::max_cases - 1) + " cases)");
    }
    cases_.push_back(std::make_unique<detail::listed<C>>(std::forward<A>(args)...));
    return cases_.size() - 1;
  }

  std::size_t checked(const char* what, std::size_t i) const {
    if (i >= cases_.size()) {
      throw std::out_of_range(std::string("lf::select_cases::") + what + ": i = " + std::to_string(i) +
                              " (size " + std::to_string(cases_.size()) + ")");
    }
    return i;
  }
  detail::listed_case& at(const char* what, std::size_t i) { return *cases_[checked(what, i)]; }

  // The cases that can become ready now, in the scratch arrays (valid until the next call).
  detail::live_view view() {
    const int n = static_cast<int>(cases_.size());
    live_.resize(cases_.size());
    arg_of_.resize(cases_.size());
    order_.resize(cases_.size());
    cores_.resize(cases_.size());
    int m = 0;
    int default_arg = -1;
    for (int i = 0; i < n; ++i) {
      detail::listed_case& c = *cases_[i];
      if (!c.enabled) continue;
      if (detail::select_case* e = c.engine()) {
        if (c.nil()) continue;
        live_[m] = e;
        arg_of_[m] = i;
        ++m;
      } else {
        default_arg = i;
      }
    }
    return {live_.data(), arg_of_.data(), m, n, default_arg};
  }
  void fire(const select_result& r) { cases_[r.index]->fire(r.status); }

  select_result run(bool biased) {
    const detail::live_view v = view();  // first: it sizes the scratch arrays
    const select_result r = detail::choose(v, biased, order_.data(), cores_.data());
    fire(r);
    return r;
  }

  std::vector<std::unique_ptr<detail::listed_case>> cases_;
  int default_ = -1;
  // Scratch for each run, kept to spare the allocations.
  std::vector<detail::select_case*> live_;
  std::vector<int> arg_of_;
  std::vector<int> order_;
  std::vector<detail::chan_core*> cores_;
};

// Runs one ready case of the list, as select(cases...) does; r.index is the list index.
inline select_result select(select_cases& cases) { return cases.run(false); }
// As select(cases), but the first ready case in list order wins.
inline select_result select_biased(select_cases& cases) { return cases.run(true); }

}  // namespace lf
