"""Work orders and their referral down the tiers, as pure rules: states, allowed transitions, deadlines per
service line and risk, escalation when overdue, and "close only after the follow-up call is recorded".

Everything takes plain data and an explicit ``now`` and returns a decision or raises a typed
:class:`WorkOrderRuleError`; nothing here touches the database, the web or the clock.

Life of a work order::

    draft ──complete──▶ open ──refer──▶ referred ──accept──▶ accepted ──progress──▶ accepted
      │                  │  ▲              │                    │
      │                  │  └──reject──────┘                    │
      │                  │        (rejected: back to the centre, may be referred again)
      │                  └──follow-up (reached)──┐              │
      └─complete (resolved on the call)─▶ closed ◀──close (after the follow-up)──┘

A work order whose disposition is ``resolved`` (settled on the call) or ``transferred`` (handed to another
hotline) is closed when the agent completes it: the call itself was the reply. Every other order is closed
only after the centre has called the caller back and reached them (the "unified reply").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType


class Status(StrEnum):
    DRAFT = "draft"  # exists from the answer of the call; the agent fills it in
    OPEN = "open"  # completed by the agent; the centre follows it up
    REFERRED = "referred"  # referred to a unit, waiting for it to accept
    ACCEPTED = "accepted"  # the unit works on it
    REJECTED = "rejected"  # the unit refused it (with a reason); back with the centre
    CLOSED = "closed"


class RiskLevel(StrEnum):
    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRISIS = "crisis"


RISK_ORDER = (RiskLevel.NONE, RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH, RiskLevel.CRISIS)


class Disposition(StrEnum):
    RESOLVED = "resolved"  # settled on the call
    FOLLOW_UP = "follow-up"  # the centre calls back
    REFERRAL = "referral"  # to be referred to a city / county unit
    TRANSFERRED = "transferred"  # handed to another hotline (110, 12309, ...)


class Action(StrEnum):
    CREATE = "create"
    EDIT = "edit"
    COMPLETE = "complete"
    REFER = "refer"
    ACCEPT = "accept"
    REJECT = "reject"
    PROGRESS = "progress"
    FOLLOW_UP = "follow-up"
    ESCALATE = "escalate"
    CLOSE = "close"


class RiskCheck(StrEnum):
    """The short risk checklist the agent ticks; each item raises the least risk level it implies."""

    SUICIDAL_THOUGHTS = "suicidal-thoughts"
    SUICIDE_PLAN = "suicide-plan"
    MEANS_AT_HAND = "means-at-hand"
    PAST_ATTEMPT = "past-attempt"
    SELF_HARM = "self-harm"
    HARM_TO_OTHERS = "harm-to-others"
    ABUSE_OR_VIOLENCE = "abuse-or-violence"
    DANGER_NOW = "danger-now"


CHECK_FLOOR: Mapping[RiskCheck, RiskLevel] = MappingProxyType(
    {
        RiskCheck.SUICIDAL_THOUGHTS: RiskLevel.MEDIUM,
        RiskCheck.SELF_HARM: RiskLevel.MEDIUM,
        RiskCheck.PAST_ATTEMPT: RiskLevel.MEDIUM,
        RiskCheck.ABUSE_OR_VIOLENCE: RiskLevel.HIGH,
        RiskCheck.HARM_TO_OTHERS: RiskLevel.HIGH,
        RiskCheck.SUICIDE_PLAN: RiskLevel.HIGH,
        RiskCheck.MEANS_AT_HAND: RiskLevel.CRISIS,
        RiskCheck.DANGER_NOW: RiskLevel.CRISIS,
    }
)


class WorkOrderRuleError(Exception):
    """A step the rules do not allow. ``code`` is API contract (the web maps it to an HTTP answer)."""

    code = "not-allowed"


class TransitionNotAllowed(WorkOrderRuleError):
    code = "transition-not-allowed"


class FollowUpMissing(WorkOrderRuleError):
    code = "follow-up-missing"


class InvalidReferral(WorkOrderRuleError):
    code = "invalid-referral"


class StaleVersion(WorkOrderRuleError):
    code = "stale-version"


def risk_at_least(level: RiskLevel, floor: RiskLevel) -> RiskLevel:
    return level if RISK_ORDER.index(level) >= RISK_ORDER.index(floor) else floor


def checklist_floor(checks: Iterable[RiskCheck]) -> RiskLevel:
    """The least risk level the ticked checklist implies (``none`` for an empty list)."""
    level = RiskLevel.NONE
    for check in checks:
        level = risk_at_least(level, CHECK_FLOOR[check])
    return level


# -- the organisation tree ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit of the follow-up organisation: the province / region centre, a city (league), a county
    (banner). ``tier`` names a :class:`routing.plan.TierPlan` code."""

    code: str
    name: str
    tier: str
    parent: str | None = None


