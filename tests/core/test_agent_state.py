"""The agent state machine: every state × every event (allowed or IllegalTransition), the commands of each
transition, pending pauses, wrap-up by time, day counters, and a property test that what app_queue is told
always matches the state."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.state import (
    AgentEvent,
    AgentState,
    AgentStatus,
    Answer,
    DayCounters,
    ForceLogOut,
    ForcePause,
    HangUp,
    IllegalTransition,
    LogIn,
    LogOut,
    Pause,
    PauseReason,
    QueueAdd,
    QueueMembership,
    QueuePause,
    QueueRemove,
    Ready,
    Ring,
    RingCancelled,
    RingTimeout,
    WrapupDone,
    apply,
    due_event,
    event_name,
    logged_out,
    transition,
)

T0 = datetime(2026, 3, 2, 9, 0, 0)
IFACE = "PJSIP/1001"
MEMBERSHIPS = (QueueMembership("zh-psychology", 0), QueueMembership("mn-psychology", 52))
WRAPUP = 10

S = AgentState


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def in_state(state: AgentState) -> AgentStatus:
    """A status reached through legal events only, so the table tests real statuses."""
    agent = logged_out("1001", T0)
    if state is S.LOGGED_OUT:
        return agent
    agent = apply(agent, LogIn(MEMBERSHIPS), at(1))
    if state is S.READY:
        return agent
    if state is S.PAUSED:
        return apply(agent, Pause(PauseReason.BREAK), at(2))
    agent = apply(agent, Ring("call-1", "zh-psychology", WRAPUP), at(2))
    if state is S.RINGING:
        return agent
    agent = apply(agent, Answer("call-1"), at(5))
    if state is S.ON_CALL:
        return agent
    agent = apply(agent, HangUp(), at(65))
    assert state is S.WRAP_UP
    return agent


EVENTS: dict[str, AgentEvent] = {
    "log_in": LogIn(MEMBERSHIPS),
    "log_out": LogOut(),
    "ready": Ready(),
    "pause": Pause(PauseReason.MEETING),
    "ring": Ring("call-2", "zh-legal", 5),
    "answer": Answer(),
    "ring_timeout": RingTimeout(),
    "ring_cancelled": RingCancelled(),
    "hang_up": HangUp(),
    "wrapup_done": WrapupDone(),
    "force_pause": ForcePause(PauseReason.TRAINING, by="supervisor-1"),
    "force_log_out": ForceLogOut(by="supervisor-1"),
}

X = None  # illegal
# Rows: the state before; columns in EVENTS order; cells: the state after, or X.
TABLE: dict[AgentState, tuple[AgentState | None, ...]] = {
    # columns: log_in log_out ready pause ring answer ring_timeout ring_cancelled hang_up wrapup_done
    #          force_pause force_log_out
    S.LOGGED_OUT: (S.READY, X, X, X, X, X, X, X, X, X, X, X),
    S.READY: (X, S.LOGGED_OUT, X, S.PAUSED, S.RINGING, X, X, X, X, X, S.PAUSED, S.LOGGED_OUT),
    S.RINGING: (X, X, X, X, X, S.ON_CALL, S.READY, S.READY, X, X, S.RINGING, S.LOGGED_OUT),
    S.ON_CALL: (X, X, X, S.ON_CALL, X, X, X, X, S.WRAP_UP, X, S.ON_CALL, S.LOGGED_OUT),
    S.WRAP_UP: (X, S.LOGGED_OUT, X, S.PAUSED, X, X, X, X, X, S.READY, S.PAUSED, S.LOGGED_OUT),
    S.PAUSED: (X, S.LOGGED_OUT, S.READY, S.PAUSED, X, X, X, X, X, X, S.PAUSED, S.LOGGED_OUT),
}

CASES = [(before, name, TABLE[before][i]) for before in AgentState for i, name in enumerate(EVENTS)]


def test_table_covers_every_state_and_event() -> None:
    assert set(TABLE) == set(AgentState)
    assert all(len(row) == len(EVENTS) for row in TABLE.values())
    assert len(CASES) == 6 * 12


@pytest.mark.parametrize(("before", "name", "after"), CASES, ids=[f"{b}-{n}" for b, n, _ in CASES])
def test_every_state_times_every_event(before: AgentState, name: str, after: AgentState | None) -> None:
    agent = in_state(before)
    now = at(100)  # past the wrap-up of the call that ended at 65 s
    if after is None:
        with pytest.raises(IllegalTransition) as info:
            transition(agent, EVENTS[name], now)
        assert info.value.state is before
        assert info.value.event == EVENTS[name]
        assert f"cannot {name} while {before}" in str(info.value)
        assert "agent 1001" in str(info.value)
    else:
        result = apply(agent, EVENTS[name], now)
        assert result.state is after
        assert result.extension == "1001"


# ----------------------------------------------------------------------------------------------- commands


def test_log_in_adds_every_queue_with_its_penalty_unpaused() -> None:
    result = transition(logged_out("1001", T0), LogIn(MEMBERSHIPS), at(1))
    assert result.commands == (
        QueueAdd("zh-psychology", IFACE, 0, member_name="1001", paused=False),
        QueueAdd("mn-psychology", IFACE, 52, member_name="1001", paused=False),
    )
    assert result.status.queues == ("zh-psychology", "mn-psychology")
    assert result.status.since == at(1)


def test_log_in_ignores_a_repeated_queue() -> None:
    twice = (*MEMBERSHIPS, QueueMembership("zh-psychology", 0))
    result = transition(logged_out("1001", T0), LogIn(twice), at(1))
    assert [c.queue for c in result.commands if isinstance(c, QueueAdd)] == ["zh-psychology", "mn-psychology"]


def test_log_in_with_no_queue_is_allowed_and_adds_nothing() -> None:
    result = transition(logged_out("1001", T0), LogIn(()), at(1))
    assert result.status.state is S.READY and result.commands == ()


@pytest.mark.parametrize("before", [S.READY, S.PAUSED, S.WRAP_UP])
def test_log_out_removes_every_queue(before: AgentState) -> None:
    result = transition(in_state(before), LogOut(), at(100))
    assert result.commands == (QueueRemove("zh-psychology", IFACE), QueueRemove("mn-psychology", IFACE))
    assert result.status == AgentStatus("1001", S.LOGGED_OUT, at(100), result.status.counters)


@pytest.mark.parametrize("before", [S.READY, S.RINGING, S.ON_CALL, S.WRAP_UP, S.PAUSED])
def test_force_log_out_works_everywhere_and_keeps_the_day_counters(before: AgentState) -> None:
    agent = in_state(before)
    result = transition(agent, ForceLogOut(by="sup"), at(100))
    assert result.status.state is S.LOGGED_OUT
    assert result.status.call_id is None and result.status.queues == ()
    assert result.status.counters == agent.counters
    assert [type(c) for c in result.commands] == [QueueRemove, QueueRemove]


def test_pause_tells_app_queue_with_the_reason() -> None:
    result = transition(in_state(S.READY), Pause(PauseReason.TRAINING), at(10))
    assert result.commands == (QueuePause(IFACE, paused=True, reason="training"),)
    assert result.status.pause_reason is PauseReason.TRAINING
    assert result.status.paused_by is None
    assert result.status.since == at(10)


def test_changing_the_pause_reason_sends_the_new_reason() -> None:
    result = transition(in_state(S.PAUSED), Pause(PauseReason.MEETING), at(10))
    assert result.commands == (QueuePause(IFACE, paused=True, reason="meeting"),)
    assert result.status.pause_reason is PauseReason.MEETING


def test_pausing_again_for_the_same_reason_is_illegal() -> None:
    with pytest.raises(IllegalTransition, match="already paused for break"):
        apply(in_state(S.PAUSED), Pause(PauseReason.BREAK), at(10))


def test_supervisor_can_take_over_an_agents_own_pause() -> None:
    result = apply(in_state(S.PAUSED), ForcePause(PauseReason.BREAK, by="sup"), at(10))
    assert (result.pause_reason, result.paused_by) == (PauseReason.BREAK, "sup")


def test_ready_unpauses_and_forgets_the_reason() -> None:
    result = transition(in_state(S.PAUSED), Ready(), at(10))
    assert result.commands == (QueuePause(IFACE, paused=False),)
    assert result.status.pause_reason is None and result.status.paused_by is None


def test_agent_may_resume_from_a_supervisor_pause() -> None:
    paused = apply(in_state(S.READY), ForcePause(PauseReason.MEETING, by="sup"), at(10))
    assert paused.paused_by == "sup"
    assert apply(paused, Ready(), at(20)).state is S.READY


@pytest.mark.parametrize(
    "event", [Ring("c"), Answer(), RingTimeout(), RingCancelled(), HangUp(), WrapupDone()], ids=event_name
)
def test_call_facts_send_no_command(event: AgentEvent) -> None:
    """app_queue did these itself; the adapter only records them."""
    before = {
        "ring": S.READY,
        "answer": S.RINGING,
        "ring_timeout": S.RINGING,
        "ring_cancelled": S.RINGING,
        "hang_up": S.ON_CALL,
        "wrapup_done": S.WRAP_UP,
    }[event_name(event)]
    assert transition(in_state(before), event, at(100)).commands == ()


# ------------------------------------------------------------------------------------------ call details


def test_ring_records_the_call_and_its_wrapup() -> None:
    agent = in_state(S.RINGING)
    assert (agent.call_id, agent.call_queue, agent.call_wrapup_seconds) == ("call-1", "zh-psychology", WRAPUP)


def test_ring_without_queue_and_negative_wrapup() -> None:
    agent = apply(in_state(S.READY), Ring("c9", wrapup_seconds=-3), at(5))
    assert agent.call_queue is None and agent.call_wrapup_seconds == 0


def test_answer_of_another_call_is_illegal() -> None:
    with pytest.raises(IllegalTransition, match="the ringing call is call-1, not call-7"):
        apply(in_state(S.RINGING), Answer("call-7"), at(5))


def test_answer_counts_the_call_and_keeps_the_call_id() -> None:
    agent = in_state(S.ON_CALL)
    assert agent.counters.answered == 1 and agent.call_id == "call-1"


def test_ring_timeout_counts_a_missed_offer_but_a_cancel_does_not() -> None:
    ringing = in_state(S.RINGING)
    timed_out = apply(ringing, RingTimeout(), at(17))
    cancelled = apply(ringing, RingCancelled(), at(17))
    assert timed_out.counters.missed == 1 and cancelled.counters.missed == 0
    for agent in (timed_out, cancelled):
        assert agent.state is S.READY and agent.call_id is None and agent.since == at(17)


def test_hang_up_adds_talk_time_and_starts_wrap_up_from_the_queue_plan() -> None:
    agent = in_state(S.WRAP_UP)
    assert agent.counters.talk_seconds == 60.0  # answered at 5 s, hung up at 65 s
    assert agent.wrapup_until == at(65 + WRAPUP)
    assert agent.call_id == "call-1"  # the wrap-up belongs to that call (work order)


def test_hang_up_with_no_wrapup_goes_straight_to_ready() -> None:
    agent = apply(in_state(S.READY), Ring("c", wrapup_seconds=0), at(2))
    agent = apply(apply(agent, Answer(), at(3)), HangUp(), at(33))
    assert agent.state is S.READY and agent.wrapup_until is None and agent.call_id is None


def test_wrapup_done_before_its_time_is_illegal_and_at_its_time_is_ready() -> None:
    agent = in_state(S.WRAP_UP)
    with pytest.raises(IllegalTransition, match="wrap-up runs until"):
        apply(agent, WrapupDone(), at(65 + WRAPUP - 1))
    done = apply(agent, WrapupDone(), at(65 + WRAPUP))
    assert done.state is S.READY and done.call_id is None and done.wrapup_until is None


def test_due_event_fires_exactly_when_wrapup_is_over() -> None:
    agent = in_state(S.WRAP_UP)
    assert due_event(agent, at(65 + WRAPUP - 0.001)) is None
    assert due_event(agent, at(65 + WRAPUP)) == WrapupDone()
    for state in (S.LOGGED_OUT, S.READY, S.RINGING, S.ON_CALL, S.PAUSED):
        assert due_event(in_state(state), at(10_000)) is None


def test_ready_in_wrap_up_explains_why() -> None:
    with pytest.raises(IllegalTransition, match="app_queue enforces wrap-up"):
        apply(in_state(S.WRAP_UP), Ready(), at(66))


def test_pause_in_wrap_up_ends_it_for_after_call_work() -> None:
    result = transition(in_state(S.WRAP_UP), Pause(PauseReason.AFTER_CALL_WORK), at(66))
    assert result.status.state is S.PAUSED and result.status.call_id is None
    assert result.commands == (QueuePause(IFACE, paused=True, reason="after-call-work"),)


def test_seconds_in_state() -> None:
    agent = in_state(S.ON_CALL)
    assert agent.seconds_in_state(at(65)) == 60.0
    assert agent.seconds_in_state(at(0)) == 0.0  # a clock that went backwards never gives negatives


def test_interface() -> None:
    assert logged_out("2001", T0).interface == "PJSIP/2001"


# -------------------------------------------------------------------------------------- pending pauses


def test_pause_on_a_call_is_pending_and_lands_after_wrap_up() -> None:
    on_call = in_state(S.ON_CALL)
    result = transition(on_call, Pause(PauseReason.BREAK), at(30))
    assert result.commands == (QueuePause(IFACE, paused=True, reason="break"),)
    assert result.status.state is S.ON_CALL and result.status.since == on_call.since
    assert result.status.pending_pause is PauseReason.BREAK
    wrap = apply(result.status, HangUp(), at(65))
    assert wrap.state is S.WRAP_UP and wrap.pending_pause is PauseReason.BREAK
    done = transition(wrap, WrapupDone(), at(80))
    assert done.commands == ()  # already paused in app_queue
    assert done.status.state is S.PAUSED and done.status.pause_reason is PauseReason.BREAK
    assert done.status.pending_pause is None


def test_supervisor_pause_while_ringing_lands_after_a_ring_timeout() -> None:
    ringing = apply(in_state(S.RINGING), ForcePause(PauseReason.MEETING, by="sup"), at(3))
    assert ringing.state is S.RINGING and ringing.pending_paused_by == "sup"
    paused = apply(ringing, RingTimeout(), at(17))
    assert (paused.state, paused.pause_reason, paused.paused_by) == (S.PAUSED, PauseReason.MEETING, "sup")
    assert paused.pending_pause is None and paused.pending_paused_by is None


def test_agent_cannot_pause_while_ringing() -> None:
    with pytest.raises(IllegalTransition, match="answer the ringing call"):
        apply(in_state(S.RINGING), Pause(PauseReason.BREAK), at(3))


def test_pending_pause_survives_the_answer_and_no_wrapup_lands_directly() -> None:
    agent = apply(in_state(S.READY), Ring("c", wrapup_seconds=0), at(2))
    agent = apply(agent, ForcePause(PauseReason.TRAINING, by="sup"), at(3))
    agent = apply(apply(agent, Answer(), at(4)), HangUp(), at(50))
    assert agent.state is S.PAUSED and agent.pause_reason is PauseReason.TRAINING


@pytest.mark.parametrize("before", [S.RINGING, S.ON_CALL, S.WRAP_UP])
def test_ready_cancels_a_pending_pause(before: AgentState) -> None:
    agent = replace(in_state(before), pending_pause=PauseReason.BREAK, pending_paused_by="sup")
    result = transition(agent, Ready(), at(66))
    assert result.commands == (QueuePause(IFACE, paused=False),)
    assert result.status.state is before and result.status.pending_pause is None
    assert result.status.pending_paused_by is None


def test_a_direct_pause_clears_any_pending_one() -> None:
    agent = replace(in_state(S.WRAP_UP), pending_pause=PauseReason.BREAK)
    paused = apply(agent, Pause(PauseReason.MEETING), at(66))
    assert paused.pause_reason is PauseReason.MEETING and paused.pending_pause is None


# ------------------------------------------------------------------------------------------ day counters


def test_counters_reset_on_a_new_day() -> None:
    agent = in_state(S.WRAP_UP)
    assert agent.counters == DayCounters(T0.date(), answered=1, missed=0, talk_seconds=60.0)
    tomorrow = T0 + timedelta(days=1)
    after = apply(agent, WrapupDone(), tomorrow)
    assert after.counters == DayCounters(tomorrow.date())


def test_a_call_across_midnight_counts_its_talk_on_the_day_it_ended() -> None:
    late = datetime(2026, 3, 2, 23, 59, 0)
    agent = apply(logged_out("1001", late), LogIn(MEMBERSHIPS), late)
    agent = apply(apply(agent, Ring("c", wrapup_seconds=0), late), Answer(), late)
    after = apply(agent, HangUp(), late + timedelta(minutes=2))
    assert after.counters == DayCounters(late.date() + timedelta(days=1), talk_seconds=120.0)


def test_event_names() -> None:
    assert [event_name(e) for e in EVENTS.values()] == list(EVENTS)


# ------------------------------------------------------------------------------------------- properties

EVENT_STRATEGY: st.SearchStrategy[AgentEvent] = st.one_of(
    st.builds(LogIn, st.just(MEMBERSHIPS)),
    st.just(LogOut()),
    st.just(Ready()),
    st.builds(Pause, st.sampled_from(PauseReason)),
    st.builds(Ring, st.sampled_from(["a", "b"]), st.just("zh-psychology"), st.integers(0, 20)),
    st.builds(Answer, st.sampled_from([None, "a", "b"])),
    st.just(RingTimeout()),
    st.just(RingCancelled()),
    st.just(HangUp()),
    st.just(WrapupDone()),
    st.builds(ForcePause, st.sampled_from(PauseReason), st.sampled_from(["s1", "s2"])),
    st.builds(ForceLogOut, st.just("s1")),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(EVENT_STRATEGY, st.floats(0, 30)), max_size=40))
def test_app_queue_is_always_told_the_truth(steps: list[tuple[AgentEvent, float]]) -> None:
    """Replaying the commands on a model of app_queue: the agent is a member of its queues exactly when
    logged in, and paused there exactly when paused or a pause is pending. Invariants hold after every
    step and only IllegalTransition is ever raised."""
    agent = logged_out("1001", T0)
    now = T0
    members: set[str] = set()
    app_queue_paused = False
    for event, gap in steps:
        now += timedelta(seconds=gap)
        try:
            result = transition(agent, event, now)
        except IllegalTransition:
            continue
        for command in result.commands:
            if isinstance(command, QueueAdd):
                assert command.queue not in members
                members.add(command.queue)
                app_queue_paused = command.paused
            elif isinstance(command, QueueRemove):
                members.remove(command.queue)
            else:
                app_queue_paused = command.paused
        before, agent = agent, result.status
        assert agent.since >= before.since
        assert (agent.state is not S.LOGGED_OUT) == (members == set(agent.queues) != set())
        if agent.state is not S.LOGGED_OUT:
            assert app_queue_paused == (agent.state is S.PAUSED or agent.pending_pause is not None)
        assert (agent.pause_reason is not None) == (agent.state is S.PAUSED)
        assert (agent.call_id is not None) == (agent.state in (S.RINGING, S.ON_CALL, S.WRAP_UP))
        assert (agent.wrapup_until is not None) == (agent.state is S.WRAP_UP)
        assert agent.pending_pause is None or agent.state in (S.RINGING, S.ON_CALL, S.WRAP_UP)
        assert agent.counters.answered >= 0 and agent.counters.missed >= 0
        assert agent.counters.talk_seconds >= 0
