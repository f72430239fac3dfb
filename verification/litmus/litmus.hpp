// lf litmus lane — an exhaustive checker of small straight-line programs against the
// C++ memory model, for the patterns the Relacy lane cannot judge (papers/
// model-checker-blind-spots.md):
//   - a load that reads a store which comes later in the schedule (load buffering):
//     Relacy executes threads one step at a time and a load only ever reads a store
//     already made, so an order that exists to forbid such a read is invisible to it;
//   - release sequences: Relacy implements C++11's, which run on through later plain
//     stores of the releasing thread; C++20 (P0982) cut them back to read-modify-writes.
//
// The method is herd's and CDSChecker's axiomatic one, cut down to what these patterns
// use. A program is a few threads of atomic loads, stores and read-modify-writes
// (relaxed, acquire, release, acq_rel), fences (acquire, release, acq_rel) and plain
// (non-atomic) reads and writes. Every candidate execution is enumerated: a
// reads-from choice for every read and a modification order for every location. A
// candidate is kept if it is consistent:
//   - happens-before, (sequenced-before ∪ synchronizes-with)+, is acyclic;
//   - coherence: no hb ; eco cycle on a location (CoWW, CoWR, CoRW, CoRR);
//   - atomicity: a read-modify-write reads the store just before it in modification order;
//   - every read's value is the one the test assumes for it (a filter, as herd's "exists").
// synchronizes-with follows [atomics.order] and [atomics.fences]: a release store, or a
// release fence before any store, heads a release sequence; an acquire load, or a relaxed
// load before an acquire fence, that reads from that sequence synchronizes with its head.
// The release sequence is C++20's (the head and the read-modify-writes that follow it)
// or, on request, C++11's (also the head thread's later stores), to show what Relacy sees.
// No out-of-thin-air axiom is applied: the C++ standard has none (only a "should" note),
// so load buffering is allowed, as on ARM and POWER hardware. seq_cst is not modelled
// (the checker refuses it): the patterns here involve none.
//
// A data race is two plain accesses to one location from different threads, one a
// write, that happen-before does not order. A case asks whether some consistent
// execution has a race, or some outcome.
#pragma once

#include <algorithm>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <vector>

namespace lf::litmus {

enum class order { relaxed, acquire, release, acq_rel };
enum class kind { load, store, rmw, fence, plain_read, plain_write };
enum class release_rule { cxx20, cxx11 };

// One operation. `value`: the value a store or rmw writes. `reads`: the value a load or
// rmw is assumed to read (-1: any); executions where it reads another value are dropped.
struct op {
  kind k;
  int loc = 0;
  order mo = order::relaxed;
  int value = 0;
  int reads = -1;
};

inline op load(int loc, order mo, int reads = -1) { return {kind::load, loc, mo, 0, reads}; }
inline op store(int loc, int value, order mo) { return {kind::store, loc, mo, value, -1}; }
inline op rmw(int loc, int reads, int value, order mo) { return {kind::rmw, loc, mo, value, reads}; }
inline op fence(order mo) { return {kind::fence, 0, mo, 0, -1}; }
inline op plain_read(int loc) { return {kind::plain_read, loc, order::relaxed, 0, -1}; }
inline op plain_write(int loc) { return {kind::plain_write, loc, order::relaxed, 0, -1}; }

struct program {
  int locations = 1;  // every location starts at 0, written by an initial store
  std::vector<std::vector<op>> threads;
};

// One consistent execution, for outcome predicates: what each read read.
struct execution {
  std::vector<std::vector<int>> read_value;  // [thread][op index]; -1 where no read
  bool race = false;
};

class checker {
 public:
  checker(const program& p, release_rule rule) : p_(p), rule_(rule) {
    for (int t = 0; t < static_cast<int>(p.threads.size()); ++t) {
      for (int i = 0; i < static_cast<int>(p.threads[t].size()); ++i) {
        const op& o = p.threads[t][i];
        if (o.k == kind::fence && (o.mo == order::relaxed)) throw std::invalid_argument("litmus: a relaxed fence");
        events_.push_back({t, i, o});
      }
    }
    // Initial stores, one per location: thread -1, happen before everything.
    if (p.locations > max_locations) throw std::invalid_argument("litmus: too many locations");
    for (int l = 0; l < p.locations; ++l) events_.push_back({-1, l, store(l, 0, order::relaxed)});
    n_ = static_cast<int>(events_.size());
    for (int e = 0; e < n_; ++e) {
      if (writes(e)) writes_of_[loc(e)].push_back(e);
      if (reads(e)) reads_.push_back(e);
    }
  }

