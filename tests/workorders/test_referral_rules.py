"""The pure work-order rules (routing/referral.py): every transition allowed and refused, deadlines per
tier, line and risk, escalation up the tree, the follow-up before close, the referral KPI."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from routing import referral as r
from routing.referral import (
    Action,
    DeadlinePolicy,
    Disposition,
    FollowUpMissing,
    InvalidReferral,
    OrderState,
    OrgTree,
    ReferralFact,
    RiskCheck,
    RiskLevel,
    Status,
    Step,
    TransitionNotAllowed,
    Unit,
)

NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
TREE = OrgTree.of(
    [
        Unit("150000", "region", "region"),
        Unit("150100", "city", "league", "150000"),
        Unit("150102", "county A", "banner", "150100"),
        Unit("150103", "county B", "banner", "150100"),
        Unit("150200", "other city", "league", "150000"),
        Unit("150202", "county C", "banner", "150200"),
    ]
)
POLICY = DeadlinePolicy(tier_days={"region": 1, "league": 3, "banner": 5})


def state(status: Status = Status.OPEN, **kw: object) -> OrderState:
    return replace(OrderState(status=status, service_line="psychology"), **kw)  # type: ignore[arg-type]


def referred(risk: RiskLevel = RiskLevel.NONE, unit: str = "150102") -> OrderState:
    return r.refer(state(risk=risk), tree=TREE, unit=unit, policy=POLICY, now=NOW).state


# -- transitions ------------------------------------------------------------------------------------------
ALL = list(Status)
STEPS: dict[str, tuple[set[Status], Callable[[OrderState], Step]]] = {
    "complete": ({Status.DRAFT}, lambda s: r.complete(s, disposition=Disposition.FOLLOW_UP, now=NOW)),
    "refer": (
        {Status.OPEN, Status.REJECTED},
        lambda s: r.refer(s, tree=TREE, unit="150102", policy=POLICY, now=NOW),
    ),
    "accept": ({Status.REFERRED}, r.accept),
    "reject": ({Status.REFERRED, Status.ACCEPTED}, lambda s: r.reject(s, reason="not ours")),
    "progress": ({Status.ACCEPTED}, lambda s: r.progress(s, note="called the school")),
    "follow-up": (
        {Status.OPEN, Status.REFERRED, Status.ACCEPTED, Status.REJECTED},
        lambda s: r.follow_up(s, reached=True, note="ok", now=NOW),
    ),
    "close": (
        {Status.OPEN, Status.ACCEPTED, Status.REJECTED},
        lambda s: r.close(replace(s, followed_up_at=NOW), result="done", now=NOW),
    ),
}


@pytest.mark.parametrize("name", sorted(STEPS))
@pytest.mark.parametrize("status", ALL)
def test_each_step_is_allowed_exactly_from_its_states(name: str, status: Status) -> None:
    allowed, step = STEPS[name]
    if status in allowed:
        result = step(state(status))
        assert result.from_status is status
        assert result.action.value == name
    else:
        with pytest.raises(TransitionNotAllowed, match=f"cannot {name}"):
            step(state(status))


@pytest.mark.parametrize("status", ALL)
def test_edits_until_closed(status: Status) -> None:
    if status is Status.CLOSED:
        with pytest.raises(TransitionNotAllowed):
            r.edit(state(status))
    else:
        r.edit(state(status))


@pytest.mark.parametrize(
    ("disposition", "status"),
    [
        (Disposition.RESOLVED, Status.CLOSED),
        (Disposition.TRANSFERRED, Status.CLOSED),
        (Disposition.FOLLOW_UP, Status.OPEN),
        (Disposition.REFERRAL, Status.OPEN),
    ],
)
def test_complete_closes_only_what_the_call_settled(disposition: Disposition, status: Status) -> None:
    step = r.complete(state(Status.DRAFT), disposition=disposition, now=NOW)
    assert step.state.status is status
    assert step.state.disposition is disposition
    assert (step.state.closed_at is not None) == (status is Status.CLOSED)


def test_close_needs_a_follow_up_that_reached_the_caller() -> None:
    accepted = r.accept(referred()).state
    with pytest.raises(FollowUpMissing, match="follow-up call to the caller"):
        r.close(accepted, result="done", now=NOW)
    missed = r.follow_up(accepted, reached=False, note="no answer", now=NOW)
    assert missed.state.followed_up_at is None
    assert missed.note == "not reached: no answer"
    with pytest.raises(FollowUpMissing):
        r.close(missed.state, result="done", now=NOW)
    reached = r.follow_up(accepted, reached=True, note="satisfied", now=NOW + timedelta(hours=1)).state
    closed = r.close(reached, result="done", now=NOW + timedelta(hours=2))
    assert closed.state.status is Status.CLOSED
    assert closed.state.closed_at == NOW + timedelta(hours=2)
    assert closed.state.escalation_due_at is None
    assert closed.note == "done"


@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_reason_note_or_result_is_refused(blank: str) -> None:
    with pytest.raises(TransitionNotAllowed):
        r.reject(referred(), reason=blank)
    with pytest.raises(TransitionNotAllowed):
        r.progress(r.accept(referred()).state, note=blank)
    with pytest.raises(TransitionNotAllowed):
        r.close(state(followed_up_at=NOW), result=blank, now=NOW)


def test_rejection_stops_the_clock_and_a_new_referral_restarts_it() -> None:
    rejected = r.reject(referred(), reason="wrong district").state
    assert rejected.status is Status.REJECTED and rejected.escalation_due_at is None
    assert r.escalate(rejected, tree=TREE, policy=POLICY, now=NOW + timedelta(days=30)) is None
    again = r.refer(rejected, tree=TREE, unit="150103", policy=POLICY, now=NOW + timedelta(days=1)).state
    assert (again.unit, again.deadline_at) == ("150103", NOW + timedelta(days=6))


# -- referral and deadlines -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("unit", "risk", "line", "hours"),
    [
        ("150102", RiskLevel.NONE, "psychology", 5 * 24),
        ("150102", RiskLevel.MEDIUM, "psychology", 5 * 24),
        ("150100", RiskLevel.LOW, "legal", 3 * 24),
        ("150000", RiskLevel.NONE, "legal", 24),
        ("150102", RiskLevel.HIGH, "psychology", 24),
        ("150102", RiskLevel.CRISIS, "psychology", 4),
        ("150102", RiskLevel.NONE, "crisis", 4),
    ],
)
def test_deadline_per_tier_line_and_risk(unit: str, risk: RiskLevel, line: str, hours: int) -> None:
    s = replace(state(risk=risk), service_line=line)
    step = r.refer(s, tree=TREE, unit=unit, policy=POLICY, now=NOW)
    assert step.state.deadline_at == NOW + timedelta(hours=hours)
    assert step.state.escalation_due_at == step.state.deadline_at
    assert step.state.disposition is Disposition.REFERRAL
    assert step.action is Action.REFER and step.unit == unit


def test_deadline_policy_is_configurable() -> None:
    policy = DeadlinePolicy(tier_days={"banner": 2}, risk_hours={}, line_hours={"legal": 12}, default_days=7)
    assert policy.deadline(
        now=NOW, tier="banner", service_line="x", risk=RiskLevel.CRISIS
    ) == NOW + timedelta(days=2)
    assert policy.deadline(
        now=NOW, tier="banner", service_line="legal", risk=RiskLevel.NONE
    ) == NOW + timedelta(hours=12)
    assert policy.deadline(now=NOW, tier="unknown", service_line="x", risk=RiskLevel.NONE) == NOW + timedelta(
        days=7
    )


def test_explicit_deadline_must_be_in_the_future_and_the_unit_known() -> None:
    later = NOW + timedelta(hours=6)
    assert (
        r.refer(state(), tree=TREE, unit="150102", policy=POLICY, now=NOW, deadline=later).state.deadline_at
        == later
    )
    with pytest.raises(InvalidReferral, match="future"):
        r.refer(state(), tree=TREE, unit="150102", policy=POLICY, now=NOW, deadline=NOW)
    with pytest.raises(InvalidReferral, match="no unit"):
        r.refer(state(), tree=TREE, unit="999", policy=POLICY, now=NOW)


# -- escalation -------------------------------------------------------------------------------------------
def test_overdue_escalates_up_the_tree_one_unit_at_a_time() -> None:
    s = referred(RiskLevel.HIGH)  # due in 24 h
    assert not r.is_overdue(s, NOW + timedelta(hours=24))
    assert r.escalate(s, tree=TREE, policy=POLICY, now=NOW + timedelta(hours=24)) is None
    t1 = NOW + timedelta(hours=25)
    assert r.is_overdue(s, t1)
    first = r.escalate(s, tree=TREE, policy=POLICY, now=t1)
    assert first is not None
    assert (first.state.escalated_to, first.state.escalation_level, first.unit) == ("150100", 1, "150100")
    assert first.state.escalation_due_at == t1 + timedelta(hours=24)  # high risk caps the city's 3 days
    assert first.state.deadline_at == s.deadline_at  # the unit's deadline stays what it was
    assert first.action is Action.ESCALATE
    assert r.escalate(first.state, tree=TREE, policy=POLICY, now=t1 + timedelta(hours=1)) is None
    second = r.escalate(first.state, tree=TREE, policy=POLICY, now=t1 + timedelta(hours=25))
    assert second is not None and (second.state.escalated_to, second.state.escalation_level) == ("150000", 2)
    third = r.escalate(second.state, tree=TREE, policy=POLICY, now=t1 + timedelta(hours=50))
    assert third is not None and (third.state.escalated_to, third.state.escalation_level) == ("150000", 3)


@pytest.mark.parametrize("status", [Status.DRAFT, Status.OPEN, Status.REJECTED, Status.CLOSED])
def test_only_unsettled_orders_escalate(status: Status) -> None:
    s = replace(referred(), status=status)
    assert r.escalate(s, tree=TREE, policy=POLICY, now=NOW + timedelta(days=30)) is None
    assert not r.is_overdue(s, NOW + timedelta(days=30))


def test_accepted_orders_still_escalate_when_overdue() -> None:
    s = r.accept(referred(RiskLevel.CRISIS)).state
    step = r.escalate(s, tree=TREE, policy=POLICY, now=NOW + timedelta(hours=5))
    assert step is not None and step.state.escalated_to == "150100"
    assert step.state.status is Status.ACCEPTED


# -- the tree and who sees what ---------------------------------------------------------------------------
def test_subtree_and_visibility() -> None:
    assert TREE.subtree("150100") == {"150100", "150102", "150103"}
    assert TREE.subtree("150102") == {"150102"}
    assert TREE.subtree("nope") == frozenset()
    assert TREE.subtree("150000") == set(TREE.units)
    assert [u.code for u in TREE.ancestors("150102")] == ["150100", "150000"]
    county = TREE.subtree("150102")
    assert r.visible_to_unit("150102", None, county)
    assert not r.visible_to_unit("150103", None, county)
    assert not r.visible_to_unit("150103", "150100", county)
    assert r.visible_to_unit("150103", "150100", TREE.subtree("150100"))
    assert not r.visible_to_unit(None, None, county)


def test_a_bad_tree_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown parent"):
        OrgTree.of([Unit("a", "a", "x", "zz")])
    with pytest.raises(ValueError, match="own ancestor"):
        OrgTree.of([Unit("a", "a", "x", "b"), Unit("b", "b", "x", "a")])


# -- risk checklist ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("checks", "floor"),
    [
        ([], RiskLevel.NONE),
        ([RiskCheck.SUICIDAL_THOUGHTS], RiskLevel.MEDIUM),
        ([RiskCheck.SUICIDAL_THOUGHTS, RiskCheck.SUICIDE_PLAN], RiskLevel.HIGH),
        ([RiskCheck.MEANS_AT_HAND], RiskLevel.CRISIS),
        ([RiskCheck.DANGER_NOW, RiskCheck.SELF_HARM], RiskLevel.CRISIS),
    ],
)
def test_checklist_floor(checks: list[RiskCheck], floor: RiskLevel) -> None:
    assert r.checklist_floor(checks) is floor
    assert r.risk_at_least(RiskLevel.CRISIS, floor) is RiskLevel.CRISIS
    assert r.risk_at_least(RiskLevel.NONE, floor) is floor


# -- referral KPI -----------------------------------------------------------------------------------------
def test_referrals_on_time() -> None:
    due = NOW + timedelta(days=1)
    facts = [
        ReferralFact(due, NOW + timedelta(hours=3)),  # on time
        ReferralFact(due, due),  # on time (at the deadline)
        ReferralFact(due, due + timedelta(seconds=1)),  # late
        ReferralFact(due, None),  # open, not yet due: not counted before the deadline
        ReferralFact(due, None, rejected=True),  # rejected: not counted
    ]
    assert r.referrals_on_time(facts, now=NOW) == pytest.approx(2 / 3)
    assert r.referrals_on_time(facts, now=due + timedelta(hours=1)) == pytest.approx(2 / 4)
    assert r.referrals_on_time([], now=NOW) is None
