"""Each example file, rendered into a directory, runs on the simulated PBX over real TCP: every menu path
lands where the file says, and with the FastAGI service down the rendered dialplan's fallback answers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import pytest

from pbxsim.scripts import CallerScript
from tests.config_apply.support import Tracer, example_text, plan_of, render_into
from tests.integration.harness import hotline_on_simulator

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Expect:
    """Where a path must end: a queue (with its priority), or a non-queue action."""

    queue: str | None = None
    priority: str = "0"
    app: tuple[str, str] | None = None  # (application, data prefix), e.g. ("Dial", "PJSIP/12348@pstn")
    user_event: str | None = None


def _inner_mongolia() -> dict[str, Expect]:
    paths: dict[str, Expect] = {}
    for key, language in (("1", "zh"), ("2", "mn")):
        for digit, line in (
            ("1", "psychology"),
            ("2", "legal"),
            ("3", "drugs-aids"),
            ("4", "adolescent"),
            ("5", "family"),
        ):
            paths[f"{key}-{digit}"] = Expect(queue=f"{language}-{line}")
        paths[f"{key}-0"] = Expect(queue="zh-crisis", priority="10")
        paths[f"{key}-6-1"] = Expect(
            user_event="HotlineCallback", app=("Playback", f"{language}/callback-booked")
        )
        paths[f"{key}-6-2"] = Expect(app=("Playback", f"{language}/service-info"))
        paths[f"{key}-6-3"] = Expect(app=("Dial", "PJSIP/12348@pstn"))
        paths[f"{key}-6-4"] = Expect(app=("Dial", "PJSIP/12309@pstn"))
        paths[f"{key}-6-9-2"] = Expect(queue=f"{language}-legal")  # back up to the service menu
    return paths


GUANGDONG = {
    "1": Expect(queue="zh-psychology"),
    "2": Expect(queue="zh-legal"),
    "3": Expect(queue="zh-family"),
    "0": Expect(queue="zh-crisis", priority="10"),
}

EXPECTED = {"inner-mongolia": _inner_mongolia(), "guangdong": GUANGDONG}


@pytest.mark.parametrize("example", ["inner-mongolia", "guangdong"])
async def test_every_menu_path_of_the_example_reaches_its_queue(
    example: str, postgres_url: str, database: object, tmp_path: Path
) -> None:
    plan = plan_of(example_text(example), f"{example}.yaml", always_open=True)
    config_dir = render_into(plan, tmp_path / "asterisk", f"config/{example}.yaml")
    expected = EXPECTED[example]
    async with hotline_on_simulator(postgres_url, tmp_path, config_dir=config_dir, plan=plan) as rig:
        tracer = Tracer(rig.sim)
        calls = {}
        for i, path in enumerate(expected):
            digits = [(0.15, d) for d in path.split("-")]
            calls[path] = await rig.sim.place_call(
                CallerScript(number=f"1380013{i:04d}", digits=digits, hangup_after=3.0)
            )
        await asyncio.gather(*(call.wait_finished(30) for call in calls.values()))

        for path, want in expected.items():
            trace = tracer.calls[calls[path].linkedid]
            where = f"{example} path {path}: {trace.apps}"
            assert trace.variables.get("HOTLINE_MENU_PATH") == path, where
            assert trace.queue == want.queue, where
            if want.queue is not None:
                assert trace.variables.get("QUEUE_PRIO") == want.priority, where
                assert trace.joined[:1] == [want.queue], where
            if want.app is not None:
                app, prefix = want.app
                assert trace.ran(app, prefix), where
            if want.user_event is not None:
                assert want.user_event in trace.user_events, where


@pytest.mark.parametrize("example", ["inner-mongolia", "guangdong"])
async def test_with_the_fastagi_port_closed_the_rendered_fallback_answers(
    example: str, postgres_url: str, database: object, tmp_path: Path
) -> None:
    plan = plan_of(example_text(example), f"{example}.yaml", always_open=True)
    config_dir = render_into(plan, tmp_path / "asterisk", f"config/{example}.yaml")
    async with hotline_on_simulator(postgres_url, tmp_path, config_dir=config_dir, plan=plan) as rig:
        tracer = Tracer(rig.sim)
        assert rig.hotline.agi is not None
        await rig.hotline.agi.stop()  # the service's FastAGI port is closed: connection refused
        await rig.log_in(plan.agents[0].extension)
        call = await rig.sim.place_call(CallerScript(number="13900000001", digits=[(0.1, "1")]))
        truth = await call.wait_finished(30)
        trace = tracer.calls[call.linkedid]
        assert trace.variables.get("AGISTATUS") == "FAILURE"
        assert trace.variables.get("HOTLINE_MENU_PATH") == "fallback"
        assert ("fallback", "Queue") in [(e, a) for e, a, _d in trace.apps]
        assert trace.queue == plan.default_queue == "zh-psychology"
        assert truth.disposition == "answered" and truth.agent == plan.agents[0].extension
        row = await rig.finished_call(call.linkedid)
        assert (row.menu_path, row.queue, row.disposition) == ("fallback", "zh-psychology", "answered")
