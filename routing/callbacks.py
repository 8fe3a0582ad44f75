"""Callback tasks: calls the hotline missed become tasks for the callback seat.

A ``CallbackBook`` is an immutable value; every function takes a book and returns a new one. The adapter
keeps the current book (and persists the tasks), feeds it the call outcomes, and executes assignments
(screen pop on the callback seat's panel, AMI Originate when the agent dials).

Rules:
- Missed calls (abandoned in the queue, queue timeout, full or empty queue, out-of-hours, or the caller
  asked for a callback in the IVR) create a task; callers without a usable number (none, ``anonymous``,
  ``unknown``, ``<unknown>`` as AMI shows it, ``private``, ``restricted``) never do.
- One OPEN task per caller number: a repeat call merges into it (the count goes up, the latest call is
  linked, a crisis call makes the task a crisis task and due at once).
- Attempts are counted; after a failed attempt the task is due again after the next configured delay;
  after ``max_attempts`` failed attempts it is closed as failed.
- When the caller gets through by themselves (an answered call from the same number), the open task closes.
- Assignment: to an agent with the callback role, the next due task: crisis first, then higher priority,
  then the earliest due, then the oldest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from routing.callerid import caller_number
from routing.plan import national_number

CALLBACK_ROLE = "callback"


class CallbackSource(StrEnum):
    ABANDONED = "abandoned"
    QUEUE_TIMEOUT = "queue-timeout"
    QUEUE_FULL = "queue-full"
    QUEUE_EMPTY = "queue-empty"
    OUT_OF_HOURS = "out-of-hours"
    REQUESTED = "requested"  # the caller chose "call me back" in the IVR


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"  # the callback reached the caller
    CALLER_GOT_THROUGH = "caller-got-through"
    FAILED = "failed"  # max attempts without reaching the caller


class AttemptOutcome(StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no-answer"
    BUSY = "busy"
    FAILED = "failed"  # the call could not be placed (OriginateResponse Failure, congestion …)


class CallbackError(Exception):
    pass


class UnknownTask(CallbackError, LookupError):
    def __init__(self, task_id: str) -> None:
        super().__init__(f"no callback task {task_id!r}")


class TaskNotOpen(CallbackError):
    def __init__(self, task_id: str, status: TaskStatus) -> None:
        super().__init__(f"callback task {task_id} is {status}, not open")


class NotACallbackAgent(CallbackError):
    def __init__(self, extension: str) -> None:
        super().__init__(f"agent {extension} does not have the {CALLBACK_ROLE!r} role")


@dataclass(frozen=True, slots=True)
class CallbackPolicy:
    """``delays_seconds[i]`` is the wait before attempt i+1 (the first from the missed call); attempts
    past the end of the tuple use its last value."""

    delays_seconds: tuple[int, ...] = (0, 600, 1800)
    max_attempts: int = 3
    crisis_priority: int = 10

    def __post_init__(self) -> None:
        if not self.delays_seconds or any(d < 0 for d in self.delays_seconds):
            raise ValueError("delays_seconds needs at least one non-negative delay")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def delay_before(self, attempt: int) -> timedelta:
        """The delay before attempt number ``attempt`` (1-based)."""
        index = min(max(attempt, 1), len(self.delays_seconds)) - 1
        return timedelta(seconds=self.delays_seconds[index])


@dataclass(frozen=True, slots=True)
class MissedCall:
    call_id: str
    number: str | None
    source: CallbackSource
    at: datetime
    queue: str | None = None
    language: str | None = None
    crisis: bool = False
    priority: int = 0


@dataclass(frozen=True, slots=True)
class CallbackTask:
    id: str
    number: str  # normalised
    status: TaskStatus
    created_at: datetime
    due_at: datetime
    first_due_at: datetime  # for the on-time KPI
    call_ids: tuple[str, ...]  # every missed call merged into the task, oldest first
    sources: tuple[CallbackSource, ...]
    queue: str | None = None
    language: str | None = None
    crisis: bool = False
    priority: int = 0
    attempts: int = 0
    first_attempt_at: datetime | None = None
    last_outcome: AttemptOutcome | None = None
    assigned_to: str | None = None
    closed_at: datetime | None = None
    answered_call_id: str | None = None  # the caller's own call that got through

    @property
    def call_count(self) -> int:
        return len(self.call_ids)

    @property
    def latest_call_id(self) -> str:
        return self.call_ids[-1]


@dataclass(frozen=True, slots=True)
class CallbackBook:
    tasks: tuple[CallbackTask, ...] = ()
    next_id: int = 1

    def get(self, task_id: str) -> CallbackTask:
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise UnknownTask(task_id)

    def open_task_for(self, number: str | None) -> CallbackTask | None:
        normal = normalise_number(number)
        if normal is None:
            return None
        return next((t for t in self.tasks if t.number == normal and t.status is TaskStatus.OPEN), None)

    def open_tasks(self) -> tuple[CallbackTask, ...]:
        return tuple(t for t in self.tasks if t.status is TaskStatus.OPEN)

    def _with(self, task: CallbackTask) -> CallbackBook:
        return replace(self, tasks=tuple(task if t.id == task.id else t for t in self.tasks))


@dataclass(frozen=True, slots=True)
class CallbackAgent:
    extension: str
    roles: frozenset[str]


_PUNCTUATION = re.compile(r"[\s\-().]")


def normalise_number(number: str | None) -> str | None:
    """The caller number as the key for merging repeat calls, or None when there is nothing to call back.

    Who has no number is :mod:`routing.callerid`'s rule, the IVR's and the reports' too. On top of it,
    spaces, dashes and brackets go (a number typed by a person) and the China country code goes
    (:func:`routing.plan.national_number`, as for blocks), so the same mobile seen through different trunks
    is one caller."""
    if number is None:
        return None
    text = caller_number(_PUNCTUATION.sub("", number))
    return None if text is None else national_number(text) or None


def record_missed_call(
    book: CallbackBook, call: MissedCall, policy: CallbackPolicy
) -> tuple[CallbackBook, CallbackTask | None]:
    """Create or merge the caller's task. Returns the task (None for anonymous callers)."""
    number = normalise_number(call.number)
    if number is None:
        return book, None
    priority = max(call.priority, policy.crisis_priority if call.crisis else call.priority)
    due = call.at + policy.delay_before(1)
    existing = book.open_task_for(number)
    if existing is not None:
        if call.call_id in existing.call_ids:
            return book, existing  # the same call reported twice (replay, reconnect)
        merged = replace(
            existing,
            call_ids=(*existing.call_ids, call.call_id),
            sources=existing.sources if call.source in existing.sources else (*existing.sources, call.source),
            queue=call.queue or existing.queue,
            language=call.language or existing.language,
            crisis=existing.crisis or call.crisis,
            priority=max(existing.priority, priority),
            # A crisis caller is due at once; otherwise a repeat call does not push the callback back.
            due_at=min(existing.due_at, call.at) if call.crisis else existing.due_at,
        )
        return book._with(merged), merged
    task = CallbackTask(
        id=f"cb-{book.next_id}",
        number=number,
        status=TaskStatus.OPEN,
        created_at=call.at,
        due_at=call.at if call.crisis else due,
        first_due_at=call.at if call.crisis else due,
        call_ids=(call.call_id,),
        sources=(call.source,),
        queue=call.queue,
        language=call.language,
        crisis=call.crisis,
        priority=priority,
    )
    return CallbackBook((*book.tasks, task), book.next_id + 1), task


