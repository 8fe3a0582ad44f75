"""Shared fixtures: real PostgreSQL (embedded from the pgserver wheel, or DATABASE_URL), migrated once per
run, emptied before each test that asks for it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from callcenter.db.engine import Database, open_database
from callcenter.db.schema import metadata
from callcenter.settings import to_asyncpg_url

os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
# The overflow controller logs standby agents in under load; tests that are about it start it themselves
# (Hotline.start_overflow) so that it does not change who answers in everyone else's tests.
os.environ.setdefault("HOTLINE_OVERFLOW_INTERVAL", "0")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A URL to an empty database on a real PostgreSQL server, for the whole run."""
    external = os.environ.get("DATABASE_URL")
    if external:
        yield to_asyncpg_url(external)
        return
    from callcenter.db.embedded import EmbeddedPostgres

    with tempfile.TemporaryDirectory(prefix="hotline-pg-") as tmp:
        server = EmbeddedPostgres(Path(tmp))
        server.start()
        try:
            yield server.create_database("hotline_test")
        finally:
            server.stop()


@pytest.fixture(scope="session")
async def session_database(postgres_url: str) -> AsyncIterator[Database]:
    db = await open_database(postgres_url, Path(tempfile.gettempdir()))
    yield db
    await db.close()


@pytest.fixture
async def database(session_database: Database) -> Database:
    """The migrated test database with every table emptied."""
    tables = ", ".join(t.name for t in metadata.sorted_tables)
    async with session_database.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return session_database
