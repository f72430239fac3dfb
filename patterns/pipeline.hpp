// lf::merge, lf::fan_out, lf::fan_out_ordered, lf::pipeline — fan-out, fan-in and
// pipelines as library parts: Go's "Pipelines and cancellation" (go.dev/blog/pipelines,
// Ajmani 2014) with channels, and oneTBB's parallel_pipeline (Reinders, "Intel Threading
// Building Blocks", 2007, ch. 4; MacDonald, Szafron & Schaeffer, "Rethinking the
// pipeline as object-oriented states with transformations", HIPS 2004) with tokens.
//
// Two shapes, because they answer two questions.
//   Channel stages (Go's): values flow through lf::channel<T>s; each stage is a few
//   threads that receive, work and send, and a consumer ranges over the last channel.
//     lf::channel<int> in(64);
//     lf::stream<int> sq = lf::fan_out(ctx, in, 4, [](int v) { return v * v; });
//     lf::stream<int> all = lf::merge(ctx, sq.out(), other.out());
//     for (int v : all) use(v);
//   lf::pipeline (oneTBB's): a source, stages and a sink given as callables with a mode
//   each, run by a pool of threads on at most `max_live_items` items at once; no channel
//   between stages, no thread per stage.
//     lf::pipeline p(16, lf::source([&]() -> std::optional<int> { ... }),
//                    lf::stage(lf::parallel(), [](int v) { return v * v; }),
//                    lf::sink(lf::serial_in_order, [&](int v) { out.push_back(v); }));
//     p.run(ctx, pool);   // or p.run(ctx, threads), p.run(ctx): threads of its own
//
// ---- lf::stream<T>: what merge and fan_out return ------------------------------------
// A running stage: its output channel and the threads that feed it. Ownership: the
// stream owns its threads (std::jthread, never detached) and its output channel; it
// does not own its inputs, which must outlive it (declare inputs first: destruction
// runs in reverse, so the stream is joined before its inputs go). The threads use the
// stream's own context, a child of the ctx given; they return when their inputs are
// closed and drained, when that context is done, or when the stream is cancelled; the
// last one to return closes out(), so `for (auto v : s)` always ends.
//   out()       the output channel (pass it to the next stage)
//   begin/end   range over out()
//   cancel()    stops the stage: a thread blocked in a receive or a send wakes
//               (channel operations with the stream's context), returns, and out() is
//               closed. A value taken from an input and not yet sent is destroyed
//               (as in Go's blog: cancellation drops what is in flight).
//   wait()      joins the threads (they finish when their inputs close, or at a
//               cancel); rethrows the first exception a stage function threw
//   ~stream()   cancel(), then join: destroying a stream never leaves a thread behind,
//               whatever it was blocked on — unless the stage function itself blocks
//               without watching the context (give f a `const lf::context&` parameter).
// Shutdown while a consumer is blocked in out().recv(): out() is closed when the threads
// end, so the consumer wakes with `closed`; destroying the stream while another thread
// still uses out() is that thread's bug, as for any channel.
//
// merge(ctx, chans...) / merge(ctx, std::vector<channel<T>*>, capacity = 0)
//   Fan-in: one thread per input copies it to out() (capacity 0: unbuffered, Go's merge).
//   out() is closed once every input is closed and drained, or once ctx is done. No
//   input: out() is closed at once. A null pointer in the vector throws
//   std::invalid_argument naming its index. Values from one input keep their order.
// fan_out(ctx, in, n, f, capacity = 0)
//   n threads receive from `in`, call f(v) (or f(ctx, v)) and send the result to out();
//   results come in any order. f is called from n threads at once. The first exception
//   f throws cancels the stream's context (the other threads stop) and wait() rethrows
//   it. n == 0 throws std::invalid_argument.
// fan_out_ordered(ctx, in, n, f, window, capacity = 0)
//   The same, but results come in the order their inputs were received. It is an
//   lf::pipeline (source: receive from `in`; stage: parallel(n) f; sink: in order, send
//   to out()) with max_live_items = window: at most `window` values are between
//   `in` and out() at once, so one slow value holds back at most window - 1 finished
//   ones (memory stays bounded) and stalls the stage until it is done. Threads: n + 2
//   (the source and the sink may block in their channel operations) plus one that runs
//   the pipeline. window == 0 or n == 0 throws std::invalid_argument.
//
// ---- lf::pipeline ------------------------------------------------------------------
//   pipeline(max_live_items, source(f), stage(mode, f)..., sink(mode, f))
//   source(f)         f() or f(ctx) -> std::optional<T>; empty ends the input. Serial:
//                     never called twice at once; each value it returns is the next in
//                     the pipeline's order (the order serial_in_order stages keep).
//   stage(mode, f)    f(v) or f(ctx, v) -> U: the next stage gets U
//   sink(mode, f)     f(v) or f(ctx, v) -> void: the last stage
//   modes             serial_in_order      one item at a time, in the source's order
//                     serial_out_of_order  one item at a time, any order
//                     parallel(n)          up to n items at once (n == 0 throws)
//                     parallel()           no limit but max_live_items
//   max_live_items    items between the source and the end of the sink at once (oneTBB's
//                     max_number_of_live_tokens); 0 throws std::invalid_argument, more
//                     than max_live_limit std::length_error. Each serial_in_order stage
//                     keeps a reorder buffer of that many slots.
//   run(ctx, pool)    on an lf::worker_pool, which must outlive the run; a worker
//                     calling run() helps (runs the pool's tasks) meanwhile
//   run(ctx, threads) on `threads` threads of its own (0 throws); run(ctx): one per CPU
//   start(...) / wait()  the same split: start returns at once, wait blocks
// run() and wait() return context_error::none when every item the source produced went
// through the sink, or the parent context's err() when it stopped the run; they rethrow
// the first exception a stage, the source or the sink threw.
// Errors and cancellation, errgroup's semantics (patterns/errgroup.hpp): each run has a
// context, a child of ctx, which every callable that asks for one receives. The first
// exception cancels it with that exception as its cause. Once it is done — an exception,
// or ctx cancelled or past its deadline — the source is not called again, no stage is
// started on any item, items waiting at a stage are destroyed, the calls running finish
// (a long one should watch its ctx), and run() returns after all of that: nothing is
// leaked, no item reaches the sink twice, and an item that did not reach it never will.
// With a serial_in_order sink the items delivered are exactly a prefix of the source's
// order. A value is destroyed where it is dropped (so T must be destructible there).
// Callables are called by reference from several threads (parallel stages concurrently),
// as oneTBB's filters are: their state is the caller's to protect. A pipeline object runs
// once at a time (start while running throws std::logic_error) and may be run again
// after wait(); it must not be destroyed while running (the destructor stops the run and
// waits for it).
//
// How it runs (oneTBB's "the thread carries the token on", with errgroup goroutines as
// tasks). An item is a sequence number and a value. A carrier is a task that takes the
// source (one at a time), calls it, and carries the item it got through the stages for
// as long as it can, then goes back to the source: in the steady state no task is
// started, nothing is allocated and nothing is woken per item. The source's word holds
// the live items (tokens), whether a carrier holds the source and whether it ended, so
// taking the source and a token is one CAS and giving a token back one RMW. A carrier
// that releases the source with a token left starts another carrier if fewer than the
// pool's workers run; a carrier that finds the source held, or no token, spins briefly
// (lf::backoff's spinning phase) and then returns — the holder, and whoever gives a token
// back, is a carrier that comes back to the source, so none is needed. The carrier that
// took the source last retakes it at once, the others only after a short adaptive grace:
// with short stages one carrier runs item after item on its own core, with long ones
// every worker carries (pipeline::carrier says how the grace and the spacing of carrier
// starts adapt). No order of items across carriers is promised beyond the modes', and no
// concurrency between items either (oneTBB promises none): a stage must not wait for
// another item. A gated stage:
//   serial_in_order  lock-free: a turn word and a reorder ring of max_live_items slots
//                    (stage_gate); an item that may not enter yet is left in its slot and
//                    its carrier goes back to the source; the item leaving passes the turn
//                    on and takes the next one out of the ring if it is there — at the
//                    sink it runs it in the same loop, elsewhere a new carrier takes it.
//   serial_out_of_order, parallel(n)  a mutex, the number inside and a FIFO, with the
//                    same hand-over.
// Progress: every item of an in-order stage's window is live, so the item it waits for
// is held by a carrier that will reach it (live items never wait for the source), and
// the window fits the ring. Progress guarantee: blocking (parallel(n) and out-of-order
// gates are mutexes, the source is held by one caller, run and wait block); a stage's
// callable never waits for another's except through the user's own code.
//
// Ordering: (P1)-(P4) on the source's word (in the pipeline class) hand the source's
// state from caller to caller and order an item's last touch of a ring slot before the
// slot's next use (a slot is reused only by an item born after this one's token came
// back); (O1)-(O5) in stage_gate hand a serial stage from item to item and a buffered
// value from its depositor to the leaver that takes it; the parallel(n) and out-of-order
// gates are under their mutex; a carrier's captures are handed over by the pool's task
// publication (worker_pool.hpp), and errgroup's (G1) carries every task's effects to
// wait(). The stream's running count (S1) is an acq_rel RMW: the thread that brings it to
// zero has seen every other thread's last send before it closes out().
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "patterns/channel.hpp"
#include "patterns/context.hpp"
#include "patterns/detail/stage_gate.hpp"
#include "patterns/errgroup.hpp"
#include "patterns/worker_pool.hpp"
#include "sync/atomic.hpp"
#include "sync/config.hpp"
#include "sync/thread.hpp"

