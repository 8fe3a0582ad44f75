"""Live model on synthetic Asterisk 22 queue calls, ordered as in ami-queue-events.md §5."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from callcenter.ami.events import TranslationError, translate
from callcenter.ami.framing import AmiMessage
from callcenter.live.model import (
    CallChanged,
    CallDropped,
    CallEnded,
    Change,
    LiveModel,
    MemberChanged,
    QueueChanged,
)
from callcenter.records import AttemptOutcome, CallRecord, Disposition

T0 = 1_760_000_000.0
QUEUE = "youth-psych"


def snapshot(
    prefix: str, channel: str, uid: str, lid: str, *, num: str, exten: str, state: int
) -> list[tuple[str, str]]:
    fields = [
        ("Channel", channel),
        ("ChannelState", str(state)),
        ("ChannelStateDesc", "Up" if state == 6 else "Ring"),
        ("CallerIDNum", num),
        ("CallerIDName", "共青团用户" if prefix == "" else "<unknown>"),
        ("ConnectedLineNum", "<unknown>"),
        ("ConnectedLineName", "<unknown>"),
        ("Language", "zh"),
        ("AccountCode", ""),
        ("Context", "hotline-inbound" if prefix == "" else "from-queue"),
        ("Exten", exten),
        ("Priority", "1"),
        ("Uniqueid", uid),
        ("Linkedid", lid),
    ]
    return [(prefix + k, v) for k, v in fields]


class Scenario:
    """Builds one hotline call's AMI events and feeds them to a model."""

    def __init__(self, model: LiveModel, lid: str = "1760000000.1", number: str = "13800138000") -> None:
        self.model = model
        self.lid = lid
        self.number = number
        self.caller = f"PJSIP/trunk-{lid[-4:]}"
        self.changes: list[Change] = []
        self.members: dict[str, str] = {}  # interface -> member channel
        self._n = 1

    def feed(self, name: str, ts: float | None, pairs: list[tuple[str, str]]) -> list[Change]:
        msg = AmiMessage(
            [
                ("Event", name),
                ("Privilege", "call,all"),
                *(([("Timestamp", f"{ts:.6f}")]) if ts else []),
                *pairs,
            ]
        )
        event = translate(msg)
        assert event is not None
        out = self.model.apply(event)
        self.changes += out
        return out

    def me(self, state: int = 6) -> list[tuple[str, str]]:
        return snapshot("", self.caller, self.lid, self.lid, num=self.number, exten="12355", state=state)

    def member(self, interface: str, prefix: str = "Dest", state: int = 5) -> list[tuple[str, str]]:
        chan = self.members[interface]
        return snapshot(
            prefix,
            chan,
            f"{self.lid}{len(chan)}{interface[-1]}",
            self.lid,
            num=interface[-4:],
            exten="s",
            state=state,
        )

    # --- building blocks -------------------------------------------------------------------------------
    def arrive(self, t: float) -> None:
        self.feed("Newchannel", t, self.me(state=4))
        self.feed("VarSet", t, [*self.me(4), ("Variable", "HOTLINE_QUEUE"), ("Value", "")])
        self.feed("Newstate", t + 0.1, self.me())
        self.feed(
            "Newexten",
            t + 0.2,
            [*self.me(), ("Extension", "12355"), ("Application", "AGI"), ("AppData", "agi://x/ivr")],
        )

    def ivr(self, t: float, queue: str = QUEUE) -> None:
        for var, value in [
            ("HOTLINE_LANGUAGE", "zh"),
            ("HOTLINE_MENU_PATH", "1-2"),
            ("HOTLINE_PRIORITY", "2"),
            ("HOTLINE_QUEUE_TIMEOUT", "60"),
            ("HOTLINE_QUEUE", queue),
        ]:
            self.feed("VarSet", t, [*self.me(), ("Variable", var), ("Value", value)])

    def join(self, t: float) -> None:
        self.feed("VarSet", t, [*self.me(), ("Variable", "QUEUE_PRIO"), ("Value", "2")])
        self.feed("QueueCallerJoin", t, [*self.me(), ("Queue", QUEUE), ("Position", "1"), ("Count", "1")])

    def ring(self, t: float, interface: str) -> None:
        self._n += 1
        chan = f"{interface}-0000000{self._n}"
        self.members[interface] = chan
        self.feed("Newchannel", t, self.member(interface, prefix="", state=0))
        self.feed(
            "AgentCalled",
            t,
            [
                *self.me(),
                *self.member(interface),
                ("Queue", QUEUE),
                ("MemberName", f"Agent {interface[-4:]}"),
                ("Interface", interface),
            ],
        )
        self.feed("DialBegin", t, [*self.me(), *self.member(interface), ("DialString", interface[6:])])
        self.feed("Newstate", t, self.member(interface, prefix="", state=5))

    def no_answer(self, t: float, interface: str, ring_ms: int) -> None:
        agent = [("Queue", QUEUE), ("MemberName", f"Agent {interface[-4:]}"), ("Interface", interface)]
        self.feed(
            "AgentRingNoAnswer", t, [*self.me(), *self.member(interface), *agent, ("RingTime", str(ring_ms))]
        )
        self.feed("DialEnd", t, [*self.me(), *self.member(interface), ("DialStatus", "NOANSWER")])
        self.feed("Hangup", t, [*self.member(interface, prefix=""), ("Cause", "0"), ("Cause-txt", "Unknown")])

    def answer(self, t: float, interface: str, hold: int | None, ring: int) -> None:
        agent = [("Queue", QUEUE), ("MemberName", f"Agent {interface[-4:]}"), ("Interface", interface)]
        self.feed("Newstate", t, self.member(interface, prefix="", state=6))
        self.feed("DialEnd", t, [*self.me(), *self.member(interface, state=6), ("DialStatus", "ANSWER")])
        self.feed("QueueCallerLeave", t, [*self.me(), ("Queue", QUEUE), ("Count", "0"), ("Position", "1")])
        hold_pairs = [("HoldTime", str(hold))] if hold is not None else []
        self.feed(
            "AgentConnect",
            t,
            [*self.me(), *self.member(interface, state=6), *agent, ("RingTime", str(ring)), *hold_pairs],
        )
        bridge = [("BridgeUniqueid", "b-1"), ("BridgeType", "basic"), ("BridgeTechnology", "simple_bridge")]
        self.feed("BridgeEnter", t, [*bridge, ("BridgeNumChannels", "1"), *self.me()])
        self.feed(
            "BridgeEnter",
            t,
            [*bridge, ("BridgeNumChannels", "2"), *self.member(interface, prefix="", state=6)],
        )

    def complete(self, t: float, interface: str, hold: int, talk: int | None, reason: str = "caller") -> None:
        agent = [("Queue", QUEUE), ("MemberName", f"Agent {interface[-4:]}"), ("Interface", interface)]
        bridge = [("BridgeUniqueid", "b-1"), ("BridgeType", "basic"), ("BridgeTechnology", "simple_bridge")]
        self.feed("BridgeLeave", t, [*bridge, ("BridgeNumChannels", "1"), *self.me()])
        talk_pairs = [("TalkTime", str(talk))] if talk is not None else []
        self.feed(
            "AgentComplete",
            t,
            [
                *self.me(),
                *self.member(interface, state=6),
                *agent,
                ("HoldTime", str(hold)),
                *talk_pairs,
                ("Reason", reason),
            ],
        )
        self.feed(
            "BridgeLeave",
            t,
            [*bridge, ("BridgeNumChannels", "0"), *self.member(interface, prefix="", state=6)],
        )

    def caller_hangup(self, t: float, cause: int = 16) -> None:
        self.feed("Hangup", t, [*self.me(), ("Cause", str(cause)), ("Cause-txt", "Normal Clearing")])

    def member_hangup(self, t: float, interface: str, cause: int = 16) -> None:
        self.feed(
            "Hangup",
            t,
            [*self.member(interface, prefix="", state=6), ("Cause", str(cause)), ("Cause-txt", "x")],
        )

    def ended(self) -> list[CallRecord]:
        return [c.record for c in self.changes if isinstance(c, CallEnded)]


