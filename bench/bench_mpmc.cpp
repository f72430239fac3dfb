// Bounded MPMC class: lf::mpmc_ring and lf::scq_ring against the bounded multi-producer
// multi-consumer peers and a mutex-guarded std::deque. Workloads: 1P1C and 2P2C throughput (2P2C
// oversubscribes a two-core machine on purpose: DESIGN.md section 6), one-thread
// push+pop pair, ping-pong.
#include "adapters.hpp"
#include "workloads.hpp"

namespace lf_bench {
namespace {

constexpr std::uint64_t throughput_items = 2'000'000;  // in total, over all producers
constexpr std::uint64_t pairs = 10'000'000;
constexpr std::uint64_t round_trips = 100'000;

// One benchmark per (workload, queue), registered workload by workload: without random
// interleaving the console lists the queues being compared together.
template <class... Q>
void add_mpmc_benchmarks() {
  (add<Q>("mpmc_throughput_1p1c", throughput<Q, 1, 1>, count(throughput_items)), ...);
  (add<Q>("mpmc_throughput_2p2c", throughput<Q, 2, 2>, count(throughput_items, 2)), ...);
  (add<Q>("mpmc_pair", push_pop_pair<Q>, count(pairs)), ...);
  (add<Q>("mpmc_pingpong", pingpong<Q>, count(round_trips)), ...);
  add_calibration();
  describe<Q...>(LF_BENCH_BUILD_FLAGS);
}

}  // namespace
}  // namespace lf_bench

int main(int argc, char** argv) {
  using namespace lf_bench;
  add_mpmc_benchmarks<lf_mpmc_ring, lf_scq_ring, boost_queue, atomic_queue_fixed, atomic_queue_b, tbb_bounded_queue,
                      xenium_vyukov_queue, cds_vyukov_queue, mutex_deque>();
  return run_benchmarks(argc, argv);
}