namespace lf {

// ---- stream -------------------------------------------------------------------------

template <class T>
class stream;

namespace detail {

// Calls f(ctx, args...) when f takes a context first, else f(args...).
template <class F, class... A>
decltype(auto) invoke_with_context(F& f, const context& ctx, A&&... args) {
  if constexpr (std::is_invocable_v<F&, const context&, A&&...>) {
    return std::invoke(f, ctx, std::forward<A>(args)...);
  } else {
    static_assert(std::is_invocable_v<F&, A&&...>,
                  "lf::pipeline: a stage function is called as f(v) or f(const lf::context&, v)");
    return std::invoke(f, std::forward<A>(args)...);
  }
}

template <class F, class... A>
using context_invoke_result_t =
    std::remove_cvref_t<decltype(invoke_with_context(std::declval<F&>(), std::declval<const context&>(),
                                                     std::declval<A>()...))>;

struct stream_access;

}  // namespace detail

template <class T>
class stream {
 public:
  using value_type = T;

  stream(stream&&) noexcept = default;
  stream& operator=(stream&& o) noexcept {
    if (this != &o) {
      stop_and_join();
      s_ = std::move(o.s_);
    }
    return *this;
  }
  stream(const stream&) = delete;
  stream& operator=(const stream&) = delete;
  ~stream() { stop_and_join(); }

