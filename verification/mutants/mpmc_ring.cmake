# lockfree/mpmc_ring.hpp — verification/model/mpmc_ring_model.cpp
lf_mutant(mpmc_slot_acquire_relaxed    MODEL mpmc_ring_model CASE two_producers_one_consumer EXPECT "DATA RACE")
lf_mutant(mpmc_publish_relaxed         MODEL mpmc_ring_model CASE two_producers_one_consumer EXPECT "DATA RACE")
lf_mutant(mpmc_consume_acquire_relaxed MODEL mpmc_ring_model CASE one_producer_two_consumers EXPECT "DATA RACE")
lf_mutant(mpmc_free_relaxed            MODEL mpmc_ring_model CASE two_producers_one_consumer EXPECT "DATA RACE")
lf_mutant(mpmc_read_before_publish     MODEL mpmc_ring_model CASE wraparound                 EXPECT "DATA RACE|USER ASSERT FAILED")
lf_mutant(mpmc_one_slot                MODEL mpmc_ring_model CASE one_slot_request           EXPECT "DATA RACE|USER ASSERT FAILED")
