"""The plan's ``units`` section: the organisation tree work orders are referred down (issue 6)."""

from __future__ import annotations

import pytest

from callcenter.config.loader import ConfigError, load_plan, parse_plan
from callcenter.settings import PROJECT_ROOT
from callcenter.workorders.units import tree_of

EXAMPLE = PROJECT_ROOT / "config" / "hotline.yaml"


def _problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_plan(text, "h.yaml")
    return [str(p) for p in info.value.problems]


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_example_units_form_the_tree() -> None:
    plan = load_plan(EXAMPLE)
    tree = tree_of(plan)
    assert len(plan.units) == 12
    assert tree.subtree("150100") == {"150100", "150102", "150103", "150104", "150105"}
    assert [u.code for u in tree.ancestors("152522")] == ["152500", "150000"]
    assert {u.tier for u in plan.units} <= {t.code for t in plan.tiers}
    guangdong = load_plan(PROJECT_ROOT / "config" / "guangdong.yaml")
    assert tree_of(guangdong).subtree("440300") == {"440300", "440303", "440304"}


def test_unknown_parent_unknown_tier_and_cycle_are_reported_with_their_place() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    broken = (
        text.replace(
            '"150202": {name: 东河区青少年服务站, tier: banner, parent: "150200"}',
            '"150202": {name: 东河区青少年服务站, tier: banner, parent: "159999"}',
        )
        .replace(
            '"150203": {name: 昆都仑区青少年服务站, tier: banner,',
            '"150203": {name: 昆都仑区青少年服务站, tier: village,',
        )
        .replace(
            '"150000": {name: 内蒙古自治区12355, tier: region}',
            '"150000": {name: 内蒙古自治区12355, tier: region, parent: "150100"}',
        )
    )
    problems = _problems(broken)
    parent_line = _line_of(broken, '"150202"')
    tier_line = _line_of(broken, '"150203"')
    cycle_line = _line_of(broken, '"150000": {name')
    assert any(
        p.startswith(f"h.yaml:{parent_line}:") and "units.150202.parent: no unit '159999'" in p
        for p in problems
    ), problems
    assert any(
        p.startswith(f"h.yaml:{tier_line}:") and "units.150203.tier: no tier 'village' in tiers" in p
        for p in problems
    ), problems
    assert any(
        p.startswith(f"h.yaml:{cycle_line}:") and "units.150000.parent: a cycle" in p for p in problems
    ), problems
    assert any("units.150100.parent: a cycle" in p for p in problems)  # both units on the cycle
    assert not any("units.150102" in p for p in problems)  # leading into the cycle is not reported


def test_a_unit_needs_a_name_and_a_tier() -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        '"152522": {name: 阿巴嘎旗青少年服务站, tier: banner, parent: "152500"}',
        '"152522": {parent: "152500"}',
    )
    problems = _problems(text)
    assert any("units.152522: a name is required" in p for p in problems)
    assert any("units.152522: a tier is required" in p for p in problems)
