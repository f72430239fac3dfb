# patterns/rate_limiter.hpp — verification/model/rate_limiter_model.cpp
lf_mutant(rate_state_publish_relaxed MODEL rate_limiter_model CASE set_limit_races_reserve_and_cancel EXPECT "USER ASSERT FAILED")
lf_mutant(rate_state_load_relaxed MODEL rate_limiter_model CASE set_limit_races_reserve_and_cancel EXPECT "USER ASSERT FAILED")
lf_mutant(rate_rebase_keeps_z MODEL rate_limiter_model CASE set_limit_races_reserve_and_cancel EXPECT "USER ASSERT FAILED")
lf_mutant(rate_reserve_blind_store MODEL rate_limiter_model CASE cancel_races_a_queued_reservation EXPECT "USER ASSERT FAILED")
lf_mutant(rate_cancel_ignores_later MODEL rate_limiter_model CASE cancel_races_a_queued_reservation EXPECT "USER ASSERT FAILED")
lf_mutant(rate_allow_blind_store MODEL rate_limiter_model CASE allows_race_for_the_last_token EXPECT "USER ASSERT FAILED")
lf_mutant(rate_allow_load_relaxed MODEL rate_limiter_model CASE set_limit_races_reserve_and_cancel EXPECT "USER ASSERT FAILED")