  // Calls `visit` with every consistent execution; returns how many there were.
  long for_each(const std::function<void(const execution&)>& visit) {
    rf_.assign(n_, -1);
    mo_pos_.assign(n_, -1);
    count_ = 0;
    visit_ = &visit;
    choose_mo(0);
    return count_;
  }

 private:
  struct event {
    int thread;
    int index;
    op o;
  };
  bool writes(int e) const {
    const kind k = events_[e].o.k;
    return k == kind::store || k == kind::rmw || k == kind::plain_write;
  }
  bool reads(int e) const {
    const kind k = events_[e].o.k;
    return k == kind::load || k == kind::rmw || k == kind::plain_read;
  }
  bool plain(int e) const { return events_[e].o.k == kind::plain_read || events_[e].o.k == kind::plain_write; }
  int loc(int e) const { return events_[e].o.loc; }
  int written(int e) const { return events_[e].o.value; }
  bool is_release(int e) const { return events_[e].o.mo == order::release || events_[e].o.mo == order::acq_rel; }
  bool is_acquire(int e) const { return events_[e].o.mo == order::acquire || events_[e].o.mo == order::acq_rel; }
  bool sb(int a, int b) const {
    const event &x = events_[a], &y = events_[b];
    return x.thread >= 0 && x.thread == y.thread && x.index < y.index;
  }

  // Modification orders, one location at a time (the initial store first).
  void choose_mo(int l) {
    if (l == p_.locations) {
      choose_rf(0);
      return;
    }
    // Plain writes take part in coherence too; the initial store stays first.
    std::vector<int> ws = writes_of_[l];
    std::iter_swap(ws.begin(), std::find_if(ws.begin(), ws.end(), [&](int e) { return events_[e].thread < 0; }));
    std::sort(ws.begin() + 1, ws.end());
    do {
      for (int i = 0; i < static_cast<int>(ws.size()); ++i) mo_pos_[ws[i]] = i;
      choose_mo(l + 1);
    } while (std::next_permutation(ws.begin() + 1, ws.end()));
  }

  void choose_rf(int i) {
    if (i == static_cast<int>(reads_.size())) {
      check();
      return;
    }
    const int r = reads_[i];
    for (int w : writes_of_[loc(r)]) {
      if (w == r) continue;
      if (events_[r].o.reads >= 0 && written(w) != events_[r].o.reads) continue;
      rf_[r] = w;
      choose_rf(i + 1);
    }
    rf_[r] = -1;
  }

  // Is w in the release sequence headed by head (both on one location)?
  bool in_release_sequence(int head, int w) const {
    if (mo_pos_[w] < mo_pos_[head]) return false;
    for (int x : writes_of_[loc(head)]) {
      if (mo_pos_[x] <= mo_pos_[head] || mo_pos_[x] > mo_pos_[w]) continue;
      const bool continues = events_[x].o.k == kind::rmw ||
                             (rule_ == release_rule::cxx11 && events_[x].thread == events_[head].thread);
      if (!continues) return false;
    }
    return true;
  }