  channel<T>& out() noexcept { return s_->out; }
  typename channel<T>::iterator begin() { return s_->out.begin(); }
  std::default_sentinel_t end() noexcept { return {}; }

  // Stops the stage (see the header comment). Any thread, any number of times.
  void cancel() { s_->cancel(nullptr); }

  // Joins the threads; rethrows the first exception a stage function threw.
  void wait() {
    join();
    std::exception_ptr e;
    {
      std::lock_guard<std::mutex> lock(s_->error_mutex);
      e = s_->error;
    }
    if (e) std::rethrow_exception(e);
  }

  // The stream's context (done once it is cancelled, failed, or its parent is done).
  const context& ctx() const noexcept { return s_->ctx; }

 private:
  friend struct detail::stream_access;

  struct state {
    state(const context& parent, std::ptrdiff_t capacity) : out(capacity) {
      context_with_cancel_cause c = with_cancel_cause(parent);
      ctx = std::move(c.ctx);
      cancel = std::move(c.cancel);
    }
    channel<T> out;
    context ctx;
    cancel_cause_func cancel;
    std::mutex error_mutex;
    std::exception_ptr error;
    lf::atomic<int> running{0};
    std::vector<std::jthread> threads;

    void fail(std::exception_ptr e) {
      {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = e;
      }
      cancel(std::move(e));
    }
    // A thread's last act: the last one closes out. (S1) acq_rel: see the header.
    void finished() {
      if (running.fetch_sub(1, std::memory_order_acq_rel) == 1) (void)out.close();
    }
  };

  explicit stream(std::unique_ptr<state> s) : s_(std::move(s)) {}

  // Starts `count` threads running body(i); if a thread cannot be made, stops and joins
  // the ones made and rethrows.
  template <class Body>
  void launch(std::size_t count, Body body_in) {
    s_->running.store(static_cast<int>(count), std::memory_order_relaxed);  // before any thread exists
    if (count == 0) {
      (void)s_->out.close();
      return;
    }
    s_->threads.reserve(count);
    auto body = std::make_shared<Body>(std::move(body_in));  // shared by the threads: Body may be move-only
    try {
      for (std::size_t i = 0; i < count; ++i) {
        s_->threads.emplace_back([st = s_.get(), body, i] {
          try {
            (*body)(i);
          } catch (...) {
            st->fail(std::current_exception());
          }
          st->finished();
        });
      }
    } catch (...) {
      s_->cancel(nullptr);
      join();
      throw;
    }
  }

  void join() {
    for (std::jthread& t : s_->threads) {
      if (t.joinable()) t.join();
    }
  }

  void stop_and_join() {
    if (!s_) return;
    s_->cancel(nullptr);
    join();
    s_.reset();
  }

