# Every mutant of the shipped headers, the model case that must catch it, and the
# verdict expected. Order mutants (a weakened acquire or release) show up as a DATA RACE
# on the slot's lf::cell; logic mutants as a DATA RACE or a failed RL_ASSERT on values.

# lockfree/spsc_ring.hpp — verification/model/spsc_ring_model.cpp
lf_mutant(spsc_publish_relaxed      MODEL spsc_ring_model CASE wraparound   EXPECT "DATA RACE")
lf_mutant(spsc_tail_acquire_relaxed MODEL spsc_ring_model CASE wraparound   EXPECT "DATA RACE")
lf_mutant(spsc_head_acquire_relaxed MODEL spsc_ring_model CASE capacity_one EXPECT "DATA RACE")
lf_mutant(spsc_free_relaxed         MODEL spsc_ring_model CASE capacity_one EXPECT "DATA RACE")
lf_mutant(spsc_full_off_by_one      MODEL spsc_ring_model CASE capacity_one EXPECT "DATA RACE|USER ASSERT FAILED")
lf_mutant(spsc_batch_free_relaxed   MODEL spsc_ring_model CASE batches      EXPECT "DATA RACE")

# lockfree/mpmc_ring.hpp — verification/model/mpmc_ring_model.cpp
lf_mutant(mpmc_slot_acquire_relaxed    MODEL mpmc_ring_model CASE two_producers_one_consumer EXPECT "DATA RACE")
lf_mutant(mpmc_publish_relaxed         MODEL mpmc_ring_model CASE two_producers_one_consumer EXPECT "DATA RACE")
lf_mutant(mpmc_consume_acquire_relaxed MODEL mpmc_ring_model CASE one_producer_two_consumers EXPECT "DATA RACE")
lf_mutant(mpmc_free_relaxed            MODEL mpmc_ring_model CASE two_producers_one_consumer EXPECT "DATA RACE")
lf_mutant(mpmc_read_before_publish     MODEL mpmc_ring_model CASE wraparound                 EXPECT "DATA RACE|USER ASSERT FAILED")
lf_mutant(mpmc_one_slot                MODEL mpmc_ring_model CASE one_slot_request           EXPECT "DATA RACE|USER ASSERT FAILED")

# sync/atomic.hpp (the seam's wait/notify under the model) — verification/model/seam_model.cpp
lf_mutant(seam_notify_wakes_nobody MODEL seam_model CASE wait_notify_handoff EXPECT "DEADLOCK")
