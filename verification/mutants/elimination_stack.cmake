# lockfree/elimination_stack.hpp — verification/model/elimination_stack_model.cpp
lf_mutant(elim_offer_relaxed         MODEL elimination_stack_model CASE push_pop_two_threads   EXPECT "DATA RACE|ACCESS TO UNINITIALIZED VARIABLE")
lf_mutant(elim_take_relaxed          MODEL elimination_stack_model CASE push_pop_two_threads   EXPECT "DATA RACE|ACCESS TO UNINITIALIZED VARIABLE")
lf_mutant(elim_withdraw_ignores_take MODEL elimination_stack_model CASE two_pushers_one_popper EXPECT "ACCESS TO FREED MEMORY|MEMORY LEAK|DATA RACE|USER ASSERT")
