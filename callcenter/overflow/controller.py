"""The overflow controller: the adapter that drives the pure ``routing.overflow.decide`` policy.

Every ``interval`` seconds (a task owned by ``Hotline``) it builds the policy's inputs from the live model —
per queue the callers waiting, the longest wait and the arrivals in the last ``window_seconds``; per seat
whether it takes calls (the agent is a member of its queues), whether it is on a call or ringing — calls
``decide`` with the supervisors' overrides, and applies the decisions over AMI:

- ``OpenSeat``: a seat being closed after its call is unpaused; otherwise the agent is logged in to every
  queue its skills serve (``AgentDesk.log_in``: QueueAdd with the skill/language penalty);
- ``CloseSeat(after_call=True)``: the member is paused (reason ``overflow-closing``) so it takes no new call;
  the seat's current call goes on — a seat is never closed during a call;
- ``CloseSeat``: the agent leaves the queues (QueueRemove).

Every decision is stored (``overflow_decisions``) and published live on topic ``overflow``.

Seats: the plan's agents except the callback seat. Base seats are the first ``seats.base`` agents not in
``seats.standby``; standby seats open in the order ``seats.standby`` lists them, then any other agent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.ami.actions import AmiActions
from callcenter.ami.connection import AmiError
from callcenter.auth.roles import STAFF
from callcenter.desk import AgentDesk
from callcenter.live.model import LiveModel, QueueSnapshot
from callcenter.overflow.models import OverflowDecisionRow
from callcenter.web.hub import LiveHub
from routing.overflow import (
    OpenSeat,
    OverflowDecision,
    OverflowMemory,
    OverflowOutcome,
    OverflowPolicy,
    OverrideAction,
    QueueLoad,
    Seat,
    SeatOverride,
    decide,
)
from routing.plan import HotlinePlan

__all__ = ["OverflowController", "SeatView", "policy_for_plan", "seat_order"]

log = logging.getLogger(__name__)

CLOSING_REASON = "overflow-closing"
BUSY_STATUSES = frozenset({2, 3, 6, 7, 8})  # in use, busy, ringing, ring+in use, on hold


class UnknownSeat(LookupError):
    def __init__(self, extension: str) -> None:
        super().__init__(f"no seat {extension!r}: not an agent of the plan (or the callback seat)")


def policy_for_plan(plan: HotlinePlan, **thresholds: float | int) -> OverflowPolicy:
    """The policy with the plan's seat counts (``seats.base``/``seats.max``, capped by the agents there
    are) and thresholds: the plan's ``seats.overflow``, then ``thresholds`` (tests) over them."""
    seats = len(seat_order(plan)[0])
    maximum = min(plan.seats.maximum, seats) if seats else plan.seats.maximum
    base = min(plan.seats.base, maximum)
    values = {**plan.seats.overflow, **thresholds}
    ints = {"open_waiting", "waiting_step", "close_waiting"}
    typed = {k: int(v) if k in ints else float(v) for k, v in values.items()}
    return OverflowPolicy(base_seats=base, max_seats=maximum, **typed)  # type: ignore[arg-type]


def seat_order(plan: HotlinePlan) -> tuple[list[str], set[str]]:
    """(extensions in opening preference order, the base ones)."""
    callback = plan.seats.callback
    agents = [a.extension for a in plan.agents if a.extension != callback]
    standby = [e for e in plan.seats.standby if e in agents]
    others = [e for e in agents if e not in standby]
    base = set(others[: plan.seats.base])
    rest = [e for e in others if e not in base]
    return [*[e for e in others if e in base], *standby, *rest], base


@dataclass(frozen=True, slots=True)
class SeatView:
    extension: str
    base: bool
    open: bool
    busy: bool
    closing: bool
    opened_at: datetime | None
    override: str | None


