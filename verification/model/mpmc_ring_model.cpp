// Model lane for lockfree/mpmc_ring.hpp, built from the shipped header through the seam.
//
// Searches and why they suffice: an unordered hand-off through a slot's sequence
// number is a DATA RACE on the slot's cell as soon as the other side touches the slot,
// so one preemption at the wrong point exposes it; a random search of 20'000 schedules
// over a 2-slot ring (every push and pop crosses a full or empty boundary) kills every
// ordering mutant within its first few hundred iterations. The capacity mutant (one
// slot) needs a producer to lap a consumer: 2 producers and 1 consumer on a 2-slot
// ring produce that in most schedules. Three threads keep the search cheap while still
// having two threads race for the same counter, which is where the CASes matter.
#include <optional>

#include "lockfree/mpmc_ring.hpp"
#include "sync/thread.hpp"
#include "verification/model/model_driver.hpp"

namespace {

constexpr int per_thread = 2;

// Two producers push p*10+1, p*10+2; one consumer pops all four and checks exactly-once
// delivery and each producer's FIFO order.
struct two_producers_one_consumer : rl::test_suite<two_producers_one_consumer, 3> {
  std::optional<lf::mpmc_ring<int>> q;

  void before() { q.emplace(2); }
  void after() { q.reset(); }

  void thread(unsigned index) {
    if (index < 2) {
      const int base = static_cast<int>(index) * 10;
      for (int i = 1; i <= per_thread; ++i) {
        while (!q->try_push(base + i)) lf::spin_pause();
      }
    } else {
      int last[2] = {0, 0};
      for (int n = 0; n < 2 * per_thread; ++n) {
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

// A ring asked for one slot: two producers and a consumer as above. The ring must round
// the request up to two slots (with one, a full slot and a free one look alike).
struct one_slot_request : two_producers_one_consumer {
  void before() { q.emplace(1); }
};

// One producer pushes 1..4; two consumers pop two each. Each consumer sees increasing
// values, and together they see each value once.
struct one_producer_two_consumers : rl::test_suite<one_producer_two_consumers, 3> {
  std::optional<lf::mpmc_ring<int>> q;
  int seen[2][per_thread] = {};

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
      for (int i = 1; i <= 2 * per_thread; ++i) {
        while (!q->try_push(i)) lf::spin_pause();
      }
    } else {
      for (int n = 0; n < per_thread; ++n) {
        std::optional<int> v;
        while (!(v = q->try_pop())) lf::spin_pause();
        seen[index - 1][n] = *v;
      }
    }
  }
};

// One producer, one consumer, five elements through two slots: two full laps.
struct wraparound : rl::test_suite<wraparound, 2> {
  std::optional<lf::mpmc_ring<int>> q;

  void before() { q.emplace(2); }
  void after() { q.reset(); }

  void thread(unsigned index) {
    if (index == 0) {
      for (int i = 1; i <= 5; ++i) {
        while (!q->try_push(i)) lf::spin_pause();
      }
    } else {
      for (int i = 1; i <= 5; ++i) {
        std::optional<int> v;
        while (!(v = q->try_pop())) lf::spin_pause();
        RL_ASSERT(*v == i);
      }
    }
  }
};

// Specified behaviour, shown reachable: producer A claims position 0 and is preempted
// before publishing; producer B publishes position 1; a consumer's try_pop then reports
// empty although B's element is inside. RL_UNTIL stops the search at the first such
// schedule, and the case passes only if the search reaches it.
struct empty_behind_slow_producer
    : rl::test_suite<empty_behind_slow_producer, 3, rl::test_result_until_condition_hit> {
  std::optional<lf::mpmc_ring<int>> q;
  lf::atomic<int> b_done{0};

  void before() { q.emplace(4); }
  void after() { q.reset(); }

  void thread(unsigned index) {
    if (index == 0) {
      (void)q->try_push(1);
    } else if (index == 1) {
      (void)q->try_push(2);
      b_done.store(1, std::memory_order_release);
    } else {
      if (b_done.load(std::memory_order_acquire) == 1) {
        const bool empty = !q->try_pop().has_value();
        RL_UNTIL(empty && q->size_approx() == 2);
      }
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  using lf::model::search;
  return lf::model::run_cases(argc, argv,
                              {
                                  LF_MODEL_CASE("two_producers_one_consumer", search::random(20000), two_producers_one_consumer),
                                  LF_MODEL_CASE("one_slot_request", search::random(20000), one_slot_request),
                                  LF_MODEL_CASE("one_producer_two_consumers", search::random(20000), one_producer_two_consumers),
                                  LF_MODEL_CASE("wraparound", search::random(20000), wraparound),
                                  LF_MODEL_CASE("wraparound_bound2", search::bounded(2), wraparound),
                                  LF_MODEL_CASE("empty_behind_slow_producer", search::random(20000), empty_behind_slow_producer),
                              });
}
