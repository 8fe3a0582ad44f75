"""Overflow seats on the simulated PBX: a surge opens seats up to 20 and no further; when the load falls
they close again, one by one, and no call is dropped on the way (a busy seat closes after its call)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from callcenter.app import create_app
from callcenter.auth.roles import parse_roles
from callcenter.overflow.controller import policy_for_plan
from callcenter.overflow.models import OverflowDecisionRow
from pbxsim.endpoints import AgentBehaviour
from pbxsim.events import Event
from pbxsim.scripts import CallerScript
from routing.plan import AgentPlan, SeatPlan
from tests.integration.harness import Rig, eventually, hotline_on_simulator, quick_plan

pytestmark = pytest.mark.slow

AGENTS = 24  # more agents than the 20 seats: the cap, not the staff, must stop the opening
CALLERS = 26


@pytest.fixture
async def rig(postgres_url: str, database: object, tmp_path: Path) -> AsyncIterator[Rig]:
    base = quick_plan(menu_timeout=1.0)
    agents = tuple(AgentPlan(f"{3000 + i}", f"agent {i}", ("psychology",), ("zh",)) for i in range(AGENTS))
    plan = replace(base, agents=agents, seats=SeatPlan(base=8, maximum=20, standby=(), callback=None))
    async with hotline_on_simulator(
        postgres_url, tmp_path, plan=plan, default_agent=AgentBehaviour(answer_after=0.2, talk_seconds=3.0)
    ) as the_rig:
        yield the_rig


class SeatWatch:
    """What the PBX itself saw: members of the queues, calls in progress per member, removals mid-call."""

    def __init__(self) -> None:
        self.members: dict[str, set[str]] = {}  # interface -> queues
        self.in_call: set[str] = set()
        self.most = 0
        self.removed_during_call: list[str] = []

    def __call__(self, event: Event) -> None:
        interface = event.get("Interface")
        if event.name == "QueueMemberAdded":
            self.members.setdefault(interface, set()).add(event.get("Queue"))
            self.most = max(self.most, len(self.members))
        elif event.name == "QueueMemberRemoved":
            if interface in self.in_call:
                self.removed_during_call.append(interface)
            queues = self.members.get(interface, set())
            queues.discard(event.get("Queue"))
            if not queues:
                self.members.pop(interface, None)
        elif event.name == "AgentConnect":
            self.in_call.add(interface)
        elif event.name == "AgentComplete":
            self.in_call.discard(interface)


async def test_a_surge_opens_seats_up_to_20_and_they_close_when_it_ends_without_dropping_a_call(
    rig: Rig,
) -> None:
    watch = SeatWatch()
    rig.sim.add_listener(watch)
    hotline = rig.hotline
    assert hotline.plan is not None
    policy = policy_for_plan(
        hotline.plan,
        open_waiting=1,
        waiting_step=1,
        open_longest_wait_seconds=2.0,  # callers still waiting after a few seconds call in every seat
        longest_wait_step_seconds=0.5,
        aht_seconds=1.0,
        close_waiting=0,
        close_longest_wait_seconds=1.0,
        low_load_seconds=0.4,
        min_open_seconds=1.0,
        open_cooldown_seconds=0.0,
    )
    hotline.start_overflow(policy, interval=0.2, window_seconds=3.0)
    ctl = hotline.overflow
    assert ctl is not None

    async def base_open() -> bool | None:
        return True if len(watch.members) == 8 else None

    await eventually(base_open, 10, "the 8 base seats to open")

    calls = [
        await rig.sim.place_call(CallerScript(number=f"1380000{i:04d}", digits=[(0.1, "1"), (0.1, "1")]))
        for i in range(CALLERS)
    ]

    async def full() -> bool | None:
        return True if len(watch.members) == 20 else None

    await eventually(full, 30, "20 seats to be open")
    truths = [await c.wait_finished(60) for c in calls]

    async def back_to_base() -> bool | None:
        return True if len(watch.members) == 8 and ctl.last and ctl.last.active_seats == 8 else None

    await eventually(back_to_base, 45, "the overflow seats to close again")

    assert watch.most == 20 and ctl.max_active_seen == 20  # up to 20 and no further
    assert [t.disposition for t in truths] == ["answered"] * CALLERS  # nobody dropped, nobody gave up
    assert all(t.talk_seconds is not None and t.talk_seconds >= 2.5 for t in truths)  # no call cut short
    assert watch.removed_during_call == []
    assert hotline.db is not None
    async with hotline.db.sessions() as session:
        rows = (await session.scalars(select(OverflowDecisionRow).order_by(OverflowDecisionRow.id))).all()
    opened = [r for r in rows if r.action == "open"]
    closed = [r for r in rows if r.action == "close"]
    assert len(opened) == 20 and len(closed) == 12
    assert all(r.reason for r in rows)
    assert any("callers waiting" in r.reason for r in opened)
    assert all("low load" in r.reason or "call over" in r.reason for r in closed)


async def test_a_supervisor_override_wins_until_released(rig: Rig) -> None:
    watch = SeatWatch()
    rig.sim.add_listener(watch)
    hotline = rig.hotline
    assert hotline.plan is not None and hotline.users is not None
    policy = policy_for_plan(
        hotline.plan, low_load_seconds=0.3, min_open_seconds=0.5, open_cooldown_seconds=0.0
    )
    hotline.start_overflow(policy, interval=0.2, window_seconds=3.0)

    async def seats(expected: set[str]) -> bool | None:
        return True if set(watch.members) == expected else None

    base = {f"PJSIP/{3000 + i}" for i in range(8)}
    await eventually(lambda: seats(base), 10, "the 8 base seats")
    await hotline.users.add("sup", "correct horse 12355", parse_roles("supervisor"))
    app = create_app(hotline.settings, hotline=hotline)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline.test") as client:
        login = await client.post(
            "/api/auth/login", json={"username": "sup", "password": "correct horse 12355"}
        )
        assert login.status_code == 200
        opened = await client.post("/api/overflow/seats/3010/open")
        assert opened.status_code == 200, opened.text
        await eventually(lambda: seats(base | {"PJSIP/3010"}), 10, "the forced seat to open")
        state = (await client.get("/api/overflow")).json()
        assert {s["extension"]: s["override"] for s in state["seats"]}["3010"] == "open"
        # the forced-open seat is never closed by the policy, however low the load
        assert (await client.post("/api/overflow/seats/3000/close")).status_code == 200

        async def base_closed() -> bool | None:
            # 3000 closes; the forced-open 3010 keeps the hotline at its 8 base seats
            return True if "PJSIP/3000" not in watch.members and len(watch.members) == 8 else None

        await eventually(base_closed, 10, "the base seat to close")
        assert "PJSIP/3010" in watch.members
        # released, 3010 is an ordinary seat again; a released close lets the policy reopen a seat
        assert (await client.post("/api/overflow/seats/3010/release")).status_code == 200
        assert (await client.post("/api/overflow/seats/3000/release")).status_code == 200
        state = (await client.get("/api/overflow")).json()
        assert all(seat["override"] is None for seat in state["seats"])
        assert (await client.post("/api/overflow/seats/9999/open")).status_code == 404
        decisions = (await client.get("/api/overflow")).json()["decisions"]
    assert {"override-open", "override-close", "release"} <= {d["action"] for d in decisions}
    assert any(d["by"] == "sup" for d in decisions)