  void check() {
    // happens-before: sb, the initial stores, synchronizes-with; then the closure.
    std::vector<std::vector<char>> hb(n_, std::vector<char>(n_, 0));
    for (int a = 0; a < n_; ++a) {
      for (int b = 0; b < n_; ++b) {
        if (a == b) continue;
        if (sb(a, b) || (events_[a].thread < 0 && events_[b].thread >= 0)) hb[a][b] = 1;
      }
    }
    for (int r : reads_) {
      if (plain(r)) continue;
      const int w = rf_[r];
      // the release side: a release write heading a sequence that holds w, or a release
      // fence sequenced before a write heading (hypothetically) such a sequence
      std::vector<int> releasers;
      for (int head : writes_of_[loc(r)]) {
        if (plain(head) || events_[head].thread < 0 || !in_release_sequence(head, w)) continue;
        if (is_release(head)) releasers.push_back(head);
        for (int f = 0; f < n_; ++f) {
          if (events_[f].o.k == kind::fence && is_release(f) && sb(f, head)) releasers.push_back(f);
        }
      }
      // the acquire side: r itself, or an acquire fence sequenced after it
      std::vector<int> acquirers;
      if (is_acquire(r)) acquirers.push_back(r);
      for (int f = 0; f < n_; ++f) {
        if (events_[f].o.k == kind::fence && is_acquire(f) && sb(r, f)) acquirers.push_back(f);
      }
      for (int a : releasers) {
        for (int b : acquirers) {
          if (events_[a].thread != events_[b].thread) hb[a][b] = 1;
        }
      }
    }
    for (int k = 0; k < n_; ++k) {
      for (int a = 0; a < n_; ++a) {
        if (!hb[a][k]) continue;
        for (int b = 0; b < n_; ++b) {
          if (hb[k][b]) hb[a][b] = 1;
        }
      }
    }
    for (int a = 0; a < n_; ++a) {
      if (hb[a][a]) return;  // cyclic
    }
    // atomicity, and a read never reads from a write it happens before
    for (int r : reads_) {
      const int w = rf_[r];
      if (hb[r][w]) return;
      if (events_[r].o.k == kind::rmw && mo_pos_[r] != mo_pos_[w] + 1) return;
    }
    // coherence
    for (int a = 0; a < n_; ++a) {
      for (int b = 0; b < n_; ++b) {
        if (!hb[a][b] || loc(a) != loc(b) || events_[a].o.k == kind::fence || events_[b].o.k == kind::fence) continue;
        const int wa = writes(a) ? a : rf_[a];  // the write a is, or reads from (for CoRR/CoRW)
        if (writes(a) && writes(b) && mo_pos_[a] >= mo_pos_[b]) return;                   // CoWW
        if (writes(a) && reads(b) && !writes(b) && mo_pos_[rf_[b]] < mo_pos_[a]) return;  // CoWR
        if (reads(a) && !writes(a) && writes(b) && mo_pos_[wa] >= mo_pos_[b]) return;     // CoRW
        if (reads(a) && !writes(a) && reads(b) && !writes(b) && mo_pos_[rf_[b]] < mo_pos_[wa]) return;  // CoRR
      }
    }
    execution x;
    x.read_value.resize(p_.threads.size());
    for (int t = 0; t < static_cast<int>(p_.threads.size()); ++t) x.read_value[t].assign(p_.threads[t].size(), -1);
    for (int r : reads_) x.read_value[events_[r].thread][events_[r].index] = written(rf_[r]);
    for (int a = 0; a < n_ && !x.race; ++a) {
      for (int b = a + 1; b < n_; ++b) {
        if (!plain(a) || !plain(b) || loc(a) != loc(b) || events_[a].thread == events_[b].thread) continue;
        if (!writes(a) && !writes(b)) continue;
        if (!hb[a][b] && !hb[b][a]) {
          x.race = true;
          break;
        }
      }
    }
    ++count_;
    (*visit_)(x);
  }

  const program& p_;
  release_rule rule_;
  std::vector<event> events_;
  int n_ = 0;
  static constexpr int max_locations = 8;
  std::vector<std::vector<int>> writes_of_ = std::vector<std::vector<int>>(max_locations);
  std::vector<int> reads_;
  std::vector<int> rf_, mo_pos_;
  long count_ = 0;
  const std::function<void(const execution&)>* visit_ = nullptr;
};

// Does some consistent execution satisfy `pred`? Prints the answer with the case's name.
inline bool reachable(const char* name, const program& p, release_rule rule,
                      const std::function<bool(const execution&)>& pred) {
  bool found = false;
  checker c(p, rule);
  const long n = c.for_each([&](const execution& x) { found = found || pred(x); });
  std::printf("litmus: %-58s %s, %ld consistent executions: %s\n", name, rule == release_rule::cxx20 ? "C++20" : "C++11",
              n, found ? "reachable" : "forbidden");
  if (n == 0) throw std::logic_error("litmus: a program with no consistent execution checks nothing");
  return found;
}

}  // namespace lf::litmus
