"""Recording agents' state intervals from the agent board without blocking the event path.

The board calls :meth:`StateRecorder.observe` with every status it takes; when an agent's state changes the
interval it leaves is queued in memory and an owned task writes the queue in batches (like
``callcenter.db.writer``), retrying with backoff while PostgreSQL is away. A status put back after Asterisk
refused a command does not count the same time twice: an interval never starts before the agent's last
recorded end.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agents.state import AgentState, AgentStatus
from callcenter.occupancy.models import AgentStateInterval

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Interval:
    agent: str
    state: str
    started_at: datetime
    ended_at: datetime


class StateRecorder:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        batch_max: int = 500,
        retry_max: float = 5.0,
        pending_max: int = 100_000,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._batch_max = batch_max
        self._retry_max = retry_max
        self._pending_max = pending_max
        self._open: dict[str, tuple[AgentState, datetime]] = {}
        self._last_end: dict[str, datetime] = {}
        self._pending: list[Interval] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self.written = 0
        self.dropped = 0

    # -- the event path ------------------------------------------------------------------------------
    def observe(self, status: AgentStatus) -> None:
        """The board took ``status``: close the previous interval if the state changed (never blocks)."""
        current = self._open.get(status.extension)
        if current is not None and current == (status.state, status.since):
            return
        if current is not None:
            self._close(status.extension, current, status.since)
        self._open[status.extension] = (status.state, status.since)

    def _close(self, agent: str, current: tuple[AgentState, datetime], end: datetime) -> None:
        state, since = current
        start = max(since, self._last_end.get(agent, since))
        if state is AgentState.LOGGED_OUT or end <= start:
            return
        self._last_end[agent] = end
        if len(self._pending) >= self._pending_max:
            self.dropped += 1
            return
        self._pending.append(Interval(agent, state.value, start, end))
        self._idle.clear()
        self._wake.set()

    def close_all(self, now: datetime | None = None) -> None:
        """Close every open interval at ``now`` (on stop: the time so far is kept)."""
        at = now or self._clock()
        for agent, current in list(self._open.items()):
            self._close(agent, current, at)
            self._open[agent] = (current[0], at)

    # -- the owned task ------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="agent-state-recorder")

    async def stop(self, drain_timeout: float = 5.0) -> None:
        if self._task is None:
            return
        self.close_all()
        with suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), drain_timeout)
        if self._pending:
            log.error("agent state recorder stopped with %d intervals unwritten", len(self._pending))
        self._task.cancel()
        with suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def drained(self, timeout: float = 10.0) -> None:
        """Wait until every interval closed so far is in the database (tests)."""
        await asyncio.wait_for(self._idle.wait(), timeout)

    async def _run(self) -> None:
        delay = 0.2
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch = self._pending[: self._batch_max]
                try:
                    async with self._sessions() as session, session.begin():
                        await session.execute(
                            insert(AgentStateInterval),
                            [
                                {
                                    "agent": i.agent,
                                    "state": i.state,
                                    "started_at": i.started_at,
                                    "ended_at": i.ended_at,
                                }
                                for i in batch
                            ],
                        )
                except Exception:
                    log.warning("writing %d agent state intervals failed", len(batch), exc_info=True)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self._retry_max)
                    continue
                delay = 0.2
                del self._pending[: len(batch)]
                self.written += len(batch)
            self._idle.set()
