"""AMI Atxfer on a queue call: errors, a completed attended transfer and one the target ends early."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from pbxsim.endpoints import AgentBehaviour
from pbxsim.pbx import PbxSimulator
from pbxsim.scripts import CallerScript, PlacedCall
from tests.pbxsim.conftest import AgiServer, AmiClient, Msg, get
from tests.pbxsim.test_calls import ivr_to

SimFactory = Callable[..., Awaitable[PbxSimulator]]


async def _answered_call(
    config_dir: Path, sim_factory: SimFactory
) -> tuple[PbxSimulator, AmiClient, AgiServer, PlacedCall, str]:
    agi = AgiServer(ivr_to("zh-legal", digits=False))
    await agi.start()
    sim = await sim_factory(config_dir, agi.url)
    ami = await AmiClient.connect(sim.ami_port)
    await ami.login()
    sim.set_agent("1002", AgentBehaviour(answer_after=0.05, talk_seconds=30))
    await ami.action("QueueAdd", Queue="zh-legal", Interface="PJSIP/1002")
    call = await sim.place_call(CallerScript(number="13800000001"))
    connect = await ami.wait_for(lambda m: get(m, "Event") == "AgentConnect", limit=10)
    return sim, ami, agi, call, get(connect, "DestChannel")


def _after(ami: AmiClient, start: int, wanted: set[str]) -> list[Msg]:
    return [m for m in ami.messages[start:] if get(m, "Event") in wanted]


async def test_atxfer_errors(config_dir: Path, sim_factory: SimFactory) -> None:
    sim, ami, agi, call, agent = await _answered_call(config_dir, sim_factory)
    for fields, error in (
        ({"Exten": "12348"}, "No channel specified"),
        ({"Channel": agent}, "No extension specified"),
        ({"Channel": "PJSIP/9999-00000099", "Exten": "12348"}, "Channel specified does not exist"),
    ):
        reply = await ami.action("Atxfer", **fields)
        assert (get(reply, "Response"), get(reply, "Message")) == ("Error", error)
    call.hangup()
    await call.wait_finished(10)
    await ami.close()
    await agi.stop()
    assert sim.active_channels == 0


async def test_atxfer_completes_when_the_agent_hangs_up(config_dir: Path, sim_factory: SimFactory) -> None:
    sim, ami, agi, call, agent = await _answered_call(config_dir, sim_factory)
    sim.set_agent("12348", AgentBehaviour(answer_after=0.1, talk_seconds=0.6))
    start = len(ami.messages)
    reply = await ami.action("Atxfer", Channel=agent, Exten="12348", Context="hotline-agents")
    assert (get(reply, "Response"), get(reply, "Message")) == ("Success", "Atxfer successfully queued")
    dial_end = await ami.wait_for(lambda m: get(m, "Event") == "DialEnd", start=start)
    assert get(dial_end, "DialStatus") == "ANSWER" and get(dial_end, "Channel") == agent
    target = get(dial_end, "DestChannel")
    assert target.startswith("PJSIP/pstn-") and get(dial_end, "DestLinkedid") == call.linkedid
    await ami.action("Hangup", Channel=agent)
    outcome = await call.wait_finished(10)
    events = _after(
        ami,
        start,
        {
            "BridgeLeave", "BridgeEnter", "BridgeCreate", "BridgeDestroy", "MusicOnHoldStart",
            "MusicOnHoldStop", "DialBegin", "DialEnd", "AttendedTransfer", "AgentComplete", "Hangup",
        },
    )  # fmt: skip
    who = {call.channel.name: "caller", agent: "agent", target: "target"}
    seen = [f"{get(m, 'Event')}({who.get(get(m, 'Channel'), '')})" for m in events]
    assert seen == [
        "BridgeLeave(agent)", "MusicOnHoldStart(caller)", "BridgeCreate()", "BridgeEnter(agent)",
        "DialBegin(agent)", "DialEnd(agent)", "BridgeEnter(target)",
        # the agent hangs up: the target takes its place next to the caller
        "BridgeLeave(agent)", "BridgeLeave(target)", "BridgeDestroy()", "BridgeEnter(target)",
        "MusicOnHoldStop(caller)", "AttendedTransfer()", "AgentComplete(caller)", "Hangup(agent)",
        # the target ends the conversation
        "BridgeLeave(target)", "BridgeLeave(caller)", "BridgeDestroy()", "Hangup(target)", "Hangup(caller)",
    ]  # fmt: skip
    by_name = {get(m, "Event"): m for m in events}
    transfer = by_name["AttendedTransfer"]
    assert get(transfer, "Result") == "Success" and get(transfer, "DestType") == "Bridge"
    assert (
        get(transfer, "OrigTransfererChannel") == agent and get(transfer, "TransferTargetChannel") == target
    )
    assert get(transfer, "TransfereeChannel") == call.channel.name
    assert get(transfer, "DestBridgeUniqueid") == get(transfer, "OrigBridgeUniqueid")
    assert get(by_name["AgentComplete"], "Reason") == "transfer"
    assert outcome.disposition == "answered"
    await ami.close()
    await agi.stop()
    assert sim.active_channels == 0


async def test_a_target_that_hangs_up_first_gives_the_caller_back(
    config_dir: Path, sim_factory: SimFactory
) -> None:
    sim, ami, agi, call, agent = await _answered_call(config_dir, sim_factory)
    sim.set_agent("110", AgentBehaviour(answer_after=0.1, talk_seconds=0.2))
    start = len(ami.messages)
    reply = await ami.action("Atxfer", Channel=agent, Exten="110", Context="hotline-agents")
    assert get(reply, "Response") == "Success"
    await ami.wait_for(lambda m: get(m, "Event") == "MusicOnHoldStop", start=start, limit=10)
    assert sim.rt.find_channel(agent) is not None
    assert sim.rt.channels[agent].bridge_id == call.channel.bridge_id != ""
    await ami.action("Hangup", Channel=agent)
    await call.wait_finished(10)
    complete = await ami.wait_for(lambda m: get(m, "Event") == "AgentComplete", start=start)
    assert get(complete, "Reason") == "agent"
    assert not _after(ami, start, {"AttendedTransfer"})
    await ami.close()
    await agi.stop()
