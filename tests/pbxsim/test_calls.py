"""Whole calls over real TCP: AMI events in Asterisk's order, the FastAGI exchange, ground truth."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from pbxsim.endpoints import AgentBehaviour
from pbxsim.pbx import PbxSimulator
from pbxsim.scripts import CallerScript
from pbxsim.traffic import TrafficProfile, run_traffic
from tests.pbxsim.conftest import AgiConn, AgiServer, AmiClient, Msg, get

SimFactory = Callable[..., Awaitable[PbxSimulator]]

# The events section 5 of ami-queue-events.md orders.
ORDERED = {
    "Newchannel", "Newstate", "QueueCallerJoin", "AgentCalled", "DialBegin", "QueueMemberStatus", "DialEnd",
    "QueueCallerLeave", "AgentConnect", "BridgeCreate", "BridgeEnter", "BridgeLeave", "AgentComplete",
    "BridgeDestroy", "Hangup", "QueueCallerAbandon", "AgentRingNoAnswer",
}  # fmt: skip


def ivr_to(queue: str, *, timeout: str = "", digits: bool = True) -> Callable[[AgiConn], Awaitable[None]]:
    async def ivr(conn: AgiConn) -> None:
        assert (await conn.cmd("ANSWER")) == "200 result=0"
        if digits:
            conn.headers["menu"] = await conn.cmd("GET DATA hotline/menu 2000 1")
        await conn.cmd("SET VARIABLE HOTLINE_LANGUAGE zh")
        await conn.cmd("SET VARIABLE HOTLINE_PRIORITY 0")
        if timeout:
            await conn.cmd(f"SET VARIABLE HOTLINE_QUEUE_TIMEOUT {timeout}")
        await conn.cmd(f"SET VARIABLE HOTLINE_QUEUE {queue}")

    return ivr


async def setup(
    config_dir: Path, sim_factory: SimFactory, script: Callable[[AgiConn], Awaitable[None]]
) -> tuple[PbxSimulator, AmiClient, AgiServer]:
    agi = AgiServer(script)
    await agi.start()
    sim = await sim_factory(config_dir, agi.url)
    ami = await AmiClient.connect(sim.ami_port)
    await ami.login()
    return sim, ami, agi


def call_events(ami: AmiClient, start: int) -> list[Msg]:
    return [m for m in ami.messages[start:] if m and m[0][0] == "Event"]


def names(events: list[Msg], caller: str) -> list[str]:
    """Event names, with `(member)` for agent-leg channel events and the member status for QMS."""
    out = []
    for m in events:
        name = get(m, "Event")
        if name not in ORDERED:
            continue
        if name == "QueueMemberStatus":
            name += f"({get(m, 'Status')})"
        elif name in ("Newchannel", "Newstate", "Hangup", "BridgeEnter", "BridgeLeave"):
            name += "(caller)" if get(m, "Channel") == caller else "(member)"
        out.append(name)
    return out


async def wait_cdr(ami: AmiClient, start: int) -> None:
    await ami.wait_for(lambda m: get(m, "Event") == "Cdr", start=start)


async def test_answered_call(config_dir: Path, sim_factory: SimFactory) -> None:
    sim, ami, agi = await setup(config_dir, sim_factory, ivr_to("zh-legal"))
    sim.set_agent("1002", AgentBehaviour(answer_after=0.2, talk_seconds=0.4))
    await ami.action("QueueAdd", Queue="zh-legal", Interface="PJSIP/1002", MemberName="Agent 1002")
    start = len(ami.messages)
    call = await sim.place_call(CallerScript(number="13800138000", digits=[(0.01, "1")], name="共青团"))
    outcome = await call.wait_finished(10)
    await ami.wait_for(
        lambda m: get(m, "Event") == "QueueMemberStatus" and get(m, "CallsTaken") == "1", start=start
    )
    events = call_events(ami, start)
    caller = call.channel.name
    assert names(events, caller) == [
        "Newchannel(caller)", "Newstate(caller)", "QueueCallerJoin", "Newchannel(member)", "AgentCalled",
        "DialBegin", "Newstate(member)", "QueueMemberStatus(6)", "Newstate(member)", "DialEnd",
        "QueueCallerLeave", "QueueMemberStatus(2)", "AgentConnect", "BridgeCreate", "BridgeEnter(caller)",
        "BridgeEnter(member)", "BridgeLeave(member)", "AgentComplete", "BridgeLeave(caller)", "BridgeDestroy",
        # Queue() option c (a survey follows): the caller goes on in the dialplan after the agent hung up
        "Hangup(member)", "QueueMemberStatus(1)", "Hangup(caller)",
    ]  # fmt: skip
    by_name = {get(m, "Event"): m for m in events}
    member_chan = get(by_name["AgentConnect"], "DestChannel")
    assert caller.startswith("PJSIP/trunk-") and member_chan.startswith("PJSIP/1002-")
    for m in events:  # every leg carries the caller's Linkedid
        if get(m, "Linkedid"):
            assert get(m, "Linkedid") == call.linkedid
    assert get(by_name["AgentComplete"], "Reason") == "agent"
    assert get(by_name["DialEnd"], "DialStatus") == "ANSWER"
    first_channel = next(m for m in events if get(m, "Event") == "Newchannel")
    assert get(first_channel, "CallerIDName") == "共青团"
    dtmf = by_name["DTMFEnd"]
    assert get(dtmf, "Digit") == "1" and get(dtmf, "Direction") == "Received" and get(dtmf, "DurationMs")
    assert [k for k, _ in by_name["QueueCallerJoin"]][:17] == [
        "Event", "Privilege", "Timestamp", "Channel", "ChannelState", "ChannelStateDesc",
        "CallerIDNum", "CallerIDName", "ConnectedLineNum", "ConnectedLineName", "Language",
        "AccountCode", "Context", "Exten", "Priority", "Uniqueid", "Linkedid",
    ]  # fmt: skip
    varsets = {get(m, "Variable"): get(m, "Value") for m in events if get(m, "Event") == "VarSet"}
    first_agi = next(get(m, "Value") for m in events if get(m, "Variable") == "AGISTATUS")
    assert varsets["HOTLINE_QUEUE"] == "zh-legal" and first_agi == "SUCCESS"  # the IVR (a survey follows)
    assert varsets["QUEUESTATUS"] == "CONTINUE"  # Queue() option c: the agent hung up first
    await wait_cdr(ami, start)
    cdr = next(m for m in ami.messages[start:] if get(m, "Event") == "Cdr")
    assert get(cdr, "Disposition") == "ANSWERED" and get(cdr, "UniqueID") == call.linkedid
    assert get(cdr, "DestinationChannel") == member_chan

    assert agi.conns[0].headers["menu"] == "200 result=1"
    assert outcome.disposition == "answered" and outcome.agent == "Agent 1002"
    assert outcome.queue == "zh-legal" and outcome.digits == "1" and outcome.hangup_cause == 16
    assert outcome.wait_seconds is not None and 0.1 < outcome.wait_seconds < 1.5
    assert outcome.talk_seconds is not None and 0.3 < outcome.talk_seconds < 1.5
    assert sim.ground_truth() == [outcome]
    status = await ami.action("QueueStatus", Queue="zh-legal")
    del status
    member = await ami.wait_for(lambda m: get(m, "Event") == "QueueMember", start=start)
    assert get(member, "CallsTaken") == "1" and get(member, "LastCall") != "0"
    await ami.close()
    await agi.stop()


async def test_caller_ends_conversation(config_dir: Path, sim_factory: SimFactory) -> None:
    sim, ami, agi = await setup(config_dir, sim_factory, ivr_to("zh-legal", digits=False))
    sim.set_agent("1003", AgentBehaviour(answer_after=0.05, talk_seconds=30))
    await ami.action("QueueAdd", Queue="zh-legal", Interface="PJSIP/1003")
    start = len(ami.messages)
    call = await sim.place_call(CallerScript(number="13900000000", hangup_after_answer=0.2))
    outcome = await call.wait_finished(10)
    complete = await ami.wait_for(lambda m: get(m, "Event") == "AgentComplete", start=start)
    assert get(complete, "Reason") == "caller"
    assert outcome.disposition == "answered"
    await ami.close()
    await agi.stop()


async def test_abandoned_call(config_dir: Path, sim_factory: SimFactory) -> None:
    sim, ami, agi = await setup(config_dir, sim_factory, ivr_to("zh-legal", digits=False))
    sim.set_agent("1002", AgentBehaviour(answers=False))
    await ami.action("QueueAdd", Queue="zh-legal", Interface="PJSIP/1002")
    start = len(ami.messages)
    call = await sim.place_call(CallerScript(number="13800138001", hangup_after=0.6))
    outcome = await call.wait_finished(10)
    await ami.wait_for(
        lambda m: get(m, "Event") == "QueueMemberStatus" and get(m, "Status") == "1", start=start
    )
    events = call_events(ami, start)
    assert names(events, call.channel.name) == [
        "Newchannel(caller)", "Newstate(caller)", "QueueCallerJoin", "Newchannel(member)", "AgentCalled",
        "DialBegin", "Newstate(member)", "QueueMemberStatus(6)", "DialEnd", "QueueCallerAbandon",
        "QueueCallerLeave", "Hangup(member)", "Hangup(caller)", "QueueMemberStatus(1)",
    ]  # fmt: skip
    dial_end = next(m for m in events if get(m, "Event") == "DialEnd")
    assert get(dial_end, "DialStatus") == "CANCEL"
    abandon = next(m for m in events if get(m, "Event") == "QueueCallerAbandon")
    assert get(abandon, "OriginalPosition") == "1" and get(abandon, "HoldTime") == "0"
    member_hangup = next(
        m for m in events if get(m, "Event") == "Hangup" and get(m, "Channel") != call.channel.name
    )
    assert get(member_hangup, "Cause") == "0"
    assert not any(get(m, "Variable") == "QUEUESTATUS" for m in events)
    assert outcome.disposition == "abandoned" and outcome.agent is None and outcome.queue == "zh-legal"
    await ami.close()
    await agi.stop()


async def test_a_waiting_caller_redirected_by_ami_is_an_abandon_as_app_queue_records_it(
    config_dir: Path, sim_factory: SimFactory
) -> None:
    sim, ami, agi = await setup(config_dir, sim_factory, ivr_to("zh-legal", digits=False))
    sim.set_agent("1002", AgentBehaviour(answers=False))
    await ami.action("QueueAdd", Queue="zh-legal", Interface="PJSIP/1002")
    start = len(ami.messages)
    call = await sim.place_call(CallerScript(number="13800138009"))
    await ami.wait_for(lambda m: get(m, "Event") == "QueueCallerJoin", start=start)
    reply = await ami.action("Redirect", Channel=call.channel.name, Context="hotline-survey", Exten="s")
    assert get(reply, "Response") == "Success"
    outcome = await call.wait_finished(10)
    events = call_events(ami, start)
    left = [
        get(m, "Event")
        for m in events
        if get(m, "Event") in ("QueueCallerAbandon", "QueueCallerLeave")
        or get(m, "Variable") == "QUEUESTATUS"
    ]
    assert left == ["QueueCallerAbandon", "QueueCallerLeave"]
    after = [get(m, "Context") for m in events if get(m, "Event") == "Newexten"]
    assert after[-1] == "hotline-survey"  # the caller went where the Redirect sent them
    assert outcome.disposition == "abandoned" and outcome.queue == "zh-legal"
    await ami.close()
    await agi.stop()


async def test_hang_up_all_ends_every_call_as_a_graceful_shutdown_would(
    config_dir: Path, sim_factory: SimFactory
) -> None:
    sim, ami, agi = await setup(config_dir, sim_factory, ivr_to("zh-legal", digits=False))
    start = len(ami.messages)
    calls = [await sim.place_call(CallerScript(number=f"1380013810{i}")) for i in range(3)]
    await ami.wait_for(lambda m: get(m, "Event") == "QueueCallerJoin" and get(m, "Count") == "3", start=start)
    assert await sim.hang_up_all() == 0 and sim.active_channels == 0
    outcomes = [await call.wait_finished(5) for call in calls]
    assert [o.disposition for o in outcomes] == ["abandoned"] * 3  # each caller left the queue
    hangups = {get(m, "Linkedid") for m in ami.messages[start:] if get(m, "Event") == "Hangup"}
    assert hangups >= {c.linkedid for c in calls}  # and AMI clients saw each end
    await ami.close()
    await agi.stop()


async def test_queue_timeout(config_dir: Path, sim_factory: SimFactory) -> None:
    sim, ami, agi = await setup(config_dir, sim_factory, ivr_to("zh-legal", timeout="1", digits=False))
    sim.set_agent("1002", AgentBehaviour(answers=False))
    await ami.action("QueueAdd", Queue="zh-legal", Interface="PJSIP/1002")
    start = len(ami.messages)
    call = await sim.place_call(CallerScript(number="13800138002"))
    outcome = await call.wait_finished(10)
    events = call_events(ami, start)
    seq = [
        get(m, "Event") + (f"={get(m, 'Value')}" if get(m, "Event") == "VarSet" else "")
        for m in events
        if get(m, "Event") in ("AgentRingNoAnswer", "QueueCallerAbandon", "QueueCallerLeave")
        or get(m, "Variable") == "QUEUESTATUS"
    ]
    assert seq == ["AgentRingNoAnswer", "QueueCallerAbandon", "QueueCallerLeave", "VarSet=TIMEOUT"]
    rna = next(m for m in events if get(m, "Event") == "AgentRingNoAnswer")
    assert 900 <= int(get(rna, "RingTime")) <= 1500  # milliseconds
    assert outcome.disposition == "queue-timeout"
    # the dialplan went on after Queue() returned (the rendered config's timeout-<queue> branch)
    after = [get(m, "Application") for m in events if get(m, "Event") == "Newexten"]
    assert after[after.index("Queue") + 1] == "GotoIf"
    await ami.close()
    await agi.stop()


async def test_agi_unreachable_takes_fallback(config_dir: Path, sim_factory: SimFactory) -> None:
    probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    sim = await sim_factory(config_dir, f"agi://127.0.0.1:{port}/ivr")
    ami = await AmiClient.connect(sim.ami_port)
    await ami.login()
    start = len(ami.messages)
    call = await sim.place_call(CallerScript(number="13800138003", hangup_after=0.5))
    outcome = await call.wait_finished(10)
    events = call_events(ami, start)
    varsets = [(get(m, "Variable"), get(m, "Value")) for m in events if get(m, "Event") == "VarSet"]
    assert ("AGISTATUS", "FAILURE") in varsets
    assert ("HOTLINE_MENU_PATH", "fallback") in varsets
    join = next(m for m in events if get(m, "Event") == "QueueCallerJoin")
    assert get(join, "Queue") == "zh-psychology" and get(join, "Exten") == "fallback"
    assert outcome.queue == "zh-psychology" and outcome.disposition == "abandoned"
    await ami.close()


async def test_caller_hangup_during_agi(config_dir: Path, sim_factory: SimFactory) -> None:
    seen: dict[str, str] = {}

    async def ivr(conn: AgiConn) -> None:
        await conn.cmd("ANSWER")
        conn.writer.write(b"GET DATA hotline/welcome 5000 4\n")
        seen["reply"] = (await conn.line()).rstrip("\n")
        seen["notice"] = (await conn.line()).rstrip("\n")
        seen["noop"] = await conn.cmd("NOOP")
        seen["dead"] = await conn.cmd('STREAM FILE x ""')
        seen["set"] = await conn.cmd("SET VARIABLE LATE yes")

    sim, ami, agi = await setup(config_dir, sim_factory, ivr)
    start = len(ami.messages)
    call = await sim.place_call(CallerScript(number="13800138004", hangup_after=0.3))
    outcome = await call.wait_finished(10)
    await agi.done.get()
    assert seen == {
        "reply": "200 result=-1",
        "notice": "HANGUP",
        "noop": "200 result=0",
        "dead": "511 Command Not Permitted on a dead channel or intercept routine",
        "set": "200 result=1",
    }
    events = call_events(ami, start)
    varsets = [(get(m, "Variable"), get(m, "Value")) for m in events if get(m, "Event") == "VarSet"]
    assert ("AGISTATUS", "HANGUP") in varsets and ("LATE", "yes") in varsets
    assert not any(get(m, "Event") == "QueueCallerJoin" for m in events)
    ends = [m for m in events if get(m, "Event") == "AGIExecEnd"]
    assert [get(m, "ResultCode") for m in ends] == ["200", "200", "200", "511", "200"]
    assert outcome.disposition == "ivr-hangup" and outcome.queue is None
    await ami.close()
    await agi.stop()


async def test_agi_header_and_errors(config_dir: Path, sim_factory: SimFactory) -> None:
    replies: dict[str, str] = {}

    async def ivr(conn: AgiConn) -> None:
        replies["unknown"] = await conn.cmd("FROB THE KNOB")
        replies["usage"] = await conn.cmd("SET VARIABLE ONLYNAME")
        replies["getvar"] = await conn.cmd("GET VARIABLE CALLERID(num)")
        replies["unset"] = await conn.cmd("GET VARIABLE NOPE")
        replies["full"] = await conn.cmd("GET FULL VARIABLE ${EXTEN}-${CALLERID(name)}")
        replies["status"] = await conn.cmd("CHANNEL STATUS")
        replies["timeout"] = await conn.cmd("GET DATA x 100 3")
        replies["digit"] = await conn.cmd("WAIT FOR DIGIT 50")
        replies["stream"] = await conn.cmd('STREAM FILE hotline/welcome ""')
        replies["exec"] = await conn.cmd("EXEC Set HOTLINE_QUEUE=zh-family")

    sim, ami, agi = await setup(config_dir, sim_factory, ivr)
    sim.set_agent("1005", AgentBehaviour(answer_after=0.05, talk_seconds=0.1))
    await ami.action("QueueAdd", Queue="zh-family", Interface="PJSIP/1005")
    call = await sim.place_call(CallerScript(number="13800138005", name="Li"))
    outcome = await call.wait_finished(10)
    conn = agi.conns[0]
    keys = [line.split(":")[0] for line in conn.header_lines]
    assert keys == [
        "agi_network", "agi_network_script", "agi_request", "agi_channel", "agi_language", "agi_type",
        "agi_uniqueid", "agi_version", "agi_callerid", "agi_calleridname", "agi_callingpres",
        "agi_callingani2", "agi_callington", "agi_callingtns", "agi_dnid", "agi_rdnis", "agi_context",
        "agi_extension", "agi_priority", "agi_enhanced", "agi_accountcode", "agi_threadid",
    ]  # fmt: skip
    assert conn.headers["agi_network_script"] == "ivr" and conn.headers["agi_request"] == agi.url
    assert conn.headers["agi_uniqueid"] == call.linkedid and conn.headers["agi_calleridname"] == "Li"
    assert all(line.endswith("\n") and not line.endswith("\r\n") for line in conn.header_lines)
    assert replies == {
        "unknown": "510 Invalid or unknown command",
        "usage": "520 End of proper usage.",
        "getvar": "200 result=1 (13800138005)",
        "unset": "200 result=0",
        "full": "200 result=1 (12355-Li)",
        "status": "200 result=6",
        "timeout": "200 result= (timeout)",
        "digit": "200 result=0",
        "stream": "200 result=0 endpos=400",
        "exec": "200 result=0",
    }
    assert outcome.disposition == "answered" and outcome.queue == "zh-family"
    await ami.close()
    await agi.stop()


async def test_priority_order_and_traffic(config_dir: Path, sim_factory: SimFactory) -> None:
    async def ivr(conn: AgiConn) -> None:
        prio = "5" if conn.headers["agi_callerid"].endswith("9") else "0"
        await conn.cmd(f"SET VARIABLE HOTLINE_PRIORITY {prio}")
        await conn.cmd("SET VARIABLE HOTLINE_QUEUE zh-legal")

    sim, ami, agi = await setup(config_dir, sim_factory, ivr)
    start = len(ami.messages)
    first = await sim.place_call(CallerScript(number="100", hangup_after=1.0))
    await ami.wait_for(lambda m: get(m, "Event") == "QueueCallerJoin", start=start)
    vip = await sim.place_call(CallerScript(number="109", hangup_after=1.0))
    join = await ami.wait_for(
        lambda m: get(m, "Event") == "QueueCallerJoin" and get(m, "CallerIDNum") == "109", start=start
    )
    assert get(join, "Position") == "1" and get(join, "Count") == "2"
    await first.wait_finished(5)
    await vip.wait_finished(5)

    sim.set_agent("1007", AgentBehaviour(answer_after=0.05, talk_seconds=0.05))
    await ami.action("QueueAdd", Queue="zh-legal", Interface="PJSIP/1007")
    profile = TrafficProfile(menu=(), patience=(0.2, 0.5), impatient_share=1.0, talk=(0.05, 0.1))
    calls = await run_traffic(sim, 200.0, 10, seed=3, profile=profile)
    outcomes = await asyncio.gather(*(c.wait_finished(10) for c in calls))
    assert len(outcomes) == 10
    # patience counts from the call's start: on a loaded machine a caller may give up inside the IVR
    assert {o.disposition for o in outcomes} <= {"answered", "abandoned", "ivr-hangup"}
    assert any(o.disposition == "answered" for o in outcomes)
    assert len(sim.ground_truth()) == 12
    await ami.close()
    await agi.stop()
