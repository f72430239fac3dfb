// Unbounded stacks: lf::treiber_stack over each of lf's reclaimers (hazard pointers,
// epochs, RCU) and lf::elimination_stack over hazard pointers, against
// boost::lockfree::stack, libcds' TreiberStack over its hazard pointers, liburcu's lfstack
// and a mutex-guarded std::vector. Workloads: 1P1C and 2P2C throughput (the throughput
// workload checks counts and sums only, so it serves LIFO as well as FIFO; 2P2C
// oversubscribes a two-core machine on purpose: DESIGN.md section 6), one-thread
// push+pop pair, and with LF_BENCH_SCALING set, NpNc throughput for N = 1, 2, 4, ... up to
// half the CPUs ("stack_scaling_<N>p<N>c").
#include "node_adapters.hpp"
#include "workloads.hpp"

namespace lf_bench {
namespace {

constexpr std::uint64_t throughput_items = 2'000'000;  // in total, over all producers
constexpr std::uint64_t pairs = 10'000'000;

template <class... S>
void add_stack_benchmarks() {
  (add<S>("stack_throughput_1p1c", throughput<S, 1, 1>, count(throughput_items)), ...);
  (add<S>("stack_throughput_2p2c", throughput<S, 2, 2>, count(throughput_items, 2)), ...);
  (add<S>("stack_pair", push_pop_pair<S>, count(pairs)), ...);
  (add_scaling<S>("stack_scaling", count(throughput_items)), ...);
  add_calibration();
  describe<S...>(LF_BENCH_BUILD_FLAGS);
}

}  // namespace
}  // namespace lf_bench

int main(int argc, char** argv) {
  using namespace lf_bench;
  add_stack_benchmarks<lf_treiber_hp, lf_treiber_epoch, lf_treiber_rcu, lf_elimination_hp, boost_stack,
                       cds_treiber_stack_hp, urcu_lfstack, mutex_vector_stack>();
  return run_benchmarks(argc, argv);
}
