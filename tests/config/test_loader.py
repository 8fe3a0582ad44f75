"""The hotline plan loads from YAML; every problem is reported with FILE:LINE:COL, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcenter.config.loader import ConfigError, load_plan, parse_plan
from callcenter.settings import PROJECT_ROOT
from routing.plan import ActionKind

EXAMPLE = PROJECT_ROOT / "config" / "hotline.yaml"


def _problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_plan(text, "h.yaml")
    return [str(p) for p in info.value.problems]


def test_example_plan_loads() -> None:
    plan = load_plan(EXAMPLE)
    assert plan.number == "12355"
    assert plan.entry_menu == "language"
    assert {q.name for q in plan.queues} >= {"zh-legal", "mn-psychology"}
    assert plan.menus["service"].options["2"].kind is ActionKind.QUEUE
    assert plan.seats.base == 8 and plan.seats.maximum == 20
    assert len(plan.agents) == 8 + len(plan.seats.standby) + 1  # the callback seat
    legal = next(a for a in plan.agents if a.extension == "1002")
    assert "zh-legal" in {q.name for q in plan.queues_for_agent(legal)}


def test_yaml_syntax_error_names_the_place() -> None:
    assert _problems("hotline:\n  number: [1, 2\n") == [
        "h.yaml:3:1: YAML syntax: expected ',' or ']', but got '<stream end>'"
    ]


def test_every_problem_is_reported_with_its_place() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    broken = (
        text.replace("  default_queue: zh-psychology", "  default_queue: zh-nowhere")
        .replace('"2": {queue: "{language}-legal"}', '"2": {queue: "{language}-legall"}')
        .replace("languages: [zh]}", "langauges: [zh]}", 1)
    )
    problems = _problems(broken)
    lines = broken.splitlines()
    assert any("hotline.default_queue: no queue 'zh-nowhere'" in p for p in problems)
    assert any("no queue 'mn-legall', 'zh-legall'" in p for p in problems)
    assert any("unknown key 'langauges' (did you mean 'languages'?)" in p for p in problems)
    for problem in problems:
        _, line, col, _ = problem.split(":", 3)
        assert 1 <= int(line) <= len(lines) and int(col) >= 1
    default_queue = next(p for p in problems if "default_queue" in p)
    assert default_queue.startswith(f"h.yaml:{_line_of(broken, 'zh-nowhere')}:")


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_plan(tmp_path / "missing.yaml")


def _line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)