  std::unique_ptr<state> s_;
};

namespace detail {

struct stream_access {
  template <class T>
  static stream<T> make(const context& ctx, std::ptrdiff_t capacity) {
    return stream<T>(std::make_unique<typename stream<T>::state>(ctx, capacity));
  }
  template <class T, class Body>
  static void launch(stream<T>& s, std::size_t count, Body body) {
    s.launch(count, std::move(body));
  }
  template <class T>
  static typename stream<T>::state& state(stream<T>& s) {
    return *s.s_;
  }
};

[[noreturn]] inline void throw_bad_count(const char* what, std::size_t n) {
  throw std::invalid_argument(std::string(what) + " = " + std::to_string(n) + " (must be >= 1)");
}

}  // namespace detail

// ---- merge --------------------------------------------------------------------------

// Fan-in of the channels in `chans` (see the header comment). capacity: out()'s.
template <class T>
stream<T> merge(const context& ctx, const std::vector<channel<T>*>& chans, std::ptrdiff_t capacity = 0) {
  for (std::size_t i = 0; i < chans.size(); ++i) {
    if (chans[i] == nullptr) {
      throw std::invalid_argument("lf::merge: chans[" + std::to_string(i) + "] is a null channel");
    }
  }
  stream<T> s = detail::stream_access::make<T>(ctx, capacity);
  auto& st = detail::stream_access::state(s);
  detail::stream_access::launch(s, chans.size(), [&st, chans](std::size_t i) {
    channel<T>& in = *chans[i];
    while (recv_result<T> v = in.recv(st.ctx)) {
      if (st.out.send(std::move(*v), st.ctx) != chan_status::ok) return;
    }
  });
  return s;
}

// Fan-in of `first, more...` into an unbuffered out().
template <class T, class... More>
  requires(std::is_same_v<More, channel<T>> && ...)
stream<T> merge(const context& ctx, channel<T>& first, More&... more) {
  return merge(ctx, std::vector<channel<T>*>{&first, &more...});
}

// ---- fan_out ------------------------------------------------------------------------

// n threads apply f to the values of `in`; results in any order (see the header comment).
template <class T, class F, class U = detail::context_invoke_result_t<F, T>>
stream<U> fan_out(const context& ctx, channel<T>& in, std::size_t n, F f, std::ptrdiff_t capacity = 0) {
  static_assert(!std::is_void_v<U>, "lf::fan_out: f returns the value to send on");
  if (n == 0) detail::throw_bad_count("lf::fan_out: n", n);
  stream<U> s = detail::stream_access::make<U>(ctx, capacity);
  auto& st = detail::stream_access::state(s);
  auto shared_f = std::make_shared<F>(std::move(f));
  detail::stream_access::launch(s, n, [&st, &in, shared_f](std::size_t) {
    while (recv_result<T> v = in.recv(st.ctx)) {
      U r = detail::invoke_with_context(*shared_f, st.ctx, std::move(*v));
      if (st.out.send(std::move(r), st.ctx) != chan_status::ok) return;
    }
  });
  return s;
}

// ---- pipeline -----------------------------------------------------------------------

// How a stage takes items: at most `limit` at once (0: no limit), in order or not.
struct stage_mode {
  std::size_t limit;
  bool ordered;
};
inline constexpr stage_mode serial_in_order{1, true};
inline constexpr stage_mode serial_out_of_order{1, false};
// Up to n items at once; n == 0 throws std::invalid_argument.
inline stage_mode parallel(std::size_t n) {
  if (n == 0) {
    throw std::invalid_argument("lf::parallel: n = 0 (must be >= 1; lf::parallel() for no limit)");
  }
  return stage_mode{n, false};
}
// No limit but the pipeline's max_live_items.
constexpr stage_mode parallel() noexcept { return stage_mode{0, false}; }

template <class F>
struct pipeline_source {
  F f;
};
template <class F>
struct pipeline_stage {
  stage_mode mode;
  F f;
};
template <class F>
struct pipeline_sink {
  stage_mode mode;
  F f;
};

template <class F>
pipeline_source<std::decay_t<F>> source(F&& f) {
  return {std::forward<F>(f)};
}
template <class F>
pipeline_stage<std::decay_t<F>> stage(stage_mode mode, F&& f) {
  return {mode, std::forward<F>(f)};
}
template <class F>
pipeline_sink<std::decay_t<F>> sink(stage_mode mode, F&& f) {
  return {mode, std::forward<F>(f)};
}

namespace detail {

template <class S>
struct is_pipeline_stage : std::false_type {};
template <class F>
struct is_pipeline_stage<pipeline_stage<F>> : std::true_type {};
template <class S>
struct is_pipeline_sink : std::false_type {};
template <class F>
struct is_pipeline_sink<pipeline_sink<F>> : std::true_type {};

// The value type of the source: f() or f(ctx) -> std::optional<T>.
template <class F>
struct source_value {
  using result = decltype(invoke_with_context(std::declval<F&>(), std::declval<const context&>()));
  template <class R>
  struct unwrap {
    static_assert(sizeof(R) == 0, "lf::source: f returns std::optional<T> (empty: no more input)");
  };
  template <class V>
  struct unwrap<std::optional<V>> {
    using type = V;
  };
  using type = typename unwrap<std::remove_cvref_t<result>>::type;
};

// std::tuple of the value each stage takes: In, then what each stage but the sink returns.
template <class In, class... Stages>
struct stage_inputs;
template <class In, class Sink>
struct stage_inputs<In, Sink> {
  static_assert(is_pipeline_sink<Sink>::value, "lf::pipeline: the last stage is an lf::sink(mode, f)");
  static_assert(std::is_void_v<decltype(invoke_with_context(std::declval<decltype(Sink::f)&>(),
                                                            std::declval<const context&>(), std::declval<In>()))>,
                "lf::sink: f returns void");
  using type = std::tuple<In>;
};
template <class In, class Stage, class Next, class... Rest>
struct stage_inputs<In, Stage, Next, Rest...> {
  static_assert(is_pipeline_stage<Stage>::value, "lf::pipeline: the stages between source and sink are lf::stage(mode, f)");
  using out = context_invoke_result_t<decltype(Stage::f), In>;
  static_assert(!std::is_void_v<out>, "lf::stage: f returns the value for the next stage");
  using type = decltype(std::tuple_cat(std::declval<std::tuple<In>>(),
                                       std::declval<typename stage_inputs<out, Next, Rest...>::type>()));
};

template <class Tuple, class Seq>
struct gates_of;
template <class Tuple, std::size_t... I>
struct gates_of<Tuple, std::index_sequence<I...>> {
  using type = std::tuple<stage_gate<std::tuple_element_t<I, Tuple>>...>;
};

}  // namespace detail

template <class SourceF, class... Stages>
class pipeline {
  static_assert(sizeof...(Stages) >= 1, "lf::pipeline: a source, stages and a sink");
  static constexpr std::size_t stage_count = sizeof...(Stages);
  using inputs = typename detail::stage_inputs<typename detail::source_value<SourceF>::type, Stages...>::type;
  template <std::size_t I>
  using in_t = std::tuple_element_t<I, inputs>;
  using gate_tuple = typename detail::gates_of<inputs, std::make_index_sequence<stage_count>>::type;

