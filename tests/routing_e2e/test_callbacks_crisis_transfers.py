"""Callback seat, crisis fast path and transfers on the simulated PBX, over real TCP and real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from callcenter.callbacks.models import CallbackAttemptRow, CallbackTaskRow
from callcenter.callbacks.service import callbacks_for_number
from callcenter.crisis.models import CallRiskRow
from callcenter.transfers.models import CallTransferRow
from pbxsim.endpoints import AgentBehaviour
from pbxsim.events import Event
from pbxsim.scripts import CallerScript
from tests.integration.harness import Rig, eventually, hotline_on_simulator

pytestmark = pytest.mark.slow


@pytest.fixture
async def rig(postgres_url: str, database: object, tmp_path: Path) -> AsyncIterator[Rig]:
    async with hotline_on_simulator(postgres_url, tmp_path) as the_rig:
        yield the_rig


async def _tasks(rig: Rig, number: str) -> list[CallbackTaskRow]:
    assert rig.hotline.db is not None and rig.hotline.callbacks is not None
    await rig.hotline.callbacks.drained()
    async with rig.hotline.db.sessions() as session:
        return list(
            (await session.scalars(select(CallbackTaskRow).where(CallbackTaskRow.number == number))).all()
        )


async def test_abandoned_calls_from_one_number_make_one_task_and_the_callback_reaches_the_caller(
    rig: Rig,
) -> None:
    number = "13912345678"
    for _ in range(2):
        # Nobody serves the Mongolian legal queue: the caller waits, then gives up.
        call = await rig.sim.place_call(
            CallerScript(number=number, digits=[(0.1, "2"), (0.1, "2")], hangup_after=1.5)
        )
        assert (await call.wait_finished(20)).disposition == "abandoned"
        await rig.finished_call(call.linkedid)

    async def merged() -> list[CallbackTaskRow] | None:
        rows = await _tasks(rig, number)
        return rows if rows and len(rows[0].call_ids.split(",")) == 2 else None

    rows = await eventually(merged, 10, "the second abandoned call to merge into the task")
    assert len(rows) == 1
    task = rows[0]
    assert (task.status, task.sources, task.queue) == ("open", "abandoned", "mn-legal")

    # The callback agent dials: agent 1020's phone first, then the caller, with caller ID 12355.
    callee_caller_ids: list[str] = []

    def listen(event: Event) -> None:
        if event.name == "DialBegin" and event.get("DialString") == f"{number}@pstn":
            callee_caller_ids.append(event.get("CallerIDNum"))

    rig.sim.add_listener(listen)
    async with rig.client("cb", "callback-agent", "1020") as client:
        listed = (await client.get("/api/callbacks")).json()
        assert [t["id"] for t in listed if t["number"] == number] == [task.id]
        taken = (await client.post("/api/callbacks/next")).json()  # the callback seat takes the due task
        assert (taken["id"], taken["assigned_to"]) == (task.id, "1020")
        response = await client.post(f"/api/callbacks/{task.id}/dial")
        assert response.status_code == 202, response.text

        async def done() -> CallbackTaskRow | None:
            rows = await _tasks(rig, number)
            return rows[0] if rows[0].status == "done" else None

        closed = await eventually(done, 20, "the callback to reach the caller")
        assert (closed.attempts, closed.last_outcome) == (1, "reached")
        assert (await client.post(f"/api/callbacks/{task.id}/dial")).status_code == 409
    assert callee_caller_ids == ["12355"]
    assert rig.hotline.db is not None
    async with rig.hotline.db.sessions() as session:
        attempt = (await session.scalars(select(CallbackAttemptRow))).one()
    assert attempt.outcome == "reached" and attempt.agent == "1020" and attempt.linkedid
    file = await callbacks_for_number(rig.hotline.db.sessions, "+86 139-1234-5678")
    assert [t.id for t in file] == [task.id]


async def test_a_caller_who_gets_through_closes_their_task(rig: Rig) -> None:
    number = "13712345678"
    call = await rig.sim.place_call(
        CallerScript(number=number, digits=[(0.1, "2"), (0.1, "2")], hangup_after=1.0)
    )
    await call.wait_finished(20)
    await eventually(lambda: _first_open(rig, number), 10, "a task for the abandoned call")
    await rig.log_in("1002")
    call = await rig.sim.place_call(CallerScript(number=number, digits=[(0.1, "1"), (0.1, "2")]))
    assert (await call.wait_finished(30)).disposition == "answered"

    async def closed() -> CallbackTaskRow | None:
        rows = await _tasks(rig, number)
        return rows[0] if rows and rows[0].status == "caller-got-through" else None

    row = await eventually(closed, 10, "the task to close")
    assert row.answered_call_id == call.linkedid


async def _first_open(rig: Rig, number: str) -> CallbackTaskRow | None:
    rows = await _tasks(rig, number)
    return rows[0] if rows and rows[0].status == "open" else None


async def test_a_crisis_call_overtakes_the_callers_already_waiting(rig: Rig) -> None:
    rig.sim.set_agent("1002", AgentBehaviour(answer_after=0.2, talk_seconds=1.0))
    waiting = []
    for i in range(3):
        placed = await rig.sim.place_call(
            CallerScript(number=f"1360000000{i}", digits=[(0.1, "1"), (0.1, "2")])
        )
        waiting.append(placed)
    crisis = await rig.sim.place_call(CallerScript(number="13600000009", digits=[(0.1, "1"), (0.1, "2")]))

    def queued() -> int:
        snap = rig.hotline.model.queue_snapshot("zh-legal")
        return 0 if snap is None else len(snap.waiting)

    async def all_queued() -> bool | None:
        return True if queued() == 4 else None

    await eventually(all_queued, 10, "four callers waiting in zh-legal")
    connects: list[str] = []
    rig.sim.add_listener(lambda e: connects.append(e.get("Linkedid")) if e.name == "AgentConnect" else None)
    async with rig.client("a1002", "agent", "1002") as client:
        response = await client.post(f"/api/calls/{crisis.linkedid}/crisis")
        assert response.status_code == 200, response.text
        assert response.json()["reprioritised"] is True
        await rig.log_in("1002")  # the first free agent takes the crisis caller, not the oldest caller
        await eventually(lambda: _some(connects), 10, "an agent to answer")
    assert connects[0] == crisis.linkedid
    assert rig.hotline.db is not None
    async with rig.hotline.db.sessions() as session:
        risk = await session.get(CallRiskRow, crisis.linkedid)
    assert risk is not None and (risk.risk_level, risk.source, risk.marked_by) == ("high", "panel", "a1002")
    assert rig.hotline.alerts is not None
    await eventually(lambda: _alert_for(rig, crisis.linkedid), 5, "a crisis alert for supervisors")


async def _some(items: list[str]) -> bool | None:
    return True if items else None


async def _alert_for(rig: Rig, linkedid: str) -> bool | None:
    assert rig.hotline.alerts is not None
    found = any(a.data.get("linkedid") == linkedid for a in rig.hotline.alerts.open_alerts())
    return True if found else None


async def test_the_ivr_crisis_option_flags_the_call_high_risk_and_alerts_supervisors(rig: Rig) -> None:
    call = await rig.sim.place_call(CallerScript(number="13500000001", digits=[(0.1, "1"), (0.1, "0")]))
    assert rig.hotline.db is not None
    sessions = rig.hotline.db.sessions

    async def flagged() -> CallRiskRow | None:
        async with sessions() as session:
            return await session.get(CallRiskRow, call.linkedid)

    risk = await eventually(flagged, 10, "the crisis flag")
    assert (risk.risk_level, risk.source) == ("high", "ivr")
    await eventually(lambda: _alert_for(rig, call.linkedid), 5, "a crisis alert for supervisors")
    call.hangup()


async def test_a_transfer_to_12348_is_sent_to_the_pbx_and_recorded_on_the_call(rig: Rig) -> None:
    rig.sim.set_agent("1002", AgentBehaviour(answer_after=0.2, talk_seconds=30.0))
    dialled: list[str] = []
    rig.sim.add_listener(lambda e: dialled.append(e.get("DialString")) if e.name == "DialBegin" else None)
    await rig.log_in("1002")
    call = await rig.sim.place_call(CallerScript(number="13400000001", digits=[(0.1, "1"), (0.1, "2")]))

    await rig.answered(call.linkedid)
    async with rig.client("a1002", "agent", "1002") as client:
        bad = await client.post(f"/api/calls/{call.linkedid}/transfer", json={"to": "12345", "mode": "blind"})
        assert bad.status_code == 422
        response = await client.post(
            f"/api/calls/{call.linkedid}/transfer", json={"to": "12348", "mode": "blind"}
        )
        assert response.status_code == 200, response.text
        listed = (await client.get(f"/api/calls/{call.linkedid}/transfers")).json()
    assert [(t["target"], t["mode"], t["status"], t["requested_by"]) for t in listed] == [
        ("12348", "blind", "sent", "a1002")
    ]
    await eventually(
        lambda: _some([d for d in dialled if d.startswith("12348")]), 10, "the PBX to dial 12348"
    )
    assert rig.hotline.db is not None
    async with rig.hotline.db.sessions() as session:
        row = (await session.scalars(select(CallTransferRow))).one()
    assert row.linkedid == call.linkedid and row.channel.startswith("PJSIP/trunk")
    call.hangup()


async def test_marking_an_answered_call_crisis_flags_its_work_order(rig: Rig) -> None:
    rig.sim.set_agent("1002", AgentBehaviour(answer_after=0.2, talk_seconds=30.0))
    await rig.log_in("1002")
    call = await rig.sim.place_call(CallerScript(number="13300000001", digits=[(0.1, "1"), (0.1, "2")]))
    workorders = rig.hotline.workorders
    assert workorders is not None and rig.hotline.db is not None

    async def drafted() -> int | None:
        try:
            return (await workorders.draft_for_call(call.linkedid, actor="a1002")).id
        except Exception:
            return None

    order_id = await eventually(drafted, 15, "the answered call's work order draft")
    async with rig.client("a1002", "agent", "1002") as client:
        response = await client.post(f"/api/calls/{call.linkedid}/crisis")
        assert response.status_code == 200, response.text
        assert response.json()["reprioritised"] is False  # answered: nothing left to reorder
    async with rig.hotline.db.sessions() as session:
        level, version = (
            await session.execute(
                text("SELECT risk_level, version FROM work_orders WHERE id = :id"), {"id": order_id}
            )
        ).one()
        history = (
            await session.execute(
                text(
                    "SELECT actor, action, version, changes FROM work_order_events"
                    " WHERE work_order_id = :id ORDER BY version"
                ),
                {"id": order_id},
            )
        ).all()
    assert level == "crisis"
    # like any edit: a new version and a history entry saying who raised it and from what
    last = history[-1]
    assert (last.actor, last.action, last.version) == ("a1002", "edit", version) and version > 1
    assert last.changes["risk_level"]["to"] == "crisis" and last.changes["risk_level"]["by"] == "crisis mark"
    call.hangup()
