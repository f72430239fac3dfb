# patterns/context.hpp (patterns/detail/context_node.hpp) — verification/model/context_model.cpp
lf_mutant(ctx_register_misses_cancel MODEL context_model CASE child_registers_while_parent_cancels EXPECT "USER ASSERT FAILED")
lf_mutant(ctx_done_store_relaxed MODEL context_model CASE waiter_parks_while_cancel_runs EXPECT "DATA RACE")
lf_mutant(ctx_cancel_wakes_nobody MODEL context_model CASE waiter_parks_while_cancel_runs EXPECT "DEADLOCK")
lf_mutant(ctx_waiter_skips_announce MODEL context_model CASE waiter_parks_while_cancel_runs EXPECT "DEADLOCK")
lf_mutant(ctx_cancel_leaves_hooks_linked MODEL context_model CASE after_func_stop_races_cancel EXPECT "USER ASSERT FAILED")
lf_mutant(ctx_upgrade_ignores_zero MODEL context_model CASE child_dropped_while_parent_cancels EXPECT "ACCESS TO FREED MEMORY|DOUBLE FREE")
