"""AMI ``Atxfer``: the attended transfer of a bridged call, as manager.c and bridge_basic.c do it.

``Action: Atxfer, Channel: <transferer>, Exten, Context`` is acknowledged at once ("Atxfer successfully
queued"). The transferer leaves the bridge; the party it was talking to (the caller) stays there, held
(MusicOnHoldStart). The PBX dials the extension from the transferer's channel (DialBegin/DialEnd, the new
leg inherits the transferer's Linkedid) and a consultation bridge joins the transferer and the target.
When the transferer hangs up, the target takes the transferer's place in the caller's bridge
(MusicOnHoldStop, AttendedTransfer with Result Success, DestType Bridge). A target that does not answer
or hangs up during the consultation aborts the transfer: the transferer goes back to the caller.

Asterisk reaches the extension through a Local channel that is optimised away once both sides are up;
the simulator skips that pair and follows the extension's dialplan (``Goto`` steps) to its ``Dial()``,
then rings that endpoint directly. The owner of the original bridge (app_queue, pbxsim/queues.py) asks
:func:`completed` when the transferer hangs up, reports ``AgentComplete`` with Reason ``transfer`` and
keeps the caller bridged to the target until one of them hangs up (:func:`talk_after_transfer`).
"""

from __future__ import annotations

import asyncio
import logging

from pbxsim.bridge import Bridge
from pbxsim.channel import Channel, State
from pbxsim.dialplan import goto_target
from pbxsim.endpoints import dial_target
from pbxsim.events import Fields
from pbxsim.expressions import arg_float, split_args
from pbxsim.runtime import Runtime

log = logging.getLogger(__name__)

DEFAULT_DIAL_TIMEOUT = 30.0
_MAX_STEPS = 50


class AttendedTransfer:
    """One transfer in progress; ``result`` is the target once it is in the caller's bridge, or None."""

    def __init__(self, rt: Runtime, transferer: Channel, bridge: Bridge, context: str, exten: str) -> None:
        self.rt = rt
        self.transferer = transferer
        self.bridge = bridge
        self.context = context
        self.exten = exten
        self.result: asyncio.Future[Channel | None] = asyncio.get_running_loop().create_future()


def dial_of(rt: Runtime, channel: Channel, context: str, exten: str) -> tuple[str, float] | None:
    """The first ``Dial()`` of ``context,exten`` (following ``Goto``): (dial string, timeout)."""
    plan = rt.dialplan
    prio: int | None = 1
    for _ in range(_MAX_STEPS):
        ext = plan.find(context, exten)
        step = None if ext is None or prio is None else ext.steps.get(prio)
        if step is None:
            return None
        app = step.app.lower()
        data = rt.substitute(channel, step.data)
        if app == "dial":
            args = [*split_args(data), ""]
            target = args[0].split("&")[0].strip()
            return (target, arg_float(args[1], DEFAULT_DIAL_TIMEOUT)) if target else None
        if app == "goto":
            context, exten, label = goto_target(data, context, exten)
            prio = plan.priority_of(context, exten, label)
        elif app == "hangup":
            return None
        else:
            prio = (prio or 0) + 1
    return None


def start(rt: Runtime, bridge: Bridge | None, transferer: Channel, context: str, exten: str) -> None:
    """After the AMI acknowledgement: run the transfer (nothing happens to a channel outside a bridge)."""
    if bridge is None or transferer not in bridge.members or transferer in rt.transfers:
        log.info("Atxfer on %s: not in a bridge (or already transferring), ignored", transferer.name)
        return
    transfer = AttendedTransfer(rt, transferer, bridge, context, exten)
    rt.transfers[transferer] = transfer
    rt.spawn(_run(transfer), name=f"atxfer-{transferer.name}")


async def completed(rt: Runtime, transferer: Channel) -> Channel | None:
    """Asked by the bridge's owner when the transferer hung up: the target now bridged to the caller."""
    transfer = rt.transfers.get(transferer)
    if transfer is None:
        return None
    return await asyncio.shield(transfer.result)


def _transferee(transfer: AttendedTransfer) -> Channel | None:
    others = [ch for ch in transfer.bridge.members if ch is not transfer.transferer]
    return others[0] if others else None


async def _run(transfer: AttendedTransfer) -> None:
    target: Channel | None = None
    try:
        target = await _consult(transfer)
    finally:  # also when the simulator stops: the bridge's owner must not wait for ever
        transfer.rt.transfers.pop(transfer.transferer, None)
        if not transfer.result.done():
            transfer.result.set_result(target)


