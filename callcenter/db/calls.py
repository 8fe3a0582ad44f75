"""Reading and writing call records. Writes are idempotent upserts keyed by Linkedid, so a record written
twice (a retry after a lost connection, a replay) is stored once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.db.models import AgentAttempt, Call
from callcenter.records import CallRecord

_CALL_FIELDS = (
    "uniqueid",
    "channel",
    "caller_number",
    "caller_name",
    "dialled_number",
    "language",
    "menu_path",
    "queue",
    "priority",
    "arrived_at",
    "ivr_ended_at",
    "queue_joined_at",
    "answered_at",
    "ended_at",
    "wait_seconds",
    "talk_seconds",
    "disposition",
    "agent",
    "agent_interface",
    "hangup_cause",
)
_ATTEMPT_FIELDS = (
    "queue",
    "agent",
    "interface",
    "outcome",
    "called_at",
    "ring_seconds",
    "connected_at",
    "ended_at",
    "talk_seconds",
    "end_reason",
)


def _call_row(record: CallRecord) -> dict[str, Any]:
    row: dict[str, Any] = {"linkedid": record.linkedid}
    for name in _CALL_FIELDS:
        value = getattr(record, name)
        row[name] = str(value) if name == "disposition" and value is not None else value
    return row


async def upsert_calls(session: AsyncSession, records: Sequence[CallRecord]) -> None:
    """Write the newest state of each call and its agent attempts, in the caller's transaction."""
    if not records:
        return
    rows = [_call_row(r) for r in records]
    stmt = insert(Call).values(rows)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[Call.linkedid],
            # A later snapshot never erases what was known: a record rebuilt after a restart or a gap
            # (no menu path, no arrival time) keeps what the row already has.
            set_={
                **{name: func.coalesce(stmt.excluded[name], Call.__table__.c[name]) for name in _CALL_FIELDS},
                "updated_at": func.now(),
            },
        )
    )
    attempts = [
        {
            "linkedid": r.linkedid,
            "seq": a.seq,
            **{n: str(getattr(a, n)) if n == "outcome" else getattr(a, n) for n in _ATTEMPT_FIELDS},
        }
        for r in records
        for a in r.attempts
    ]
    if attempts:
        astmt = insert(AgentAttempt).values(attempts)
        await session.execute(
            astmt.on_conflict_do_update(
                constraint="uq_agent_attempts_linkedid_seq",
                set_={name: astmt.excluded[name] for name in _ATTEMPT_FIELDS},
            )
        )


@dataclass(frozen=True, slots=True)
class CallFilter:
    limit: int = 50
    offset: int = 0
    queue: str | None = None
    disposition: str | None = None
    caller_number: str | None = None
    since: datetime | None = None


async def list_calls(sessions: async_sessionmaker[AsyncSession], flt: CallFilter) -> list[Call]:
    stmt = select(Call).order_by(Call.id.desc()).limit(flt.limit).offset(flt.offset)
    if flt.queue:
        stmt = stmt.where(Call.queue == flt.queue)
    if flt.disposition:
        stmt = stmt.where(Call.disposition == flt.disposition)
    if flt.caller_number:
        stmt = stmt.where(Call.caller_number == flt.caller_number)
    if flt.since:
        stmt = stmt.where(Call.arrived_at >= flt.since)
    async with sessions() as session:
        return list((await session.scalars(stmt)).all())


async def get_call(sessions: async_sessionmaker[AsyncSession], linkedid: str) -> Call | None:
    async with sessions() as session:
        return await session.scalar(select(Call).where(Call.linkedid == linkedid))


async def list_attempts(sessions: async_sessionmaker[AsyncSession], linkedid: str) -> list[AgentAttempt]:
    async with sessions() as session:
        stmt = select(AgentAttempt).where(AgentAttempt.linkedid == linkedid).order_by(AgentAttempt.seq)
        return list((await session.scalars(stmt)).all())
