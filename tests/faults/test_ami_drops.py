"""Kill the AMI socket 20 times during 200 simulated calls: every call recorded once, fields equal."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from pbxsim.traffic import TrafficGenerator
from tests.faults.rig import SHORT_CALLS, all_finished, compare, fault_rig, finished_rows

pytestmark = pytest.mark.slow

CALLS = 200
KILLS = 20


async def test_twenty_ami_drops_during_200_calls_lose_and_duplicate_nothing(
    postgres_url: str, database: object, tmp_path: Path
) -> None:
    async with fault_rig(postgres_url, tmp_path) as rig:
        await rig.log_in_everyone()
        gen = TrafficGenerator(rig.sim, 20.0, count=CALLS, seed=8, profile=SHORT_CALLS)
        traffic = asyncio.create_task(gen.run())
        ami = rig.hotline.ami
        assert ami is not None
        kills = 0
        while kills < KILLS:
            logins = ami.connects
            await asyncio.sleep(0.3 + (kills % 3) * 0.2)  # some gaps mid-rebuild, some after it
            if rig.kill_ami():
                kills += 1
                await rig.ami_relinked(logins)
        await traffic
        truth = await all_finished(rig.sim, CALLS, 60)
        assert rig.hotline.db is not None
        rows = await finished_rows(rig.hotline.db.sessions, CALLS, 30)
        problems = compare(truth, rows)
        assert problems == [], "\n".join(problems)
        reconciler = rig.hotline.reconciler
        assert reconciler is not None and reconciler.stats.gaps >= KILLS
        assert reconciler.stats.reconciled > 0  # the gaps did hide call ends: Asterisk's records filled them
