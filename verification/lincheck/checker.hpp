// lf::lincheck — the linearizability checker.
//
// Wing & Gong's search (1993; papers/wing-1993-linearizability-checking.md) with Lowe's
// just-in-time linearization and memoization (Lowe 2017;
// papers/lowe-2017-testing-linearizability.md), the design Porcupine uses
// (papers/lincheck-porcupine.md):
//
//   The history becomes one list of call and return events in stamp order. Walking it from
//   the front, a call event is a candidate: its operation may take effect now, before
//   everything still in the list, if the specification accepts it (with its recorded
//   result) in the current state. The search takes the first candidate that leads somewhere
//   new, removes its call and return from the list ("lifts" it) and starts again from the
//   front. Reaching a return event means the operation it closes had to be linearized
//   already and was not: the last choice was wrong, so the search undoes it (puts the two
//   events back) and tries the next candidate after it. An empty list is a linearization;
//   running out of choices proves there is none.
//
//   Just-in-time: only operations whose call precedes the first pending return are ever
//   candidates, so the branching is bounded by the concurrency, not the history length.
//   Memoization: the pair (set of operations linearized, specification state) determines
//   everything that can follow, so a pair met before (Lowe's cache; Porcupine keys it by
//   a bitset) is not searched again. This is what makes histories of hundreds of
//   operations checkable when the search alone would be exponential.
//
// P-compositionality (Horn & Kroening 2015): a specification that defines `partition`
// (keyed ones: set, map) is checked part by part.
//
// The search is bounded by `check_options::max_steps` (candidate tests); past it the answer
// is `unknown`, never a guess.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "verification/lincheck/history.hpp"

namespace lf::lincheck {

enum class verdict { linearizable, not_linearizable, unknown };

inline const char* to_string(verdict v) {
  switch (v) {
    case verdict::linearizable:
      return "linearizable";
    case verdict::not_linearizable:
      return "NOT linearizable";
    default:
      return "unknown (search budget exhausted)";
  }
}

struct check_options {
  std::uint64_t max_steps = 0;  // 0: no bound
};

struct check_result {
  verdict outcome = verdict::linearizable;
  std::uint64_t steps = 0;  // candidate tests made, over all parts
  // When not linearizable: the part that failed (the whole history unless the
  // specification partitions) and the longest linearizable prefix the search found in it,
  // as indices into `failed_part`.
  history failed_part;
  std::vector<std::size_t> longest_prefix;
  explicit operator bool() const noexcept { return outcome == verdict::linearizable; }
};

namespace detail {

template <class S>
concept partitioned_spec = requires(const S& s, const history& h) {
  { s.partition(h) } -> std::same_as<std::vector<history>>;
};

// The search over one part. Entries are a doubly linked list with a sentinel at index 0;
// entry 2i+1 is the call of operation i, 2i+2 its return.
template <class Spec>
class search {
 public:
  search(const Spec& spec, const history& h) : spec_(spec), h_(h), words_((h.size() + 63) / 64) {
    const std::size_t n = h.size();
    links_.resize(2 * n + 1);
    std::vector<std::size_t> order(2 * n);
    for (std::size_t e = 0; e < 2 * n; ++e) order[e] = e + 1;
    // Stamp order; a call before a return on equal stamps (only hand-built histories tie),
    // which lets the tied operations overlap.
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      const std::uint64_t sa = stamp(a), sb = stamp(b);
      return sa != sb ? sa < sb : is_call(a) && !is_call(b);
    });
    std::size_t prev = 0;
    for (std::size_t e : order) {
      links_[prev].next = e;
      links_[e].prev = prev;
      prev = e;
    }
    links_[prev].next = end;
  }

