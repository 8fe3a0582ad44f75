"""app_queue's penalty rules (queuerules.conf ``penaltychange``, QUEUE_MAX_PENALTY) and
QueueChangePriorityCaller in the simulator's queue engine."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from pbxsim.queues import Entry, PenaltyChange, Queue, QueueConfig, QueueEngine, parse_queuerules

RULES = """
[general]

[widen-mn-psychology]
penaltychange => 30,54

[steps]
penaltychange => 10,+5,2
penaltychange => 5,20
"""


def _engine(rules: dict[str, list[PenaltyChange]]) -> QueueEngine:
    engine = object.__new__(QueueEngine)
    engine.rules = rules
    return engine


def _entry(name: str, prio: int = 0, joined: float = 0.0, max_penalty: int | None = None) -> Entry:
    channel = cast(Any, SimpleNamespace(name=name))
    return Entry(channel, prio, joined, joined, 1, max_penalty=max_penalty)


def test_queuerules_are_parsed_in_time_order() -> None:
    rules = parse_queuerules(RULES)
    assert rules["widen-mn-psychology"] == [PenaltyChange(30, "54", "")]
    assert [c.seconds for c in rules["steps"]] == [5, 10]


def test_the_max_penalty_widens_when_the_rule_is_due_and_only_when_the_dialplan_set_it() -> None:
    engine = _engine(parse_queuerules(RULES))
    queue = Queue(QueueConfig("mn-psychology", defaultrule="widen-mn-psychology"))
    set_by_dialplan = _entry("PJSIP/trunk-1", max_penalty=49)
    assert engine._window(queue, set_by_dialplan, 29.9) == (49, None)
    assert engine._window(queue, set_by_dialplan, 30.0) == (54, None)
    assert engine._next_rule_at(queue, set_by_dialplan, 10.0) is not None
    assert engine._next_rule_at(queue, set_by_dialplan, 31.0) is None
    unset = _entry("PJSIP/trunk-2")
    assert engine._window(queue, unset, 100.0) == (None, None)


def test_relative_changes_add_to_the_current_limit() -> None:
    engine = _engine(parse_queuerules(RULES))
    queue = Queue(QueueConfig("q", defaultrule="steps"))
    entry = _entry("PJSIP/trunk-3", max_penalty=3)
    assert engine._window(queue, entry, 6.0) == (20, None)
    assert engine._window(queue, entry, 11.0) == (25, None)


def test_change_priority_moves_the_caller_ahead_of_lower_priorities() -> None:
    engine = _engine({})
    queue = Queue(QueueConfig("q"))
    engine.queues = {"q": queue}
    queue.entries = [_entry("A", 0), _entry("B", 0), _entry("C", 0)]
    assert engine.change_priority("q", "C", 10)
    assert [e.channel.name for e in queue.entries] == ["C", "A", "B"]
    assert engine.change_priority("q", "B", 10)
    assert [e.channel.name for e in queue.entries] == ["C", "B", "A"]  # behind the equal priority
    assert not engine.change_priority("q", "nobody", 10)
    assert not engine.change_priority("other", "A", 10)
