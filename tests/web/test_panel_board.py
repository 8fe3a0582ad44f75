"""The agent board on its own: AMI facts in (as Asterisk spells them), states out; requests checked before
any AMI command, a refused command puts the old state back; members added elsewhere are adopted."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agents.state import AgentState, IllegalTransition, LogIn, Pause, PauseReason, Ready
from callcenter.agentdesk.board import AgentBoard
from callcenter.ami.actions import AmiActions
from callcenter.ami.connection import ActionSpec, AmiActionError, AmiResponse
from callcenter.ami.framing import AmiMessage
from tests.integration.harness import quick_plan

PLAN = quick_plan()


class FakeAmi:
    """Records actions; refuses the ones named in ``refuse``."""

    def __init__(self) -> None:
        self.sent: list[dict[str, str]] = []
        self.refuse: set[str] = set()

    async def send_action(self, action: ActionSpec, *, as_list: bool, timeout: float = 10.0) -> AmiResponse:
        fields = dict(action)
        self.sent.append(fields)
        if fields["Action"] in self.refuse:
            raise AmiActionError(fields["Action"], "Interface not found")
        return AmiResponse(AmiMessage([("Response", "Success")]))


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _event(name: str, ext: str, linkedid: str, queue: str = "zh-legal", **extra: str) -> AmiMessage:
    pairs = [
        ("Event", name),
        ("Channel", f"PJSIP/trunk-{linkedid}"),
        ("Uniqueid", linkedid),
        ("Linkedid", linkedid),
        ("DestChannel", f"PJSIP/{ext}-0001"),
        ("DestUniqueid", f"{linkedid}.9"),
        ("DestLinkedid", linkedid),
        ("Queue", queue),
        ("MemberName", ext),
        ("Interface", f"PJSIP/{ext}"),
    ]
    return AmiMessage(pairs + list(extra.items()))


@pytest.fixture
def rig() -> tuple[AgentBoard, FakeAmi, Clock, list[Mapping[str, Any]]]:
    ami, clock = FakeAmi(), Clock()
    published: list[Mapping[str, Any]] = []
    board = AgentBoard(AmiActions(ami), lambda: PLAN, published.append, clock=clock)
    return board, ami, clock, published


async def test_a_call_from_ring_to_wrap_up_then_ready(
    rig: tuple[AgentBoard, FakeAmi, Clock, list[Mapping[str, Any]]],
) -> None:
    board, ami, clock, published = rig
    await board.request("1002", LogIn(board.memberships("1002")))
    assert [a["Action"] for a in ami.sent] == ["QueueAdd"] * len(board.memberships("1002"))
    board.on_message(_event("AgentCalled", "1002", "c.1"))
    assert board.status("1002").state is AgentState.RINGING
    board.on_message(_event("AgentConnect", "1002", "c.1", HoldTime="3", RingTime="1"))
    assert board.status("1002").state is AgentState.ON_CALL
    assert board.view("1002").member_channel == "PJSIP/1002-0001"
    clock.now += timedelta(seconds=30)
    board.on_message(_event("AgentComplete", "1002", "c.1", HoldTime="3", TalkTime="30", Reason="caller"))
    status = board.status("1002")
    assert status.state is AgentState.WRAP_UP and status.counters.answered == 1
    assert board.tick() == 0  # wrap-up not over yet
    clock.now += timedelta(seconds=PLAN.queue("zh-legal").wrapup_seconds)  # type: ignore[union-attr]
    assert board.tick() == 1
    assert board.status("1002").state is AgentState.READY
    assert [p["state"] for p in published] == ["ready", "ringing", "on-call", "wrap-up", "ready"]


async def test_a_ring_is_cancelled_when_the_caller_hangs_up_or_someone_else_answers(
    rig: tuple[AgentBoard, FakeAmi, Clock, list[Mapping[str, Any]]],
) -> None:
    board, *_ = rig
    for ext in ("1002", "1004"):
        await board.request(ext, LogIn(board.memberships(ext)))
        board.on_message(_event("AgentCalled", ext, "c.2"))
    board.on_message(_event("AgentConnect", "1004", "c.2"))
    assert board.status("1002").state is AgentState.READY
    assert board.status("1002").counters.missed == 0
    board.on_message(_event("AgentCalled", "1002", "c.3"))
    board.on_message(
        AmiMessage(
            [
                ("Event", "Hangup"),
                ("Channel", "PJSIP/trunk-c.3"),
                ("Uniqueid", "c.3"),
                ("Linkedid", "c.3"),
                ("Cause", "16"),
            ]
        )
    )
    assert board.status("1002").state is AgentState.READY
    board.on_message(_event("AgentCalled", "1002", "c.4"))
    board.on_message(_event("AgentRingNoAnswer", "1002", "c.4", RingTime="15000"))
    assert board.status("1002").counters.missed == 1


async def test_requests_are_checked_first_and_a_refused_command_keeps_the_old_state(
    rig: tuple[AgentBoard, FakeAmi, Clock, list[Mapping[str, Any]]],
) -> None:
    board, ami, *_ = rig
    with pytest.raises(IllegalTransition):
        await board.request("1002", Ready())
    assert ami.sent == []  # nothing went to Asterisk
    await board.request("1002", LogIn(board.memberships("1002")))
    ami.refuse.add("QueuePause")
    with pytest.raises(AmiActionError):
        await board.request("1002", Pause(PauseReason.BREAK))
    assert board.status("1002").state is AgentState.READY


def test_members_added_or_removed_elsewhere_are_adopted(
    rig: tuple[AgentBoard, FakeAmi, Clock, list[Mapping[str, Any]]],
) -> None:
    board, ami, *_ = rig
    added = [
        ("Event", "QueueMemberAdded"),
        ("Queue", "zh-legal"),
        ("Interface", "PJSIP/1002"),
        ("MemberName", "1002"),
        ("Paused", "0"),
    ]
    board.on_message(AmiMessage(added))
    assert board.status("1002").state is AgentState.READY and ami.sent == []
    removed = [
        ("Event", "QueueMemberRemoved"),
        ("Queue", "zh-legal"),
        ("Interface", "PJSIP/1002"),
        ("MemberName", "1002"),
    ]
    board.on_message(AmiMessage(removed))
    assert board.status("1002").state is AgentState.LOGGED_OUT
    board.on_message(
        AmiMessage([*added[:2], ("Interface", "PJSIP/9999"), ("MemberName", "9999")])
    )  # not ours
