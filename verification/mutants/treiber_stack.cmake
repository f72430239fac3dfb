# lockfree/treiber_stack.hpp — verification/model/treiber_stack_model.cpp
lf_mutant(treiber_push_relaxed        MODEL treiber_stack_model CASE push_pop_two_threads       EXPECT "DATA RACE")
lf_mutant(treiber_free_immediately    MODEL treiber_stack_model CASE push_pop_two_threads       EXPECT "ACCESS TO FREED MEMORY")
lf_mutant(treiber_unprotected_pop     MODEL treiber_stack_model CASE aba_two_poppers_one_pusher EXPECT "ACCESS TO FREED MEMORY")
lf_mutant(treiber_aba_unprotected_cas MODEL treiber_stack_model CASE push_pop_two_threads       EXPECT "DATA RACE")

# rcu/hazard_pointer_reclaimer.hpp — the policy the stack is built on, same model binary
lf_mutant(hp_reclaimer_guard_unprotected MODEL treiber_stack_model CASE aba_two_poppers_one_pusher EXPECT "ACCESS TO FREED MEMORY")
# Judged by the linearizability checker on Relacy histories (verification/model/lincheck_model.cpp)
lf_mutant(treiber_pop_gives_up_on_contention MODEL lincheck_model CASE treiber_three_threads EXPECT "USER ASSERT FAILED")
