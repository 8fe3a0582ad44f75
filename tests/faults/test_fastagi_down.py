"""FastAGI service down: the rendered dialplan's fallback still queues every call, and the service (its
AMI link up) records each of them with the menu path ``fallback``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from pbxsim.scripts import CallerScript
from tests.faults.rig import all_finished, compare, fault_rig, finished_rows

pytestmark = pytest.mark.slow

CALLS = 10


async def test_with_fastagi_down_every_call_is_queued_by_the_fallback_and_recorded(
    postgres_url: str, database: object, tmp_path: Path
) -> None:
    async with fault_rig(postgres_url, tmp_path) as rig:
        await rig.log_in_everyone()
        assert rig.hotline.agi is not None and rig.hotline.plan is not None
        await rig.hotline.agi.stop()  # the IVR is gone; AMI and the database are not
        calls = [
            await rig.sim.place_call(
                CallerScript(number=f"1380000{i:04d}", digits=[(0.1, "1")], hangup_after_answer=0.5)
            )
            for i in range(CALLS)
        ]
        await asyncio.gather(*(c.wait_finished(60) for c in calls))
        truth = await all_finished(rig.sim, CALLS, 5)
        default_queue = rig.hotline.plan.default_queue
        assert all(t.queue == default_queue for t in truth)
        assert rig.hotline.db is not None
        rows = await finished_rows(rig.hotline.db.sessions, CALLS, 30)
        problems = compare(truth, rows)
        assert problems == [], "\n".join(problems)
        assert {(r.menu_path, r.queue) for r in rows} == {("fallback", default_queue)}
