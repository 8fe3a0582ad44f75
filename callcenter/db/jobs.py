"""Ordered database writes that must not be lost while PostgreSQL is away.

Callback tasks and attempts, crisis marks, work-order drafts, survey answers, the screening log and voice
messages are written by small jobs, each its own transaction, which must land in the order they were made
(a task's later state over its earlier one). The hooks that make them run on the AMI reader or with a
caller on the line, so they only enqueue; one owned task per service runs its jobs in order.

A job that fails because the database cannot be reached stays at the head of the queue and is retried with
jittered exponential backoff until PostgreSQL is back: nothing behind it overtakes it, nothing is dropped.
Any other failure is a defect in the job (a constraint, a bug): it is retried ``attempts`` times, then
logged and dropped, so that one bad job cannot hold every later write for ever.

Jobs must be idempotent (upserts, updates to fixed values, :func:`add_once` for plain rows): a job whose
commit was lost with the link is run again.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.db.models import Base
from callcenter.db.spool import is_connection_error

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


async def add_once(session: AsyncSession, row: Base, *same: ColumnElement[bool]) -> bool:
    """Add ``row`` unless a row matching ``same`` is there already, so that a rerun adds nothing. Safe
    because one ordered writer owns each such table. True when added."""
    if await session.scalar(select(exists().where(*same))):
        return False
    session.add(row)
    return True


class OrderedWrites:
    def __init__(
        self,
        what: str,
        *,
        attempts: int = 3,
        retry_initial: float = 0.2,
        retry_max: float = 5.0,
    ) -> None:
        self._what = what  # "callback tasks", "crisis marks": for the logs
        self._attempts = attempts
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._jobs: deque[Job] = deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self.written = 0
        self.failures = 0  # failed runs, each retried or, past ``attempts`` for a defect, dropped
        self.dropped = 0

    def __len__(self) -> int:
        """Jobs waiting (the head one included while it runs)."""
        return len(self._jobs)

    def put(self, job: Job) -> None:
        self._jobs.append(job)
        self._idle.clear()
        self._wake.set()

    async def drained(self) -> None:
        """Wait until every job put so far has run (or, a defective one, been dropped)."""
        await self._idle.wait()

    async def run(self) -> None:
        """The owned task: run the jobs in order for ever."""
        delay = self._retry_initial
        defects = 0
        while True:
            if not self._jobs:
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            try:
                await self._jobs[0]()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.failures += 1
                if is_connection_error(exc):
                    log.warning(
                        "database unavailable (%s); %d %s held for retry",
                        type(exc).__name__,
                        len(self._jobs),
                        self._what,
                    )
                else:
                    defects += 1
                    if defects >= self._attempts:
                        log.exception("writing %s failed %d times: dropped", self._what, defects)
                        self._jobs.popleft()
                        self.dropped += 1
                        defects, delay = 0, self._retry_initial
                        continue
                    log.exception("writing %s failed; will retry", self._what)
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, self._retry_max)
            else:
                self._jobs.popleft()
                self.written += 1
                defects, delay = 0, self._retry_initial
