"""Work orders in PostgreSQL: create (or complete the draft), versioned edits, the referral steps, the
escalation sweep, the caller's file. The rules come from :mod:`routing.referral`; this module only loads a
row, asks the rules, writes the new state and the history entry in the same transaction (the row is
locked with ``SELECT … FOR UPDATE``, so two steps on one order never interleave).

Errors are typed (:class:`WorkOrderNotFound`, :class:`WorkOrderHidden` and the rules'
:class:`routing.referral.WorkOrderRuleError`); the web maps them to HTTP.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, SQLColumnExpression, and_, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.callbacks.models import CallbackTaskRow
from callcenter.crisis.models import CallRiskRow
from callcenter.db.jobs import OrderedWrites
from callcenter.db.models import Call
from callcenter.live.model import CallChanged, CallEnded, Change
from callcenter.records import CallRecord
from callcenter.web.hub import LiveHub
from callcenter.workorders.models import WorkOrder, WorkOrderEvent
from routing import referral as rules
from routing.callerid import NUMBER_PATTERN, is_anonymous
from routing.plan import HotlinePlan
from routing.referral import (
    Action,
    DeadlinePolicy,
    Disposition,
    OrderState,
    OrgTree,
    RiskCheck,
    RiskLevel,
    StaleVersion,
    Status,
    Step,
)

log = logging.getLogger(__name__)

DRAFTS_HELD = 10_000  # drafts waiting for the database at most; past it a draft is made when asked for

Clock = Callable[[], datetime]
Publish = Callable[[str, Mapping[str, Any]], None]

# Fields an agent fills in (POST and PATCH); everything else changes only through the referral steps.
PROFILE_FIELDS = ("age_band", "gender", "identity", "region")
EDIT_FIELDS = (
    "service_line",
    "topic",
    "summary",
    "risk_level",
    "risk_checklist",
    "confidential",
    *PROFILE_FIELDS,
)


class WorkOrderNotFound(LookupError):
    code = "not-found"


class WorkOrderHidden(PermissionError):
    """The work order exists but belongs to a unit outside the viewer's subtree."""

    code = "not-your-unit"


class CallNotAnswered(ValueError):
    code = "call-not-answered"


@dataclass(frozen=True, slots=True)
class Scope:
    """What a viewer may see: ``units`` None means every order (centre staff); otherwise only orders
    referred or escalated to one of those units."""

    units: frozenset[str] | None = None

    def allows(self, order: WorkOrder) -> bool:
        return self.units is None or rules.visible_to_unit(order.unit_code, order.escalated_to, self.units)

    def where(self, stmt: Select[Any]) -> Select[Any]:
        if self.units is None:
            return stmt
        units = sorted(self.units)
        return stmt.where(or_(WorkOrder.unit_code.in_(units), WorkOrder.escalated_to.in_(units)))


def anonymous_caller(number: SQLColumnExpression[str | None]) -> ColumnElement[bool]:
    """SQL for :func:`routing.callerid.is_anonymous`: no number stored (the live model keeps none for
    ``<unknown>``) or one that is not digits (``anonymous``, ``Restricted`` … stored as the trunk sent
    them). ``tests/workorders/test_anonymous_callers.py`` holds the two rules to the same answers."""
    return or_(number.is_(None), ~number.regexp_match(NUMBER_PATTERN))


@dataclass(frozen=True, slots=True)
class OrderFilter:
    caller_number: str | None = None
    anonymous: bool | None = None  # True: only anonymous callers' orders; False: only callers with a number
    status: str | None = None
    unit: str | None = None
    overdue_at: datetime | None = None  # only unsettled orders past their deadline at this time
    created_from: datetime | None = None
    created_before: datetime | None = None
    limit: int = 100
    offset: int = 0


@dataclass
class Escalated:
    order_id: int
    from_unit: str | None
    to_unit: str | None
    level: int
    deadline_at: datetime | None


