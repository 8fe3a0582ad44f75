"""The service's HTTP side on real PostgreSQL (no PBX): a started hotline and an HTTP client per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from callcenter.app import Hotline, create_app
from callcenter.auth.roles import parse_roles
from callcenter.settings import load_settings
from tests.integration.harness import quick_plan

PASSWORD = "correct horse 12355"
USERS = {
    "sup": ("supervisor", None, None),
    "ops": ("ops", None, None),
    "adm": ("admin", None, None),
    "a1001": ("agent", "1001", None),
    "cb": ("callback-agent", "1009", None),
    "county": ("unit-staff", None, "150102"),
}


@pytest.fixture
async def hotline(postgres_url: str, database: object, tmp_path: Path) -> AsyncIterator[Hotline]:
    settings = load_settings(database_url=postgres_url, data_dir=tmp_path, agi_port=0)
    the_hotline = Hotline(settings, plan=quick_plan())
    await the_hotline.start()
    assert the_hotline.users is not None
    for username, (roles, extension, unit) in USERS.items():
        await the_hotline.users.add(
            username, PASSWORD, parse_roles(roles), extension=extension, unit_code=unit
        )
    try:
        yield the_hotline
    finally:
        await the_hotline.stop()


@pytest.fixture
def app(hotline: Hotline) -> FastAPI:
    return create_app(hotline.settings, hotline=hotline)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline.test") as the_client:
        yield the_client


async def logged_in(client: httpx.AsyncClient, username: str) -> httpx.AsyncClient:
    response = await client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return client
