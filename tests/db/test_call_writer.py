"""Call records reach PostgreSQL exactly once, newest state wins, and nothing is lost while the database
is away."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from callcenter.db.calls import CallFilter, list_attempts, list_calls
from callcenter.db.engine import Database
from callcenter.db.models import Call
from callcenter.db.writer import CallWriter
from callcenter.records import AgentAttempt, AttemptOutcome, CallRecord, Disposition

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def _record(linkedid: str, **changes: object) -> CallRecord:
    record = CallRecord(linkedid=linkedid, uniqueid=linkedid, caller_number="13800138000", arrived_at=T0)
    for key, value in changes.items():
        setattr(record, key, value)
    return record


async def test_newest_snapshot_wins_and_each_call_is_one_row(database: Database) -> None:
    writer = CallWriter(database.sessions)
    await writer.start()
    try:
        writer.submit(_record("1.1", queue="zh-legal"))
        writer.submit(
            _record(
                "1.1",
                queue="zh-legal",
                disposition=Disposition.ANSWERED,
                agent="1002",
                wait_seconds=3.0,
                talk_seconds=42.0,
                attempts=[
                    AgentAttempt(
                        1, "zh-legal", "1002", "PJSIP/1002", T0, AttemptOutcome.COMPLETED, talk_seconds=42.0
                    )
                ],
            )
        )
        writer.submit(_record("1.2", disposition=Disposition.IVR_HANGUP))
        await writer.drained()
        # The same finished call again (a replay, a retry) changes nothing.
        writer.submit(_record("1.2", disposition=Disposition.IVR_HANGUP))
        await writer.drained()
    finally:
        await writer.stop()
    calls = await list_calls(database.sessions, CallFilter())
    assert sorted((c.linkedid, c.disposition) for c in calls) == [("1.1", "answered"), ("1.2", "ivr-hangup")]
    answered = next(c for c in calls if c.linkedid == "1.1")
    assert (answered.agent, answered.wait_seconds, answered.talk_seconds) == ("1002", 3.0, 42.0)
    attempts = await list_attempts(database.sessions, "1.1")
    assert [(a.seq, a.outcome) for a in attempts] == [(1, "completed")]


async def test_calls_wait_while_the_database_is_away_and_are_written_when_it_returns(
    database: Database,
) -> None:
    # A writer pointed at a server that refuses connections keeps every call...
    dead = create_async_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none", pool_pre_ping=True)
    dead_writer = CallWriter(async_sessionmaker(dead), retry_initial=0.01, retry_max=0.05)
    await dead_writer.start()
    for n in range(20):
        dead_writer.submit(_record(f"2.{n}", disposition=Disposition.ANSWERED))
    for _ in range(50):
        if dead_writer.failures >= 3:
            break
        await _tick()
    assert dead_writer.failures >= 3
    assert dead_writer.pending == 20
    await dead_writer.stop(drain_timeout=0.05)
    await dead.dispose()
    # ...and a writer on a live database writes them all, once.
    writer = CallWriter(database.sessions)
    await writer.start()
    for n in range(20):
        writer.submit(_record(f"2.{n}", disposition=Disposition.ANSWERED))
    await writer.drained()
    await writer.stop()
    async with database.sessions() as session:
        assert await _count(session) == 20


async def _count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Call)) or 0)


async def _tick() -> None:
    await asyncio.sleep(0.02)
