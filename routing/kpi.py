"""Contact-centre KPIs over plain call facts. Every function returns None when its figure is undefined (no
calls to divide by), never raises ZeroDivisionError.

Definitions follow the usual contact-centre literature (ICMI; B. Cleveland, *Call Center Management on
Fast Forward*); where the industry has several variants the docstring says which one this is and why.

Vocabulary:
- *answered*: an agent took the call (AgentConnect);
- *abandoned*: the caller hung up while queued; a *short abandon* (waited less than
  ``short_abandon_seconds``, default 5 s) is a misdial or an instant change of mind and is left out of
  offered, abandoned and service level alike;
- *timed out*: the queue gave up on the caller (QUEUESTATUS TIMEOUT, FULL, JOINEMPTY, LEAVEEMPTY …);
- *callback*: the caller took the queue's callback offer (pressed 1) and left with a booked callback — not
  an abandon (the hotline promised to call back), but not answered either;
- *offered* = answered + abandoned (not short) + timed out + callback.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from routing.callbacks import CallbackTask, TaskStatus

DEFAULT_SHORT_ABANDON_SECONDS = 5.0
DEFAULT_ANSWER_WITHIN_SECONDS = 20.0


class CallOutcome(StrEnum):
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    TIMED_OUT = "timed-out"
    CALLBACK = "callback"  # left the queue with a booked callback (the in-queue offer)


class Rating(StrEnum):
    """The post-call survey's answers (满意 / 基本满意 / 不满意)."""

    SATISFIED = "satisfied"
    FAIRLY_SATISFIED = "fairly-satisfied"
    DISSATISFIED = "dissatisfied"


@dataclass(frozen=True, slots=True)
class CallFact:
    """One queued call. Times in seconds; talk and wrap-up only for answered calls."""

    outcome: CallOutcome
    wait_seconds: float
    talk_seconds: float = 0.0
    wrapup_seconds: float = 0.0
    rating: Rating | None = None


@dataclass(frozen=True, slots=True)
class AgentTimeFact:
    """One agent over a period: time handling calls (talk + wrap-up) and time ready and waiting for one
    (ringing counts as waiting). Paused and logged-out time is not in either."""

    handling_seconds: float
    idle_seconds: float


@dataclass(frozen=True, slots=True)
class CallbackFact:
    due_at: datetime
    first_attempt_at: datetime | None
    cancelled: bool = False  # closed before any attempt because the caller got through


def _is_short_abandon(call: CallFact, short_abandon_seconds: float) -> bool:
    return call.outcome is CallOutcome.ABANDONED and call.wait_seconds < short_abandon_seconds


def _ratio(numerator: float, denominator: float) -> float | None:
    return None if denominator <= 0 else numerator / denominator


def answered(calls: Iterable[CallFact]) -> int:
    """Calls an agent answered."""
    return sum(1 for c in calls if c.outcome is CallOutcome.ANSWERED)


def abandoned(calls: Iterable[CallFact], short_abandon_seconds: float = DEFAULT_SHORT_ABANDON_SECONDS) -> int:
    """Callers who hung up while queued, short abandons excluded."""
    return sum(
        1
        for c in calls
        if c.outcome is CallOutcome.ABANDONED and not _is_short_abandon(c, short_abandon_seconds)
    )


def short_abandoned(
    calls: Iterable[CallFact], short_abandon_seconds: float = DEFAULT_SHORT_ABANDON_SECONDS
) -> int:
    """Short abandons, reported apart so that excluding them stays visible."""
    return sum(1 for c in calls if _is_short_abandon(c, short_abandon_seconds))


def timed_out(calls: Iterable[CallFact]) -> int:
    """Calls the queue gave up on (timeout, full, empty)."""
    return sum(1 for c in calls if c.outcome is CallOutcome.TIMED_OUT)


def callbacks_booked(calls: Iterable[CallFact]) -> int:
    """Callers who left the queue with a booked callback (virtual hold): reported apart, neither answered
    nor abandoned."""
    return sum(1 for c in calls if c.outcome is CallOutcome.CALLBACK)


def offered(calls: Iterable[CallFact], short_abandon_seconds: float = DEFAULT_SHORT_ABANDON_SECONDS) -> int:
    """Offered = answered + abandoned + timed out + callback, short abandons excluded (ICMI: calls offered
    are the calls that reached the queue; short abandons are commonly removed as never real demand)."""
    return sum(1 for c in calls if not _is_short_abandon(c, short_abandon_seconds))


def service_level(
    calls: Iterable[CallFact],
    answer_within_seconds: float = DEFAULT_ANSWER_WITHIN_SECONDS,
    short_abandon_seconds: float = DEFAULT_SHORT_ABANDON_SECONDS,
) -> float | None:
    """Share of calls answered within T seconds (wait ≤ T).

    Variant: answered within T / (answered + unanswered after T) — ICMI's "formula #4" (ICMI Queue Tips,
    "Service Level Calculations"): a caller who abandons *before* T gave us no chance to meet the target
    and counts neither way; one who abandons, or whom the queue drops, *after* T counts against us.
    Timed-out calls and callers who took a callback are treated like abandons (the caller left the queue
    unanswered; the callback is measured by :func:`callbacks_on_time`). app_queue's own
    ``ServicelevelPerf`` (answered in T / answered) ignores abandons and reads higher; its
    ``ServicelevelPerf2`` counts early abandons in favour."""
    within = total = 0
    for c in calls:
        if c.outcome is CallOutcome.ANSWERED:
            total += 1
            within += c.wait_seconds <= answer_within_seconds
        elif c.wait_seconds > answer_within_seconds and not _is_short_abandon(c, short_abandon_seconds):
            total += 1
    return _ratio(within, total)


