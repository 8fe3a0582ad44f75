"""A line-by-line Python port of res_agi.c ``parse_args`` (Asterisk 20–22), on bytes as the C does."""

from __future__ import annotations

MAX_ARGS = 128


def parse_args(line: bytes) -> list[bytes]:
    argv: list[bytearray] = []
    cur: bytearray | None = None
    quoted = escaped = False
    whitespace = True

    def start_word() -> bytearray | None:
        if len(argv) >= MAX_ARGS - 1:
            return None
        word = bytearray()
        argv.append(word)
        return word

    for byte in line:
        ch = bytes([byte])
        if ch == b'"' and not escaped:
            quoted = not quoted
            if quoted and whitespace:
                cur = start_word()
                whitespace = False
            escaped = False
            continue
        if ch in (b" ", b"\t") and not quoted and not escaped:
            whitespace = True
            cur = None
            continue
        if ch == b"\\" and not escaped:
            escaped = True
            continue
        # normal:
        if whitespace:
            new = start_word()
            if new is None:  # "Too many arguments, truncating": the C breaks out of the switch
                continue
            cur = new
            whitespace = False
        if cur is not None:
            cur.extend(ch)
        escaped = False
    return [bytes(word) for word in argv]
