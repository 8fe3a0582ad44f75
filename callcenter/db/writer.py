"""The call writer: takes call-record snapshots from the live model and writes them to PostgreSQL.

Snapshots are coalesced by Linkedid (only the newest state of a call matters: each one is complete), written
in batches, and kept while the database is unavailable: the service goes on taking calls and the writer
catches up when PostgreSQL is back, retrying with backoff. Nothing is dropped; the pending set is bounded by
the number of distinct calls, not by the number of events.
"""

from __future__ import annotations

import asyncio
import logging
import random
from contextlib import suppress

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.db.calls import upsert_calls
from callcenter.records import CallRecord

log = logging.getLogger(__name__)


class CallWriter:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        batch_max: int = 500,
        retry_initial: float = 0.2,
        retry_max: float = 5.0,
    ) -> None:
        self._sessions = sessions
        self._batch_max = batch_max
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._pending: dict[str, CallRecord] = {}
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self.written = 0
        self.failures = 0

    @property
    def pending(self) -> int:
        """Calls waiting to be written (the spool depth shown on /metrics)."""
        return len(self._pending)

    def holds(self, linkedid: str) -> bool:
        """Whether a snapshot of this call is still waiting to be written."""
        return linkedid in self._pending

    def submit(self, record: CallRecord) -> None:
        """Queue the newest snapshot of a call; never blocks the event path."""
        self._pending[record.linkedid] = record
        self._idle.clear()
        self._wake.set()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="call-writer")

    async def stop(self, drain_timeout: float = 5.0) -> None:
        """Write what is pending (within ``drain_timeout``), then stop the task."""
        if self._task is None:
            return
        if self._pending:
            try:
                await asyncio.wait_for(self._idle.wait(), drain_timeout)
            except TimeoutError:
                log.error("call writer stopped with %d calls unwritten (database unavailable)", self.pending)
        self._task.cancel()
        with suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def drained(self, timeout: float = 10.0) -> None:
        """Wait until everything submitted so far is in the database (tests and shutdown)."""
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
                        await upsert_calls(session, list(batch.values()))
                except (OSError, TimeoutError) as exc:
                    self._backoff_log(exc, len(batch))
                except Exception as exc:
                    if not _is_connection_error(exc):
                        log.exception("writing %d calls failed; will retry", len(batch))
                    else:
                        self._backoff_log(exc, len(batch))
                else:
                    for linkedid, record in batch.items():
                        # A newer snapshot may have arrived while we wrote: keep that one.
                        if self._pending.get(linkedid) is record:
                            del self._pending[linkedid]
                    self.written += len(batch)
                    delay = self._retry_initial
                    continue
                self.failures += 1
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, self._retry_max)
            self._idle.set()

    def _backoff_log(self, exc: BaseException, n: int) -> None:
        log.warning("database unavailable (%s); %d calls held for retry", type(exc).__name__, n)


def _is_connection_error(exc: BaseException) -> bool:
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)
