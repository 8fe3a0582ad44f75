"""Satisfaction endpoints: the wallboard's figures and agents' individual ratings (issue 9)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from callcenter.auth.roles import STAFF, SUPERVISORS, Principal
from callcenter.survey.store import GROUPS, individual_ratings, satisfaction_by
from callcenter.web.auth import require

router = APIRouter(prefix="/api/satisfaction", tags=["survey"])

Supervisor = Annotated[Principal, Depends(require(SUPERVISORS))]
Staff = Annotated[Principal, Depends(require(STAFF))]


def _hotline(request: Request) -> Any:
    hotline = request.app.state.hotline
    if hotline.db is None or hotline.plan is None:
        raise HTTPException(503, "the database is not open yet")
    return hotline


def _day(hotline: Any, day: date | None) -> tuple[date, str]:
    timezone: str = hotline.plan.hours.timezone
    return day or datetime.now(ZoneInfo(timezone)).date(), timezone


@router.get("")
async def satisfaction(
    request: Request,
    _who: Supervisor,
    day: Annotated[date | None, Query()] = None,
) -> dict[str, Any]:
    """The day's satisfaction: overall, per agent and per service line (satisfied / rated)."""
    hotline = _hotline(request)
    the_day, timezone = _day(hotline, day)
    sessions = hotline.db.sessions
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
    request: Request,
    group_by: str,
    _who: Supervisor,
    day: Annotated[date | None, Query()] = None,
) -> list[dict[str, Any]]:
    if group_by not in GROUPS:
        raise HTTPException(404, f"group by one of {', '.join(GROUPS)}")
    hotline = _hotline(request)
    the_day, timezone = _day(hotline, day)
    return [
        r.as_dict() for r in await satisfaction_by(hotline.db.sessions, the_day, group_by, timezone=timezone)
    ]


@router.get("/agents/{agent}/ratings")
async def agent_ratings(request: Request, agent: str, who: Staff) -> list[dict[str, Any]]:
    """An agent's individual ratings: supervisors always; the agent themself only when the YAML's
    ``survey.agents_see_own`` allows it."""
    hotline = _hotline(request)
    if not who.has_any(SUPERVISORS):
        survey = hotline.plan.survey
        own = who.extension is not None and who.extension == agent
        if not own or survey is None or not survey.agents_see_own:
            raise HTTPException(403, "individual ratings are shown to supervisors only")
    rows = await individual_ratings(hotline.db.sessions, agent)
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
