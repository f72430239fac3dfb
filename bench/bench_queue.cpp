// Unbounded MPMC queues: lf::lcrq (over hazard pointers and epochs), lf::lprq (8-byte items
// boxed, and 32-bit items in place) and lf::ms_queue over
// each of lf's reclaimers (hazard pointers, epochs, RCU) against the Michael–Scott queues of libcds (over its HP and DHP hazard
// pointers) and xenium (over its hazard pointers and its generic epoch-based scheme), and
// against xenium's ramalhete_queue (FAAArrayQueue), libcds' basket and segmented queues,
// liburcu's wfcqueue, moodycamel's ConcurrentQueue (with and without tokens), oneTBB's
// concurrent_queue and a mutex-guarded
// std::deque. Workloads: 1P1C and 2P2C throughput (2P2C oversubscribes a two-core machine
// on purpose: DESIGN.md section 6), one-thread push+pop pair, ping-pong, and with
// LF_BENCH_SCALING set, NpNc throughput for N = 1, 2, 4, ... up to half the CPUs
// ("queue_scaling_<N>p<N>c").
#include "node_adapters.hpp"
#include "workloads.hpp"

namespace lf_bench {
namespace {

constexpr std::uint64_t throughput_items = 2'000'000;  // in total, over all producers
constexpr std::uint64_t pairs = 10'000'000;
constexpr std::uint64_t round_trips = 100'000;

template <class... Q>
void add_queue_benchmarks() {
  (add<Q>("queue_throughput_1p1c", throughput<Q, 1, 1>, count(throughput_items)), ...);
  (add<Q>("queue_throughput_2p2c", throughput<Q, 2, 2>, count(throughput_items, 2)), ...);
  (add<Q>("queue_pair", push_pop_pair<Q>, count(pairs)), ...);
  (add<Q>("queue_pingpong", pingpong<Q>, count(round_trips)), ...);
  (add_scaling<Q>("queue_scaling", count(throughput_items)), ...);
  add_calibration();
  describe<Q...>(LF_BENCH_BUILD_FLAGS);
}

}  // namespace
}  // namespace lf_bench

int main(int argc, char** argv) {
  using namespace lf_bench;
  add_queue_benchmarks<lf_lcrq_hp, lf_lcrq_epoch, lf_lprq_hp, lf_lprq_u32_hp, lf_ms_queue_hp, lf_ms_queue_epoch, lf_ms_queue_rcu, cds_ms_queue_hp, cds_ms_queue_dhp,
                       xenium_ms_queue_hp, xenium_ms_queue_epoch, xenium_ramalhete_hp, cds_basket_queue_hp, cds_segmented_queue_hp, urcu_wfcqueue, moodycamel_queue, moodycamel_queue_tokens, tbb_queue,
                       mutex_deque_unbounded>();
  return run_benchmarks(argc, argv);
}
