// lf::detail — lf::co_select awaited by lf tasks (the awaiters behind lf::co_select and
// lf::co_select_biased in patterns/awaitables.hpp; private machinery).
//
// The coroutine's select is the thread's (patterns/select.hpp) with the park replaced by
// a suspension, as for a single channel operation (channel_await.hpp, whose select_round
// it runs): the same user cases (on_recv, on_send, on_done, after, otherwise, nil
// channels), the same select_engine (channel_select.hpp) with the same uniformly random
// poll order, the same chan_waiter queued through one link per channel case, and the same
// claimers, whose CAS out of "waiting" commits exactly one case and whose wake-up posts
// the coroutine (waiter.hpp). A thread select and a coroutine select may wait on the same
// channels at once; neither can tell what the other is.
//
//   await_ready    no live case: the otherwise runs, or std::invalid_argument (as the
//                  thread select). An otherwise: the select cannot block, so it runs
//                  here as the thread's does (one locked poll, never a park).
//                  A blocking select with a buffered channel among its cases polls once
//                  here without queueing (see select_await_core::ready).
//   await_suspend  a blocking select: one select_round (K0, poll, queue, subscribe, arm
//                  the earliest deadline on the timer service, K1), or, when a buffered
//                  channel is among the cases (its wake-up only says "try again"), the
//                  rounds task. A case ready at the poll completes without suspending.
//   await_resume   the chosen case's handler runs here, on the thread that resumed the
//                  coroutine, and the select_result is returned.
// The awaiter holds references to the cases, temporaries of the `co_await lf::co_select(
// ...)` full expression, which live until it ends (after the resumption): write the
// cases inside the call, as for the thread select.
#pragma once

#include <coroutine>
#include <tuple>

#include "patterns/detail/channel_await.hpp"
#include "patterns/detail/channel_select.hpp"
#include "patterns/detail/select_user_cases.hpp"
#include "patterns/select.hpp"
#include "patterns/task.hpp"

namespace lf::detail {

// What the two awaiters share: the fast path, the slow path and the outcome's mapping.
class select_await_core {
 public:
  // True with the result decided here (nothing live, or non-blocking).
  bool ready(const live_view& v, bool biased, int* order, chan_core** cores) {
    view_ = v;
    biased_ = biased;
    order_ = order;
    cores_ = cores;
    if (v.nothing_live(result_)) return true;
    if (v.default_arg >= 0) {
      result_ = choose(v, biased, order, cores);  // non-blocking: never parks
      return true;
    }
    for (int i = 0; i < v.m; ++i) {
      if (v.live[i]->core && v.live[i]->core->buffered()) buffered_ = true;
    }
    if (!buffered_) return false;
    // A buffered case may have to go round, which takes the rounds task (a frame): first
    // one non-blocking poll (the same uniformly random order), which spares it whenever a
    // case is ready. (An unbuffered select's one round allocates nothing: no pre-poll.)
    const select_outcome o = run_select(v.live, v.m, v.m, biased, order, cores);
    if (o.index == v.m) return false;
    result_ = v.result_of(o);
    return true;
  }

  template <lf_promise P>
  std::coroutine_handle<> suspend(std::coroutine_handle<P> h) {
    return slow_.suspend({view_.live, view_.m, -1, biased_, order_, cores_}, buffered_, h);
  }

  // Once, in await_resume.
  select_result result() {
    if (slow_.started()) result_ = view_.result_of(slow_.outcome());
    return result_;
  }

 private:
  live_view view_{};
  bool biased_ = false;
  bool buffered_ = false;  // a buffered channel among the cases
  int* order_ = nullptr;
  chan_core** cores_ = nullptr;
  select_result result_{};
  select_slow_path slow_;  // last: withdrawn while the rest is alive
};

// co_await lf::co_select(cases...) / lf::co_select_biased(cases...).
template <class... Cases>
class [[nodiscard]] select_awaiter {
  using live = live_cases<Cases...>;

 public:
  explicit select_awaiter(bool biased, Cases&... cases) noexcept : cases_(cases...), live_(cases...), biased_(biased) {}
  select_awaiter(const select_awaiter&) = delete;
  select_awaiter& operator=(const select_awaiter&) = delete;

  bool await_ready() { return core_.ready(live_.view(), biased_, order_, cores_); }
  template <lf_promise P>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) {
    return core_.suspend(h);
  }
  select_result await_resume() {
    const select_result r = core_.result();
    std::apply([&](Cases&... c) { live::fire(r, c...); }, cases_);
    return r;
  }

 private:
  std::tuple<Cases&...> cases_;
  live live_;
  const bool biased_;
  int order_[live::n] = {};
  chan_core* cores_[live::n] = {};
  select_await_core core_;  // last: its slow path may still reach the cases
};

// co_await lf::co_select(list) / lf::co_select_biased(list), over an lf::select_cases.
class [[nodiscard]] select_list_awaiter {
 public:
  select_list_awaiter(select_cases& list, bool biased) noexcept : list_(list), biased_(biased) {}
  select_list_awaiter(const select_list_awaiter&) = delete;
  select_list_awaiter& operator=(const select_list_awaiter&) = delete;

  bool await_ready() {
    const live_view v = list_.view();
    return core_.ready(v, biased_, list_.order_.data(), list_.cores_.data());
  }
  template <lf_promise P>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) {
    return core_.suspend(h);
  }
  select_result await_resume() {
    const select_result r = core_.result();
    list_.fire(r);
    return r;
  }

 private:
  select_cases& list_;
  const bool biased_;
  select_await_core core_;
};

}  // namespace lf::detail