  verdict run(std::uint64_t& steps, std::uint64_t max_steps, std::vector<std::size_t>& longest) {
    using state = typename Spec::state;
    struct frame {
      std::size_t call;
      state before;
    };
    std::vector<frame> stack;
    std::vector<std::uint64_t> linearized(words_, 0);
    state current = spec_.initial();
    std::size_t e = links_[0].next;
    while (links_[0].next != end) {
      if (max_steps != 0 && steps >= max_steps) return verdict::unknown;
      if (e == end) return verdict::not_linearizable;  // unreachable: a return always ends the walk
      if (is_call(e)) {
        ++steps;
        const std::size_t op = (e - 1) / 2;
        state next = current;
        if (spec_.step(next, h_[op])) {
          flip(linearized, op);
          if (seen_.insert(key{linearized, spec_.hash(next), next}).second) {
            stack.push_back({e, std::move(current)});
            current = std::move(next);
            lift(e);
            if (stack.size() > longest.size()) {
              longest.clear();
              for (const auto& f : stack) longest.push_back((f.call - 1) / 2);
            }
            e = links_[0].next;
            continue;
          }
          flip(linearized, op);
        }
        e = links_[e].next;
      } else {
        if (stack.empty()) return verdict::not_linearizable;
        frame f = std::move(stack.back());
        stack.pop_back();
        flip(linearized, (f.call - 1) / 2);
        unlift(f.call);
        current = std::move(f.before);
        e = links_[f.call].next;
      }
    }
    return verdict::linearizable;
  }

 private:
  static constexpr std::size_t end = static_cast<std::size_t>(-1);
  struct link {
    std::size_t prev = 0, next = end;
  };
  struct key {
    std::vector<std::uint64_t> linearized;
    std::size_t state_hash;
    typename Spec::state state;
    bool operator==(const key& o) const {
      return state_hash == o.state_hash && linearized == o.linearized && state == o.state;
    }
  };
  struct key_hash {
    std::size_t operator()(const key& k) const noexcept {
      std::size_t h = k.state_hash;
      for (std::uint64_t w : k.linearized) h = (h ^ w) * 1099511628211ull;
      return h;
    }
  };

  static bool is_call(std::size_t e) { return e % 2 == 1; }
  std::uint64_t stamp(std::size_t e) const {
    const operation& o = h_[(e - 1) / 2];
    return is_call(e) ? o.call : o.ret;
  }
  static void flip(std::vector<std::uint64_t>& bits, std::size_t i) { bits[i / 64] ^= std::uint64_t{1} << (i % 64); }

  void unlink(std::size_t e) {
    links_[links_[e].prev].next = links_[e].next;
    if (links_[e].next != end) links_[links_[e].next].prev = links_[e].prev;
  }
  void relink(std::size_t e) {
    links_[links_[e].prev].next = e;
    if (links_[e].next != end) links_[links_[e].next].prev = e;
  }
  // Lifting removes the call, then its return; unlifting restores them in reverse order,
  // so each relink finds its neighbours as they were when it was unlinked.
  void lift(std::size_t call) {
    unlink(call);
    unlink(call + 1);
  }
  void unlift(std::size_t call) {
    relink(call + 1);
    relink(call);
  }

  const Spec& spec_;
  const history& h_;
  std::size_t words_;
  std::vector<link> links_;
  std::unordered_set<key, key_hash> seen_;
};

}  // namespace detail

// Is `h` linearizable with respect to `spec`? Every operation in `h` must have completed
// (call < ret).
template <class Spec>
check_result check(const Spec& spec, const history& h, check_options opt = {}) {
  check_result r;
  auto check_part = [&](const history& part) {
    std::vector<std::size_t> longest;
    const verdict v = detail::search<Spec>(spec, part).run(r.steps, opt.max_steps, longest);
    if (v != verdict::linearizable) {
      r.outcome = v;
      r.failed_part = part;
      r.longest_prefix = std::move(longest);
    }
    return v == verdict::linearizable;
  };
  if constexpr (detail::partitioned_spec<Spec>) {
    for (const history& part : spec.partition(h)) {
      if (!check_part(part)) break;
    }
  } else {
    check_part(h);
  }
  return r;
}

}  // namespace lf::lincheck