@dataclass(frozen=True, slots=True)
class OrgTree:
    units: Mapping[str, Unit]

    @classmethod
    def of(cls, units: Iterable[Unit]) -> OrgTree:
        table = {u.code: u for u in units}
        for u in table.values():
            if u.parent is not None and u.parent not in table:
                raise ValueError(f"unit {u.code} names an unknown parent {u.parent}")
        tree = cls(MappingProxyType(table))
        for code in table:  # a cycle would make ancestors() loop forever
            seen: set[str] = set()
            for ancestor in tree.ancestors(code, _limit=len(table) + 1):
                if ancestor.code in seen:
                    raise ValueError(f"unit {code} is its own ancestor")
                seen.add(ancestor.code)
        return tree

    def get(self, code: str) -> Unit | None:
        return self.units.get(code)

    def parent(self, code: str) -> Unit | None:
        unit = self.units.get(code)
        return None if unit is None or unit.parent is None else self.units.get(unit.parent)

    def ancestors(self, code: str, *, _limit: int | None = None) -> list[Unit]:
        """Parent, grandparent, … up to the root."""
        out: list[Unit] = []
        limit = _limit if _limit is not None else len(self.units)
        unit = self.parent(code)
        while unit is not None and len(out) < limit:
            out.append(unit)
            unit = self.parent(unit.code)
        return out

    def subtree(self, code: str) -> frozenset[str]:
        """``code`` and every unit below it: what that unit's staff may see."""
        if code not in self.units:
            return frozenset()
        children: dict[str, list[str]] = {}
        for u in self.units.values():
            if u.parent is not None:
                children.setdefault(u.parent, []).append(u.code)
        out = {code}
        todo = [code]
        while todo:
            for child in children.get(todo.pop(), ()):
                if child not in out:
                    out.add(child)
                    todo.append(child)
        return frozenset(out)


# -- deadlines -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeadlinePolicy:
    """How long a unit has to settle a referral: the tier's days, capped by the risk level and by the
    service line (configurable; the defaults are the seeds' practice: a crisis within 4 hours, a high risk
    within a day)."""

    tier_days: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    default_days: int = 3
    risk_hours: Mapping[RiskLevel, int] = field(
        default_factory=lambda: MappingProxyType({RiskLevel.CRISIS: 4, RiskLevel.HIGH: 24})
    )
    line_hours: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({"crisis": 4}))

    def deadline(self, *, now: datetime, tier: str, service_line: str, risk: RiskLevel) -> datetime:
        hours = 24 * self.tier_days.get(tier, self.default_days)
        for cap in (self.risk_hours.get(risk), self.line_hours.get(service_line)):
            if cap is not None:
                hours = min(hours, cap)
        return now + timedelta(hours=hours)


# -- the work order as the rules see it ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderState:
    """The fields of a work order the rules read and write."""

    status: Status
    service_line: str
    risk: RiskLevel = RiskLevel.NONE
    disposition: Disposition | None = None
    unit: str | None = None  # the unit it is referred to
    deadline_at: datetime | None = None
    escalation_level: int = 0
    escalated_to: str | None = None  # the unit it was escalated to (parent, grandparent …); None: none
    escalation_due_at: datetime | None = None  # when it escalates (again) if still unsettled
    followed_up_at: datetime | None = None  # the follow-up call that reached the caller
    closed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """The outcome of a rule: the new state and the history entry to keep."""

    state: OrderState
    action: Action
    from_status: Status
    unit: str | None = None
    note: str | None = None


EDITABLE = frozenset({Status.DRAFT, Status.OPEN, Status.REFERRED, Status.ACCEPTED, Status.REJECTED})
UNSETTLED = frozenset({Status.REFERRED, Status.ACCEPTED})  # the deadline runs


def _step(
    old: OrderState, new: OrderState, action: Action, *, unit: str | None = None, note: str | None = None
) -> Step:
    return Step(new, action, old.status, unit, note)


def _require(state: OrderState, allowed: Iterable[Status], action: Action) -> None:
    allowed = frozenset(allowed)
    if state.status not in allowed:
        names = ", ".join(sorted(s.value for s in allowed))
        raise TransitionNotAllowed(
            f"cannot {action.value} a work order that is {state.status.value} (only when {names})"
        )


def edit(state: OrderState) -> None:
    """Edits are allowed until the order is closed."""
    _require(state, EDITABLE, Action.EDIT)


def complete(state: OrderState, *, disposition: Disposition, now: datetime) -> Step:
    """The agent completes the draft. Resolved / transferred orders close at once."""
    _require(state, {Status.DRAFT}, Action.COMPLETE)
    if disposition in (Disposition.RESOLVED, Disposition.TRANSFERRED):
        new = replace(state, status=Status.CLOSED, disposition=disposition, closed_at=now)
    else:
        new = replace(state, status=Status.OPEN, disposition=disposition)
    return _step(state, new, Action.COMPLETE, note=disposition.value)


