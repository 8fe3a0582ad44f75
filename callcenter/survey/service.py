"""The survey's adapter: stores each answer and tells the wallboard (hub topic ``satisfaction``)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.auth.roles import SUPERVISORS
from callcenter.survey.store import record_answer
from callcenter.web.hub import LiveHub
from ivr.survey import SurveyAnswer, SurveyRecorder
from routing.plan import HotlinePlan


def survey_recorder(
    sessions: Callable[[], async_sessionmaker[AsyncSession] | None],
    plan: Callable[[], HotlinePlan],
    hub: LiveHub,
) -> SurveyRecorder:
    async def record(answer: SurveyAnswer) -> None:
        the_sessions = sessions()
        if the_sessions is None:
            return
        await record_answer(the_sessions, plan().survey, answer)
        if hub.subscribers:
            hub.publish(
                "satisfaction",
                {"linkedid": answer.linkedid, "question": answer.question, "outcome": answer.outcome},
                roles=SUPERVISORS,
            )

    return record
