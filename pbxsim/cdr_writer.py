"""Asterisk's own records, as cdr_pgsql and the realtime queue_log write them to PostgreSQL.

:class:`CdrWriter` listens to the simulator's event bus (the same events AMI clients get) and writes

- one ``cdr`` row per caller leg (the channel whose Uniqueid is its Linkedid) when it hangs up: ``src``,
  ``clid``, ``dst``, ``dcontext``, ``channel``, ``dstchannel`` (the agent leg it was bridged to),
  ``lastapp``/``lastdata``, ``start``/``answer``/``end``, ``duration``/``billsec``, ``disposition``,
  ``uniqueid``, ``linkedid``, and the columns cdr_pgsql fills from the channel's CDR variables of the
  same name, set by the rendered dialplan: ``userfield``, ``hotline_language``, ``hotline_menu_path``
  (agent legs and Local channels get no row: a simplification, the service reads the caller leg only);
- ``queue_log`` rows as app_queue logs them, ``callid`` = the caller's Uniqueid: ``ENTERQUEUE``,
  ``CONNECT`` (data1 holdtime, data2 agent-leg uniqueid, data3 ringtime), ``COMPLETECALLER`` /
  ``COMPLETEAGENT`` (data1 holdtime, data2 talktime, data3 original position), ``ABANDON`` (data1 position,
  data2 original position, data3 waittime), ``EXITWITHTIMEOUT`` / ``EXITEMPTY`` (data1 position, data2
  original position, data3 waittime).

It never blocks the PBX: rows are buffered and written in batches by one task over asyncpg (imported
lazily, so pbxsim stays importable with the standard library only). While PostgreSQL is away rows are kept
and retried, as a buffered Asterisk would. The tables are the service's (migration 0006); the writer does
not create them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pbxsim.events import Event

log = logging.getLogger(__name__)

_GAVE_UP = {"TIMEOUT": "EXITWITHTIMEOUT", "FULL": "EXITEMPTY", "JOINEMPTY": "EXITEMPTY"}
_GAVE_UP.update({"LEAVEEMPTY": "EXITEMPTY", "JOINUNAVAIL": "EXITEMPTY", "LEAVEUNAVAIL": "EXITEMPTY"})

CDR_COLUMNS = (
    "src",
    "dst",
    "dcontext",
    "clid",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
    "userfield",
    "uniqueid",
    "linkedid",
    "sequence",
    "hotline_language",
    "hotline_menu_path",
)
# columns cdr_pgsql fills from the channel's CDR variables of the same name (Set(CDR(name)=...))
CDR_VARIABLE_COLUMNS = ("userfield", "hotline_language", "hotline_menu_path")
QUEUE_LOG_COLUMNS = ("time", "callid", "queuename", "agent", "event", "data1", "data2", "data3", "data4")


def _ts(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


@dataclass
class _Leg:
    start: float
    channel: str
    src: str
    clid: str
    dst: str
    dcontext: str
    answer: float | None = None
    dstchannel: str = ""
    lastapp: str = ""
    lastdata: str = ""
    queue: str | None = None
    position: str = "1"
    joined: float | None = None
    connected: bool = False
    abandon: tuple[float, str, str, str] | None = None  # time, position, original position, wait
    left: float | None = None  # QueueCallerLeave
    exit_logged: bool = True  # the last ENTERQUEUE has its CONNECT/ABANDON/EXIT* row


def to_asyncpg_dsn(url: str) -> str:
    """``postgresql+asyncpg://u@/db?host=/tmp/x`` (SQLAlchemy) → ``postgresql://u@/db?host=/tmp/x``."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


