# patterns/circuit_breaker.hpp — verification/model/circuit_breaker_model.cpp
lf_mutant(breaker_half_open_admit_not_atomic MODEL circuit_breaker_model CASE half_open_admits_at_most_max_requests EXPECT "USER ASSERT FAILED")
lf_mutant(breaker_generation_check_removed MODEL circuit_breaker_model CASE stale_outcome_is_dropped EXPECT "USER ASSERT FAILED")
lf_mutant(breaker_publish_relaxed MODEL circuit_breaker_model CASE trip_publishes_open_period EXPECT "USER ASSERT FAILED")
lf_mutant(breaker_failure_run_relaxed MODEL circuit_breaker_model CASE striped_runs_are_linearizable EXPECT "USER ASSERT FAILED")
