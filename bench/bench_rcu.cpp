// RCU class: lf::rcu_domain against liburcu's flavours (urcu-memb, urcu-qsbr, urcu-bp),
// the reader-writer lock RCU replaces (std::shared_mutex, shared side), and a floor with
// no read-side bracket at all. The peers are urcu-memb and urcu-bp, whose readers, like
// lf's, need do nothing outside their critical sections. urcu-qsbr's readers must announce
// quiescent states and go offline before they block, a contract lf does not ask: it is
// named baseline:: (the floor it is in papers/desnoyers-2012-user-level-rcu.md), so that
// report.py measures lf against the flavours that share its contract. Workloads:
//   rcu_read_1thread     one reader: Sections times { lock; load the published pointer,
//                        acquire; add its value; unlock }. ns_per_section (wall clock)
//                        and cpu_ns_per_section (the reader's own CPU time).
//   rcu_read_2threads    the same on two readers at once, one per CPU; ns_per_section is
//                        each reader's (wall time / its sections).
//   rcu_synchronize_1idle  one thread calls synchronize Calls times while one other
//                        registered reader sleeps outside any critical section (for
//                        QSBR: offline, as its contract requires of a blocked thread).
//                        us_per_synchronize, cpu_us_per_synchronize (the
//                        synchronizer's CPU time, system calls included).
// What every run checks before it reports: each reader's sum is sections * the published
// value (every section read the object), and the synchronizer completed every call. The
// smoke runs 1/1000 of Sections and Calls (workloads.hpp's count()).
//
// liburcu is used as its documentation recommends for speed: _LGPL_SOURCE, so the read
// side is inlined from urcu/static/*.h; each reader thread registers (bp registers itself
// at its first lock). Its memb and bp flavours use membarrier when the kernel has it,
// as lf does; the JSON context records what each one found.
#define _LGPL_SOURCE 1
#include <urcu/urcu-bp.h>
#include <urcu/urcu-memb.h>
#include <urcu/urcu-qsbr.h>

#include <time.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "rcu/rcu.hpp"
#include "sync/asymmetric_fence.hpp"
#include "sync/atomic.hpp"
#include "workloads.hpp"