def state_of(order: WorkOrder) -> OrderState:
    return OrderState(
        status=Status(order.status),
        service_line=order.service_line,
        risk=RiskLevel(order.risk_level),
        disposition=None if order.disposition is None else Disposition(order.disposition),
        unit=order.unit_code,
        deadline_at=order.deadline_at,
        escalation_level=order.escalation_level,
        escalated_to=order.escalated_to,
        escalation_due_at=order.escalation_due_at,
        followed_up_at=order.followed_up_at,
        closed_at=order.closed_at,
    )


def _apply_state(order: WorkOrder, state: OrderState) -> None:
    order.status = state.status.value
    order.risk_level = state.risk.value
    order.disposition = None if state.disposition is None else state.disposition.value
    order.unit_code = state.unit
    order.deadline_at = state.deadline_at
    order.escalation_level = state.escalation_level
    order.escalated_to = state.escalated_to
    order.escalation_due_at = state.escalation_due_at
    order.followed_up_at = state.followed_up_at
    order.closed_at = state.closed_at


def policy_for(plan: HotlinePlan | None) -> DeadlinePolicy:
    if plan is None:
        return DeadlinePolicy()
    return DeadlinePolicy(tier_days={t.code: t.deadline_days for t in plan.tiers})


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class WorkOrderService:
    sessions: async_sessionmaker[AsyncSession]
    tree: OrgTree
    policy: DeadlinePolicy = field(default_factory=DeadlinePolicy)
    clock: Clock = _utc_now
    publish: Publish | None = None
    escalation_interval: float = 60.0
    queue_lines: Mapping[str, str] = field(default_factory=dict)  # queue name -> service line
    # drafts of answered calls, written in order and held while PostgreSQL is away
    _drafts: OrderedWrites = field(default_factory=lambda: OrderedWrites("work-order drafts"))
    _seen: OrderedDict[str, None] = field(default_factory=OrderedDict)

    def adopt(self, plan: HotlinePlan, tree: OrgTree) -> None:
        """A new plan was applied: its units (already stored) and its tiers' deadlines from now on."""
        self.tree = tree
        self.policy = policy_for(plan)
        self.queue_lines = {q.name: q.service_line for q in plan.queues}

    # -- the draft on answer -----------------------------------------------------------------------------
    def on_changes(self, changes: list[Change]) -> None:
        """From the composition root's event path: the first time a call shows an answer, its draft is
        queued for :meth:`drafts_forever` (never blocks; past ``DRAFTS_HELD`` waiting, while the database is
        away, the draft is made when asked for: ``GET /api/workorders/by-call/{linkedid}`` or
        ``POST /api/workorders``)."""
        for change in changes:
            if not isinstance(change, CallChanged | CallEnded):
                continue
            record = change.record
            if record.answered_at is None or not record.linkedid or record.linkedid in self._seen:
                continue
            self._seen[record.linkedid] = None
            if len(self._seen) > 20_000:
                self._seen.popitem(last=False)
            if len(self._drafts) >= DRAFTS_HELD:
                log.warning(
                    "%d drafts waiting; the draft of %s will be made when asked for",
                    DRAFTS_HELD,
                    record.linkedid,
                )
                continue
            self._drafts.put(functools.partial(self._write_draft, record))

    async def _write_draft(self, record: CallRecord) -> None:
        await self.draft_from_record(record)

    async def drafts_forever(self) -> None:
        """Write the drafts of answered calls (a task owned by the Hotline)."""
        await self._drafts.run()

    async def drafts_written(self) -> None:
        """Wait until every draft queued so far is written (tests)."""
        await self._drafts.drained()

    async def draft_from_record(self, record: CallRecord) -> int | None:
        """Insert the call's draft unless it has one; returns the new order's id (None: it had one)."""
        async with self.sessions() as session, session.begin():
            order = await self._insert_draft(
                session,
                linkedid=record.linkedid,
                caller_number=record.caller_number,
                queue=record.queue,
                language=record.language,
                agent=record.agent,
                actor="system",
                note="answered",
            )
            return None if order is None else order.id

    async def _insert_draft(
        self,
        session: AsyncSession,
        *,
        linkedid: str,
        caller_number: str | None,
        queue: str | None,
        language: str | None,
        agent: str | None,
        actor: str,
        note: str | None = None,
    ) -> WorkOrder | None:
        """``INSERT … ON CONFLICT DO NOTHING``: the draft on answer, the lazy draft and the agent's form may
        race for one call; exactly one draft is made, with its "create" history entry. The new order, or
        ``None`` when the call had one already."""
        now = self.clock()
        # a call marked as a crisis (IVR or panel, the crisis service's call_risk) starts at crisis risk
        marked = await session.get(CallRiskRow, linkedid) is not None
        risk = RiskLevel.CRISIS if marked else RiskLevel.NONE
        stmt = (
            insert(WorkOrder)
            .values(
                linkedid=linkedid,
                caller_number=caller_number,
                queue=queue,
                language=language,
                agent=agent,
                status=Status.DRAFT.value,
                version=1,
                service_line=self.queue_lines.get(queue or "", "other"),
                summary="",
                risk_level=risk.value,
                risk_checklist=[],
                escalation_level=0,
                confidential=False,
                created_by=actor,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=[WorkOrder.linkedid])
            .returning(WorkOrder)
        )
        order = (await session.scalars(stmt)).one_or_none()
        if order is not None:
            step = Step(state_of(order), Action.CREATE, Status.DRAFT, note=note)
            self._history(session, order, step, actor, now)
            await session.flush()
        return order

    # -- reading ---------------------------------------------------------------------------------------
    def scope_for_unit(self, unit_code: str | None) -> Scope:
        """The scope of a unit's staff: the unit and every unit below it (nothing when it is unknown)."""
        return Scope(self.tree.subtree(unit_code) if unit_code else frozenset())

    async def get(self, order_id: int, scope: Scope) -> tuple[WorkOrder, list[WorkOrderEvent]]:
        async with self.sessions() as session:
            order = await session.get(WorkOrder, order_id)
            if order is None:
                raise WorkOrderNotFound(f"no work order {order_id}")
            if not scope.allows(order):
                raise WorkOrderHidden(f"work order {order_id} is not referred to your unit or below it")
            events = (
                (
                    await session.execute(
                        select(WorkOrderEvent)
                        .where(WorkOrderEvent.work_order_id == order_id)
                        .order_by(WorkOrderEvent.id)
                    )
                )
                .scalars()
                .all()
            )
        return order, list(events)

    def _filtered(self, flt: OrderFilter, scope: Scope) -> Select[Any]:
        stmt = scope.where(select(WorkOrder))
        if flt.caller_number:
            stmt = stmt.where(WorkOrder.caller_number == flt.caller_number)
        if flt.anonymous is not None:
            anonymous = anonymous_caller(WorkOrder.caller_number)
            stmt = stmt.where(anonymous if flt.anonymous else ~anonymous)
        if flt.status:
            stmt = stmt.where(WorkOrder.status == flt.status)
        if flt.unit:
            stmt = stmt.where(or_(WorkOrder.unit_code == flt.unit, WorkOrder.escalated_to == flt.unit))
        if flt.created_from is not None:
            stmt = stmt.where(WorkOrder.created_at >= flt.created_from)
        if flt.created_before is not None:
            stmt = stmt.where(WorkOrder.created_at < flt.created_before)
        if flt.overdue_at is not None:
            stmt = stmt.where(
                and_(
                    WorkOrder.status.in_([s.value for s in rules.UNSETTLED]),
                    WorkOrder.deadline_at < flt.overdue_at,
                )
            )
        return stmt

    async def find(self, flt: OrderFilter, scope: Scope) -> list[WorkOrder]:
        stmt = self._filtered(flt, scope).order_by(WorkOrder.id.desc()).limit(flt.limit).offset(flt.offset)
        async with self.sessions() as session:
            return list((await session.execute(stmt)).scalars().all())

    async def stream(self, flt: OrderFilter, scope: Scope, *, batch: int = 2000) -> AsyncIterator[Row[Any]]:
        """Every matching order as a plain row (the ``work_orders`` columns by name), oldest first, read
        with a server-side cursor in batches of ``batch``: memory stays bounded however many there are."""
        stmt = (
            self._filtered(flt, scope)
            .with_only_columns(*WorkOrder.__table__.c)
            .order_by(WorkOrder.id)
            .execution_options(yield_per=batch)
        )
        async with self.sessions() as session:
            result = await session.stream(stmt)
            async for partition in result.partitions(batch):
                for row in partition:
                    yield row

    async def caller_file(self, number: str, scope: Scope) -> dict[str, list[Any]]:
        """One person, one file: the caller's calls, work orders and callbacks (when that table exists).
        Anonymous callers have no file: ``anonymous`` or an empty number is not one person, and merging
        them would show one caller's story to another's agent."""
        if is_anonymous(number):
            return {"calls": [], "work_orders": [], "callbacks": []}
        async with self.sessions() as session:
            orders = list(
                (
                    await session.execute(
                        scope.where(select(WorkOrder))
                        .where(WorkOrder.caller_number == number)
                        .order_by(WorkOrder.id.desc())
                        .limit(200)
                    )
                )
                .scalars()
                .all()
            )
            calls: list[Call] = []
            callbacks: list[dict[str, Any]] = []
            if scope.units is None:  # unit staff see their orders, not the centre's call log
                calls = list(
                    (
                        await session.execute(
                            select(Call)
                            .where(Call.caller_number == number)
                            .order_by(Call.id.desc())
                            .limit(200)
                        )
                    )
                    .scalars()
                    .all()
                )
                callbacks = await _callbacks_of(session, number)
        return {"calls": calls, "work_orders": orders, "callbacks": callbacks}

    # -- writing ---------------------------------------------------------------------------------------
    async def draft_for_call(self, linkedid: str, *, actor: str) -> WorkOrder:
        """The work order of a call, created as a draft the first time it is asked for once the call was
        answered, if :meth:`on_changes` has not made it already (see docs/ARCHITECTURE.md)."""
        async with self.sessions() as session, session.begin():
            order = await self._by_linkedid(session, linkedid)
            if order is not None:
                return order
            call = (await session.execute(select(Call).where(Call.linkedid == linkedid))).scalar_one_or_none()
            if call is None or call.answered_at is None:
                raise CallNotAnswered(f"call {linkedid!r} is unknown or was not answered")
            order = await self._insert_draft(
                session,
                linkedid=linkedid,
                caller_number=call.caller_number,
                queue=call.queue,
                language=call.language,
                agent=call.agent,
                actor=actor,
            ) or await self._by_linkedid(session, linkedid)  # made meanwhile by another path
            if order is None:  # pragma: no cover - inserted or found above
                raise WorkOrderNotFound(f"no work order for call {linkedid!r}")
            return order

    async def create(
        self, *, linkedid: str, fields: Mapping[str, Any], disposition: Disposition, actor: str
    ) -> WorkOrder:
        """Complete the call's draft with the agent's fields (creating the draft first if there is none)."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            order = await self._by_linkedid(session, linkedid, lock=True)
            if order is None:
                call = (
                    await session.execute(select(Call).where(Call.linkedid == linkedid))
                ).scalar_one_or_none()
                order = await self._insert_draft(
                    session,
                    linkedid=linkedid,
                    caller_number=call.caller_number if call else None,
                    queue=call.queue if call else None,
                    language=call.language if call else None,
                    agent=call.agent if call else None,
                    actor=actor,
                ) or await self._by_linkedid(session, linkedid, lock=True)  # made meanwhile
                if order is None:  # pragma: no cover - inserted or found above
                    raise WorkOrderNotFound(f"no work order for call {linkedid!r}")
            changes = self._set_fields(order, fields)
            step = rules.complete(state_of(order), disposition=disposition, now=now)
            self._advance(session, order, step, actor, now, changes=changes)
        self._announce(order)
        return order

    async def edit(
        self, order_id: int, *, version: int, fields: Mapping[str, Any], actor: str, scope: Scope
    ) -> WorkOrder:
        now = self.clock()
        async with self.sessions() as session, session.begin():
            order = await self._locked(session, order_id, scope)
            if order.version != version:
                raise StaleVersion(
                    f"work order {order_id} is at version {order.version}, not {version}: reload, then edit"
                )
            rules.edit(state_of(order))
            changes = self._set_fields(order, fields)
            state = state_of(order)
            self._advance(session, order, Step(state, Action.EDIT, state.status), actor, now, changes=changes)
        self._announce(order)
        return order

    async def raise_to_crisis(self, session: AsyncSession, linkedid: str, *, actor: str) -> WorkOrder | None:
        """The call was marked a crisis (callcenter/crisis): its work order, if it has one below crisis
        risk, becomes crisis risk in the caller's transaction, with a new version and a history entry like
        any edit (in any status: the mark is a fact, not an edit the rules could refuse). Returns the order
        to :meth:`announce` once committed, None when nothing changed."""
        order = (
            await session.execute(select(WorkOrder).where(WorkOrder.linkedid == linkedid).with_for_update())
        ).scalar_one_or_none()
        if order is None or order.risk_level == RiskLevel.CRISIS.value:
            return None
        changes = {
            "risk_level": {"from": order.risk_level, "to": RiskLevel.CRISIS.value, "by": "crisis mark"}
        }
        order.risk_level = RiskLevel.CRISIS.value
        state = state_of(order)
        self._advance(
            session, order, Step(state, Action.EDIT, state.status), actor, self.clock(), changes=changes
        )
        return order

    def announce(self, order: WorkOrder) -> None:
        """Tell the pages an order changed (after its transaction committed)."""
        self._announce(order)

    async def step(
        self,
        order_id: int,
        rule: Callable[[OrderState, datetime], Step],
        *,
        actor: str,
        scope: Scope,
        version: int | None = None,
    ) -> WorkOrder:
        """Apply one referral step (refer, accept, reject, progress, follow-up, close) to an order."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            order = await self._locked(session, order_id, scope)
            if version is not None and order.version != version:
                raise StaleVersion(f"work order {order_id} is at version {order.version}, not {version}")
            result = rule(state_of(order), now)
            if result.action is Action.CLOSE and result.note:
                order.result = result.note
            if result.action is Action.REFER:
                order.referred_at = now
            self._advance(session, order, result, actor, now)
        self._announce(order)
        return order

    async def escalate_due(self, now: datetime | None = None) -> list[Escalated]:
        """Escalate every unsettled order past its escalation time; tell the supervisors on the hub."""
        now = now or self.clock()
        out: list[Escalated] = []
        async with self.sessions() as session, session.begin():
            rows = (
                (
                    await session.execute(
                        select(WorkOrder)
                        .where(
                            WorkOrder.status.in_([s.value for s in rules.UNSETTLED]),
                            WorkOrder.escalation_due_at < now,
                        )
                        .order_by(WorkOrder.id)
                        .with_for_update(skip_locked=True)
                        .limit(500)
                    )
                )
                .scalars()
                .all()
            )
            for order in rows:
                result = rules.escalate(state_of(order), tree=self.tree, policy=self.policy, now=now)
                if result is None:
                    continue
                from_unit = order.escalated_to or order.unit_code
                self._advance(session, order, result, "system", now)
                out.append(
                    Escalated(
                        order.id, from_unit, order.escalated_to, order.escalation_level, order.deadline_at
                    )
                )
        if self.publish is not None:
            for e in out:
                self.publish(
                    "escalation",
                    {
                        "work_order": e.order_id,
                        "from_unit": e.from_unit,
                        "to_unit": e.to_unit,
                        "level": e.level,
                        "deadline_at": e.deadline_at.isoformat() if e.deadline_at else None,
                    },
                )
        return out

    async def escalate_forever(self) -> None:
        """The escalation check, run as a task owned by the Hotline."""
        while True:
            try:
                escalated = await self.escalate_due()
                if escalated:
                    log.warning("%d overdue work orders escalated", len(escalated))
            except asyncio.CancelledError:
                raise
            except Exception:  # the database away for a while: try again next round
                log.exception("escalation check failed")
            await asyncio.sleep(self.escalation_interval)

    # -- helpers ---------------------------------------------------------------------------------------
    async def _by_linkedid(
        self, session: AsyncSession, linkedid: str, *, lock: bool = False
    ) -> WorkOrder | None:
        stmt = select(WorkOrder).where(WorkOrder.linkedid == linkedid)
        if lock:
            stmt = stmt.with_for_update()
        return (await session.execute(stmt)).scalar_one_or_none()

    async def _locked(self, session: AsyncSession, order_id: int, scope: Scope) -> WorkOrder:
        order = (
            await session.execute(select(WorkOrder).where(WorkOrder.id == order_id).with_for_update())
        ).scalar_one_or_none()
        if order is None:
            raise WorkOrderNotFound(f"no work order {order_id}")
        if not scope.allows(order):
            raise WorkOrderHidden(f"work order {order_id} is not referred to your unit or below it")
        return order

    @staticmethod
    def _set_fields(order: WorkOrder, fields: Mapping[str, Any]) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        for name in EDIT_FIELDS:
            if name not in fields:
                continue
            value = fields[name]
            if name == "risk_level":
                value = RiskLevel(value).value
            if name == "risk_checklist":
                value = sorted({RiskCheck(v).value for v in value})
            old = getattr(order, name)
            if old != value:
                changes[name] = {"from": old, "to": value}
                setattr(order, name, value)
        # the checklist raises the risk level it implies (never lowers it)
        floor = rules.checklist_floor(RiskCheck(v) for v in order.risk_checklist or [])
        raised = rules.risk_at_least(RiskLevel(order.risk_level), floor).value
        if raised != order.risk_level:
            changes["risk_level"] = {"from": order.risk_level, "to": raised, "by": "checklist"}
            order.risk_level = raised
        return changes

    def _advance(
        self,
        session: AsyncSession,
        order: WorkOrder,
        step: Step,
        actor: str,
        now: datetime,
        *,
        changes: dict[str, Any] | None = None,
    ) -> None:
        _apply_state(order, step.state)
        order.version += 1
        order.updated_at = now
        self._history(session, order, step, actor, now, changes=changes)

    @staticmethod
    def _history(
        session: AsyncSession,
        order: WorkOrder,
        step: Step,
        actor: str,
        now: datetime,
        *,
        changes: dict[str, Any] | None = None,
    ) -> None:
        session.add(
            WorkOrderEvent(
                work_order_id=order.id,
                at=now,
                actor=actor,
                action=step.action.value,
                from_status=step.from_status.value,
                to_status=step.state.status.value,
                version=order.version,
                unit_code=step.unit,
                note=step.note,
                changes=changes or None,
            )
        )

    def _announce(self, order: WorkOrder) -> None:
        if self.publish is not None:
            self.publish(
                "workorder",
                {"id": order.id, "status": order.status, "version": order.version, "unit": order.unit_code},
            )


