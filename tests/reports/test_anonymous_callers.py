"""Anonymous callers counted apart in the daily report (issue 9), against a day computed by hand: the JSON,
the page a supervisor reads, the CSV and the XLSX all show the same numbers."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from html.parser import HTMLParser

import httpx
from openpyxl import load_workbook

from callcenter.app import Hotline
from callcenter.db.calls import upsert_calls
from callcenter.records import Disposition
from tests.reports.calls import finished_call
from tests.web.conftest import logged_in
from tests.workorders.conftest import T0, Clock

DAY = "2026-11-03"
START = T0 + timedelta(days=1)  # 09:00 on DAY in Hohhot

# (linkedid, caller number as stored, disposition, wait, talk, work order?)
CALLS = [
    ("a1", "13800000001", Disposition.ANSWERED, 10, 100, True),
    ("a2", "13800000002", Disposition.ABANDONED, 30, None, False),
    ("a3", None, Disposition.ANSWERED, 15, 200, True),  # anonymous: no caller ID at all
    ("a4", "anonymous", Disposition.ABANDONED, 40, None, False),  # anonymous: what a SIP trunk sends
    ("a5", "13800000005", Disposition.ANSWERED, 5, 50, True),
    ("a6", "Restricted", Disposition.IVR_HANGUP, None, None, False),  # anonymous, never queued: no figure
]
# By hand. Offered: a1..a5 = 5, answered a1 a3 a5 = 3, abandoned a2 a4 = 2 (both waited ≥ 5 s).
# Anonymous of those: a3 (answered) and a4 (abandoned) = 2; a6 was never offered to a queue.
# Work orders: a1, a3, a5 = 3, of which a3's = 1 anonymous.


async def _day(hotline: Hotline, client: httpx.AsyncClient, clock: Clock) -> None:
    assert hotline.db is not None
    records = []
    for i, (lid, number, disp, wait, talk, _order) in enumerate(CALLS):
        at = START + timedelta(minutes=10 * i)
        queued = disp is not Disposition.IVR_HANGUP
        records.append(
            finished_call(
                lid,
                disp,
                at=at,
                number=number,
                queue="zh-psychology" if queued else None,
                wait=wait,
                talk=talk,
                tail_seconds=1,
            )
        )
    async with hotline.db.sessions() as session, session.begin():
        await upsert_calls(session, records)
    await logged_in(client, "a1001")
    clock.now = START + timedelta(hours=1)
    for lid, *_rest, order in CALLS:
        if order:
            form = {
                "linkedid": lid,
                "service_line": "psychology",
                "summary": "s",
                "disposition": "resolved",
            }
            assert (await client.post("/api/workorders", json=form)).status_code == 201


class _SummaryTable(HTMLParser):
    """The rows of the page's key-figures table as the supervisor reads them (cell texts)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._inside = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and ("class", "summary") in attrs:
            self._inside = True
        elif self._inside and tag == "tr":
            self.rows.append([])
        elif self._inside and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._inside = False
        elif self._inside and tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


async def test_the_daily_report_counts_anonymous_callers_apart(
    hotline: Hotline, client: httpx.AsyncClient, clock: Clock
) -> None:
    await _day(hotline, client, clock)
    await logged_in(client, "sup")

    report = (await client.get("/api/reports/daily", params={"date": DAY})).json()
    overall, anonymous = report["overall"], report["anonymous"]
    assert (overall["offered"], overall["answered"], overall["abandoned"]) == (5, 3, 2)
    assert (anonymous["offered"], anonymous["answered"], anonymous["abandoned"]) == (2, 1, 1)
    assert (anonymous["timed_out"], anonymous["short_abandoned"]) == (0, 0)
    assert (report["work_orders"], report["anonymous_work_orders"]) == (3, 1)

    page = await client.get("/reports", params={"period": "daily", "date": DAY})
    table = _SummaryTable()
    table.feed(page.text)
    assert table.rows[0] == ["指标 figure", "全部 all", "其中未显示号码来电 of which anonymous callers"]
    shown = {row[0]: row[1:] for row in table.rows[1:]}
    assert shown["呼入量 offered"] == ["5", "2"]
    assert shown["接通量 answered"] == ["3", "1"]
    assert shown["放弃量 abandoned"] == ["2", "1"]
    assert shown["工单 work orders"] == ["3", "1"]
    assert shown["转办 referrals"] == ["0", ""]  # no anonymous figure where there is none to give

    body = (await client.get(f"/api/reports/daily.csv?date={DAY}")).text.lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[1][:6] == [DAY, "all", "all", "5", "3", "2"]
    assert rows[2][:6] == [DAY, "caller_id", "anonymous", "2", "1", "1"]
    assert [DAY, "anonymous_work_orders", "1"] in rows

    xlsx = await client.get(f"/api/reports/daily.xlsx?date={DAY}")
    sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True).active
    assert sheet is not None
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert cells[2][:6] == [DAY, "caller_id", "anonymous", 2, 1, 1]
    assert any(r[:3] == [DAY, "anonymous_work_orders", 1] for r in cells)
