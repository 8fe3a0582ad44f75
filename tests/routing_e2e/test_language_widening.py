"""Skills and languages on the simulated PBX: a Mongolian caller goes to Mongolian speakers first and, after
the wait set in the YAML (``languages.mn.widen_after``), to the other agents of the service line — app_queue's
penalty rules as rendered (queuerules.conf, QUEUE_MAX_PENALTY) and the penalties the desk gives at login."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from callcenter.config.render import RenderOptions, render, write_rendered
from pbxsim.endpoints import AgentBehaviour
from pbxsim.scripts import CallerScript
from routing.plan import HotlinePlan
from tests.integration.harness import Rig, hotline_on_simulator, quick_plan

pytestmark = pytest.mark.slow

WIDEN_AFTER = 2


def _plan() -> HotlinePlan:
    plan = quick_plan()
    languages = tuple(
        replace(lang, widen_after_seconds=WIDEN_AFTER if lang.code == "mn" else None)
        for lang in plan.languages
    )
    return replace(plan, languages=languages)


@pytest.fixture
async def rig(postgres_url: str, database: object, tmp_path: Path) -> AsyncIterator[Rig]:
    plan = _plan()
    config_dir = tmp_path / "asterisk"
    write_rendered(render(plan, RenderOptions()), config_dir)
    async with hotline_on_simulator(
        postgres_url,
        tmp_path,
        plan=plan,
        config_dir=config_dir,
        default_agent=AgentBehaviour(answer_after=0.2, talk_seconds=1.0),
    ) as the_rig:
        yield the_rig


async def test_a_mongolian_caller_reaches_a_speaker_at_once_and_others_only_after_the_wait(rig: Rig) -> None:
    await rig.log_in("1001")  # psychology, Mandarin only: a member of mn-psychology with a high penalty
    call = await rig.sim.place_call(CallerScript(number="13100000001", digits=[(0.1, "2"), (0.1, "1")]))
    truth = await call.wait_finished(30)
    assert (truth.disposition, truth.queue, truth.agent) == ("answered", "mn-psychology", "1001")
    assert truth.wait_seconds is not None and truth.wait_seconds >= WIDEN_AFTER - 0.2

    await rig.log_in("1005")  # speaks Mongolian: first choice, whoever else is free
    call = await rig.sim.place_call(CallerScript(number="13100000002", digits=[(0.1, "2"), (0.1, "1")]))
    truth = await call.wait_finished(30)
    assert (truth.disposition, truth.agent) == ("answered", "1005")
    assert truth.wait_seconds is not None and truth.wait_seconds < WIDEN_AFTER
    snap = rig.hotline.model.queue_snapshot("mn-psychology")
    assert snap is not None
    penalties = {m.member_name: m.penalty for m in snap.members}
    assert penalties["1005"] is not None and penalties["1001"] is not None
    assert penalties["1005"] < 49 < penalties["1001"] <= 54
