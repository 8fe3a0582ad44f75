"""Restart PostgreSQL during load: the service keeps taking calls, holds what it must write, catches up."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from callcenter.callbacks.models import CallbackTaskRow
from callcenter.db.embedded import EmbeddedPostgres
from callcenter.workorders.models import WorkOrder
from pbxsim.traffic import TrafficGenerator
from tests.faults.rig import SHORT_CALLS, all_finished, calls_placed, compare, fault_rig, finished_rows
from tests.integration.harness import api_client

pytestmark = pytest.mark.slow

CALLS = 120


@pytest.fixture
def own_postgres() -> Iterator[tuple[EmbeddedPostgres, str]]:
    """A PostgreSQL server of this test's own (the suite's server is shared: we must not stop it)."""
    tmp = Path(tempfile.mkdtemp(prefix="pg8-"))  # short: a Unix socket path has ~100 characters
    server = EmbeddedPostgres(tmp)
    server.start()
    try:
        yield server, server.create_database("hotline_fault")
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


async def test_postgres_restart_under_load_loses_and_duplicates_nothing(
    own_postgres: tuple[EmbeddedPostgres, str], tmp_path: Path
) -> None:
    server, url = own_postgres
    async with fault_rig(url, tmp_path) as rig:
        await rig.log_in_everyone()
        gen = TrafficGenerator(rig.sim, 15.0, count=CALLS, seed=80, profile=SHORT_CALLS)
        traffic = asyncio.create_task(gen.run())
        writer = rig.hotline.writer
        assert writer is not None
        await calls_placed(gen, 30)
        async with api_client(rig.hotline, "sup-pg", "supervisor") as client:  # logged in before the stop
            await asyncio.to_thread(server.stop)
            await calls_placed(gen, 70)  # ~2.5 s of calls while PostgreSQL is down
            # the pages are told what is wrong, not a bare 500
            response = await client.get("/api/calls")
            assert response.status_code == 503, response.text
            assert response.json()["error"] == "database-unavailable" and response.headers["Retry-After"]
        held_while_down = writer.pending
        await asyncio.to_thread(server.start)
        await traffic
        truth = await all_finished(rig.sim, CALLS, 60)
        assert rig.hotline.db is not None
        rows = await finished_rows(rig.hotline.db.sessions, CALLS, 45)
        problems = compare(truth, rows)
        assert problems == [], "\n".join(problems)
        assert held_while_down > 0 and writer.failures > 0  # it really did spool and retry
        # the IVR served every caller meanwhile: none fell through to the dialplan's fallback queue
        assert [t.linkedid for t in truth if t.menu_path == "fallback"] == []
        # the callback seat's tasks for the calls missed meanwhile are in the database as the service has them
        callbacks = rig.hotline.callbacks
        assert callbacks is not None
        await asyncio.wait_for(callbacks.drained(), 30)
        book = {(t.id, t.number, str(t.status), t.call_ids) for t in callbacks.book.tasks}
        async with rig.hotline.db.sessions() as session:
            stored = {
                (r.id, r.number, r.status, tuple(c for c in r.call_ids.split(",") if c))
                for r in (await session.scalars(select(CallbackTaskRow))).all()
            }
        assert len(book) > 10  # SHORT_CALLS callers give up: most calls are missed calls with a number
        assert stored == book
        # and every answered call has its work-order draft
        workorders = rig.hotline.workorders
        assert workorders is not None
        await asyncio.wait_for(workorders.drafts_written(), 30)
        answered = {t.linkedid for t in truth if t.disposition == "answered"}
        async with rig.hotline.db.sessions() as session:
            drafted = set((await session.scalars(select(WorkOrder.linkedid))).all())
        assert answered and answered <= drafted
