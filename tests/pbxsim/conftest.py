"""Raw AMI client and scripted FastAGI server for the pbxsim protocol tests (no panoramisk here)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from pbxsim.endpoints import AgentBehaviour
from pbxsim.pbx import PbxSimulator

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "asterisk-config"

Msg = list[tuple[str, str]]


def get(msg: Msg, key: str, default: str = "") -> str:
    for k, v in msg:
        if k == key:
            return v
    return default


class AmiClient:
    """Reads every message into a list; tests wait on predicates with timeouts, never fixed sleeps."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.banner = ""
        self.messages: list[Msg] = []
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._counter = 0

    @classmethod
    async def connect(cls, port: int) -> AmiClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        client = cls(reader, writer)
        client.banner = (await asyncio.wait_for(reader.readline(), 5)).decode()
        client._task = asyncio.get_running_loop().create_task(client._read())
        return client

    async def _read(self) -> None:
        current: Msg = []
        while True:
            raw = await self.reader.readline()
            if not raw:
                break
            line = raw.decode().rstrip("\r\n")
            if line == "":
                if current:
                    async with self._changed:
                        self.messages.append(current)
                        self._changed.notify_all()
                    current = []
                continue
            key, _, value = line.partition(": ")
            current.append((key, value))
        async with self._changed:
            self._changed.notify_all()

    def send_raw(self, data: bytes) -> None:
        self.writer.write(data)

    def send(self, action: str, **fields: str) -> str:
        self._counter += 1
        action_id = fields.pop("ActionID", f"t-{self._counter}")
        lines = [f"Action: {action}", f"ActionID: {action_id}"] + [f"{k}: {v}" for k, v in fields.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        return action_id

    async def wait_for(self, predicate: Callable[[Msg], bool], limit: float = 5.0, start: int = 0) -> Msg:
        async def find() -> Msg:
            async with self._changed:
                index = start
                while True:
                    while index < len(self.messages):
                        if predicate(self.messages[index]):
                            return self.messages[index]
                        index += 1
                    if self._task is not None and self._task.done():
                        raise ConnectionError("AMI connection closed")
                    await self._changed.wait()

        return await asyncio.wait_for(find(), limit)

    async def response(self, action_id: str, limit: float = 5.0) -> Msg:
        return await self.wait_for(lambda m: get(m, "ActionID") == action_id and m[0][0] == "Response", limit)

    async def action(self, action: str, **fields: str) -> Msg:
        return await self.response(self.send(action, **fields))

    async def login(self, username: str = "hotline", secret: str = "secret") -> Msg:
        return await self.action("Login", Username=username, Secret=secret)

    def events(self, linkedid: str | None = None) -> list[Msg]:
        out = [m for m in self.messages if m and m[0][0] == "Event"]
        if linkedid is not None:
            out = [m for m in out if get(m, "Linkedid") == linkedid]
        return out

    async def close(self) -> None:
        self.writer.close()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


class AgiConn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.headers: dict[str, str] = {}
        self.header_lines: list[str] = []
        self.received: list[str] = []  # every line from Asterisk after the header (replies, HANGUP)

    async def read_headers(self) -> None:
        while True:
            line = (await self.reader.readline()).decode()
            if line in ("\n", ""):
                return
            self.header_lines.append(line)
            key, _, value = line.rstrip("\n").partition(": ")
            self.headers[key] = value

    async def line(self, limit: float = 5.0) -> str:
        raw = await asyncio.wait_for(self.reader.readline(), limit)
        text = raw.decode()
        self.received.append(text)
        return text

    async def cmd(self, command: str, limit: float = 10.0) -> str:
        """Send a command, return its reply (skipping a HANGUP notice that may come first)."""
        self.writer.write((command + "\n").encode())
        while True:
            reply = await self.line(limit)
            if reply == "":
                raise ConnectionError("AGI client closed")
            if reply.strip() == "HANGUP":
                continue
            if reply.startswith("520-"):
                while not reply.startswith("520 "):
                    reply = await self.line(limit)
            return reply.rstrip("\n")

    def close(self) -> None:
        self.writer.close()


AgiScript = Callable[[AgiConn], Awaitable[None]]


class AgiServer:
    """A tiny FastAGI server: each connection runs `script`; connections are kept for inspection."""

    def __init__(self, script: AgiScript) -> None:
        self.script = script
        self.conns: list[AgiConn] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.done = asyncio.Queue[AgiConn]()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"agi://127.0.0.1:{self.port}/ivr"

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = AgiConn(reader, writer)
        self.conns.append(conn)
        task = asyncio.get_running_loop().create_task(self._run(conn))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, conn: AgiConn) -> None:
        try:
            await conn.read_headers()
            await self.script(conn)
        finally:
            conn.close()
            self.done.put_nowait(conn)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def write_config(
    tmp: Path, *, timeout: int = 2, retry: int = 1, wrapup: int = 0, strategy: str = "rrmemory"
) -> Path:
    """extensions.conf from the project, queues.conf with short timers so that tests stay quick."""
    shutil.copy(CONFIG / "extensions.conf", tmp / "extensions.conf")
    names = ["zh-psychology", "zh-legal", "zh-family"]
    body = "[general]\nshared_lastcall = yes\n\n"
    for name in names:
        body += (
            f"[{name}]\nstrategy = {strategy}\ntimeout = {timeout}\nretry = {retry}\nwrapuptime = {wrapup}\n"
            "maxlen = 0\njoinempty = yes\nleavewhenempty = no\nringinuse = no\n\n"
        )
    (tmp / "queues.conf").write_text(body)
    return tmp


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    return write_config(tmp_path)


async def start_sim(config_dir: Path, agi_url: str, **kwargs: object) -> PbxSimulator:
    sim = PbxSimulator(
        config_dir,
        globals={"HOTLINE_AGI": agi_url},
        prompt_seconds=0.05,
        default_agent=AgentBehaviour(answer_after=0.1, talk_seconds=0.3),
        **kwargs,  # type: ignore[arg-type]
    )
    await sim.start()
    return sim


@pytest.fixture
async def sim_factory() -> AsyncIterator[Callable[..., Awaitable[PbxSimulator]]]:
    sims: list[PbxSimulator] = []

    async def make(config_dir: Path, agi_url: str, **kwargs: object) -> PbxSimulator:
        sim = await start_sim(config_dir, agi_url, **kwargs)
        sims.append(sim)
        return sim

    yield make
    for sim in sims:
        await sim.stop()
