"""The callback seat: the adapter around the pure ``routing.callbacks`` book.

In: finished calls from the live model (abandoned, queue timeouts — full/empty/timeout queues all end as
``queue-timeout`` —, out-of-hours callers who asked for a callback), the ``HotlineCallback`` UserEvent the
dialplan raises when a caller asks for one in the IVR, answered calls (a caller who got through closes
their task). Out: tasks in PostgreSQL (``callback_tasks``), pushed live on topic ``callbacks``, and the
callback call itself: ``dial`` originates agent → caller over AMI with caller ID 12355; the attempt's
outcome comes from the callback call's own end (the live model follows it like any call) and is recorded
in ``callback_attempts`` with that call's linkedid.

The book is kept in memory (loaded from the database at start) and every change of a task is upserted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.ami.actions import AmiActions
from callcenter.ami.events import AmiEvent, OriginateResponse, UserEvent
from callcenter.auth.roles import STAFF
from callcenter.callbacks.models import CallbackAttemptRow, CallbackTaskRow
from callcenter.db.jobs import OrderedWrites
from callcenter.live.model import CallChanged, CallEnded, Change
from callcenter.records import CallRecord, Disposition
from callcenter.web.hub import LiveHub
from routing.callbacks import (
    CALLBACK_ROLE,
    AttemptOutcome,
    CallbackAgent,
    CallbackBook,
    CallbackPolicy,
    CallbackSource,
    CallbackTask,
    MissedCall,
    TaskNotOpen,
    TaskStatus,
    UnknownTask,
    assign_next,
    normalise_number,
    record_answered_call,
    record_attempt,
    record_missed_call,
)

__all__ = ["CallbackService", "CallbackTaskOut", "callbacks_for_number", "task_out"]

log = logging.getLogger(__name__)

CALLER_ID = "12355"
OUTBOUND_DIAL = "PJSIP/{number}@pstn"  # the trunk the public hotlines are dialled through (pjsip.conf)
RING_SECONDS = 30

_MISSED = {
    Disposition.ABANDONED: CallbackSource.ABANDONED,
    Disposition.QUEUE_TIMEOUT: CallbackSource.QUEUE_TIMEOUT,
}


class CallbackUnavailable(RuntimeError):
    """No AMI link: a callback cannot be dialled now."""


class AgentBusy(RuntimeError):
    def __init__(self, extension: str) -> None:
        super().__init__(f"agent {extension} is already on a callback")


@dataclass(frozen=True, slots=True)
class CallbackTaskOut:
    id: str
    number: str
    status: str
    created_at: datetime
    due_at: datetime
    call_ids: tuple[str, ...]
    sources: tuple[str, ...]
    queue: str | None
    language: str | None
    crisis: bool
    priority: int
    attempts: int
    last_outcome: str | None
    assigned_to: str | None
    closed_at: datetime | None
    answered_call_id: str | None


def task_out(row: CallbackTaskRow) -> CallbackTaskOut:
    return CallbackTaskOut(
        id=row.id,
        number=row.number,
        status=row.status,
        created_at=row.created_at,
        due_at=row.due_at,
        call_ids=tuple(c for c in row.call_ids.split(",") if c),
        sources=tuple(s for s in row.sources.split(",") if s),
        queue=row.queue,
        language=row.language,
        crisis=row.crisis,
        priority=row.priority,
        attempts=row.attempts,
        last_outcome=row.last_outcome,
        assigned_to=row.assigned_to,
        closed_at=row.closed_at,
        answered_call_id=row.answered_call_id,
    )


async def callbacks_for_number(
    sessions: async_sessionmaker[AsyncSession], number: str
) -> list[CallbackTaskOut]:
    """Every callback task of one caller number, newest first (for the caller's file / work orders)."""
    key = normalise_number(number)
    if key is None:
        return []
    async with sessions() as session:
        rows = (
            await session.scalars(
                select(CallbackTaskRow)
                .where(CallbackTaskRow.number == key)
                .order_by(CallbackTaskRow.created_at.desc())
            )
        ).all()
    return [task_out(r) for r in rows]


def _row_values(task: CallbackTask) -> dict[str, Any]:
    return {
        "id": task.id,
        "number": task.number,
        "status": str(task.status),
        "created_at": task.created_at,
        "due_at": task.due_at,
        "first_due_at": task.first_due_at,
        "call_ids": ",".join(task.call_ids),
        "sources": ",".join(str(s) for s in task.sources),
        "queue": task.queue,
        "language": task.language,
        "crisis": task.crisis,
        "priority": task.priority,
        "attempts": task.attempts,
        "first_attempt_at": task.first_attempt_at,
        "last_outcome": None if task.last_outcome is None else str(task.last_outcome),
        "assigned_to": task.assigned_to,
        "closed_at": task.closed_at,
        "answered_call_id": task.answered_call_id,
    }


def _task_from_row(row: CallbackTaskRow) -> CallbackTask:
    return CallbackTask(
        id=row.id,
        number=row.number,
        status=TaskStatus(row.status),
        created_at=row.created_at,
        due_at=row.due_at,
        first_due_at=row.first_due_at,
        call_ids=tuple(c for c in row.call_ids.split(",") if c),
        sources=tuple(CallbackSource(s) for s in row.sources.split(",") if s),
        queue=row.queue,
        language=row.language,
        crisis=row.crisis,
        priority=row.priority,
        attempts=row.attempts,
        first_attempt_at=row.first_attempt_at,
        last_outcome=None if row.last_outcome is None else AttemptOutcome(row.last_outcome),
        assigned_to=row.assigned_to,
        closed_at=row.closed_at,
        answered_call_id=row.answered_call_id,
    )


@dataclass
class _Attempt:
    task_id: str
    agent: str
    row_id: int
    linkedid: str | None = None


class CallbackService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        hub: LiveHub,
        actions: Callable[[], AmiActions | None],
        *,
        policy: CallbackPolicy | None = None,
        crisis_calls: Callable[[str], bool] = lambda _linkedid: False,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = sessions
        self._hub = hub
        self._actions = actions
        self.policy = policy or CallbackPolicy()
        self._crisis_calls = crisis_calls
        self._clock = clock
        self.book = CallbackBook()
        self._jobs = OrderedWrites("callback tasks")  # in order; held while PostgreSQL is away
        self._dialling: dict[str, _Attempt] = {}  # agent extension -> the attempt being placed
        self._by_linkedid: dict[str, _Attempt] = {}  # callback call linkedid -> attempt
        self._requested: dict[str, datetime] = {}  # linkedid -> HotlineCallback seen (IVR request)

    # -- life ----------------------------------------------------------------------------------------
    async def load(self) -> None:
        """The open tasks from the database (a restart keeps the book)."""
        async with self._sessions() as session:
            rows = (
                await session.scalars(select(CallbackTaskRow).where(CallbackTaskRow.status == "open"))
            ).all()
            numbers = (await session.scalars(select(CallbackTaskRow.id))).all()
        highest = max((int(i.split("-", 1)[1]) for i in numbers if i.startswith("cb-")), default=0)
        self.book = CallbackBook(tuple(_task_from_row(r) for r in rows), highest + 1)

    async def run(self) -> None:
        """The owned task: database writes in arrival order (the hooks below are synchronous)."""
        await self._jobs.run()

    async def drained(self) -> None:
        await self._jobs.drained()

    # -- hooks (synchronous: the AMI reader calls them) ------------------------------------------------
    def on_changes(self, changes: list[Change]) -> None:
        for change in changes:
            if isinstance(change, CallEnded):
                self._on_call_ended(change.record)
            elif isinstance(change, CallChanged) and change.record.answered_at is not None:
                self._on_answered(change.record)

    def on_event(self, event: AmiEvent) -> None:
        if isinstance(event, UserEvent) and event.user_event == "HotlineCallback":
            self._on_requested(event)
        elif isinstance(event, OriginateResponse):
            self._on_originate_response(event)

    def _on_requested(self, event: UserEvent) -> None:
        headers = dict(event.headers)
        linkedid = event.channel.linkedid if event.channel is not None else None
        number = headers.get("Caller") or (event.channel.caller_id_num if event.channel else None)
        language = headers.get("Language") or None
        at = self._clock()
        call_id = linkedid or f"request-{at.timestamp():.3f}"
        if linkedid is not None:
            self._requested[linkedid] = at
        self._missed(MissedCall(call_id, number, CallbackSource.REQUESTED, at, language=language))

    def _on_call_ended(self, record: CallRecord) -> None:
        attempt = self._by_linkedid.pop(record.linkedid, None)
        if attempt is not None:
            self._attempt_over(attempt, record)
            return
        requested = self._requested.pop(record.linkedid, None)
        source = _MISSED.get(record.disposition) if record.disposition is not None else None
        if record.disposition is Disposition.OUT_OF_HOURS and requested is not None:
            source = CallbackSource.OUT_OF_HOURS
        if source is None:
            return  # answered, or nothing to call back (a request was booked from its UserEvent)
        crisis = self._crisis_calls(record.linkedid)
        self._missed(
            MissedCall(
                record.linkedid,
                record.caller_number,
                source,
                record.ended_at or self._clock(),
                queue=record.queue,
                language=record.language,
                crisis=crisis,
                priority=record.priority or 0,
            )
        )

    def _missed(self, call: MissedCall) -> None:
        self.book, task = record_missed_call(self.book, call, self.policy)
        if task is not None:
            self._save(task)

    def _on_answered(self, record: CallRecord) -> None:
        if record.linkedid in self._by_linkedid or record.queue is None:
            return  # our own callback call, or not a hotline call
        number = normalise_number(record.caller_number)
        if number is None or self.book.open_task_for(number) is None:
            return
        self.book, task = record_answered_call(self.book, number, record.linkedid, self._clock())
        if task is not None:
            self._save(task)

    # -- the callback call ----------------------------------------------------------------------------
    async def dial(self, task_id: str, agent: str) -> CallbackTaskOut:
        """Originate ``agent`` → the task's caller. Raises ``routing.callbacks`` errors (unknown task,
        not open), :class:`AgentBusy`, :class:`CallbackUnavailable`."""
        actions = self._actions()
        if actions is None:
            raise CallbackUnavailable("no AMI link")
        if agent in self._dialling:
            raise AgentBusy(agent)
        task = self.book.get(task_id)
        if task.status is not TaskStatus.OPEN:
            raise TaskNotOpen(task_id, task.status)
        task = replace(task, assigned_to=agent)
        self.book = self.book._with(task)
        now = self._clock()
        async with self._sessions() as session, session.begin():
            await self._upsert(session, task)
            row = CallbackAttemptRow(task_id=task_id, agent=agent, started_at=now)
            session.add(row)
            await session.flush()
            row_id = row.id
        attempt = _Attempt(task_id, agent, row_id)
        self._dialling[agent] = attempt
        try:
            await actions.originate(
                f"PJSIP/{agent}",
                application="Dial",
                data=f"{OUTBOUND_DIAL.format(number=task.number)},{RING_SECONDS}",
                caller_id=f'"12355" <{CALLER_ID}>',
                timeout_ms=RING_SECONDS * 1000,
                variables={"HOTLINE_CALLBACK_TASK": task_id},
            )
        except Exception:
            self._dialling.pop(agent, None)
            self._finish(attempt, AttemptOutcome.FAILED, None)
            raise
        self._publish(task)
        return await self._out(task_id)

    def take_next(self, agent: str) -> CallbackTask | None:
        """Assign the next due task to a callback agent (the callback seat's "next" button)."""
        self.book, task = assign_next(
            self.book, CallbackAgent(agent, frozenset({CALLBACK_ROLE})), self._clock()
        )
        if task is not None:
            self._save(task)
        return task

    def _on_originate_response(self, event: OriginateResponse) -> None:
        if event.caller_id_num != CALLER_ID:
            return
        device = event.channel.split("-", 1)[0] if event.response == "Success" else event.channel
        agent = device.rsplit("/", 1)[-1]
        attempt = self._dialling.pop(agent, None)
        if attempt is None:
            return
        if event.response != "Success":
            self._finish(attempt, AttemptOutcome.FAILED, None)  # the agent's own phone did not answer
            return
        attempt.linkedid = event.uniqueid
        self._by_linkedid[event.uniqueid] = attempt

        async def link() -> None:
            async with self._sessions() as session, session.begin():
                await session.execute(
                    update(CallbackAttemptRow)
                    .where(CallbackAttemptRow.id == attempt.row_id)
                    .values(linkedid=event.uniqueid)
                )

        self._jobs.put(link)

    def _attempt_over(self, attempt: _Attempt, record: CallRecord) -> None:
        if record.answered_at is not None or record.disposition is Disposition.ANSWERED:
            outcome = AttemptOutcome.REACHED
        elif record.hangup_cause == 17:
            outcome = AttemptOutcome.BUSY
        else:
            outcome = AttemptOutcome.NO_ANSWER
        self._finish(attempt, outcome, record.linkedid)

    def _finish(self, attempt: _Attempt, outcome: AttemptOutcome, linkedid: str | None) -> None:
        now = self._clock()
        try:
            self.book, task = record_attempt(self.book, attempt.task_id, outcome, now, self.policy)
        except Exception:
            log.warning("callback %s: attempt over but the task is no longer open", attempt.task_id)
            task = None

        async def write() -> None:
            async with self._sessions() as session, session.begin():
                await session.execute(
                    update(CallbackAttemptRow)
                    .where(CallbackAttemptRow.id == attempt.row_id)
                    .values(outcome=str(outcome), ended_at=now, linkedid=linkedid or attempt.linkedid)
                )
                if task is not None:
                    await self._upsert(session, task)

        self._jobs.put(write)
        if task is not None:
            self._publish(task)

    # -- persistence and push -------------------------------------------------------------------------
    def _save(self, task: CallbackTask) -> None:
        async def write() -> None:
            async with self._sessions() as session, session.begin():
                await self._upsert(session, task)

        self._jobs.put(write)
        self._publish(task)

    @staticmethod
    async def _upsert(session: AsyncSession, task: CallbackTask) -> None:
        values = _row_values(task)
        stmt = insert(CallbackTaskRow).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[CallbackTaskRow.id], set_={k: v for k, v in values.items() if k != "id"}
        )
        await session.execute(stmt)

    def _publish(self, task: CallbackTask) -> None:
        if self._hub.subscribers:
            self._hub.publish(
                "callbacks",
                {
                    "id": task.id,
                    "status": str(task.status),
                    "calls": task.call_count,
                    "crisis": task.crisis,
                    "due_at": task.due_at,
                    "assigned_to": task.assigned_to,
                },
                roles=STAFF,
            )

    async def _out(self, task_id: str) -> CallbackTaskOut:
        async with self._sessions() as session:
            row = await session.get(CallbackTaskRow, task_id)
        if row is None:
            raise UnknownTask(task_id)
        return task_out(row)

    async def list_tasks(self, *, status: str | None = "open", limit: int = 200) -> list[CallbackTaskOut]:
        await self.drained()
        query = select(CallbackTaskRow).order_by(
            CallbackTaskRow.crisis.desc(), CallbackTaskRow.priority.desc(), CallbackTaskRow.due_at
        )
        if status:
            query = query.where(CallbackTaskRow.status == status)
        async with self._sessions() as session:
            rows = (await session.scalars(query.limit(limit))).all()
        return [task_out(r) for r in rows]

    async def get(self, task_id: str) -> CallbackTaskOut:
        await self.drained()
        return await self._out(task_id)

    async def count_open(self) -> int:
        async with self._sessions() as session:
            return int(
                await session.scalar(
                    select(func.count()).select_from(CallbackTaskRow).where(CallbackTaskRow.status == "open")
                )
                or 0
            )
