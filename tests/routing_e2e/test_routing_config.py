"""The routing parts of hotline.yaml (no PBX): overflow thresholds, language widening as rendered, seats."""

from __future__ import annotations

from dataclasses import replace

import pytest

from callcenter.config.loader import ConfigError, parse_plan
from callcenter.config.render import render
from callcenter.overflow.controller import policy_for_plan, seat_order
from routing.plan import AgentPlan, SeatPlan
from tests.config.test_problems import BASE


def _plan_text(*edits: tuple[str, str]) -> str:
    text = BASE
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    return text


def test_overflow_thresholds_come_from_the_yaml() -> None:
    plan = parse_plan(
        _plan_text(
            (
                "seats: {base: 2, max: 4}",
                "seats: {base: 2, max: 4, overflow: {open_waiting: 5, low_load_seconds: 90}}",
            )
        ),
        "h.yaml",
    )
    assert dict(plan.seats.overflow) == {"open_waiting": 5, "low_load_seconds": 90.0}
    policy = policy_for_plan(plan)
    # one agent in the file: the seats the policy may use are capped by the agents there are
    assert (policy.base_seats, policy.max_seats, policy.open_waiting, policy.low_load_seconds) == (
        1,
        1,
        5,
        90.0,
    )


def test_overflow_thresholds_that_would_flap_or_are_unknown_are_reported() -> None:
    with pytest.raises(ConfigError) as info:
        parse_plan(
            _plan_text(
                (
                    "seats: {base: 2, max: 4}",
                    "seats: {base: 2, max: 4, overflow: {open_waiting: 1, close_waiting: 2, open_wait: 3}}",
                )
            ),
            "h.yaml",
        )
    text = [str(p) for p in info.value.problems]
    assert any("seats.overflow: unknown key 'open_wait'" in p for p in text), text
    assert any("close_waiting must be below open_waiting" in p for p in text), text


def test_seat_order_base_then_standby_then_the_rest_without_the_callback_seat() -> None:
    plan = parse_plan(BASE, "h.yaml")
    agents = tuple(AgentPlan(str(e), str(e), ("legal",), ("zh",)) for e in range(2001, 2008))
    plan = replace(
        plan, agents=agents, seats=SeatPlan(base=3, maximum=6, standby=("2006", "2002"), callback="2007")
    )
    order, base = seat_order(plan)
    assert order == ["2001", "2003", "2004", "2006", "2002", "2005"]
    assert base == {"2001", "2003", "2004"}
    assert (policy_for_plan(plan).base_seats, policy_for_plan(plan).max_seats) == (3, 6)


def test_language_widening_is_rendered_as_a_queue_rule_and_a_max_penalty() -> None:
    plan = parse_plan(BASE, "h.yaml")
    assert render(plan)["queuerules.conf"].count("penaltychange") == 0
    widened = replace(plan, languages=tuple(replace(lang, widen_after_seconds=45) for lang in plan.languages))
    files = render(widened)
    queue = widened.queues[0].name
    assert f"[widen-{queue}]\npenaltychange => 45,54\n" in files["queuerules.conf"]
    assert f"defaultrule = widen-{queue}" in files["queues.conf"]
    dialplan = files["extensions.conf"]
    assert f'ExecIf($["${{HOTLINE_QUEUE}}" = "{queue}"]?Set(QUEUE_MAX_PENALTY=49))' in dialplan
    # every Queue() is preceded by the penalty window
    lines = dialplan.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(" same => n,Queue("):
            assert lines[i - 1] == " same => n,Gosub(hotline-penalty-window,s,1)"