def record_answered_call(
    book: CallbackBook, number: str | None, call_id: str, now: datetime
) -> tuple[CallbackBook, CallbackTask | None]:
    """The caller got through by themselves: their open task (if any) closes. Returns the closed task so
    the adapter can tell the callback agent who holds it."""
    task = book.open_task_for(number)
    if task is None:
        return book, None
    closed = replace(
        task,
        status=TaskStatus.CALLER_GOT_THROUGH,
        closed_at=now,
        answered_call_id=call_id,
        assigned_to=None,
    )
    return book._with(closed), closed


def next_task(book: CallbackBook, now: datetime) -> CallbackTask | None:
    """The task a free callback agent should take now: open, unassigned and due."""
    due = [t for t in book.tasks if t.status is TaskStatus.OPEN and t.assigned_to is None and t.due_at <= now]
    if not due:
        return None
    return min(due, key=lambda t: (not t.crisis, -t.priority, t.due_at, t.created_at, t.id))


def assign_next(
    book: CallbackBook, agent: CallbackAgent, now: datetime
) -> tuple[CallbackBook, CallbackTask | None]:
    """Give ``agent`` the next due task. An agent already holding an open task keeps it (one at a time)."""
    if CALLBACK_ROLE not in agent.roles:
        raise NotACallbackAgent(agent.extension)
    held = next(
        (t for t in book.tasks if t.status is TaskStatus.OPEN and t.assigned_to == agent.extension), None
    )
    if held is not None:
        return book, held
    task = next_task(book, now)
    if task is None:
        return book, None
    assigned = replace(task, assigned_to=agent.extension)
    return book._with(assigned), assigned


def release(book: CallbackBook, task_id: str) -> CallbackBook:
    """The agent gives the task back without trying (logged out, went on break)."""
    task = _open(book, task_id)
    return book._with(replace(task, assigned_to=None))


def record_attempt(
    book: CallbackBook,
    task_id: str,
    outcome: AttemptOutcome,
    now: datetime,
    policy: CallbackPolicy,
) -> tuple[CallbackBook, CallbackTask]:
    """One callback attempt is over. Reached → done; otherwise due again later, or failed at the limit."""
    task = _open(book, task_id)
    attempts = task.attempts + 1
    changes: dict[str, object] = {
        "attempts": attempts,
        "first_attempt_at": task.first_attempt_at or now,
        "last_outcome": outcome,
        "assigned_to": None,
    }
    if outcome is AttemptOutcome.REACHED:
        changes.update(status=TaskStatus.DONE, closed_at=now)
    elif attempts >= policy.max_attempts:
        changes.update(status=TaskStatus.FAILED, closed_at=now)
    else:
        changes.update(due_at=now + policy.delay_before(attempts + 1))
    updated = replace(task, **changes)  # type: ignore[arg-type]
    return book._with(updated), updated


def _open(book: CallbackBook, task_id: str) -> CallbackTask:
    task = book.get(task_id)
    if task.status is not TaskStatus.OPEN:
        raise TaskNotOpen(task_id, task.status)
    return task


def due_tasks(book: CallbackBook, now: datetime) -> tuple[CallbackTask, ...]:
    """Open tasks due by ``now``, in the order they would be assigned (for the wallboard)."""
    due = [t for t in book.tasks if t.status is TaskStatus.OPEN and t.due_at <= now]
    return tuple(sorted(due, key=lambda t: (not t.crisis, -t.priority, t.due_at, t.created_at, t.id)))


def prune_closed(book: CallbackBook, before: datetime) -> CallbackBook:
    """Drop tasks closed before ``before`` (they live on in the database), keeping the book small."""
    kept: Iterable[CallbackTask] = (
        t
        for t in book.tasks
        if t.status is TaskStatus.OPEN or (t.closed_at is not None and t.closed_at >= before)
    )
    return replace(book, tasks=tuple(kept))