def at(offset: float) -> datetime:
    return datetime.fromtimestamp(T0 + offset, UTC)


def test_answered_queue_call() -> None:
    model = LiveModel()
    s = Scenario(model)
    s.arrive(T0)
    s.ivr(T0 + 10)
    s.join(T0 + 11)
    s.ring(T0 + 12, "PJSIP/1001")
    s.answer(T0 + 20, "PJSIP/1001", hold=9, ring=8)
    assert model.call(s.lid) is not None
    s.complete(T0 + 80, "PJSIP/1001", hold=9, talk=60)
    s.caller_hangup(T0 + 80.5)
    assert s.ended() == []  # the member leg is still up
    s.member_hangup(T0 + 80.6, "PJSIP/1001")
    [rec] = s.ended()
    assert rec.disposition is Disposition.ANSWERED
    assert rec.caller_number == "13800138000"
    assert rec.caller_name == "共青团用户"
    assert rec.dialled_number == "12355"
    assert rec.language == "zh" and rec.menu_path == "1-2" and rec.priority == 2
    assert rec.queue == QUEUE
    assert rec.agent == "Agent 1001" and rec.agent_interface == "PJSIP/1001"
    assert rec.wait_seconds == 9.0  # HoldTime, not the 9 s of timestamps by chance: see next test
    assert rec.talk_seconds == 60.0
    assert rec.hangup_cause == 16
    assert rec.arrived_at == at(0)
    assert rec.ivr_ended_at == at(10)
    assert rec.queue_joined_at == at(11)
    assert rec.answered_at == at(20)
    assert rec.ended_at == at(80.6)
    [attempt] = rec.attempts
    assert attempt.seq == 1 and attempt.agent == "Agent 1001" and attempt.interface == "PJSIP/1001"
    assert attempt.outcome is AttemptOutcome.COMPLETED
    assert attempt.called_at == at(12) and attempt.connected_at == at(20) and attempt.ended_at == at(80)
    assert attempt.ring_seconds == 8.0 and attempt.talk_seconds == 60.0 and attempt.end_reason == "caller"
    # exactly one CallEnded, and CallChanged on arrival, IVR end, join, ring, answer
    assert sum(isinstance(c, CallEnded) for c in s.changes) == 1
    changed = [c.record for c in s.changes if isinstance(c, CallChanged)]
    assert changed[0].arrived_at == at(0) and changed[0].disposition is None
    assert any(r.ivr_ended_at is not None and r.queue_joined_at is None for r in changed)
    assert any(r.answered_at is not None for r in changed)
    assert model.calls() == []
    snap = model.queue_snapshot(QUEUE)
    assert snap is not None and snap.waiting == () and snap.answered == 1


