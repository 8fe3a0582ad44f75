"""Callers who left the queue for a callback: offered, not abandoned, shown apart (docs/KPI.md)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import httpx
import pytest

from callcenter.app import Hotline
from callcenter.db.calls import upsert_calls
from callcenter.records import Disposition
from tests.reports.calls import finished_call
from tests.web.conftest import logged_in
from tests.workorders.conftest import T0, Clock

DAY = "2026-11-02"  # T0 is 09:00 that day in Hohhot

# (linkedid, disposition, wait seconds, talk seconds)
CALLS = [
    ("k1", Disposition.ANSWERED, 10, 200),
    ("k2", Disposition.ABANDONED, 40, None),
    ("k3", Disposition.QUEUE_CALLBACK, 130, None),  # pressed 1 after the offer at 120 s
    ("k4", Disposition.IVR_CALLBACK, None, None),  # booked in the menu: never offered to a queue
]


async def test_a_booked_callback_is_offered_but_not_an_abandon(
    hotline: Hotline, client: httpx.AsyncClient, clock: Clock
) -> None:
    assert hotline.db is not None
    records = []
    for i, (lid, disp, wait, talk) in enumerate(CALLS):
        at = T0 + timedelta(minutes=i)
        queued = disp is not Disposition.IVR_CALLBACK
        records.append(
            finished_call(
                lid,
                disp,
                at=at,
                number=f"1390000000{i}",
                queue="zh-family",
                wait=wait,
                talk=talk,
                tail_seconds=5,
            )
        )
        if not queued:  # booked in the menu: it never joined the queue
            records[-1].queue_joined_at = None
    async with hotline.db.sessions() as session, session.begin():
        await upsert_calls(session, records)
    await logged_in(client, "sup")

    overall = (await client.get("/api/reports/daily", params={"date": DAY})).json()["overall"]
    assert overall["offered"] == 3  # k1, k2, k3; k4 never reached a queue
    assert (overall["answered"], overall["abandoned"], overall["callbacks_booked"]) == (1, 1, 1)
    assert overall["abandon_rate"] == pytest.approx(1 / 3)
    assert overall["service_level"] == pytest.approx(1 / 3)  # k2 and k3 left unanswered after 20 s

    rows = list(
        csv.reader(
            io.StringIO((await client.get(f"/api/reports/daily.csv?date={DAY}")).text.lstrip("\ufeff"))
        )
    )
    column = rows[0].index("callbacks_booked")
    assert rows[1][:3] == [DAY, "all", "all"] and rows[1][column] == "1"
    page = await client.get("/reports", params={"period": "daily", "date": DAY})
    assert "排队中预约回电" in page.text
