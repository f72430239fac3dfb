// Model lane for lockfree/scq_ring.hpp and its index ring (lockfree/detail/scq_indices.hpp),
// built from the shipped headers through the seam.
//
// Searches and why they suffice. The ring cases use capacity 2 (two slots, index rings of
// four entries), so every few operations a position laps its entries and meets an older
// cycle: entries are advanced, marked unsafe and consumed all the time. An unordered
// hand-off of a slot is a DATA RACE on the slot's cell as soon as the other side touches
// it, which one preemption exposes; 20'000 random schedules kill the publication mutant
// in its first iterations. tail_head_cross_three_threads (one pusher, two poppers, the tail
// and head crossing on an empty ring) runs 150'000 random schedules (DESIGN §2: ~10^5 find
// a two-preemption bug in a case this size). The unsafe-bit schedule needs a popper to lap
// a stalled popper and a pusher to stall between its fetch-and-add and its read of the
// entry; in that case's shape it takes three preemptions (an exhaustive bound of 3 there
// runs 40 million schedules, about five minutes), and random schedules miss it.
// popper_laps_a_slow_popper reshapes it so that two preemptions reach it (the slow popper
// after its fetch-and-add of head; the pusher after its last fetch-and-add of tail; the rest
// runs in order) and searches every schedule with at most two preemptions exhaustively:
// ~950'000 schedules, about 5 s here. It kills both halves of the unsafe protocol
// (verification/mutants/scq_ring.cmake).
// not_empty_behind_slow_producer mirrors mpmc_ring_model's empty_behind_slow_producer:
// there the schedule in which a stalled producer makes mpmc_ring report empty is shown
// reachable; here the same schedule is asserted not to make scq_ring report empty. It runs
// 50'000 random schedules and, as _bounded, every schedule with one preemption (~500'000,
// about 3 s): the losing schedules need only one (producer A stopped between its
// fetch-and-add of tail and its entry's CAS; B and then the consumer run to the end), but a
// random search must also keep A off the processor for all of B's steps and rarely does:
// the random search alone missed a pop that reports empty one position early (mutant
// scq_empty_check_off_by_one), the bounded one catches it within ~2'000 schedules.
#include <optional>

#include "lockfree/detail/scq_indices.hpp"
#include "lockfree/scq_ring.hpp"
#include "sync/thread.hpp"
#include "verification/model/model_driver.hpp"