def test_wait_and_talk_from_timestamps_without_holdtime() -> None:
    model = LiveModel()
    s = Scenario(model)
    s.arrive(T0)
    s.ivr(T0 + 5)
    s.join(T0 + 6)
    s.ring(T0 + 7, "PJSIP/1001")
    s.answer(T0 + 19, "PJSIP/1001", hold=None, ring=12)
    s.complete(T0 + 49, "PJSIP/1001", hold=13, talk=None)
    s.caller_hangup(T0 + 50)
    s.member_hangup(T0 + 50, "PJSIP/1001")
    [rec] = s.ended()
    assert rec.wait_seconds == 13.0  # join 6 → answer 19
    assert rec.talk_seconds == 31.0  # answer 19 → end 50


def test_no_timestamps_no_times() -> None:
    model = LiveModel()
    s = Scenario(model)
    s.feed("Newchannel", None, s.me(4))
    s.feed("QueueCallerJoin", None, [*s.me(), ("Queue", QUEUE), ("Position", "1"), ("Count", "1")])
    s.caller_hangup(0)
    [rec] = s.ended()
    assert rec.disposition is Disposition.ABANDONED
    assert rec.arrived_at is None and rec.ended_at is None and rec.wait_seconds is None


def test_abandoned_while_ringing() -> None:
    model = LiveModel()
    s = Scenario(model)
    s.arrive(T0)
    s.ivr(T0 + 10)
    s.join(T0 + 11)
    s.ring(T0 + 12, "PJSIP/1001")
    waiting = model.queue_snapshot(QUEUE)
    assert waiting is not None and [w.caller_number for w in waiting.waiting] == ["13800138000"]
    assert waiting.waiting[0].joined_at == at(11) and waiting.waiting[0].priority == 2
    s.feed("DialEnd", T0 + 26, [*s.me(), *s.member("PJSIP/1001"), ("DialStatus", "CANCEL")])
    s.feed(
        "QueueCallerAbandon",
        T0 + 26,
        [*s.me(), ("Queue", QUEUE), ("Position", "1"), ("OriginalPosition", "1"), ("HoldTime", "15")],
    )
    s.feed("QueueCallerLeave", T0 + 26, [*s.me(), ("Queue", QUEUE), ("Count", "0"), ("Position", "1")])
    s.member_hangup(T0 + 26, "PJSIP/1001", cause=0)
    s.feed(
        "Hangup",
        T0 + 26,
        [*s.me(), ("Cause", "19"), ("Cause-txt", "User alerting, no answer"), ("TechCause", "487")],
    )
    [rec] = s.ended()
    assert rec.disposition is Disposition.ABANDONED
    assert rec.wait_seconds == 15.0
    assert rec.talk_seconds is None and rec.agent is None
    assert rec.hangup_cause == 19
    [attempt] = rec.attempts
    assert attempt.outcome is AttemptOutcome.NO_ANSWER and attempt.ring_seconds == 14.0
    snap = model.queue_snapshot(QUEUE)
    assert snap is not None and snap.waiting == () and snap.abandoned == 1


