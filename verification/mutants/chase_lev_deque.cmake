# lockfree/chase_lev_deque.hpp — verification/model/chase_lev_deque_model.cpp
# A slot is a relaxed lf::atomic, so a mis-ordered slot read is a wrong or doubled value
# (USER ASSERT FAILED on the element ledger), not a DATA RACE; the array's size is an
# lf::cell, so reading an array that was not acquired is a DATA RACE; freeing an array a
# thief still reads is ACCESS TO FREED MEMORY.
lf_mutant(chase_lev_pop_fence_removed         MODEL chase_lev_deque_model CASE last_element_race    EXPECT "USER ASSERT FAILED")
lf_mutant(chase_lev_pop_fence_acq_rel         MODEL chase_lev_deque_model CASE two_thieves          EXPECT "USER ASSERT FAILED")
lf_mutant(chase_lev_steal_fence_removed       MODEL chase_lev_deque_model CASE two_thieves          EXPECT "USER ASSERT FAILED")
lf_mutant(chase_lev_push_release_removed      MODEL chase_lev_deque_model CASE last_element_race    EXPECT "USER ASSERT FAILED")
lf_mutant(chase_lev_bottom_acquire_relaxed    MODEL chase_lev_deque_model CASE two_thieves          EXPECT "USER ASSERT FAILED")
lf_mutant(chase_lev_pop_no_cas                MODEL chase_lev_deque_model CASE last_element_race    EXPECT "USER ASSERT FAILED")
lf_mutant(chase_lev_free_on_growth            MODEL chase_lev_deque_model CASE growth_during_steals EXPECT "ACCESS TO FREED MEMORY")
lf_mutant(chase_lev_array_publish_relaxed     MODEL chase_lev_deque_model CASE growth_during_steals EXPECT "DATA RACE")
lf_mutant(chase_lev_array_acquire_relaxed     MODEL chase_lev_deque_model CASE growth_during_steals EXPECT "DATA RACE")
lf_mutant(chase_lev_steal_array_before_bottom MODEL chase_lev_deque_model CASE growth_during_steals EXPECT "USER ASSERT FAILED")
