# patterns/detail/stage_gate.hpp (lf::pipeline's serial_in_order gate) — verification/model/pipeline_gate_model.cpp
lf_mutant(pipeline_gate_deposit_skips_recheck MODEL pipeline_gate_model CASE two_items EXPECT "USER ASSERT FAILED")
lf_mutant(pipeline_gate_turn_passed_relaxed MODEL pipeline_gate_model CASE two_items EXPECT "DATA RACE|USER ASSERT FAILED")
lf_mutant(pipeline_gate_deposit_relaxed MODEL pipeline_gate_model CASE three_items EXPECT "DATA RACE|USER ASSERT FAILED")
lf_mutant(pipeline_gate_entry_relaxed MODEL pipeline_gate_model CASE two_items EXPECT "DATA RACE")
lf_mutant(pipeline_gate_leaver_skips_turn_cas MODEL pipeline_gate_model CASE two_items EXPECT "USER ASSERT FAILED|DATA RACE")
