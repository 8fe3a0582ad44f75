"""Satisfaction endpoints: the wallboard's figures and agents' individual ratings (issue 9)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.auth.roles import STAFF, SUPERVISORS, Principal
from callcenter.survey.store import GROUPS, individual_ratings, satisfaction_by
from callcenter.web.auth import require
from callcenter.web.deps import HotlineDep, open_db
from routing.plan import HotlinePlan

router = APIRouter(prefix="/api/satisfaction", tags=["survey"])

Supervisor = Annotated[Principal, Depends(require(SUPERVISORS))]
Staff = Annotated[Principal, Depends(require(STAFF))]


@dataclass(frozen=True)
class _Open:
    """Where the survey figures come from: the database, and the plan serving (time zone, survey)."""

    sessions: async_sessionmaker[AsyncSession]
    plan: HotlinePlan

    def day(self, day: date | None) -> tuple[date, str]:
        """The day asked for, else today in the hotline's time zone; and that zone."""
        timezone = self.plan.hours.timezone
        return day or datetime.now(ZoneInfo(timezone)).date(), timezone


def _open(hotline: HotlineDep) -> _Open:
    sessions = open_db(hotline).sessions
    if hotline.plan is None:
        raise HTTPException(503, "the service is starting")
    return _Open(sessions, hotline.plan)


OpenDep = Annotated[_Open, Depends(_open)]


@router.get("")
async def satisfaction(
    store: OpenDep,
    _who: Supervisor,
    day: Annotated[date | None, Query()] = None,
) -> dict[str, Any]:
    """The day's satisfaction: overall, per agent and per service line (satisfied / rated)."""
    the_day, timezone = store.day(day)
    sessions = store.sessions
    out: dict[str, Any] = {"day": the_day.isoformat()}
    for group in ("all", "agent", "service_line"):
        rows = await satisfaction_by(sessions, the_day, group, timezone=timezone)
        if group == "all":
            out["overall"] = rows[0].as_dict() if rows else None
        else:
            out[f"by_{group}"] = [r.as_dict() for r in rows]
    return out


@router.get("/by/{group_by}")
async def satisfaction_grouped(
    store: OpenDep,
    group_by: str,
    _who: Supervisor,
    day: Annotated[date | None, Query()] = None,
) -> list[dict[str, Any]]:
    if group_by not in GROUPS:
        raise HTTPException(404, f"group by one of {', '.join(GROUPS)}")
    the_day, timezone = store.day(day)
    return [r.as_dict() for r in await satisfaction_by(store.sessions, the_day, group_by, timezone=timezone)]


@router.get("/agents/{agent}/ratings")
async def agent_ratings(store: OpenDep, agent: str, who: Staff) -> list[dict[str, Any]]:
    """An agent's individual ratings: supervisors always; the agent themself only when the YAML's
    ``survey.agents_see_own`` allows it."""
    if not who.has_any(SUPERVISORS):
        survey = store.plan.survey
        own = who.extension is not None and who.extension == agent
        if not own or survey is None or not survey.agents_see_own:
            raise HTTPException(403, "individual ratings are shown to supervisors only")
    rows = await individual_ratings(store.sessions, agent)
    return [
        {
            "linkedid": r.linkedid,
            "question": r.question,
            "rating": r.rating,
            "outcome": r.outcome,
            "answered_at": r.answered_at.isoformat(),
        }
        for r in rows
    ]
