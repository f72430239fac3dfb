# patterns/wait_group.hpp — verification/model/wait_group_model.cpp
lf_mutant(wait_group_notify_before_decrement MODEL wait_group_model CASE two_workers_done_while_main_waits EXPECT "DEADLOCK")
lf_mutant(wait_group_wait_without_recheck MODEL wait_group_model CASE two_workers_done_while_main_waits EXPECT "USER ASSERT FAILED|DATA RACE")
lf_mutant(wait_group_done_relaxed MODEL wait_group_model CASE two_workers_done_while_main_waits EXPECT "DATA RACE")
