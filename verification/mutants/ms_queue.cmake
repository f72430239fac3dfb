# lockfree/ms_queue.hpp — verification/model/ms_queue_model.cpp
lf_mutant(msq_link_relaxed      MODEL ms_queue_model CASE two_pushers_one_popper_bare EXPECT "DATA RACE|ACCESS TO UNINITIALIZED VARIABLE")
lf_mutant(msq_free_immediately  MODEL ms_queue_model CASE two_poppers_one_pusher   EXPECT "ACCESS TO FREED MEMORY")
lf_mutant(msq_unprotected_head  MODEL ms_queue_model CASE two_poppers_one_pusher   EXPECT "ACCESS TO FREED MEMORY")
lf_mutant(msq_help_swing_relaxed MODEL ms_queue_model CASE three_pushers_bare EXPECT "DATA RACE")
# Judged by the linearizability checker on Relacy histories (verification/model/lincheck_model.cpp)
lf_mutant(msq_pop_gives_up_on_contention MODEL lincheck_model CASE ms_queue_three_threads EXPECT "USER ASSERT FAILED")
