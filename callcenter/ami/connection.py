"""The one owner of the AMI socket.

:class:`AmiConnection` keeps one AMI session up: connect, login, ping watchdog, reconnect with backoff; it
hands every event to ``on_message`` and matches action responses by ActionID.

It sits over panoramisk 1.4 where panoramisk is sound, and replaces the parts that are not
(../../../shared/reference/panoramisk.md lists the defects; each workaround below names its number):

- **What panoramisk still does.** :class:`panoramisk.Manager` holds the connection settings and opens the
  TCP (or TLS) connection with our ``protocol_factory`` (``Manager.connect``); our protocol subclasses
  :class:`panoramisk.ami_protocol.AMIProtocol`. The Manager is built inside the running loop, once per
  connection attempt (defect 8: no Manager without a running loop).
- **Framing** (defect 1): ``AMIProtocol.data_received`` decodes every chunk with ``errors='ignore'`` and
  loses split UTF-8 characters; our protocol feeds bytes to :class:`~callcenter.ami.framing.AmiFramer`,
  which decodes whole messages.
- **Callbacks** (defect 2): every ``on_message`` / ``on_state`` call is wrapped; an exception is logged
  and the rest of the chunk is still delivered; the connection lives on.
- **Actions** (defect 3): panoramisk guesses whether an action answers with a list and never resolves
  ``QueueAdd`` or a synchronous ``Originate`` unless told; its ``Action.add_message`` also never resolves a
  list action answered with ``Response: Error``. :meth:`AmiConnection.send_action` takes ``as_list``
  explicitly (keyword-only, no default) and does its own matching by ActionID.
- **Ping** (defect 4): panoramisk's pinger never reads the reply. Our watchdog sends ``Ping`` every
  ``ping_interval`` seconds and aborts the transport when no reply comes within ``ping_timeout``; TCP
  keepalive is switched on as well.
- **Pending actions at a disconnect** (defect 5): panoramisk replays them after reconnecting (a ``Setvar``
  ran twice) and waits for ``FullyBooted`` to do it. We fail every in-flight action with
  :class:`AmiDisconnected` and never replay: the caller decides.
- **Reconnect** (defect 6): ``Manager.connection_made``/``connection_lost`` schedule reconnects with
  ``call_later`` that ``close()`` cannot cancel, and a wrong password retries forever silently. Our
  subclass turns both into no-ops; the reconnect loop is ours: exponential backoff with jitter, capped at
  ``reconnect_max``, cancelled by :meth:`AmiConnection.stop`.
- **Authentication failure**: raised as :class:`AmiAuthError` from :meth:`AmiConnection.wait_connected`
  from the first failed attempt on, logged at ERROR on every attempt, and retried only slowly (every
  ``auth_retry_delay`` seconds, default = ``reconnect_max``): a wrong secret needs an operator, but
  Asterisk also refuses logins for a moment while ``manager.conf`` reloads, and a hotline must come back
  by itself when it does.
- **Tasks** (STYLE: keep every task you start): the run loop, the ping watchdog and any connect attempt
  live in an owned set; :meth:`AmiConnection.stop` cancels and awaits them all.
- ``save_stream`` and ``panoramisk.testing`` (defect 7) are not used.

List actions (``as_list=True``): the result is an :class:`AmiResponse` with the ``Response: Success``
message, the item events in ``events`` and the closing ``*Complete`` event in ``complete`` (kept apart,
so ``events`` holds only items). Item events carry our ActionID and are *not* passed to ``on_message``.
Events of a simple action that carry its ActionID (the ``UserEvent`` echo, an async ``OriginateResponse``)
are ordinary events and go to ``on_message``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import socket
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

from panoramisk import Manager
from panoramisk.ami_protocol import AMIProtocol

from callcenter.ami.framing import AmiFramer, AmiMessage

__all__ = [
    "AmiActionError",
    "AmiAuthError",
    "AmiConnection",
    "AmiDisconnected",
    "AmiError",
    "AmiResponse",
    "AmiTimeout",
]

log = logging.getLogger(__name__)

ActionSpec = Mapping[str, str] | list[tuple[str, str]]


class AmiError(Exception):
    """Base of every AMI adapter error."""


class AmiDisconnected(AmiError):
    """The link is down, or went down while the action was in flight (it may or may not have run)."""


class AmiAuthError(AmiError):
    """Asterisk refused the login (wrong username/secret, or the account is not allowed from here)."""


class AmiTimeout(AmiError, TimeoutError):
    """No response within the action's timeout."""


