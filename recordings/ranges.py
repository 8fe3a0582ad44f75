"""HTTP Range (RFC 9110 §14) for one byte range: ``bytes=a-b``, ``bytes=a-``, ``bytes=-n``."""

from __future__ import annotations


class RangeNotSatisfiable(Exception):
    """The range starts past the end of the file (HTTP 416)."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive ``(first, last)`` byte positions asked for, or None for the whole file (no header, a
    header we do not serve such as several ranges or another unit: RFC 9110 lets a server ignore it)."""
    if not header:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first_text, dash, last_text = spec.strip().partition("-")
    if not dash:
        return None
    try:
        if first_text == "":
            suffix = int(last_text)
            if suffix <= 0:
                raise RangeNotSatisfiable(header)
            return (max(size - suffix, 0), size - 1) if size else _unsatisfiable(header)
        first = int(first_text)
        last = int(last_text) if last_text else size - 1
    except ValueError:
        return None
    if first < 0 or (last < first and last_text):
        return None
    if first >= size:
        raise RangeNotSatisfiable(header)
    return first, min(last, size - 1)


def _unsatisfiable(header: str) -> tuple[int, int]:
    raise RangeNotSatisfiable(header)
