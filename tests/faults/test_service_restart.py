"""Restart the service while calls are up: a new Hotline on the same database rebuilds from AMI, and the
calls that were up, that ended while it was down and that arrived meanwhile are all recorded once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from pbxsim.traffic import TrafficGenerator, TrafficProfile
from tests.faults.rig import all_finished, calls_placed, compare, fault_rig, finished_rows, start_hotline

pytestmark = pytest.mark.slow

CALLS = 80
LONGER_CALLS = TrafficProfile(
    digit_delay=(0.05, 0.3),
    patience=(2.0, 6.0),
    impatient_share=1.0,
    talk=(1.0, 4.0),
    caller_ends_share=1.0,
)


async def test_service_restart_mid_calls_records_every_call_once(
    postgres_url: str, database: object, tmp_path: Path
) -> None:
    async with fault_rig(postgres_url, tmp_path) as rig:
        await rig.log_in_everyone()
        gen = TrafficGenerator(rig.sim, 12.0, count=CALLS, seed=88, profile=LONGER_CALLS)
        traffic = asyncio.create_task(gen.run())
        await calls_placed(gen, 30)
        old = rig.hotline
        assert old.agi is not None
        agi_port = old.agi.port
        up_at_restart = rig.sim.active_channels
        await old.stop()
        await calls_placed(gen, 42)  # ~1 s down: calls go on, end, and arrive (dialplan fallback)
        rig.hotline = await start_hotline(postgres_url, tmp_path, rig.sim, agi_port=agi_port)
        await traffic
        truth = await all_finished(rig.sim, CALLS, 60)
        assert rig.hotline.db is not None
        rows = await finished_rows(rig.hotline.db.sessions, CALLS, 45)
        assert up_at_restart > 0
        problems = compare(truth, rows)
        assert problems == [], "\n".join(problems)
