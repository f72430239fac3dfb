// lf — what every container declares about itself, and the queue concept, so that the
// catalogue, the typed tests and the benchmarks can enumerate and compare containers.
#pragma once

#include <concepts>
#include <cstddef>
#include <limits>
#include <optional>
#include <utility>

namespace lf {

// Progress guarantee of an operation (Herlihy & Shavit, ch. 3.7).
enum class progress {
  wait_free,         // completes in a bounded number of its own steps
  lock_free,         // some call completes in a bounded number of steps of the system
  obstruction_free,  // completes if it runs alone long enough
  blocking,          // may wait for another thread
};

// Hand-over progress: whether an element still gets from the other producers to the
// consumers while one thread is stalled in the middle of a push or a pop (it answers
// "empty" or "full" to them until the stalled thread goes on: blocking). A container whose
// calls are non-blocking but whose hand-over is not declares
// `static constexpr progress handoff_progress`; otherwise the hand-over is as good as its
// weakest call. The progress lane (verification/progress) checks both claims by freezing
// a thread in the middle of a call.
template <class C>
constexpr progress handoff_progress_of() noexcept {
  if constexpr (requires { C::handoff_progress; }) {
    return C::handoff_progress;
  } else {
    return C::push_progress > C::pop_progress ? C::push_progress : C::pop_progress;
  }
}

// How many threads may call an operation concurrently.
inline constexpr std::size_t any_number = std::numeric_limits<std::size_t>::max();

template <class Q>
concept concurrent_queue = requires(Q q, typename Q::value_type v) {
  { q.try_push(std::move(v)) } -> std::same_as<bool>;
  { q.try_pop() } -> std::same_as<std::optional<typename Q::value_type>>;
  { Q::push_progress } -> std::convertible_to<progress>;
  { Q::pop_progress } -> std::convertible_to<progress>;
  { Q::max_producers } -> std::convertible_to<std::size_t>;
  { Q::max_consumers } -> std::convertible_to<std::size_t>;
};

}  // namespace lf
