"""Overflow seats: when to open more seats than the 8 base seats (up to 20) and when to close them again.

A pure policy. The adapter calls ``decide`` on a timer (every few seconds) and on queue events, with a
snapshot of the queues and seats, the policy's own ``OverflowMemory`` from the previous call, and ``now``;
it executes the decisions and keeps the returned memory for next time.

Opening (any trigger, evaluated as "how many overflow seats does this load want"):

- waiting callers: ``open_waiting`` callers want the first overflow seat, every ``waiting_step`` more
  callers one more seat (a staircase: a load that hovers at a threshold wants the same count every time);
- longest wait: ``open_longest_wait_seconds`` wants the first seat, every ``longest_wait_step_seconds`` more
  one more seat;
- predicted service level (Erlang C, below): the fewest seats whose predicted service level reaches
  ``target_service_level``.

Seats open when the wanted count is above the active count, at most one opening step per
``open_cooldown_seconds`` (a new seat needs a moment before the figures show its effect).

Closing needs *sustained* low load, a different and lower bar than opening (hysteresis): at most
``close_waiting`` callers waiting, longest wait at most ``close_longest_wait_seconds``, the service level
predicted with one seat *fewer* still at least ``close_service_level``, and the measured recent service level
(when given) at least the target, all continuously for ``low_load_seconds``. Then one overflow seat
closes: never a base seat (only a supervisor closes those), never one open for less than
``min_open_seconds``, never one that a supervisor forced open; an idle one before a busy one; a busy
one is closed *after its call*
(``CloseSeat(after_call=True)``: the adapter pauses it in app_queue and marks the seat ``closing``; the
next ``decide`` after its call emits the plain ``CloseSeat``). Each close restarts the low-load clock, so
seats step down one per ``low_load_seconds``.

Supervisor overrides win until released (removed from the input): a forced-open seat is opened and never
closed by the policy, a forced-closed seat is closed (after its call) and never opened by it.
Invariants: never more than ``max_seats`` active seats, never fewer than ``base_seats`` while enough seats
exist (a forced close of a base seat is made up by opening another seat).

Predicted service level — Erlang C (A. K. Erlang, 1917; the M/M/N queue):

    A = λ × AHT                                   offered traffic in Erlangs
    B(0) = 1,  B(k) = A·B(k−1) / (k + A·B(k−1))    Erlang B by its stable recursion
    C(N, A) = N·B(N) / (N − A·(1 − B(N)))          probability that a caller waits (N > A; else 1)
    SL(t) = 1 − C(N, A) · e^(−(N − A)·t / AHT)     share of callers answered within t seconds

λ is the arrival rate (calls that entered the queues in the last window / window length), AHT the average
handle time (talk + wrap-up), N the active seats, t ``answer_within_seconds``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

# ------------------------------------------------------------------------------------------- Erlang C


def erlang_c(traffic_erlangs: float, seats: int) -> float:
    """Probability that a caller has to wait, C(N, A). 1.0 when the seats cannot carry the traffic."""
    if traffic_erlangs <= 0:
        return 0.0
    if seats <= traffic_erlangs:
        return 1.0
    b = 1.0
    for k in range(1, seats + 1):
        b = traffic_erlangs * b / (k + traffic_erlangs * b)
    return seats * b / (seats - traffic_erlangs * (1 - b))


def predicted_service_level(
    arrivals_per_second: float, aht_seconds: float, seats: int, answer_within_seconds: float
) -> float:
    """Erlang C service level: the share of callers answered within ``answer_within_seconds``."""
    traffic = arrivals_per_second * aht_seconds
    if traffic <= 0:
        return 1.0
    if seats <= traffic:
        return 0.0
    waiting = erlang_c(traffic, seats)
    return 1.0 - waiting * math.exp(-(seats - traffic) * answer_within_seconds / aht_seconds)


def seats_for_service_level(
    arrivals_per_second: float,
    aht_seconds: float,
    target: float,
    answer_within_seconds: float,
    *,
    at_least: int = 0,
    at_most: int = 1000,
) -> int | None:
    """The fewest seats in ``at_least..at_most`` reaching ``target``; None if even ``at_most`` cannot."""
    for seats in range(max(0, at_least), at_most + 1):
        if predicted_service_level(arrivals_per_second, aht_seconds, seats, answer_within_seconds) >= target:
            return seats
    return None


# ---------------------------------------------------------------------------------------------- inputs


class PolicyError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class OverflowPolicy:
    base_seats: int = 8
    max_seats: int = 20
    open_waiting: int = 3
    waiting_step: int = 2
    open_longest_wait_seconds: float = 60.0
    longest_wait_step_seconds: float = 30.0
    target_service_level: float = 0.8
    answer_within_seconds: float = 20.0
    aht_seconds: float = 300.0  # ~4.2 min talk (the seeds' figure) + wrap-up
    close_waiting: int = 0
    close_longest_wait_seconds: float = 10.0
    close_service_level: float = 0.9
    low_load_seconds: float = 300.0
    min_open_seconds: float = 600.0
    open_cooldown_seconds: float = 30.0

    def __post_init__(self) -> None:
        if not 0 <= self.base_seats <= self.max_seats:
            raise PolicyError(f"need 0 <= base_seats ({self.base_seats}) <= max_seats ({self.max_seats})")
        if self.open_waiting < 1 or self.waiting_step < 1:
            raise PolicyError("open_waiting and waiting_step must be at least 1")
        if self.close_waiting >= self.open_waiting:
            raise PolicyError("close_waiting must be below open_waiting, or seats would flap")
        if self.close_longest_wait_seconds >= self.open_longest_wait_seconds:
            raise PolicyError("close_longest_wait_seconds must be below open_longest_wait_seconds")
        if self.longest_wait_step_seconds <= 0 or self.aht_seconds <= 0:
            raise PolicyError("longest_wait_step_seconds and aht_seconds must be positive")
        if not 0 < self.target_service_level <= self.close_service_level <= 1:
            raise PolicyError("need 0 < target_service_level <= close_service_level <= 1")


@dataclass(frozen=True, slots=True)
class QueueLoad:
    """One queue right now: callers waiting, the longest of their waits, and how many calls entered the
    queue in the last ``window_seconds``."""

    queue: str
    waiting: int
    longest_wait_seconds: float
    arrivals: int
    window_seconds: float


@dataclass(frozen=True, slots=True)
class Seat:
    extension: str
    base: bool
    open: bool
    busy: bool = False
    opened_at: datetime | None = None  # None: open since before the service knew (treated as long open)
    closing: bool = False  # a CloseSeat(after_call=True) is pending: takes no new calls


class OverrideAction(StrEnum):
    OPEN = "open"
    CLOSE = "close"


@dataclass(frozen=True, slots=True)
class SeatOverride:
    extension: str
    action: OverrideAction
    by: str


@dataclass(frozen=True, slots=True)
class OverflowMemory:
    """What the policy must remember between calls; start with ``OverflowMemory()``."""

    low_since: datetime | None = None
    last_open_at: datetime | None = None


# --------------------------------------------------------------------------------------------- outputs


@dataclass(frozen=True, slots=True)
class OpenSeat:
    """Make the seat take calls: QueueAdd (or unpause) its agent; also cancels a pending close."""

    extension: str
    reason: str


@dataclass(frozen=True, slots=True)
class CloseSeat:
    """Stop the seat taking calls. ``after_call``: the seat is on a call; pause it now, mark it closing,
    and a later ``decide`` emits the final ``CloseSeat`` once the call is over."""

    extension: str
    reason: str
    after_call: bool = False


OverflowDecision = OpenSeat | CloseSeat


@dataclass(frozen=True, slots=True)
class OverflowOutcome:
    decisions: tuple[OverflowDecision, ...]
    memory: OverflowMemory
    active_seats: int  # after the decisions
    wanted_seats: int  # what the load asks for (before cooldown and limits)
    predicted_service_level: float  # with the active seats after the decisions
    notes: tuple[str, ...] = ()  # things a supervisor should know (an override that cannot apply)


@dataclass(frozen=True, slots=True)
class _Load:
    waiting: int
    longest_wait_seconds: float
    arrivals_per_second: float


def _aggregate(loads: Iterable[QueueLoad]) -> _Load:
    # Seats serve every queue, so the policy looks at the hotline as a whole.
    waiting, longest, rate = 0, 0.0, 0.0
    for load in loads:
        waiting += max(0, load.waiting)
        longest = max(longest, load.longest_wait_seconds)
        if load.window_seconds > 0:
            rate += max(0, load.arrivals) / load.window_seconds
    return _Load(waiting, longest, rate)


# -------------------------------------------------------------------------------------------- decide


def decide(
    policy: OverflowPolicy,
    loads: Iterable[QueueLoad],
    seats: Sequence[Seat],
    memory: OverflowMemory,
    now: datetime,
    *,
    overrides: Iterable[SeatOverride] = (),
    recent_service_level: float | None = None,
    aht_seconds: float | None = None,
) -> OverflowOutcome:
    """Decisions for this moment. ``seats`` in preference order (the first closed seat opens first);
    ``aht_seconds`` (measured) replaces the policy's figure when given."""
    load = _aggregate(loads)
    aht = aht_seconds if aht_seconds is not None and aht_seconds > 0 else policy.aht_seconds
    forced: dict[str, SeatOverride] = {o.extension: o for o in overrides}
    # The working view: which seats take calls after the decisions made so far.
    active = {s.extension: s.open and not s.closing for s in seats}
    decisions: list[OverflowDecision] = []
    notes: list[str] = []

    def active_count() -> int:
        return sum(active.values())

    def open_seat(seat: Seat, reason: str) -> None:
        active[seat.extension] = True
        decisions.append(OpenSeat(seat.extension, reason))

    def close_seat(seat: Seat, reason: str) -> None:
        active[seat.extension] = False
        decisions.append(CloseSeat(seat.extension, reason, after_call=seat.busy))

    def is_forced(seat: Seat, action: OverrideAction) -> bool:
        override = forced.get(seat.extension)
        return override is not None and override.action is action

    # 1. Seats marked to close whose call is over: finish closing (unless a supervisor wants them open).
    for seat in seats:
        if seat.open and seat.closing and not seat.busy and not is_forced(seat, OverrideAction.OPEN):
            decisions.append(CloseSeat(seat.extension, "call over: closing as decided"))

    # 2. Supervisor overrides.
    for seat in seats:
        override = forced.get(seat.extension)
        if override is None:
            continue
        if override.action is OverrideAction.CLOSE and active[seat.extension]:
            close_seat(seat, f"closed by supervisor {override.by}")
        elif override.action is OverrideAction.OPEN and not active[seat.extension]:
            if active_count() >= policy.max_seats:
                notes.append(
                    f"seat {seat.extension}: opening asked by {override.by} waits: "
                    f"{policy.max_seats} seats (the maximum) are open"
                )
                continue
            open_seat(seat, f"opened by supervisor {override.by}")

    def closed_candidates() -> list[Seat]:
        found = [s for s in seats if not active[s.extension] and not is_forced(s, OverrideAction.CLOSE)]
        return sorted(found, key=lambda s: not s.base)  # base seats first, then the given order

    # 3. The floor: the base seats are always staffed.
    for seat in closed_candidates():
        if active_count() >= policy.base_seats:
            break
        open_seat(seat, f"keep the {policy.base_seats} base seats open")

    # 4. Load.
    wanted = _wanted_seats(policy, load, aht)
    opened_now = False
    cooling = (
        memory.last_open_at is not None
        and (now - memory.last_open_at).total_seconds() < policy.open_cooldown_seconds
    )
    if wanted > active_count() and not cooling:
        reason = _open_reason(policy, load, aht, active_count())
        for seat in closed_candidates():
            if active_count() >= min(wanted, policy.max_seats):
                break
            open_seat(seat, reason)
            opened_now = True

    # 5. Sustained low load closes one seat.
    low = not opened_now and _is_low(policy, load, aht, active_count(), recent_service_level)
    low_since = (memory.low_since or now) if low else None
    if low and low_since is not None and (now - low_since).total_seconds() >= policy.low_load_seconds:
        victim = _seat_to_close(policy, seats, active, forced, now)
        if victim is not None:
            held = (now - low_since).total_seconds()
            close_seat(
                victim,
                f"low load for {held:.0f} s: {load.waiting} waiting, longest wait "
                f"{load.longest_wait_seconds:.0f} s; {active_count() - 1} seats are enough",
            )
            low_since = now  # the next seat needs another full period of low load

    last_open_at = now if opened_now else memory.last_open_at
    seats_now = active_count()
    return OverflowOutcome(
        decisions=tuple(decisions),
        memory=OverflowMemory(low_since=low_since, last_open_at=last_open_at),
        active_seats=seats_now,
        wanted_seats=wanted,
        predicted_service_level=predicted_service_level(
            load.arrivals_per_second, aht, seats_now, policy.answer_within_seconds
        ),
        notes=tuple(notes),
    )


