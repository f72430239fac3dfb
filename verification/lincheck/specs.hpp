// lf::lincheck — sequential specifications the checker judges histories against.
//
// A specification is an object with
//   using state = ...;                          equality-comparable, copyable
//   state initial() const;
//   bool step(state& s, const operation& op) const;   if op, with its recorded result, is
//                                               legal in s, apply it and return true;
//                                               otherwise return false (s may be changed)
//   std::size_t hash(const state&) const;
//   std::string name() const;
//   std::string call_text(const operation&) const;     "push(3)"
//   std::string result_text(const operation&) const;   "ok", "7", "empty"
//   std::vector<std::vector<std::size_t>> shrink_groups(const history&) const;
//                                               sets of operations whose removal keeps a
//                                               linearizable history linearizable (so a
//                                               failure that survives it is a real one)
// and, for a P-compositional specification (Horn & Kroening 2015;
// papers/horn-2015-p-compositionality.md), `std::vector<history> partition(const history&)`:
// a history is linearizable iff each part is, so the checker searches the parts one by one.
// The keyed ones here (set, map) partition by key.
//
// Operation codes and results are spelled out per specification below. A result that is a
// value uses `none` for "no value" (empty pop, absent key).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "verification/lincheck/history.hpp"

namespace lf::lincheck {

namespace detail {

inline std::size_t hash_values(const std::vector<value>& v, std::size_t seed = 1469598103934665603ull) {
  std::size_t h = seed;
  for (value x : v) h = (h ^ static_cast<std::size_t>(x)) * 1099511628211ull;
  return h;
}

inline std::string value_text(value v) { return v == none ? "none" : std::to_string(v); }

// Operations grouped by the value they carry (`value_of` returns none for an operation that
// carries none): an element's insertion and its removal leave together. With `pairs` false
// only the operations that carry no value (empty and full answers) are offered, alone.
template <class ValueOf>
std::vector<std::vector<std::size_t>> groups_by_value(const history& h, ValueOf value_of, bool pairs) {
  std::vector<std::vector<std::size_t>> groups;
  std::unordered_map<value, std::size_t> by_value;
  for (std::size_t i = 0; i < h.size(); ++i) {
    const value v = value_of(h[i]);
    if (v == none) {
      groups.push_back({i});
    } else if (pairs) {
      auto [it, fresh] = by_value.try_emplace(v, groups.size());
      if (fresh) groups.emplace_back();
      groups[it->second].push_back(i);
    }
  }
  return groups;
}

}  // namespace detail

// How a bounded container's "full" and "empty" answers are judged.
//   exact         an answer must be true at the operation's linearization point.
//   relaxed_full  "full" is accepted at any time (it changes nothing); "empty" is exact.
//                 lf::scq_ring: a push that has taken a free slot but not yet enqueued
//                 it, or a pop that has dequeued but not yet returned its slot, makes
//                 another push report full (the lincheck lane found this; see
//                 verification/lincheck/containers_lincheck.cpp).
//   relaxed       "full" and "empty" are both accepted at any time; every successful
//                 operation must still be linearizable. The specified behaviour of
//                 lf::mpmc_ring and of Vyukov-style buffers (see mpmc_ring.hpp): a pop may
//                 report empty while an earlier-claimed push is still in flight. For the
//                 buffered channel: "would block" at any time but once closed and
//                 drained (then only "closed" is right; see channel_spec).
enum class edges { exact, relaxed_full, relaxed };

namespace detail {
inline const char* edges_name(edges e) {
  return e == edges::exact ? "exact edges" : e == edges::relaxed_full ? "relaxed full, exact empty" : "relaxed edges";
}
}  // namespace detail

// FIFO queue, unbounded or bounded.
//   push(v) -> 1 (accepted) or 0 (full; only when bounded)
//   pop()   -> the value, or none (empty)
class queue_spec {
 public:
  enum op : std::uint32_t { push = 0, pop = 1 };
  using state = std::vector<value>;  // front first

  static queue_spec fifo() { return queue_spec(0, edges::exact); }
  static queue_spec bounded(std::size_t capacity, edges e = edges::exact) {
    if (capacity == 0) throw std::invalid_argument("lf::lincheck::queue_spec::bounded: capacity must be > 0, got 0");
    return queue_spec(capacity, e);
  }

