"""The post-call survey on the simulator: the agent hangs up first, the caller stays and rates the call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from callcenter.survey.models import SurveyRating
from pbxsim.endpoints import AgentBehaviour
from pbxsim.scripts import CallerScript
from tests.caller.rig import caller_rig, ratings
from tests.integration.harness import Rig, eventually

pytestmark = pytest.mark.slow


@pytest.fixture
async def rig(postgres_url: str, database: object, tmp_path: Path) -> AsyncIterator[Rig]:
    async with caller_rig(postgres_url, tmp_path) as the_rig:
        yield the_rig


async def test_the_caller_rates_the_call_after_the_agent_hangs_up(rig: Rig) -> None:
    rig.sim.set_agent("1005", AgentBehaviour(answer_after=0.2, talk_seconds=1.0))
    await rig.log_in("1005")
    heard = rig.prompts_heard()
    # Mongolian (2), psychology (1); the agent ends the call after 1 s; the caller then presses 4.
    call = await rig.sim.place_call(
        CallerScript(number="13800138001", digits=[(0.2, "2"), (0.2, "1"), (1.6, "4")])
    )
    truth = await call.wait_finished(30)
    assert truth.agent == "1005"
    rows = await eventually(lambda: _rated(rig, call.linkedid), 15, "the rating to be stored")
    assert [(r.question, r.rating, r.outcome, r.satisfied) for r in rows] == [
        ("satisfaction", 4, "rated", True)
    ]
    assert rows[0].agent == "1005" and rows[0].language == "mn"
    assert rows[0].queue == "mn-psychology"
    # asked in the call's language
    assert heard(call.linkedid)[-3:] == ["mn/survey-intro", "mn/survey-satisfaction", "mn/survey-thanks"]
    row = await rig.finished_call(call.linkedid)
    assert row.disposition == "answered" and row.agent == "1005"


async def test_a_caller_who_hangs_up_at_the_survey_prompt_leaves_no_rating(rig: Rig) -> None:
    await rig.log_in("1001")
    heard = rig.prompts_heard()
    call = await rig.sim.place_call(CallerScript(number="13800138002", digits=[(0.2, "1"), (0.2, "1")]))
    await eventually(
        lambda: _async(True if "zh/survey-satisfaction" in heard(call.linkedid) else None),
        15,
        "the survey question",
    )
    call.hangup()
    await call.wait_finished(15)
    rows = await eventually(lambda: _any(rig, call.linkedid), 15, "the survey outcome")
    assert [(r.rating, r.outcome, r.satisfied) for r in rows] == [(None, "hung-up", None)]


async def test_silence_is_stored_as_no_answer_not_as_a_rating(rig: Rig) -> None:
    await rig.log_in("1001")
    call = await rig.sim.place_call(CallerScript(number="13800138003", digits=[(0.2, "1"), (0.2, "1")]))
    await call.wait_finished(40)
    rows = await eventually(lambda: _any(rig, call.linkedid), 15, "the survey outcome")
    assert [(r.rating, r.outcome) for r in rows] == [(None, "no-answer")]


async def test_a_caller_who_hangs_up_first_gets_no_survey(rig: Rig) -> None:
    rig.sim.set_agent("1001", AgentBehaviour(answer_after=0.2, talk_seconds=30.0))
    await rig.log_in("1001")
    heard = rig.prompts_heard()
    call = await rig.sim.place_call(
        CallerScript(number="13800138004", digits=[(0.2, "1"), (0.2, "1")], hangup_after_answer=0.5)
    )
    await call.wait_finished(30)
    await rig.finished_call(call.linkedid)
    assert not [p for p in heard(call.linkedid) if "survey" in p]
    assert await ratings(rig, call.linkedid) == []


async def _async(value: bool | None) -> bool | None:
    return value


async def _rated(rig: Rig, linkedid: str) -> list[SurveyRating] | None:
    rows = await ratings(rig, linkedid)
    return rows if rows and rows[0].rating is not None else None


async def _any(rig: Rig, linkedid: str) -> list[SurveyRating] | None:
    rows = await ratings(rig, linkedid)
    return rows or None