namespace {

// What the index-ring cases saw: each pop's index (-1: empty) per thread, then a drain of
// what is left; counts each index into `seen`. With `fifo`, each thread's pops must come
// out in increasing order (the cases enqueue in increasing order and push nothing back).
template <std::size_t Rows, std::size_t Cols>
void count_indices(lf::detail::scq_indices& r, const std::int64_t (&got)[Rows][Cols], bool fifo, int (&seen)[2]) {
  for (auto& g : got) {
    std::int64_t last = -1;
    for (std::int64_t v : g) {
      if (v < 0) continue;
      ++seen[v];
      RL_ASSERT(!fifo || v > last);
      last = v;
    }
  }
  for (std::int64_t v; (v = r.dequeue()) >= 0;) ++seen[v];
}

// Two producers push p*10+1, p*10+2 (retrying while full); one consumer pops all four
// and checks exactly-once delivery and each producer's FIFO order.
struct two_producers_one_consumer : rl::test_suite<two_producers_one_consumer, 3> {
  std::optional<lf::scq_ring<int>> q;
  void before() { q.emplace(2); }
  void after() {
    RL_ASSERT(!q->try_pop().has_value());
    q.reset();
  }
  void thread(unsigned index) {
    if (index < 2) {
      const int base = static_cast<int>(index) * 10;
      for (int i = 1; i <= 2; ++i) {
        while (!q->try_push(base + i)) lf::spin_pause();
      }
    } else {
      int last[2] = {0, 0};
      for (int n = 0; n < 4; ++n) {
        std::optional<int> v;
        while (!(v = q->try_pop())) lf::spin_pause();
        const int producer = *v / 10, seq = *v % 10;
        RL_ASSERT(producer == 0 || producer == 1);
        RL_ASSERT(seq == last[producer] + 1);  // per-producer FIFO, nothing lost or doubled
        last[producer] = seq;
      }
    }
  }
};

// One producer pushes 1..4; two consumers pop two each: each sees increasing values, and
// together they see each value once.
struct one_producer_two_consumers : rl::test_suite<one_producer_two_consumers, 3> {
  std::optional<lf::scq_ring<int>> q;
  int seen[2][2] = {};
  void before() { q.emplace(2); }
  void after() {
    int mask = 0;
    for (auto& c : seen) {
      RL_ASSERT(c[0] < c[1]);
      for (int v : c) mask |= 1 << v;
    }
    RL_ASSERT(mask == 0b11110);
    q.reset();
  }
  void thread(unsigned index) {
    if (index == 0) {
      for (int i = 1; i <= 4; ++i) {
        while (!q->try_push(i)) lf::spin_pause();
      }
    } else {
      for (int n = 0; n < 2; ++n) {
        std::optional<int> v;
        while (!(v = q->try_pop())) lf::spin_pause();
        seen[index - 1][n] = *v;
      }
    }
  }
};

// The schedule of mpmc_ring_model's empty_behind_slow_producer: producer A may stall
// anywhere inside its push; producer B completes its push; a consumer that saw B done
// must not find the ring empty (B's value is inside whatever A does).
struct not_empty_behind_slow_producer : rl::test_suite<not_empty_behind_slow_producer, 3> {
  std::optional<lf::scq_ring<int>> q;
  lf::atomic<int> b_done{0};
  void before() { q.emplace(4); }
  void after() { q.reset(); }
  void thread(unsigned index) {
    if (index == 0) {
      (void)q->try_push(1);
    } else if (index == 1) {
      (void)q->try_push(2);
      b_done.store(1, std::memory_order_release);
    } else if (b_done.load(std::memory_order_acquire) == 1) {
      RL_ASSERT(q->try_pop().has_value());
    }
  }
};

// The index ring alone, n = 2 (four entries), holding index 0; thread 0 enqueues 1; thread 1
// dequeues once and may stall anywhere in it; thread 2 dequeues four times, running ahead
// of the pusher (head crosses tail, catch_up), so that it may reach the next cycle of the
// entry holding index 0 while thread 1, the popper of that index, is stalled: thread 2
// then clears the entry's safe bit, and the pusher must not enter that entry at a position
// thread 2 has passed (three preemptions here; popper_laps_a_slow_popper reaches the same
// loss in two). Every index comes out once, in order per popper.
struct tail_head_cross_three_threads : rl::test_suite<tail_head_cross_three_threads, 3> {
  std::optional<lf::detail::scq_indices> r;
  std::int64_t got[3][4] = {{-1, -1, -1, -1}, {-1, -1, -1, -1}, {-1, -1, -1, -1}};
  void before() {
    r.emplace(2);
    r->enqueue(0);
  }
  void after() {
    int seen[2] = {0, 0};
    count_indices(*r, got, true, seen);  // FIFO: 0 was enqueued first
    RL_ASSERT(seen[0] == 1 && seen[1] == 1);
    r.reset();
  }
  void thread(unsigned index) {
    if (index == 0) {
      r->enqueue(1);
    } else {
      for (int i = 0; i < (index == 1 ? 1 : 4); ++i) got[index][i] = r->dequeue();
    }
  }
};

// The unsafe-bit schedule (Nikolaev 2019 §5: the safe bit), on the index ring alone, n = 2
// (four entries; positions 4..7 are cycle 1, 8..11 cycle 2), holding index 0 at position 4
// and index 1 at position 5. Thread 0, the slow popper, takes position 4 and may stall
// before it reads the entry. Thread 1 pops and pushes back what it got, three times: it
// takes index 1 at positions 5, 6 and 7 while pushing it to 6, 7 and 8, and may stall after
// taking position 8 from tail. Thread 2 pops once: at position 8 it meets index 0 of cycle
// 1, which nobody has taken yet, clears the entry's safe bit and reports empty. Thread 0
// then takes index 0, leaving the entry free but unsafe, and thread 1 reads it: it must not
// enter (head is 9 > 8, (S5)), or its index sits at a position every popper has passed:
// lost, and the drain in after() does not find it. Every index comes out as many times as
// it went in. (The slow popper is thread 0 because the search starts with thread 0: the
// mutants are then caught within ~10'000 schedules instead of ~450'000.)
struct popper_laps_a_slow_popper : rl::test_suite<popper_laps_a_slow_popper, 3> {
  std::optional<lf::detail::scq_indices> r;
  std::int64_t got[3][3] = {{-1, -1, -1}, {-1, -1, -1}, {-1, -1, -1}};
  int pushed[2] = {0, 0};  // thread 1's pushes back
  void before() {
    r.emplace(2);
    r->enqueue(0);
    r->enqueue(1);
  }
  void after() {
    int seen[2] = {0, 0};
    count_indices(*r, got, false, seen);  // thread 1 pushes back: no order across its pops
    RL_ASSERT(seen[0] == 1 + pushed[0] && seen[1] == 1 + pushed[1]);  // none lost or doubled
    r.reset();
  }
  void thread(unsigned index) {
    if (index == 1) {
      for (int i = 0; i < 3; ++i) {
        got[1][i] = r->dequeue();
        if (got[1][i] < 0) continue;
        ++pushed[got[1][i]];
        r->enqueue(static_cast<std::uint64_t>(got[1][i]));
      }
    } else {
      got[index][0] = r->dequeue();
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  using lf::model::search;
  return lf::model::run_cases(argc, argv,
                              {
                                  LF_MODEL_CASE("two_producers_one_consumer", search::random(20000), two_producers_one_consumer),
                                  LF_MODEL_CASE("one_producer_two_consumers", search::random(20000), one_producer_two_consumers),
                                  LF_MODEL_CASE("not_empty_behind_slow_producer", search::random(50000), not_empty_behind_slow_producer),
                                  LF_MODEL_CASE("not_empty_behind_slow_producer_bounded", search::bounded(1), not_empty_behind_slow_producer),
                                  LF_MODEL_CASE("tail_head_cross_three_threads", search::random(150000), tail_head_cross_three_threads),
                                  LF_MODEL_CASE("popper_laps_a_slow_popper", search::bounded(2), popper_laps_a_slow_popper),
                              });
}
