# lockfree/lprq.hpp — verification/model/lprq_model.cpp
lf_mutant(lprq_publish_relaxed              MODEL lprq_model CASE ring_closes_while_pushers_race_boxed_bare EXPECT "DATA RACE")
lf_mutant(lprq_unsafe_check_removed         MODEL lprq_model CASE two_poppers_one_pusher EXPECT "USER ASSERT FAILED")
lf_mutant(lprq_ring_freed_without_reclaimer MODEL lprq_model CASE pusher_stalled_on_a_closing_ring EXPECT "ACCESS TO FREED MEMORY")
lf_mutant(lprq_close_check_removed          MODEL lprq_model CASE pusher_stalled_on_a_closing_ring EXPECT "USER ASSERT FAILED|ACCESS TO FREED MEMORY")
lf_mutant(lprq_snapshot_recheck_removed     MODEL lprq_model CASE two_poppers_one_pusher EXPECT "USER ASSERT FAILED")