 public:
  // Reorder buffers are allocated up front: a bound past this is surely a mistake.
  static constexpr std::size_t max_live_limit = std::size_t{1} << 24;

  pipeline(std::size_t max_live_items, pipeline_source<SourceF> src, Stages... stages)
      : max_live_(validated(max_live_items)), source_(std::move(src)), stages_(std::move(stages)...) {}
  pipeline(const pipeline&) = delete;
  pipeline& operator=(const pipeline&) = delete;
  ~pipeline() {
    if (run_) {
      run_->stop.cancel(nullptr);
      try {
        (void)wait();
      } catch (...) {
      }
    }
  }

  std::size_t max_live_items() const noexcept { return max_live_; }

  context_error run(const context& ctx, worker_pool& pool) {
    start(ctx, pool);
    return wait();
  }
  context_error run(const context& ctx, std::size_t threads) {
    start(ctx, threads);
    return wait();
  }
  context_error run(const context& ctx = background()) { return run(ctx, default_threads()); }

  void start(const context& ctx, worker_pool& pool) { begin(ctx, &pool, 0); }
  void start(const context& ctx, std::size_t threads) {
    if (threads == 0) detail::throw_bad_count("lf::pipeline: threads", threads);
    begin(ctx, nullptr, threads);
  }

  // Waits for the run; none if it completed, else ctx's err(); rethrows the first
  // exception. Throws std::logic_error if nothing was started.
  context_error wait() {
    if (!run_) throw std::logic_error("lf::pipeline::wait: no run was started");
    std::exception_ptr e = run_->with.group.wait();
    const std::uint64_t word = run_->sched.load(std::memory_order_relaxed);  // the group's (G1) ordered it
    const bool completed = (word & ended_bit) != 0 && (word & live_mask) == 0;
    const context_error parent_err = run_->parent.err();
    std::apply([](auto&... g) { (g.clear(), ...); }, run_->gates);  // what a stop left behind
    run_.reset();  // joins threads of its own
    if (e) std::rethrow_exception(e);
    return completed && !e ? context_error::none : parent_err;
  }

