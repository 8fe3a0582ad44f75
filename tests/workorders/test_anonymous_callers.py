"""Work orders of anonymous callers (issue 9): marked as such instead of an empty (or a masked
"anonymous") number, filtered apart, exported with the mark, never merged into one caller's file; and
the database's filter gives the same answer as the rule the IVR uses (routing/callerid.py)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import httpx
from sqlalchemy import text

from callcenter.app import Hotline
from routing.callerid import is_anonymous
from tests.web.conftest import logged_in
from tests.workorders.conftest import Clock, answered_calls

NUMBER = "13800001111"
# (linkedid, the caller number stored for the call); w2 and w3 are anonymous
CALLS: list[tuple[str, str | None]] = [("w1", NUMBER), ("w2", None), ("w3", "anonymous")]


async def _orders(hotline: Hotline, client: httpx.AsyncClient) -> dict[str, int]:
    await answered_calls(hotline, CALLS)
    await logged_in(client, "a1001")
    ids = {}
    for lid, _number in CALLS:
        form = {"linkedid": lid, "service_line": "psychology", "summary": "s", "disposition": "referral"}
        created = await client.post("/api/workorders", json=form)
        assert created.status_code == 201, created.text
        ids[lid] = created.json()["id"]
    return ids


async def test_anonymous_callers_orders_are_marked_filtered_and_exported(
    hotline: Hotline, client: httpx.AsyncClient, clock: Clock
) -> None:
    ids = await _orders(hotline, client)
    referred = await client.post(f"/api/workorders/{ids['w3']}/referral", json={"unit_code": "150102"})
    assert referred.status_code == 200, referred.text

    await logged_in(client, "sup")
    listed = {o["id"]: o for o in (await client.get("/api/workorders")).json()}
    assert (listed[ids["w1"]]["caller_number"], listed[ids["w1"]]["anonymous"]) == (NUMBER, False)
    assert (listed[ids["w2"]]["caller_number"], listed[ids["w2"]]["anonymous"]) == (None, True)
    assert (listed[ids["w3"]]["caller_number"], listed[ids["w3"]]["anonymous"]) == (None, True)
    only = await client.get("/api/workorders", params={"anonymous": "true"})
    assert sorted(o["id"] for o in only.json()) == sorted([ids["w2"], ids["w3"]])
    others = await client.get("/api/workorders", params={"anonymous": "false"})
    assert [o["id"] for o in others.json()] == [ids["w1"]]
    assert (await client.get(f"/api/workorders/{ids['w3']}")).json()["anonymous"] is True

    body = (await client.get("/api/reports/workorders.csv")).text.lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(body)))
    at = {name: i for i, name in enumerate(rows[0])}
    exported = {int(r[at["id"]]): (r[at["caller_number"]], r[at["anonymous"]]) for r in rows[1:]}
    assert exported == {ids["w1"]: (NUMBER, "False"), ids["w2"]: ("", "True"), ids["w3"]: ("", "True")}
    body = (await client.get("/api/reports/workorders.csv", params={"anonymous": "true"})).text
    assert len(list(csv.reader(io.StringIO(body)))) == 3  # the header and w2, w3

    # Unit staff see masked numbers: "anonymous" must not come out as "ano**mous".
    await logged_in(client, "county")
    seen = (await client.get(f"/api/workorders/{ids['w3']}")).json()
    assert (seen["caller_number"], seen["anonymous"]) == (None, True)


async def test_anonymous_callers_have_no_shared_file(
    hotline: Hotline, client: httpx.AsyncClient, clock: Clock
) -> None:
    await _orders(hotline, client)
    await answered_calls(hotline, [("w4", "anonymous")])
    await logged_in(client, "a1001")
    assert (await client.get("/api/workorders/by-call/w4")).status_code == 200  # a second anonymous order
    file = (await client.get("/api/callers/anonymous/file")).json()
    assert (file["anonymous"], file["number"], file["work_orders"], file["calls"]) == (True, None, [], [])
    known = (await client.get(f"/api/callers/{NUMBER}/file")).json()
    assert (known["anonymous"], len(known["work_orders"]), len(known["calls"])) == (False, 1, 1)


# Spellings a trunk or AMI may store as the caller number, anonymous or not by the shared rule. Only ASCII:
# Python also takes other scripts' digits for digits, no trunk sends them (see routing/callerid.py).
SPELLINGS = [
    None,
    "",
    " ",
    "+",
    "anonymous",
    "Anonymous",
    "Restricted",
    "private",
    "unknown",
    "<unknown>",
    "unavailable",
    "sip:anonymous@anonymous.invalid",
    "12a3",
    "138-0013-8000",
    "+86 138",
    "++86",
    "13800138000",
    "+8613800138000",
    " 13800138000 ",
    "\t0471\t",
    "110",
]


async def test_the_database_filter_agrees_with_the_ivr_rule(
    hotline: Hotline, client: httpx.AsyncClient, clock: Clock
) -> None:
    assert hotline.db is not None
    async with hotline.db.sessions() as session, session.begin():
        for i, number in enumerate(SPELLINGS):
            await session.execute(
                text(
                    "INSERT INTO work_orders (id, caller_number, status, version, service_line, summary,"
                    " risk_level, risk_checklist, escalation_level, confidential, created_at, updated_at)"
                    " VALUES (:id, :n, 'open', 2, 'psychology', '', 'none', '[]'::jsonb, 0, false, :t, :t)"
                ),
                {"id": 1000 + i, "n": number, "t": datetime(2026, 11, 2, tzinfo=UTC)},
            )
    await logged_in(client, "sup")
    listed = (await client.get("/api/workorders", params={"anonymous": "true", "limit": 500})).json()
    by_database = {SPELLINGS[o["id"] - 1000] for o in listed}
    by_rule = {n for n in SPELLINGS if is_anonymous(n)}
    assert by_database == by_rule
    assert len(by_rule) == 16  # the list holds both kinds