async def _callbacks_of(session: AsyncSession, number: str) -> list[dict[str, Any]]:
    """The caller's callback tasks (the callback book's table), newest first, at most 200, as plain rows."""
    stmt = (
        select(CallbackTaskRow)
        .where(CallbackTaskRow.number == number)
        .order_by(CallbackTaskRow.created_at.desc())
        .limit(200)
    )
    columns = [c.key for c in CallbackTaskRow.__table__.columns]
    return [{c: getattr(row, c) for c in columns} for row in await session.scalars(stmt)]


async def open_workorders(
    sessions: async_sessionmaker[AsyncSession], plan: HotlinePlan, hub: LiveHub
) -> WorkOrderService:
    """Seed the organisation tree and build the service (the composition root calls this on start).
    Escalations go to the supervisors' pages (hub topic ``escalation``); every change of an order to the
    centre's staff (``workorder``). Unit staff are not sent pushes: the hub filters by role, not by unit,
    and a county must not learn of another county's orders; their pages re-read the list instead."""
    from callcenter.auth.roles import STAFF, SUPERVISORS
    from callcenter.workorders.units import seed_units

    tree = await seed_units(sessions, plan)

    def publish(topic: str, data: Mapping[str, Any]) -> None:
        if hub.subscribers:
            hub.publish(topic, data, roles=SUPERVISORS if topic == "escalation" else STAFF)

    service = WorkOrderService(sessions, tree, publish=publish)
    service.adopt(plan, tree)
    return service
