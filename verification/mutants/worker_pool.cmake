# patterns/detail/parking_lot.hpp (lf::worker_pool's park/wake) — verification/model/worker_pool_model.cpp
lf_mutant(parking_skip_recheck MODEL worker_pool_model CASE submit_while_last_worker_parks EXPECT "DEADLOCK")
lf_mutant(parking_unpark_fence_removed MODEL worker_pool_model CASE submit_while_last_worker_parks EXPECT "DEADLOCK")
lf_mutant(parking_decrement_before_wait MODEL worker_pool_model CASE submit_while_last_worker_parks EXPECT "DEADLOCK")
lf_mutant(parking_no_epoch_bump MODEL worker_pool_model CASE submit_while_last_worker_parks EXPECT "DEADLOCK")
lf_mutant(parking_park_fence_removed MODEL worker_pool_model CASE submit_while_last_worker_parks EXPECT "DEADLOCK")
