"""The work-order API on real PostgreSQL with an explicit clock: lifecycle, versions, escalation, who sees
what."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx

from callcenter.app import Hotline
from callcenter.auth.roles import Principal, Role
from callcenter.callbacks.models import CallbackTaskRow
from tests.web.conftest import logged_in
from tests.workorders.conftest import T0, Clock, answered_calls

NUMBER = "13800001111"


def _form(linkedid: str, **extra: object) -> dict[str, object]:
    form: dict[str, object] = {
        "linkedid": linkedid,
        "service_line": "psychology",
        "topic": "study-stress",
        "summary": "考试压力大，睡不好",
        "risk_level": "medium",
        "disposition": "referral",
        "caller_profile": {
            "age_band": "15-17",
            "gender": "female",
            "identity": "student",
            "region": "150102",
        },
    }
    form.update(extra)
    return form


async def _new_referred(
    client: httpx.AsyncClient, hotline: Hotline, lid: str, unit: str, **extra: object
) -> int:
    await answered_calls(hotline, [(lid, NUMBER)])
    await logged_in(client, "a1001")
    created = await client.post("/api/workorders", json=_form(lid, **extra))
    assert created.status_code == 201, created.text
    oid = int(created.json()["id"])
    referred = await client.post(f"/api/workorders/{oid}/referral", json={"unit_code": unit})
    assert referred.status_code == 200, referred.text
    return oid


async def test_full_lifecycle_from_draft_to_close(
    hotline: Hotline, client: httpx.AsyncClient, clock: Clock
) -> None:
    await answered_calls(hotline, [("1.1", NUMBER)])
    await logged_in(client, "a1001")
    draft = await client.get("/api/workorders/by-call/1.1")
    assert draft.status_code == 200, draft.text
    assert (draft.json()["status"], draft.json()["service_line"], draft.json()["caller_number"]) == (
        "draft",
        "psychology",
        NUMBER,
    )
    assert (await client.get("/api/workorders/by-call/1.1")).json()["id"] == draft.json()["id"]

    created = await client.post("/api/workorders", json=_form("1.1", risk_checklist=["suicidal-thoughts"]))
    assert created.status_code == 201, created.text
    order = created.json()
    oid = order["id"]
    assert order["id"] == draft.json()["id"]
    assert (order["status"], order["disposition"], order["risk_level"]) == ("open", "referral", "medium")
    assert order["caller_profile"] == {
        "age_band": "15-17",
        "gender": "female",
        "identity": "student",
        "region": "150102",
    }

    clock.advance(minutes=10)
    referred = (await client.post(f"/api/workorders/{oid}/referral", json={"unit_code": "150102"})).json()
    assert referred["status"] == "referred"
    assert referred["unit_name"] == "新城区青少年服务站"
    # a banner unit has 5 days (config/hotline.yaml tiers.banner.deadline_days); medium risk does not cap it
    assert referred["deadline_at"] == (clock.now + timedelta(days=5)).isoformat().replace("+00:00", "Z")

    await logged_in(client, "county")
    county_view = (await client.get(f"/api/workorders/{oid}")).json()
    assert county_view["caller_number"] == "138****1111"  # unit staff never see the whole number
    assert (await client.post(f"/api/workorders/{oid}/accept")).json()["status"] == "accepted"
    clock.advance(hours=20)
    progressed = await client.post(f"/api/workorders/{oid}/progress", json={"note": "已联系学校心理老师"})
    assert progressed.json()["status"] == "accepted"

    refused = await client.post(f"/api/workorders/{oid}/close", json={"result": "已转介学校心理辅导"})
    assert refused.status_code == 409
    assert refused.json()["detail"]["error"] == "follow-up-missing"
    assert "follow-up call to the caller" in refused.json()["detail"]["message"]

    await logged_in(client, "a1001")
    missed = await client.post(
        f"/api/workorders/{oid}/follow-up", json={"note": "无人接听", "reached": False}
    )
    assert missed.json()["followed_up_at"] is None
    await logged_in(client, "county")
    still = await client.post(f"/api/workorders/{oid}/close", json={"result": "x"})
    assert still.status_code == 409

    await logged_in(client, "a1001")
    clock.advance(hours=1)
    reached = await client.post(
        f"/api/workorders/{oid}/follow-up", json={"note": "来电人表示满意", "reached": True}
    )
    assert reached.json()["followed_up_at"] is not None
    await logged_in(client, "county")
    closed = await client.post(f"/api/workorders/{oid}/close", json={"result": "已转介学校心理辅导"})
    assert closed.status_code == 200, closed.text
    assert (closed.json()["status"], closed.json()["result"]) == ("closed", "已转介学校心理辅导")

    detail = (await client.get(f"/api/workorders/{oid}")).json()
    assert [h["action"] for h in detail["history"]] == [
        "create",
        "complete",
        "refer",
        "accept",
        "progress",
        "follow-up",
        "follow-up",
        "close",
    ]
    assert [h["version"] for h in detail["history"]] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert detail["history"][-1]["at"] == clock.now.isoformat().replace("+00:00", "Z")
    again = await client.post(f"/api/workorders/{oid}/progress", json={"note": "late"})
    assert again.status_code == 409
    assert again.json()["detail"]["error"] == "transition-not-allowed"


async def test_resolved_on_the_call_closes_at_once_and_rejection_returns_to_the_centre(
    hotline: Hotline, client: httpx.AsyncClient, clock: Clock
) -> None:
    await answered_calls(hotline, [("2.1", NUMBER)])
    await logged_in(client, "a1001")
    done = (await client.post("/api/workorders", json=_form("2.1", disposition="resolved"))).json()
    assert (done["status"], done["closed_at"]) == ("closed", T0.isoformat().replace("+00:00", "Z"))

    oid = await _new_referred(client, hotline, "2.2", "150102")
    await logged_in(client, "county")
    no_reason = await client.post(f"/api/workorders/{oid}/reject", json={"reason": " "})
    assert no_reason.status_code == 409
    rejected = await client.post(f"/api/workorders/{oid}/reject", json={"reason": "不属于本辖区"})
    assert rejected.json()["status"] == "rejected"
    await logged_in(client, "a1001")
    again = await client.post(f"/api/workorders/{oid}/referral", json={"unit_code": "150103"})
    assert (again.json()["status"], again.json()["unit_code"]) == ("referred", "150103")
    unknown = await client.post(f"/api/workorders/{oid}/referral", json={"unit_code": "999999"})
    assert unknown.status_code == 409  # referred already: the transition is refused before the unit is read


async def test_edits_are_versioned_and_a_stale_version_is_refused(
    hotline: Hotline, client: httpx.AsyncClient, clock: Clock
) -> None:
    await answered_calls(hotline, [("3.1", NUMBER)])
    await logged_in(client, "a1001")
    created = await client.post("/api/workorders", json=_form("3.1", disposition="follow-up"))
    oid, version = created.json()["id"], created.json()["version"]
    assert created.headers["ETag"] == f'"{version}"'
    edited = await client.patch(
        f"/api/workorders/{oid}",
        json={"summary": "补充：家长也来电", "caller_profile": {"region": "150103"}},
        headers={"If-Match": f'"{version}"'},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["version"] == version + 1
    assert edited.json()["caller_profile"]["region"] == "150103"
    assert edited.json()["caller_profile"]["gender"] == "female"  # untouched fields stay
    stale = await client.patch(f"/api/workorders/{oid}", json={"summary": "覆盖", "version": version})
    assert stale.status_code == 409
    assert stale.json()["detail"]["error"] == "stale-version"
    missing = await client.patch(f"/api/workorders/{oid}", json={"summary": "no version"})
    assert missing.status_code == 428
    risky = await client.patch(
        f"/api/workorders/{oid}", json={"risk_checklist": ["means-at-hand"], "version": version + 1}
    )
    assert risky.json()["risk_level"] == "crisis"  # the checklist raises the level it implies
    history = (await client.get(f"/api/workorders/{oid}")).json()["history"]
    assert history[2]["changes"]["summary"]["to"] == "补充：家长也来电"


async def test_an_overdue_referral_escalates_to_the_parent_unit_and_the_supervisors(
    hotline: Hotline, client: httpx.AsyncClient, clock: Clock
) -> None:
    assert hotline.workorders is not None
    assert any(t.get_name() == "workorder-escalation" for t in hotline._tasks)  # owned by the Hotline
    sup = hotline.hub.subscribe(
        Principal(1, "sup", "sup", frozenset({Role.SUPERVISOR})), frozenset({"escalation"})
    )
    county_page = hotline.hub.subscribe(
        Principal(2, "county", "county", frozenset({Role.UNIT_STAFF}), unit_code="150102")
    )
    try:
        oid = await _new_referred(client, hotline, "4.1", "150102", risk_level="high")
        order = (await client.get(f"/api/workorders/{oid}")).json()
        # high risk: a day at most, whatever the tier says
        assert order["deadline_at"] == (T0 + timedelta(hours=24)).isoformat().replace("+00:00", "Z")

        assert await hotline.workorders.escalate_due(clock.advance(hours=23)) == []
        escalated = await hotline.workorders.escalate_due(clock.advance(hours=2))
        assert [(e.order_id, e.from_unit, e.to_unit, e.level) for e in escalated] == [
            (oid, "150102", "150100", 1)
        ]
        message = json.loads(sup.queue.get_nowait())
        assert message["topic"] == "escalation"
        assert message["data"]["work_order"] == oid and message["data"]["to_unit"] == "150100"
        county_topics = [
            json.loads(county_page.queue.get_nowait())["topic"] for _ in range(county_page.queue.qsize())
        ]
        assert "escalation" not in county_topics  # pushed to supervisors only

        await logged_in(client, "hohhot")
        overdue = (await client.get("/api/workorders", params={"overdue": "true"})).json()
        assert [(o["id"], o["overdue"], o["escalated_to"]) for o in overdue] == [(oid, True, "150100")]
        assert await hotline.workorders.escalate_due(clock.advance(hours=1)) == []  # not again at once
        # the city has its own day (high risk); then it goes up to the region
        again = await hotline.workorders.escalate_due(clock.advance(hours=24))
        assert [(e.to_unit, e.level) for e in again] == [("150000", 2)]
        history = (await client.get(f"/api/workorders/{oid}")).json()["history"]
        assert [h["action"] for h in history][-2:] == ["escalate", "escalate"]
        assert history[-1]["actor"] == "system"
    finally:
        hotline.hub.unsubscribe(sup)
        hotline.hub.unsubscribe(county_page)


async def test_a_county_cannot_read_another_countys_order(
    hotline: Hotline, client: httpx.AsyncClient, clock: Clock
) -> None:
    mine = await _new_referred(client, hotline, "5.1", "150102")
    theirs = await _new_referred(client, hotline, "5.2", "150103")

    await logged_in(client, "county")
    denied = await client.get(f"/api/workorders/{theirs}")
    assert denied.status_code == 403
    assert "考试" not in denied.text
    for path in (f"/api/workorders/{theirs}/accept", f"/api/workorders/{theirs}/close"):
        response = await client.post(path, json={"result": "x"})
        assert response.status_code == 403
    listed = (await client.get("/api/workorders")).json()
    assert [o["id"] for o in listed] == [mine]
    assert (await client.get("/api/workorders", params={"unit": "150103"})).json() == []
    assert (await client.get("/api/workorders", params={"caller_number": NUMBER})).json()[0]["id"] == mine
    file = (await client.get(f"/api/callers/{NUMBER}/file")).json()
    assert [o["id"] for o in file["work_orders"]] == [mine]
    assert file["calls"] == []  # the centre's call log is not the unit's
    assert (await client.get("/api/workorders/by-call/5.2")).status_code == 403  # centre staff only

    await logged_in(client, "hohhot")  # the city sees both of its counties
    assert sorted(o["id"] for o in (await client.get("/api/workorders")).json()) == [mine, theirs]
    await logged_in(client, "donghe")  # a county in another city sees none
    assert (await client.get("/api/workorders")).json() == []
    assert (await client.get(f"/api/workorders/{mine}")).status_code == 403


async def test_the_caller_file_links_calls_and_work_orders_by_number(
    hotline: Hotline, client: httpx.AsyncClient, clock: Clock
) -> None:
    await answered_calls(hotline, [("6.1", NUMBER), ("6.2", NUMBER), ("6.3", "13900002222")])
    assert hotline.db is not None
    async with hotline.db.sessions() as session, session.begin():
        for task, number in (("cb-61", NUMBER), ("cb-63", "13900002222")):
            session.add(
                CallbackTaskRow(
                    id=task,
                    number=number,
                    status="pending",
                    created_at=T0,
                    due_at=T0,
                    first_due_at=T0,
                    call_ids=task[3:],
                    sources="missed",
                )
            )
    await logged_in(client, "a1001")
    for lid in ("6.1", "6.2"):
        assert (
            await client.post("/api/workorders", json=_form(lid, disposition="follow-up"))
        ).status_code == 201
    file = (await client.get(f"/api/callers/{NUMBER}/file")).json()
    assert sorted(c["linkedid"] for c in file["calls"]) == ["6.1", "6.2"]
    assert sorted(o["linkedid"] for o in file["work_orders"]) == ["6.1", "6.2"]
    assert [(t["id"], t["status"]) for t in file["callbacks"]] == [("cb-61", "pending")]
    units = (await client.get("/api/units")).json()
    assert {"code": "150102", "name": "新城区青少年服务站", "tier": "banner", "parent": "150100"} in units


async def test_the_form_catalogue(client: httpx.AsyncClient, clock: Clock) -> None:
    await logged_in(client, "a1001")
    cat = (await client.get("/api/workorders/catalogue")).json()
    assert {"code": "psychology", "name": "心理咨询"} in cat["service_lines"]
    assert {"code": "online-lending", "zh": "网络借贷", "en": "Online lending"} in cat["topics"]
    assert cat["risk_levels"] == ["none", "low", "medium", "high", "crisis"]
    assert "means-at-hand" in cat["risk_checklist"]


async def test_two_edits_of_the_same_version_one_wins(
    hotline: Hotline, client: httpx.AsyncClient, clock: Clock
) -> None:
    import asyncio

    await answered_calls(hotline, [("7.1", NUMBER)])
    await logged_in(client, "a1001")
    created = (await client.post("/api/workorders", json=_form("7.1", disposition="follow-up"))).json()
    results = await asyncio.gather(
        *(
            client.patch(
                f"/api/workorders/{created['id']}",
                json={"summary": f"edit {i}", "version": created["version"]},
            )
            for i in range(4)
        )
    )
    assert sorted(r.status_code for r in results) == [200, 409, 409, 409]
    final = (await client.get(f"/api/workorders/{created['id']}")).json()
    assert final["version"] == created["version"] + 1


async def test_a_call_marked_as_crisis_starts_its_draft_at_crisis_risk(
    hotline: Hotline, client: httpx.AsyncClient, clock: Clock
) -> None:
    from sqlalchemy import text

    assert hotline.db is not None
    await answered_calls(hotline, [("8.1", NUMBER)])
    async with hotline.db.sessions() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO call_risk (linkedid, risk_level, source, marked_at)"
                " VALUES ('8.1', 'high', 'ivr', now())"
            )
        )
    await logged_in(client, "a1001")
    assert (await client.get("/api/workorders/by-call/8.1")).json()["risk_level"] == "crisis"


async def test_a_draft_exists_on_answer_from_the_event_path(
    hotline: Hotline, client: httpx.AsyncClient, clock: Clock
) -> None:
    from callcenter.live.model import CallChanged, CallEnded
    from callcenter.records import CallRecord
    from tests.integration.harness import eventually

    assert hotline.workorders is not None
    assert any(t.get_name() == "workorder-drafts" for t in hotline._tasks)
    ringing = CallRecord(
        linkedid="9.1", uniqueid="9.1", caller_number=NUMBER, queue="zh-legal", language="zh"
    )
    hotline._on_changes([CallChanged(ringing)])  # not answered yet: no draft
    answered = CallRecord(
        linkedid="9.1",
        uniqueid="9.1",
        caller_number=NUMBER,
        queue="zh-legal",
        language="zh",
        answered_at=T0,
        agent="1001",
    )
    hotline._on_changes([CallChanged(answered), CallChanged(answered), CallEnded(answered)])
    await logged_in(client, "a1001")

    async def draft() -> dict[str, object] | None:
        found = (await client.get("/api/workorders", params={"caller_number": NUMBER})).json()
        return found[0] if found else None

    order = await eventually(draft, 10, "the draft of an answered call")
    assert (order["status"], order["service_line"], order["created_by"], order["agent"]) == (
        "draft",
        "legal",
        "system",
        "1001",
    )
    assert len((await client.get("/api/workorders", params={"caller_number": NUMBER})).json()) == 1
    # the agent's form completes that draft; the lazy path finds it too
    assert (await client.get("/api/workorders/by-call/9.1")).json()["id"] == order["id"]
    done = await client.post(
        "/api/workorders", json=_form("9.1", service_line="legal", disposition="resolved")
    )
    assert (done.status_code, done.json()["id"], done.json()["status"]) == (201, order["id"], "closed")
    history = (await client.get(f"/api/workorders/{order['id']}")).json()["history"]
    assert [(h["action"], h["actor"]) for h in history] == [("create", "system"), ("complete", "a1001")]