def average_speed_of_answer(calls: Iterable[CallFact]) -> float | None:
    """ASA = total queue wait of answered calls / answered calls (seconds). Abandoned calls' waits are not
    in it (they are in the abandon figures)."""
    waits = [c.wait_seconds for c in calls if c.outcome is CallOutcome.ANSWERED]
    return _ratio(sum(waits), len(waits))


def average_handle_time(calls: Iterable[CallFact]) -> float | None:
    """AHT = (talk + wrap-up) / answered calls (seconds). Hold time is part of talk here: app_queue's
    TalkTime runs from connect to hang-up."""
    handled = [c.talk_seconds + c.wrapup_seconds for c in calls if c.outcome is CallOutcome.ANSWERED]
    return _ratio(sum(handled), len(handled))


def abandon_rate(
    calls: Iterable[CallFact], short_abandon_seconds: float = DEFAULT_SHORT_ABANDON_SECONDS
) -> float | None:
    """Abandon rate = abandoned / offered, both without short abandons."""
    items = list(calls)
    return _ratio(abandoned(items, short_abandon_seconds), offered(items, short_abandon_seconds))


def occupancy(agents: Iterable[AgentTimeFact]) -> float | None:
    """Occupancy = handling time / (handling time + ready-idle time): the share of their available time
    agents spent on calls (ICMI). Paused time is outside both, unlike "utilisation"."""
    handling = idle = 0.0
    for a in agents:
        handling += a.handling_seconds
        idle += a.idle_seconds
    return _ratio(handling, handling + idle)


def callbacks_on_time(
    callbacks: Iterable[CallbackFact], now: datetime, grace_seconds: float = 0.0
) -> float | None:
    """Share of callbacks whose first attempt came by their due time (+ grace).

    Counted: every callback attempted, and every one not yet attempted whose due time + grace has passed
    (already late). Not counted: those not yet due, and those cancelled before any attempt because the
    caller got through."""
    grace = timedelta(seconds=grace_seconds)
    on_time = total = 0
    for cb in callbacks:
        if cb.first_attempt_at is not None:
            total += 1
            on_time += cb.first_attempt_at <= cb.due_at + grace
        elif not cb.cancelled and now > cb.due_at + grace:
            total += 1
    return _ratio(on_time, total)


def callback_fact(task: CallbackTask) -> CallbackFact:
    """A callback task as a KPI fact: measured against the first due time it was given."""
    cancelled = task.status is TaskStatus.CALLER_GOT_THROUGH and task.first_attempt_at is None
    return CallbackFact(task.first_due_at, task.first_attempt_at, cancelled)


def satisfaction_rate(calls: Iterable[CallFact], *, fairly_counts: bool = True) -> float | None:
    """Satisfied / rated calls. Calls without a survey answer are left out. "Fairly satisfied" counts as
    satisfied by default, as the 12355 centres report their satisfaction figure (满意率 = 满意 + 基本满意)."""
    good = {Rating.SATISFIED, Rating.FAIRLY_SATISFIED} if fairly_counts else {Rating.SATISFIED}
    rated = [c.rating for c in calls if c.rating is not None]
    return _ratio(sum(1 for r in rated if r in good), len(rated))


@dataclass(frozen=True, slots=True)
class KpiSummary:
    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    timed_out: int
    service_level: float | None
    average_speed_of_answer: float | None
    average_handle_time: float | None
    abandon_rate: float | None
    satisfaction_rate: float | None
    callbacks_booked: int = 0  # left the queue with a booked callback (in offered, not in abandoned)


def summarise(
    calls: Iterable[CallFact],
    *,
    answer_within_seconds: float = DEFAULT_ANSWER_WITHIN_SECONDS,
    short_abandon_seconds: float = DEFAULT_SHORT_ABANDON_SECONDS,
) -> KpiSummary:
    """The call figures of a period at once (for the wallboard and the reports)."""
    items = list(calls)
    return KpiSummary(
        offered=offered(items, short_abandon_seconds),
        answered=answered(items),
        abandoned=abandoned(items, short_abandon_seconds),
        short_abandoned=short_abandoned(items, short_abandon_seconds),
        timed_out=timed_out(items),
        service_level=service_level(items, answer_within_seconds, short_abandon_seconds),
        average_speed_of_answer=average_speed_of_answer(items),
        average_handle_time=average_handle_time(items),
        abandon_rate=abandon_rate(items, short_abandon_seconds),
        satisfaction_rate=satisfaction_rate(items),
        callbacks_booked=callbacks_booked(items),
    )
