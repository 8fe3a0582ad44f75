"""Occupancy from recorded agent state intervals (issue 6): the recorder turns the board's statuses into
intervals (written by its own task), the reports compute handling / (handling + ready-idle) per day, week,
month and per agent, in JSON and CSV. Every figure below is computed by hand from the fixture."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from agents.state import AgentState, AgentStatus, DayCounters, LogIn, Pause, PauseReason
from callcenter.agentdesk.board import AgentBoard
from callcenter.ami.actions import AmiActions
from callcenter.ami.connection import AmiActionError
from callcenter.app import Hotline
from callcenter.occupancy.recorder import StateRecorder
from callcenter.reports.occupancy import agent_times, occupancy_figures
from callcenter.web.wallboard import _occupancy_today
from tests.web.conftest import logged_in
from tests.web.test_panel_board import PLAN, Clock, FakeAmi, _event

DAY = "2026-11-02"  # a Monday; the hotline's day runs 2026-11-01T16:00Z .. 2026-11-02T16:00Z (UTC+8)

R, RING, CALL, WRAP, PAUSED, OUT = (
    AgentState.READY,
    AgentState.RINGING,
    AgentState.ON_CALL,
    AgentState.WRAP_UP,
    AgentState.PAUSED,
    AgentState.LOGGED_OUT,
)


def at(day: int, hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(2026, 11, day, hh, mm, ss, tzinfo=UTC)


def status(ext: str, state: AgentState, since: datetime) -> AgentStatus:
    return AgentStatus(ext, state, since, DayCounters(since.date()))


# What the board took, in order (extension, state, since). Times are UTC.
FIXTURE = [
    # 1001: ready from before the day began (only 16:00-17:00 is in the day: 3600 s idle)
    ("1001", R, at(1, 15, 0)),
    ("1001", RING, at(1, 17, 0)),  # 10 s idle
    ("1001", CALL, at(1, 17, 0, 10)),  # 600 s handling
    ("1001", WRAP, at(1, 17, 10, 10)),  # 60 s handling
    ("1001", PAUSED, at(1, 17, 11, 10)),  # 1800 s paused: in neither
    ("1001", R, at(1, 17, 41, 10)),  # 1130 s idle
    ("1001", OUT, at(1, 18, 0)),
    # 1002: 300 s ready, a 1200 s call, 120 s wrap-up (a refused pause put back in between), 180 s ready
    ("1002", R, at(2, 1, 0)),
    ("1002", CALL, at(2, 1, 5)),
    ("1002", WRAP, at(2, 1, 25)),
    ("1002", PAUSED, at(2, 1, 26)),  # Asterisk refused the pause ...
    ("1002", WRAP, at(2, 1, 25)),  # ... and the board put the old status back
    ("1002", R, at(2, 1, 27)),
    ("1002", OUT, at(2, 1, 30)),
    # 1002 the next day (in the week and the month, not in the day): 1800 s idle
    ("1002", R, at(2, 16, 30)),
    ("1002", OUT, at(2, 17, 0)),
]


async def record_fixture(hotline: Hotline) -> StateRecorder:
    assert hotline.db is not None
    recorder = StateRecorder(hotline.db.sessions)
    await recorder.start()
    try:
        for ext, state, since in FIXTURE:
            recorder.observe(status(ext, state, since))
        await recorder.drained()
    finally:
        await recorder.stop()
    return recorder


def approx(value: float) -> object:
    return pytest.approx(value, abs=1e-4)


async def test_occupancy_per_day_week_month_and_agent(hotline: Hotline, client: httpx.AsyncClient) -> None:
    recorder = await record_fixture(hotline)
    assert recorder.written == 12  # 16 statuses; logged-out time and the refused pause make no row
    await logged_in(client, "sup")

    day = (await client.get("/api/reports/daily", params={"date": DAY})).json()
    agents = {a["agent"]: a for a in day["occupancy_by_agent"]}
    assert agents["1001"]["handling_seconds"] == approx(660)
    assert agents["1001"]["idle_seconds"] == approx(3600 + 10 + 1130)
    assert agents["1001"]["occupancy"] == approx(660 / 5400)
    assert agents["1002"]["handling_seconds"] == approx(1320)
    assert agents["1002"]["idle_seconds"] == approx(480)
    assert agents["1002"]["occupancy"] == approx(1320 / 1800)
    assert day["occupancy"] == approx(1980 / 7200)

    week = (await client.get("/api/reports/weekly", params={"date": DAY})).json()
    assert week["occupancy"] == approx(1980 / (1980 + 4740 + 480 + 1800))
    assert {a["agent"]: a["occupancy"] for a in week["occupancy_by_agent"]}["1002"] == approx(1320 / 3600)

    month = (await client.get("/api/reports/monthly", params={"date": DAY})).json()  # from 10-31T16:00Z
    assert {a["agent"]: a["idle_seconds"] for a in month["occupancy_by_agent"]}["1001"] == approx(8340)
    assert month["occupancy"] == approx(1980 / (1980 + 8340 + 480 + 1800))

    wallboard = await _occupancy_today(hotline, at(2, 4, 0))
    assert wallboard == {"1001": round(660 / 5400, 3), "1002": round(1320 / 1800, 3)}

    rows = list(
        csv.reader(io.StringIO((await client.get("/api/reports/daily.csv", params={"date": DAY})).text))
    )
    assert [DAY, "occupancy", str(round(1980 / 7200, 4))] in rows
    header = rows.index(["period", "agent", "occupancy", "handling_seconds", "idle_seconds"])
    assert rows[header + 2][:3] == [DAY, "1002", str(round(1320 / 1800, 4))]


async def test_no_agent_time_is_reported_as_not_available(
    hotline: Hotline, client: httpx.AsyncClient
) -> None:
    await logged_in(client, "sup")
    day = (await client.get("/api/reports/daily", params={"date": DAY})).json()
    assert day["occupancy"] is None and day["occupancy_by_agent"] == []


async def test_the_board_feeds_the_recorder_with_its_transitions(hotline: Hotline) -> None:
    """The agent board's own transitions (AMI facts, a refused and an accepted pause) on an explicit clock."""
    assert hotline.db is not None
    ami, clock = FakeAmi(), Clock()
    t0 = clock.now
    recorder = StateRecorder(hotline.db.sessions, clock=clock)
    await recorder.start()
    board = AgentBoard(
        AmiActions(ami), lambda: PLAN, lambda _view: None, clock=clock, observe=recorder.observe
    )
    wrapup = PLAN.queue("zh-legal").wrapup_seconds  # type: ignore[union-attr]
    try:
        await board.request("1002", LogIn(board.memberships("1002")))  # ready
        clock.now = t0 + timedelta(seconds=60)
        board.on_message(_event("AgentCalled", "1002", "c.1"))  # 60 s ready
        clock.now = t0 + timedelta(seconds=65)
        board.on_message(_event("AgentConnect", "1002", "c.1", HoldTime="3", RingTime="5"))  # 5 s ringing
        clock.now = t0 + timedelta(seconds=95)
        board.on_message(_event("AgentComplete", "1002", "c.1", TalkTime="30", Reason="caller"))  # 30 s talk
        clock.now = t0 + timedelta(seconds=95 + wrapup)
        assert board.tick() == 1  # wrap-up over: ready
        clock.now = t0 + timedelta(seconds=195 + wrapup)
        ami.refuse.add("QueuePause")
        with pytest.raises(AmiActionError):
            await board.request("1002", Pause(PauseReason.BREAK))  # refused: still ready
        ami.refuse.clear()
        clock.now = t0 + timedelta(seconds=235 + wrapup)
        await board.request("1002", Pause(PauseReason.BREAK))  # paused after 140 s ready in all
        clock.now = t0 + timedelta(seconds=835 + wrapup)
    finally:
        await recorder.stop()  # closes the pause at the clock's now
    async with hotline.db.sessions() as session:
        times = await agent_times(session, t0 - timedelta(hours=1), t0 + timedelta(hours=1))
    assert times["1002"].handling_seconds == approx(30 + wrapup)
    assert times["1002"].idle_seconds == approx(60 + 5 + 140)
    occupancy, _per_agent = occupancy_figures(times)
    assert occupancy == approx((30 + wrapup) / (30 + wrapup + 205))
