# sync/atomic.hpp (the seam's wait/notify under the model) — verification/model/seam_model.cpp
lf_mutant(seam_notify_wakes_nobody MODEL seam_model CASE wait_notify_handoff EXPECT "DEADLOCK")
# sync/wait.hpp (the parking word) — same model binary
lf_mutant(seam_futex_wake_nobody MODEL seam_model CASE futex_handoff EXPECT "DEADLOCK")