  state initial() const { return {}; }
  bool step(state& s, const operation& o) const {
    if (o.kind == push) {
      if (o.result == 0) return capacity_ != 0 && (edges_ != edges::exact || s.size() == capacity_);
      if (capacity_ != 0 && s.size() >= capacity_) return false;
      s.push_back(o.arg);
      return true;
    }
    if (o.result == none) return edges_ == edges::relaxed || s.empty();
    if (s.empty() || s.front() != o.result) return false;
    s.erase(s.begin());
    return true;
  }
  std::size_t hash(const state& s) const { return detail::hash_values(s); }
  std::string name() const {
    if (capacity_ == 0) return "fifo queue";
    return "bounded queue (capacity " + std::to_string(capacity_) + ", " + detail::edges_name(edges_) + ")";
  }
  std::string call_text(const operation& o) const {
    return o.kind == push ? "push(" + std::to_string(o.arg) + ")" : "pop()";
  }
  std::string result_text(const operation& o) const {
    if (o.kind == push) return o.result != 0 ? "ok" : "full";
    return o.result == none ? "empty" : std::to_string(o.result);
  }
  std::vector<std::vector<std::size_t>> shrink_groups(const history& h) const {
    // Removing an element (its push and its pop) can only empty the queue: every "empty"
    // answer stays legal, a "full" one may not. So pairs go only when no "full" is left.
    bool full_answer = false;
    for (const auto& o : h) full_answer |= (o.kind == push && o.result == 0);
    return detail::groups_by_value(
        h, [](const operation& o) { return o.kind == push ? (o.result != 0 ? o.arg : none) : o.result; },
        !full_answer || edges_ != edges::exact);
  }

 private:
  queue_spec(std::size_t capacity, edges e) : capacity_(capacity), edges_(e) {}
  std::size_t capacity_;
  edges edges_;
};

// LIFO stack, unbounded: push(v) -> 1; pop() -> the value or none.
class stack_spec {
 public:
  enum op : std::uint32_t { push = 0, pop = 1 };
  using state = std::vector<value>;  // top last

  state initial() const { return {}; }
  bool step(state& s, const operation& o) const {
    if (o.kind == push) {
      s.push_back(o.arg);
      return true;
    }
    if (o.result == none) return s.empty();
    if (s.empty() || s.back() != o.result) return false;
    s.pop_back();
    return true;
  }
  std::size_t hash(const state& s) const { return detail::hash_values(s); }
  std::string name() const { return "stack"; }
  std::string call_text(const operation& o) const {
    return o.kind == push ? "push(" + std::to_string(o.arg) + ")" : "pop()";
  }
  std::string result_text(const operation& o) const {
    if (o.kind == push) return "ok";
    return o.result == none ? "empty" : std::to_string(o.result);
  }
  std::vector<std::vector<std::size_t>> shrink_groups(const history& h) const {
    // An element pushed and popped encloses only elements pushed and popped inside it
    // (LIFO), so removing both leaves every other answer legal.
    return detail::groups_by_value(h, [](const operation& o) { return o.kind == push ? o.arg : o.result; }, true);
  }
};

// Double-ended work-stealing deque (Chase–Lev shape): the owner pushes and pops at the
// bottom, thieves steal at the top.
//   push_bottom(v) -> 1; pop_bottom() -> value or none; steal() -> value or none
class deque_spec {
 public:
  enum op : std::uint32_t { push_bottom = 0, pop_bottom = 1, steal = 2 };
  using state = std::vector<value>;  // top first, bottom last

