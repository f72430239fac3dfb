// lf::lincheck — what a person reads when a history fails: a smaller failing history, a
// timeline with one column per thread, and the history as JSON for other tools.
//
// Shrinking removes whole groups of operations (an element's insertion with its removal;
// an empty or full answer alone), as the specification offers them (specs.hpp,
// shrink_groups): each group is one whose removal keeps a linearizable history
// linearizable, so a history that still fails without it is a failure the original
// contained, not one the removal made. Groups are tried one at a time, largest history
// first, until no single removal keeps the failure. Threads whose operations all went
// are gone from the result, and the remaining ones are renumbered from 0.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "verification/lincheck/checker.hpp"
#include "verification/lincheck/history.hpp"

namespace lf::lincheck {

// Threads renumbered 0.. in order of first appearance; stamps renumbered 0.. keeping order.
inline history compact(history h) {
  std::map<std::uint32_t, std::uint32_t> threads;
  std::set<std::uint64_t> stamps;
  for (const auto& o : h) {
    threads.try_emplace(o.thread, 0);
    stamps.insert(o.call);
    stamps.insert(o.ret);
  }
  std::uint32_t t = 0;
  for (auto& [old, renumbered] : threads) renumbered = t++;
  std::map<std::uint64_t, std::uint64_t> stamp_index;
  std::uint64_t s = 0;
  for (std::uint64_t x : stamps) stamp_index[x] = s++;
  for (auto& o : h) {
    o.thread = threads[o.thread];
    o.call = stamp_index[o.call];
    o.ret = stamp_index[o.ret];
  }
  return h;
}

// A smaller history that `check` still finds not linearizable (or `h` itself, if it is
// linearizable or nothing can go). `budget` bounds each check as in check_options.
template <class Spec>
history shrink(const Spec& spec, history h, check_options opt = {}) {
  if (check(spec, h, opt).outcome != verdict::not_linearizable) return h;
  for (bool progress = true; progress;) {
    progress = false;
    auto groups = spec.shrink_groups(h);
    std::sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
    for (const auto& g : groups) {
      std::vector<bool> drop(h.size(), false);
      for (std::size_t i : g) drop[i] = true;
      history smaller;
      for (std::size_t i = 0; i < h.size(); ++i) {
        if (!drop[i]) smaller.push_back(h[i]);
      }
      if (!smaller.empty() && check(spec, smaller, opt).outcome == verdict::not_linearizable) {
        h = std::move(smaller);
        progress = true;
        break;  // the groups' indices refer to the old history
      }
    }
  }
  return compact(std::move(h));
}

inline std::size_t thread_count(const history& h) {
  std::set<std::uint32_t> t;
  for (const auto& o : h) t.insert(o.thread);
  return t.size();
}

// One row per event in stamp order, one column per thread:
//     0 | push(1)          |                  |
//     1 | :                | pop()            |
//     2 | -> ok            | :                |
//     3 |                  | -> empty         |
// ":" marks an operation in flight.
template <class Spec>
std::string timeline(const Spec& spec, const history& h) {
  std::uint32_t threads = 0;
  for (const auto& o : h) threads = std::max(threads, o.thread + 1);
  struct event {
    std::uint64_t stamp;
    bool call;
    std::size_t op;
  };
  std::vector<event> events;
  for (std::size_t i = 0; i < h.size(); ++i) {
    events.push_back({h[i].call, true, i});
    events.push_back({h[i].ret, false, i});
  }
  std::sort(events.begin(), events.end(), [](const event& a, const event& b) {
    return a.stamp != b.stamp ? a.stamp < b.stamp : a.call && !b.call;
  });
  constexpr std::size_t width = 18;
  auto cell = [&](std::string s) {
    if (s.size() > width) s.resize(width);
    return s + std::string(width - s.size(), ' ');
  };
  std::ostringstream out;
  out << "  time";
  for (std::uint32_t t = 0; t < threads; ++t) out << " | " << cell("thread " + std::to_string(t));
  out << '\n';
  std::vector<bool> in_flight(threads, false);
  for (const event& e : events) {
    const operation& o = h[e.op];
    out << std::setw(6) << e.stamp;
    for (std::uint32_t t = 0; t < threads; ++t) {
      std::string text;
      if (t == o.thread) {
        text = e.call ? spec.call_text(o) : "-> " + spec.result_text(o);
      } else if (in_flight[t]) {
        text = ":";
      }
      out << " | " << cell(text);
    }
    out << '\n';
    in_flight[o.thread] = e.call;
  }
  return out.str();
}

inline std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// {"spec": ..., "verdict": ..., "operations": [{"thread", "call", "return", "op", "arg",
// "arg2", "result", "text"}]} — `kind`, `arg`, `arg2` and `result` are the raw fields,
// `text` the specification's reading of them.
template <class Spec>
std::string to_json(const Spec& spec, const history& h, verdict v) {
  std::ostringstream out;
  out << "{\n  \"spec\": \"" << json_escape(spec.name()) << "\",\n  \"verdict\": \"" << to_string(v)
      << "\",\n  \"threads\": " << thread_count(h) << ",\n  \"operations\": [";
  for (std::size_t i = 0; i < h.size(); ++i) {
    const operation& o = h[i];
    out << (i == 0 ? "\n" : ",\n") << "    {\"thread\": " << o.thread << ", \"call\": " << o.call
        << ", \"return\": " << o.ret << ", \"kind\": " << o.kind << ", \"arg\": " << o.arg << ", \"arg2\": " << o.arg2
        << ", \"result\": " << o.result << ", \"text\": \""
        << json_escape(spec.call_text(o) + " -> " + spec.result_text(o)) << "\"}";
  }
  out << "\n  ]\n}\n";
  return out.str();
}

// The report of a failing history: shrunk, as a timeline, with the longest linearizable
// prefix the search found; the shrunk history is written as JSON to `json_path` (if not
// empty). Returns the text.
template <class Spec>
std::string explain(const Spec& spec, const history& failing, const std::string& json_path = {},
                    check_options opt = {}) {
  const history small = shrink(spec, failing, opt);
  const check_result r = check(spec, small, opt);
  std::ostringstream out;
  out << "lf::lincheck: history " << to_string(r.outcome) << " against " << spec.name() << "\n  shrunk from "
      << failing.size() << " operations on " << thread_count(failing) << " threads to " << small.size()
      << " operations on " << thread_count(small) << " threads";
  if (r.failed_part.size() != small.size()) out << " (the failing key's part: " << r.failed_part.size() << ")";
  out << "\n" << timeline(spec, r.failed_part.empty() ? small : r.failed_part);
  out << "  longest linearizable prefix found:";
  if (r.longest_prefix.empty()) out << " (none)";
  for (std::size_t i : r.longest_prefix) {
    const operation& o = r.failed_part[i];
    out << " [t" << o.thread << " " << spec.call_text(o) << " -> " << spec.result_text(o) << "]";
  }
  out << "\n  no operation can take effect next.\n";
  if (!json_path.empty()) {
    std::ofstream(json_path) << to_json(spec, small, r.outcome);
    out << "  history written to " << json_path << "\n";
  }
  return out.str();
}

}  // namespace lf::lincheck
