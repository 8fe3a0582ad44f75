"""Attended transfer (AMI Atxfer) of an answered queue call to 12348, end to end on the simulated PBX."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import func, select

from callcenter.crisis.models import CallRiskRow
from callcenter.db.models import AgentAttempt, Call
from callcenter.transfers.models import CallTransferRow
from pbxsim.channel import Channel, State
from pbxsim.endpoints import AgentBehaviour
from pbxsim.events import Event
from pbxsim.scripts import CallerScript
from tests.integration.harness import Rig, eventually, hotline_on_simulator

pytestmark = pytest.mark.slow

T = TypeVar("T")


@pytest.fixture
async def rig(postgres_url: str, database: object, tmp_path: Path) -> AsyncIterator[Rig]:
    async with hotline_on_simulator(postgres_url, tmp_path) as the_rig:
        yield the_rig


def _channel(rig: Rig, prefix: str, *, up: bool = False) -> Channel | None:
    for ch in rig.sim.rt.channels.values():
        if ch.name.startswith(prefix) and (not up or ch.state == State.UP):
            return ch
    return None


async def test_an_attended_transfer_to_12348_bridges_the_caller_to_it_and_stays_one_call(rig: Rig) -> None:
    rig.sim.set_agent("1002", AgentBehaviour(answer_after=0.2, talk_seconds=30.0))
    rig.sim.set_agent("12348", AgentBehaviour(answer_after=0.3, talk_seconds=2.0))
    events: list[Event] = []
    wanted = {"DialBegin", "AttendedTransfer", "AgentComplete", "BridgeEnter", "MusicOnHoldStart"}
    rig.sim.add_listener(lambda e: events.append(e) if e.name in wanted else None)
    await rig.log_in("1002")
    call = await rig.sim.place_call(CallerScript(number="13400000002", digits=[(0.1, "1"), (0.1, "2")]))

    await rig.answered(call.linkedid)
    async with rig.client("a1002", "agent", "1002") as client:
        response = await client.post(
            f"/api/calls/{call.linkedid}/transfer", json={"to": "12348", "mode": "attended"}
        )
        assert response.status_code == 200, response.text

        # The PBX dials 12348 from the agent's channel while the caller is held.
        target = await eventually(
            lambda: _async(_channel(rig, "PJSIP/pstn-", up=True)), 10, "12348 to answer the consultation"
        )
        dials = [e for e in events if e.name == "DialBegin" and e.get("DialString") == "12348@pstn"]
        assert [e.get("Channel").startswith("PJSIP/1002-") for e in dials] == [True]
        assert target.linkedid == call.linkedid
        assert [e.get("Channel") for e in events if e.name == "MusicOnHoldStart"] == [call.channel.name]

        # The agent hangs up: the caller is bridged to 12348.
        agent = _channel(rig, "PJSIP/1002-")
        assert agent is not None
        agent.request_hangup(16)
        done = await eventually(
            lambda: _async(next((e for e in events if e.name == "AttendedTransfer"), None)),
            10,
            "the attended transfer to complete",
        )
        assert done.get("Result") == "Success" and done.get("TransferTargetChannel") == target.name
        assert done.get("TransfereeChannel") == call.channel.name
        assert call.channel.bridge_id and call.channel.bridge_id == target.bridge_id
        completes = [e.get("Reason") for e in events if e.name == "AgentComplete"]
        assert completes == ["transfer"]

        listed = (await client.get(f"/api/calls/{call.linkedid}/transfers")).json()
    assert [(t["target"], t["mode"], t["status"], t["requested_by"]) for t in listed] == [
        ("12348", "attended", "sent", "a1002")
    ]
    assert listed[0]["channel"].startswith("PJSIP/1002-")

    # 12348 ends the conversation after its talk time: one call, answered, recorded once.
    outcome = await call.wait_finished(15)
    assert outcome.disposition == "answered"
    row = await rig.finished_call(call.linkedid)
    assert row.disposition == "answered" and row.agent_interface == "PJSIP/1002"
    assert rig.hotline.db is not None
    async with rig.hotline.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Call)) == 1
        transfer = (await session.scalars(select(CallTransferRow))).one()
        attempts = (await session.scalars(select(AgentAttempt))).all()
    assert [(a.linkedid, a.interface, a.end_reason) for a in attempts] == [
        (call.linkedid, "PJSIP/1002", "transfer")
    ]
    assert (transfer.linkedid, transfer.mode) == (call.linkedid, "attended")


async def _async(value: T | None) -> T | None:
    return value


async def test_the_crisis_conference_action_consults_110_and_hands_the_caller_over(rig: Rig) -> None:
    rig.sim.set_agent("1002", AgentBehaviour(answer_after=0.2, talk_seconds=30.0))
    rig.sim.set_agent("110", AgentBehaviour(answer_after=0.2, talk_seconds=1.0))
    transfers: list[Event] = []
    rig.sim.add_listener(lambda e: transfers.append(e) if e.name == "AttendedTransfer" else None)
    await rig.log_in("1002")
    call = await rig.sim.place_call(CallerScript(number="13400000003", digits=[(0.1, "1"), (0.1, "2")]))

    await rig.answered(call.linkedid)
    async with rig.client("a1002", "agent", "1002") as client:
        response = await client.post(f"/api/calls/{call.linkedid}/police", json={"mode": "conference"})
        assert response.status_code == 200, response.text
        assert (response.json()["target"], response.json()["mode"]) == ("110", "attended")
    police = await eventually(
        lambda: _async(_channel(rig, "PJSIP/pstn-", up=True)), 10, "110 to answer the consultation"
    )
    assert police.caller_num == "110" and police.linkedid == call.linkedid
    agent = _channel(rig, "PJSIP/1002-")
    assert agent is not None
    agent.request_hangup(16)
    await eventually(lambda: _async(transfers or None), 10, "the transfer to 110 to complete")
    assert call.channel.bridge_id == police.bridge_id != ""
    assert (await call.wait_finished(15)).disposition == "answered"
    row = await rig.finished_call(call.linkedid)
    assert row.disposition == "answered"
    assert rig.hotline.db is not None
    async with rig.hotline.db.sessions() as session:
        risk = await session.get(CallRiskRow, call.linkedid)
        assert await session.scalar(select(func.count()).select_from(Call)) == 1
    assert risk is not None and (risk.risk_level, risk.police_mode) == ("high", "attended")
