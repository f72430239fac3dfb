# sync/atomic.hpp (the seam's wait/notify under the model) — verification/model/seam_model.cpp
lf_mutant(seam_notify_wakes_nobody MODEL seam_model CASE wait_notify_handoff EXPECT "DEADLOCK")
