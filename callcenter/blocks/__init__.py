"""Blocked and repeat callers, out-of-hours messages: the caller gate's adapter (issue 9)."""
