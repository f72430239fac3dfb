# patterns/channel.hpp, patterns/select.hpp, patterns/detail/channel_*.hpp — verification/model/channel_model.cpp
# Lost wake-ups on the buffered fast path / slow path handshake ([F1]/[F2], the re-check, the relay):
lf_mutant(channel_recheck_skipped MODEL channel_model CASE send_races_parking_receiver EXPECT "DEADLOCK")
lf_mutant(channel_register_fence_removed MODEL channel_model CASE send_races_parking_receiver EXPECT "DEADLOCK")
lf_mutant(channel_push_fence_removed MODEL channel_model CASE send_races_parking_receiver EXPECT "DEADLOCK")
lf_mutant(channel_notify_before_push MODEL channel_model CASE send_races_parking_receiver EXPECT "DEADLOCK")
lf_mutant(channel_no_relay MODEL channel_model CASE relay_behind_a_slow_producer EXPECT "DEADLOCK")
lf_mutant(channel_no_sender_relay MODEL channel_model CASE relay_behind_a_slow_receiver EXPECT "DEADLOCK")
# The waiter's wake-up and hand-off (patterns/detail/channel_core.hpp):
lf_mutant(channel_finish_wakes_nobody MODEL channel_model CASE unbuffered_handoff EXPECT "DEADLOCK")
lf_mutant(channel_handoff_complete_relaxed MODEL channel_model CASE unbuffered_handoff EXPECT "DATA RACE")
# Close:
lf_mutant(channel_close_forgets_a_waiter MODEL channel_model CASE close_wakes_blocked_receivers EXPECT "DEADLOCK")
lf_mutant(channel_closed_while_in_flight MODEL channel_model CASE close_races_blocked_sender EXPECT "USER ASSERT FAILED")
# The buffer (patterns/detail/channel_buffer.hpp):
lf_mutant(channel_ring_publish_relaxed MODEL channel_model CASE send_races_parking_receiver EXPECT "DATA RACE")
# Select completes exactly one case:
lf_mutant(channel_select_ignores_lost_claim MODEL channel_model CASE select_claims_exactly_one_case EXPECT "USER ASSERT FAILED")
