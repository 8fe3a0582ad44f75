"""The Asterisk side of FastAGI (res_agi): header block, command loop, replies, hang-up and dead mode."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from pbxsim.channel import ALL_DIGITS, Channel
from pbxsim.runtime import VERSION, Runtime

log = logging.getLogger(__name__)

ExecApp = Callable[[Channel, str, str], Awaitable[int]]

SAMPLE_RATE = 8000
DEAD_OK = {"EXEC", "SET VARIABLE", "GET VARIABLE", "GET FULL VARIABLE", "VERBOSE", "NOOP"}
COMMANDS = (
    "ANSWER",
    "STREAM FILE",
    "CONTROL STREAM FILE",
    "GET DATA",
    "GET OPTION",
    "WAIT FOR DIGIT",
    "SAY DIGITS",
    "SAY NUMBER",
    "SAY ALPHA",
    "SET VARIABLE",
    "GET VARIABLE",
    "GET FULL VARIABLE",
    "EXEC",
    "VERBOSE",
    "NOOP",
    "CHANNEL STATUS",
    "HANGUP",
    "SET CONTEXT",
    "SET EXTENSION",
    "SET PRIORITY",
    "SET CALLERID",
    "RECORD FILE",
)
USAGE = {
    "STREAM FILE": "STREAM FILE <filename> <escape_digits> [<sample offset>]",
    "GET DATA": "GET DATA <file to be streamed> [<timeout>] [<maxdigits>]",
    "RECORD FILE": (
        "RECORD FILE <filename> <format> <escape digits> <timeout> [<offset samples>] [BEEP] [s=<silence>]"
    ),
    "GET OPTION": "GET OPTION <filename> <escape_digits> [<timeout>]",
    "WAIT FOR DIGIT": "WAIT FOR DIGIT <timeout>",
    "SET VARIABLE": "SET VARIABLE <variablename> <value>",
    "GET VARIABLE": "GET VARIABLE <variablename>",
    "GET FULL VARIABLE": "GET FULL VARIABLE <variablename> [<channel name>]",
    "EXEC": "EXEC <application> <options>",
    "SAY DIGITS": "SAY DIGITS <number> <escape_digits>",
    "SAY NUMBER": "SAY NUMBER <number> <escape_digits> [<gender>]",
    "SAY ALPHA": "SAY ALPHA <number> <escape_digits>",
    "SET CONTEXT": "SET CONTEXT <desired context>",
    "SET EXTENSION": "SET EXTENSION <new extension>",
    "SET PRIORITY": "SET PRIORITY <priority>",
    "VERBOSE": "VERBOSE <message> <level>",
    "SET CALLERID": "SET CALLERID <number>",
}
RESULT_TEXT = {
    200: "Success",
    510: "Invalid or unknown command",
    511: "Command not permitted on a dead channel or intercept routine",
    520: "Usage",
}


class Usage(Exception):
    """Wrong arguments: answered with the multi-line 520 usage reply."""


def parse_words(line: str) -> list[str]:
    """res_agi parse_args: blanks separate, `"` toggles quoting, `\\` escapes the next character."""
    words: list[str] = []
    current: list[str] = []
    quoted = False
    started = False
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line):
            current.append(line[i + 1])
            started = True
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
            started = True
        elif ch in " \t" and not quoted:
            if started:
                words.append("".join(current))
                current, started = [], False
        else:
            current.append(ch)
            started = True
        i += 1
    if started:
        words.append("".join(current))
    return words[:127]


def match_command(words: list[str]) -> tuple[str, list[str]] | None:
    upper = [w.upper() for w in words]
    best: str | None = None
    for cmd in COMMANDS:
        parts = cmd.split()
        if upper[: len(parts)] == parts and (best is None or len(parts) > len(best.split())):
            best = cmd
    if best is None:
        return None
    return best, words[len(best.split()) :]


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError as exc:
        raise Usage from exc


class AgiSession:
    def __init__(
        self,
        rt: Runtime,
        channel: Channel,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        exec_app: ExecApp,
    ) -> None:
        self.rt = rt
        self.ch = channel
        self.reader = reader
        self.writer = writer
        self.exec_app = exec_app
        self.dead = False
        self.failed = False
        self.sighup = rt.get_variable(channel, "AGISIGHUP") not in ("no", "false", "off", "0", "n", "f")

    def send(self, text: str) -> None:
        if not self.writer.is_closing():
            self.writer.write(text.encode("utf-8"))

    async def run(self) -> None:
        read_task: asyncio.Task[bytes] | None = None
        try:
            while True:
                if read_task is None:
                    read_task = asyncio.ensure_future(self.reader.readline())
                if not self.dead:
                    await asyncio.wait((read_task, self.ch.interrupt), return_when=asyncio.FIRST_COMPLETED)
                    if self.ch.interrupt.done() and self._go_dead():
                        continue
                else:
                    await asyncio.wait((read_task,), timeout=self.rt.agi_dead_timeout)
                    if not read_task.done():
                        log.warning(
                            "%s: AGI server did not close %.0f s after the hang-up; closing",
                            self.ch.name,
                            self.rt.agi_dead_timeout,
                        )
                        break
                task, read_task = read_task, None
                try:
                    raw = task.result()
                except (OSError, ValueError, asyncio.IncompleteReadError):
                    break
                if not raw:
                    break  # the server closed: the AGI ends
                line = raw.decode("utf-8", errors="replace")
                if line.endswith("\n"):
                    line = line[:-1]
                if line[:7].lower() == "failure":
                    self.failed = True
                    break
                await self.handle(line)
                await self.writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            if read_task is not None and not read_task.done():
                read_task.cancel()
                await asyncio.gather(read_task, return_exceptions=True)
            if self.ch.interrupt.done():
                self._go_dead()
            if self.sighup:
                self.send("HANGUP\n")
            self.writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self.writer.wait_closed()

    def _go_dead(self) -> bool:
        """Caller hung up: tell the server once (`HANGUP`), then only dead-channel commands run."""
        if self.dead:
            return False
        self.dead = True
        if self.sighup:
            self.send("HANGUP\n")
        return True

    async def handle(self, line: str) -> None:
        rt, ch = self.rt, self.ch
        command_id = str(rt.rng.getrandbits(31))
        ch.emit("AGIExecStart", "agi", [("Command", line), ("CommandId", command_id)])
        words = parse_words(line)
        found = match_command(words) if words else None
        if found is None:
            code, reply = 510, "510 Invalid or unknown command\n"
        elif self.dead and found[0] not in DEAD_OK:
            code, reply = 511, "511 Command Not Permitted on a dead channel or intercept routine\n"
        else:
            cmd, args = found
            try:
                code, reply = 200, await self.run_command(cmd, args)
            except Usage:
                usage = USAGE.get(cmd, cmd)
                code = 520
                reply = (
                    "520-Invalid command syntax.  Proper usage follows:\n"
                    f"Usage: {usage}\n520 End of proper usage.\n"
                )
        self.send(reply)
        ch.emit(
            "AGIExecEnd",
            "agi",
            [
                ("Command", line),
                ("CommandId", command_id),
                ("ResultCode", str(code)),
                ("Result", RESULT_TEXT.get(code, "Success")),
            ],
        )

    async def _play(self, escape: str) -> str | None:
        """One prompt: '' played to the end, a digit if interrupted, None on hang-up."""
        return await self.ch.wait(self.rt.prompt_seconds, escape)

    async def run_command(self, cmd: str, args: list[str]) -> str:
        ch, rt = self.ch, self.rt
        endpos = int(rt.prompt_seconds * SAMPLE_RATE)
        if cmd == "ANSWER":
            if ch.hungup:
                return "200 result=-1\n"
            ch.answer()
            return "200 result=0\n"
        if cmd in ("STREAM FILE", "CONTROL STREAM FILE"):
            if len(args) < 2:
                raise Usage
            digit = await self._play(args[1])
            if digit is None:
                return f"200 result=-1 endpos={endpos}\n"
            ch.set_var("PLAYBACKSTATUS", "SUCCESS")
            return f"200 result={ord(digit) if digit else 0} endpos={endpos}\n"
        if cmd == "GET OPTION":
            if len(args) < 2:
                raise Usage
            digit = await self._play(args[1])
            if digit == "":
                wait_ms = _int(args[2]) if len(args) > 2 else 2000
                digit = await ch.wait(None if wait_ms < 0 else wait_ms / 1000, args[1])
            if digit is None:
                return f"200 result=-1 endpos={endpos}\n"
            return f"200 result={ord(digit) if digit else 0} endpos={endpos}\n"
        if cmd == "GET DATA":
            if not args:
                raise Usage
            return await self._get_data(args)
        if cmd == "WAIT FOR DIGIT":
            if len(args) != 1:
                raise Usage
            ms = _int(args[0])
            digit = await ch.wait(None if ms < 0 else ms / 1000, ALL_DIGITS)
            if digit is None:
                return "200 result=-1\n"
            return f"200 result={ord(digit) if digit else 0}\n"
        if cmd in ("SAY DIGITS", "SAY NUMBER", "SAY ALPHA"):
            if len(args) < 2:
                raise Usage
            digit = await self._play(args[1])
            if digit is None:
                return "200 result=-1\n"
            return f"200 result={ord(digit) if digit else 0}\n"
        if cmd == "SET VARIABLE":
            if len(args) != 2:
                raise Usage
            rt.set_variable(ch, args[0], args[1])
            return "200 result=1\n"
        if cmd == "GET VARIABLE":
            if len(args) != 1:
                raise Usage
            value = rt.get_variable(ch, args[0])
            return "200 result=0\n" if value is None else f"200 result=1 ({value})\n"
        if cmd == "GET FULL VARIABLE":
            if not args:
                raise Usage
            full_target = ch if len(args) < 2 else rt.find_channel(args[1])
            if full_target is None:
                return "200 result=0\n"
            return f"200 result=1 ({rt.substitute(full_target, args[0])})\n"
        if cmd == "EXEC":
            if not args:
                raise Usage
            result = await self.exec_app(ch, args[0], " ".join(args[1:]))
            return f"200 result={result}\n"
        if cmd == "VERBOSE":
            if not args:
                raise Usage
            log.info("AGI %s: %s", ch.name, args[0])
            return "200 result=1\n"
        if cmd == "NOOP":
            return "200 result=0\n"
        if cmd == "CHANNEL STATUS":
            status_target = ch if not args else rt.find_channel(args[0])
            return "200 result=-1\n" if status_target is None else f"200 result={int(status_target.state)}\n"
        if cmd == "HANGUP":
            victim = ch if not args else rt.find_channel(args[0])
            if victim is None:
                return "200 result=-1\n"
            victim.request_hangup(16)
            return "200 result=1\n"
        if cmd == "SET CONTEXT":
            if len(args) != 1:
                raise Usage
            ch.context = args[0]
            return "200 result=0\n"
        if cmd == "SET EXTENSION":
            if len(args) != 1:
                raise Usage
            ch.exten = args[0]
            return "200 result=0\n"
        if cmd == "SET PRIORITY":
            if len(args) != 1:
                raise Usage
            prio = rt.dialplan.priority_of(ch.context, ch.exten, args[0])
            if prio is None:
                raise Usage
            ch.priority = prio
            ch.jumped = True
            return "200 result=0\n"
        if cmd == "RECORD FILE":
            return await self._record_file(args)
        if cmd == "SET CALLERID":
            if len(args) != 1:
                raise Usage
            rt.set_variable(ch, "CALLERID(all)", args[0])
            return "200 result=1\n"
        return "510 Invalid or unknown command\n"

    async def _record_file(self, args: list[str]) -> str:
        """res_agi's handle_recordfile: record until an escape digit, the timeout (ms, -1: none) or a
        hang-up. The simulator keeps no audio: it remembers the file name on the channel
        (``Channel.recorded``) and reports the length as ``endpos`` (8 kHz samples)."""
        if len(args) < 4:
            raise Usage
        ch = self.ch
        name, escape, ms = args[0], args[2], _int(args[3])
        loop = asyncio.get_running_loop()
        started = loop.time()
        digit = await ch.wait(None if ms < 0 else ms / 1000, escape)
        endpos = int((loop.time() - started) * SAMPLE_RATE)
        ch.recorded.append(f"{name}.{args[1]}")
        if digit is None:
            return f"200 result=-1 (hangup) endpos={endpos}\n"
        if digit:
            return f"200 result={ord(digit)} (dtmf) endpos={endpos}\n"
        return f"200 result=0 (timeout) endpos={endpos}\n"

    async def _get_data(self, args: list[str]) -> str:
        ch = self.ch
        timeout_ms = _int(args[1]) if len(args) > 1 and args[1] else 0
        max_digits = _int(args[2]) if len(args) > 2 and args[2] else 1024
        first: float | None
        between: float | None
        if timeout_ms == 0:
            first, between = 6.0, 2.0
        elif timeout_ms < 0:
            first = between = None
        else:
            first = between = timeout_ms / 1000
        digits = ""
        pressed = await self._play(ALL_DIGITS)
        if pressed is None:
            return "200 result=-1\n"
        while True:
            if pressed == "#":
                return f"200 result={digits}\n"
            if pressed:
                digits += pressed
                if len(digits) >= max_digits:
                    return f"200 result={digits}\n"
            pressed = await ch.wait(first if not digits else between, ALL_DIGITS)
            if pressed is None:
                return "200 result=-1\n"
            if pressed == "":
                return f"200 result={digits} (timeout)\n"


def header_block(rt: Runtime, ch: Channel, url: str, script: str, args: list[str]) -> str:
    def unknown(value: str) -> str:
        return value if value else "unknown"

    lines = ["agi_network: yes"]
    if script:
        lines.append(f"agi_network_script: {script}")
    lines += [
        f"agi_request: {url}",
        f"agi_channel: {ch.name}",
        f"agi_language: {ch.language}",
        f"agi_type: {ch.tech}",
        f"agi_uniqueid: {ch.uniqueid}",
        f"agi_version: {VERSION}",
        f"agi_callerid: {unknown(ch.caller_num)}",
        f"agi_calleridname: {unknown(ch.caller_name)}",
        "agi_callingpres: 0",
        "agi_callingani2: 0",
        "agi_callington: 0",
        "agi_callingtns: 0",
        f"agi_dnid: {unknown(ch.dnid)}",
        "agi_rdnis: unknown",
        f"agi_context: {ch.context}",
        f"agi_extension: {ch.exten}",
        f"agi_priority: {ch.priority}",
        "agi_enhanced: 0.0",
        f"agi_accountcode: {ch.accountcode}",
        f"agi_threadid: {140000000000000 + id(ch) % 1000000000}",
    ]
    lines += [f"agi_arg_{i}: {arg}" for i, arg in enumerate(args, start=1)]
    return "\n".join(lines) + "\n\n"


async def run_agi(rt: Runtime, ch: Channel, args: list[str], exec_app: ExecApp) -> int:
    """AGI(agi://host[:port][/script],arg1,...). Returns -1 when the channel hung up during it."""
    url = args[0].strip() if args else ""
    parts = urlsplit(url)
    if parts.scheme != "agi" or not parts.hostname:
        log.warning("%s: AGI %r is not a FastAGI URL (only agi:// is simulated)", ch.name, url)
        ch.set_var("AGISTATUS", "FAILURE")
        return 0
    script = url.split("//", 1)[1].partition("/")[2]
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(parts.hostname, parts.port or 4573, limit=8192),
            rt.agi_connect_timeout,
        )
    except (OSError, TimeoutError) as exc:
        log.info("%s: cannot reach FastAGI server %s: %s", ch.name, url, exc)
        ch.set_var("AGISTATUS", "FAILURE")
        return 0
    session = AgiSession(rt, ch, reader, writer, exec_app)
    try:
        writer.write(header_block(rt, ch, url, script, args[1:]).encode("utf-8"))
        await session.run()
    except (ConnectionError, OSError):
        session.failed = session.failed or not ch.hungup
    hung_up = ch.hungup
    if session.failed and not hung_up:
        status = "FAILURE"
    elif hung_up:
        status = "HANGUP"
    else:
        status = "SUCCESS"
    ch.set_var("AGISTATUS", status)
    return -1 if hung_up else 0
