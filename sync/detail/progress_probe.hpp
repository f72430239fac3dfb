// lf — the progress lane's hook in the seam (verification/progress; LF_PROGRESS_PROBE only).
//
// Built with -DLF_PROGRESS_PROBE, every operation of lf::atomic, lf::atomic_wide and
// lf::fence calls detail::after_seam_op right after it has taken effect, on the calling
// thread. The hook does nothing unless a test has installed a probe for that thread
// (detail::seam_probe, a thread_local function pointer); the progress lane's probe counts
// the thread's operations and can freeze it at a chosen one, in the middle of a
// container's operation, to show what the other threads can still do.
//
// Without LF_PROGRESS_PROBE (every build but the progress lane's) LF_SEAM_PROBE expands to
// nothing and lf::atomic stays an alias of std::atomic: the library is unchanged.
#pragma once

#if defined(LF_PROGRESS_PROBE)

#if defined(LF_MODEL_RELACY)
#error "LF_PROGRESS_PROBE is for real threads; the model lane has its own scheduler"
#endif

namespace lf::detail {

// What the operation was. rmw: an exchange, a fetch_*, or a compare-exchange that
// succeeded (an operation that read and wrote); failed_cas: one that did not write.
enum class seam_op : unsigned char { load, store, rmw, failed_cas, fence };

constexpr seam_op cas_outcome(bool succeeded) noexcept { return succeeded ? seam_op::rmw : seam_op::failed_cas; }

// The calling thread's probe, or null (then the hook costs one thread-local load).
inline thread_local void (*seam_probe)(seam_op) noexcept = nullptr;

inline void after_seam_op(seam_op op) noexcept {
  if (void (*probe)(seam_op) noexcept = seam_probe) probe(op);
}

}  // namespace lf::detail

#define LF_SEAM_PROBE(op) ::lf::detail::after_seam_op(op)

#else

#define LF_SEAM_PROBE(op) static_cast<void>(0)

#endif  // LF_PROGRESS_PROBE
