"""The survey's adapter: stores each answer and tells the wallboard (hub topic ``satisfaction``).

The caller is on the line: an answer is handed to ordered writes (``callcenter/db/jobs.py``) and the
survey goes on at once; with PostgreSQL away the answers wait for it, stamped with the time they were given.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.auth.roles import SUPERVISORS
from callcenter.db.jobs import OrderedWrites
from callcenter.survey.store import record_answer
from callcenter.web.hub import LiveHub
from ivr.survey import SurveyAnswer, SurveyRecorder
from routing.plan import HotlinePlan


def survey_recorder(
    sessions: Callable[[], async_sessionmaker[AsyncSession] | None],
    plan: Callable[[], HotlinePlan],
    hub: LiveHub,
    writes: OrderedWrites,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> SurveyRecorder:
    async def store(answer: SurveyAnswer, at: datetime) -> None:
        the_sessions = sessions()
        if the_sessions is None:
            raise SQLAlchemyError("the database is not open")
        await record_answer(the_sessions, plan().survey, answer, at=at)

    async def record(answer: SurveyAnswer) -> None:
        writes.put(functools.partial(store, answer, clock()))
        if hub.subscribers:
            hub.publish(
                "satisfaction",
                {"linkedid": answer.linkedid, "question": answer.question, "outcome": answer.outcome},
                roles=SUPERVISORS,
            )

    return record
