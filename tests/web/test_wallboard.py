"""The wallboard's figures (routing.kpi over today's call rows), its SVG charts, the crisis alert book and
the wallboard API on real PostgreSQL (no PBX: agents' states come from the board's AMI facts)."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from callcenter.agentdesk.alerts import AlertBook, CrisisAlert, UnknownAlertError
from callcenter.agentdesk.figures import (
    calls_chart,
    calls_per_agent,
    day_start,
    per_hour,
    per_queue,
    service_level_chart,
)
from callcenter.app import Hotline
from callcenter.db.calls import upsert_calls
from callcenter.records import CallRecord, Disposition
from callcenter.web.hub import LiveHub
from tests.integration.harness import eventually
from tests.web.conftest import logged_in

TZ = "Asia/Shanghai"


@dataclass
class Row:
    queue: str | None
    disposition: str | None
    wait_seconds: float | None = None
    talk_seconds: float | None = None
    arrived_at: datetime | None = None
    agent: str | None = None


def test_per_queue_kpis_follow_routing_kpi() -> None:
    at = datetime(2026, 5, 4, 2, 30, tzinfo=UTC)  # 10:30 in Shanghai
    rows = [
        Row("zh-legal", "answered", 10, 100, at, "1002"),
        Row("zh-legal", "answered", 30, 200, at, "1002"),
        Row("zh-legal", "abandoned", 40, None, at),
        Row("zh-legal", "abandoned", 2, None, at),  # short abandon: left out
        Row("zh-legal", "queue-timeout", 600, None, at),
        Row(None, "ivr-hangup", None, None, at),  # never queued: left out
    ]
    k = per_queue(rows, {"zh-legal": 10.0})["zh-legal"]
    assert (k.offered, k.answered, k.abandoned, k.timed_out) == (4, 2, 1, 1)
    assert k.service_level == pytest.approx(1 / 4)  # 10 s within 20 s; 30 s, 40 s, 600 s after
    assert k.abandon_rate == pytest.approx(1 / 4)
    assert k.average_speed_of_answer == pytest.approx(20.0)
    assert k.average_handle_time == pytest.approx((110 + 210) / 2)
    assert calls_per_agent(rows) == {"1002": 2}
    hours = per_hour(rows, {"zh-legal": 10.0}, TZ)
    assert [h.hour for h in hours if h.offered] == [10]
    assert hours[10].answered == 2


def test_day_starts_at_local_midnight() -> None:
    now = datetime(2026, 5, 4, 17, 0, tzinfo=UTC)  # 01:00 on 5 May in Shanghai
    assert day_start(now, TZ).astimezone(UTC) == datetime(2026, 5, 4, 16, 0, tzinfo=UTC)


def test_charts_are_well_formed_svg_with_a_bar_and_a_point_per_busy_hour() -> None:
    at = datetime(2026, 5, 4, 2, 30, tzinfo=UTC)
    hours = per_hour([Row("q", "answered", 5, 60, at), Row("q", "abandoned", 50, None, at)], {}, TZ)
    ns = {"svg": "http://www.w3.org/2000/svg"}
    calls = ET.fromstring(calls_chart(hours, "每小时来电"))
    answered = [r for r in calls.findall("svg:rect", ns) if r.get("class") == "answered"]
    assert [r.get("data-value") for r in answered if r.get("data-value") != "0"] == ["1"]
    assert calls.find("svg:title", ns) is not None and "每小时来电" in ET.tostring(calls, "unicode")
    sl = ET.fromstring(service_level_chart(hours, "服务水平"))
    points = sl.findall("svg:circle", ns)
    assert [(p.get("data-hour"), p.get("data-value")) for p in points] == [("10", "0.500")]


async def test_alerts_stay_until_acknowledged() -> None:
    hub = LiveHub()
    book = AlertBook(hub)
    task = asyncio.create_task(book.run())
    try:
        await eventually(_subscribed(hub), 2, "the book to listen")
        hub.publish("crisis-alert", {"text": "高危来电", "linkedid": "1.1"})
        alert = await eventually(_first_open(book), 2, "the alert to be kept")
        assert alert.data["text"] == "高危来电"
        assert book.acknowledge(alert.id, "sup").acknowledged_by == "sup"
        assert book.open_alerts() == []
        with pytest.raises(UnknownAlertError):
            book.acknowledge(999, "sup")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert hub.subscribers == 0


def _subscribed(hub: LiveHub) -> Callable[[], Awaitable[bool | None]]:
    async def probe() -> bool | None:
        return True if hub.subscribers else None

    return probe


def _first_open(book: AlertBook) -> Callable[[], Awaitable[CrisisAlert | None]]:
    async def probe() -> CrisisAlert | None:
        alerts = book.open_alerts()
        return alerts[0] if alerts else None

    return probe


async def test_wallboard_counts_todays_calls_and_masks_nothing_for_supervisors(
    hotline: Hotline, client: httpx.AsyncClient
) -> None:
    assert hotline.db is not None
    now = datetime.now(UTC)
    async with hotline.db.sessions() as session, session.begin():
        await upsert_calls(
            session,
            [
                CallRecord(
                    linkedid=f"w.{i}",
                    uniqueid=f"w.{i}",
                    caller_number="13800138000",
                    arrived_at=now - timedelta(minutes=i),
                    queue="zh-legal",
                    agent="1002" if disp is Disposition.ANSWERED else None,
                    wait_seconds=wait,
                    talk_seconds=60.0 if disp is Disposition.ANSWERED else None,
                    disposition=disp,
                )
                for i, (disp, wait) in enumerate(
                    [(Disposition.ANSWERED, 5.0), (Disposition.ANSWERED, 50.0), (Disposition.ABANDONED, 30.0)]
                )
            ],
        )
    await logged_in(client, "a1001")
    assert (await client.get("/api/wallboard")).status_code == 403
    await logged_in(client, "sup")
    board = (await client.get("/api/wallboard")).json()
    legal = next(q for q in board["queues"] if q["name"] == "zh-legal")
    assert (legal["offered_today"], legal["answered_today"], legal["abandoned_today"]) == (3, 2, 1)
    assert legal["service_level"] == pytest.approx(1 / 3, abs=1e-3)
    assert legal["asa_seconds"] == pytest.approx(27.5)
    assert board["totals"]["answered_today"] == 2
    assert board["seats"]["maximum"] == 20
    svg = await client.get("/api/wallboard/charts/service-level.svg?lang=en")
    assert svg.headers["content-type"].startswith("image/svg+xml") and "Service level" in svg.text
    # without a PBX link the supervisor's actions say so instead of failing
    assert (await client.post("/api/wallboard/agents/1002/logout")).status_code == 503
