"""One 12355 call end to end: simulated Asterisk → FastAGI IVR → queue → agent → PostgreSQL.

Everything crosses real TCP (AMI: panoramisk ↔ simulator; FastAGI: simulator ↔ our server) and lands in
real PostgreSQL; each test compares the calls table with what the simulated caller really did.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pbxsim.endpoints import AgentBehaviour
from pbxsim.scripts import CallerScript
from tests.integration.harness import Rig, hotline_on_simulator

pytestmark = pytest.mark.slow


@pytest.fixture
async def rig(postgres_url: str, database: object, tmp_path: Path) -> AsyncIterator[Rig]:
    async with hotline_on_simulator(postgres_url, tmp_path) as the_rig:
        yield the_rig


async def test_caller_presses_1_then_2_and_agent_1002_answers_in_the_mandarin_legal_queue(rig: Rig) -> None:
    rig.sim.set_agent("1002", AgentBehaviour(answer_after=1.0, talk_seconds=3.0))
    await rig.log_in("1002")
    call = await rig.sim.place_call(
        CallerScript(number="13800138000", dialled="12355", digits=[(0.2, "1"), (0.2, "2")], name="共青团")
    )
    truth = await call.wait_finished(30)
    row = await rig.finished_call(call.linkedid)

    assert truth.disposition == "answered" and truth.agent == "1002"
    assert row.disposition == "answered"
    assert row.caller_number == "13800138000"
    assert row.dialled_number == "12355"
    assert row.language == "zh"
    assert row.menu_path == "1-2"
    assert row.queue == "zh-legal"
    assert row.agent == "1002"
    assert row.wait_seconds is not None and abs(row.wait_seconds - truth.wait_seconds) <= 1
    assert row.talk_seconds is not None and abs(row.talk_seconds - truth.talk_seconds) <= 1
    assert abs(row.talk_seconds - 3.0) <= 1
    assert row.arrived_at is not None and row.answered_at is not None and row.ended_at is not None
    assert row.arrived_at <= row.answered_at <= row.ended_at


async def test_caller_who_hangs_up_while_waiting_is_abandoned_with_their_wait(rig: Rig) -> None:
    # Nobody is logged in to the Mongolian legal queue: the caller waits, then gives up.
    call = await rig.sim.place_call(
        CallerScript(number="13900139000", dialled="12355", digits=[(0.2, "2"), (0.2, "2")], hangup_after=4.0)
    )
    truth = await call.wait_finished(30)
    row = await rig.finished_call(call.linkedid)
    assert truth.disposition == "abandoned"
    assert (row.disposition, row.queue, row.menu_path, row.language) == ("abandoned", "mn-legal", "2-2", "mn")
    assert row.agent is None
    assert row.wait_seconds is not None and abs(row.wait_seconds - truth.wait_seconds) <= 1
    assert row.wait_seconds > 1


async def test_caller_who_hangs_up_in_the_menu_is_an_ivr_hangup(rig: Rig) -> None:
    call = await rig.sim.place_call(CallerScript(number="13700137000", dialled="12355", hangup_after=0.4))
    await call.wait_finished(30)
    row = await rig.finished_call(call.linkedid)
    assert row.disposition == "ivr-hangup"
    assert row.queue is None and row.agent is None


async def test_no_key_repeats_the_prompt_then_the_default_queue(rig: Rig) -> None:
    await rig.log_in("1001")
    prompts = rig.prompts_heard()
    call = await rig.sim.place_call(CallerScript(number="13600136000", dialled="12355"))
    await call.wait_finished(40)
    row = await rig.finished_call(call.linkedid)
    # retries: 2 → the language prompt is heard three times, then the hotline's default queue.
    assert [p for p in prompts(call.linkedid) if p.endswith("choose-language")] == [
        "hotline/choose-language"
    ] * 3
    assert (row.menu_path, row.queue, row.disposition, row.agent) == (
        "t-t-t",
        "zh-psychology",
        "answered",
        "1001",
    )


async def test_invalid_keys_repeat_the_prompt_then_the_default_queue(rig: Rig) -> None:
    await rig.log_in("1001")
    call = await rig.sim.place_call(
        CallerScript(
            number="13500135000", dialled="12355", digits=[(0.2, "1"), (0.2, "9"), (0.2, "8"), (0.2, "7")]
        )
    )
    await call.wait_finished(40)
    row = await rig.finished_call(call.linkedid)
    assert row.language == "zh"
    assert (row.menu_path, row.queue, row.disposition) == ("1-i-i-i", "zh-psychology", "answered")
