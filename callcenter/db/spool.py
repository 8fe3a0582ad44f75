"""A write spool: rows the service must get into PostgreSQL, written by one owned task, never blocking the
event path and never dropped while the database is away.

``put`` only stores the row (under a key: a newer row for the same key replaces one not yet written) and
wakes the task; the task writes in batches with ``write`` and, when PostgreSQL is unavailable, keeps the rows
and retries with jittered exponential backoff until it is back. The call writer (call records by Linkedid)
and the agent state recorder (occupancy intervals) are the two users; bounding what is put in is theirs.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Hashable
from contextlib import suppress
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class WriteSpool(Generic[K, V]):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        write: Callable[[AsyncSession, list[V]], Awaitable[object]],
        *,
        what: str,
        task_name: str,
        batch_max: int = 500,
        retry_initial: float = 0.2,
        retry_max: float = 5.0,
    ) -> None:
        self._sessions = sessions
        self._write = write
        self._what = what  # "calls", "agent state intervals": for the logs
        self._task_name = task_name
        self._batch_max = batch_max
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._pending: dict[K, V] = {}
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self.written = 0
        self.failures = 0

    def __len__(self) -> int:
        return len(self._pending)

    def __contains__(self, key: object) -> bool:
        return key in self._pending

    def put(self, key: K, value: V) -> None:
        self._pending[key] = value
        self._idle.clear()
        self._wake.set()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self._task_name)

    async def stop(self, drain_timeout: float = 5.0) -> None:
        """Write what is pending (within ``drain_timeout``), then stop the task."""
        if self._task is None:
            return
        if self._pending:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), drain_timeout)
        if self._pending:
            log.error(
                "%s stopped with %d %s unwritten (database unavailable)",
                self._task_name,
                len(self._pending),
                self._what,
            )
        self._task.cancel()
        with suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def drained(self, timeout: float = 10.0) -> None:
        """Wait until everything put so far is in the database (tests and shutdown)."""
        await asyncio.wait_for(self._idle.wait(), timeout)

    async def _run(self) -> None:
        delay = self._retry_initial
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch = dict(list(self._pending.items())[: self._batch_max])
                try:
                    async with self._sessions() as session, session.begin():
                        await self._write(session, list(batch.values()))
                except Exception as exc:
                    if is_connection_error(exc):
                        log.warning(
                            "database unavailable (%s); %d %s held for retry",
                            type(exc).__name__,
                            len(batch),
                            self._what,
                        )
                    else:
                        log.exception("writing %d %s failed; will retry", len(batch), self._what)
                else:
                    for key, value in batch.items():
                        # a newer row for the same key may have come while we wrote: keep that one
                        if self._pending.get(key) is value:
                            del self._pending[key]
                    self.written += len(batch)
                    delay = self._retry_initial
                    continue
                self.failures += 1
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, self._retry_max)
            self._idle.set()


def raised_by_the_database_driver(exc: BaseException) -> bool:
    """True when ``exc`` came out of SQLAlchemy or asyncpg (an ``OSError`` from connecting, say), not from a
    file the caller opened."""
    tb = exc.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if module.startswith(("sqlalchemy", "asyncpg")):
            return True
        tb = tb.tb_next
    return False


def is_connection_error(exc: BaseException) -> bool:
    """The database could not be reached (or dropped the link): worth retrying until it is back."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    if isinstance(exc, OSError | TimeoutError | OperationalError | InterfaceError):
        return True
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated)
    return False
