# patterns/barrier.hpp, patterns/detail/barrier_algorithms.hpp, patterns/phaser.hpp — verification/model/barrier_model.cpp
lf_mutant(barrier_arrival_relaxed MODEL barrier_model CASE central_two_phases EXPECT "DATA RACE")
lf_mutant(barrier_publish_before_completion MODEL barrier_model CASE central_two_phases EXPECT "DATA RACE")
lf_mutant(barrier_publish_wakes_nobody MODEL barrier_model CASE central_two_phases EXPECT "DEADLOCK")
lf_mutant(barrier_drop_not_counted MODEL barrier_model CASE drop_races_arrivals EXPECT "DEADLOCK")
lf_mutant(barrier_count_down_relaxed MODEL barrier_model CASE dissemination_two_phases EXPECT "DATA RACE")
lf_mutant(phaser_arrive_relaxed MODEL barrier_model CASE phaser_deregisters_during_advance EXPECT "DATA RACE")
