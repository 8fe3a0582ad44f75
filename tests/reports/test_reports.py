"""Report numbers against a fixture day computed by hand (each KPI), the pages, the exports, and who may
see them."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from callcenter.app import Hotline
from callcenter.db.calls import upsert_calls
from callcenter.records import Disposition
from tests.reports.calls import finished_call
from tests.web.conftest import logged_in
from tests.workorders.conftest import T0, Clock

DAY = "2026-11-02"  # T0 is 09:00 that day in Hohhot (Asia/Shanghai)

# (linkedid, queue, language, disposition, wait, talk, minutes after T0)
CALLS = [
    ("c1", "zh-psychology", "zh", Disposition.ANSWERED, 10, 300, 0),
    ("c2", "zh-psychology", "zh", Disposition.ANSWERED, 30, 200, 5),
    ("c3", "zh-psychology", "zh", Disposition.ABANDONED, 40, None, 10),
    ("c4", "zh-psychology", "zh", Disposition.ABANDONED, 3, None, 15),  # a short abandon
    ("c5", "zh-legal", "zh", Disposition.ANSWERED, 5, 100, 20),
    ("c6", "zh-legal", "zh", Disposition.QUEUE_TIMEOUT, 600, None, 25),
    ("c7", "mn-psychology", "mn", Disposition.ANSWERED, 25, 400, 30),
    ("c8", None, "zh", Disposition.IVR_HANGUP, None, None, 35),  # never queued: not in any figure
    ("c9", "zh-psychology", "zh", Disposition.ANSWERED, 1, 50, -10 * 60),  # the day before (local)
]
PROFILES = {  # linkedid -> work order form
    "c1": {
        "service_line": "psychology",
        "topic": "study-stress",
        "risk_level": "low",
        "disposition": "referral",
        "caller_profile": {
            "age_band": "15-17",
            "gender": "female",
            "identity": "student",
            "region": "150102",
        },
    },
    "c2": {
        "service_line": "psychology",
        "topic": "bullying",
        "risk_level": "crisis",
        "disposition": "referral",
        "caller_profile": {"age_band": "12-14", "gender": "male", "identity": "student", "region": "150103"},
    },
    "c5": {
        "service_line": "legal",
        "topic": "online-lending",
        "risk_level": "none",
        "disposition": "resolved",
        "caller_profile": {"age_band": "18-24", "gender": "female", "identity": "other", "region": "150102"},
    },
}


async def fixture_day(hotline: Hotline, client: httpx.AsyncClient, clock: Clock) -> None:
    assert hotline.db is not None
    records = []
    for lid, queue, lang, disp, wait, talk, minutes in CALLS:
        at = T0 + timedelta(minutes=minutes)
        records.append(
            finished_call(
                lid,
                disp,
                at=at,
                number=f"1380000{lid[1]:0>4}",
                queue=queue,
                language=lang,
                wait=wait,
                talk=talk,
            )
        )
    async with hotline.db.sessions() as session, session.begin():
        await upsert_calls(session, records)
        for cid, due_m, attempt_m, status in (
            ("cb-1", 60, 30, "done"),  # on time
            ("cb-2", 60, 120, "done"),  # late
            ("cb-3", 60, None, "caller-got-through"),  # cancelled before any attempt: not counted
        ):
            await session.execute(
                text(
                    "INSERT INTO callback_tasks (id, number, status, created_at, due_at, first_due_at,"
                    " call_ids, sources, crisis, priority, attempts, first_attempt_at)"
                    " VALUES (:id, '13800009999', :status, :at, :due, :due, 'x', 'missed', false, 0, 0, :att)"
                ),
                {
                    "id": cid,
                    "status": status,
                    "at": T0,
                    "due": T0 + timedelta(minutes=due_m),
                    "att": None if attempt_m is None else T0 + timedelta(minutes=attempt_m),
                },
            )
    await logged_in(client, "a1001")
    ids = {}
    for lid, form in PROFILES.items():
        clock.now = T0 + timedelta(minutes=next(c[6] for c in CALLS if c[0] == lid) + 5)
        response = await client.post("/api/workorders", json={"linkedid": lid, "summary": "s", **form})
        assert response.status_code == 201, response.text
        ids[lid] = response.json()["id"]
    # c1: referred to a county, followed up and closed on time; c2 (crisis, 4 h): referred and left overdue
    for lid in ("c1", "c2"):
        assert (
            await client.post(f"/api/workorders/{ids[lid]}/referral", json={"unit_code": "150102"})
        ).status_code == 200
    clock.now = T0 + timedelta(hours=3)
    await client.post(f"/api/workorders/{ids['c1']}/follow-up", json={"note": "ok", "reached": True})
    await logged_in(client, "county")
    assert (await client.post(f"/api/workorders/{ids['c1']}/accept")).status_code == 200
    assert (
        await client.post(f"/api/workorders/{ids['c1']}/close", json={"result": "done"})
    ).status_code == 200
    clock.now = T0 + timedelta(hours=10)  # c2's 4 hours are over


def approx(value: float) -> object:
    return pytest.approx(value, abs=1e-4)


async def test_daily_report_matches_the_day_computed_by_hand(
    hotline: Hotline, client: httpx.AsyncClient, clock: Clock
) -> None:
    await fixture_day(hotline, client, clock)
    await logged_in(client, "sup")
    report = (await client.get("/api/reports/daily", params={"date": DAY})).json()
    overall = report["overall"]
    # queued that day: c1..c7 (c8 never queued, c9 the day before); c4 is a short abandon
    assert overall["offered"] == 6  # answered 4 + abandoned 1 + timed out 1
    assert overall["answered"] == 4
    assert overall["abandoned"] == 1
    assert overall["short_abandoned"] == 1
    assert overall["timed_out"] == 1
    assert overall["service_level"] == approx(2 / 6)  # c1, c5 within 20 s; c3 and c6 left after 20 s
    assert overall["average_speed_of_answer"] == approx((10 + 30 + 5 + 25) / 4)
    assert overall["average_handle_time"] == approx((300 + 200 + 100 + 400) / 4)
    assert overall["abandon_rate"] == approx(1 / 6)
    assert report["occupancy"] is None  # no agent time recorded yet: not invented
    assert report["callbacks"] == 3
    assert report["callbacks_on_time"] == approx(1 / 2)
    assert report["work_orders"] == 3
    assert report["referrals"] == 2
    assert report["referrals_on_time"] == approx(1 / 2)  # c1 closed in time, c2 overdue
    assert report["crisis_cases"] == 1

    def group(dim: str, name: str) -> dict[str, object]:
        return next(g["kpi"] for g in report["by"][dim] if g["group"] == name)

    q = group("queue", "zh-psychology")
    assert (q["offered"], q["answered"], q["abandoned"], q["short_abandoned"]) == (3, 2, 1, 1)
    assert (q["service_level"], q["average_speed_of_answer"], q["abandon_rate"]) == (
        approx(1 / 3),
        approx(20),
        approx(1 / 3),
    )
    legal = group("queue", "zh-legal")
    assert (legal["offered"], legal["timed_out"], legal["service_level"], legal["abandon_rate"]) == (
        2,
        1,
        approx(0.5),
        approx(0),
    )
    mn = group("queue", "mn-psychology")
    assert (mn["offered"], mn["service_level"], mn["average_handle_time"]) == (1, approx(0), approx(400))
    assert (
        group("service_line", "psychology")["offered"],
        group("service_line", "psychology")["service_level"],
    ) == (4, approx(1 / 4))
    assert group("service_line", "legal")["offered"] == 2
    assert (group("language", "zh")["offered"], group("language", "mn")["offered"]) == (5, 1)
    assert (group("gender", "female")["answered"], group("gender", "male")["answered"]) == (2, 1)
    assert group("gender", "unknown")["offered"] == 3  # c3, c6, c7 have no work order
    assert [g["group"] for g in report["by"]["age_band"]] == ["12-14", "15-17", "18-24", "unknown"]
    assert group("region", "150102")["average_handle_time"] == approx(200)
    # topic trends: one bar per local hour; all three orders were written between 09:00 and 10:00
    assert report["trend_labels"][9] == "09"
    assert {t: v[9] for t, v in report["trends"].items()} == {
        "study-stress": 1,
        "bullying": 1,
        "online-lending": 1,
    }

    week = (await client.get("/api/reports/weekly", params={"date": DAY})).json()
    assert (week["period"]["label"], week["overall"]["offered"]) == (
        "2026-W45",
        6,
    )  # c9 (Sunday) was last week
    month = (await client.get("/api/reports/monthly", params={"date": DAY})).json()
    assert (month["period"]["label"], len(month["trend_labels"]), month["overall"]["offered"]) == (
        "2026-11",
        30,
        7,  # c9, on 1 November (local time), is in the month
    )


async def test_pages_charts_and_exports(hotline: Hotline, client: httpx.AsyncClient, clock: Clock) -> None:
    await fixture_day(hotline, client, clock)
    await logged_in(client, "sup")
    page = await client.get("/reports", params={"period": "daily", "date": DAY})
    assert page.status_code == 200
    assert page.text.count("<svg") >= 4 and "<script" not in page.text and "https://" not in page.text
    assert "zh-psychology" in page.text and "33.3%" in page.text
    printable = await client.get("/reports/monthly/print", params={"month": "2026-11"})
    assert (
        "@media print" in printable.text
        and "月报 2026-11" in printable.text
        and "<nav>" not in printable.text
    )

    rows = list(
        csv.reader(
            io.StringIO((await client.get(f"/api/reports/daily.csv?date={DAY}")).text.lstrip("\ufeff"))
        )
    )
    assert rows[0][:4] == ["period", "dimension", "group", "offered"]
    assert rows[1][:5] == [DAY, "all", "all", "6", "4"]
    xlsx = await client.get(f"/api/reports/monthly.xlsx?date={DAY}")
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True).active
    assert sheet is not None
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert cells[1][:5] == ["2026-11", "all", "all", 7, 5]  # the month has c9 too

    orders = list(
        csv.reader(io.StringIO((await client.get("/api/reports/workorders.csv")).text.lstrip("\ufeff")))
    )
    assert len(orders) == 4 and orders[1][2] == "13800000001"  # header + 3; supervisors see numbers


async def test_unit_staff_export_only_their_units_orders_and_no_call_reports(
    hotline: Hotline, client: httpx.AsyncClient, clock: Clock
) -> None:
    await fixture_day(hotline, client, clock)
    await logged_in(client, "a1001")
    await client.post("/api/workorders/3/referral", json={"unit_code": "150103"})  # c5 is closed: refused
    await logged_in(client, "huimin")  # 150103: nothing referred to it
    body = (await client.get("/api/reports/workorders.csv")).text.lstrip("\ufeff")
    assert len(list(csv.reader(io.StringIO(body)))) == 1  # the header only
    sheet = load_workbook(
        io.BytesIO((await client.get("/api/reports/workorders.xlsx")).content), read_only=True
    ).active
    assert sheet is not None and len(list(sheet.iter_rows())) == 1
    assert (await client.get("/api/reports/daily", params={"date": DAY})).status_code == 403
    await logged_in(client, "county")  # 150102: both referrals, numbers masked
    rows = list(
        csv.reader(io.StringIO((await client.get("/api/reports/workorders.csv")).text.lstrip("\ufeff")))
    )
    assert [r[0] for r in rows[1:]] == ["1", "2"] and rows[1][2] == "138****0001"
    assert (await client.get("/reports")).status_code == 403


async def test_export_of_100k_work_orders_streams_and_opens(
    hotline: Hotline, client: httpx.AsyncClient, clock: Clock
) -> None:
    import resource
    import time
    import zipfile

    from callcenter.reports.export import orders_csv
    from callcenter.workorders.service import OrderFilter, Scope

    assert hotline.db is not None and hotline.workorders is not None
    async with hotline.db.sessions() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO work_orders (caller_number, status, version, service_line, topic, summary,"
                " risk_level, risk_checklist, escalation_level, confidential, created_at, updated_at)"
                " SELECT '138' || lpad(i::text, 8, '0'), 'open', 2, 'psychology', 'topic-' || (i % 7),"
                " '第' || i || '号工单：学习压力, \"引号\"', 'low', '[]'::jsonb, 0, false, :t, :t"
                " FROM generate_series(1, 100000) AS i"
            ),
            {"t": datetime(2026, 11, 2, tzinfo=UTC)},
        )
    started = time.monotonic()
    page = resource.getpagesize()

    def rss() -> int:  # the resident set now (Linux), sampled while the export runs
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * page

    rss_before = peak_rss = rss()
    lines = 0
    size = 0
    chunks = 0
    async for chunk in orders_csv(
        hotline.workorders.stream(OrderFilter(), Scope(None)), lambda o: o.caller_number
    ):
        lines += chunk.count(b"\n")
        size += len(chunk)
        chunks += 1
        if chunks % 50 == 0:
            peak_rss = max(peak_rss, rss())
    grew = peak_rss - rss_before
    csv_seconds = time.monotonic() - started
    assert lines == 100_001 and chunks > 100
    assert grew < 30 * 1024 * 1024, (
        f"CSV export grew the process by {grew / 1e6:.1f} MB for {size / 1e6:.1f} MB"
    )
    print(
        f"CSV: 100k orders, {size / 1e6:.1f} MB in {csv_seconds:.1f}s, peak memory grew {grew / 1e6:.1f} MB"
    )

    await logged_in(client, "sup")
    started = time.monotonic()
    xlsx = await client.get("/api/reports/workorders.xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True).active  # a spreadsheet opens it
    assert sheet is not None
    first = [list(r) for r in sheet.iter_rows(min_row=1, max_row=2, values_only=True)]
    assert first[0][:3] == ["id", "linkedid", "caller_number"] and first[1][0] == 1
    with zipfile.ZipFile(io.BytesIO(xlsx.content)) as zf, zf.open("xl/worksheets/sheet1.xml") as xml:
        count, carry = 0, b""
        while block := xml.read(1 << 20):
            data = carry + block
            count += data.count(b"</row>")
            carry = data[-5:]  # too short to hold a whole tag; completes one split between two blocks
    assert count == 100_001  # the header and every order
    print(
        f"XLSX: 100k orders, {len(xlsx.content) / 1e6:.1f} MB in {time.monotonic() - started:.1f}s"
        " (with reading it back)"
    )
