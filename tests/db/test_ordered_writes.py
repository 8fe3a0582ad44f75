"""OrderedWrites: jobs run in order and wait out an unreachable database; a defective one is dropped."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from callcenter.db.jobs import Job, OrderedWrites


@pytest.fixture
async def writes() -> AsyncIterator[OrderedWrites]:
    queue = OrderedWrites("test rows", retry_initial=0.001, retry_max=0.005)
    task = asyncio.create_task(queue.run())
    yield queue
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def recorder(done: list[str], name: str, fail_first: int = 0, exc: Exception | None = None) -> Job:
    left = [fail_first]

    async def job() -> None:
        if left[0] > 0:
            left[0] -= 1
            raise exc or OperationalError("INSERT", {}, ConnectionRefusedError("database away"))
        done.append(name)

    return job


async def test_jobs_run_in_the_order_they_were_put(writes: OrderedWrites) -> None:
    done: list[str] = []
    for name in "abcde":
        writes.put(recorder(done, name))
    await asyncio.wait_for(writes.drained(), 5)
    assert done == list("abcde")
    assert (writes.written, writes.failures, len(writes)) == (5, 0, 0)


async def test_a_database_away_holds_every_job_in_order_until_it_is_back(writes: OrderedWrites) -> None:
    done: list[str] = []
    writes.put(recorder(done, "first", fail_first=25))
    writes.put(recorder(done, "second"))
    writes.put(recorder(done, "third", fail_first=2, exc=OSError("connection reset")))
    await asyncio.wait_for(writes.drained(), 10)
    assert done == ["first", "second", "third"]  # nothing dropped, nothing overtook the held job
    assert writes.failures == 27 and writes.dropped == 0


async def test_a_defective_job_is_dropped_after_its_attempts_and_the_rest_go_on(
    writes: OrderedWrites,
) -> None:
    done: list[str] = []
    broken = IntegrityError("INSERT", {}, ValueError("duplicate key"))
    writes.put(recorder(done, "broken", fail_first=99, exc=broken))
    writes.put(recorder(done, "next"))
    await asyncio.wait_for(writes.drained(), 5)
    assert done == ["next"]
    assert writes.dropped == 1 and writes.failures == 3
