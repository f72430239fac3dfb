// SPSC class: lf::spsc_ring against the single-producer single-consumer peers and a
// mutex-guarded ring. Workloads: 1P1C throughput, one-thread push+pop pair, ping-pong.
#include "adapters.hpp"
#include "workloads.hpp"

namespace lf_bench {
namespace {

constexpr std::uint64_t throughput_items = 10'000'000;
constexpr std::uint64_t pairs = 10'000'000;
constexpr std::uint64_t round_trips = 100'000;

constexpr std::size_t batch = 32;

// The batch workload, for the queues that have batch calls.
template <class Q>
void add_batch_benchmark() {
  if constexpr (batch_queue<Q>) {
    add<Q>("spsc_batch32_throughput_1p1c", batch_throughput<Q, batch>, count(throughput_items, batch));
  }
}
template <class... Q>
void add_batch_benchmarks() {
  (add_batch_benchmark<Q>(), ...);
}

// One benchmark per (workload, queue), registered workload by workload: without random
// interleaving the console lists the queues being compared together.
template <class... Q>
void add_spsc_benchmarks() {
  (add<Q>("spsc_throughput_1p1c", throughput<Q, 1, 1>, count(throughput_items)), ...);
  (add<Q>("spsc_pair", push_pop_pair<Q>, count(pairs)), ...);
  (add<Q>("spsc_pingpong", pingpong<Q>, count(round_trips)), ...);
  add_batch_benchmarks<Q...>();
  add_calibration();
  describe<Q...>(LF_BENCH_BUILD_FLAGS);
}

}  // namespace
}  // namespace lf_bench

int main(int argc, char** argv) {
  using namespace lf_bench;
  add_spsc_benchmarks<lf_spsc_ring, boost_spsc_queue, moodycamel_rwq, atomic_queue_spsc, cds_weak_ringbuffer,
                      mutex_ring>();
  return run_benchmarks(argc, argv);
}
