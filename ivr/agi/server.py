"""Our own FastAGI server (asyncio), replacing panoramisk's.

One task per connection, owned by the server (``stop()`` cancels and awaits them). A connection:

1. reads the ``agi_*`` header block within ``header_timeout`` (a silent or half-talking peer — a port scan, a
   health check — is logged with its address and closed; it never holds up other calls);
2. routes on the path of ``agi_network_script`` (``ivr?lang=mn`` → route ``ivr``, params ``{"lang": "mn"}``);
   an unknown route is logged and closed (AGISTATUS is then SUCCESS with ``HOTLINE_QUEUE`` unset, so the
   dialplan's fallback queues the call: intended);
3. runs the route's handler with an :class:`AgiChannel`, then closes the connection, which is what ends the
   AGI in Asterisk. A handler exception is logged with the call's uniqueid.

:class:`AgiChannel` sends one command at a time (a lock), reads its whole reply (``100 Trying...`` lines
skipped, multi-line ``520`` read to its end), and takes a ``HANGUP`` line as a hang-up signal, never as a
reply: the reply to the command in flight still follows. Every command has a deadline (``command_timeout``)
so a wedged peer cannot hold a task forever.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from .protocol import (
    AgiCommandFailedError,
    AgiHangup,
    AgiProtocolError,
    AgiReply,
    AgiRequest,
    ReplyParser,
    check_reply,
    format_command,
    is_hangup_line,
    parse_request,
)

__all__ = [
    "DEFAULT_COMMAND_TIMEOUT",
    "DEFAULT_HEADER_TIMEOUT",
    "DEFAULT_PORT",
    "AgiChannel",
    "AgiHandler",
    "AgiTimeoutError",
    "FastAgiServer",
]

log = logging.getLogger(__name__)

DEFAULT_PORT = 4573
DEFAULT_HEADER_TIMEOUT = 5.0
# Generous: GET DATA lasts as long as its prompt plus the digit timeout.
DEFAULT_COMMAND_TIMEOUT = 300.0
MAX_HEADER_LINES = 256
STREAM_LIMIT = 64 * 1024
CLOSE_TIMEOUT = 5.0


class AgiTimeoutError(AgiProtocolError):
    """The peer did not answer a command within ``command_timeout``."""


def _decode(raw: bytes) -> str:
    line = raw.decode("utf-8", errors="replace")
    if line.endswith("\n"):
        line = line[:-1]
    if line.endswith("\r"):  # Asterisk never sends "\r\n"; tolerate a client that does
        line = line[:-1]
    return line


class AgiChannel:
    """One FastAGI connection: typed commands over the call's channel."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        request: AgiRequest,
        *,
        command_timeout: float = DEFAULT_COMMAND_TIMEOUT,
    ) -> None:
        self.request = request
        self._reader = reader
        self._writer = writer
        self._command_timeout = command_timeout
        self._lock = asyncio.Lock()
        self._hung_up = False
        self._desynchronised = False

    @property
    def hung_up(self) -> bool:
        """True once Asterisk said ``HANGUP`` (or a command found the channel dead, or the link closed)."""
        return self._hung_up

    # -- raw commands --------------------------------------------------------------------------------------

    async def command(self, *words: str) -> AgiReply:
        """Send one command and return its ``200`` reply. Raises :class:`AgiHangup` on ``511`` or when the
        connection closed, :class:`~ivr.agi.protocol.AgiCommandError` on ``510``/``520``,
        :class:`AgiProtocolError` on garbage and :class:`AgiTimeoutError` past the deadline. After a
        protocol error, a timeout or a cancellation mid-command the channel refuses further commands."""
        line = format_command(*words)
        async with self._lock:
            if self._desynchronised:
                raise AgiProtocolError(f"channel unusable after an interrupted command; not sending {line!r}")
            self._desynchronised = True  # until the whole reply has been read
            try:
                async with asyncio.timeout(self._command_timeout):
                    self._writer.write(line.encode("utf-8") + b"\n")
                    await self._writer.drain()
                    reply = await self._read_reply(line)
            except TimeoutError:
                raise AgiTimeoutError(f"no reply to {line!r} within {self._command_timeout}s") from None
            except ConnectionError as exc:
                self._hung_up = True
                raise AgiHangup(f"connection lost during {line!r}: {exc}") from exc
            self._desynchronised = False
        return check_reply(reply, line)

    async def _read_reply(self, command: str) -> AgiReply:
        parser = ReplyParser()
        while True:
            try:
                raw = await self._reader.readline()
            except ValueError as exc:  # line longer than the stream limit
                raise AgiProtocolError(f"reply line too long to {command!r}") from exc
            if not raw.endswith(b"\n"):
                self._hung_up = True
                raise AgiHangup(f"Asterisk closed the connection during {command!r}")
            line = _decode(raw)
            if not parser.in_progress and is_hangup_line(line):
                if not self._hung_up:
                    log.info("HANGUP from Asterisk (uniqueid %s)", self.request.uniqueid)
                self._hung_up = True
                continue
            reply = parser.feed(line)
            if reply is not None and reply.code != 100:
                return reply

    async def _media(self, *words: str) -> AgiReply:
        """A command that needs a live channel: a hang-up seen while it ran raises :class:`AgiHangup`; a
        ``result=-1`` is told apart (hung up, or a real failure such as a missing sound file) by a
        ``CHANNEL STATUS`` probe, which a dead channel answers with ``HANGUP``/``511``."""
        reply = await self.command(*words)
        if self._hung_up:
            raise AgiHangup(f"caller hung up during {' '.join(words[:2])}")
        if reply.result == "-1":
            await self.channel_status()
            if self._hung_up:
                raise AgiHangup(f"caller hung up during {' '.join(words[:2])}")
            raise AgiCommandFailedError(200, "result=-1", format_command(*words))
        return reply

    # -- typed commands ------------------------------------------------------------------------------------

    async def answer(self) -> None:
        await self._media("ANSWER")

    async def stream_file(self, name: str, escape: str = "", offset: int | None = None) -> str | None:
        """Play a sound file; return the escape digit pressed, None when it played to the end."""
        words = ["STREAM", "FILE", name, escape]
        if offset is not None:
            words.append(str(offset))
        reply = await self._media(*words)
        code = reply.result_int
        return chr(code) if code is not None and 0 < code < 0x110000 else None

    async def get_data(self, file: str, timeout_ms: int, max_digits: int) -> tuple[str, bool]:
        """Play ``file`` while collecting up to ``max_digits`` digits (``#`` ends early and is not returned).
        Returns ``(digits, timed_out)``; ``("", True)`` when nothing was pressed."""
        reply = await self._media("GET", "DATA", file, str(timeout_ms), str(max_digits))
        return reply.result or "", reply.data == "timeout"

    async def wait_for_digit(self, timeout_ms: int) -> str | None:
        """Wait for one DTMF digit; None on timeout."""
        reply = await self._media("WAIT", "FOR", "DIGIT", str(timeout_ms))
        code = reply.result_int
        return chr(code) if code is not None and 0 < code < 0x110000 else None

    async def channel_status(self) -> int:
        reply = await self.command("CHANNEL", "STATUS")
        return reply.result_int if reply.result_int is not None else -1

    async def set_variable(self, name: str, value: str) -> None:
        """Works on a dead channel too."""
        await self.command("SET", "VARIABLE", name, value)

    async def get_variable(self, name: str) -> str | None:
        """The variable's value, None when unset. ``NAME(args)`` reads a dialplan function."""
        reply = await self.command("GET", "VARIABLE", name)
        if reply.result != "1":
            return None
        return reply.data if reply.data is not None else ""

    async def verbose(self, message: str, level: int = 1) -> None:
        await self.command("VERBOSE", message, str(level))

    async def exec(self, app: str, args: str = "") -> int:
        """Run a dialplan application; returns its result (0 normally, -1 when it wants the channel hung
        up). An unknown application raises :class:`AgiCommandFailedError`."""
        words = ["EXEC", app, args] if args else ["EXEC", app]
        reply = await self.command(*words)
        result = reply.result_int
        if result == -2:
            raise AgiCommandFailedError(200, f"application {app!r} not found", format_command(*words))
        return result if result is not None else 0

    async def hangup(self) -> None:
        """Hang up the caller. Asterisk then answers every media command with ``511``."""
        await self.command("HANGUP")
        self._hung_up = True


