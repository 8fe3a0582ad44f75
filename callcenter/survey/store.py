"""Storing survey answers and asking for satisfaction (satisfaction rate = satisfied / rated).

``satisfaction_by(sessions, day, group_by)`` is the function the daily report calls; the wallboard reads
``GET /api/satisfaction`` (``callcenter/web/survey.py``), which uses the same function.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.db.jobs import add_once
from callcenter.db.models import Call
from callcenter.db.models import Queue as QueueRow
from callcenter.survey.models import SurveyRating
from ivr.survey import OUTCOME_RATED, SurveyAnswer
from routing.plan import SurveyPlan

__all__ = [
    "GroupBy",
    "IndividualRating",
    "SatisfactionRow",
    "individual_ratings",
    "record_answer",
    "satisfaction_by",
]

GroupBy = Literal["all", "agent", "queue", "service_line", "language"]
GROUPS: tuple[str, ...] = ("all", "agent", "queue", "service_line", "language")


@dataclass(frozen=True, slots=True)
class SatisfactionRow:
    key: str | None  # the agent, queue, service line or language; None for "all" (or unknown)
    asked: int  # calls whose caller reached the survey
    rated: int
    satisfied: int
    unanswered: int  # no key or hung up at the prompt: not a rating

    @property
    def rate(self) -> float | None:
        return self.satisfied / self.rated if self.rated else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "asked": self.asked,
            "rated": self.rated,
            "satisfied": self.satisfied,
            "unanswered": self.unanswered,
            "rate": self.rate,
        }


@dataclass(frozen=True, slots=True)
class IndividualRating:
    linkedid: str
    question: str
    rating: int | None
    outcome: str
    answered_at: datetime


async def record_answer(
    sessions: async_sessionmaker[AsyncSession],
    survey: SurveyPlan | None,
    answer: SurveyAnswer,
    *,
    at: datetime | None = None,
) -> None:
    """Store one answer (given at ``at``; default now), linked to the call and (when known) its agent and
    queue. Storing it again is a no-op: one call asks each question once."""
    async with sessions() as session, session.begin():
        call = (
            await session.execute(select(Call.agent, Call.queue).where(Call.linkedid == answer.linkedid))
        ).first()
        satisfied = None
        if answer.rating is not None and answer.outcome == OUTCOME_RATED:
            satisfied = survey.is_satisfied(answer.rating) if survey is not None else None
        row = SurveyRating(
            linkedid=answer.linkedid,
            question=answer.question,
            rating=answer.rating,
            satisfied=satisfied,
            outcome=answer.outcome,
            language=answer.language,
            agent=answer.agent or (call.agent if call is not None else None),
            queue=call.queue if call is not None else None,
            **({"answered_at": at} if at is not None else {}),
        )
        await add_once(
            session, row, SurveyRating.linkedid == row.linkedid, SurveyRating.question == row.question
        )


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), tzinfo=zone)
    return start, start + timedelta(days=1)


async def satisfaction_by(
    sessions: async_sessionmaker[AsyncSession],
    day: date,
    group_by: str = "all",
    *,
    timezone: str = "Asia/Shanghai",
    question: str | None = None,
) -> list[SatisfactionRow]:
    """Satisfaction of the calls surveyed on ``day`` (local day in ``timezone``), grouped by ``group_by``
    (``all``, ``agent``, ``queue``, ``service_line``, ``language``), sorted by key. A call counts once per
    question; ``question`` limits to one (default: every question). Satisfaction rate = satisfied / rated;
    unanswered surveys are counted apart and never as ratings."""
    if group_by not in GROUPS:
        raise ValueError(f"group_by must be one of {', '.join(GROUPS)}")
    start, end = day_bounds(day, timezone)
    agent = func.coalesce(SurveyRating.agent, Call.agent)
    queue = func.coalesce(SurveyRating.queue, Call.queue)
    keys = {
        "all": None,
        "agent": agent,
        "queue": queue,
        "service_line": QueueRow.service_line,
        "language": SurveyRating.language,
    }
    key = keys[group_by]
    rated = func.count(SurveyRating.rating)
    satisfied = func.sum(case((SurveyRating.satisfied.is_(True), 1), else_=0)).cast(Integer)
    columns = [func.count(SurveyRating.id), rated, satisfied]
    stmt = (
        select(*([key] if key is not None else []), *columns)
        .select_from(SurveyRating)
        .outerjoin(Call, Call.linkedid == SurveyRating.linkedid)
        .outerjoin(QueueRow, QueueRow.name == queue)
        .where(SurveyRating.answered_at >= start, SurveyRating.answered_at < end)
    )
    if question is not None:
        stmt = stmt.where(SurveyRating.question == question)
    if key is not None:
        stmt = stmt.group_by(key)
    async with sessions() as session:
        rows = (await session.execute(stmt)).all()
    out = []
    for row in rows:
        values = tuple(row)
        label = values[0] if key is not None else None
        asked, n_rated, n_satisfied = values[-3:]
        if asked == 0 and key is None:
            continue
        out.append(
            SatisfactionRow(
                key=label,
                asked=int(asked),
                rated=int(n_rated),
                satisfied=int(n_satisfied or 0),
                unanswered=int(asked) - int(n_rated),
            )
        )
    return sorted(out, key=lambda r: (r.key is None, r.key or ""))


async def individual_ratings(
    sessions: async_sessionmaker[AsyncSession], agent: str, *, limit: int = 100
) -> list[IndividualRating]:
    """An agent's own ratings, newest first (the router decides whether the agent may see them)."""
    agent_of = func.coalesce(SurveyRating.agent, Call.agent)
    stmt = (
        select(
            SurveyRating.linkedid,
            SurveyRating.question,
            SurveyRating.rating,
            SurveyRating.outcome,
            SurveyRating.answered_at,
        )
        .outerjoin(Call, Call.linkedid == SurveyRating.linkedid)
        .where(agent_of == agent)
        .order_by(SurveyRating.answered_at.desc(), SurveyRating.id.desc())
        .limit(limit)
    )
    async with sessions() as session:
        rows = (await session.execute(stmt)).all()
    return [IndividualRating(r[0], r[1], r[2], r[3], r[4]) for r in rows]
