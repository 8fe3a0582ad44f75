"""A small fake AMI server over real TCP (127.0.0.1, port 0) for the connection tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

Reply = list[list[tuple[str, str]]]
Handler = Callable[[dict[str, str], list[tuple[str, str]]], Reply | None]


def encode(pairs: list[tuple[str, str]]) -> bytes:
    return ("".join(f"{k}: {v}\r\n" for k, v in pairs) + "\r\n").encode()


class FakeAmi:
    def __init__(self, *, username: str = "hotline", secret: str = "s3cret") -> None:
        self.username = username
        self.secret = secret
        self.answer_ping = True
        self.drop_at_login = 0  # this many Logins are answered by cutting the link
        self.handlers: dict[str, Handler] = {}
        self.received: list[list[tuple[str, str]]] = []
        self.writers: list[asyncio.StreamWriter] = []
        self.logins = 0
        self.login_failures = 0
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._handlers_tasks: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Condition()
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        self.drop_clients()
        for task in list(self._handlers_tasks):
            task.cancel()
        await asyncio.gather(*self._handlers_tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(predicate)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def drop_clients(self) -> None:
        for writer in self.writers:
            transport = writer.transport
            transport.abort()
        self.writers.clear()

    def send_event(self, pairs: list[tuple[str, str]]) -> None:
        for writer in self.writers:
            writer.write(encode(pairs))

    def send_raw(self, data: bytes) -> None:
        for writer in self.writers:
            writer.write(data)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers_tasks.add(task)
        self.connections += 1
        authed = False
        try:
            writer.write(b"Asterisk Call Manager/11.0.0\r\n")
            while True:
                try:
                    raw = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                pairs = [
                    (k, v)
                    for k, _, v in (line.partition(": ") for line in raw.decode().split("\r\n") if line)
                ]
                self.received.append(pairs)
                headers = dict(pairs)
                action = headers.get("Action", "")
                action_id = headers.get("ActionID", "")
                base = [("ActionID", action_id)] if action_id else []
                if action == "Login" and self.drop_at_login > 0:
                    self.drop_at_login -= 1
                    writer.transport.abort()
                    return
                if action == "Login":
                    if headers.get("Username") == self.username and headers.get("Secret") == self.secret:
                        authed = True
                        self.logins += 1
                        self.writers.append(writer)
                        writer.write(
                            encode([("Response", "Success"), *base, ("Message", "Authentication accepted")])
                        )
                        writer.write(
                            encode(
                                [
                                    ("Event", "FullyBooted"),
                                    ("Privilege", "system,all"),
                                    ("Status", "Fully Booted"),
                                ]
                            )
                        )
                    else:
                        self.login_failures += 1
                        writer.write(
                            encode([("Response", "Error"), *base, ("Message", "Authentication failed")])
                        )
                        await writer.drain()
                        writer.close()
                        return
                elif not authed:
                    writer.write(encode([("Response", "Error"), *base, ("Message", "Permission denied")]))
                elif action == "Ping":
                    if self.answer_ping:
                        writer.write(
                            encode([("Response", "Success"), *base, ("Ping", "Pong"), ("Timestamp", "1.0")])
                        )
                elif action == "Logoff":
                    writer.write(
                        encode([("Response", "Goodbye"), *base, ("Message", "Thanks for all the fish.")])
                    )
                    await writer.drain()
                    writer.close()
                    return
                elif action in self.handlers:
                    reply = self.handlers[action](headers, pairs)
                    for message in reply or []:
                        out = list(message)
                        if action_id:
                            out.insert(1, ("ActionID", action_id))
                        writer.write(encode(out))
                else:
                    writer.write(
                        encode([("Response", "Error"), *base, ("Message", "Invalid/unknown command")])
                    )
                await writer.drain()
                await self._notify()
        finally:
            if writer in self.writers:
                self.writers.remove(writer)
            with contextlib.suppress(Exception):
                writer.close()
            self._handlers_tasks.discard(task)
            await self._notify()
