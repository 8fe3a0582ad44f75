"""Reading a period's facts from PostgreSQL for the reports: queued calls (with their queue's service line
and their work order's caller profile), work orders, and callbacks when the callback book's table exists."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.db.models import Call, Queue
from callcenter.reports.figures import CallRow, OrderRow, Period, Report, build_report
from callcenter.reports.occupancy import agent_times, occupancy_figures
from callcenter.workorders.models import WorkOrder
from routing.callerid import is_anonymous
from routing.kpi import CallbackFact, CallOutcome

# The call dispositions that were offered to a queue, as KPI outcomes (docs/KPI.md).
OUTCOMES = {
    "answered": CallOutcome.ANSWERED,
    "abandoned": CallOutcome.ABANDONED,
    "queue-timeout": CallOutcome.TIMED_OUT,
    "queue-callback": CallOutcome.CALLBACK,
}


def _seconds(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return max(0.0, (later - earlier).total_seconds())


def call_row(call: Call, line: str | None, order: WorkOrder | None) -> CallRow | None:
    """A queued call as a report row; None for calls that never reached a queue (IVR hang-ups, closed)."""
    outcome = OUTCOMES.get(call.disposition or "")
    if outcome is None or call.queue is None:
        return None
    if outcome is CallOutcome.ANSWERED:
        wait = call.wait_seconds
        if wait is None:
            wait = _seconds(call.answered_at, call.queue_joined_at)
    else:
        wait = (
            call.wait_seconds
            if call.wait_seconds is not None
            else _seconds(call.ended_at, call.queue_joined_at)
        )
    return CallRow(
        outcome=outcome,
        wait_seconds=wait or 0.0,
        talk_seconds=call.talk_seconds or 0.0,
        queue=call.queue,
        service_line=(order.service_line if order is not None and order.service_line != "other" else None)
        or line,
        language=call.language,
        age_band=order.age_band if order else None,
        gender=order.gender if order else None,
        region=order.region if order else None,
        anonymous=is_anonymous(call.caller_number),
    )


async def period_facts(
    session: AsyncSession, start: datetime, end: datetime
) -> tuple[list[CallRow], list[OrderRow], list[CallbackFact]]:
    stmt = (
        select(Call, Queue.service_line, WorkOrder)
        .outerjoin(Queue, Queue.name == Call.queue)
        .outerjoin(WorkOrder, WorkOrder.linkedid == Call.linkedid)
        .where(Call.arrived_at >= start, Call.arrived_at < end)
    )
    calls = []
    for call, line, order in (await session.execute(stmt)).all():
        row = call_row(call, line, order)
        if row is not None:
            calls.append(row)
    orders = [
        OrderRow(
            created_at=o.created_at,
            topic=o.topic,
            service_line=o.service_line,
            risk_level=o.risk_level,
            referred=o.referred_at is not None,
            deadline_at=o.deadline_at,
            closed_at=o.closed_at if o.referred_at is not None else None,
            rejected=o.status == "rejected",
            anonymous=is_anonymous(o.caller_number),
        )
        for o in (
            await session.execute(
                select(WorkOrder).where(
                    WorkOrder.created_at >= start, WorkOrder.created_at < end, WorkOrder.status != "draft"
                )
            )
        )
        .scalars()
        .all()
    ]
    return calls, orders, await _callbacks(session, start, end)


async def _callbacks(session: AsyncSession, start: datetime, end: datetime) -> list[CallbackFact]:
    """Callback tasks of the period, when the callback book (issue 4) keeps them in ``callback_tasks``."""
    present = (await session.execute(text("SELECT to_regclass('callback_tasks')"))).scalar()
    if present is None:
        return []
    rows = await session.execute(
        text(
            "SELECT first_due_at, first_attempt_at, status FROM callback_tasks "
            "WHERE created_at >= :start AND created_at < :end"
        ),
        {"start": start, "end": end},
    )
    out = []
    for r in rows:
        m: Any = r._mapping
        cancelled = m["status"] == "caller-got-through" and m["first_attempt_at"] is None
        out.append(CallbackFact(m["first_due_at"], m["first_attempt_at"], cancelled))
    return out


async def load_report(sessions: async_sessionmaker[AsyncSession], period: Period, *, now: datetime) -> Report:
    async with sessions() as session:
        calls, orders, callbacks = await period_facts(session, period.start, period.end)
        times = await agent_times(session, period.start, period.end)  # agent_state_intervals
    occupancy, per_agent = occupancy_figures(times)
    return build_report(
        period, calls, orders, callbacks, now=now, occupancy=occupancy, occupancy_by_agent=per_agent
    )
