"""The post-call satisfaction survey: FastAGI route ``survey``.

The rendered dialplan sends the caller to ``[hotline-survey]`` when the agent hung up first (``Queue()``
option ``c`` → ``QUEUESTATUS=CONTINUE``), or an agent puts the caller through with AMI ``Redirect``.
There ``AGI(${HOTLINE_SURVEY_AGI})`` reaches this route, which:

1. reads the call's language (``HOTLINE_LANGUAGE``, set by the IVR) and its ``linkedid``;
2. plays ``intro`` then each question with ``GET DATA`` (one key, ``1..max``) in that language's prompt set;
   a wrong key repeats the question once;
3. hands every answer to ``record`` — a rating, or ``None`` with outcome ``no-answer`` (timeout or wrong
   keys) or ``hung-up`` (the caller left): no answer is stored as such, never as a rating;
4. plays ``thanks``.

Pure of any database: the service passes ``record`` (``callcenter/survey/store.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from routing.plan import HotlinePlan, SurveyPlan

from .agi.protocol import AgiCommandFailedError, AgiHangup
from .agi.server import AgiChannel, AgiHandler

__all__ = [
    "OUTCOME_HUNG_UP",
    "OUTCOME_NO_ANSWER",
    "OUTCOME_RATED",
    "SurveyAnswer",
    "make_survey_route",
    "run_survey",
]

log = logging.getLogger(__name__)

OUTCOME_RATED = "rated"
OUTCOME_NO_ANSWER = "no-answer"
OUTCOME_HUNG_UP = "hung-up"


@dataclass(frozen=True, slots=True)
class SurveyAnswer:
    linkedid: str
    uniqueid: str
    language: str
    question: str
    rating: int | None  # None: not rated (see outcome)
    outcome: str  # rated | no-answer | hung-up
    agent: str | None = None  # MEMBERNAME when app_queue set it (setinterfacevar); else the store looks it up


SurveyRecorder = Callable[[SurveyAnswer], Awaitable[None]]


def parse_rating(collected: str, max_digit: int) -> int | None:
    """One key ``1..max_digit``; anything else is not a rating."""
    if len(collected) == 1 and collected.isdigit() and 1 <= int(collected) <= max_digit:
        return int(collected)
    return None


async def run_survey(
    channel: AgiChannel, plan: HotlinePlan, survey: SurveyPlan, record: SurveyRecorder
) -> list[SurveyAnswer]:
    """Ask ``survey``'s questions; every answer (rated or not) goes to ``record`` and is returned."""
    uniqueid = channel.request.uniqueid
    language = await channel.get_variable("HOTLINE_LANGUAGE") or plan.default_language
    linkedid = await channel.get_variable("CHANNEL(linkedid)") or uniqueid
    agent = await channel.get_variable("MEMBERNAME") or None
    lang = plan.language(language)
    prompt_set = lang.prompt_set if lang is not None else language
    timeout_ms = max(1, round(survey.timeout_seconds * 1000))
    answers: list[SurveyAnswer] = []

    async def keep(question: str, rating: int | None, outcome: str) -> None:
        answer = SurveyAnswer(linkedid, uniqueid, language, question, rating, outcome, agent)
        answers.append(answer)
        await record(answer)

    pending = [q.name for q in survey.questions]
    try:
        try:
            await channel.stream_file(f"{prompt_set}/{survey.intro}")
        except AgiCommandFailedError:
            log.warning("survey %s: cannot play %s", uniqueid, survey.intro)
        for question in survey.questions:
            rating = None
            for _attempt in range(2):
                try:
                    collected, _timed_out = await channel.get_data(
                        f"{prompt_set}/{question.prompt}", timeout_ms, 1
                    )
                except AgiCommandFailedError:
                    log.warning("survey %s: cannot play %s", uniqueid, question.prompt)
                    break
                rating = parse_rating(collected, question.max_digit)
                if rating is not None or not collected:
                    break  # rated, or silence: no second chance for silence
            pending.remove(question.name)
            await keep(question.name, rating, OUTCOME_RATED if rating is not None else OUTCOME_NO_ANSWER)
        try:
            await channel.stream_file(f"{prompt_set}/{survey.thanks}")
        except AgiCommandFailedError:
            log.warning("survey %s: cannot play %s", uniqueid, survey.thanks)
    except AgiHangup:
        for name in pending:
            await keep(name, None, OUTCOME_HUNG_UP)
        raise
    return answers


def make_survey_route(plan_provider: Callable[[], HotlinePlan], record: SurveyRecorder) -> AgiHandler:
    """The handler for route ``survey``; a plan without a survey closes at once (the dialplan hangs up)."""

    async def survey_route(channel: AgiChannel) -> None:
        plan = plan_provider()
        if plan.survey is None:
            return
        await run_survey(channel, plan, plan.survey, record)

    return survey_route
