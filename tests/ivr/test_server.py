"""The FastAGI server and channel over real TCP on 127.0.0.1:0."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from ivr.agi.protocol import AgiCommandError, AgiCommandFailedError, AgiHangup, AgiProtocolError, AgiRequest
from ivr.agi.server import DEFAULT_PORT, AgiChannel, AgiHandler, AgiTimeoutError, FastAgiServer
from ivr.session import make_ivr_route

from .fake_asterisk import WAIT, FakeAsterisk, header_lines
from .plans import example_plan


@asynccontextmanager
async def serving(
    routes: dict[str, AgiHandler], *, header_timeout: float = 2.0, command_timeout: float = WAIT
) -> AsyncIterator[FastAgiServer]:
    server = FastAgiServer(routes, port=0, header_timeout=header_timeout, command_timeout=command_timeout)
    await server.start()
    try:
        yield server
    finally:
        await asyncio.wait_for(server.stop(), WAIT)
        assert server.connections == 0


async def run_fake(server: FastAgiServer, fake: FakeAsterisk) -> FakeAsterisk:
    await asyncio.wait_for(fake.run(), WAIT)
    await asyncio.wait_for(server.wait_idle(), WAIT)
    return fake


async def read_until_eof(reader: asyncio.StreamReader) -> bytes:
    return await asyncio.wait_for(reader.read(), WAIT)


def ivr_route() -> AgiHandler:
    return make_ivr_route(example_plan)


async def test_silent_client_does_not_block_a_call_and_is_closed(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "ivr")
    async with serving({"ivr": ivr_route()}, header_timeout=0.5) as server:
        silent_reader, silent_writer = await asyncio.open_connection("127.0.0.1", server.port)
        half_reader, half_writer = await asyncio.open_connection("127.0.0.1", server.port)
        half_writer.write(b"agi_network: yes\nagi_network_scr")
        await half_writer.drain()
        fake = await asyncio.wait_for(FakeAsterisk(server.port, get_data=["1", "2"]).run(), WAIT)
        assert fake.variables["HOTLINE_QUEUE"] == "zh-legal" and fake.closed_by_server
        # The stalled peers are still connected, then closed by the header timeout.
        assert await read_until_eof(silent_reader) == b""
        assert await read_until_eof(half_reader) == b""
        silent_writer.close()
        half_writer.close()
        local = silent_writer.get_extra_info("sockname")
    assert f"127.0.0.1:{local[1]}" in caplog.text
    assert caplog.text.count("no complete header") == 2


async def test_header_sent_byte_by_byte_keeps_utf8(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[AgiRequest] = []

    async def capture(channel: AgiChannel) -> None:
        seen.append(channel.request)
        await channel.set_variable("OK", "1")

    async with serving({"capture": capture}) as server:
        fake = await run_fake(
            server, FakeAsterisk(server.port, script="capture?a=1", header_mode="bytes", name="巴特尔 ᠮᠣᠩᠭᠣᠯ")
        )
    assert fake.variables == {"OK": "1"}
    (request,) = seen
    assert request.calleridname == "巴特尔 ᠮᠣᠩᠭᠣᠯ"
    assert request.callerid == "13800138000"
    assert request.rdnis is None
    assert dict(request.params) == {"a": "1"}
    assert request.get("accountcode") == ""


async def test_ivr_call_with_header_byte_by_byte() -> None:
    async with serving({"ivr": ivr_route()}) as server:
        fake = await run_fake(server, FakeAsterisk(server.port, header_mode="bytes", get_data=["2", "5"]))
    assert fake.variables["HOTLINE_QUEUE"] == "mn-family"


@pytest.mark.parametrize("script", ["nope", "", "ivr/extra"])
async def test_unknown_route_is_logged_and_closed(script: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "ivr")
    async with serving({"ivr": ivr_route()}) as server:
        fake = await run_fake(server, FakeAsterisk(server.port, script=script))
    assert fake.commands == [] and fake.closed_by_server
    assert "no route" in caplog.text and "1732350000.42" in caplog.text


@pytest.mark.parametrize(
    "payload,message",
    [
        (b"", "without a header"),
        (b"agi_network: yes\nagi_request: x\n", "closed after 2 header lines"),
        (b"this is not agi\n\n", "bad header"),
        (b"GET / HTTP/1.1\nHost: x\n\n", "bad header"),
        (b"x: y\n" * 300, "bad header"),
        (b"agi_x: " + b"y" * 70000 + b"\n\n", "bad header"),
    ],
)
async def test_bad_or_incomplete_headers_are_closed(
    payload: bytes, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "ivr")
    called: list[AgiChannel] = []

    async def route(channel: AgiChannel) -> None:
        called.append(channel)

    async with serving({"ivr": route, "": route}) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(payload)
        await writer.drain()
        if payload.endswith(b"\n\n"):
            assert await read_until_eof(reader) == b""
        writer.write_eof()
        await asyncio.wait_for(server.wait_idle(), WAIT)
        writer.close()
    assert called == []
    assert message in caplog.text


async def test_520_usage_is_a_command_error_and_keeps_the_channel_in_step() -> None:
    outcome: list[object] = []

    def responder(words: list[str]) -> list[str] | None:
        if words[:2] == ["GET", "DATA"] and len(words) == 2:
            return [
                "520-Invalid command syntax.  Proper usage follows:",
                " Usage: GET DATA <file to be streamed> [timeout] [maxdigits]",
                "",
                "200 result=0 (looks like a reply but is usage text)",
                "520 End of proper usage.",
            ]
        return None

    async def route(channel: AgiChannel) -> None:
        with pytest.raises(AgiCommandError) as err:
            await channel.command("GET", "DATA")
        outcome.append(err.value.code)
        outcome.append(err.value.text)
        await channel.set_variable("AFTER", "ok")
        outcome.append(await channel.get_variable("AFTER"))
        with pytest.raises(AgiCommandError) as err510:
            await channel.command("BOGUS")
        outcome.append(err510.value.code)
        outcome.append(await channel.get_variable("UNSET"))

    async with serving({"t": route}) as server:
        fake = await run_fake(server, FakeAsterisk(server.port, script="t", responder=responder))
    assert outcome[0] == 520
    assert "GET DATA <file to be streamed>" in str(outcome[1])
    assert outcome[2:] == ["ok", 510, None]
    assert fake.commands == [
        "GET DATA",
        "SET VARIABLE AFTER ok",
        "GET VARIABLE AFTER",
        "BOGUS",
        "GET VARIABLE UNSET",
    ]


async def test_hangup_line_before_a_reply_is_a_signal_not_a_reply() -> None:
    outcome: list[object] = []

    def responder(words: list[str]) -> list[str] | None:
        if words[:3] == ["SET", "VARIABLE", "FIRST"]:
            return ["HANGUP", "200 result=1"]
        if words[0] == "STREAM":
            return ["511 Command Not Permitted on a dead channel or intercept routine"]
        return None

    async def route(channel: AgiChannel) -> None:
        await channel.set_variable("FIRST", "1")
        outcome.append(channel.hung_up)
        await channel.set_variable("SECOND", "2")  # allowed on a dead channel, reply not shifted
        outcome.append(await channel.get_variable("SECOND"))
        with pytest.raises(AgiHangup):
            await channel.stream_file("zh/bye")
        outcome.append("done")

    async with serving({"t": route}) as server:
        await run_fake(server, FakeAsterisk(server.port, script="t", responder=responder))
    assert outcome == [True, "2", "done"]


async def test_typed_commands() -> None:
    outcome: list[object] = []
    replies = {
        "ANSWER": ["200 result=0"],
        "STREAM": ["200 result=49 endpos=1200"],
        "WAIT": ["200 result=0"],
        "EXEC": ["200 result=0"],
        "GOSUB": ["100 result=0 Trying...", "200 result=0 Gosub complete"],
        "HANGUP": ["200 result=1"],
    }

    def responder(words: list[str]) -> list[str] | None:
        if words[0] == "GET" and words[2] == "CALLERID(name)":
            return ["200 result=1 (共青团 (12355) 热线)"]
        if words[0] == "EXEC" and words[1] == "Nope":
            return ["200 result=-2"]
        if words[0] == "GET" and words[1] == "DATA":
            return ["200 result=12 (timeout)"]
        return replies.get(words[0])

    async def route(channel: AgiChannel) -> None:
        await channel.answer()
        outcome.append(await channel.stream_file("zh/hello", escape="123"))
        outcome.append(await channel.stream_file("zh/hello", offset=800))
        outcome.append(await channel.wait_for_digit(1000))
        outcome.append(await channel.get_data("zh/x", 3000, 4))
        outcome.append(await channel.get_variable("CALLERID(name)"))
        outcome.append(await channel.exec("Playback", "zh/a&zh/b, with space"))
        with pytest.raises(AgiCommandFailedError):
            await channel.exec("Nope")
        reply = await channel.command("GOSUB", "ctx", "s", "1")
        outcome.append((reply.code, reply.text))
        await channel.verbose("IVR 你好", 3)
        outcome.append(await channel.channel_status())
        await channel.hangup()
        outcome.append(channel.hung_up)

    async with serving({"t": route}) as server:
        fake = await run_fake(server, FakeAsterisk(server.port, script="t", responder=responder))
    assert outcome == [
        "1",
        "1",
        None,
        ("12", True),
        "共青团 (12355) 热线",
        0,
        (200, "Gosub complete"),
        6,
        True,
    ]
    assert 'STREAM FILE zh/hello ""' not in fake.commands
    assert "STREAM FILE zh/hello 123" in fake.commands
    assert 'STREAM FILE zh/hello "" 800' in fake.commands
    assert 'EXEC Playback "zh/a&zh/b, with space"' in fake.commands
    assert 'VERBOSE "IVR 你好" 3' in fake.commands


async def test_missing_file_on_live_channel_is_command_failed() -> None:
    outcome: list[object] = []

    def responder(words: list[str]) -> list[str] | None:
        return ["200 result=-1 endpos=0"] if words[0] == "STREAM" else None

    async def route(channel: AgiChannel) -> None:
        with pytest.raises(AgiCommandFailedError):
            await channel.stream_file("zh/missing")
        outcome.append(channel.hung_up)

    async with serving({"t": route}) as server:
        fake = await run_fake(server, FakeAsterisk(server.port, script="t", responder=responder))
    assert outcome == [False]
    assert fake.commands == ['STREAM FILE zh/missing ""', "CHANNEL STATUS"]


async def test_garbage_reply_is_a_protocol_error_and_the_channel_refuses_more(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outcome: list[str] = []

    def responder(words: list[str]) -> list[str] | None:
        return ["what is this"] if words[0] == "NOOP" else None

    async def route(channel: AgiChannel) -> None:
        with pytest.raises(AgiProtocolError):
            await channel.command("NOOP")
        with pytest.raises(AgiProtocolError, match="unusable"):
            await channel.command("NOOP")
        outcome.append("checked")

    async with serving({"t": route}) as server:
        await run_fake(server, FakeAsterisk(server.port, script="t", responder=responder))
    assert outcome == ["checked"]


async def test_wedged_peer_hits_command_timeout(caplog: pytest.LogCaptureFixture) -> None:
    errors: list[BaseException] = []

    def responder(words: list[str]) -> list[str] | None:
        return ["<wedge>"] if words[0] == "NOOP" else None

    async def route(channel: AgiChannel) -> None:
        try:
            await channel.command("NOOP")
        except AgiTimeoutError as exc:
            errors.append(exc)
            raise

    async with serving({"t": route}, command_timeout=0.3) as server:
        fake = await run_fake(server, FakeAsterisk(server.port, script="t", responder=responder))
    assert len(errors) == 1 and fake.closed_by_server
    assert "failed (uniqueid 1732350000.42" in caplog.text


async def test_handler_exception_is_logged_with_uniqueid(caplog: pytest.LogCaptureFixture) -> None:
    async def route(channel: AgiChannel) -> None:
        await channel.verbose("about to fail")
        raise RuntimeError("boom")

    async with serving({"t": route}) as server:
        fake = await run_fake(server, FakeAsterisk(server.port, script="t"))
        # the server keeps serving after a handler failure
        second = await run_fake(server, FakeAsterisk(server.port, script="t"))
    assert fake.closed_by_server and second.closed_by_server
    assert "failed (uniqueid 1732350000.42" in caplog.text and "boom" in caplog.text


async def test_stop_cancels_and_awaits_every_connection() -> None:
    entered = asyncio.Event()
    cancelled: list[bool] = []

    async def stuck(channel: AgiChannel) -> None:
        entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    server = FastAgiServer({"t": stuck}, port=0, header_timeout=60)
    await server.start()
    port = server.port
    silent_reader, silent_writer = await asyncio.open_connection("127.0.0.1", port)
    fake_task = asyncio.create_task(FakeAsterisk(port, script="t").run())
    await asyncio.wait_for(entered.wait(), WAIT)
    assert server.connections == 2
    await asyncio.wait_for(server.stop(), WAIT)
    assert server.connections == 0 and cancelled == [True]
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("fastagi")]
    assert await read_until_eof(silent_reader) == b""
    fake = await asyncio.wait_for(fake_task, WAIT)
    assert fake.closed_by_server
    silent_writer.close()
    with pytest.raises(RuntimeError):
        _ = server.port
    with pytest.raises(OSError):
        await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), WAIT)


async def test_server_lifecycle() -> None:
    server = FastAgiServer({})
    with pytest.raises(RuntimeError):
        _ = server.port
    assert DEFAULT_PORT == 4573
    async with FastAgiServer({}, port=0) as running:
        assert running.port > 0
        with pytest.raises(RuntimeError):
            await running.start()
    await server.stop()  # stopping a server never started is harmless


def test_header_fixture_is_well_formed() -> None:
    assert header_lines("")[0] == "agi_network: yes"
    assert not any(line.startswith("agi_network_script") for line in header_lines(""))
