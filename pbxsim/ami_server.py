"""AMI over TCP: sessions, framing, login, event delivery with back-pressure.

Framing is apart from the actions (ami_actions.py). A session reads one message at a time and handles
its actions in order, like Asterisk's session thread. Writes never wait: they go to the transport's
buffer, and a client that lets that buffer grow past `max_buffer` is dropped, as Asterisk drops a
session whose write times out, so that a stuck client cannot hold up the PBX.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

from pbxsim.events import Event, EventBus, Fields, encode

log = logging.getLogger(__name__)

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
MAX_LINE = 16 * 1024
MAX_HEADERS = 128  # AST_MAX_MANHEADERS


class Message:
    """An AMI message; keys may repeat (Variable, Output), lookups are case-insensitive."""

    def __init__(self, headers: list[tuple[str, str]]) -> None:
        self.headers = headers

    def get(self, key: str, default: str = "") -> str:
        low = key.lower()
        for k, v in self.headers:
            if k.lower() == low:
                return v
        return default

    def get_all(self, key: str) -> list[str]:
        low = key.lower()
        return [v for k, v in self.headers if k.lower() == low]

    @property
    def action(self) -> str:
        return self.get("Action").strip().lower()


def parse_message(lines: list[str]) -> Message:
    headers: list[tuple[str, str]] = []
    for line in lines[:MAX_HEADERS]:
        key, sep, value = line.partition(":")
        if not sep:
            continue  # a line without a colon carries nothing: ignore it, as Asterisk does
        headers.append((key.strip(), value.strip()))
    return Message(headers)


Handler = Callable[["Session", Message], Awaitable[None]]


class Session:
    def __init__(
        self,
        server: AmiServer,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.username = ""
        self.authenticated = False
        self.events_on = True
        self.classes: set[str] | None = None  # None: every class
        self.challenge = ""
        self.closed = False
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)

    # ----- output -----
    def send(self, data: bytes) -> None:
        if self.closed:
            return
        transport = self.writer.transport
        if transport.is_closing():
            self.close()
            return
        transport.write(data)
        if transport.get_write_buffer_size() > self.server.max_buffer:
            log.warning("AMI session %s is not reading: dropped", self.peer)
            transport.abort()
            self.close()

    def respond(self, message: Message, fields: Fields) -> None:
        """A response; ActionID comes right after `Response` as manager.c writes it."""
        action_id = message.get("ActionID")
        out = fields[:1] + ([("ActionID", action_id)] if action_id else []) + fields[1:]
        self.send(encode(out))

    def success(self, message: Message, text: str, extra: Fields | None = None) -> None:
        self.respond(message, [("Response", "Success"), ("Message", text)] + (extra or []))

    def error(self, message: Message, text: str) -> None:
        self.respond(message, [("Response", "Error"), ("Message", text)])

    def send_list(self, message: Message, what: str, complete: str, items: list[Fields]) -> None:
        """astman_send_listack + items (ActionID last, as app_queue appends it) + the Complete event."""
        action_id = message.get("ActionID")
        head: Fields = [("Response", "Success")]
        if action_id:
            head.append(("ActionID", action_id))
        head += [("EventList", "start"), ("Message", f"{what} will follow")]
        chunks = [encode(head)]
        for item in items:
            chunks.append(encode(item + ([("ActionID", action_id)] if action_id else [])))
        tail: Fields = [("Event", complete)]
        if action_id:
            tail.append(("ActionID", action_id))
        tail += [("EventList", "Complete"), ("ListItems", str(len(items)))]
        chunks.append(encode(tail))
        self.send(b"".join(chunks))

    # ----- events -----
    def wants(self, category: str) -> bool:
        if not self.events_on:
            return False
        return self.classes is None or category in self.classes

    def deliver(self, event: Event) -> None:
        if self.wants(event.category):
            self.send(event.data)

    def set_events(self, value: str) -> None:
        value = value.strip().lower()
        if value in ("on", "yes", "true", "all", "1"):
            self.events_on, self.classes = True, None
        elif value in ("off", "no", "false", "0", ""):
            self.events_on, self.classes = False, None
        else:
            self.events_on = True
            self.classes = {c.strip() for c in value.split(",") if c.strip()}
            if "all" in self.classes:
                self.classes = None

    # ----- life -----
    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.server.bus.unsubscribe(self)
        self.server.sessions.discard(self)
        self.writer.transport.close()

    async def read_message(self) -> list[str] | None:
        """Lines up to the empty line; None at EOF. Bytes are decoded per line, bad UTF-8 replaced."""
        lines: list[str] = []
        while True:
            try:
                raw = await self.reader.readline()
            except (ValueError, asyncio.LimitOverrunError):
                log.warning("AMI session %s sent a line over %d bytes: dropped", self.peer, MAX_LINE)
                return None
            if not raw:
                return None
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if not line.strip():
                if lines:
                    return lines
                continue  # stray empty lines between messages
            lines.append(line)

    async def run(self) -> None:
        self.send(BANNER)
        try:
            while not self.closed:
                lines = await self.read_message()
                if lines is None:
                    break
                message = parse_message(lines)
                try:
                    await self.dispatch(message)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("AMI action %r failed", message.get("Action"))
                    self.error(message, "Internal error")
        except (ConnectionError, OSError):
            pass
        finally:
            self.close()

    async def dispatch(self, message: Message) -> None:
        action = message.action
        if not action:
            self.error(message, "Missing action in request")
            return
        if action == "login":
            self.login(message)
            return
        if action == "challenge":
            if message.get("AuthType").lower() != "md5":
                self.error(message, "Must specify AuthType")
                return
            self.challenge = str(random.randint(100000000, 999999999))
            self.respond(message, [("Response", "Success"), ("Challenge", self.challenge)])
            return
        if action == "logoff":
            self.respond(message, [("Response", "Goodbye"), ("Message", "Thanks for all the fish.")])
            await self.writer.drain()
            self.close()
            return
        if not self.authenticated:
            self.error(message, "Authentication Required")
            return
        await self.server.handler(self, message)

    def login(self, message: Message) -> None:
        if self.authenticated:
            self.success(message, "Already authenticated")
            return
        username = message.get("Username")
        secret = self.server.users.get(username)
        ok = False
        if secret is not None:
            if message.get("AuthType").lower() == "md5":
                expected = hashlib.md5((self.challenge + secret).encode()).hexdigest()
                ok = bool(self.challenge) and message.get("Key").lower() == expected
            else:
                ok = message.get("Secret") == secret
        if not ok:
            log.info("AMI login failed for %r from %s", username, self.peer)
            self.error(message, "Authentication failed")
            return
        self.authenticated = True
        self.username = username
        self.set_events(message.get("Events", "on"))
        self.success(message, "Authentication accepted")
        self.send(
            encode(
                [
                    ("Event", "FullyBooted"),
                    ("Privilege", "system,all"),
                    ("Uptime", "0"),
                    ("LastReload", "0"),
                    ("Status", "Fully Booted"),
                ]
            )
        )
        self.server.bus.subscribe(self)


class AmiServer:
    def __init__(
        self,
        bus: EventBus,
        handler: Handler,
        users: dict[str, str],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_buffer: int = 4 * 1024 * 1024,
    ) -> None:
        self.bus = bus
        self.handler = handler
        self.users = dict(users)
        self.host = host
        self.port = port
        self.max_buffer = max_buffer
        self.sessions: set[Session] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.port, limit=MAX_LINE)
        sockets = self._server.sockets
        if sockets:
            self.port = sockets[0].getsockname()[1]

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # A plain callback (not a coroutine): the session task is ours, not asyncio's.
        session = Session(self, reader, writer)
        self.sessions.add(session)
        task = asyncio.get_running_loop().create_task(session.run(), name=f"ami-session-{session.peer}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for session in list(self.sessions):
            session.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