  state initial() const { return {}; }
  bool step(state& s, const operation& o) const {
    switch (o.kind) {
      case push_bottom:
        s.push_back(o.arg);
        return true;
      case pop_bottom:
        if (o.result == none) return s.empty();
        if (s.empty() || s.back() != o.result) return false;
        s.pop_back();
        return true;
      default:
        if (o.result == none) return s.empty();
        if (s.empty() || s.front() != o.result) return false;
        s.erase(s.begin());
        return true;
    }
  }
  std::size_t hash(const state& s) const { return detail::hash_values(s); }
  std::string name() const { return "work-stealing deque"; }
  std::string call_text(const operation& o) const {
    if (o.kind == push_bottom) return "push(" + std::to_string(o.arg) + ")";
    return o.kind == pop_bottom ? "pop()" : "steal()";
  }
  std::string result_text(const operation& o) const {
    if (o.kind == push_bottom) return "ok";
    return o.result == none ? "empty" : std::to_string(o.result);
  }
  std::vector<std::vector<std::size_t>> shrink_groups(const history& h) const {
    return detail::groups_by_value(h, [](const operation& o) { return o.kind == push_bottom ? o.arg : o.result; },
                                   true);
  }
};

// Keyed specifications: a history is linearizable iff the history of each key is.
namespace detail {
inline std::vector<history> partition_by_key(const history& h) {
  std::map<value, history> parts;
  for (const auto& o : h) parts[o.arg].push_back(o);
  std::vector<history> out;
  for (auto& [key, part] : parts) out.push_back(std::move(part));
  return out;
}
inline std::vector<std::vector<std::size_t>> groups_by_key(const history& h) {
  return groups_by_value(h, [](const operation& o) { return o.arg == none ? none + 1 : o.arg; }, true);
}
}  // namespace detail

// Set of keys: insert(k) / erase(k) -> 1 if it changed the set, else 0; contains(k) -> 1/0.
// The state of one partition is one key's membership.
class set_spec {
 public:
  enum op : std::uint32_t { insert = 0, erase = 1, contains = 2 };
  using state = std::map<value, bool>;

  state initial() const { return {}; }
  bool step(state& s, const operation& o) const {
    bool& present = s[o.arg];
    switch (o.kind) {
      case insert:
        if ((o.result != 0) == present) return false;
        present = true;
        return true;
      case erase:
        if ((o.result != 0) != present) return false;
        present = false;
        return true;
      default:
        return (o.result != 0) == present;
    }
  }
  std::size_t hash(const state& s) const {
    std::size_t h = 0;
    for (const auto& [k, in] : s) h = h * 31 + static_cast<std::size_t>(k) * 2 + (in ? 1 : 0);
    return h;
  }
  std::string name() const { return "set"; }
  std::string call_text(const operation& o) const {
    static const char* const names[] = {"insert", "erase", "contains"};
    return std::string(names[o.kind]) + "(" + std::to_string(o.arg) + ")";
  }
  std::string result_text(const operation& o) const { return o.result != 0 ? "true" : "false"; }
  std::vector<history> partition(const history& h) const { return detail::partition_by_key(h); }
  std::vector<std::vector<std::size_t>> shrink_groups(const history& h) const { return detail::groups_by_key(h); }
};

// Map from keys to values: put(k, v) -> previous value or none; get(k) -> value or none;
// erase(k) -> removed value or none.
class map_spec {
 public:
  enum op : std::uint32_t { put = 0, get = 1, erase = 2 };
  using state = std::map<value, value>;  // absent keys are not stored

  state initial() const { return {}; }
  bool step(state& s, const operation& o) const {
    const auto it = s.find(o.arg);
    const value current = it == s.end() ? none : it->second;
    if (o.result != current) return false;
    if (o.kind == put) {
      s[o.arg] = o.arg2;
    } else if (o.kind == erase && it != s.end()) {
      s.erase(it);
    }
    return true;
  }
  std::size_t hash(const state& s) const {
    std::size_t h = 0;
    for (const auto& [k, v] : s) h = (h ^ static_cast<std::size_t>(k)) * 1099511628211ull ^ static_cast<std::size_t>(v);
    return h;
  }
  std::string name() const { return "map"; }
  std::string call_text(const operation& o) const {
    if (o.kind == put) return "put(" + std::to_string(o.arg) + ", " + std::to_string(o.arg2) + ")";
    return std::string(o.kind == get ? "get(" : "erase(") + std::to_string(o.arg) + ")";
  }
  std::string result_text(const operation& o) const { return detail::value_text(o.result); }
  std::vector<history> partition(const history& h) const { return detail::partition_by_key(h); }
  std::vector<std::vector<std::size_t>> shrink_groups(const history& h) const { return detail::groups_by_key(h); }
};

// Counter: add(d) -> the value before; load() -> the value. Not P-compositional, and
// removing an add changes every later answer, so it offers nothing to shrink.
class counter_spec {
 public:
  enum op : std::uint32_t { add = 0, load = 1 };
  using state = value;

