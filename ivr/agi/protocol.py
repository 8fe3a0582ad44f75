"""FastAGI wire format, without I/O: the ``agi_*`` header block, replies, and command quoting.

See ``../shared/reference/fastagi.md`` (res_agi.c of Asterisk 20–22) for what each piece mirrors.
Lines are handled as ``str`` without their trailing ``\\n``; the server decodes each whole line as UTF-8
(so a character split across TCP segments is never lost).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = [
    "HANGUP_LINE",
    "MAX_COMMAND_BYTES",
    "MAX_COMMAND_WORDS",
    "AgiCommandError",
    "AgiCommandFailedError",
    "AgiError",
    "AgiHangup",
    "AgiProtocolError",
    "AgiReply",
    "AgiRequest",
    "ReplyParser",
    "check_reply",
    "format_command",
    "is_hangup_line",
    "parse_request",
    "quote_arg",
]

HANGUP_LINE = "HANGUP"
# res_agi reads a command into a 2048-byte buffer (AGI_BUF_LEN, 8192 from 20.16/22.6): the line, its "\n"
# and the C string's NUL must fit, or the rest is run as a second command. We keep to the smaller size.
MAX_COMMAND_BYTES = 2046
MAX_COMMAND_WORDS = 127  # parse_args keeps at most MAX_ARGS - 1 words
UNKNOWN = "unknown"


class AgiError(Exception):
    """Base of the FastAGI errors."""


class AgiHangup(AgiError):
    """The channel hung up: ``HANGUP`` was seen, a media command failed on a dead channel, a command got
    ``511``, or Asterisk closed the connection."""


class AgiCommandError(AgiError):
    """Asterisk refused a command: ``510`` (unknown command) or ``520`` (usage), with its text."""

    def __init__(self, code: int, text: str, command: str = "") -> None:
        super().__init__(f"{code} {text}" + (f" (command: {command})" if command else ""))
        self.code = code
        self.text = text
        self.command = command


class AgiCommandFailedError(AgiCommandError):
    """A command answered ``200 result=-1`` on a live channel (e.g. a missing sound file)."""


class AgiProtocolError(AgiError):
    """The peer sent something that is not FastAGI (or nothing in time)."""


# -- the header block ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgiRequest:
    """The ``agi_*`` header block of one FastAGI connection."""

    env: Mapping[str, str]  # every header line, key → raw value (``agi_`` prefix kept)
    network_script: str  # "ivr?lang=mn"; "" when Asterisk omitted the line
    script_path: str  # "ivr" (slashes at either end removed, percent-decoded)
    params: Mapping[str, str] = field(default_factory=dict)  # query arguments, last one wins
    args: tuple[str, ...] = ()  # agi_arg_1 … agi_arg_N in order

    def get(self, key: str) -> str | None:
        """A header by name, with or without the ``agi_`` prefix."""
        return self.env.get(key if key.startswith("agi_") else f"agi_{key}")

    def _known(self, key: str) -> str | None:
        value = self.get(key)
        return None if value is None or value == UNKNOWN else value

    @property
    def uniqueid(self) -> str:
        return self.get("uniqueid") or ""

    @property
    def channel(self) -> str:
        return self.get("channel") or ""

    @property
    def request(self) -> str:
        return self.get("request") or ""

    @property
    def language(self) -> str:
        return self.get("language") or ""

    @property
    def context(self) -> str:
        return self.get("context") or ""

    @property
    def extension(self) -> str:
        return self.get("extension") or ""

    @property
    def callerid(self) -> str | None:
        """Caller number; None when Asterisk reported ``unknown``."""
        return self._known("callerid")

    @property
    def calleridname(self) -> str | None:
        return self._known("calleridname")

    @property
    def dnid(self) -> str | None:
        return self._known("dnid")

    @property
    def rdnis(self) -> str | None:
        return self._known("rdnis")


_ARG_KEY = re.compile(r"agi_arg_([0-9]+)\Z")


def parse_request(lines: Iterable[str]) -> AgiRequest:
    """Build an :class:`AgiRequest` from the header lines (without the closing empty line)."""
    env: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition(":")
        key = key.strip()
        if not sep or not key or any(c.isspace() for c in key):
            raise AgiProtocolError(f"not an AGI header line: {line!r}")
        env[key] = value[1:] if value.startswith(" ") else value
    if not any(key.startswith("agi_") for key in env):
        raise AgiProtocolError("no agi_* header received")
    numbered = sorted((int(m.group(1)), v) for k, v in env.items() if (m := _ARG_KEY.match(k)))
    network_script = env.get("agi_network_script", "")
    parts = urlsplit(network_script)
    return AgiRequest(
        env=env,
        network_script=network_script,
        script_path=unquote(parts.path).strip("/"),
        params=dict(parse_qsl(parts.query, keep_blank_values=True)),
        args=tuple(v for _, v in numbered),
    )


# -- replies ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgiReply:
    """One reply. ``result`` is the raw text after ``result=`` (GET DATA digits may be ``""``), ``data`` the
    text in parentheses (``timeout``, a variable's value), ``text`` anything else (``Trying...``, the 510/511
    message, the 520 usage lines joined by ``\\n``)."""

    code: int
    result: str | None = None
    data: str | None = None
    endpos: int | None = None
    text: str = ""

    @property
    def result_int(self) -> int | None:
        try:
            return int(self.result) if self.result is not None else None
        except ValueError:
            return None


_CODE = re.compile(r"([0-9]{3})(?:([ -])(.*))?\Z", re.DOTALL)
_RESULT = re.compile(r"result=(\S*)(.*)\Z", re.DOTALL)
_ENDPOS = re.compile(r"(.*) endpos=(-?[0-9]{1,18})\Z", re.DOTALL)


def is_hangup_line(line: str) -> bool:
    return line.strip() == HANGUP_LINE


def _parse_result(code: int, rest: str, line: str) -> AgiReply:
    match = _RESULT.match(rest)
    if match is None:
        raise AgiProtocolError(f"reply without result=: {line!r}")
    result, tail = match.group(1), match.group(2)
    endpos: int | None = None
    if (end := _ENDPOS.match(tail)) is not None:
        tail, endpos = end.group(1), int(end.group(2))
    data: str | None = None
    text = tail.strip()
    if tail.startswith(" (") and tail.endswith(")"):
        data, text = tail[2:-1], ""
    return AgiReply(code=code, result=result, data=data, endpos=endpos, text=text)


class ReplyParser:
    """Feed reply lines one at a time; :meth:`feed` returns the :class:`AgiReply` once a reply is complete
    (a multi-line ``520-`` usage block is complete at its ``520 `` line), else None. ``HANGUP`` lines are not
    replies: filter them with :func:`is_hangup_line` first. Anything else raises :class:`AgiProtocolError`.
    """

    def __init__(self) -> None:
        self._usage: list[str] | None = None

    @property
    def in_progress(self) -> bool:
        return self._usage is not None

    def feed(self, line: str) -> AgiReply | None:
        if self._usage is not None:
            if line.startswith("520 "):
                lines, self._usage = self._usage, None
                return AgiReply(code=520, text="\n".join(lines))
            self._usage.append(line)
            if len(self._usage) > 1000:
                self._usage = None
                raise AgiProtocolError("520 usage block does not end")
            return None
        match = _CODE.match(line)
        if match is None:
            raise AgiProtocolError(f"not an AGI reply: {line!r}")
        code, sep, rest = int(match.group(1)), match.group(2) or "", match.group(3) or ""
        if sep == "-":
            if code != 520:
                raise AgiProtocolError(f"unexpected multi-line reply: {line!r}")
            self._usage = [rest]
            return None
        if code in (100, 200):
            return _parse_result(code, rest, line)
        if code in (510, 511, 520):
            return AgiReply(code=code, text=rest)
        raise AgiProtocolError(f"unknown reply code: {line!r}")


def check_reply(reply: AgiReply, command: str = "") -> AgiReply:
    """Return a ``200`` reply as is; raise the typed error for the others."""
    if reply.code == 200:
        return reply
    if reply.code == 511:
        raise AgiHangup(f"511 {reply.text} (command: {command})")
    if reply.code in (510, 520):
        raise AgiCommandError(reply.code, reply.text, command)
    raise AgiProtocolError(f"unexpected reply {reply.code} to {command!r}: {reply.text}")


# -- commands --------------------------------------------------------------------------------------------

_FORBIDDEN = ("\n", "\r", "\0")
_NEEDS_QUOTES = re.compile(r'[\s"\\]')


def quote_arg(word: str) -> str:
    """Quote one command word so that res_agi's ``parse_args`` reads it back exactly.

    Plain words go as they are; empty words and words with blanks, quotes or backslashes go in double
    quotes with ``"`` and ``\\`` backslash-escaped. A newline, carriage return or NUL cannot be carried by
    a command line at all: :class:`ValueError`.
    """
    if any(c in word for c in _FORBIDDEN):
        raise ValueError(f"an AGI command word cannot contain CR, LF or NUL: {word!r}")
    if word and _NEEDS_QUOTES.search(word) is None:
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_command(*words: str) -> str:
    """One command line (without its ``\\n``): the words quoted as needed, joined by spaces. The first
    words are the command's name (``"GET", "DATA"``) and are expected to be plain."""
    if not words:
        raise ValueError("empty AGI command")
    if len(words) > MAX_COMMAND_WORDS:
        raise ValueError(f"an AGI command has at most {MAX_COMMAND_WORDS} words")
    line = " ".join(quote_arg(word) for word in words)
    if len(line.encode("utf-8")) > MAX_COMMAND_BYTES:
        raise ValueError(f"AGI command longer than {MAX_COMMAND_BYTES} bytes")
    return line