def test_queue_timeout_is_not_an_abandon() -> None:
    model = LiveModel()
    s = Scenario(model)
    s.arrive(T0)
    s.ivr(T0 + 10)
    s.join(T0 + 11)
    s.ring(T0 + 12, "PJSIP/1001")
    s.no_answer(T0 + 27, "PJSIP/1001", ring_ms=15000)
    s.feed(
        "QueueCallerAbandon",
        T0 + 71,
        [*s.me(), ("Queue", QUEUE), ("Position", "1"), ("OriginalPosition", "1"), ("HoldTime", "60")],
    )
    s.feed("QueueCallerLeave", T0 + 71, [*s.me(), ("Queue", QUEUE), ("Count", "0"), ("Position", "1")])
    s.feed("VarSet", T0 + 71, [*s.me(), ("Variable", "ABANDONED"), ("Value", "TRUE")])
    s.feed("VarSet", T0 + 71, [*s.me(), ("Variable", "QUEUESTATUS"), ("Value", "TIMEOUT")])
    s.feed("Newexten", T0 + 71, [*s.me(), ("Application", "Playback"), ("AppData", "hotline/busy")])
    s.caller_hangup(T0 + 75)
    [rec] = s.ended()
    assert rec.disposition is Disposition.QUEUE_TIMEOUT
    assert rec.wait_seconds == 60.0
    [attempt] = rec.attempts
    assert attempt.outcome is AttemptOutcome.NO_ANSWER and attempt.ring_seconds == 15.0
    snap = model.queue_snapshot(QUEUE)
    assert snap is not None and snap.timed_out == 1 and snap.abandoned == 0


def test_status_from_an_earlier_queue_visit_does_not_count() -> None:
    model = LiveModel()
    s = Scenario(model)
    s.arrive(T0)
    s.ivr(T0 + 1)
    s.join(T0 + 2)
    s.feed("QueueCallerAbandon", T0 + 30, [*s.me(), ("Queue", QUEUE), ("HoldTime", "28")])
    s.feed("VarSet", T0 + 30, [*s.me(), ("Variable", "QUEUESTATUS"), ("Value", "TIMEOUT")])
    s.join(T0 + 31)  # overflow: queued again
    s.feed("QueueCallerAbandon", T0 + 40, [*s.me(), ("Queue", QUEUE), ("HoldTime", "9")])
    s.caller_hangup(T0 + 40)
    [rec] = s.ended()
    assert rec.disposition is Disposition.ABANDONED
    assert rec.wait_seconds == 9.0


