# patterns/detail/channel_await.hpp and the coroutine owner of chan_waiter (patterns/detail/waiter.hpp,
# channel_core.hpp (K0)/(K1)) — verification/model/coro_channel_model.cpp
# A resumption posted before the value is published:
lf_mutant(coro_channel_wake_before_handoff MODEL coro_channel_model CASE recv_races_a_thread_send_unbuffered EXPECT "DATA RACE")
# A suspend that forgets to re-check after registering (lost resumption):
lf_mutant(coro_channel_suspend_skips_recheck MODEL coro_channel_model CASE recv_races_a_thread_send_unbuffered EXPECT "DEADLOCK")
# A double resume:
lf_mutant(coro_channel_double_resume MODEL coro_channel_model CASE recv_races_a_thread_send_unbuffered EXPECT "USER ASSERT FAILED|ACCESS TO FREED MEMORY|DOUBLE FREE")
# A frame destroyed while suspended:
lf_mutant(coro_channel_destroy_keeps_links MODEL coro_channel_model CASE frame_destroyed_while_a_sender_hands_off EXPECT "ACCESS TO FREED MEMORY")
lf_mutant(coro_channel_discard_forgotten MODEL coro_channel_model CASE frame_destroyed_while_a_sender_hands_off EXPECT "MEMORY LEAK")
# patterns/wait_group.hpp's coroutine waiters (lf::wait(wg), the coro_wait_list):
lf_mutant(coro_wait_group_wakes_no_coroutine MODEL coro_channel_model CASE wait_group_waiter_races_the_last_done EXPECT "DEADLOCK")
# lf::co_select (patterns/detail/select_await.hpp on the select engine): exactly one case
# commits, and the losing links are unqueued:
lf_mutant(coro_select_withdraw_keeps_losing_links MODEL coro_channel_model CASE select_races_two_senders EXPECT "ACCESS TO FREED MEMORY")
lf_mutant(coro_select_poll_keeps_losing_links MODEL coro_channel_model CASE select_races_two_senders EXPECT "DEADLOCK|ACCESS TO FREED MEMORY")
lf_mutant(coro_select_double_commit MODEL coro_channel_model CASE select_races_two_senders EXPECT "USER ASSERT FAILED|DEADLOCK|ACCESS TO FREED MEMORY|DOUBLE FREE")
lf_mutant(coro_select_cancel_wakes_nobody MODEL coro_channel_model CASE select_cancel_races_a_sender EXPECT "DEADLOCK")
