# lockfree/scq_ring.hpp, lockfree/detail/scq_indices.hpp — verification/model/scq_ring_model.cpp
lf_mutant(scq_publish_relaxed       MODEL scq_ring_model CASE two_producers_one_consumer    EXPECT "DATA RACE")
