"""Login, sessions, roles and masked numbers, as a user of the pages meets them."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from fastapi import FastAPI

from callcenter.app import Hotline
from callcenter.db.calls import upsert_calls
from callcenter.records import CallRecord, Disposition
from callcenter.web.inventory import http_routes
from tests.web.conftest import PASSWORD, logged_in

OPEN_PATHS = {"/healthz", "/login", "/", "/api/auth/login", "/api/auth/logout", "/metrics", "/readyz"}


async def test_wrong_password_is_refused_then_rate_limited(client: httpx.AsyncClient) -> None:
    for _ in range(5):
        response = await client.post("/api/auth/login", json={"username": "sup", "password": "nope nope"})
        assert response.status_code == 401
    response = await client.post("/api/auth/login", json={"username": "sup", "password": PASSWORD})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0


async def test_login_gives_a_session_and_logout_ends_it(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/auth/me")).status_code == 401
    await logged_in(client, "a1001")
    me = (await client.get("/api/auth/me")).json()
    assert (me["username"], me["roles"], me["extension"]) == ("a1001", ["agent"], "1001")
    assert (await client.post("/api/auth/logout")).status_code == 204
    assert (await client.get("/api/auth/me")).status_code == 401


async def test_bearer_token_works_for_scripts(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/auth/login", json={"username": "ops", "password": PASSWORD})
    token = response.headers["X-Session-Token"]
    client.cookies.clear()
    me = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["username"] == "ops"


async def test_disabled_user_is_logged_out_and_cannot_log_in(
    hotline: Hotline, client: httpx.AsyncClient
) -> None:
    assert hotline.users is not None
    await logged_in(client, "county")
    await hotline.users.disable("county")
    assert (await client.get("/api/auth/me")).status_code == 401
    response = await client.post("/api/auth/login", json={"username": "county", "password": PASSWORD})
    assert response.status_code == 401


async def test_roles_decide_who_sees_calls_and_numbers_are_masked_for_ops(
    hotline: Hotline, client: httpx.AsyncClient
) -> None:
    assert hotline.db is not None
    async with hotline.db.sessions() as session, session.begin():
        await upsert_calls(
            session,
            [
                CallRecord(
                    linkedid="9.1",
                    uniqueid="9.1",
                    caller_number="13812345678",
                    arrived_at=datetime.now(UTC),
                    disposition=Disposition.ANSWERED,
                )
            ],
        )
    assert (await client.get("/api/calls")).status_code == 401
    await logged_in(client, "a1001")
    assert (await client.get("/api/calls")).status_code == 403
    await logged_in(client, "sup")
    assert (await client.get("/api/calls")).json()[0]["caller_number"] == "13812345678"
    await logged_in(client, "ops")
    assert (await client.get("/api/calls")).json()[0]["caller_number"] == "138****5678"
    detail = await client.get("/api/calls/9.1")
    assert detail.json()["caller_number"] == "138****5678"


async def test_an_agent_acts_only_on_their_own_seat(client: httpx.AsyncClient) -> None:
    await logged_in(client, "a1001")
    response = await client.post("/api/agents/1002/login")
    assert response.status_code == 403
    assert "1001" in response.json()["detail"]


async def test_no_endpoint_is_open_without_a_session(app: FastAPI, client: httpx.AsyncClient) -> None:
    """Every route the app has (enumerated, none left out) answers 401 to a stranger, bar the open few."""
    checked = 0
    for route in http_routes(app):
        if route.path in OPEN_PATHS:
            continue
        path = route.path.replace("{", "").replace("}", "")
        for method in route.methods:
            response = await client.request(method, path)
            assert response.status_code == 401, f"{method} {route.path} answered {response.status_code}"
            checked += 1
    assert checked >= 6
