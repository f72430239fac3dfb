# lockfree/scq_ring.hpp, lockfree/detail/scq_indices.hpp — verification/model/scq_ring_model.cpp
lf_mutant(scq_publish_relaxed         MODEL scq_ring_model CASE two_producers_one_consumer             EXPECT "DATA RACE")
lf_mutant(scq_unsafe_check_removed    MODEL scq_ring_model CASE popper_laps_a_slow_popper              EXPECT "USER ASSERT FAILED")
lf_mutant(scq_unsafe_mark_removed     MODEL scq_ring_model CASE popper_laps_a_slow_popper              EXPECT "USER ASSERT FAILED")
lf_mutant(scq_threshold_reset_removed MODEL scq_ring_model CASE not_empty_behind_slow_producer         EXPECT "USER ASSERT FAILED")
lf_mutant(scq_empty_check_off_by_one  MODEL scq_ring_model CASE not_empty_behind_slow_producer_bounded EXPECT "USER ASSERT FAILED")
