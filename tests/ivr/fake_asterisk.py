"""A scripted fake Asterisk speaking the FastAGI client side over real TCP, as res_agi does."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .asterisk_parse_args import parse_args

WAIT = 5.0  # upper bound for any single wait in these tests

# GET DATA script entries besides digits ("12") and None (timeout):
HANGUP = "<hangup>"  # "HANGUP" then "200 result=-1", then dead mode
HANGUP_REAL_ORDER = "<hangup-real-order>"  # "200 result=-1" then "HANGUP" (res_agi's order), dead mode
HANGUP_AFTER_DIGITS = "<hangup-after-1>"  # "HANGUP" then "200 result=1": pressed 1 and hung up
HANGUP_EOF = "<hangup-eof>"  # AGIEXITONHANGUP=yes: "200 result=-1", "HANGUP" and close
FAIL = "<fail>"  # missing prompt on a live channel: "200 result=-1"
WEDGE = "<wedge>"  # never answer
HASH = "<hash>"  # "#" alone: "200 result="

DEAD_OK = {"EXEC", "SET", "GET", "VERBOSE", "NOOP", "DATABASE", "ASYNCAGI", "SPEECH"}


def header_lines(script: str = "ivr", *, uniqueid: str = "1732350000.42", name: str = "共青团") -> list[str]:
    lines = ["agi_network: yes"]
    if script:
        lines.append(f"agi_network_script: {script}")
    lines += [
        f"agi_request: agi://127.0.0.1:4573/{script}",
        "agi_channel: PJSIP/trunk-00000001",
        "agi_language: zh",
        "agi_type: PJSIP",
        f"agi_uniqueid: {uniqueid}",
        "agi_version: 22.4.1",
        "agi_callerid: 13800138000",
        f"agi_calleridname: {name}",
        "agi_callingpres: 0",
        "agi_callingani2: 0",
        "agi_callington: 0",
        "agi_callingtns: 0",
        "agi_dnid: 12355",
        "agi_rdnis: unknown",
        "agi_context: hotline-inbound",
        "agi_extension: 12355",
        "agi_priority: 4",
        "agi_enhanced: 0.0",
        "agi_accountcode: ",
        "agi_threadid: 140241384552000",
    ]
    return lines


Responder = Callable[[list[str]], list[str] | None]


@dataclass
class FakeAsterisk:
    port: int
    script: str = "ivr"
    get_data: Sequence[str | None] = ()
    header_mode: str = "lines"  # "lines": one write per line; "bytes": one write per byte
    responder: Responder | None = None  # tried first; returns the reply lines, or None for the default
    on_command: Callable[[str], None] | None = None
    name: str = "共青团"
    commands: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    closed_by_server: bool = False
    dead: bool = False

    async def run(self) -> FakeAsterisk:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            await self._send_header(writer)
            await self._serve(reader, writer)
        finally:
            writer.close()
        return self

    async def _send_header(self, writer: asyncio.StreamWriter) -> None:
        block = "".join(f"{line}\n" for line in header_lines(self.script, name=self.name)) + "\n"
        if self.header_mode == "bytes":
            for byte in block.encode():
                writer.write(bytes([byte]))
                await writer.drain()
        else:
            for line in block.splitlines(keepends=True):
                writer.write(line.encode())
                await writer.drain()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        script = list(self.get_data)
        while True:
            raw = await asyncio.wait_for(reader.readline(), WAIT)
            if not raw:
                self.closed_by_server = True
                return
            assert raw.endswith(b"\n") and b"\r" not in raw, raw
            line = raw[:-1].decode()
            self.commands.append(line)
            if self.on_command is not None:
                self.on_command(line)
            words = [w.decode() for w in parse_args(raw[:-1])]
            replies = self.responder(words) if self.responder is not None else None
            if replies is None:
                replies = self._default(words, script)
            if replies == [WEDGE]:
                continue
            for reply in replies:
                if reply == "<close>":
                    writer.close()
                    return
                writer.write(f"{reply}\n".encode())
            await writer.drain()

    def _default(self, words: list[str], script: list[str | None]) -> list[str]:
        name = words[0].upper()
        if self.dead and name not in DEAD_OK:
            return ["511 Command Not Permitted on a dead channel or intercept routine"]
        match [w.upper() for w in words[:2]]:
            case ["SET", "VARIABLE"]:
                self.variables[words[2]] = words[3]
                return ["200 result=1"]
            case ["GET", "VARIABLE"]:
                value = self.variables.get(words[2])
                return ["200 result=0"] if value is None else [f"200 result=1 ({value})"]
            case ["STREAM", "FILE"]:
                return ["200 result=0 endpos=8000"]
            case ["CHANNEL", "STATUS"]:
                return ["200 result=6"]
            case ["GET", "DATA"]:
                entry = script.pop(0) if script else None
                return self._get_data_reply(entry)
        if name in ("ANSWER", "NOOP"):
            return ["200 result=0"]
        if name == "VERBOSE":
            return ["200 result=1"]
        return ["510 Invalid or unknown command"]

    def _get_data_reply(self, entry: str | None) -> list[str]:
        if entry is None:
            return ["200 result= (timeout)"]
        if entry == HANGUP:
            self.dead = True
            return ["HANGUP", "200 result=-1"]
        if entry == HANGUP_REAL_ORDER:
            self.dead = True
            return ["200 result=-1", "HANGUP"]
        if entry == HANGUP_AFTER_DIGITS:
            self.dead = True
            return ["HANGUP", "200 result=1"]
        if entry == HANGUP_EOF:
            return ["200 result=-1", "HANGUP", "HANGUP", "<close>"]
        if entry == FAIL:
            return ["200 result=-1"]
        if entry == WEDGE:
            return [WEDGE]
        if entry == HASH:
            return ["200 result="]
        return [f"200 result={entry}"]
