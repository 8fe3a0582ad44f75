"""The AMI server over real TCP: framing, login, list responses, errors, robustness."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from pathlib import Path

from pbxsim.pbx import PbxSimulator
from tests.pbxsim.conftest import AmiClient, get

SimFactory = Callable[..., Awaitable[PbxSimulator]]
NO_AGI = "agi://127.0.0.1:9/ivr"


async def test_banner_and_login(config_dir: Path, sim_factory: SimFactory) -> None:
    sim = await sim_factory(config_dir, NO_AGI)
    ami = await AmiClient.connect(sim.ami_port)
    assert ami.banner == "Asterisk Call Manager/11.0.0\r\n"
    bad = await ami.login(secret="wrong")
    assert get(bad, "Response") == "Error" and get(bad, "Message") == "Authentication failed"
    denied = await ami.action("Ping")
    assert get(denied, "Message") == "Authentication Required"
    ok = await ami.login()
    assert ok[0] == ("Response", "Success") and ok[1][0] == "ActionID"
    assert get(ok, "Message") == "Authentication accepted"
    booted = await ami.wait_for(lambda m: get(m, "Event") == "FullyBooted")
    assert get(booted, "Privilege") == "system,all"
    bye = await ami.action("Logoff")
    assert get(bye, "Response") == "Goodbye"
    await ami.close()


async def test_md5_challenge_login(config_dir: Path, sim_factory: SimFactory) -> None:
    sim = await sim_factory(config_dir, NO_AGI)
    ami = await AmiClient.connect(sim.ami_port)
    challenge = get(await ami.action("Challenge", AuthType="MD5"), "Challenge")
    key = hashlib.md5((challenge + "secret").encode()).hexdigest()
    ok = await ami.action("Login", AuthType="MD5", Username="hotline", Key=key)
    assert get(ok, "Response") == "Success"
    await ami.close()


async def test_ping_action_id_and_unknown(config_dir: Path, sim_factory: SimFactory) -> None:
    sim = await sim_factory(config_dir, NO_AGI)
    ami = await AmiClient.connect(sim.ami_port)
    await ami.login()
    pong = await ami.response(ami.send("Ping", ActionID="my-id-42"))
    assert get(pong, "ActionID") == "my-id-42" and get(pong, "Ping") == "Pong"
    seconds, _, micro = get(pong, "Timestamp").partition(".")
    assert seconds.isdigit() and len(micro) == 6
    unknown = await ami.action("NoSuchThing")
    assert get(unknown, "Response") == "Error" and get(unknown, "Message") == "Invalid/unknown command"
    version = await ami.action("Command", Command="core show version")
    assert get(version, "Message") == "Command output follows" and get(version, "Output").startswith(
        "Asterisk 22"
    )
    await ami.close()


async def test_malformed_frames_do_not_kill_session(config_dir: Path, sim_factory: SimFactory) -> None:
    sim = await sim_factory(config_dir, NO_AGI)
    ami = await AmiClient.connect(sim.ami_port)
    await ami.login()
    ami.send_raw(b"this line has no colon\r\n\xff\xfe garbage\r\n\r\n")
    missing = await ami.wait_for(lambda m: get(m, "Message") == "Missing action in request")
    assert get(missing, "Response") == "Error"
    ami.send_raw(b"\r\n\r\nAction: Ping\nActionID: lf-only\n\n")  # bare LF line ends are accepted too
    assert get(await ami.response("lf-only"), "Ping") == "Pong"
    # a second client still works, the server is alive
    other = await AmiClient.connect(sim.ami_port)
    assert get(await other.login(), "Response") == "Success"
    assert get(await ami.action("Ping"), "Ping") == "Pong"
    await ami.close()
    await other.close()


async def test_queue_add_errors_and_status_list(config_dir: Path, sim_factory: SimFactory) -> None:
    sim = await sim_factory(config_dir, NO_AGI)
    ami = await AmiClient.connect(sim.ami_port)
    await ami.login()
    added = await ami.action("QueueAdd", Queue="zh-legal", Interface="PJSIP/1002", MemberName="Agent 1002")
    assert get(added, "Message") == "Added interface to queue"
    again = await ami.action("QueueAdd", Queue="zh-legal", Interface="PJSIP/1002")
    assert get(again, "Response") == "Error"
    assert get(again, "Message") == "Unable to add interface: Already there"
    nosuch = await ami.action("QueueAdd", Queue="nope", Interface="PJSIP/1002")
    assert get(nosuch, "Message") == "Unable to add interface to queue: No such queue"
    paused = await ami.action("QueuePause", Interface="PJSIP/1002", Paused="true", Reason="lunch")
    assert get(paused, "Message") == "Interface paused successfully"
    event = await ami.wait_for(lambda m: get(m, "Event") == "QueueMemberPause")
    assert get(event, "PausedReason") == "lunch" and get(event, "Paused") == "1"
    notfound = await ami.action("QueuePause", Interface="PJSIP/9999", Paused="false")
    assert get(notfound, "Message") == "Interface not found"

    action_id = ami.send("QueueStatus", Queue="zh-legal", ActionID="qs-1")
    head = await ami.response(action_id)
    assert head[:4] == [
        ("Response", "Success"),
        ("ActionID", "qs-1"),
        ("EventList", "start"),
        ("Message", "Queue status will follow"),
    ]
    done = await ami.wait_for(lambda m: get(m, "Event") == "QueueStatusComplete")
    assert get(done, "ActionID") == "qs-1" and get(done, "EventList") == "Complete"
    assert get(done, "ListItems") == "2"
    items = [m for m in ami.messages if get(m, "ActionID") == "qs-1" and m[0][0] == "Event"]
    assert [get(m, "Event") for m in items] == ["QueueParams", "QueueMember", "QueueStatusComplete"]
    member = items[1]
    assert [k for k, _ in member] == [
        "Event", "Queue", "Name", "Location", "StateInterface", "Membership", "Penalty", "CallsTaken",
        "LastCall", "LastPause", "LoginTime", "InCall", "Status", "Paused", "PausedReason", "Wrapuptime",
        "ActionID",
    ]  # fmt: skip
    assert get(member, "Name") == "Agent 1002" and get(member, "Location") == "PJSIP/1002"
    assert get(member, "Status") == "1" and get(member, "Paused") == "1"

    summary_id = ami.send("QueueSummary", Queue="zh-legal")
    done = await ami.wait_for(
        lambda m: get(m, "Event") == "QueueSummaryComplete" and get(m, "ActionID") == summary_id
    )
    summary = await ami.wait_for(lambda m: get(m, "Event") == "QueueSummary")
    assert get(summary, "LoggedIn") == "1" and get(summary, "Available") == "0"

    removed = await ami.action("QueueRemove", Queue="zh-legal", Interface="PJSIP/1002")
    assert get(removed, "Message") == "Removed interface from queue"
    await ami.close()


async def test_events_off_and_slow_client_dropped(config_dir: Path, sim_factory: SimFactory) -> None:
    sim = await sim_factory(config_dir, NO_AGI, max_session_buffer=64 * 1024)
    quiet = await AmiClient.connect(sim.ami_port)
    await quiet.action("Login", Username="hotline", Secret="secret", Events="off")
    # a client that never reads: the server must drop it instead of buffering for ever
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.ami_port)
    writer.write(b"Action: Login\r\nUsername: hotline\r\nSecret: secret\r\n\r\n")
    await writer.drain()
    loud = await AmiClient.connect(sim.ami_port)
    await loud.login()
    for i in range(6000):
        loud.send("UserEvent", UserEvent="Flood", Payload="x" * 2000, Seq=str(i))
    await loud.wait_for(lambda m: get(m, "Seq") == "5999" and get(m, "Event") == "UserEvent", limit=20)
    assert len(sim.ami.sessions) == 2  # the stuck client is gone
    assert not any(get(m, "Event") == "UserEvent" for m in quiet.messages)
    writer.close()
    await quiet.close()
    await loud.close()
    del reader


async def test_originate_async_and_getvar(config_dir: Path, sim_factory: SimFactory) -> None:
    sim = await sim_factory(config_dir, NO_AGI)
    ami = await AmiClient.connect(sim.ami_port)
    await ami.login()
    queued = await ami.action(
        "Originate", Channel="PJSIP/1002", Application="Wait", Data="0.1", Async="true",
        CallerID='"Callback" <12355>', ActionID="orig-1",
    )  # fmt: skip
    assert get(queued, "Message") == "Originate successfully queued"
    response = await ami.wait_for(lambda m: get(m, "Event") == "OriginateResponse")
    assert get(response, "ActionID") == "orig-1" and get(response, "Response") == "Success"
    assert get(response, "Reason") == "4" and get(response, "Channel").startswith("PJSIP/1002-")
    hangup = await ami.wait_for(lambda m: get(m, "Event") == "Hangup")
    assert get(hangup, "Uniqueid") == get(response, "Uniqueid")
    assert get(await ami.action("Setvar", Variable="G1", Value="v"), "Message") == "Variable Set"
    got = await ami.action("Getvar", Variable="G1")
    assert get(got, "Variable") == "G1" and get(got, "Value") == "v"
    nochan = await ami.action("Hangup", Channel="PJSIP/none-00000001")
    assert get(nochan, "Message") == "No such channel"
    await ami.close()
