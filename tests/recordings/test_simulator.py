"""End to end on the simulated PBX: an answered call leaves MixMonitor's file (the queue's monitor-format,
named by MONITOR_FILENAME = the Linkedid), and the service converts it and links it to the call row."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from callcenter.db.calls import list_attempts
from pbxsim.endpoints import AgentBehaviour
from pbxsim.scripts import CallerScript
from recordings.models import Recording
from tests.integration.harness import Rig, eventually, hotline_on_simulator
from tests.recordings.conftest import TOLERANCE, read_back

pytestmark = pytest.mark.slow


@pytest.fixture
async def rig(postgres_url: str, database: object, tmp_path: Path) -> AsyncIterator[Rig]:
    async with hotline_on_simulator(postgres_url, tmp_path) as the_rig:
        keeper = the_rig.hotline.recordings
        assert keeper is not None
        the_rig.sim.rt.recorder.monitor_dir = keeper.config.monitor_dir  # Asterisk's spool, shared
        yield the_rig


async def test_an_answered_call_produces_a_converted_recording_linked_to_its_call(rig: Rig) -> None:
    keeper = rig.hotline.recordings
    assert keeper is not None
    rig.sim.set_agent("1002", AgentBehaviour(answer_after=0.5, talk_seconds=3.0))
    await rig.log_in("1002")
    unanswered = await rig.sim.place_call(CallerScript(number="13700137000", hangup_after=0.3))
    call = await rig.sim.place_call(
        CallerScript(number="13800138000", digits=[(0.2, "1"), (0.2, "2")], name="共青团")
    )
    truth = await call.wait_finished(30)
    row = await rig.finished_call(call.linkedid)
    assert truth.disposition == "answered" and row.agent == "1002"
    assert row.answered_at is not None and row.ended_at is not None

    async def stored() -> Recording | None:
        try:
            return await keeper.stored(call.linkedid)
        except Exception:
            return None

    recording = await eventually(stored, 20, "the call's recording to be stored")
    assert recording.linkedid == row.linkedid  # linked to the call row by its Linkedid
    assert recording.format == "opus" and recording.category == "legal"
    assert recording.path is not None and Path(recording.path).name == f"{call.linkedid}.opus"
    # the bridge lasted from AgentConnect to AgentComplete (the caller may stay on for the survey after)
    assert rig.hotline.db is not None
    (attempt,) = [a for a in await list_attempts(rig.hotline.db.sessions, call.linkedid) if a.connected_at]
    assert attempt.connected_at is not None and attempt.ended_at is not None
    talk = (attempt.ended_at - attempt.connected_at).total_seconds()
    assert abs(talk - 3.0) <= TOLERANCE  # the agent's scripted talk time
    info = read_back(Path(recording.path))
    assert info.channels == 1
    assert abs(info.duration - talk) <= TOLERANCE
    assert recording.duration_seconds is not None and abs(recording.duration_seconds - talk) <= TOLERANCE
    spool = keeper.config.monitor_dir
    assert not (spool / f"{call.linkedid}.wav").exists()  # the original went once verified
    await unanswered.wait_finished(10)
    assert list(spool.iterdir()) == []  # a call nobody answered is not recorded