def test_a_caller_who_takes_the_callback_offer_left_for_a_callback_not_abandoned() -> None:
    model = LiveModel()
    s = Scenario(model)
    s.arrive(T0)
    s.ivr(T0 + 10)
    s.join(T0 + 11)
    # key 1 while waiting: app_queue's exit key (QueueCallerLeave, no abandon), then [hotline-queue-exit]
    s.feed("QueueCallerLeave", T0 + 131, [*s.me(), ("Queue", QUEUE), ("Count", "0"), ("Position", "1")])
    s.feed("UserEvent", T0 + 131, [*s.me(), ("UserEvent", "HotlineCallback"), ("Reason", "queue-offer")])
    s.caller_hangup(T0 + 135)
    [rec] = s.ended()
    assert rec.disposition is Disposition.QUEUE_CALLBACK
    assert rec.wait_seconds == 120.0
    snap = model.queue_snapshot(QUEUE)
    assert snap is not None and snap.abandoned == 0 and snap.timed_out == 0


def test_a_callback_booked_in_the_menu_is_not_a_hang_up_in_the_menu() -> None:
    model = LiveModel()
    s = Scenario(model)
    s.arrive(T0)
    s.feed("VarSet", T0 + 4, [*s.me(), ("Variable", "HOTLINE_QUEUE"), ("Value", QUEUE)])
    s.feed("UserEvent", T0 + 5, [*s.me(), ("UserEvent", "HotlineCallback"), ("Reason", "ivr")])
    s.caller_hangup(T0 + 8)
    [rec] = s.ended()
    assert rec.disposition is Disposition.IVR_CALLBACK
    # an unrelated user event or one raised on another channel changes nothing
    other = Scenario(LiveModel())
    other.arrive(T0)
    other.feed("VarSet", T0 + 4, [*other.me(), ("Variable", "HOTLINE_LANGUAGE"), ("Value", "zh")])
    other.feed("UserEvent", T0 + 5, [*other.me(), ("UserEvent", "SurveyDone")])
    other.caller_hangup(T0 + 8)
    assert [r.disposition for r in other.ended()] == [Disposition.IVR_HANGUP]


def test_a_queue_that_gave_up_keeps_its_timeout_even_when_its_action_books_a_callback() -> None:
    model = LiveModel()
    s = Scenario(model)
    s.arrive(T0)
    s.ivr(T0 + 1)
    s.join(T0 + 2)
    s.feed("VarSet", T0 + 600, [*s.me(), ("Variable", "QUEUESTATUS"), ("Value", "TIMEOUT")])
    s.feed("UserEvent", T0 + 600, [*s.me(), ("UserEvent", "HotlineCallback"), ("Reason", "queue-timeout")])
    s.caller_hangup(T0 + 603)
    [rec] = s.ended()
    assert rec.disposition is Disposition.QUEUE_TIMEOUT


def test_joinempty_without_join_is_queue_timeout() -> None:
    model = LiveModel()
    s = Scenario(model)
    s.arrive(T0)
    s.ivr(T0 + 3)
    s.feed("VarSet", T0 + 3, [*s.me(), ("Variable", "QUEUESTATUS"), ("Value", "JOINEMPTY")])
    s.caller_hangup(T0 + 9)
    [rec] = s.ended()
    assert rec.disposition is Disposition.QUEUE_TIMEOUT
    assert rec.queue == QUEUE


def test_ivr_hangup() -> None:
    model = LiveModel()
    s = Scenario(model)
    s.arrive(T0)
    s.feed("VarSet", T0 + 4, [*s.me(), ("Variable", "HOTLINE_LANGUAGE"), ("Value", "mn")])
    s.feed("DTMFEnd", T0 + 5, [*s.me(), ("Digit", "1"), ("Direction", "Received"), ("DurationMs", "120")])
    s.caller_hangup(T0 + 6)
    [rec] = s.ended()
    assert rec.disposition is Disposition.IVR_HANGUP
    assert rec.language == "mn"
    assert rec.ivr_ended_at is None and rec.queue is None and rec.wait_seconds is None


