"""schemathesis over the OpenAPI of every endpoint, as a logged-in admin: no crash, no HTTP 500.

schemathesis (pinned) generates the cases from ``app.openapi()`` (positive and negative modes); we send
them ourselves with httpx over ASGI, on the test's own event loop (schemathesis' ``case.call()`` would
run the app on another loop than the hotline's database pool). The budget per operation is bounded.
Logging out would end the admin's session: that one route is left out.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from callcenter.app import Hotline, create_app
from callcenter.auth.roles import parse_roles
from callcenter.settings import load_settings
from tests.integration.harness import quick_plan

pytestmark = pytest.mark.slow

PASSWORD = "fuzz horse 12355"
SKIP = {("POST", "/api/auth/logout")}
PER_OPERATION = 8


@pytest.fixture
async def admin_client(
    postgres_url: str, database: object, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    settings_ = load_settings(database_url=postgres_url, data_dir=tmp_path, agi_port=0)
    hotline = Hotline(settings_, plan=quick_plan())
    await hotline.start()
    assert hotline.users is not None
    await hotline.users.add("fuzzadmin", PASSWORD, parse_roles("admin"))
    app = create_app(settings_, hotline=hotline)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("127.0.0.1", 40001))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hotline.test") as client:
            response = await client.post(
                "/api/auth/login", json={"username": "fuzzadmin", "password": PASSWORD}
            )
            assert response.status_code == 200, response.text
            client.app = app  # type: ignore[attr-defined]
            yield client
    finally:
        await hotline.stop()


def _cases(openapi: dict[str, Any]) -> list[Any]:
    """Draw a bounded set of cases for every operation (drawn synchronously; sent afterwards)."""
    schema = schemathesis.openapi.from_dict(openapi)
    cases: list[Any] = []
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]
        if (operation.method.upper(), operation.path) in SKIP:
            continue
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
        )

        @settings(
            max_examples=PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def collect(case: Any) -> None:
            cases.append(case)

        collect()
    return cases


def _request(case: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"method": case.method.upper(), "url": case.formatted_path}
    if case.query:
        kwargs["params"] = {k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in case.query.items()}
    headers = {k: str(v) for k, v in (case.headers or {}).items() if k.lower() not in ("cookie", "host")}
    body = case.body
    if body is not None and type(body).__name__ != "NotSet":
        media = case.media_type or "application/json"
        if "json" in media:
            kwargs["content"] = json.dumps(body, default=str).encode()
        elif isinstance(body, bytes | str):
            kwargs["content"] = body
        else:
            kwargs["data"] = body
        headers["content-type"] = media
    kwargs["headers"] = headers
    return kwargs


async def test_no_endpoint_answers_500_to_generated_input(admin_client: httpx.AsyncClient) -> None:
    openapi = admin_client.app.openapi()  # type: ignore[attr-defined]
    cases = _cases(openapi)
    assert len({(c.method, c.path) for c in cases}) >= 10  # every operation got cases
    failures: list[str] = []
    for case in cases:
        request = _request(case)
        try:
            response = await admin_client.request(**request)
        except (UnicodeEncodeError, httpx.InvalidURL, ValueError):
            continue  # not sendable over HTTP at all (a header with a newline): the client refuses it
        if response.status_code >= 500 and response.status_code != 503:
            failures.append(f"{request} → {response.status_code}: {response.text[:200]}")
    assert failures == []


async def test_regressions_the_fuzzer_found(admin_client: httpx.AsyncClient, tmp_path: Path) -> None:
    # An id beyond int64 and a NUL in a query string reached PostgreSQL and came back as 500.
    assert (await admin_client.get("/api/workorders/99999999999999999999")).status_code == 422
    assert (await admin_client.get("/api/calls", params={"caller_number": "\x00"})).status_code == 422


def test_xlsx_export_drops_control_characters_instead_of_failing() -> None:
    from openpyxl import load_workbook

    from callcenter.reports.export import rows_xlsx

    path = rows_xlsx([["note", "a\x01b\x1fc"]])
    try:
        sheet = load_workbook(path).active
        assert sheet is not None and sheet["B1"].value == "abc"
    finally:
        path.unlink()
