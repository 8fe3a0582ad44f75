"""The caller screen: supervisor blocks, the screening log, repeat-caller detection and out-of-hours voice
messages. Implements ``ivr.hours_gate.CallerScreen`` for the IVR.

- A block has a reason and an optional expiry; lifting it keeps the row. Every block, unblock and rejected
  call is written to ``caller_screening_log``.
- Every call with a number that reaches the IVR is kept in ``caller_arrivals``; a number calling more than
  ``repeat_callers.calls`` times within ``repeat_callers.minutes`` is logged and published to supervisors on
  hub topic ``repeat-caller`` (a possible crisis or a nuisance: a person decides).
- A database failure never turns a caller away, nor keeps one waiting: the IVR's questions (an arrival,
  a block) get ``IVR_DB_SECONDS`` at most, and on any failure the IVR goes on as if the number were not
  blocked. What the screen records (rejections, voice messages) goes through ordered writes that wait
  out a PostgreSQL outage (``callcenter/db/jobs.py``): a voice message left meanwhile is not lost.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.auth.roles import SUPERVISORS
from callcenter.blocks.models import CallerArrival, CallerBlock, ScreeningLog, VoiceMessage
from callcenter.db.jobs import OrderedWrites, add_once
from callcenter.live.model import CallEnded
from callcenter.records import Disposition
from callcenter.web.hub import LiveHub
from routing.plan import HotlinePlan, national_number

__all__ = ["REPEAT_TOPIC", "BlockNotFound", "CallerScreening", "InvalidBlock"]

log = logging.getLogger(__name__)

REPEAT_TOPIC = "repeat-caller"
IVR_DB_SECONDS = 1.0  # the caller hears silence while the screen asks the database: never longer
# what a database that is away, or too slow for a caller on the line, raises
_UNAVAILABLE = (SQLAlchemyError, OSError, TimeoutError)


class InvalidBlock(ValueError):
    """The number or the expiry of a new block is not acceptable."""


class BlockNotFound(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class RepeatCaller:
    number: str
    calls: int
    minutes: int
    linkedid: str


def block_out(row: CallerBlock) -> dict[str, Any]:
    return {
        "id": row.id,
        "number": row.number,
        "reason": row.reason,
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "expires_at": row.expires_at.isoformat() if row.expires_at else None,
        "lifted_at": row.lifted_at.isoformat() if row.lifted_at else None,
        "lifted_by": row.lifted_by,
    }


class CallerScreening:
    def __init__(
        self,
        sessions: Callable[[], async_sessionmaker[AsyncSession] | None],
        plan: Callable[[], HotlinePlan],
        hub: LiveHub,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = sessions
        self._plan = plan
        self._hub = hub
        self._clock = clock
        self._logged: deque[str] = deque(maxlen=1000)  # calls the IVR already logged as rejected
        self._writes = OrderedWrites("screening records")

    async def run(self) -> None:
        """The owned task: the screening log and voice messages, written in order."""
        await self._writes.run()

    async def drained(self) -> None:
        await self._writes.drained()

    def on_changes(self, changes: Iterable[object]) -> None:
        """Calls the dialplan refused before the IVR (the YAML's list) end as ``blocked`` without a word
        to us: log them from the live model's end of call."""
        for change in changes:
            if not isinstance(change, CallEnded):
                continue
            rec = change.record
            if rec.disposition is not Disposition.BLOCKED or rec.linkedid in self._logged:
                continue
            number = national_number(rec.caller_number or "")
            self._log("rejected", number, "yaml", "blocked_numbers", linkedid=rec.linkedid)

    def _db(self) -> async_sessionmaker[AsyncSession]:
        sessions = self._sessions()
        if sessions is None:
            raise SQLAlchemyError("the database is not open")
        return sessions

    # -- CallerScreen (the IVR) --------------------------------------------------------------------------
    async def arrived(self, number: str, linkedid: str) -> None:
        plan = self._plan()
        now = self._clock()
        try:
            async with asyncio.timeout(IVR_DB_SECONDS), self._db()() as session, session.begin():
                session.add(CallerArrival(number=number, linkedid=linkedid, at=now))
                if plan.repeat_calls <= 0 or plan.repeat_minutes <= 0:
                    return
                since = now - timedelta(minutes=plan.repeat_minutes)
                calls = await session.scalar(
                    select(func.count(CallerArrival.id)).where(
                        CallerArrival.number == number, CallerArrival.at > since
                    )
                )
                calls = calls or 0  # this one included (autoflush)
                if calls <= plan.repeat_calls:
                    return
                session.add(
                    ScreeningLog(
                        at=now,
                        event="repeat-caller",
                        number=number,
                        source="ivr",
                        reason=f"{calls} calls in {plan.repeat_minutes} min",
                        linkedid=linkedid,
                    )
                )
        except _UNAVAILABLE as exc:
            log.warning("caller screen: arrival of call %s not recorded: %r", linkedid, exc)
            return
        self._hub.publish(
            REPEAT_TOPIC,
            {"number": number, "calls": calls, "minutes": plan.repeat_minutes, "linkedid": linkedid},
            roles=SUPERVISORS,
        )
        log.info("repeat caller: %d calls in %d min (call %s)", calls, plan.repeat_minutes, linkedid)

    async def blocked_reason(self, number: str) -> str | None:
        try:
            async with asyncio.timeout(IVR_DB_SECONDS):
                row = await self.active_block(number)
        except _UNAVAILABLE as exc:
            log.warning("caller screen: blocks not readable, caller let through: %r", exc)
            return None
        return row.reason if row is not None else None

    async def rejected(self, number: str, linkedid: str, reason: str, source: str) -> None:
        self._logged.append(linkedid)
        self._log("rejected", number, source, reason, linkedid=linkedid)

    async def voice_message(
        self, linkedid: str, number: str | None, language: str, path: str, fmt: str, duration_ms: int | None
    ) -> None:
        fields = {
            "linkedid": linkedid,
            "number": number,
            "language": language,
            "path": path,
            "format": fmt,
            "duration_ms": duration_ms,
        }
        self._writes.put(functools.partial(self._write_voice_message, fields))

    async def _write_voice_message(self, fields: dict[str, Any]) -> None:
        async with self._db()() as session, session.begin():
            row = VoiceMessage(**fields)
            await add_once(session, row, VoiceMessage.linkedid == row.linkedid, VoiceMessage.path == row.path)

    # -- supervisors ---------------------------------------------------------------------------------------
    async def active_block(self, number: str) -> CallerBlock | None:
        now = self._clock()
        async with self._db()() as session:
            return await session.scalar(
                select(CallerBlock)
                .where(
                    CallerBlock.number == national_number(number),
                    CallerBlock.lifted_at.is_(None),
                    or_(CallerBlock.expires_at.is_(None), CallerBlock.expires_at > now),
                )
                .order_by(CallerBlock.id.desc())
                .limit(1)
            )

    async def block(self, number: str, reason: str, expires_at: datetime | None, actor: str) -> CallerBlock:
        national = national_number(number.strip())
        digits = national[1:] if national.startswith("+") else national
        if not digits.isdigit():
            raise InvalidBlock(f"{number!r} is not a telephone number")
        if not reason.strip():
            raise InvalidBlock("a block needs a reason")
        if expires_at is not None and expires_at <= self._clock():
            raise InvalidBlock("the expiry is in the past")
        async with self._db()() as session, session.begin():
            row = CallerBlock(number=national, reason=reason.strip(), created_by=actor, expires_at=expires_at)
            session.add(row)
            session.add(
                ScreeningLog(
                    event="block", number=national, source="panel", reason=reason.strip(), actor=actor
                )
            )
        return row

    async def unblock(self, block_id: int, actor: str) -> CallerBlock:
        now = self._clock()
        async with self._db()() as session, session.begin():
            row = await session.get(CallerBlock, block_id)
            if row is None or row.lifted_at is not None:
                raise BlockNotFound(block_id)
            await session.execute(
                update(CallerBlock).where(CallerBlock.id == block_id).values(lifted_at=now, lifted_by=actor)
            )
            session.add(
                ScreeningLog(
                    event="unblock", number=row.number, source="panel", reason=row.reason, actor=actor
                )
            )
        row.lifted_at, row.lifted_by = now, actor
        return row

    async def blocks(self, *, active_only: bool = True) -> list[CallerBlock]:
        now = self._clock()
        stmt = select(CallerBlock).order_by(CallerBlock.id.desc())
        if active_only:
            stmt = stmt.where(
                CallerBlock.lifted_at.is_(None),
                or_(CallerBlock.expires_at.is_(None), CallerBlock.expires_at > now),
            )
        async with self._db()() as session:
            return list(await session.scalars(stmt))

    async def screening_log(self, *, limit: int = 200, event: str | None = None) -> list[ScreeningLog]:
        stmt = select(ScreeningLog).order_by(ScreeningLog.id.desc()).limit(limit)
        if event is not None:
            stmt = stmt.where(ScreeningLog.event == event)
        async with self._db()() as session:
            return list(await session.scalars(stmt))

    async def voice_messages(self, *, limit: int = 200) -> list[VoiceMessage]:
        async with self._db()() as session:
            return list(
                await session.scalars(select(VoiceMessage).order_by(VoiceMessage.id.desc()).limit(limit))
            )

    def _log(
        self, event: str, number: str, source: str, reason: str | None, *, linkedid: str | None = None
    ) -> None:
        fields = {"event": event, "number": number, "source": source, "reason": reason, "linkedid": linkedid}
        self._writes.put(functools.partial(self._write_log, fields))

    async def _write_log(self, fields: dict[str, Any]) -> None:
        async with self._db()() as session, session.begin():
            row = ScreeningLog(**fields)
            if row.linkedid is None:
                session.add(row)
            else:  # one entry per call and event
                await add_once(
                    session, row, ScreeningLog.linkedid == row.linkedid, ScreeningLog.event == row.event
                )
