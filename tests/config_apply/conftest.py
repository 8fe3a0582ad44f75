"""A started hotline (no PBX) whose config applies write into a temporary directory, and an HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from callcenter.app import Hotline, create_app
from callcenter.auth.roles import parse_roles
from callcenter.settings import Settings, load_settings
from tests.config_apply.support import example_text, plan_of
from tests.web.conftest import PASSWORD

USERS = {"ops": ("ops", None), "adm": ("admin", None), "a1001": ("agent", "1001")}


@pytest.fixture
def settings(postgres_url: str, tmp_path: Path) -> Settings:
    return load_settings(
        database_url=postgres_url,
        data_dir=tmp_path,
        agi_port=0,
        asterisk_config_dir=tmp_path / "asterisk",
        config_file=tmp_path / "hotline.yaml",
    )


@pytest.fixture
async def service(settings: Settings, database: object) -> AsyncIterator[Hotline]:
    """Started on the Inner Mongolia example handed in as a plan (nothing stored yet)."""
    hotline = Hotline(settings, plan=plan_of(example_text("inner-mongolia")))
    await hotline.start()
    assert hotline.users is not None
    for username, (roles, extension) in USERS.items():
        await hotline.users.add(username, PASSWORD, parse_roles(roles), extension=extension)
    try:
        yield hotline
    finally:
        await hotline.stop()


@pytest.fixture
async def client(settings: Settings, service: Hotline) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(settings, hotline=service)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40003))
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline.test") as the_client:
        yield the_client
