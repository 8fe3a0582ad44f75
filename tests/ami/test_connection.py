"""AmiConnection over real TCP against a fake AMI server. No fixed sleeps: every wait has a timeout."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from callcenter.ami import actions
from callcenter.ami.connection import (
    AmiActionError,
    AmiAuthError,
    AmiConnection,
    AmiDisconnected,
    AmiTimeout,
)
from callcenter.ami.framing import AmiMessage
from tests.ami.fake_ami import FakeAmi, encode


@pytest.fixture
async def server() -> AsyncIterator[FakeAmi]:
    fake = FakeAmi()
    await fake.start()
    yield fake
    await fake.close()


class Recorder:
    def __init__(self) -> None:
        self.messages: list[AmiMessage] = []
        self.states: list[bool] = []
        self._cond = asyncio.Condition()

    def on_message(self, msg: AmiMessage) -> None:
        self.messages.append(msg)
        asyncio.get_running_loop().create_task(self._notify())

    def on_state(self, up: bool) -> None:
        self.states.append(up)
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._cond:
            self._cond.notify_all()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout), self._cond:
            await self._cond.wait_for(predicate)

    def names(self) -> list[str | None]:
        return [m.name for m in self.messages]


def make(
    server: FakeAmi, rec: Recorder, *, ping_interval: float = 5.0, ping_timeout: float = 2.0
) -> AmiConnection:
    return AmiConnection(
        "127.0.0.1",
        server.port,
        server.username,
        server.secret,
        on_message=rec.on_message,
        on_state=rec.on_state,
        ping_interval=ping_interval,
        ping_timeout=ping_timeout,
        reconnect_initial=0.02,
        reconnect_max=0.2,
    )


def ami_tasks() -> set[asyncio.Task[object]]:
    return {t for t in asyncio.all_tasks() if t.get_name().startswith("ami-") or "AmiConnection" in repr(t)}


async def test_login_events_and_clean_stop(server: FakeAmi) -> None:
    before = asyncio.all_tasks()
    rec = Recorder()
    conn = make(server, rec)
    await conn.start()
    await conn.wait_connected(5)
    assert conn.connected
    assert conn.banner == "Asterisk Call Manager/11.0.0"
    await rec.wait_for(lambda: "FullyBooted" in rec.names())
    login = server.received[0]
    assert login[0] == ("Action", "Login") and ("Secret", "s3cret") in login
    await conn.stop()
    assert not conn.connected
    assert rec.states == [True, False]
    leftover = {t for t in asyncio.all_tasks() - before if not t.done()}
    assert leftover == set()
    assert ami_tasks() == set()


async def test_auth_failure_raises_typed_error(server: FakeAmi) -> None:
    rec = Recorder()
    conn = AmiConnection(
        "127.0.0.1", server.port, "hotline", "wrong", on_message=rec.on_message, reconnect_initial=0.02
    )
    await conn.start()
    try:
        with pytest.raises(AmiAuthError, match="Authentication failed"):
            await conn.wait_connected(5)
        assert server.login_failures == 1
        assert not conn.connected
        # while refused, wait_connected fails at once instead of hanging
        with pytest.raises(AmiAuthError):
            await conn.wait_connected(0.01)
    finally:
        await conn.stop()


async def test_action_round_trip_with_action_id(server: FakeAmi) -> None:
    server.handlers["Setvar"] = lambda h, p: [[("Response", "Success"), ("Message", "Variable Set")]]
    server.handlers["Getvar"] = lambda h, p: [
        [("Response", "Success"), ("Variable", h["Variable"]), ("Value", "共青团")]
    ]
    server.handlers["Command"] = lambda h, p: [
        [("Response", "Success"), ("Message", "Command output follows"), ("Output", "a"), ("Output", "b")]
    ]
    server.handlers["QueueAdd"] = lambda h, p: [
        [("Response", "Error"), ("Message", "Unable to add interface: Already there")]
    ]
    rec = Recorder()
    conn = make(server, rec)
    await conn.start()
    try:
        await conn.wait_connected(5)
        resp = await actions.setvar(conn, variable="X", value="1", channel="PJSIP/1-1")
        assert resp.message == "Variable Set"
        sent = server.received[-1]
        assert sent[0] == ("Action", "Setvar")
        assert sent[1][0] == "ActionID" and resp.get("ActionID") == sent[1][1]
        assert await actions.getvar(conn, variable="LANG", channel="PJSIP/1-1") == "共青团"
        assert await actions.command(conn, command="core show version") == ["a", "b"]
        with pytest.raises(AmiActionError, match="Already there") as info:
            await actions.queue_add(conn, queue="q1", interface="PJSIP/1001", member_name="1001")
        assert info.value.message == "Unable to add interface: Already there"
        with pytest.raises(ValueError, match="line break"):
            await conn.send_action({"Action": "Setvar", "Value": "a\r\nAction: Hangup"}, as_list=False)
    finally:
        await conn.stop()


async def test_list_action_collects_items(server: FakeAmi) -> None:
    def queue_status(h: dict[str, str], p: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
        return [
            [("Response", "Success"), ("EventList", "start"), ("Message", "Queue status will follow")],
            [("Event", "QueueParams"), ("Queue", "q1"), ("Max", "0"), ("Calls", "1")],
            [("Event", "QueueMember"), ("Queue", "q1"), ("Name", "1001"), ("Location", "PJSIP/1001")],
            [("Event", "QueueEntry"), ("Queue", "q1"), ("Position", "1"), ("Channel", "PJSIP/x-1")],
            [("Event", "QueueStatusComplete"), ("EventList", "Complete"), ("ListItems", "3")],
        ]

    server.handlers["QueueStatus"] = queue_status
    server.handlers["Status"] = lambda h, p: [[("Response", "Error"), ("Message", "No such channel")]]
    rec = Recorder()
    conn = make(server, rec)
    await conn.start()
    try:
        await conn.wait_connected(5)
        resp = await actions.queue_status(conn, queue="q1")
        assert [m.name for m in resp.events] == ["QueueParams", "QueueMember", "QueueEntry"]
        assert resp.complete is not None and resp.complete.get("ListItems") == "3"
        # a list action answered with an error resolves (panoramisk 1.4 would hang)
        with pytest.raises(AmiActionError, match="No such channel"):
            await conn.send_action({"Action": "Status", "Channel": "nope"}, as_list=True, timeout=2)
        # list items are not passed to on_message
        assert "QueueParams" not in rec.names()
    finally:
        await conn.stop()


async def test_callback_exception_does_not_kill_the_link(server: FakeAmi) -> None:
    seen: list[str | None] = []
    done = asyncio.Event()

    def on_message(msg: AmiMessage) -> None:
        seen.append(msg.get("N"))
        if msg.get("N") == "2":
            raise RuntimeError("subscriber bug")
        if msg.get("N") == "4":
            done.set()

    conn = AmiConnection(
        "127.0.0.1",
        server.port,
        server.username,
        server.secret,
        on_message=on_message,
        reconnect_initial=0.02,
    )
    await conn.start()
    try:
        await conn.wait_connected(5)
        # four events in one write: the exception on #2 must not lose #3 and #4 of the same chunk
        server.send_raw(
            b"".join(encode([("Event", "UserEvent"), ("UserEvent", "t"), ("N", str(i))]) for i in range(1, 5))
        )
        await asyncio.wait_for(done.wait(), 5)
        assert seen[-4:] == ["1", "2", "3", "4"]
        assert conn.connected
        assert (await actions.ping(conn)).get("Ping") == "Pong"
        assert server.connections == 1
    finally:
        await conn.stop()


async def test_drop_fails_in_flight_action_and_reconnects(server: FakeAmi) -> None:
    before = asyncio.all_tasks()
    got_setvar = asyncio.Event()

    def setvar(h: dict[str, str], p: list[tuple[str, str]]) -> None:
        got_setvar.set()
        # never answer

    server.handlers["Setvar"] = setvar
    rec = Recorder()
    conn = make(server, rec)
    await conn.start()
    try:
        await conn.wait_connected(5)
        pending = asyncio.ensure_future(actions.setvar(conn, variable="X", value="1"))
        await asyncio.wait_for(got_setvar.wait(), 5)
        server.drop_clients()
        with pytest.raises(AmiDisconnected):
            await asyncio.wait_for(pending, 5)
        await rec.wait_for(lambda: rec.states.count(True) == 2)
        await conn.wait_connected(5)
        assert server.logins == 2
        # no replay of the failed Setvar after reconnecting
        assert sum(1 for m in server.received if ("Action", "Setvar") in m) == 1
        server.send_event([("Event", "UserEvent"), ("UserEvent", "after")])
        await rec.wait_for(lambda: any(m.get("UserEvent") == "after" for m in rec.messages))
        assert rec.states == [True, False, True]
    finally:
        await conn.stop()
    assert {t for t in asyncio.all_tasks() - before if not t.done() and "Recorder" not in repr(t)} == set()


async def test_link_cut_during_login_is_redialled_without_waiting_for_the_login_timeout(
    server: FakeAmi,
) -> None:
    server.drop_at_login = 2
    rec = Recorder()
    conn = AmiConnection(
        "127.0.0.1",
        server.port,
        server.username,
        server.secret,
        on_message=rec.on_message,
        reconnect_initial=0.02,
        reconnect_max=0.1,
        login_timeout=60.0,
    )
    await conn.start()
    try:
        await conn.wait_connected(5)  # well inside the 60 s a Login may take on a live link
        assert server.connections == 3
        assert server.logins == 1
        assert conn.last_error is None
    finally:
        await conn.stop()


async def test_not_connected_action_fails_fast(server: FakeAmi) -> None:
    rec = Recorder()
    conn = make(server, rec)
    with pytest.raises(AmiDisconnected):
        await conn.send_action({"Action": "Ping"}, as_list=False)


async def test_action_timeout(server: FakeAmi) -> None:
    server.handlers["Redirect"] = lambda h, p: None
    rec = Recorder()
    conn = make(server, rec)
    await conn.start()
    try:
        await conn.wait_connected(5)
        with pytest.raises(AmiTimeout):
            await conn.send_action({"Action": "Redirect", "Channel": "x"}, as_list=False, timeout=0.2)
        assert conn.connected
    finally:
        await conn.stop()


async def test_ping_watchdog_aborts_a_wedged_link(server: FakeAmi) -> None:
    before = asyncio.all_tasks()
    rec = Recorder()
    conn = make(server, rec, ping_interval=0.1, ping_timeout=0.3)
    await conn.start()
    try:
        await conn.wait_connected(5)
        server.answer_ping = False
        await rec.wait_for(lambda: False in rec.states, timeout=5)
        server.answer_ping = True
        await rec.wait_for(lambda: rec.states.count(True) >= 2, timeout=5)
        assert server.logins >= 2
        assert conn.connected
    finally:
        await conn.stop()
    assert {t for t in asyncio.all_tasks() - before if not t.done() and "Recorder" not in repr(t)} == set()


async def test_reconnects_when_the_server_comes_back() -> None:
    fake = FakeAmi()
    await fake.start()
    port = fake.port
    await fake.close()
    rec = Recorder()
    conn = AmiConnection(
        "127.0.0.1",
        port,
        "hotline",
        "s3cret",
        on_message=rec.on_message,
        reconnect_initial=0.02,
        reconnect_max=0.1,
    )
    await conn.start()
    try:
        with pytest.raises(TimeoutError):
            await conn.wait_connected(0.2)
        assert isinstance(conn.last_error, OSError)
        # the server comes back on the same port
        fake2 = FakeAmi()
        fake2._server = await asyncio.start_server(fake2._serve, "127.0.0.1", port)
        fake2.port = port
        try:
            await conn.wait_connected(5)
            assert fake2.logins == 1
        finally:
            await conn.stop()
            await fake2.close()
    finally:
        await conn.stop()


async def test_bound_actions_positional(server: FakeAmi) -> None:
    server.handlers["QueueAdd"] = lambda h, p: [
        [("Response", "Success"), ("Message", "Added interface to queue")]
    ]
    server.handlers["QueuePause"] = lambda h, p: [
        [("Response", "Success"), ("Message", "Interface paused successfully")]
    ]
    server.handlers["Originate"] = lambda h, p: [
        [("Response", "Success"), ("Message", "Originate successfully queued")]
    ]
    rec = Recorder()
    conn = make(server, rec)
    bound = actions.AmiActions(conn)
    await conn.start()
    try:
        await conn.wait_connected(5)
        resp = await bound.queue_add("q1", "PJSIP/1001", member_name="1001", state_interface="PJSIP/1001")
        assert resp.message == "Added interface to queue"
        sent = dict(server.received[-1])
        assert (sent["Queue"], sent["Interface"], sent["MemberName"], sent["Paused"]) == (
            "q1",
            "PJSIP/1001",
            "1001",
            "false",
        )
        await bound.queue_pause("PJSIP/1001", True, reason="lunch")
        assert ("Paused", "true") in server.received[-1] and ("Reason", "lunch") in server.received[-1]
        await bound.originate(
            "PJSIP/1001", context="hotline-callback", exten="13800138000", variables={"A": "1"}
        )
        sent = dict(server.received[-1])
        assert (sent["Async"], sent["Variable"], sent["Priority"]) == ("true", "A=1", "1")
    finally:
        await conn.stop()