class AmiActionError(AmiError):
    """Asterisk answered ``Response: Error``."""

    def __init__(self, action: str, message: str, response: AmiMessage | None = None) -> None:
        super().__init__(f"{action}: {message}")
        self.action = action
        self.message = message
        self.response = response


@dataclass(slots=True)
class AmiResponse:
    """An action's response; for list actions also its item events and the closing ``*Complete``."""

    response: AmiMessage
    events: list[AmiMessage] = field(default_factory=list)
    complete: AmiMessage | None = None

    @property
    def message(self) -> str:
        return self.response.get("Message") or ""

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.response.get(key, default)

    def get_all(self, key: str) -> list[str]:
        return self.response.get_all(key)


@dataclass(slots=True)
class _Pending:
    name: str
    as_list: bool
    future: asyncio.Future[AmiResponse]
    response: AmiMessage | None = None
    events: list[AmiMessage] = field(default_factory=list)


class _HotlineManager(Manager):  # type: ignore[misc]
    """panoramisk's Manager reduced to settings + ``connect()``: no login, pinger or reconnect of its own."""

    def connection_made(self, f: asyncio.Future[Any]) -> None:
        # panoramisk would log in, start its unchecked pinger and, on OSError, schedule an uncancellable
        # reconnect (defects 4, 6). AmiConnection awaits the connect task itself.
        return None

    def connection_lost(self, exc: BaseException | None) -> None:
        return None

    def ping(self) -> None:
        return None


