# rcu/hazard_pointer.hpp and rcu/detail/hazard_records.hpp — verification/model/hazard_pointer_model.cpp
lf_mutant(hp_skip_revalidation       MODEL hazard_pointer_model CASE reader_vs_retire           EXPECT "ACCESS TO FREED MEMORY")
lf_mutant(hp_protect_fence_acq_rel   MODEL hazard_pointer_model CASE reader_vs_retire           EXPECT "ACCESS TO FREED MEMORY")
lf_mutant(hp_scan_fence_acq_rel      MODEL hazard_pointer_model CASE reader_vs_retire           EXPECT "ACCESS TO FREED MEMORY")
lf_mutant(hp_scan_ignores_hazards    MODEL hazard_pointer_model CASE reader_vs_retire           EXPECT "ACCESS TO FREED MEMORY")
lf_mutant(hp_reset_relaxed           MODEL hazard_pointer_model CASE reader_vs_retire           EXPECT "DATA RACE")
lf_mutant(hp_scan_load_relaxed       MODEL hazard_pointer_model CASE reader_vs_retire           EXPECT "DATA RACE")
lf_mutant(hp_revalidate_relaxed      MODEL hazard_pointer_model CASE reader_vs_recycled_address EXPECT "DATA RACE")
lf_mutant(hp_domain_destructor_leaks MODEL hazard_pointer_model CASE reader_vs_retire_random    EXPECT "MEMORY LEAK")
