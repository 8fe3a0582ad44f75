"""The database handle the service owns: an embedded server when no URL is given, the engine, sessions."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from callcenter.db.embedded import EmbeddedPostgres
from callcenter.db.migrate import upgrade

log = logging.getLogger(__name__)


@dataclass
class Database:
    url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    embedded: EmbeddedPostgres | None = field(default=None)

    async def close(self) -> None:
        await self.engine.dispose()
        if self.embedded is not None:
            await asyncio.to_thread(self.embedded.stop)


async def open_database(url: str | None, data_dir: Path, *, migrate: bool = True) -> Database:
    """Connect to ``url`` (or start the embedded server in ``data_dir``) and bring the schema to head."""
    embedded: EmbeddedPostgres | None = None
    if url is None:
        embedded = EmbeddedPostgres(data_dir)
        url = await asyncio.to_thread(embedded.start)
    engine = create_async_engine(url, pool_size=5, max_overflow=5, pool_pre_ping=True)
    try:
        if migrate:
            await upgrade(engine)
    except BaseException:
        await engine.dispose()
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)
        raise
    return Database(
        url=url,
        engine=engine,
        sessions=async_sessionmaker(engine, expire_on_commit=False),
        embedded=embedded,
    )