 private:
  // The run's scheduling word: live items (tokens taken) in the low bits, a carrier
  // calling the source, the source's end.
  static constexpr std::uint64_t source_bit = std::uint64_t{1} << 62;
  static constexpr std::uint64_t ended_bit = std::uint64_t{1} << 63;
  static constexpr std::uint64_t take_one = std::uint64_t{1} << 32;  // bits 32..61: takes (a hint)
  static constexpr std::uint64_t takes_mask = source_bit - take_one;
  static constexpr std::uint64_t live_mask = take_one - 1;  // max_live_limit < 2^32
  // The longest a carrier lets the source stay free for the one that took it last: about
  // 100 ns here (a pause is 30-40 ns on the EPYC this was tuned on), several times what
  // one carrier takes to bring an item from the source through empty stages and back.
  static constexpr int max_grace_pauses = 3;
  // At most 64 items between starts of a carrier: after a phase of short stages, a
  // phase of long ones runs on one carrier for at most that many items before a second
  // one starts (and, taking the source from the first, resets the spacing).
  static constexpr int max_spawn_shift = 6;

  // One run: its contexts (parent -> stop -> the group's), its threads, its gates.
  struct run_state {
    run_state(const context& ctx, worker_pool* pool, std::size_t threads)
        : parent(ctx),
          stop(with_cancel_cause(ctx)),
          own_pool(pool != nullptr ? nullptr : std::make_unique<worker_pool>(static_cast<std::ptrdiff_t>(threads))),
          with(errgroup::with_context(stop.ctx, pool != nullptr ? *pool : *own_pool)),
          max_carriers(static_cast<int>((pool != nullptr ? *pool : *own_pool).workers())) {}

    // Done once the run must stop: an exception (the group cancels it), ctx, or ~pipeline.
    bool stopped() const noexcept { return with.ctx.done().ready(); }

    context parent;
    context_with_cancel_cause stop;         // ~pipeline cancels it
    std::unique_ptr<worker_pool> own_pool;  // before `with`: destroyed after the group
    errgroup_with_context with;             // with.ctx: what the callables receive
    gate_tuple gates;
    const int max_carriers;                              // one per worker: more would only queue
    alignas(cache_line) lf::atomic<std::uint64_t> sched{0};  // live | takes | source_bit | ended_bit
    std::uint64_t next_seq = 0;                           // the source's holder only
    alignas(cache_line) lf::atomic<int> carriers{0};     // carrier tasks started and not returned
    lf::atomic<int> spawn_shift{0};                       // starts only every 2^shift items (see carrier)
    lf::atomic<int> grace{max_grace_pauses};              // pauses before taking another's source (see carrier)
  };

  static std::size_t validated(std::size_t n) {
    if (n == 0) throw std::invalid_argument("lf::pipeline: max_live_items = 0 (must be >= 1)");
    if (n > max_live_limit) {
      throw std::length_error("lf::pipeline: max_live_items = " + std::to_string(n) + " (more than max_live_limit " +
                              std::to_string(max_live_limit) + ")");
    }
    return n;
  }
  static std::size_t default_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

  void begin(const context& ctx, worker_pool* pool, std::size_t threads) {
    if (run_) throw std::logic_error("lf::pipeline::start: the pipeline is running (call wait() first)");
    run_ = std::make_unique<run_state>(ctx, pool, threads);
    init_gates(std::make_index_sequence<stage_count>{});
    run_state& rs = *run_;
    rs.carriers.store(1, std::memory_order_relaxed);  // before the task is published
    rs.with.group.go([this, &rs] { carrier(rs); });
  }
  template <std::size_t I>
  void init_gate() {
    const stage_mode mode = std::get<I>(stages_).mode;
    std::get<I>(run_->gates).init(mode.limit, mode.ordered, max_live_);
  }
  template <std::size_t... I>
  void init_gates(std::index_sequence<I...>) {
    (init_gate<I>(), ...);
  }

  // Starts one more carrier; `item` (optional) is what it carries first.
  template <class F>
  void start_carrier(run_state& rs, F first) {
    rs.carriers.fetch_add(1, std::memory_order_relaxed);  // relaxed: only bounds how many start
    rs.with.group.go([this, &rs, first = std::move(first)]() mutable {
      first();
      carrier(rs);
    });
  }