  state initial() const { return 0; }
  bool step(state& s, const operation& o) const {
    if (o.result != s) return false;
    if (o.kind == add) s += o.arg;
    return true;
  }
  std::size_t hash(const state& s) const { return static_cast<std::size_t>(s); }
  std::string name() const { return "counter"; }
  std::string call_text(const operation& o) const {
    return o.kind == add ? "add(" + std::to_string(o.arg) + ")" : "load()";
  }
  std::string result_text(const operation& o) const { return std::to_string(o.result); }
  std::vector<std::vector<std::size_t>> shrink_groups(const history&) const { return {}; }
};

namespace detail {
// The channels' operation codes and answers (channel_spec, rendezvous_channel_spec).
enum channel_op : std::uint32_t { channel_send = 0, channel_recv = 1, channel_close = 2 };
inline constexpr value channel_sent = 1, channel_closed = none + 1;

inline std::string channel_call_text(const operation& o) {
  if (o.kind == channel_send) return "send(" + std::to_string(o.arg) + ")";
  return o.kind == channel_recv ? "recv()" : "close()";
}

// A channel history's shrink groups: a sent value's send and its receive together (only
// when `pairs`), the answers that carry no value alone, a close never (removing it would
// make "closed" answers illegal).
inline std::vector<std::vector<std::size_t>> channel_groups(const history& h, bool pairs) {
  auto groups = groups_by_value(
      h,
      [](const operation& o) {
        if (o.kind == channel_send) return o.result == channel_sent ? o.arg : none;
        return o.kind == channel_recv && o.result != channel_closed ? o.result : none;
      },
      pairs);
  std::erase_if(groups, [&](const auto& g) { return g.size() == 1 && h[g[0]].kind == channel_close; });
  return groups;
}
}  // namespace detail

// Buffered channel (Go's semantics, lf::channel with capacity > 0), non-blocking calls:
//   send(v) -> sent, full or closed;  recv() -> the value, none (would block) or closed
//   close() -> 1 if this call closed it, 0 if it was closed already
// After close, receives drain what is buffered, then answer closed; sends answer closed.
class channel_spec {
 public:
  enum op : std::uint32_t { send = detail::channel_send, recv = detail::channel_recv, close = detail::channel_close };
  static constexpr value sent = detail::channel_sent, full = 0, closed = detail::channel_closed;
  struct state {
    std::vector<value> buffer;
    bool is_closed = false;
    bool operator==(const state&) const = default;
  };

  explicit channel_spec(std::size_t capacity, edges e = edges::exact) : capacity_(capacity), edges_(e) {
    if (capacity == 0) throw std::invalid_argument("lf::lincheck::channel_spec: capacity must be > 0, got 0");
  }

  state initial() const { return {}; }
  bool step(state& s, const operation& o) const {
    switch (o.kind) {
      case send:
        if (o.result == closed) return s.is_closed;
        if (s.is_closed) return false;
        if (o.result == full) return edges_ != edges::exact || s.buffer.size() == capacity_;
        if (s.buffer.size() >= capacity_) return false;
        s.buffer.push_back(o.arg);
        return true;
      case recv:
        if (o.result == closed) return s.is_closed && s.buffer.empty();
        // Relaxed: "would block" while a value is buffered — the ring's edge, a slot whose
        // sender claimed it and is still writing — also after close, since such a send
        // claimed its slot before the seal and returns ok (it is linearized before the
        // close). Closed and drained: only "closed".
        if (o.result == none) {
          return edges_ == edges::relaxed ? !s.is_closed || !s.buffer.empty() : !s.is_closed && s.buffer.empty();
        }
        if (s.buffer.empty() || s.buffer.front() != o.result) return false;
        s.buffer.erase(s.buffer.begin());
        return true;
      default:
        if ((o.result != 0) == s.is_closed) return false;
        s.is_closed = true;
        return true;
    }
  }
  std::size_t hash(const state& s) const { return detail::hash_values(s.buffer, s.is_closed ? 7 : 11); }
  std::string name() const {
    return "buffered channel (capacity " + std::to_string(capacity_) + ", " + detail::edges_name(edges_) + ")";
  }
  std::string call_text(const operation& o) const { return detail::channel_call_text(o); }
  std::string result_text(const operation& o) const {
    if (o.kind == close) return o.result != 0 ? "true" : "false";
    if (o.result == closed) return "closed";
    if (o.kind == send) return o.result == sent ? "ok" : "full";
    return o.result == none ? "would_block" : std::to_string(o.result);
  }
  std::vector<std::vector<std::size_t>> shrink_groups(const history& h) const {
    // As for the bounded queue.
    bool full_answer = false;
    for (const auto& o : h) full_answer |= (o.kind == send && o.result == full);
    return detail::channel_groups(h, !full_answer || edges_ != edges::exact);
  }