def refer(
    state: OrderState,
    *,
    tree: OrgTree,
    unit: str,
    policy: DeadlinePolicy,
    now: datetime,
    deadline: datetime | None = None,
) -> Step:
    """Refer to ``unit`` with a deadline (the policy's, or an explicit one in the future)."""
    _require(state, {Status.OPEN, Status.REJECTED}, Action.REFER)
    target = tree.get(unit)
    if target is None:
        raise InvalidReferral(f"no unit {unit!r} in the organisation tree")
    if deadline is not None and deadline <= now:
        raise InvalidReferral("the deadline must lie in the future")
    due = deadline or policy.deadline(
        now=now, tier=target.tier, service_line=state.service_line, risk=state.risk
    )
    new = replace(
        state,
        status=Status.REFERRED,
        disposition=Disposition.REFERRAL,
        unit=unit,
        deadline_at=due,
        escalation_level=0,
        escalated_to=None,
        escalation_due_at=due,
    )
    return _step(state, new, Action.REFER, unit=unit, note=f"deadline {due.isoformat()}")


def accept(state: OrderState) -> Step:
    _require(state, {Status.REFERRED}, Action.ACCEPT)
    return _step(state, replace(state, status=Status.ACCEPTED), Action.ACCEPT, unit=state.unit)


def reject(state: OrderState, *, reason: str) -> Step:
    _require(state, {Status.REFERRED, Status.ACCEPTED}, Action.REJECT)
    if not reason.strip():
        raise TransitionNotAllowed("a rejection needs a reason")
    new = replace(state, status=Status.REJECTED, escalation_due_at=None)
    return _step(state, new, Action.REJECT, unit=state.unit, note=reason)


def progress(state: OrderState, *, note: str) -> Step:
    _require(state, {Status.ACCEPTED}, Action.PROGRESS)
    if not note.strip():
        raise TransitionNotAllowed("a progress note cannot be empty")
    return _step(state, state, Action.PROGRESS, unit=state.unit, note=note)


def follow_up(state: OrderState, *, reached: bool, note: str, now: datetime) -> Step:
    """The centre's call back to the caller. Only a call that reached the caller counts for closing."""
    _require(state, {Status.OPEN, Status.REFERRED, Status.ACCEPTED, Status.REJECTED}, Action.FOLLOW_UP)
    new = replace(state, followed_up_at=now) if reached else state
    return _step(
        state,
        new,
        Action.FOLLOW_UP,
        unit=state.unit,
        note=f"{'reached' if reached else 'not reached'}: {note}",
    )


def close(state: OrderState, *, result: str, now: datetime) -> Step:
    """Close with a result: only once the follow-up call that reached the caller is recorded."""
    _require(state, {Status.OPEN, Status.ACCEPTED, Status.REJECTED}, Action.CLOSE)
    if not result.strip():
        raise TransitionNotAllowed("closing needs a result")
    if state.followed_up_at is None:
        raise FollowUpMissing(
            "cannot close: the follow-up call to the caller (unified reply) is not recorded yet; "
            "record it with reached=true first"
        )
    new = replace(state, status=Status.CLOSED, closed_at=now, escalation_due_at=None)
    return _step(state, new, Action.CLOSE, unit=state.unit, note=result)


def is_overdue(state: OrderState, now: datetime) -> bool:
    return state.status in UNSETTLED and state.deadline_at is not None and now > state.deadline_at


def escalate(state: OrderState, *, tree: OrgTree, policy: DeadlinePolicy, now: datetime) -> Step | None:
    """An unsettled order past its escalation time goes up one unit (the parent of the unit it is with,
    then the grandparent …), with a new escalation time from that unit's tier. At the root it stays with
    the root and the supervisors; it is still reported each time its escalation time passes. None: not due.
    """
    if state.status not in UNSETTLED or state.escalation_due_at is None or now <= state.escalation_due_at:
        return None
    current = state.escalated_to or state.unit
    parent = tree.parent(current) if current is not None else None
    to = parent.code if parent is not None else current
    to_unit = tree.get(to) if to is not None else None
    tier = to_unit.tier if to_unit is not None else ""
    next_due = policy.deadline(now=now, tier=tier, service_line=state.service_line, risk=state.risk)
    new = replace(
        state,
        escalation_level=state.escalation_level + 1,
        escalated_to=to,
        escalation_due_at=next_due,
    )
    return _step(
        state,
        new,
        Action.ESCALATE,
        unit=to,
        note=f"overdue since {state.deadline_at.isoformat() if state.deadline_at else '?'}",
    )


def visible_to_unit(state_unit: str | None, escalated_to: str | None, allowed: frozenset[str]) -> bool:
    """May staff of a unit whose subtree is ``allowed`` see an order with these units?"""
    return (state_unit is not None and state_unit in allowed) or (
        escalated_to is not None and escalated_to in allowed
    )


# -- referral KPI ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReferralFact:
    deadline_at: datetime
    settled_at: datetime | None  # closed (after the follow-up) — None while unsettled
    rejected: bool = False  # rejected before settling: the unit did not take it, not counted


def referrals_on_time(facts: Iterable[ReferralFact], now: datetime) -> float | None:
    """Share of referrals settled by their deadline. Counted: each one settled, and each unsettled one whose
    deadline has passed (already late). Not counted: unsettled ones not yet due, rejected ones."""
    on_time = total = 0
    for f in facts:
        if f.rejected and f.settled_at is None:
            continue
        if f.settled_at is not None:
            total += 1
            on_time += f.settled_at <= f.deadline_at
        elif now > f.deadline_at:
            total += 1
    return None if total == 0 else on_time / total
