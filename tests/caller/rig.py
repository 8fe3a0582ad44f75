"""The hotline on the simulator with a plan rendered for the test (short announcement intervals, closed
hours...): the simulator reads the Asterisk configuration rendered from the very plan the service runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select

from callcenter.app import Hotline
from callcenter.config.render import RenderOptions, render, write_rendered
from callcenter.settings import AmiTarget, load_settings
from callcenter.survey.models import SurveyRating
from pbxsim.endpoints import AgentBehaviour
from pbxsim.events import Event
from pbxsim.pbx import PbxSimulator
from routing.plan import HotlinePlan
from tests.integration.harness import SECRET, Rig, eventually, quick_plan


@asynccontextmanager
async def caller_rig(
    database_url: str,
    tmp: Path,
    *,
    plan: HotlinePlan | None = None,
    default_agent: AgentBehaviour | None = None,
) -> AsyncIterator[Rig]:
    the_plan = plan or quick_plan()
    if the_plan.survey is not None:  # a silent caller leaves the survey after 1 s, not 5
        the_plan = replace(the_plan, survey=replace(the_plan.survey, timeout_seconds=1.0))
    config_dir = tmp / "asterisk-config"
    write_rendered(render(the_plan, RenderOptions(source="test")), config_dir)
    sounds = install_placeholder_prompts(the_plan, tmp / "sounds")
    settings = load_settings(
        database_url=database_url,
        data_dir=tmp,
        sounds_dir=sounds,
        agi_port=0,
        ami_ping_interval=1.0,
        ami_ping_timeout=2.0,
    )
    hotline = Hotline(settings, plan=the_plan)
    await hotline.start()
    assert hotline.agi is not None
    agi = f"agi://127.0.0.1:{hotline.agi.port}"
    sim = PbxSimulator(
        config_dir,
        ami_port=0,
        ami_users={"hotline": SECRET},
        globals={"HOTLINE_AGI": f"{agi}/ivr", "HOTLINE_SURVEY_AGI": f"{agi}/survey"},
        prompt_seconds=0.05,
        default_agent=default_agent or AgentBehaviour(answer_after=0.3, talk_seconds=1.0),
        sounds_dir=sounds,
    )
    try:
        await sim.start()
        await hotline.connect_ami(
            AmiTarget(host="127.0.0.1", port=sim.ami_port, username="hotline", secret=SECRET)
        )
        assert hotline.ami is not None
        await hotline.ami.wait_connected(10)
        # A call placed while the post-login rebuild (CoreShowChannels) runs is taken for one learned
        # mid-call and its end is held for CDR correction (callcenter/reconcile): let the rebuild finish.
        await eventually(_rebuilt, 10, "the AMI rebuild after login")
        yield Rig(hotline, sim)
    finally:
        await hotline.stop()
        await sim.stop()


def install_placeholder_prompts(plan: HotlinePlan, sounds: Path) -> Path:
    """An empty file for every prompt of the plan where Asterisk would find it (``<set>/<name>.wav``):
    the simulator plays no audio, it only needs to know which sounds exist (its language variants)."""
    for prompt_set, texts in plan.prompts.items():
        folder = sounds / prompt_set
        folder.mkdir(parents=True, exist_ok=True)
        for name in texts:
            (folder / f"{name}.wav").touch()
    return sounds


async def _rebuilt() -> bool | None:
    busy = any(t.get_name() == "ami-rebuild" and not t.done() for t in asyncio.all_tasks())
    return None if busy else True


async def ratings(rig: Rig, linkedid: str) -> list[SurveyRating]:
    assert rig.hotline.db is not None
    async with rig.hotline.db.sessions() as session:
        rows = await session.scalars(
            select(SurveyRating).where(SurveyRating.linkedid == linkedid).order_by(SurveyRating.id)
        )
        return list(rows)


def events_named(rig: Rig, name: str) -> Callable[[], list[Event]]:
    """Record the simulator's AMI events called ``name`` from now on."""
    seen: list[Event] = []

    def listen(event: Event) -> None:
        if event.name == name:
            seen.append(event)

    rig.sim.add_listener(listen)
    return lambda: list(seen)