class OverflowController:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        hub: LiveHub,
        model: LiveModel,
        plan: Callable[[], HotlinePlan],
        actions: Callable[[], AmiActions | None],
        desk: Callable[[], AgentDesk | None],
        policy: OverflowPolicy,
        *,
        window_seconds: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sessions = sessions
        self._hub = hub
        self._model = model
        self._plan = plan
        self._actions = actions
        self._desk = desk
        self.policy = policy
        self.window_seconds = window_seconds
        self._clock = clock
        self.memory = OverflowMemory()
        self.overrides: dict[str, SeatOverride] = {}
        self._closing: set[str] = set()
        self._opened_at: dict[str, datetime] = {}
        # What we did that the live model may not show yet (QueueMemberAdded/Removed still on the wire).
        self._expect_open: dict[str, float] = {}
        self._expect_closed: dict[str, float] = {}
        self._arrivals: dict[str, deque[float]] = {}
        self._seen_waiting: set[str] = set()
        self._lock = asyncio.Lock()
        self.last: OverflowOutcome | None = None
        self.max_active_seen = 0

    # -- the owned task -------------------------------------------------------------------------------
    async def run(self, interval: float) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("overflow controller tick failed")
            await asyncio.sleep(interval)

    async def tick(self) -> OverflowOutcome | None:
        async with self._lock:
            if self._actions() is None or self._desk() is None:
                return None
            now_ts = self._clock()
            now = datetime.fromtimestamp(now_ts, UTC)
            snapshots = self._model.queue_snapshots()
            loads = self._loads(snapshots, now_ts)
            seats = self._seats(snapshots, now_ts)
            outcome = decide(self.policy, loads, seats, self.memory, now, overrides=self.overrides.values())
            self.memory = outcome.memory
            self.last = outcome
            self.max_active_seen = max(self.max_active_seen, outcome.active_seats)
            for decision in outcome.decisions:
                applied = await self._apply(decision, now, now_ts)
                await self._record(decision, outcome, now, applied)
            return outcome

    # -- supervisor overrides -------------------------------------------------------------------------
    async def override(
        self, extension: str, action: OverrideAction | None, by: str
    ) -> OverflowOutcome | None:
        """Force a seat open or closed (``action``), or release the override (None); decided at once."""
        order, _base = seat_order(self._plan())
        if extension not in order:
            raise UnknownSeat(extension)
        if action is None:
            self.overrides.pop(extension, None)
        else:
            self.overrides[extension] = SeatOverride(extension, action, by)
        what = "release" if action is None else f"override-{action}"
        async with self._sessions() as session, session.begin():
            session.add(
                OverflowDecisionRow(
                    decided_at=datetime.now(UTC),
                    extension=extension,
                    action=what,
                    reason=f"{what} by supervisor {by}",
                    by=by,
                    active_seats=self.last.active_seats if self.last else 0,
                    wanted_seats=self.last.wanted_seats if self.last else 0,
                    predicted_service_level=None,
                    applied=True,
                )
            )
        return await self.tick()

    # -- inputs ---------------------------------------------------------------------------------------
    def _loads(self, snapshots: list[QueueSnapshot], now_ts: float) -> list[QueueLoad]:
        loads = []
        seen_now: set[str] = set()
        for snap in snapshots:
            arrivals = self._arrivals.setdefault(snap.name, deque())
            longest = 0.0
            for caller in snap.waiting:
                seen_now.add(caller.uniqueid)
                if caller.uniqueid not in self._seen_waiting:
                    arrivals.append(now_ts)
                if caller.joined_at is not None:
                    longest = max(longest, now_ts - caller.joined_at.timestamp())
            while arrivals and arrivals[0] < now_ts - self.window_seconds:
                arrivals.popleft()
            loads.append(QueueLoad(snap.name, len(snap.waiting), longest, len(arrivals), self.window_seconds))
        self._seen_waiting = seen_now
        return loads

    def _seats(self, snapshots: list[QueueSnapshot], now_ts: float) -> list[Seat]:
        order, base = seat_order(self._plan())
        member_of: dict[str, bool] = {}
        busy: dict[str, bool] = {}
        for snap in snapshots:
            for m in snap.members:
                ext = m.member_name or m.interface.rsplit("/", 1)[-1]
                member_of[ext] = True
                if m.in_call or (m.status is not None and m.status in BUSY_STATUSES):
                    busy[ext] = True
        seats = []
        for ext in order:
            is_open = member_of.get(ext, False)
            # Our own recent actions win over a model that has not heard of them yet (a few seconds).
            if ext in self._expect_open:
                if is_open or now_ts - self._expect_open[ext] > 5:
                    del self._expect_open[ext]
                is_open = True
            if ext in self._expect_closed:
                if not is_open or now_ts - self._expect_closed[ext] > 5:
                    del self._expect_closed[ext]
                is_open = False
            if not is_open:
                self._closing.discard(ext)
            seats.append(
                Seat(
                    extension=ext,
                    base=ext in base,
                    open=is_open,
                    busy=busy.get(ext, False),
                    opened_at=self._opened_at.get(ext),
                    closing=ext in self._closing,
                )
            )
        return seats

    # -- outputs --------------------------------------------------------------------------------------
    async def _apply(self, decision: OverflowDecision, now: datetime, now_ts: float) -> bool:
        actions, desk = self._actions(), self._desk()
        if actions is None or desk is None:
            return False
        interface = f"PJSIP/{decision.extension}"
        try:
            if isinstance(decision, OpenSeat):
                if decision.extension in self._closing:
                    await actions.queue_pause(interface, False)
                    self._closing.discard(decision.extension)
                else:
                    await desk.log_in(decision.extension)
                    self._opened_at[decision.extension] = now
                    self._expect_open[decision.extension] = now_ts
                    self._expect_closed.pop(decision.extension, None)
            elif decision.after_call:
                await actions.queue_pause(interface, True, reason=CLOSING_REASON)
                self._closing.add(decision.extension)
            else:
                await desk.log_out(decision.extension)
                self._closing.discard(decision.extension)
                self._opened_at.pop(decision.extension, None)
                self._expect_closed[decision.extension] = now_ts
                self._expect_open.pop(decision.extension, None)
        except AmiError as exc:
            log.warning(
                "overflow: %s for seat %s failed: %s", type(decision).__name__, decision.extension, exc
            )
            return False
        return True

    async def _record(
        self, decision: OverflowDecision, outcome: OverflowOutcome, now: datetime, applied: bool
    ) -> None:
        if isinstance(decision, OpenSeat):
            action = "open"
        else:
            action = "close-after-call" if decision.after_call else "close"
        row = OverflowDecisionRow(
            decided_at=now,
            extension=decision.extension,
            action=action,
            reason=decision.reason,
            by=None,
            active_seats=outcome.active_seats,
            wanted_seats=outcome.wanted_seats,
            predicted_service_level=outcome.predicted_service_level,
            applied=applied,
        )
        async with self._sessions() as session, session.begin():
            session.add(row)
        if self._hub.subscribers:
            self._hub.publish(
                "overflow",
                {
                    "extension": decision.extension,
                    "action": action,
                    "reason": decision.reason,
                    "active_seats": outcome.active_seats,
                    "wanted_seats": outcome.wanted_seats,
                    "predicted_service_level": outcome.predicted_service_level,
                    "applied": applied,
                    "at": now,
                },
                roles=STAFF,
            )

    # -- what the pages show --------------------------------------------------------------------------
    def seat_views(self) -> list[SeatView]:
        seats = self._seats(self._model.queue_snapshots(), self._clock())
        views = []
        for seat in seats:
            override = self.overrides.get(seat.extension)
            views.append(
                SeatView(
                    seat.extension,
                    seat.base,
                    seat.open,
                    seat.busy,
                    seat.closing,
                    seat.opened_at,
                    None if override is None else str(override.action),
                )
            )
        return views

    def policy_dict(self) -> dict[str, object]:
        return asdict(self.policy)

    def with_policy(self, **changes: float | int) -> None:
        self.policy = replace(self.policy, **changes)  # type: ignore[arg-type]


async def recent_decisions(
    sessions: async_sessionmaker[AsyncSession], limit: int = 50
) -> list[OverflowDecisionRow]:
    async with sessions() as session:
        rows = (
            await session.scalars(
                select(OverflowDecisionRow).order_by(OverflowDecisionRow.id.desc()).limit(limit)
            )
        ).all()
    return list(rows)
