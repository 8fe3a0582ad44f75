"""The crisis fast path: a crisis call jumps the queue, supervisors are alerted, 110 is one action away.

Marked two ways: the IVR's crisis option (``HOTLINE_ACTION=crisis`` seen as a ``VarSet``; the IVR has
already set the crisis priority for ``Queue()``) or an agent's / supervisor's panel button
(:meth:`CrisisService.mark`: a caller still waiting is given the plan's ``crisis_priority`` with AMI
``QueueChangePriorityCaller``). Either way the call is flagged high risk (``call_risk``) and an alert goes
to supervisors on topic ``crisis-alert``. :meth:`CrisisService.police` transfers the caller to 110
(blind) or has the agent consult 110 first (attended), and records it on the flag.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.ami.actions import AmiActions
from callcenter.ami.connection import AmiError
from callcenter.ami.events import AmiEvent, VarSet
from callcenter.auth.roles import SUPERVISORS
from callcenter.crisis.models import CallRiskRow
from callcenter.db.jobs import OrderedWrites
from callcenter.live.model import LiveModel
from callcenter.transfers.service import CallNotLive, NoPbx, TransferMode, TransferOut, TransferService
from callcenter.web.hub import LiveHub
from callcenter.workorders.service import WorkOrderService
from routing.plan import HotlinePlan

__all__ = ["CrisisMark", "CrisisService", "risk_of"]

log = logging.getLogger(__name__)

HIGH = "high"
POLICE = "110"


@dataclass(frozen=True, slots=True)
class CrisisMark:
    linkedid: str
    risk_level: str
    source: str
    marked_by: str | None
    marked_at: datetime
    reprioritised: bool  # a waiting caller was moved to the crisis priority


async def risk_of(sessions: async_sessionmaker[AsyncSession], linkedid: str) -> CallRiskRow | None:
    """The call's risk flag, if any (for the call detail and the work order)."""
    async with sessions() as session:
        return await session.get(CallRiskRow, linkedid)


class CrisisService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        hub: LiveHub,
        model: LiveModel,
        plan: Callable[[], HotlinePlan],
        actions: Callable[[], AmiActions | None],
        transfers: TransferService,
        *,
        work_orders: WorkOrderService | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = sessions
        self._hub = hub
        self._model = model
        self._plan = plan
        self._actions = actions
        self._transfers = transfers
        self._work_orders = work_orders
        self._clock = clock
        self._marked: set[str] = set()
        self._jobs = OrderedWrites("crisis marks")  # in order; held while PostgreSQL is away

    def is_crisis(self, linkedid: str) -> bool:
        return linkedid in self._marked

    async def run(self) -> None:
        """The owned task: the marks' database writes, in order."""
        await self._jobs.run()

    async def drained(self) -> None:
        await self._jobs.drained()

    # -- the IVR's crisis option ----------------------------------------------------------------------
    def on_event(self, event: AmiEvent) -> None:
        if (
            isinstance(event, VarSet)
            and event.variable == "HOTLINE_ACTION"
            and event.value == "crisis"
            and event.channel is not None
        ):
            linkedid = event.channel.linkedid
            if linkedid in self._marked:
                return
            mark = CrisisMark(linkedid, HIGH, "ivr", None, self._clock(), False)
            self._marked.add(linkedid)

            async def write() -> None:
                await self._store(mark)

            self._jobs.put(write)
            self._alert(mark, event.channel.caller_id_num)

    # -- the panel button -----------------------------------------------------------------------------
    async def mark(self, linkedid: str, by: str | None) -> CrisisMark:
        record = self._model.call(linkedid)
        if record is None:
            raise CallNotLive(linkedid)
        reprioritised = False
        waiting = self._waiting(linkedid)
        if waiting is not None:
            actions = self._actions()
            if actions is None:
                raise NoPbx("no AMI link is configured")
            queue, channel = waiting
            try:
                await actions.ami.send_action(
                    [
                        ("Action", "QueueChangePriorityCaller"),
                        ("Queue", queue),
                        ("Caller", channel),
                        ("Priority", str(self._plan().crisis_priority)),
                    ],
                    as_list=False,
                )
                reprioritised = True
            except AmiError as exc:  # answered meanwhile: the flag and the alert still matter
                log.warning("crisis %s: could not raise the queue priority: %s", linkedid, exc)
        mark = CrisisMark(linkedid, HIGH, "panel", by, self._clock(), reprioritised)
        first = linkedid not in self._marked
        self._marked.add(linkedid)
        await self._store(mark)
        if first or reprioritised:
            self._alert(mark, record.caller_number)
        return mark

    async def police(self, linkedid: str, mode: TransferMode, by: str | None) -> TransferOut:
        """Link the caller to 110: the call is flagged (if it was not) and transferred."""
        if linkedid not in self._marked:
            await self.mark(linkedid, by)
        out = await self._transfers.transfer(linkedid, POLICE, mode, by)
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(CallRiskRow)
                .where(CallRiskRow.linkedid == linkedid)
                .values(police_at=out.requested_at, police_mode=str(mode))
            )
        self._hub.publish(
            "crisis-alert",
            {"linkedid": linkedid, "event": "police", "mode": str(mode), "by": by, "at": out.requested_at},
            roles=SUPERVISORS,
        )
        return out

    # -- helpers --------------------------------------------------------------------------------------
    def _waiting(self, linkedid: str) -> tuple[str, str] | None:
        for snapshot in self._model.queue_snapshots():
            for caller in snapshot.waiting:
                if caller.linkedid == linkedid:
                    return snapshot.name, caller.channel
        return None

    async def _store(self, mark: CrisisMark) -> None:
        values = {
            "linkedid": mark.linkedid,
            "risk_level": mark.risk_level,
            "source": mark.source,
            "marked_by": mark.marked_by,
            "marked_at": mark.marked_at,
        }
        stmt = insert(CallRiskRow).values(**values).on_conflict_do_nothing(index_elements=["linkedid"])
        work_orders = self._work_orders
        raised = None
        async with self._sessions() as session, session.begin():
            await session.execute(stmt)
            if work_orders is not None:  # a draft made later starts at crisis risk (risk_of)
                actor = mark.marked_by or mark.source  # "ivr": the caller chose the crisis option
                raised = await work_orders.raise_to_crisis(session, mark.linkedid, actor=actor)
        if work_orders is not None and raised is not None:
            work_orders.announce(raised)

    def _alert(self, mark: CrisisMark, caller_number: str | None) -> None:
        record = self._model.call(mark.linkedid)
        self._hub.publish(
            "crisis-alert",
            {
                "linkedid": mark.linkedid,
                "event": "marked",
                "source": mark.source,
                "by": mark.marked_by,
                "at": mark.marked_at,
                "caller_number": caller_number,
                "queue": record.queue if record else None,
                "agent": record.agent if record else None,
            },
            roles=SUPERVISORS,
        )
