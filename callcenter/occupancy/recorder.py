"""Recording agents' state intervals from the agent board without blocking the event path.

The board calls :meth:`StateRecorder.observe` with every status it takes; when an agent's state changes the
interval it leaves is put in a write spool (``callcenter/db/spool.py``, as the call writer does), whose
owned task writes them in batches, retrying with backoff while PostgreSQL is away. A status put back after
Asterisk refused a command does not count the same time twice: an interval never starts before the agent's
last recorded end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agents.state import AgentState, AgentStatus
from callcenter.db.spool import WriteSpool
from callcenter.occupancy.models import AgentStateInterval


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
        self._clock = clock
        self._pending_max = pending_max
        self._open: dict[str, tuple[AgentState, datetime]] = {}
        self._last_end: dict[str, datetime] = {}
        self._spool: WriteSpool[int, Interval] = WriteSpool(
            sessions,
            _insert_intervals,
            what="agent state intervals",
            task_name="agent-state-recorder",
            batch_max=batch_max,
            retry_max=retry_max,
        )
        self._seq = 0  # the spool's key: intervals are rows of their own, none replaces another
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
        if len(self._spool) >= self._pending_max:
            self.dropped += 1
            return
        self._seq += 1
        self._spool.put(self._seq, Interval(agent, state.value, start, end))

    @property
    def written(self) -> int:
        return self._spool.written

    def close_all(self, now: datetime | None = None) -> None:
        """Close every open interval at ``now`` (on stop: the time so far is kept)."""
        at = now or self._clock()
        for agent, current in list(self._open.items()):
            self._close(agent, current, at)
            self._open[agent] = (current[0], at)

    # -- the owned task ------------------------------------------------------------------------------
    async def start(self) -> None:
        await self._spool.start()

    async def stop(self, drain_timeout: float = 5.0) -> None:
        self.close_all()
        await self._spool.stop(drain_timeout)

    async def drained(self, timeout: float = 10.0) -> None:
        """Wait until every interval closed so far is in the database (tests)."""
        await self._spool.drained(timeout)


async def _insert_intervals(session: AsyncSession, intervals: list[Interval]) -> None:
    await session.execute(
        insert(AgentStateInterval),
        [
            {"agent": i.agent, "state": i.state, "started_at": i.started_at, "ended_at": i.ended_at}
            for i in intervals
        ],
    )