async def _consult(transfer: AttendedTransfer) -> Channel | None:
    rt, agent, bridge = transfer.rt, transfer.transferer, transfer.bridge
    caller = _transferee(transfer)
    found = dial_of(rt, agent, transfer.context, transfer.exten)
    if caller is None or found is None:
        log.info("Atxfer %s to %s@%s: nothing to dial", agent.name, transfer.exten, transfer.context)
        return None
    dial_string, timeout = found
    device, number = dial_target(dial_string)
    behaviour = rt.endpoints.get(number)
    if not behaviour.registered:
        return None

    bridge.leave(agent)
    caller.emit("MusicOnHoldStart", "call", [("Class", "default")])
    consult = rt.new_bridge()
    consult.enter(agent)
    target = rt.new_channel(
        device, caller_num=number, context="default", exten=number, linkedid=agent.linkedid, parent=agent
    )
    target.connected_num, target.connected_name = agent.caller_num, agent.caller_name
    agent.emit("DialBegin", "call", [*target.snapshot("Dest"), ("DialString", dial_string.partition("/")[2])])
    target.set_state(State.RINGING)

    loop = asyncio.get_running_loop()
    answered = behaviour.answers and behaviour.answer_after <= timeout
    ring_until = loop.time() + (behaviour.answer_after if answered else timeout)
    # The transferer may hang up while the target rings: the transfer completes when it answers.
    while not caller.interrupt.done():
        left = ring_until - loop.time()
        if left <= 0:
            break
        waits = [caller.interrupt] + ([] if agent.interrupt.done() else [agent.interrupt])
        await asyncio.wait(waits, timeout=left, return_when=asyncio.FIRST_COMPLETED)
    if caller.interrupt.done() or not answered:
        agent.emit(
            "DialEnd",
            "call",
            [*target.snapshot("Dest"), ("DialStatus", "CANCEL" if answered else "NOANSWER")],
        )
        target.finish(0 if answered else 19)
        _back_to_caller(transfer, consult, caller)
        return None
    target.set_state(State.UP)
    agent.emit("DialEnd", "call", [*target.snapshot("Dest"), ("DialStatus", "ANSWER")])
    agent.peer = target.name
    consult.enter(target)
    talk = rt.call_later(behaviour.talk_seconds, lambda: target.request_hangup(16))
    await asyncio.wait(
        (agent.interrupt, target.interrupt, caller.interrupt), return_when=asyncio.FIRST_COMPLETED
    )
    if target.hungup or caller.hungup:  # consultation failed: the agent goes back to the caller
        rt.cancel_timer(talk)
        consult.leave(target)
        target.finish(16)
        _back_to_caller(transfer, consult, caller)
        return None
    # The transferer hung up: the target takes its place in the caller's bridge.
    consult.leave(agent)
    consult.leave(target)
    consult.destroy()
    bridge.enter(target)
    caller.emit("MusicOnHoldStop", "call")
    caller.peer = target.name
    caller.connected_num, caller.connected_name = target.caller_num, target.caller_name
    rt.transfer_talk[target] = talk
    rt.bus.emit("AttendedTransfer", "call", _event(transfer, consult, agent, caller, target))
    return target


def _back_to_caller(transfer: AttendedTransfer, consult: Bridge, caller: Channel) -> None:
    agent = transfer.transferer
    consult.leave(agent)
    consult.destroy()
    if not agent.hungup and not caller.hungup:
        transfer.bridge.enter(agent)
    caller.emit("MusicOnHoldStop", "call")


def _bridge_fields(prefix: str, bridge: Bridge) -> Fields:
    return [(prefix + key, value) for key, value in bridge.fields()]


def _event(
    transfer: AttendedTransfer, consult: Bridge, agent: Channel, caller: Channel, target: Channel
) -> Fields:
    return [
        ("Result", "Success"),
        *agent.snapshot("OrigTransferer"),
        *_bridge_fields("Orig", transfer.bridge),
        *agent.snapshot("SecondTransferer"),
        *_bridge_fields("Second", consult),
        ("DestType", "Bridge"),
        ("DestBridgeUniqueid", transfer.bridge.uniqueid),
        *target.snapshot("TransferTarget"),
        *caller.snapshot("Transferee"),
        ("IsExternal", "No"),
        ("Context", transfer.context),
        ("DestExten", transfer.exten),
    ]


async def talk_after_transfer(rt: Runtime, bridge: Bridge, caller: Channel, target: Channel) -> int:
    """The caller and the target talk in the caller's bridge until one hangs up (Queue()'s result)."""
    await bridge.talk(caller, target)
    rt.cancel_timer(rt.transfer_talk.pop(target, None))
    if not caller.hungup:
        caller.hangup_cause = 16
    return -1