@pytest.mark.parametrize(
    ("value", "expected"), [("out-of-hours", Disposition.OUT_OF_HOURS), ("blocked", Disposition.BLOCKED)]
)
def test_ivr_disposition(value: str, expected: Disposition) -> None:
    model = LiveModel()
    s = Scenario(model)
    s.arrive(T0)
    s.feed("VarSet", T0 + 2, [*s.me(), ("Variable", "HOTLINE_DISPOSITION"), ("Value", value)])
    s.caller_hangup(T0 + 8)
    [rec] = s.ended()
    assert rec.disposition is expected
    assert rec.ivr_ended_at == at(2)


def test_ring_no_answer_then_another_agent_answers() -> None:
    model = LiveModel()
    s = Scenario(model)
    s.arrive(T0)
    s.ivr(T0 + 10)
    s.join(T0 + 11)
    s.ring(T0 + 12, "PJSIP/1001")
    s.no_answer(T0 + 27, "PJSIP/1001", ring_ms=15000)
    s.ring(T0 + 28, "PJSIP/1002")
    s.answer(T0 + 31, "PJSIP/1002", hold=20, ring=3)
    s.complete(T0 + 76, "PJSIP/1002", hold=20, talk=45, reason="agent")
    s.member_hangup(T0 + 76, "PJSIP/1002")
    s.caller_hangup(T0 + 76.2)
    [rec] = s.ended()
    assert rec.disposition is Disposition.ANSWERED
    assert rec.agent == "Agent 1002" and rec.agent_interface == "PJSIP/1002"
    assert rec.wait_seconds == 20.0 and rec.talk_seconds == 45.0
    first, second = rec.attempts
    assert (first.seq, first.interface, first.outcome) == (1, "PJSIP/1001", AttemptOutcome.NO_ANSWER)
    assert first.ring_seconds == 15.0
    assert (second.seq, second.interface, second.outcome) == (2, "PJSIP/1002", AttemptOutcome.COMPLETED)
    assert second.talk_seconds == 45.0 and second.end_reason == "agent" and second.ring_seconds == 3.0


def test_ringall_loser_is_no_answer() -> None:
    model = LiveModel()
    s = Scenario(model)
    s.arrive(T0)
    s.join(T0 + 1)
    s.ring(T0 + 2, "PJSIP/1001")
    s.ring(T0 + 2, "PJSIP/1002")
    s.answer(T0 + 5, "PJSIP/1002", hold=4, ring=3)
    rec = model.call(s.lid)
    assert rec is not None
    a1, a2 = rec.attempts
    assert a1.outcome is AttemptOutcome.NO_ANSWER and a1.ring_seconds == 3.0
    assert a2.outcome is AttemptOutcome.CONNECTED


def test_member_state_and_waiting_callers() -> None:
    model = LiveModel()
    member = [
        ("Queue", QUEUE),
        ("MemberName", "Agent 1001"),
        ("Interface", "PJSIP/1001"),
        ("StateInterface", "PJSIP/1001"),
        ("Membership", "dynamic"),
        ("Penalty", "0"),
        ("CallsTaken", "0"),
        ("LastCall", "0"),
        ("InCall", "0"),
        ("Status", "1"),
        ("Paused", "0"),
        ("PausedReason", ""),
    ]

    def feed(name: str, pairs: list[tuple[str, str]]) -> list[Change]:
        event = translate(AmiMessage([("Event", name), *pairs]))
        assert event is not None
        return model.apply(event, received_at=T0)

    assert feed("QueueMemberAdded", member) == [MemberChanged(QUEUE, "PJSIP/1001")]
    paused = [(k, {"Paused": "1", "PausedReason": "lunch"}.get(k, v)) for k, v in member]
    feed("QueueMemberPause", paused)
    [snap] = model.queue_snapshots()
    [m] = snap.members
    assert m.paused and m.paused_reason == "lunch" and m.status == 1 and m.member_name == "Agent 1001"
    feed(
        "QueueMemberStatus",
        [(k, {"Status": "2", "InCall": "1", "CallsTaken": "3"}.get(k, v)) for k, v in paused],
    )
    [snap] = model.queue_snapshots()
    assert snap.members[0].in_call and snap.members[0].calls_taken == 3 and snap.calls_taken == 3
    # list items from QueueStatus rebuild the same state
    changes = feed(
        "QueueEntry",
        [
            ("Queue", QUEUE),
            ("Position", "1"),
            ("Channel", "PJSIP/t-1"),
            ("Uniqueid", "u1"),
            ("CallerIDNum", "139"),
            ("Wait", "30"),
            ("Priority", "1"),
        ],
    )
    assert QueueChanged(QUEUE) in changes
    feed(
        "QueueMember",
        [
            ("Queue", QUEUE),
            ("Name", "Agent 1002"),
            ("Location", "PJSIP/1002"),
            ("Status", "1"),
            ("Paused", "0"),
        ],
    )
    [snap] = model.queue_snapshots()
    assert [w.caller_number for w in snap.waiting] == ["139"]
    assert snap.waiting[0].joined_at == at(-30)
    assert [m.interface for m in snap.members] == ["PJSIP/1001", "PJSIP/1002"]
    feed("QueueMemberRemoved", member)
    [snap] = model.queue_snapshots()
    assert [m.interface for m in snap.members] == ["PJSIP/1002"]


