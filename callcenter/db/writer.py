"""The call writer: takes call-record snapshots from the live model and writes them to PostgreSQL.

Snapshots are coalesced by Linkedid (only the newest state of a call matters: each one is complete), written
in batches, and kept while the database is unavailable: the service goes on taking calls and the writer
catches up when PostgreSQL is back, retrying with backoff (the spool, ``callcenter/db/spool.py``). Nothing
is dropped; the pending set is bounded by the number of distinct calls, not by the number of events.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.db.calls import upsert_calls
from callcenter.db.spool import WriteSpool
from callcenter.records import CallRecord


class CallWriter:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        batch_max: int = 500,
        retry_initial: float = 0.2,
        retry_max: float = 5.0,
    ) -> None:
        self._spool: WriteSpool[str, CallRecord] = WriteSpool(
            sessions,
            upsert_calls,
            what="calls",
            task_name="call-writer",
            batch_max=batch_max,
            retry_initial=retry_initial,
            retry_max=retry_max,
        )

    @property
    def pending(self) -> int:
        """Calls waiting to be written (the spool depth shown on /metrics)."""
        return len(self._spool)

    @property
    def written(self) -> int:
        return self._spool.written

    @property
    def failures(self) -> int:
        return self._spool.failures

    def holds(self, linkedid: str) -> bool:
        """Whether a snapshot of this call is still waiting to be written."""
        return linkedid in self._spool

    def submit(self, record: CallRecord) -> None:
        """Queue the newest snapshot of a call (it replaces an older one not yet written); never blocks."""
        self._spool.put(record.linkedid, record)

    async def start(self) -> None:
        await self._spool.start()

    async def stop(self, drain_timeout: float = 5.0) -> None:
        """Write what is pending (within ``drain_timeout``), then stop the task."""
        await self._spool.stop(drain_timeout)

    async def drained(self, timeout: float = 10.0) -> None:
        """Wait until everything submitted so far is in the database (tests and shutdown)."""
        await self._spool.drained(timeout)