  // A carrier: takes an item from the source and carries it through the stages for as
  // long as it can, then the next one, until the source is ended, busy or out of tokens
  // for longer than a short spin (its holder, or whoever returns a token, is a carrier
  // that comes back here), or the run stopped.
  // Locality: the carrier that took the source last takes it again at once; another one
  // first lets it be free for a grace of a few pauses, so that when the stages are short
  // one carrier runs item after item on its own core (two alternating would move the
  // source's word, the sink's turn and the callables' state between cores per item), and
  // when they are long the others take over the idle source a moment later. The grace
  // adapts (relaxed: a hint, racy updates only mistune it for a while): one pause less
  // each time the source stayed free through it (long stages: waiting only delays), one
  // more, up to max_grace_pauses, each time a carrier finds it held by another (short
  // stages: they contend for it). A carrier that gives up while others kept retaking the
  // source doubles the items between later starts of one (spawn_shift, up to
  // 2^max_spawn_shift), so short stages do not start and end a carrier over and over; one
  // that takes the source from another resets it.
  void carrier(run_state& rs) {
    lf::backoff idle;
    constexpr std::uint64_t no_take = ~std::uint64_t{0};
    std::uint64_t mine = no_take;        // the source's take count after this carrier's last take
    std::uint64_t first_seen = no_take;  // the take count when this carrier began to wait
    bool retaken = false;                // ... and whether it changed since
    while (!rs.stopped()) {
      // (P1) acquire: the previous holder's source call and next_seq; pairs with (P2), (P3).
      // A token's return (P4) releases what its item did, which the slot reuse needs.
      std::uint64_t w = rs.sched.load(std::memory_order_relaxed);  // relaxed: a look; the CAS orders
      if ((w & ended_bit) != 0) break;
      bool free = (w & source_bit) == 0 && (w & live_mask) < max_live_;
      const bool other = (w & takes_mask) != mine;
      if (free && other) {
        const int grace = rs.grace.load(std::memory_order_relaxed);
        if (grace > 0) {
          for (int i = 0; i < grace; ++i) lf::spin_pause();
          const std::uint64_t again = rs.sched.load(std::memory_order_relaxed);
          constexpr std::uint64_t same = takes_mask | source_bit | ended_bit;
          free = (again & same) == (w & same) && (again & live_mask) < max_live_;
          if (free) rs.grace.store(grace - 1, std::memory_order_relaxed);  // its taker stayed away: long stages
          w = again;
        }
      } else if ((w & source_bit) != 0 && other) {
        const int grace = rs.grace.load(std::memory_order_relaxed);  // held by another: short ones
        if (grace < max_grace_pauses) rs.grace.store(grace + 1, std::memory_order_relaxed);
      }
      if (!free || !rs.sched.compare_exchange_weak(w, taken(w), std::memory_order_acquire, std::memory_order_relaxed)) {
        if (first_seen == no_take) first_seen = w & takes_mask;
        retaken = retaken || (w & takes_mask) != first_seen;
        if (!idle.spinning()) {
          // Only short stages space out the starts: the source kept being retaken while
          // this carrier waited. A source call that blocks (a channel's receive), or
          // tokens all held by long stages, is no reason to start fewer carriers later.
          const int shift = rs.spawn_shift.load(std::memory_order_relaxed);
          if (retaken && shift < max_spawn_shift) rs.spawn_shift.store(shift + 1, std::memory_order_relaxed);
          break;
        }
        idle.pause();
        continue;
      }
      first_seen = no_take;
      retaken = false;
      mine = taken(w) & takes_mask;
      // grace, spawn_shift and carriers are relaxed: hints that only tune how many carriers
      // run and when; no datum is handed over through them.
      if (other && rs.spawn_shift.load(std::memory_order_relaxed) != 0) rs.spawn_shift.store(0, std::memory_order_relaxed);
      idle.reset();
      std::optional<in_t<0>> v = detail::invoke_with_context(source_.f, rs.with.ctx);
      const std::uint64_t seq = rs.next_seq++;
      if (!v) {
        // (P2) release: hands the source's state on (nobody calls it again, but wait() reads the word).
        rs.sched.fetch_add(ended_bit - source_bit - 1, std::memory_order_release);
        break;
      }
      // (P3) release: the source call and next_seq, to the next holder's (P1).
      w = rs.sched.fetch_sub(source_bit, std::memory_order_release);
      if ((w & live_mask) < max_live_ && rs.carriers.load(std::memory_order_relaxed) < rs.max_carriers &&
          (seq & ((std::uint64_t{1} << rs.spawn_shift.load(std::memory_order_relaxed)) - 1)) == 0 &&
          !rs.stopped()) {
        start_carrier(rs, [] {});  // a token is left and a worker may be idle
      }
      carry<0>(rs, seq, std::move(*v), false);
    }
    rs.carriers.fetch_sub(1, std::memory_order_relaxed);
  }

