"""Retention policy and HTTP ranges: pure rules, explicit clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pytest

from recordings.policy import Kept, RetentionPolicy, category_of, expired
from recordings.ranges import RangeNotSatisfiable, parse_range

ENDED = datetime(2026, 1, 10, 9, 30, tzinfo=UTC)
POLICY = RetentionPolicy(180, MappingProxyType({"crisis": 1825, "legal": 365}))


def test_each_category_keeps_its_own_number_of_days() -> None:
    assert POLICY.days_for("psychology") == 180
    assert POLICY.days_for("crisis") == 1825
    assert POLICY.expires_at("legal", ENDED) == ENDED + timedelta(days=365)


def test_expiry_is_exact_to_the_second_with_an_explicit_clock() -> None:
    due = ENDED + timedelta(days=180)
    assert not POLICY.is_expired("family", ENDED, due - timedelta(seconds=1))
    assert POLICY.is_expired("family", ENDED, due)


def test_expired_picks_the_due_ones_oldest_first_and_keeps_crisis_cases_longer() -> None:
    items = [
        Kept("new", "family", ENDED),
        Kept("old", "family", ENDED - timedelta(days=30)),
        Kept("crisis-old", "crisis", ENDED - timedelta(days=30)),
        Kept("legal", "legal", ENDED - timedelta(days=30)),
    ]
    now = ENDED + timedelta(days=200)
    assert [k.linkedid for k in expired(items, POLICY, now)] == ["old", "new"]
    assert [k.linkedid for k in expired(items, POLICY, ENDED + timedelta(days=1900))] == [
        "crisis-old",
        "legal",
        "old",
        "new",
    ]


def test_a_policy_of_zero_days_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one day"):
        RetentionPolicy(0)


def test_category_is_the_service_line_of_the_queue() -> None:
    lines = {"zh-crisis": "crisis", "zh-legal": "legal"}
    assert category_of("zh-crisis", lines) == "crisis"
    assert category_of("gone", lines) == "general"
    assert category_of(None, lines) == "general"


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 100, None),
        ("bytes=0-9", 100, (0, 9)),
        ("bytes=10-", 100, (10, 99)),
        ("bytes=-10", 100, (90, 99)),
        ("bytes=90-500", 100, (90, 99)),
        ("bytes=-500", 100, (0, 99)),
        ("bytes=0-1,5-6", 100, None),  # several ranges: served whole (allowed by RFC 9110)
        ("items=0-1", 100, None),
        ("bytes=5-2", 100, None),
        ("bytes=abc", 100, None),
    ],
)
def test_ranges(header: str | None, size: int, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, size) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=200-300", "bytes=-0"])
def test_unsatisfiable_ranges(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, 100)
