"""Who counts as an anonymous caller: the one rule the IVR, the work orders and the reports share."""

from __future__ import annotations

import pytest

import ivr.hours_gate
from routing.callerid import caller_number, is_anonymous

ANONYMOUS = [
    None,
    "",
    " ",
    "+",
    "anonymous",
    "Restricted",
    "private",
    "unknown",
    "<unknown>",
    "sip:x@y",
    "12a3",
]
NUMBERS = ["13800138000", "+8613800138000", " 13800138000 ", "110"]


@pytest.mark.parametrize("raw", ANONYMOUS)
def test_no_usable_number_is_anonymous(raw: str | None) -> None:
    assert is_anonymous(raw) and caller_number(raw) is None


@pytest.mark.parametrize("raw", NUMBERS)
def test_digits_with_an_optional_plus_are_a_number(raw: str) -> None:
    assert not is_anonymous(raw) and caller_number(raw) == raw.strip()


def test_the_ivr_uses_the_same_rule() -> None:
    assert ivr.hours_gate.caller_number is caller_number
