"""Who is an anonymous caller (issue 9): one rule for the IVR (no callback offered), the work orders and
the reports (counted apart), so that the three always agree.

A caller is anonymous when the call shows no usable caller number: none at all, an empty one, or anything
that is not digits with an optional leading ``+`` (``anonymous``, ``Restricted``, ``private``,
``unknown``, ``<unknown>`` as AMI shows it, a SIP URI). Surrounding blanks are ignored.
"""

from __future__ import annotations

__all__ = ["NUMBER_PATTERN", "caller_number", "is_anonymous"]

# The same rule as a POSIX regular expression, for the database (PostgreSQL ``~``): a row's caller is
# anonymous when its number is NULL or does not match. It agrees with :func:`caller_number` on ASCII;
# Python's ``isdigit`` also accepts other scripts' digits, which no telephone trunk sends.
NUMBER_PATTERN = r"^[[:space:]]*\+?[0-9]+[[:space:]]*$"


def caller_number(raw: str | None) -> str | None:
    """The caller's number, None for an anonymous caller (no caller ID, ``anonymous``, not digits)."""
    if raw is None:
        return None
    number = raw.strip()
    digits = number[1:] if number.startswith("+") else number
    if not digits or not digits.isdigit():
        return None
    return number


def is_anonymous(raw: str | None) -> bool:
    """True when the call came without a usable caller number (see the module's rule)."""
    return caller_number(raw) is None
