# lockfree/lcrq.hpp — verification/model/lcrq_model.cpp
lf_mutant(lcrq_publish_relaxed              MODEL lcrq_model CASE ring_closes_while_pushers_race_boxed_bare EXPECT "DATA RACE")
lf_mutant(lcrq_unsafe_check_removed         MODEL lcrq_model CASE two_poppers_one_pusher EXPECT "USER ASSERT FAILED")
lf_mutant(lcrq_ring_freed_without_reclaimer MODEL lcrq_model CASE two_poppers_one_pusher EXPECT "ACCESS TO FREED MEMORY")
lf_mutant(lcrq_close_check_removed          MODEL lcrq_model CASE pusher_stalled_on_a_closing_ring EXPECT "USER ASSERT FAILED|ACCESS TO FREED MEMORY")
