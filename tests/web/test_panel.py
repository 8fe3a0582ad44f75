"""The agents' panel API on the simulated PBX: log in to a seat, ready / pause / log out over AMI, a ringing
call with who and which menu, the screen pop's history, wrap-up by timer then ready again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from agents.state import AgentState, PauseReason
from callcenter.agentdesk.board import AgentBoard
from callcenter.app import create_app
from callcenter.auth.roles import parse_roles
from callcenter.db.calls import upsert_calls
from callcenter.records import CallRecord, Disposition
from pbxsim.endpoints import AgentBehaviour
from pbxsim.scripts import CallerScript
from tests.integration.harness import Rig, eventually, hotline_on_simulator
from tests.web.conftest import PASSWORD, logged_in


@pytest.fixture
async def rig(postgres_url: str, database: object, tmp_path: Path) -> AsyncIterator[Rig]:
    async with hotline_on_simulator(
        postgres_url, tmp_path, default_agent=AgentBehaviour(answer_after=0.6, talk_seconds=1.5)
    ) as the_rig:
        users = the_rig.hotline.users
        assert users is not None
        await users.add("a1002", PASSWORD, parse_roles("agent"), extension="1002")
        await users.add("sup", PASSWORD, parse_roles("supervisor"))
        yield the_rig


@pytest.fixture
async def client(rig: Rig) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(rig.hotline.settings, hotline=rig.hotline)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40001))
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline.test") as the_client:
        yield the_client


def _member(rig: Rig, queue: str, interface: str) -> Any:
    snap = rig.hotline.model.queue_snapshot(queue)
    return None if snap is None else next((m for m in snap.members if m.interface == interface), None)


async def test_log_in_pause_ready_log_out_over_ami(rig: Rig, client: httpx.AsyncClient) -> None:
    await logged_in(client, "a1002")
    state = (await client.post("/api/panel/1002/login")).json()
    assert state["state"] == "ready" and "zh-legal" in state["queues"]

    async def joined() -> Any:
        m = _member(rig, "zh-legal", "PJSIP/1002")
        return m if m is not None and not m.paused else None

    await eventually(joined, 5, "1002 to be a member of zh-legal")

    response = await client.post("/api/panel/1002/pause", json={"reason": "training"})
    assert response.json()["state"] == "paused" and response.json()["pause_reason"] == "training"

    async def paused() -> Any:
        m = _member(rig, "zh-legal", "PJSIP/1002")
        return m if m is not None and m.paused else None

    await eventually(paused, 5, "app_queue to pause 1002")
    again = await client.post("/api/panel/1002/pause", json={"reason": "training"})
    assert again.status_code == 409 and again.json()["error"] == "illegal-transition"

    assert (await client.post("/api/panel/1002/ready")).json()["state"] == "ready"
    await eventually(joined, 5, "app_queue to unpause 1002")
    assert (await client.post("/api/panel/1002/logout")).json()["state"] == "logged-out"

    async def removed() -> bool | None:
        return True if _member(rig, "zh-legal", "PJSIP/1002") is None else None

    await eventually(removed, 5, "1002 to leave zh-legal")
    # an agent works only their own seat
    assert (await client.post("/api/panel/1001/login")).status_code == 403


async def test_a_call_rings_is_answered_and_wrap_up_ends_by_itself(
    rig: Rig, client: httpx.AsyncClient
) -> None:
    assert rig.hotline.db is not None
    earlier = datetime.now(UTC) - timedelta(days=3)
    async with rig.hotline.db.sessions() as session, session.begin():
        await upsert_calls(
            session,
            [
                CallRecord(
                    linkedid="old.1",
                    uniqueid="old.1",
                    caller_number="13800138111",
                    arrived_at=earlier,
                    queue="zh-legal",
                    menu_path="1-2",
                    disposition=Disposition.ANSWERED,
                ),
                CallRecord(
                    linkedid="old.2",
                    uniqueid="old.2",
                    caller_number="anonymous",  # a trunk's spelling of "no caller ID"
                    arrived_at=earlier,
                    queue="zh-legal",
                    disposition=Disposition.ABANDONED,
                ),
            ],
        )
    await logged_in(client, "a1002")
    await client.post("/api/panel/1002/login")
    seen: list[str] = []

    async def state_is(wanted: str) -> dict[str, Any] | None:
        body: dict[str, Any] = (await client.get("/api/panel/state")).json()
        if not seen or seen[-1] != body["state"]:
            seen.append(body["state"])
        return body if body["state"] == wanted else None

    call = await rig.sim.place_call(
        CallerScript(number="13800138111", digits=[(0.2, "1"), (0.2, "2")], name="共青团")
    )
    on_call = await eventually(lambda: state_is("on-call"), 15, "1002 to be on the call")
    assert on_call["call"]["caller_number"] == "13800138111"
    assert on_call["call"]["menu_path"] == "1-2" and on_call["call"]["queue"] == "zh-legal"
    assert on_call["call"]["language"] == "zh"
    history = (await client.get("/api/panel/callers/13800138111/calls")).json()
    assert "old.1" in [c["linkedid"] for c in history]
    # callers without a number are many different people: no shared history
    assert (await client.get("/api/panel/callers/anonymous/calls")).json() == []
    await call.wait_finished(15)
    await eventually(lambda: state_is("wrap-up"), 10, "wrap-up after the call")
    back = await eventually(lambda: state_is("ready"), 20, "ready again after wrap-up")
    assert back["answered_today"] == 1
    assert "ringing" in seen or "on-call" in seen


async def test_supervisor_force_pause_and_log_out(rig: Rig, client: httpx.AsyncClient) -> None:
    await logged_in(client, "a1002")
    await client.post("/api/panel/1002/login")
    await logged_in(client, "sup")
    paused = (await client.post("/api/wallboard/agents/1002/pause", json={"reason": "meeting"})).json()
    assert (paused["state"], paused["paused_by"]) == ("paused", "sup")
    out = (await client.post("/api/wallboard/agents/1002/logout")).json()
    assert out["state"] == "logged-out"
    # the supervisor has no extension: listening needs one
    spy = await client.post("/api/wallboard/agents/1002/spy", json={"mode": "listen"})
    assert spy.status_code == 422
    spy = await client.post(
        "/api/wallboard/agents/1002/spy", json={"mode": "whisper", "supervisor_extension": "1010"}
    )
    assert spy.status_code == 200 and spy.json()["options"] == "qw"


async def test_agents_logged_in_elsewhere_are_adopted_and_relearned_after_a_restart(rig: Rig) -> None:
    board = rig.hotline.agents
    assert board is not None and rig.hotline.actions is not None
    await rig.log_in("1002")  # the old desk endpoint: QueueAdd without the board

    async def adopted() -> bool | None:
        return True if board.status("1002").state is AgentState.READY else None

    await eventually(adopted, 5, "the board to adopt 1002")
    await rig.hotline.actions.queue_pause("PJSIP/1002", True, reason="training")

    async def paused_elsewhere() -> bool | None:
        return True if board.status("1002").pause_reason is PauseReason.TRAINING else None

    await eventually(paused_elsewhere, 5, "the board to follow a pause made elsewhere")
    fresh = AgentBoard(rig.hotline.actions, lambda: rig.hotline.plan, lambda _view: None)  # type: ignore[arg-type,return-value]
    assert await fresh.resync() > 0
    status = fresh.status("1002")
    assert (status.state, status.pause_reason) == (AgentState.PAUSED, PauseReason.TRAINING)
    assert fresh.status("1001").state is AgentState.LOGGED_OUT