namespace lf_bench {
namespace {

constexpr std::uint64_t full_sections = 20'000'000;  // each run: count(full_sections)
constexpr std::uint64_t synchronize_calls = 10'000;
constexpr std::uint64_t published_value = 3;
// QSBR readers announce a quiescent state once per this many sections (its read lock and
// unlock are no-ops; the announcement is what a QSBR reader pays).
constexpr std::uint64_t qsbr_period = 64;

struct payload {
  std::uint64_t value = published_value;
};

// ---- one adapter per flavour: what a reader thread and a writer call -----------------
// thread_start / thread_stop: a reader thread's registration (outside the timed loop's
// sections, inside the run); lock / unlock / after_section: the read side; idle /
// resume: what a registered reader does around a long sleep; synchronize.

struct lf_rcu {
  static constexpr const char* name = "lf::rcu_domain";
  lf::rcu_domain domain;
  void thread_start() {}
  void thread_stop() {}
  void lock() { domain.lock(); }
  void unlock() { domain.unlock(); }
  void after_section(std::uint64_t) {}
  void idle() {
    domain.lock();  // enrols this thread's record, so every grace period reads it
    domain.unlock();
  }
  void resume() {}
  void synchronize() { lf::rcu_synchronize(domain); }
};

struct urcu_memb {
  static constexpr const char* name = "urcu-memb";
  void thread_start() { urcu_memb_register_thread(); }
  void thread_stop() { urcu_memb_unregister_thread(); }
  void lock() { urcu_memb_read_lock(); }
  void unlock() { urcu_memb_read_unlock(); }
  void after_section(std::uint64_t) {}
  void idle() {}
  void resume() {}
  void synchronize() { urcu_memb_synchronize_rcu(); }
};

struct urcu_qsbr {
  static constexpr const char* name = "baseline::urcu-qsbr (quiescent state every 64 sections)";
  void thread_start() { urcu_qsbr_register_thread(); }
  void thread_stop() { urcu_qsbr_unregister_thread(); }
  void lock() { urcu_qsbr_read_lock(); }
  void unlock() { urcu_qsbr_read_unlock(); }
  void after_section(std::uint64_t i) {
    if (i % qsbr_period == 0) urcu_qsbr_quiescent_state();
  }
  void idle() { urcu_qsbr_thread_offline(); }
  void resume() { urcu_qsbr_thread_online(); }
  void synchronize() { urcu_qsbr_synchronize_rcu(); }
};

struct urcu_bp {
  static constexpr const char* name = "urcu-bp";
  void thread_start() { urcu_bp_register_thread(); }
  void thread_stop() {}  // bp unregisters at thread exit
  void lock() { urcu_bp_read_lock(); }
  void unlock() { urcu_bp_read_unlock(); }
  void after_section(std::uint64_t) {}
  void idle() {}
  void resume() {}
  void synchronize() { urcu_bp_synchronize_rcu(); }
};

// What RCU replaces: a reader-writer lock, its shared side around each section (the
// paper's comparison: "an order of magnitude faster than uncontended locking").
struct rwlock_reader {
  static constexpr const char* name = "baseline::std::shared_mutex";
  std::shared_mutex mutex;
  void thread_start() {}
  void thread_stop() {}
  void lock() { mutex.lock_shared(); }
  void unlock() { mutex.unlock_shared(); }
  void after_section(std::uint64_t) {}
  void idle() {}
  void resume() {}
  void synchronize() {}
};

// The floor: the same loop with no read-side bracket (not safe; a yardstick).
struct no_bracket {
  static constexpr const char* name = "baseline::no_read_side";
  void thread_start() {}
  void thread_stop() {}
  void lock() {}
  void unlock() {}
  void after_section(std::uint64_t) {}
  void idle() {}
  void resume() {}
  void synchronize() {}
};

// CPU time of the calling thread (user + system), in seconds. On a shared machine a
// thread preempted by an unrelated process loses wall time but not CPU time, so the
// cpu_* counters stay comparable when the wall-clock figures scatter.
double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// One reader's loop; returns the sum of what it read.
template <class F>
std::uint64_t read_sections(F& flavour, const lf::atomic<payload*>& src, std::uint64_t sections) {
  flavour.thread_start();
  std::uint64_t sum = 0;
  for (std::uint64_t i = 1; i <= sections; ++i) {
    flavour.lock();
    // acquire: pairs with the publication of the payload (a writer's release store).
    sum += src.load(std::memory_order_acquire)->value;
    flavour.unlock();
    flavour.after_section(i);
  }
  flavour.thread_stop();
  return sum;
}

template <class F, unsigned Readers>
void read_side(benchmark::State& state, std::uint64_t sections) {
  for (auto _ : state) {
    const auto flavour = std::make_unique<F>();
    const auto obj = std::make_unique<payload>();
    lf::atomic<payload*> src{obj.get()};
    std::vector<lf::padded<std::uint64_t>> sums(Readers);
    std::vector<lf::padded<double>> cpu(Readers);
    std::vector<std::function<void()>> roles;
    for (unsigned r = 0; r < Readers; ++r) {
      roles.emplace_back([&, r] {
        const double start = thread_cpu_seconds();
        sums[r].value = read_sections(*flavour, src, sections);
        cpu[r].value = thread_cpu_seconds() - start;
      });
    }
    const double seconds = run_together(roles);
    for (const auto& s : sums) {
      if (s.value != sections * published_value) {
        state.SkipWithError(("a reader summed " + std::to_string(s.value) + ", expected " +
                             std::to_string(sections * published_value))
                                .c_str());
        return;
      }
    }
    double cpu_seconds = 0;
    for (const auto& c : cpu) cpu_seconds += c.value / Readers;
    state.SetIterationTime(seconds);
    state.counters["ns_per_section"] = seconds * 1e9 / static_cast<double>(sections);
    state.counters["cpu_ns_per_section"] = cpu_seconds * 1e9 / static_cast<double>(sections);
  }
}

template <class F>
void synchronize_latency(benchmark::State& state, std::uint64_t calls) {
  for (auto _ : state) {
    const auto flavour = std::make_unique<F>();
    // 0: starting, 1: registered and idle, 2: told to leave.
    lf::atomic<int> idle_state{0};
    std::thread idle_reader([&] {
      pin_to(allowed_cpus().back());
      flavour->thread_start();
      flavour->idle();
      idle_state.store(1);
      idle_state.notify_all();
      idle_state.wait(1);  // asleep in the kernel: a membarrier sends it no IPI
      flavour->resume();
      flavour->thread_stop();
    });
    idle_state.wait(0);
    std::uint64_t done = 0;
    double cpu_seconds = 0;
    const double seconds = run_together({[&] {
      flavour->thread_start();
      flavour->idle();  // the synchronizer is registered too (QSBR: offline while it waits)
      const double start = thread_cpu_seconds();
      for (std::uint64_t i = 0; i < calls; ++i) {
        flavour->synchronize();
        ++done;
      }
      cpu_seconds = thread_cpu_seconds() - start;
      flavour->resume();
      flavour->thread_stop();
    }});
    idle_state.store(2);
    idle_state.notify_all();
    idle_reader.join();
    if (done != calls) {
      state.SkipWithError("the synchronizer did not complete every call");
      return;
    }
    state.SetIterationTime(seconds);
    state.counters["us_per_synchronize"] = seconds * 1e6 / static_cast<double>(calls);
    state.counters["cpu_us_per_synchronize"] = cpu_seconds * 1e6 / static_cast<double>(calls);
  }
}

template <class... F>
void add_rcu_benchmarks() {
  (add<F>("rcu_read_1thread", read_side<F, 1>, count(full_sections)), ...);
  (add<F>("rcu_read_2threads", read_side<F, 2>, count(full_sections)), ...);
}
template <class... F>
void add_synchronize_benchmarks() {
  (add<F>("rcu_synchronize_1idle", synchronize_latency<F>, count(synchronize_calls)), ...);
}

void describe_rcu() {
  benchmark::AddCustomContext("lf light fence", lf::asymmetric_fence_is_expedited() ? "compiler barrier (membarrier)"
                                                                                    : "seq_cst fence");
  benchmark::AddCustomContext("urcu-memb uses membarrier", urcu_memb_has_sys_membarrier ? "yes" : "no");
  benchmark::AddCustomContext("urcu-bp uses membarrier", urcu_bp_has_sys_membarrier ? "yes" : "no");
  benchmark::AddCustomContext("qsbr quiescent-state period", std::to_string(qsbr_period));
  describe_build(LF_BENCH_BUILD_FLAGS);
}

}  // namespace
}  // namespace lf_bench

int main(int argc, char** argv) {
  using namespace lf_bench;
  add_rcu_benchmarks<lf_rcu, urcu_memb, urcu_qsbr, urcu_bp, rwlock_reader, no_bracket>();
  add_synchronize_benchmarks<lf_rcu, urcu_memb, urcu_qsbr, urcu_bp>();
  add_calibration();
  describe_rcu();
  return run_benchmarks(argc, argv);
}