def _wanted_seats(policy: OverflowPolicy, load: _Load, aht: float) -> int:
    """Base seats plus the overflow seats the load asks for, capped at the maximum."""
    by_waiting = 0
    if load.waiting >= policy.open_waiting:
        by_waiting = 1 + (load.waiting - policy.open_waiting) // policy.waiting_step
    by_wait = 0
    if load.longest_wait_seconds >= policy.open_longest_wait_seconds:
        excess = load.longest_wait_seconds - policy.open_longest_wait_seconds
        by_wait = 1 + int(excess // policy.longest_wait_step_seconds)
    by_sl = (
        seats_for_service_level(
            load.arrivals_per_second,
            aht,
            policy.target_service_level,
            policy.answer_within_seconds,
            at_least=policy.base_seats,
            at_most=policy.max_seats,
        )
        or policy.max_seats
    ) - policy.base_seats
    return min(policy.max_seats, policy.base_seats + max(by_waiting, by_wait, by_sl))


def _open_reason(policy: OverflowPolicy, load: _Load, aht: float, seats: int) -> str:
    parts: list[str] = []
    if load.waiting >= policy.open_waiting:
        parts.append(f"{load.waiting} callers waiting (opens at {policy.open_waiting})")
    if load.longest_wait_seconds >= policy.open_longest_wait_seconds:
        parts.append(
            f"longest wait {load.longest_wait_seconds:.0f} s "
            f"(opens at {policy.open_longest_wait_seconds:.0f} s)"
        )
    sl = predicted_service_level(load.arrivals_per_second, aht, seats, policy.answer_within_seconds)
    if sl < policy.target_service_level:
        parts.append(
            f"predicted service level {sl:.0%} with {seats} seats "
            f"(target {policy.target_service_level:.0%} within {policy.answer_within_seconds:.0f} s)"
        )
    return "; ".join(parts)


def _is_low(
    policy: OverflowPolicy, load: _Load, aht: float, seats: int, recent_service_level: float | None
) -> bool:
    if load.waiting > policy.close_waiting:
        return False
    if load.longest_wait_seconds > policy.close_longest_wait_seconds:
        return False
    if recent_service_level is not None and recent_service_level < policy.target_service_level:
        return False
    fewer = predicted_service_level(load.arrivals_per_second, aht, seats - 1, policy.answer_within_seconds)
    return fewer >= policy.close_service_level


def _seat_to_close(
    policy: OverflowPolicy,
    seats: Sequence[Seat],
    active: dict[str, bool],
    forced: dict[str, SeatOverride],
    now: datetime,
) -> Seat | None:
    if sum(active.values()) <= policy.base_seats:
        return None

    def open_long_enough(seat: Seat) -> bool:
        if seat.opened_at is None:
            return True
        return (now - seat.opened_at).total_seconds() >= policy.min_open_seconds

    candidates = [
        s
        for s in seats
        if active[s.extension]
        and not s.base  # base seats are the normal staffing: only supervisors close them
        and s.extension not in forced  # a forced-open seat stays; a forced-closed one is not active
        and open_long_enough(s)
    ]
    if not candidates:
        return None
    # Idle before busy, then the longest open first.
    return min(candidates, key=lambda s: (s.busy, s.opened_at or datetime.min.replace(tzinfo=now.tzinfo)))
