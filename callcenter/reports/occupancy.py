"""Occupancy from ``agent_state_intervals``: handling (on a call, wrap-up) / (handling + ready-idle (ready,
ringing)) over a period, per agent and in all (``routing.kpi.occupancy``; paused time is in neither).
Intervals that straddle the period's edges count only their part inside it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from routing import kpi
from routing.kpi import AgentTimeFact

HANDLING_STATES = ("on-call", "wrap-up")
IDLE_STATES = ("ready", "ringing")


@dataclass(frozen=True, slots=True)
class AgentOccupancy:
    agent: str
    handling_seconds: float
    idle_seconds: float
    occupancy: float | None


async def agent_times(session: AsyncSession, start: datetime, end: datetime) -> dict[str, AgentTimeFact]:
    """Each agent's handling and ready-idle seconds within [start, end)."""
    rows = await session.execute(
        text(
            "SELECT agent, state,"
            " SUM(EXTRACT(EPOCH FROM LEAST(ended_at, :end) - GREATEST(started_at, :start)))"
            " FROM agent_state_intervals"
            " WHERE started_at < :end AND ended_at > :start AND state = ANY(:states)"
            " GROUP BY agent, state"
        ),
        {"start": start, "end": end, "states": [*HANDLING_STATES, *IDLE_STATES]},
    )
    handling: dict[str, float] = {}
    idle: dict[str, float] = {}
    for agent, state, seconds in rows.all():
        into = handling if state in HANDLING_STATES else idle
        into[agent] = into.get(agent, 0.0) + float(seconds or 0)
    return {
        a: AgentTimeFact(handling.get(a, 0.0), idle.get(a, 0.0)) for a in sorted(set(handling) | set(idle))
    }


def occupancy_figures(times: dict[str, AgentTimeFact]) -> tuple[float | None, list[AgentOccupancy]]:
    """The period's occupancy over every agent, and each agent's."""
    per_agent = [
        AgentOccupancy(a, round(t.handling_seconds, 3), round(t.idle_seconds, 3), kpi.occupancy([t]))
        for a, t in times.items()
    ]
    return kpi.occupancy(times.values()), per_agent
