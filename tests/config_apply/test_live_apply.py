"""Applying a new hotline.yaml while calls are up, on the simulated PBX over real TCP: no call is dropped,
a caller mid-menu finishes on the menus they started with, a caller mid-queue stays queued and is answered
by an agent the new version put in that queue, a new caller gets the new menus; an invalid file changes
nothing and says where."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from callcenter.app import Hotline
from callcenter.config.apply import ConfigApplier
from callcenter.config.loader import ConfigError
from callcenter.config.versions import list_versions
from callcenter.settings import AmiTarget, Settings
from pbxsim.endpoints import AgentBehaviour
from pbxsim.pbx import PbxSimulator
from pbxsim.scripts import CallerScript, PlacedCall
from tests.config_apply.support import Tracer, example_text, plan_of, render_into
from tests.integration.harness import Rig, eventually, hotline_on_simulator

pytestmark = pytest.mark.slow

SOURCE = "config/hotline.yaml"


def version_b(text: str) -> str:
    """A new service line and its queues; menu key 2 of the service menu goes there instead of legal aid;
    agent 1001 takes the new line and drops adolescent education; 1004 takes drugs/AIDS prevention."""
    edits = [
        ("  family: {name: 家庭教育}\n", "  family: {name: 家庭教育}\n  rights: {name: 权益保护}\n"),
        (
            "\nqueues:\n",
            "\nqueues:\n  zh-rights: {service_line: rights, language: zh}\n"
            "  mn-rights: {service_line: rights, language: mn, on_timeout: {queue: zh-rights}}\n",
        ),
        ('"2": {queue: "{language}-legal"}', '"2": {queue: "{language}-rights"}'),
        ("skills: [psychology, family, adolescent, crisis]", "skills: [psychology, family, rights, crisis]"),
        ("skills: [family, legal]", "skills: [family, legal, drugs-aids]"),
    ]
    for old, new in edits:
        assert text.count(old) == 1, f"the example changed: {old!r} is not there once"
        text = text.replace(old, new)
    return text


def _applier(rig: Rig) -> ConfigApplier:
    assert rig.hotline.config is not None
    return rig.hotline.config


def _heard(prompts: Callable[[str], list[str]], call: PlacedCall, prompt: str) -> Callable[[], object]:
    async def probe() -> bool | None:
        return True if any(p.endswith(prompt) for p in prompts(call.linkedid)) else None

    return probe


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    return render_into(plan_of(example_text("inner-mongolia")), tmp_path / "asterisk", SOURCE)


async def test_apply_while_calls_are_mid_menu_and_mid_queue(
    postgres_url: str, database: object, tmp_path: Path, config_dir: Path
) -> None:
    text_a = example_text("inner-mongolia")
    text_b = version_b(text_a)
    async with hotline_on_simulator(
        postgres_url, tmp_path, config_dir=config_dir, plan=plan_of(text_a, SOURCE)
    ) as rig:
        applier = _applier(rig)
        first = await applier.apply_text(text_a, author="ops-wang", source=SOURCE)
        assert first.version is not None and first.version.n == 1
        tracer = Tracer(rig.sim)
        prompts = rig.prompts_heard()
        for extension in ("1001", "1002", "1004"):
            rig.sim.set_agent(extension, AgentBehaviour(answer_after=0.3, talk_seconds=1.0))
        await rig.log_in("1001", "1002", "1004")

        # Mid-queue: nobody logged in serves Mandarin drugs/AIDS prevention in version 1.
        queued = await rig.sim.place_call(CallerScript(number="13800000101", digits=[(0.1, "1"), (0.1, "3")]))

        async def queued_waits() -> bool | None:
            return True if tracer.calls[queued.linkedid].joined == ["zh-drugs-aids"] else None

        await eventually(queued_waits, 10, "the first caller to wait in zh-drugs-aids")
        # Mid-menu: chose Mandarin and is listening to the service menu; presses 2 after the apply.
        in_menu = await rig.sim.place_call(
            CallerScript(number="13800000102", digits=[(0.1, "1"), (2.5, "2")])
        )
        await eventually(_heard(prompts, in_menu, "choose-service"), 10, "the second caller in the menu")

        old_plan = rig.hotline.plan
        result = await applier.apply_text(text_b, author="ops-wang", source=SOURCE)

        assert result.version is not None and result.version.n == 2 and result.notes == []
        assert rig.hotline.plan is not old_plan
        assert "HOTLINE_MENU_PATH" not in tracer.calls[in_menu.linkedid].variables  # still choosing
        assert not queued.finished.done()  # still waiting
        assert result.reloaded == ["module reload app_queue.so", "dialplan reload"]
        assert ("zh-rights", "PJSIP/1001") in result.members_added
        assert ("zh-drugs-aids", "PJSIP/1004") in result.members_added
        assert result.members_removed == [("zh-adolescent", "PJSIP/1001")]
        assert "[zh-rights]" in (config_dir / "queues.conf").read_text(encoding="utf-8")
        assert rig.sim.rt.dialplan.exists("hotline-inbound", "timeout-zh-rights")
        assert "PJSIP/1001" not in rig.sim.queues.queues["zh-adolescent"].members

        # A new caller after the apply: the new menu.
        new = await rig.sim.place_call(CallerScript(number="13800000103", digits=[(0.1, "1"), (0.1, "2")]))
        outcomes = await asyncio.gather(*(c.wait_finished(30) for c in (queued, in_menu, new)))

        assert [o.disposition for o in outcomes] == ["answered"] * 3  # none dropped
        assert (outcomes[0].queue, outcomes[0].agent) == ("zh-drugs-aids", "1004")
        assert tracer.calls[in_menu.linkedid].queue == "zh-legal"  # the menu it started with
        assert outcomes[1].queue == "zh-legal" and outcomes[1].agent in ("1002", "1004")
        assert tracer.calls[new.linkedid].queue == "zh-rights"  # the new menu
        assert (outcomes[2].queue, outcomes[2].agent) == ("zh-rights", "1001")
        for call, queue in ((queued, "zh-drugs-aids"), (in_menu, "zh-legal"), (new, "zh-rights")):
            row = await rig.finished_call(call.linkedid)
            assert (row.queue, row.disposition) == (queue, "answered")

        assert rig.hotline.db is not None
        versions = await list_versions(rig.hotline.db.sessions)
        assert [(v.n, v.author, v.applied_at is not None) for v in versions] == [
            (2, "ops-wang", True),
            (1, "ops-wang", True),
        ]
        assert '+        "2": {queue: "{language}-rights"}\n' in versions[0].diff
        assert '-        "2": {queue: "{language}-legal"}\n' in versions[0].diff


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


async def test_an_invalid_apply_changes_nothing_and_says_where(
    postgres_url: str, database: object, tmp_path: Path, config_dir: Path
) -> None:
    text_a = example_text("inner-mongolia")
    bad = text_a.replace('"2": {queue: "{language}-legal"}', '"2": {queue: "{language}-lega"}', 1).replace(
        "      retries: 1\n", "      retries: 1\n      timout: 5\n", 1
    )
    async with hotline_on_simulator(
        postgres_url, tmp_path, config_dir=config_dir, plan=plan_of(text_a, SOURCE)
    ) as rig:
        applier = _applier(rig)
        await applier.apply_text(text_a, author="ops-wang", source=SOURCE)
        serving, files = rig.hotline.plan, _digest(config_dir)

        with pytest.raises(ConfigError) as refused:
            await applier.apply_text(bad, author="ops-li", source="hotline-new.yaml")

        lines = bad.splitlines()
        queue_line = next(i for i, line in enumerate(lines) if '{language}-lega"' in line)
        key_line = next(i for i, line in enumerate(lines) if "timout" in line)
        texts = "\n".join(str(p) for p in refused.value.problems)
        # the option's value (the flow mapping) and the unknown key, each at its own line and column
        assert f"hotline-new.yaml:{queue_line + 1}:{lines[queue_line].index('{') + 1}: " in texts
        assert "no queue 'mn-lega', 'zh-lega'" in texts
        assert f"hotline-new.yaml:{key_line + 1}:{lines[key_line].index('timout') + 1}: " in texts
        assert "unknown key 'timout' (did you mean 'timeout'?)" in texts

        assert rig.hotline.plan is serving
        assert _digest(config_dir) == files
        assert rig.hotline.db is not None
        assert [v.n for v in await list_versions(rig.hotline.db.sessions)] == [1]
        await rig.log_in("1002")
        call = await rig.sim.place_call(CallerScript(number="13800000104", digits=[(0.1, "1"), (0.1, "2")]))
        outcome = await call.wait_finished(30)
        assert (outcome.queue, outcome.disposition, outcome.agent) == ("zh-legal", "answered", "1002")
        row = await rig.finished_call(call.linkedid)
        assert (row.menu_path, row.queue, row.disposition) == ("1-2", "zh-legal", "answered")


async def test_a_version_applied_while_the_ami_link_is_down_is_reloaded_when_it_comes_back(
    service: Hotline, settings: Settings
) -> None:
    render_into(plan_of(example_text("inner-mongolia")), settings.asterisk_config_dir, SOURCE)
    sim = PbxSimulator(settings.asterisk_config_dir, ami_port=0, ami_users={"hotline": "s3cret"})
    await sim.start()
    try:
        assert service.config is not None
        result = await service.config.apply_text(
            version_b(example_text("inner-mongolia")), author="ops", source=SOURCE
        )
        assert result.notes == ["no AMI link: Asterisk was not asked to reload"] and result.reloaded == []
        assert service.config.reload_pending and "zh-rights" not in sim.queues.queues

        await service.connect_ami(
            AmiTarget(host="127.0.0.1", port=sim.ami_port, username="hotline", secret="s3cret")
        )

        async def reloaded() -> bool | None:
            return True if "zh-rights" in sim.queues.queues else None

        await eventually(reloaded, 10, "Asterisk to reload queues.conf once the link is up")
        config = service.config

        async def done() -> bool | None:
            return True if not config.reload_pending else None

        await eventually(done, 10, "the pending reload to be done")
        assert sim.rt.dialplan.exists("hotline-inbound", "timeout-zh-rights")
    finally:
        await service.stop()
        await sim.stop()