 private:
  std::size_t capacity_;
  edges edges_;
};


// Unbuffered (rendezvous) channel (Go's semantics, lf::channel with capacity 0), with
// timed or non-blocking calls so that every operation of a history completes:
//   send(v) -> sent, none (would block or timed out: nothing was sent) or closed
//   recv()  -> the value, none (would block or timed out) or closed
//   close() -> 1 if this call closed it, 0 if it was closed already
// A send and the receive that takes its value complete together: their calls overlap in
// time. The checker places one point per operation, so the pair is two points with nothing
// between them: the send's point leaves its value "in hand" (the state's `handing`), and
// while a value is in hand the only legal next step is the receive of exactly that value,
// and only if it was invoked before the send returned. That last condition is the one
// place a specification reads the stamps: two adjacent points in a linearization may still
// lie far apart in time, and "the calls overlap" is a real-time relation between two
// operations that no sequence of single points expresses. The checker's order already
// gives send.call < recv.ret; with recv.call < send.ret the intervals overlap. Flagged: a
// send that returned before its receiver was called, a value received twice, a value
// nobody sent. A "none" answer changes nothing and is accepted at
// any time (whether a partner was waiting is not part of the state: a waiting partner is
// an operation still in progress). After close, sends and receives answer closed; a send
// cannot be in hand across a close.
class rendezvous_channel_spec {
 public:
  enum op : std::uint32_t { send = detail::channel_send, recv = detail::channel_recv, close = detail::channel_close };
  static constexpr value sent = detail::channel_sent, closed = detail::channel_closed;
  struct state {
    value handing = none;           // the value of a send whose receive is the next step, or none
    std::uint64_t handing_ret = 0;  // that send's response stamp
    bool is_closed = false;
    bool operator==(const state&) const = default;
  };

  state initial() const { return {}; }
  bool step(state& s, const operation& o) const {
    if (s.handing != none) {  // only the pair's receive may come next, called before the send returned
      if (o.kind != recv || o.result != s.handing || o.call > s.handing_ret) return false;
      s.handing = none;
      s.handing_ret = 0;
      return true;
    }
    switch (o.kind) {
      case send:
        if (o.result == closed) return s.is_closed;
        if (o.result == none) return true;
        if (s.is_closed || o.arg == none) return false;
        s.handing = o.arg;
        s.handing_ret = o.ret;
        return true;
      case recv:
        if (o.result == closed) return s.is_closed;
        return o.result == none;  // a value here would have no send in hand
      default:
        if ((o.result != 0) == s.is_closed) return false;
        s.is_closed = true;
        return true;
    }
  }
  std::size_t hash(const state& s) const {
    return (static_cast<std::size_t>(s.handing) * 1099511628211ull ^ s.handing_ret) * 31 + (s.is_closed ? 7 : 11);
  }
  std::string name() const { return "unbuffered channel"; }
  std::string call_text(const operation& o) const { return detail::channel_call_text(o); }
  std::string result_text(const operation& o) const {
    if (o.kind == close) return o.result != 0 ? "true" : "false";
    if (o.result == closed) return "closed";
    if (o.result == none) return "would_block";
    return o.kind == send ? "ok" : std::to_string(o.result);
  }
  std::vector<std::vector<std::size_t>> shrink_groups(const history& h) const {
    return detail::channel_groups(h, true);  // a send and its receive leave together
  }
};

}  // namespace lf::lincheck
