"""Supervisors block numbers from the panel: reason, expiry, lifting, the screening log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from callcenter.app import Hotline
from tests.web.conftest import app, client, hotline, logged_in  # noqa: F401  (fixtures)


async def test_a_supervisor_blocks_and_lifts_a_number_and_both_are_logged(
    hotline: Hotline,  # noqa: F811
    client: httpx.AsyncClient,  # noqa: F811
) -> None:
    assert (await client.get("/api/blocks")).status_code == 401
    await logged_in(client, "sup")
    expires = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    created = await client.post(
        "/api/blocks", json={"number": "+8613900000009", "reason": "骚扰", "expires_at": expires}
    )
    assert created.status_code == 201, created.text
    block = created.json()
    assert (block["number"], block["reason"], block["created_by"]) == ("13900000009", "骚扰", "sup")
    assert hotline.screen is not None
    assert await hotline.screen.blocked_reason("13900000009") == "骚扰"
    assert [b["id"] for b in (await client.get("/api/blocks")).json()] == [block["id"]]
    bad = await client.post("/api/blocks", json={"number": "hello", "reason": "x"})
    assert bad.status_code == 422
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    assert (
        await client.post("/api/blocks", json={"number": "13900000008", "reason": "x", "expires_at": past})
    ).status_code == 422
    lifted = await client.delete(f"/api/blocks/{block['id']}")
    assert lifted.status_code == 200 and lifted.json()["lifted_by"] == "sup"
    assert (await client.delete(f"/api/blocks/{block['id']}")).status_code == 404
    assert await hotline.screen.blocked_reason("13900000009") is None
    assert (await client.get("/api/blocks")).json() == []
    assert len((await client.get("/api/blocks", params={"all": "true"})).json()) == 1
    log = (await client.get("/api/blocks/log")).json()
    assert [(e["event"], e["number"], e["actor"]) for e in log] == [
        ("unblock", "13900000009", "sup"),
        ("block", "13900000009", "sup"),
    ]


async def test_an_expired_block_lets_the_caller_through(hotline: Hotline) -> None:  # noqa: F811
    assert hotline.screen is not None
    await hotline.screen.block("13900000007", "一小时", datetime.now(UTC) + timedelta(seconds=1), "sup")
    later = datetime.now(UTC) + timedelta(seconds=2)
    screen = type(hotline.screen)(
        lambda: hotline.db.sessions if hotline.db else None,
        lambda: hotline.plan,  # type: ignore[arg-type,return-value]
        hotline.hub,
        clock=lambda: later,
    )
    assert await screen.blocked_reason("13900000007") is None
    assert await hotline.screen.blocked_reason("13900000007") == "一小时"


async def test_agents_may_not_block(client: httpx.AsyncClient) -> None:  # noqa: F811
    await logged_in(client, "a1001")
    assert (
        await client.post("/api/blocks", json={"number": "13900000006", "reason": "x"})
    ).status_code == 403
    assert (await client.get("/api/blocks/messages")).status_code == 403
