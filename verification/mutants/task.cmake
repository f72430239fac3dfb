# patterns/task.hpp (the join protocol (J1)-(J4), (W) and the state's references) — verification/model/task_model.cpp
# Resume before the result is published / waiter registration without the re-check:
lf_mutant(task_join_done_relaxed MODEL task_model CASE awaiter_registers_while_the_fiber_finishes EXPECT "DATA RACE")
lf_mutant(task_register_ignores_done MODEL task_model CASE awaiter_registers_while_the_fiber_finishes EXPECT "DEADLOCK")
lf_mutant(task_thread_wait_skips_recheck MODEL task_model CASE thread_waiter_sleeps_while_the_fiber_finishes EXPECT "DEADLOCK")
# Double resume, double free, use after free:
lf_mutant(task_complete_wakes_unregistered MODEL task_model CASE waiter_record_is_woken_exactly_once EXPECT "USER ASSERT FAILED")
lf_mutant(task_state_one_reference MODEL task_model CASE detach_races_the_fiber_finishing EXPECT "ACCESS TO FREED MEMORY|DOUBLE FREE")
lf_mutant(task_withdraw_ignores_done MODEL task_model CASE awaiting_frame_destroyed_while_the_fiber_finishes EXPECT "ACCESS TO FREED MEMORY")
lf_mutant(task_wake_without_reference MODEL task_model CASE awaiting_frame_destroyed_while_the_fiber_finishes EXPECT "ACCESS TO FREED MEMORY")
# patterns/awaitables.hpp, done(ctx) ((D1)/(D2)) and its withdraw through context_callback's (H2):
lf_mutant(task_done_suspends_after_fired MODEL task_model CASE done_waiter_suspends_while_the_context_is_cancelled EXPECT "DEADLOCK")
lf_mutant(task_done_callback_not_awaited MODEL task_model CASE done_waiter_destroyed_while_the_context_is_cancelled EXPECT "ACCESS TO FREED MEMORY")
# patterns/detail/coro_fiber.hpp, the registry's destroy_all at the pool's destruction:
lf_mutant(task_destroy_all_skips_last MODEL task_model CASE destroy_all_fails_the_thread_waiters EXPECT "DEADLOCK")
