# patterns/semaphore.hpp — verification/model/semaphore_model.cpp
lf_mutant(semaphore_cancel_drops_granted_tokens MODEL semaphore_model CASE grant_races_cancel EXPECT "USER ASSERT FAILED")
lf_mutant(semaphore_cancel_leaves_waiter_queued MODEL semaphore_model CASE grant_races_cancel EXPECT "USER ASSERT FAILED")
lf_mutant(semaphore_fast_acquire_relaxed MODEL semaphore_model CASE release_then_fast_acquire EXPECT "DATA RACE")
lf_mutant(semaphore_fast_release_relaxed MODEL semaphore_model CASE release_then_fast_acquire EXPECT "DATA RACE")
lf_mutant(semaphore_grant_wakes_nobody MODEL semaphore_model CASE fifo_grant_chain EXPECT "DEADLOCK")
lf_mutant(semaphore_sleep_announced_by_store MODEL semaphore_model CASE fifo_grant_chain EXPECT "DEADLOCK")
