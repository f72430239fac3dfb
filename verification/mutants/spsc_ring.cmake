# Every mutant of the shipped headers, the model case that must catch it, and the
# verdict expected. Order mutants (a weakened acquire or release) show up as a DATA RACE
# on the slot's lf::cell; logic mutants as a DATA RACE or a failed RL_ASSERT on values.

# lockfree/spsc_ring.hpp — verification/model/spsc_ring_model.cpp
lf_mutant(spsc_publish_relaxed        MODEL spsc_ring_model CASE wraparound   EXPECT "DATA RACE")
lf_mutant(spsc_stamp_acquire_relaxed  MODEL spsc_ring_model CASE wraparound   EXPECT "DATA RACE")
lf_mutant(spsc_probe_acquire_relaxed  MODEL spsc_ring_model CASE capacity_one EXPECT "DATA RACE")
lf_mutant(spsc_free_relaxed           MODEL spsc_ring_model CASE capacity_one EXPECT "DATA RACE")
lf_mutant(spsc_look_ahead_off_by_one  MODEL spsc_ring_model CASE capacity_one EXPECT "DATA RACE|USER ASSERT FAILED")
lf_mutant(spsc_batch_acquire_relaxed  MODEL spsc_ring_model CASE batches      EXPECT "DATA RACE")
lf_mutant(spsc_size_head_relaxed      MODEL spsc_ring_model CASE size_never_negative EXPECT "USER ASSERT FAILED")
lf_mutant(spsc_head_store_relaxed     MODEL spsc_ring_model CASE size_never_negative EXPECT "USER ASSERT FAILED")