class CdrWriter:
    """Attach with ``sim.add_listener(writer.on_event)`` (``PbxSimulator(cdr_url=...)`` does it)."""

    def __init__(
        self,
        database_url: str,
        *,
        batch_max: int = 1000,
        retry_max: float = 2.0,
        cdr_vars: Callable[[str], Mapping[str, str]] | None = None,
    ) -> None:
        self.dsn = to_asyncpg_dsn(database_url)
        self._cdr_vars = cdr_vars  # a channel name -> its CDR variables (while the channel exists)
        self._batch_max = batch_max
        self._retry_max = retry_max
        self._legs: dict[str, _Leg] = {}
        self._cdr: list[tuple[Any, ...]] = []
        self._qlog: list[tuple[Any, ...]] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._sequence = 0
        self.written_cdr = 0
        self.written_queue_log = 0
        self.failures = 0

    # ----- life -----
    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="pbxsim-cdr-writer")

    async def stop(self, drain_timeout: float = 5.0) -> None:
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            await self.flushed(drain_timeout)
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        except Exception:  # never let the PBX's shutdown fail on its CDR back end
            log.exception("pbxsim CDR writer ended with an error")
        self._task = None

    async def flushed(self, timeout: float = 10.0) -> None:
        """Wait until every row buffered so far is in PostgreSQL."""
        await asyncio.wait_for(self._idle.wait(), timeout)

    @property
    def pending(self) -> int:
        return len(self._cdr) + len(self._qlog)

    # ----- events -----
    def on_event(self, ev: Event) -> None:
        name = ev.name
        uid = ev.get("Uniqueid")
        if name == "Newchannel":
            if uid and uid == ev.get("Linkedid"):
                num, cname = ev.get("CallerIDNum"), ev.get("CallerIDName")
                num = "" if num == "<unknown>" else num
                cname = "" if cname == "<unknown>" else cname
                self._legs[uid] = _Leg(
                    start=ev.timestamp,
                    channel=ev.get("Channel"),
                    src=num,
                    clid=f'"{cname}" <{num}>',
                    dst=ev.get("Exten"),
                    dcontext=ev.get("Context"),
                )
            return
        leg = self._legs.get(uid)
        if leg is None:
            return
        now = ev.timestamp
        if name == "Newstate":
            if ev.get("ChannelStateDesc") == "Up" and leg.answer is None:
                leg.answer = now
        elif name == "Newexten":
            leg.lastapp, leg.lastdata = ev.get("Application"), ev.get("AppData")[:80]
        elif name == "QueueCallerJoin":
            self._flush_abandon(uid, leg)
            leg.queue, leg.position = ev.get("Queue"), ev.get("Position")
            leg.joined, leg.connected, leg.left, leg.exit_logged = now, False, None, False
            self._log(now, uid, leg.queue, "NONE", "ENTERQUEUE", "", leg.src, leg.position)
        elif name == "QueueCallerLeave":
            leg.left = now
        elif name == "QueueCallerAbandon":
            leg.abandon = (now, ev.get("Position"), ev.get("OriginalPosition"), ev.get("HoldTime"))
        elif name == "VarSet" and ev.get("Variable") == "QUEUESTATUS":
            event = _GAVE_UP.get(ev.get("Value").upper())
            if event is not None:
                queue = leg.queue or leg.lastdata.split(",")[0]
                wait = "0" if leg.joined is None else str(int(now - leg.joined))
                original = leg.abandon[2] if leg.abandon else leg.position
                position = leg.abandon[1] if leg.abandon else leg.position
                leg.abandon = None
                leg.queue, leg.exit_logged = queue, True
                self._log(now, uid, queue, "NONE", event, position, original, wait)
        elif name == "AgentConnect":
            leg.connected, leg.abandon, leg.exit_logged = True, None, True
            leg.dstchannel = ev.get("DestChannel")
            self._log(
                now,
                uid,
                ev.get("Queue"),
                ev.get("MemberName"),
                "CONNECT",
                ev.get("HoldTime"),
                ev.get("DestUniqueid"),
                ev.get("RingTime"),
            )
        elif name == "AgentComplete":
            event = "COMPLETEAGENT" if ev.get("Reason") == "agent" else "COMPLETECALLER"
            self._log(
                now,
                uid,
                ev.get("Queue"),
                ev.get("MemberName"),
                event,
                ev.get("HoldTime"),
                ev.get("TalkTime"),
                leg.position,
            )
        elif name == "Hangup":
            self._flush_abandon(uid, leg)
            if not leg.exit_logged and leg.joined is not None:
                # Left the queue with neither an agent, a give-up status nor an abandon (which a hang-up
                # and an AMI Redirect both raise): by a key of the exit context. app_queue logs
                # EXITWITHKEY key|pos|orig|wait.
                at = leg.left if leg.left is not None else now
                wait = str(int(at - leg.joined))
                queue = leg.queue or "NONE"
                self._log(at, uid, queue, "NONE", "EXITWITHKEY", "", leg.position, leg.position, wait)
            del self._legs[uid]
            self._sequence += 1
            answer = leg.answer
            variables = self._cdr_vars(leg.channel) if self._cdr_vars is not None else {}
            userfield, language, menu_path = (variables.get(c) or None for c in CDR_VARIABLE_COLUMNS)
            self._cdr.append(
                (
                    leg.src,
                    leg.dst,
                    leg.dcontext,
                    leg.clid,
                    leg.channel,
                    leg.dstchannel,
                    leg.lastapp,
                    leg.lastdata,
                    _ts(leg.start),
                    None if answer is None else _ts(answer),
                    _ts(now),
                    int(now - leg.start),
                    0 if answer is None else int(now - answer),
                    "ANSWERED" if answer is not None else "NO ANSWER",
                    "DOCUMENTATION",
                    userfield or "",
                    uid,
                    uid,
                    self._sequence,
                    language,
                    menu_path,
                )
            )
            self._kick()

    def _flush_abandon(self, uid: str, leg: _Leg) -> None:
        if leg.abandon is not None and not leg.connected:
            at, position, original, wait = leg.abandon
            self._log(at, uid, leg.queue or "NONE", "NONE", "ABANDON", position, original, wait)
            leg.exit_logged = True
        leg.abandon = None

    def _log(self, at: float, uid: str, queue: str | None, agent: str, event: str, *data: str) -> None:
        d = [*data, "", "", "", ""][:4]
        self._qlog.append((_ts(at), uid, queue or "NONE", agent or "NONE", event, *d))
        self._kick()

    def _kick(self) -> None:
        self._idle.clear()
        self._wake.set()

    # ----- writing -----
    async def _run(self) -> None:
        import asyncpg  # type: ignore[import-untyped]  # lazy: pbxsim itself is stdlib only

        conn: Any = None
        delay = 0.1
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._cdr or self._qlog:
                    qlog, cdr = self._qlog[: self._batch_max], self._cdr[: self._batch_max]
                    try:
                        if conn is None or conn.is_closed():
                            conn = await asyncpg.connect(self.dsn, timeout=5)
                        async with conn.transaction():
                            if qlog:
                                await conn.copy_records_to_table(
                                    "queue_log", records=qlog, columns=list(QUEUE_LOG_COLUMNS)
                                )
                            if cdr:
                                await conn.copy_records_to_table(
                                    "cdr", records=cdr, columns=list(CDR_COLUMNS)
                                )
                    except Exception as exc:  # PostgreSQL away or restarting, a broken connection
                        self.failures += 1
                        log.warning("pbxsim CDR writer: PostgreSQL unavailable (%s); retrying", exc)
                        if conn is not None:
                            with contextlib.suppress(Exception):
                                conn.terminate()
                            conn = None
                        await asyncio.sleep(delay)
                        delay = min(delay * 2, self._retry_max)
                        continue
                    delay = 0.1
                    del self._qlog[: len(qlog)]
                    del self._cdr[: len(cdr)]
                    self.written_queue_log += len(qlog)
                    self.written_cdr += len(cdr)
                self._idle.set()
        finally:
            if conn is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.close(), 2)
