// lf::detail::process_cpus — how many CPUs this process may run on, for the blocking
// code's choice between spinning and giving the CPU away (patterns/detail/channel_core.hpp,
// spin_plan). A spinning waiter helps only if its partner can run meanwhile on another
// CPU; a process confined to one CPU (`taskset -c 0`, a one-CPU cpuset or container) has
// none, and there every pause it spins is a pause its partner cannot run.
//
// The count is the affinity mask of the process's main thread (sched_getaffinity on the
// process id), not the calling thread's: taskset, cpusets and numactl set it, every thread
// inherits it, and a program that pins each of its threads to a CPU of its own (a
// benchmark, a thread-per-core server) narrows only its threads' masks while its
// partners still run on other CPUs. Read once, at the first call; a process whose mask
// changes later keeps the first answer (which costs speed, never correctness). Where the
// mask cannot be read (more CPUs than a cpu_set_t holds), std::thread::hardware_concurrency
// decides, and an unknown count is taken as "several".
#pragma once

#include <thread>

#if !defined(LF_MODEL_RELACY)
#include <sched.h>
#include <unistd.h>
#endif

namespace lf::detail {

#if !defined(LF_MODEL_RELACY)
inline int process_cpus() noexcept {
  static const int cpus = [] {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(::getpid(), sizeof set, &set) == 0) return CPU_COUNT(&set);
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 2 : static_cast<int>(n);
  }();
  return cpus;
}
#endif

}  // namespace lf::detail