def test_core_show_channel_rebuilds_a_call() -> None:
    model = LiveModel()
    s = Scenario(model)
    event = translate(
        AmiMessage(
            [
                ("Event", "CoreShowChannel"),
                *s.me(),
                ("BridgeId", ""),
                ("Application", "Queue"),
                ("Duration", "00:01:00"),
            ]
        )
    )
    assert event is not None
    changes = model.apply(event, received_at=T0)
    assert isinstance(changes[0], CallChanged) and changes[0].record.caller_number == "13800138000"
    s.caller_hangup(T0 + 1)
    [rec] = s.ended()
    assert rec.linkedid == s.lid


def test_each_change_carries_its_own_copy_of_the_record() -> None:
    """Subscribers (the DB writer batches them) must see the record as it was, not as it is now."""
    model = LiveModel()
    s = Scenario(model)
    s.arrive(T0)
    s.ivr(T0 + 10)
    s.join(T0 + 11)
    s.ring(T0 + 12, "PJSIP/1001")
    [rung] = [c.record for c in s.changes if isinstance(c, CallChanged) and c.record.attempts]
    assert rung == model.call(s.lid)  # every field copied
    s.answer(T0 + 20, "PJSIP/1001", hold=9, ring=8)
    s.complete(T0 + 80, "PJSIP/1001", hold=9, talk=60)
    s.caller_hangup(T0 + 80.5)
    s.member_hangup(T0 + 80.6, "PJSIP/1001")
    [ended] = s.ended()
    assert ended.answered_at == at(20) and ended.attempts[0].outcome is AttemptOutcome.COMPLETED
    assert rung.answered_at is None and rung.disposition is None and rung.agent is None
    assert rung.attempts[0].outcome is AttemptOutcome.CALLED and rung.attempts[0].connected_at is None


def test_sweep_drops_silent_calls() -> None:
    model = LiveModel()
    s = Scenario(model)
    s.arrive(T0)
    assert model.sweep(T0 + 100) == []
    [dropped] = model.sweep(T0 + 3700)
    assert isinstance(dropped, CallDropped) and dropped.record.disposition is None
    assert model.calls() == []


def test_garbled_cause_is_a_translation_error() -> None:
    s = Scenario(LiveModel())
    with pytest.raises(TranslationError) as info:
        translate(AmiMessage([("Event", "Hangup"), *s.me(), ("Cause", "sixteen")]))
    assert info.value.event == "Hangup"
    assert ("Cause", "sixteen") in info.value.headers


def test_unknown_event_is_other_event_and_ignored() -> None:
    event = translate(AmiMessage([("Event", "RTCPSent"), ("Timestamp", "12.5")]))
    assert event is not None and type(event).__name__ == "OtherEvent" and event.timestamp == 12.5
    assert LiveModel().apply(event) == []
    assert translate(AmiMessage([("Response", "Success")])) is None