  // The source's word after a take: one more token, the source held, the take counted
  // (the count wraps within its bits; it is only a hint, compared for equality).
  static std::uint64_t taken(std::uint64_t w) noexcept {
    return ((w & ~takes_mask) | ((w + take_one) & takes_mask)) + source_bit + 1;
  }

  // An item is done (or dropped): its token goes back. (P4) release: everything the item
  // did (its ring slots emptied) before the next (P1) that takes this token.
  void finish_item(run_state& rs) { rs.sched.fetch_sub(1, std::memory_order_release); }

  // Carries item `seq` from stage I on; `entered`: it holds its place in stage I's gate.
  // `cur` is re-emplaced rather than assigned: a stage's input need only be movable.
  template <std::size_t I>
  void carry(run_state& rs, std::uint64_t seq, in_t<I> v, bool entered) {
    auto& gate = std::get<I>(rs.gates);
    auto& st = std::get<I>(stages_);
    using gate_t = std::remove_reference_t<decltype(gate)>;
    std::optional<in_t<I>> cur(std::in_place, std::move(v));
    for (;;) {
      if (rs.stopped()) return;  // the item is destroyed here; the run is over for every item
      if (!entered && !gate.open()) {
        const auto e = gate.enter(seq, *cur);
        if (e == gate_t::entry::buffered) return;  // a leaver hands it on
        if (e == gate_t::entry::reclaimed) cur.emplace(gate.reclaim(seq));
      }
      if constexpr (I + 1 == stage_count) {
        detail::invoke_with_context(st.f, rs.with.ctx, std::move(*cur));
        std::optional<typename gate_t::item> next = gate.open() ? std::nullopt : gate.leave(seq);
        finish_item(rs);
        if (!next) return;
        seq = next->first;  // the sink's next item: run it here, no new task
        cur.emplace(std::move(next->second));
        entered = true;
      } else {
        in_t<I + 1> out = detail::invoke_with_context(st.f, rs.with.ctx, std::move(*cur));
        cur.reset();
        if (!gate.open()) {
          if (auto next = gate.leave(seq)) {
            // The task empties its capture before it goes on: the pool destroys a task
            // only after the group counted it done, and wait() must not return while a
            // value is still alive.
            start_carrier(rs, [this, &rs, n = std::move(next)]() mutable {
              auto [seq_n, v_n] = std::move(*n);
              n.reset();
              carry<I>(rs, seq_n, std::move(v_n), true);
            });
          }
        }
        carry<I + 1>(rs, seq, std::move(out), false);
        return;
      }
    }
  }

  const std::size_t max_live_;
  pipeline_source<SourceF> source_;
  std::tuple<Stages...> stages_;
  std::unique_ptr<run_state> run_;
};

template <class SourceF, class... Stages>
pipeline(std::size_t, pipeline_source<SourceF>, Stages...) -> pipeline<SourceF, Stages...>;

// ---- fan_out_ordered ----------------------------------------------------------------

// fan_out with results in input order through a reorder window (see the header comment).
template <class T, class F, class U = detail::context_invoke_result_t<F, T>>
stream<U> fan_out_ordered(const context& ctx, channel<T>& in, std::size_t n, F f, std::size_t window,
                          std::ptrdiff_t capacity = 0) {
  static_assert(!std::is_void_v<U>, "lf::fan_out_ordered: f returns the value to send on");
  if (n == 0) detail::throw_bad_count("lf::fan_out_ordered: n", n);
  if (window == 0) detail::throw_bad_count("lf::fan_out_ordered: window", window);
  stream<U> s = detail::stream_access::make<U>(ctx, capacity);
  auto& st = detail::stream_access::state(s);
  detail::stream_access::launch(s, 1, [&st, &in, n, window, f = std::move(f)](std::size_t) mutable {
    pipeline p(
        window,
        source([&in](const context& c) -> std::optional<T> {
          recv_result<T> v = in.recv(c);
          if (!v) return std::nullopt;
          return std::optional<T>(std::move(*v));
        }),
        stage(parallel(n), [&f](const context& c, T v) -> U { return detail::invoke_with_context(f, c, std::move(v)); }),
        sink(serial_in_order, [&st](const context& c, U v) { (void)st.out.send(std::move(v), c); }));
    (void)p.run(st.ctx, n + 2);
  });
  return s;
}

}  // namespace lf