class _AmiProtocol(AMIProtocol):  # type: ignore[misc]
    """Bytes → our framer → the owning connection. Never lets an exception out of ``data_received``."""

    def __init__(self, owner: AmiConnection) -> None:
        super().__init__()
        self._owner = owner
        self.framer = AmiFramer()
        self.lost: asyncio.Future[BaseException | None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.closed = False
        self.factory = None
        self.responses: dict[str, Any] = {}
        self.queue = None
        self.version = None
        self.log = log

    def data_received(self, data: bytes) -> None:
        try:
            messages = self.framer.feed(data)
        except Exception:  # the framer does not raise; belt and braces for the reader
            log.exception("AMI framer failed on %d bytes; dropping them", len(data))
            return
        handle = self._owner._handle_message
        for msg in messages:
            try:
                handle(msg)
            except Exception:
                log.exception("AMI message handling failed: %r", msg)

    def eof_received(self) -> bool | None:
        return None  # close the transport

    def connection_lost(self, exc: BaseException | None) -> None:
        self.closed = True
        if not self.lost.done():
            self.lost.set_result(exc)
        # An action in flight (the Login too) cannot be answered on a dead link: fail it now rather
        # than after its timeout, so a link cut during login is redialled at once.
        if self._owner._protocol is self:
            self._owner._fail_pending(AmiDisconnected("AMI connection lost"))

    def send(self, data: Any, as_list: bool = False) -> None:  # pragma: no cover - guard
        raise RuntimeError("use AmiConnection.send_action")

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.closed = True
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.closed = True
            self.transport.abort()


def _serialise(fields: list[tuple[str, str]]) -> bytes:
    parts: list[str] = []
    for raw_key, raw_value in fields:
        key = str(raw_key)
        value = str(raw_value)
        if "\r" in key or "\n" in key or ":" in key or "\r" in value or "\n" in value:
            raise ValueError(f"AMI header {key!r} holds a line break or colon: {value!r}")
        parts.append(f"{key}: {value}\r\n")
    parts.append("\r\n")
    return "".join(parts).encode("utf-8")


def _keepalive(transport: asyncio.BaseTransport, idle: int) -> None:
    sock = transport.get_extra_info("socket")
    if sock is None:
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        if hasattr(socket, "TCP_KEEPIDLE"):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, idle)
        if hasattr(socket, "TCP_KEEPINTVL"):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, max(1, idle // 3))
        if hasattr(socket, "TCP_KEEPCNT"):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
    except OSError:  # pragma: no cover - platform specific
        log.debug("TCP keepalive options not supported", exc_info=True)


class AmiConnection:
    """One AMI session, kept up until :meth:`stop`.

    ``on_message`` receives every event (not responses, not list items) in wire order, synchronously in
    the reader: keep it cheap (translate, apply, hand off). ``on_state`` is told ``True`` after each
    successful login and ``False`` when the link drops.
    """

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        *,
        on_message: Callable[[AmiMessage], None],
        on_state: Callable[[bool], None] | None = None,
        ping_interval: float = 10.0,
        ping_timeout: float = 5.0,
        reconnect_initial: float = 0.5,
        reconnect_max: float = 30.0,
        auth_retry_delay: float | None = None,
        connect_timeout: float = 10.0,
        login_timeout: float = 10.0,
        events: str = "on",
        keepalive_idle: int = 30,
        ssl: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self._secret = secret
        self._on_message = on_message
        self._on_state = on_state
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.reconnect_initial = reconnect_initial
        self.reconnect_max = reconnect_max
        self.auth_retry_delay = reconnect_max if auth_retry_delay is None else auth_retry_delay
        self.connect_timeout = connect_timeout
        self.login_timeout = login_timeout
        self.events = events
        self.keepalive_idle = keepalive_idle
        self.ssl = ssl
        self._tasks: set[asyncio.Task[Any]] = set()
        self._pending: dict[str, _Pending] = {}
        self._protocol: _AmiProtocol | None = None
        self._connected = False
        self._stopping = False
        self._runner: asyncio.Task[None] | None = None
        self._waiters: list[asyncio.Future[None]] = []
        self._ids = itertools.count(1)
        self._id_prefix = f"hotline-{random.getrandbits(32):08x}"
        self.last_error: BaseException | None = None
        self.auth_failed: AmiAuthError | None = None
        self.connects = 0  # successful logins so far
        self.banner: str | None = None

    # --- life cycle -------------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected

    async def start(self) -> None:
        """Start the connect/reconnect loop in an owned task; returns at once (see :meth:`wait_connected`)."""
        if self._runner is not None:
            return
        self._stopping = False
        self._runner = self._spawn(self._run(), "ami-run")

    async def stop(self) -> None:
        """Log off if possible, close the link, fail in-flight actions, cancel and await every task."""
        self._stopping = True
        protocol = self._protocol
        if protocol is not None and self._connected:
            with contextlib.suppress(AmiError, ValueError):
                await self.send_action({"Action": "Logoff"}, as_list=False, timeout=1.0)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._runner = None
        if self._protocol is not None:
            self._protocol.abort()
            self._protocol = None
        self._fail_pending(AmiDisconnected("AMI connection stopped"))
        self._set_connected(False)
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(AmiDisconnected("AMI connection stopped"))
        self._waiters.clear()

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until logged in. Raises :class:`AmiAuthError` while the login is being refused,
        :class:`TimeoutError` after ``timeout`` seconds."""
        if self._connected:
            return
        if self.auth_failed is not None:
            raise self.auth_failed
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter), timeout)
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            if not waiter.done():
                waiter.cancel()
            elif not waiter.cancelled():
                waiter.exception()  # mark retrieved

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("AMI task %s died", task.get_name(), exc_info=task.exception())

    def _wake(self, exc: BaseException | None) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                if exc is None:
                    waiter.set_result(None)
                else:
                    waiter.set_exception(exc)
        self._waiters.clear()

    def _set_connected(self, value: bool) -> None:
        if self._connected == value:
            return
        self._connected = value
        if self._on_state is not None:
            try:
                self._on_state(value)
            except Exception:
                log.exception("AMI on_state callback failed")

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.reconnect_max, self.reconnect_initial * (2 ** min(attempt, 30)))
        return random.uniform(ceiling / 2, ceiling)

    async def _run(self) -> None:
        attempt = 0
        while not self._stopping:
            delay: float
            try:
                await self._session()
                attempt = 0  # the link was up: start the backoff again from the bottom
                delay = self._backoff(0)
            except asyncio.CancelledError:
                raise
            except AmiAuthError as exc:
                self.last_error = exc
                self.auth_failed = exc
                log.error(
                    "AMI login to %s:%s as %r refused: %s; retrying in %.0f s",
                    self.host,
                    self.port,
                    self.username,
                    exc,
                    self.auth_retry_delay,
                )
                self._wake(exc)
                delay = self.auth_retry_delay
            except (OSError, AmiError, TimeoutError) as exc:
                self.last_error = exc
                delay = self._backoff(attempt)
                attempt += 1
                log.warning(
                    "AMI %s:%s unavailable (%s); retrying in %.2f s", self.host, self.port, exc, delay
                )
            await asyncio.sleep(delay)

    async def _session(self) -> None:
        """One connection: connect, log in, serve until the transport is lost."""
        loop = asyncio.get_running_loop()
        manager = _HotlineManager(
            host=self.host,
            port=self.port,
            ssl=self.ssl,
            loop=loop,
            protocol_factory=lambda: _AmiProtocol(self),
            log=log,
        )
        connect_task: asyncio.Task[tuple[asyncio.BaseTransport, _AmiProtocol]] = manager.connect()
        self._tasks.add(connect_task)
        connect_task.add_done_callback(self._tasks.discard)
        try:
            transport, protocol = await asyncio.wait_for(connect_task, self.connect_timeout)
        except BaseException:
            connect_task.cancel()
            raise
        self._protocol = protocol
        watchdog: asyncio.Task[None] | None = None
        try:
            _keepalive(transport, self.keepalive_idle)
            response = await self._request(
                [
                    ("Action", "Login"),
                    ("Username", self.username),
                    ("Secret", self._secret),
                    ("Events", self.events),
                ],
                as_list=False,
                timeout=self.login_timeout,
                raise_error=False,
            )
            if response.get("Response") != "Success":
                raise AmiAuthError(response.message or "Authentication failed")
            self.banner = protocol.framer.banner
            self.auth_failed = None
            self.last_error = None
            self.connects += 1
            log.info("AMI logged in to %s:%s (%s)", self.host, self.port, self.banner or "no banner")
            self._set_connected(True)
            self._wake(None)
            watchdog = self._spawn(self._watchdog(protocol), "ami-ping-watchdog")
            exc = await protocol.lost
            if not self._stopping:
                log.warning("AMI connection to %s:%s lost: %s", self.host, self.port, exc or "closed by peer")
        finally:
            if watchdog is not None:
                watchdog.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watchdog
            protocol.abort()
            if self._protocol is protocol:
                self._protocol = None
            self._fail_pending(AmiDisconnected("AMI connection lost"))
            self._set_connected(False)

    async def _watchdog(self, protocol: _AmiProtocol) -> None:
        while True:
            await asyncio.sleep(self.ping_interval)
            try:
                await self._request([("Action", "Ping")], as_list=False, timeout=self.ping_timeout)
            except AmiTimeout:
                log.error("AMI Ping not answered within %.1f s: aborting the link", self.ping_timeout)
                protocol.abort()
                return
            except AmiDisconnected:
                return
            except AmiActionError as exc:  # an answer is an answer: the link is alive
                log.debug("AMI Ping answered with an error: %s", exc)

    # --- actions ----------------------------------------------------------------------------------------

    async def send_action(
        self,
        action: ActionSpec,
        *,
        as_list: bool,
        timeout: float = 10.0,
    ) -> AmiResponse:
        """Send an action and wait for its response (and, with ``as_list=True``, its item events).

        Raises :class:`AmiDisconnected` when not connected or when the link drops before the answer,
        :class:`AmiTimeout`, :class:`AmiActionError` for ``Response: Error``, ``ValueError`` for a header
        holding a line break. Never replayed after a reconnect.
        """
        if not self._connected:
            raise AmiDisconnected("AMI not connected")
        return await self._request(action, as_list=as_list, timeout=timeout)

    async def _request(
        self,
        action: ActionSpec,
        *,
        as_list: bool,
        timeout: float,
        raise_error: bool = True,
    ) -> AmiResponse:
        protocol = self._protocol
        if protocol is None or protocol.closed or protocol.transport is None:
            raise AmiDisconnected("AMI not connected")
        fields = list(action.items()) if isinstance(action, Mapping) else list(action)
        name = next((v for k, v in fields if k.lower() == "action"), None)
        if name is None:
            raise ValueError("an AMI action needs an 'Action' header")
        fields = [(k, v) for k, v in fields if k.lower() != "actionid"]
        action_id = f"{self._id_prefix}-{next(self._ids)}"
        fields.insert(1 if fields[0][0].lower() == "action" else 0, ("ActionID", action_id))
        data = _serialise(fields)
        future: asyncio.Future[AmiResponse] = asyncio.get_running_loop().create_future()
        pending = _Pending(name=name, as_list=as_list, future=future)
        self._pending[action_id] = pending
        try:
            protocol.transport.write(data)
            try:
                response = await asyncio.wait_for(asyncio.shield(future), timeout)
            except TimeoutError:
                raise AmiTimeout(f"{name}: no response within {timeout} s") from None
        finally:
            self._pending.pop(action_id, None)
            if not future.done():
                future.cancel()
        if raise_error and response.response.get("Response") == "Error":
            raise AmiActionError(name, response.message, response.response)
        return response

    def _fail_pending(self, exc: AmiError) -> None:
        pending, self._pending = self._pending, {}
        for item in pending.values():
            if not item.future.done():
                item.future.set_exception(exc)
                item.future.exception()  # retrieved by the awaiting caller; silence "never retrieved"

    # --- incoming ---------------------------------------------------------------------------------------

    def _handle_message(self, msg: AmiMessage) -> None:
        action_id = msg.get("ActionID")
        if action_id is not None:
            pending = self._pending.get(action_id)
            if pending is not None and self._match(pending, msg):
                return
        if msg.is_event:
            try:
                self._on_message(msg)
            except Exception:
                log.exception("AMI on_message callback failed on %r", msg.name)
        elif msg.is_response:
            log.debug("AMI response for no pending action: %r", msg)

    @staticmethod
    def _match(pending: _Pending, msg: AmiMessage) -> bool:
        """Feed a message with our ActionID to its pending action; False if it is not part of the answer."""
        future = pending.future
        if msg.is_response:
            if pending.response is not None:
                return True  # a second response: ignore
            pending.response = msg
            if (not pending.as_list or msg.get("Response") == "Error") and not future.done():
                future.set_result(AmiResponse(msg))
            return True
        if not pending.as_list or pending.response is None:
            return False  # an ordinary event that echoes our ActionID (UserEvent, OriginateResponse)
        if msg.get("EventList") == "Complete" or (msg.name or "").endswith("Complete"):
            if not future.done():
                future.set_result(AmiResponse(pending.response, pending.events, msg))
        else:
            pending.events.append(msg)
        return True
