"""Unit tests: extensions.conf parsing, patterns, substitution and $[...] expressions."""

from __future__ import annotations

from pathlib import Path

import pytest

from pbxsim.dialplan import Dialplan, matches, split_app
from pbxsim.expressions import evaluate, is_true, split_args, substitute
from pbxsim.queues import parse_queues

REPO = Path(__file__).resolve().parents[2]

SAMPLE = r"""
[globals]
Foo=bar ; comment
MixedCase=1

[inner]
exten => _1X.,1,NoOp(pattern ${EXTEN})
exten => 100,1,NoOp(literal)
 same => n(again),Set(X=1\;2)
 same => n,Goto(again)

[outer]
include => inner
exten => s,1,GotoIf($[${LEN(${CALLERID(num)})} > 3]?long:short)
 same => n(short),Hangup()
 same => n(long),Queue(q1,t,,,30)
exten => h,1,NoOp(end)
"""


def test_parse_contexts_labels_includes() -> None:
    plan = Dialplan.parse(SAMPLE)
    assert plan.globals == {"Foo": "bar", "MixedCase": "1"}
    ext = plan.find("outer", "s")
    assert ext is not None
    assert ext.labels == {"short": 2, "long": 3}
    assert ext.steps[3].app == "Queue" and ext.steps[3].data == "q1,t,,,30"
    assert plan.find("outer", "100") is plan.find("inner", "100")  # include
    assert plan.find("outer", "1234") is not None  # pattern through include
    assert plan.find("outer", "2234") is None
    assert plan.find("inner", "100").steps[2].data == "X=1;2"  # type: ignore[union-attr]
    assert plan.priority_of("inner", "100", "again") == 2
    assert plan.exists("outer", "h")


def test_project_dialplan_parses() -> None:
    plan = Dialplan.load(REPO / "asterisk-config" / "extensions.conf")
    assert plan.globals["HOTLINE_AGI"].startswith("agi://")
    main = plan.find("hotline-inbound", "12355")
    assert main is not None
    apps = [s.app for s in main.steps.values()]
    assert apps[0] == "NoOp" and "Answer" in apps and "AGI" in apps and "Queue" in apps
    assert plan.exists("hotline-inbound", "fallback")


def test_project_queues_parse() -> None:
    _, queues = parse_queues((REPO / "asterisk-config" / "queues.conf").read_text())
    assert queues["zh-legal"].strategy == "rrmemory"
    assert queues["zh-legal"].timeout == 15 and queues["zh-legal"].wrapuptime == 10
    assert queues["zh-legal"].ringinuse is False


@pytest.mark.parametrize(
    ("pattern", "exten", "expected"),
    [
        ("_X.", "1", False),
        ("_X.", "12", True),
        ("_NXX", "234", True),
        ("_NXX", "134", False),
        ("_Z!", "5", True),
        ("_[1-3]X", "29", True),
        ("_[1-3]X", "49", False),
        ("12355", "12355", True),
    ],
)
def test_patterns(pattern: str, exten: str, expected: bool) -> None:
    assert matches(pattern, exten) is expected


def test_split_app() -> None:
    assert split_app("Queue(a,b)") == ("Queue", "a,b")
    assert split_app("Hangup()") == ("Hangup", "")
    assert split_app("Answer") == ("Answer", "")


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ('"" = ""', "1"),
        ('"zh-legal" != ""', "1"),
        ("zh-legal = zh-legal", "1"),
        ("3 < 10", "1"),
        ("abc < abd", "1"),
        ("10 > 9", "1"),
        ("1 & 0", "0"),
        ("2 & 3", "2"),
        ("0 | 5", "5"),
        ("5+1", "6"),
        ("2 + 3 * 4", "14"),
        ("(2 + 3) * 4", "20"),
        ("7 - 10", "-3"),
        ("1 = 1 & 2 = 3", "0"),
        ("!0", "1"),
        ("", ""),
    ],
)
def test_evaluate(expr: str, expected: str) -> None:
    assert evaluate(expr) == expected


def test_bad_expression_is_empty() -> None:
    assert evaluate("1 +") == ""


def test_substitute_nested_and_functions() -> None:
    values = {"A": "hello", "NAME": "A", "EMPTY": ""}

    def resolve(expr: str) -> str:
        if expr.startswith("LEN(") and expr.endswith(")"):
            return str(len(expr[4:-1]))
        return values.get(expr, "")

    assert substitute("${A} world", resolve) == "hello world"
    assert substitute("${${NAME}}", resolve) == "hello"
    assert substitute("${LEN(${A})}", resolve) == "5"
    assert substitute('$["${EMPTY}" = ""]', resolve) == "1"
    assert substitute("$[${LEN(${A})} + 1]", resolve) == "6"
    assert substitute("cost $5", resolve) == "cost $5"
    assert substitute("${UNTERMINATED", resolve) == "${UNTERMINATED"


def test_truth_and_args() -> None:
    assert not is_true("") and not is_true("0") and is_true("1") and is_true("x")
    assert split_args('a,"b,c",f(x,y),') == ["a", "b,c", "f(x,y)", ""]
