"""Work orders over HTTP on real PostgreSQL: the web fixtures, more unit users, and an explicit clock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from callcenter.app import Hotline
from callcenter.auth.roles import parse_roles
from callcenter.db.calls import upsert_calls
from callcenter.records import CallRecord, Disposition
from tests.web.conftest import PASSWORD, app, client, hotline  # noqa: F401  (fixtures)

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 09:00 in Hohhot, a Monday


class Clock:
    """The service's clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> datetime:
        self.now += timedelta(**kw)
        return self.now


@pytest.fixture
async def clock(hotline: Hotline) -> Clock:  # noqa: F811
    assert hotline.workorders is not None and hotline.users is not None
    the_clock = Clock(T0)
    hotline.workorders.clock = the_clock
    # more unit staff: another county under the same city, the city itself, a county elsewhere
    for name, unit in (("huimin", "150103"), ("hohhot", "150100"), ("donghe", "150202")):
        await hotline.users.add(name, PASSWORD, parse_roles("unit-staff"), unit_code=unit)
    return the_clock


async def answered_calls(
    hotline: Hotline,  # noqa: F811
    calls: Sequence[tuple[str, str | None]],
    at: datetime = T0,
) -> None:
    """Answered calls (linkedid, caller number) in the psychology queue."""
    assert hotline.db is not None
    async with hotline.db.sessions() as session, session.begin():
        await upsert_calls(
            session,
            [
                CallRecord(
                    linkedid=lid,
                    uniqueid=lid,
                    caller_number=number,
                    queue="zh-psychology",
                    language="zh",
                    arrived_at=at,
                    queue_joined_at=at,
                    answered_at=at + timedelta(seconds=12),
                    ended_at=at + timedelta(seconds=300),
                    wait_seconds=12,
                    talk_seconds=288,
                    agent="1001",
                    disposition=Disposition.ANSWERED,
                )
                for lid, number in calls
            ],
        )
