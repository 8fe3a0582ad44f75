"""AMI framing: bytes in, whole :class:`AmiMessage` objects out. Pure, no I/O.

Why our own framer and not panoramisk's ``AMIProtocol.data_received``: panoramisk decodes every TCP
chunk on its own with ``errors='ignore'``, so a UTF-8 character split across two reads vanishes
("共青团12355" arrived as "青团12355"), and it keeps repeated keys only by turning values into lists.
Here the byte stream is cut on the blank line first and only *whole* messages are decoded, so a character
can never be split; invalid bytes become U+FFFD and a warning is logged.

Two paths, the same messages (tests/ami/test_framing.py holds them to that): ``_feed_crlf`` for what
Asterisk really sends — CRLF only, valid UTF-8, one colon per line — cuts and checks every message of a
64 KiB read with a handful of C-level calls; anything else (bare LFs, invalid bytes, lines without ``": "``,
line numbers for replay) goes through ``_feed_any``. AMI ingest speed is a benchmark (issue 8).

Wire format (Asterisk ``main/manager.c``): an optional banner line ``Asterisk Call Manager/x.y.z`` on
connect, then messages of ``Key: Value`` lines ending CRLF, each message ended by an empty line. Bare
``\\n`` line ends are tolerated (normalised to ``\\n`` before cutting). A line without ``:`` is recorded
in :attr:`AmiMessage.errors` (with the raw text) and left out; the framer never raises.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from itertools import chain, repeat

log = logging.getLogger(__name__)

BANNER_PREFIX = "Asterisk Call Manager/"
_BANNER_PREFIX_B = BANNER_PREFIX.encode()
_END_COMMAND = "--END COMMAND--"
#: a message longer than this without its blank line is garbage (or not AMI): dropped, not buffered forever
MAX_MESSAGE_BYTES = 1 << 20
# shared infinite iterators for the C-level ``map(str.split, lines, _SEP, _ONE)`` of the fast path
_SEP = repeat(": ")
_ONE = repeat(1)
# _feed_crlf's colon outline: every byte but ':', CR and LF is dropped; a clean message is a prefix of _CLEAN
_NOT_COLON_CR_LF = bytes(b for b in range(256) if b not in b":\r\n")
_CLEAN = b":\r\n" * 4096


#: the key positions of message shapes seen before, by first value (the event name, for events): see
#: :func:`_positions`. Bounded: a stream of odd messages cannot grow it past a few thousand entries.
_SHAPES: dict[str | None, list[tuple[list[str | None], dict[str, int]]]] = {}
_SHAPES_MAX_NAMES = 1024
_SHAPES_PER_NAME = 4


def _positions(kv: list[str | None]) -> dict[str, int]:
    """Each key's position in ``kv`` (key, value, key, value …): the index of its first value.

    Asterisk sends every event of a kind with the same keys in the same order, so the positions are
    computed once per *shape* and found again by comparing the key list with the shapes already seen
    for that event name — a list comparison, where building a dict of every header for every message
    was the largest single cost of AMI ingest (issue 8). Exact: a shape is reused only when its keys are
    equal, one by one.
    """
    keys = kv[::2]
    name = kv[1]
    shapes = _SHAPES.get(name)
    if shapes is not None:
        for known, known_pos in shapes:
            if known == keys:
                return known_pos
    pos: dict[str, int] = dict(zip(keys, range(1, len(kv), 2), strict=True))  # type: ignore[arg-type]
    if len(pos) != len(keys):  # a repeated key: its first value wins
        pos = dict(zip(keys[::-1], range(len(kv) - 1, 0, -2), strict=True))  # type: ignore[arg-type]
    if shapes is None:
        if len(_SHAPES) < _SHAPES_MAX_NAMES:
            _SHAPES[name] = [(keys, pos)]
    else:
        shapes.insert(0, (keys, pos))
        del shapes[_SHAPES_PER_NAME:]
    return pos


class AmiMessage:
    """One AMI message: an ordered list of ``(key, value)`` pairs, repeated keys kept.

    ``get`` returns the *first* value of a key (exact, case-sensitive match as Asterisk spells it),
    ``get_all`` every value in order. ``line`` is the 1-based line of the message's first line in the
    stream when the framer was asked to count lines (replay), else ``None``.

    Nothing is built before it is read. A message from the framer's CRLF fast path keeps just its text
    (one ``Key: Value`` per line, checked). The first read splits it, once, into its *fields*
    (:meth:`_fields`): a flat list ``key, value, key, value …, None`` and each key's position in it,
    shared by every message of the same shape (:func:`_positions`). ``get(key)`` is then
    ``values[positions.get(key, -1)]`` — the trailing ``None`` answers for a missing key — and
    :func:`callcenter.ami.events.translate` reads the same two. The pair list is built only if asked.
    Building a dict of every header of every message was the largest cost of AMI ingest (issue 8).
    """

    __slots__ = ("_kv", "_pairs", "_pos", "_size", "_text", "errors", "line")

    _text: str | None  # a clean message's text (CRLF lines, one ": " each, checked by the framer)
    _size: int  # its number of lines
    _kv: list[str | None] | None  # key, value, key, value …, None
    _pos: dict[str, int] | None  # key -> position of its first value in _kv
    _pairs: list[tuple[str, str]] | None

    def __init__(
        self,
        pairs: list[tuple[str, str]],
        errors: tuple[str, ...] = (),
        line: int | None = None,
    ) -> None:
        self._pairs = pairs
        self._text = self._kv = self._pos = None
        self.errors = errors
        self.line = line

    @classmethod
    def _from_kv(cls, kv: list[str | None]) -> AmiMessage:
        """A message from its key, value, key, value … list (each line checked by the caller)."""
        msg = cls.__new__(cls)
        msg._pairs = msg._text = None
        msg._pos = _positions(kv) if kv else {}
        kv.append(None)
        msg._kv = kv
        msg.errors = ()
        msg.line = None
        return msg

    @classmethod
    def from_mapping(cls, headers: dict[str, str]) -> AmiMessage:
        return cls(list(headers.items()))

    def _fields(self) -> tuple[list[str | None], dict[str, int]]:
        """``(values, positions)``: the value of ``key`` is ``values[positions.get(key, -1)]``, ``None``
        if the message has no such key; the first occurrence of a repeated key wins. Built once."""
        kv = self._kv
        pos = self._pos
        if kv is not None and pos is not None:
            return kv, pos
        text = self._text
        if text is not None:
            split: list[str | None] = text.replace(": ", "\r\n").split("\r\n")  # type: ignore[assignment]
            if len(split) == 2 * self._size:
                kv = split
            else:  # one colon per line, but some "Key:Value": the general parser reads both alike
                slow = _parse_slow(text.replace("\r\n", "\n"), None)
                self._pairs = slow.pairs if slow is not None else []
            self._text = None
        if kv is None:
            kv = [item for pair in self._pairs or () for item in pair]
        pos = _positions(kv) if kv else {}
        kv.append(None)
        self._kv = kv
        self._pos = pos
        return kv, pos

    @property
    def pairs(self) -> list[tuple[str, str]]:
        pairs = self._pairs
        if pairs is None:
            kv = self._fields()[0]
            pairs = self._pairs  # the general parser may have set them
            if pairs is None:
                pairs = self._pairs = list(zip(kv[0:-1:2], kv[1::2], strict=True))  # type: ignore[arg-type]
        return pairs

    @pairs.setter
    def pairs(self, value: list[tuple[str, str]]) -> None:
        self._pairs = value
        self._text = self._kv = self._pos = None

    def _first_key(self) -> str | None:
        text = self._text
        if text is not None:
            return text[: text.find(":")]
        kv = self._kv
        if kv is not None:
            return kv[0]
        pairs = self._pairs
        return pairs[0][0] if pairs else None

    def get(self, key: str, default: str | None = None) -> str | None:
        kv, pos = self._fields()
        value = kv[pos.get(key, -1)]
        return default if value is None else value

    def __getitem__(self, key: str) -> str:
        kv, pos = self._fields()
        return kv[pos[key]]  # type: ignore[return-value]  # a position always holds a value

    def __contains__(self, key: object) -> bool:
        return key in self._fields()[1]

    def get_all(self, key: str) -> list[str]:
        return [v for k, v in self.pairs if k == key]

    @property
    def name(self) -> str | None:
        """The ``Event`` name, or ``None`` for a response."""
        return self.get("Event")

    @property
    def is_event(self) -> bool:
        if self._first_key() == "Event":
            return True
        return "Event" in self and "Response" not in self

    @property
    def is_response(self) -> bool:
        if self._first_key() == "Response":
            return True
        return "Response" in self

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    def to_dict(self) -> dict[str, str]:
        """First value of each key; use :meth:`get_all` for repeated keys."""
        kv, pos = self._fields()
        return {key: kv[i] for key, i in pos.items()}  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"AmiMessage({self.pairs!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AmiMessage):
            return NotImplemented
        return self.pairs == other.pairs and self.errors == other.errors

    __hash__ = None  # type: ignore[assignment]


def parse_message(text: str, line: int | None = None) -> AmiMessage | None:
    """Parse the text of one message (without the blank line). ``None`` if it holds no line at all."""
    split = [raw.partition(": ") for raw in text.split("\n")]
    pairs = [(k, v) for k, sep, v in split if sep]
    if len(pairs) == len(split):  # the fast path: every line is "Key: Value"
        return AmiMessage(pairs, (), line)
    return _parse_slow(text, line)


def _parse_slow(text: str, line: int | None) -> AmiMessage | None:
    pairs: list[tuple[str, str]] = []
    errors: list[str] = []
    follows = False
    for raw_line in text.split("\n"):
        key, sep, value = raw_line.partition(":")
        if sep:
            if value[:1] == " ":
                value = value[1:]
            if value[-1:] == "\r":
                value = value[:-1]
            pairs.append((key, value))
            if not follows and len(pairs) == 1 and pairs[0] == ("Response", "Follows"):
                follows = True
        elif raw_line and raw_line != "\r":
            if follows:
                # Asterisk < 14 Command output: bare lines until --END COMMAND--
                if raw_line != _END_COMMAND:
                    pairs.append(("Output", raw_line))
            else:
                errors.append(raw_line)
    if not pairs and not errors:
        return None
    return AmiMessage(pairs, tuple(errors), line)


class AmiFramer:
    """Incremental framer. ``feed(bytes)`` returns the messages completed by that chunk.

    ``count_lines=True`` stamps each message with its first line number (for replay diagnostics);
    it costs one ``bytes.count`` per message.
    """

    __slots__ = ("_count_lines", "_line", "_started", "_tail", "banner", "errors")

    def __init__(self, *, count_lines: bool = False) -> None:
        self._tail = b""
        self._started = False
        self._count_lines = count_lines
        self._line = 1
        self.banner: str | None = None
        #: framing errors as (line or None, message) — also logged; drained by the caller if wanted
        self.errors: list[tuple[int | None, str]] = []

    @property
    def version(self) -> str | None:
        """The AMI version from the banner (``11.0.0``), if one was seen."""
        if self.banner is None:
            return None
        return self.banner[len(BANNER_PREFIX) :].strip()

    def feed(self, data: bytes) -> list[AmiMessage]:
        buf = self._tail + data if self._tail else data
        if not self._started:
            if len(buf) < len(_BANNER_PREFIX_B) and _BANNER_PREFIX_B.startswith(buf):
                self._tail = buf  # maybe the start of a banner: wait for more
                return []
            if buf.startswith(_BANNER_PREFIX_B):
                nl = buf.find(b"\n")
                if nl < 0 and len(buf) < 4096:
                    self._tail = buf
                    return []
                if nl < 0:
                    nl = len(buf)
                self.banner = buf[:nl].decode("utf-8", "replace").rstrip("\r")
                log.debug("AMI banner %r", self.banner)
                buf = buf[nl + 1 :]
                self._line += 1
            self._started = True
        if not self._count_lines:
            out = self._feed_crlf(buf)
            if out is not None:
                return out
        return self._feed_any(buf)

    def _feed_crlf(self, buf: bytes) -> list[AmiMessage] | None:
        """The fast path for what Asterisk sends (CRLF only, valid UTF-8); ``None``: take :meth:`_feed_any`.

        Everything up to the last blank line is decoded at once and cut into messages. One
        ``bytes.translate`` keeps only the colons, CRs and LFs of those bytes: a message whose lines each
        hold exactly one colon shows as ``:␍␊:␍␊…:`` there. Such a *clean* message cannot hold a framing
        error, so it is handed out as its text, split when first read (one replace-and-split when there
        are as many ``": "`` as lines, see :meth:`AmiMessage._fields`) — the cheapest exact way found
        (issue 8). Any other message (a value
        with a colon, a line without ``": "``) goes through :meth:`_crlf_message`, the per-message path
        that records errors now; a bare LF anywhere sends the whole buffer to :meth:`_feed_any`, which
        normalises line ends first.
        """
        end = buf.rfind(b"\r\n\r\n")
        if end < 0 or buf.endswith(b"\r\n", 0, end):
            return None  # no whole message yet, or a run of blank lines: cut as _feed_any would
        tail = buf[end + 4 :]
        if b"\n" in tail and tail.count(b"\n") != tail.count(b"\r\n"):
            return None
        region = buf[:end]
        try:
            text = region.decode("utf-8")
        except UnicodeDecodeError:
            return None  # _feed_any decodes message by message, with replacement and a warning
        parts = text.split("\r\n\r\n")
        colons = region.translate(None, _NOT_COLON_CR_LF)
        # the colon outline cuts where the text does unless a line without a colon adds a blank line
        if b"\r\n\r\n\r\n" not in colons and colons.count(b"\r\n\r\n") == len(parts) - 1:
            outlines = colons.split(b"\r\n\r\n")
        else:
            outlines = [b""] * len(parts)
        out: list[AmiMessage] = []
        append = out.append
        new = AmiMessage.__new__
        for part, outline in zip(parts, outlines, strict=True):
            if _CLEAN.startswith(outline) and len(outline) % 3 == 1:
                msg = new(AmiMessage)
                msg._text = part
                msg._size = (len(outline) + 2) // 3
                msg._kv = msg._pos = msg._pairs = None
                msg.errors = ()
                msg.line = None
                append(msg)
                continue
            if not part:
                continue
            if part.count("\n") != part.count("\r\n"):
                return None
            message = self._crlf_message(part)
            if message is not None:
                append(message)
        self._tail = self._check_tail(tail)
        return out

    def _crlf_message(self, text: str) -> AmiMessage | None:
        lines = text.split("\r\n")
        # every line "Key: Value" splits in two; any other line makes the list short: the slow path
        kv: list[str | None] = list(chain.from_iterable(map(str.split, lines, _SEP, _ONE)))
        if len(kv) != 2 * len(lines):
            text = text.replace("\r\n", "\n")
            return self._check(_parse_slow(text, None), text, None)
        return AmiMessage._from_kv(kv)

    def _feed_any(self, buf: bytes) -> list[AmiMessage]:
        """Any line ends, any bytes; line numbers when counting."""
        crlf = False
        if b"\r" in buf:
            # when every LF follows a CR, cutting on CRLFCRLF and CRLF is the same as normalising first
            if not self._count_lines and buf.count(b"\n") == buf.count(b"\r\n"):
                crlf = True
            else:
                buf = buf.replace(b"\r\n", b"\n")
        parts = buf.split(b"\r\n\r\n" if crlf else b"\n\n")
        self._tail = self._check_tail(parts.pop())
        if not self._count_lines:
            out: list[AmiMessage] = []
            append = out.append
            for raw in parts:
                if not raw:
                    continue
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    msg = self._decode(raw.replace(b"\r\n", b"\n") if crlf else raw, None)
                else:
                    msg = self._crlf_message(text) if crlf else self._check(parse_message(text), text, None)
                if msg is not None:
                    append(msg)
            return out
        out = []
        for raw in parts:
            if not raw:
                self._line += 1
                continue
            # leading blank lines (e.g. "\n\n\n") belong to the separator
            stripped = raw.lstrip(b"\n")
            line = self._line + len(raw) - len(stripped)
            self._line += raw.count(b"\n") + 2
            msg = self._decode(stripped, line)
            if msg is not None:
                out.append(msg)
        return out

    def _check_tail(self, tail: bytes) -> bytes:
        if len(tail) > MAX_MESSAGE_BYTES:
            self._error(None, f"no message end after {len(tail)} bytes: dropped {tail[:120]!r}...")
            return b""
        return tail

    def flush(self) -> list[AmiMessage]:
        """End of stream: a last message without its blank line is still delivered."""
        tail, self._tail = self._tail, b""
        # the tail of a CRLF stream is kept as received (see feed)
        tail = tail.replace(b"\r\n", b"\n").strip(b"\n")
        if not tail:
            return []
        msg = self._decode(tail, self._line if self._count_lines else None)
        return [msg] if msg is not None else []

    def _decode(self, raw: bytes, line: int | None) -> AmiMessage | None:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = raw.decode("utf-8", "replace")
            self._error(line, f"invalid UTF-8 ({exc.reason}) in {text[:200]!r}")
        return self._check(parse_message(text, line), text, line)

    def _check(self, msg: AmiMessage | None, text: str, line: int | None) -> AmiMessage | None:
        if msg is not None and msg.errors:
            kept: list[str] = []
            for bad in msg.errors:
                if bad.startswith(BANNER_PREFIX):  # a banner after a reconnect on a reused stream
                    self.banner = bad
                    continue
                kept.append(bad)
                self._error(line, f"line without ':' {bad[:200]!r} in message {text[:200]!r}")
            msg.errors = tuple(kept)
            if not msg.pairs and not kept:
                return None
        return msg

    def _error(self, line: int | None, message: str) -> None:
        log.warning("AMI framing error%s: %s", "" if line is None else f" at line {line}", message)
        self.errors.append((line, message))
        if len(self.errors) > 1000:
            del self.errors[:500]


def iter_messages(
    chunks: Iterator[bytes] | list[bytes], *, count_lines: bool = False
) -> Iterator[AmiMessage]:
    """Frame a finite sequence of byte chunks (a capture file, a test)."""
    framer = AmiFramer(count_lines=count_lines)
    for chunk in chunks:
        yield from framer.feed(chunk)
    yield from framer.flush()