AgiHandler = Callable[[AgiChannel], Awaitable[None]]


class _HeaderIncompleteError(Exception):
    def __init__(self, lines: int) -> None:
        super().__init__(lines)
        self.lines = lines


class FastAgiServer:
    """``routes`` maps a script path (``"ivr"``) to an ``async def handler(channel)``."""

    def __init__(
        self,
        routes: Mapping[str, AgiHandler],
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        header_timeout: float = DEFAULT_HEADER_TIMEOUT,
        command_timeout: float = DEFAULT_COMMAND_TIMEOUT,
    ) -> None:
        self._routes = dict(routes)
        self._host = host
        self._port = port
        self._header_timeout = header_timeout
        self._command_timeout = command_timeout
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False

    @property
    def port(self) -> int:
        """The bound port (useful with ``port=0``)."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("server not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def connections(self) -> int:
        return len(self._tasks)

    async def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("server already started")
        self._stopping = False
        self._server = await asyncio.start_server(
            self._on_connect, self._host, self._port, limit=STREAM_LIMIT
        )
        log.info("FastAGI server listening on %s:%s", self._host, self.port)

    async def wait_idle(self) -> None:
        """Wait until no connection is being served (new ones may still arrive afterwards)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def stop(self) -> None:
        """Stop listening, cancel every connection task and wait for them to end."""
        self._stopping = True
        server, self._server = self._server, None
        if server is not None:
            server.close()
        tasks = set(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        if server is not None:
            await server.wait_closed()

    async def __aenter__(self) -> FastAgiServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- connections ---------------------------------------------------------------------------------------

    def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._stopping:
            writer.close()
            return
        task = asyncio.create_task(self._serve(reader, writer), name=f"fastagi {self._peer(writer)}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    def _peer(writer: asyncio.StreamWriter) -> str:
        peer: Any = writer.get_extra_info("peername")
        if isinstance(peer, tuple) and len(peer) >= 2:
            return f"{peer[0]}:{peer[1]}"
        return str(peer)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = self._peer(writer)
        try:
            request = await self._read_request(reader, peer)
            if request is None:
                return
            handler = self._routes.get(request.script_path)
            if handler is None:
                log.warning(
                    "FastAGI: no route %r (network_script %r) from %s, uniqueid %s; closing",
                    request.script_path,
                    request.network_script,
                    peer,
                    request.uniqueid,
                )
                return
            channel = AgiChannel(reader, writer, request, command_timeout=self._command_timeout)
            try:
                await handler(channel)
            except AgiHangup as exc:
                log.info(
                    "FastAGI %s: caller hung up (uniqueid %s): %s", request.script_path, request.uniqueid, exc
                )
            except Exception:
                log.exception(
                    "FastAGI handler %r failed (uniqueid %s, channel %s)",
                    request.script_path,
                    request.uniqueid,
                    request.channel,
                )
        finally:
            await self._close(writer)

    async def _read_request(self, reader: asyncio.StreamReader, peer: str) -> AgiRequest | None:
        try:
            async with asyncio.timeout(self._header_timeout):
                lines = await self._read_header(reader)
            return parse_request(lines)
        except TimeoutError:
            log.warning("FastAGI: no complete header from %s within %ss; closing", peer, self._header_timeout)
        except _HeaderIncompleteError as exc:
            if exc.lines:
                log.warning("FastAGI: %s closed after %d header lines; closing", peer, exc.lines)
            else:
                log.info("FastAGI: %s connected and closed without a header", peer)
        except AgiProtocolError as exc:
            log.warning("FastAGI: bad header from %s: %s; closing", peer, exc)
        except ConnectionError as exc:
            log.info("FastAGI: %s: connection error while reading the header: %s", peer, exc)
        return None

    @staticmethod
    async def _read_header(reader: asyncio.StreamReader) -> list[str]:
        lines: list[str] = []
        while True:
            try:
                raw = await reader.readline()
            except ValueError as exc:
                raise AgiProtocolError("header line too long") from exc
            if not raw.endswith(b"\n"):
                raise _HeaderIncompleteError(len(lines))
            line = _decode(raw)
            if not line:
                return lines
            lines.append(line)
            if len(lines) > MAX_HEADER_LINES:
                raise AgiProtocolError(f"more than {MAX_HEADER_LINES} header lines")

    @staticmethod
    async def _close(writer: asyncio.StreamWriter) -> None:
        writer.close()
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await writer.wait_closed()
        except (TimeoutError, OSError):
            writer.transport.abort()
