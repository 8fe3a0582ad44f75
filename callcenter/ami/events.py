"""Typed AMI events: a pure translator from :class:`AmiMessage` to frozen dataclasses.

``translate(msg)`` dispatches on the event name through one dict (no globbing). Events the service does
not use become :class:`OtherEvent`, which only keeps a reference to the message (cheap). A required
field that is missing or garbled (e.g. a non-numeric ``Cause``) raises :class:`TranslationError` carrying
the event name and the raw headers: the caller logs it and drops the event, the reader never dies.

Field names and meanings: ../../../shared/reference/ami-queue-events.md (Asterisk 16–22).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from callcenter.ami.framing import AmiMessage

_T = TypeVar("_T")

__all__ = [
    "AgentCalled",
    "AgentComplete",
    "AgentConnect",
    "AgentDump",
    "AgentRingNoAnswer",
    "AmiEvent",
    "BridgeEnter",
    "BridgeLeave",
    "Cdr",
    "ChannelSnapshot",
    "CoreShowChannel",
    "DTMFEnd",
    "DialBegin",
    "DialEnd",
    "FullyBooted",
    "Hangup",
    "NewCallerid",
    "Newchannel",
    "Newexten",
    "Newstate",
    "OriginateResponse",
    "OtherEvent",
    "QueueCallerAbandon",
    "QueueCallerJoin",
    "QueueCallerLeave",
    "QueueEntry",
    "QueueMemberEvent",
    "QueueParams",
    "Transfer",
    "TranslationError",
    "UserEvent",
    "VarSet",
    "translate",
]


class TranslationError(ValueError):
    """A known event with a missing or garbled required field."""

    def __init__(self, event: str, reason: str, headers: list[tuple[str, str]]) -> None:
        super().__init__(f"{event}: {reason}")
        self.event = event
        self.reason = reason
        self.headers = headers


@dataclass(frozen=True, slots=True)
class ChannelSnapshot:
    """The channel block every channel event carries (``Dest``-prefixed for the called leg)."""

    channel: str
    uniqueid: str
    linkedid: str
    state: int | None
    caller_id_num: str
    caller_id_name: str
    connected_line_num: str
    connected_line_name: str
    context: str
    exten: str
    priority: int | None
    language: str = ""
    account_code: str = ""

    @property
    def device(self) -> str:
        """``SIP/150010002-00000005`` → ``SIP/150010002``; Local channels keep their name."""
        name = self.channel
        if name.startswith("Local/"):
            return name
        cut = name.rfind("-")
        return name[:cut] if cut > 0 else name


@dataclass(frozen=True, slots=True, kw_only=True)
class AmiEvent:
    timestamp: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Newchannel(AmiEvent):
    channel: ChannelSnapshot


@dataclass(frozen=True, slots=True, kw_only=True)
class Newstate(AmiEvent):
    channel: ChannelSnapshot


@dataclass(frozen=True, slots=True, kw_only=True)
class NewCallerid(AmiEvent):
    channel: ChannelSnapshot


@dataclass(frozen=True, slots=True, kw_only=True)
class Newexten(AmiEvent):
    channel: ChannelSnapshot
    application: str
    app_data: str


@dataclass(frozen=True, slots=True, kw_only=True)
class VarSet(AmiEvent):
    channel: ChannelSnapshot | None  # None for a global variable
    variable: str
    value: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DTMFEnd(AmiEvent):
    channel: ChannelSnapshot
    digit: str
    direction: str
    duration_ms: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Hangup(AmiEvent):
    channel: ChannelSnapshot
    cause: int
    cause_txt: str
    tech_cause: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DialBegin(AmiEvent):
    caller: ChannelSnapshot | None  # absent for an AMI Originate
    dest: ChannelSnapshot
    dial_string: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DialEnd(AmiEvent):
    caller: ChannelSnapshot | None
    dest: ChannelSnapshot
    dial_status: str
    forward: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BridgeEnter(AmiEvent):
    channel: ChannelSnapshot
    bridge_id: str
    bridge_type: str
    num_channels: int | None
    swap_uniqueid: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BridgeLeave(AmiEvent):
    channel: ChannelSnapshot
    bridge_id: str
    bridge_type: str
    num_channels: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueCallerJoin(AmiEvent):
    channel: ChannelSnapshot
    queue: str
    position: int | None
    count: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueCallerLeave(AmiEvent):
    channel: ChannelSnapshot
    queue: str
    position: int | None
    count: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueCallerAbandon(AmiEvent):
    channel: ChannelSnapshot
    queue: str
    position: int | None
    original_position: int | None
    hold_time: int | None  # seconds


@dataclass(frozen=True, slots=True, kw_only=True)
class _AgentEvent(AmiEvent):
    channel: ChannelSnapshot  # the caller
    dest: ChannelSnapshot | None  # the member leg
    queue: str
    member_name: str
    interface: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentCalled(_AgentEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentRingNoAnswer(_AgentEvent):
    ring_time_ms: int | None  # milliseconds, unlike AgentConnect


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentConnect(_AgentEvent):
    ring_time: int | None  # seconds
    hold_time: int | None  # seconds


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentComplete(_AgentEvent):
    hold_time: int | None
    talk_time: int | None
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentDump(_AgentEvent):
    pass


QueueMemberKind = Literal["status", "added", "removed", "pause", "penalty", "ringinuse", "listed"]


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueMemberEvent(AmiEvent):
    """QueueMemberStatus/Added/Removed/Pause/Penalty/Ringinuse, and QueueMember (QueueStatus item)."""

    kind: QueueMemberKind
    queue: str
    interface: str
    member_name: str
    state_interface: str
    membership: str
    penalty: int | None
    calls_taken: int | None
    last_call: int | None
    in_call: bool | None
    status: int | None
    paused: bool | None
    paused_reason: str
    action_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueParams(AmiEvent):
    """QueueStatus list item: one queue's counters."""

    queue: str
    max: int | None
    strategy: str
    calls: int | None
    hold_time: int | None
    talk_time: int | None
    completed: int | None
    abandoned: int | None
    action_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueEntry(AmiEvent):
    """QueueStatus list item: one waiting caller."""

    queue: str
    position: int | None
    channel: str
    uniqueid: str
    caller_id_num: str
    caller_id_name: str
    wait: int | None
    priority: int | None
    action_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CoreShowChannel(AmiEvent):
    """CoreShowChannels list item: one live channel."""

    channel: ChannelSnapshot
    bridge_id: str
    application: str
    application_data: str
    duration: str
    action_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Transfer(AmiEvent):
    kind: Literal["blind", "attended"]
    result: str
    is_external: bool
    transferer: ChannelSnapshot | None
    transferee: ChannelSnapshot | None  # blind: the party moved; attended: the second transferer's peer
    target: ChannelSnapshot | None  # attended: the transfer target
    context: str
    extension: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Cdr(AmiEvent):
    source: str
    destination: str
    destination_context: str
    caller_id: str
    channel: str
    destination_channel: str
    last_application: str
    start_time: str
    answer_time: str
    end_time: str
    duration: int | None
    billable_seconds: int | None
    disposition: str
    uniqueid: str
    user_field: str


@dataclass(frozen=True, slots=True, kw_only=True)
class UserEvent(AmiEvent):
    user_event: str
    channel: ChannelSnapshot | None
    headers: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class FullyBooted(AmiEvent):
    status: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OriginateResponse(AmiEvent):
    response: str
    channel: str
    context: str
    exten: str
    reason: int | None
    uniqueid: str
    caller_id_num: str
    caller_id_name: str
    action_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class OtherEvent(AmiEvent):
    name: str
    message: AmiMessage


# --- fast construction ---------------------------------------------------------------------------------


def _fast_new(cls: type[_T]) -> Callable[..., _T]:
    """A constructor for a frozen, slotted dataclass that sets the slots through their descriptors.

    Same arguments (names, defaults) and the same resulting object as ``cls(...)``, about twice as fast:
    the generated frozen ``__init__`` goes through ``object.__setattr__`` by name for every field, which
    made event construction a third of AMI ingest time (issue 8). Only for classes without
    ``__post_init__``; the translator below is the only caller, the classes stay frozen for everyone.
    """
    assert not hasattr(cls, "__post_init__"), cls
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    namespace: dict[str, Any] = {"_cls": cls, "_new": object.__new__}
    params: list[str] = []
    body: list[str] = []
    for i, f in enumerate(fields):
        assert f.init and f.default_factory is dataclasses.MISSING, (cls, f.name)
        namespace[f"_s{i}"] = getattr(cls, f.name).__set__
        if f.default is dataclasses.MISSING:
            params.append(f.name)
        else:
            namespace[f"_d{i}"] = f.default
            params.append(f"{f.name}=_d{i}")
        body.append(f"    _s{i}(o, {f.name})\n")
    src = f"def new(*, {', '.join(params)}):\n    o = _new(_cls)\n{''.join(body)}    return o\n"
    exec(src, namespace)  # code built from the dataclass's own field names only
    new: Callable[..., _T] = namespace["new"]
    return new


# --- field helpers -------------------------------------------------------------------------------------


def _int(msg: AmiMessage, key: str, event: str) -> int:
    raw = msg.get(key)
    if raw is None:
        raise TranslationError(event, f"missing {key}", msg.pairs)
    try:
        return int(raw)
    except ValueError:
        raise TranslationError(event, f"{key} is not a number: {raw!r}", msg.pairs) from None


def _opt_int(msg: AmiMessage, key: str, event: str) -> int | None:
    raw = msg.get(key)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise TranslationError(event, f"{key} is not a number: {raw!r}", msg.pairs) from None


def _str(msg: AmiMessage, key: str, event: str) -> str:
    raw = msg.get(key)
    if raw is None:
        raise TranslationError(event, f"missing {key}", msg.pairs)
    return raw


def _bool(raw: str | None) -> bool | None:
    if raw is None or raw == "":
        return None
    return raw.strip().lower() in ("1", "yes", "true", "on")


_SNAPSHOT_FIELDS = (
    "Channel",
    "Uniqueid",
    "Linkedid",
    "ChannelState",
    "CallerIDNum",
    "CallerIDName",
    "ConnectedLineNum",
    "ConnectedLineName",
    "Context",
    "Exten",
    "Priority",
    "Language",
    "AccountCode",
)
_PREFIXED: dict[str, tuple[str, ...]] = {}
_new_snapshot = _fast_new(ChannelSnapshot)


def _keys(prefix: str) -> tuple[str, ...]:
    keys = _PREFIXED.get(prefix)
    if keys is None:
        keys = tuple(prefix + k for k in _SNAPSHOT_FIELDS)
        _PREFIXED[prefix] = keys
    return keys


def _snapshot(
    msg: AmiMessage, event: str, prefix: str = "", *, required: bool = True
) -> ChannelSnapshot | None:
    index = msg._index
    if index is None:
        index = msg._build_index()
    k = _keys(prefix)
    channel = index.get(k[0])
    uniqueid = index.get(k[1])
    if channel is None or uniqueid is None:
        if required:
            raise TranslationError(event, f"missing {k[0] if channel is None else k[1]}", msg.pairs)
        return None
    state_raw = index.get(k[3])
    prio_raw = index.get(k[10])
    try:
        state = int(state_raw) if state_raw else None
        priority = int(prio_raw) if prio_raw else None
    except ValueError:
        raise TranslationError(
            event, f"garbled {k[3]}/{k[10]}: {state_raw!r}/{prio_raw!r}", msg.pairs
        ) from None
    get = index.get
    return _new_snapshot(
        channel=channel,
        uniqueid=uniqueid,
        linkedid=get(k[2]) or uniqueid,
        state=state,
        caller_id_num=get(k[4], ""),
        caller_id_name=get(k[5], ""),
        connected_line_num=get(k[6], ""),
        connected_line_name=get(k[7], ""),
        context=get(k[8], ""),
        exten=get(k[9], ""),
        priority=priority,
        language=get(k[11], ""),
        account_code=get(k[12], ""),
    )


def _snap(msg: AmiMessage, event: str, prefix: str = "") -> ChannelSnapshot:
    snap = _snapshot(msg, event, prefix)
    if snap is None:  # unreachable: required=True raises first
        raise TranslationError(event, "missing channel", msg.pairs)
    return snap


_new_AgentCalled = _fast_new(AgentCalled)
_new_AgentComplete = _fast_new(AgentComplete)
_new_AgentConnect = _fast_new(AgentConnect)
_new_AgentDump = _fast_new(AgentDump)
_new_AgentRingNoAnswer = _fast_new(AgentRingNoAnswer)
_new_BridgeEnter = _fast_new(BridgeEnter)
_new_BridgeLeave = _fast_new(BridgeLeave)
_new_Cdr = _fast_new(Cdr)
_new_OtherEvent = _fast_new(OtherEvent)
_new_CoreShowChannel = _fast_new(CoreShowChannel)
_new_DTMFEnd = _fast_new(DTMFEnd)
_new_DialBegin = _fast_new(DialBegin)
_new_DialEnd = _fast_new(DialEnd)
_new_FullyBooted = _fast_new(FullyBooted)
_new_Hangup = _fast_new(Hangup)
_new_NewCallerid = _fast_new(NewCallerid)
_new_Newchannel = _fast_new(Newchannel)
_new_Newexten = _fast_new(Newexten)
_new_Newstate = _fast_new(Newstate)
_new_OriginateResponse = _fast_new(OriginateResponse)
_new_QueueCallerAbandon = _fast_new(QueueCallerAbandon)
_new_QueueCallerJoin = _fast_new(QueueCallerJoin)
_new_QueueCallerLeave = _fast_new(QueueCallerLeave)
_new_QueueEntry = _fast_new(QueueEntry)
_new_QueueMemberEvent = _fast_new(QueueMemberEvent)
_new_QueueParams = _fast_new(QueueParams)
_new_Transfer = _fast_new(Transfer)
_new_UserEvent = _fast_new(UserEvent)
_new_VarSet = _fast_new(VarSet)


# --- per-event translators -----------------------------------------------------------------------------


def _newchannel(msg: AmiMessage, ts: float | None) -> AmiEvent:
    return _new_Newchannel(timestamp=ts, channel=_snap(msg, "Newchannel"))


def _newstate(msg: AmiMessage, ts: float | None) -> AmiEvent:
    return _new_Newstate(timestamp=ts, channel=_snap(msg, "Newstate"))


def _newcallerid(msg: AmiMessage, ts: float | None) -> AmiEvent:
    return _new_NewCallerid(timestamp=ts, channel=_snap(msg, "NewCallerid"))


def _newexten(msg: AmiMessage, ts: float | None) -> AmiEvent:
    return _new_Newexten(
        timestamp=ts,
        channel=_snap(msg, "Newexten"),
        application=msg.get("Application", "") or "",
        app_data=msg.get("AppData", "") or "",
    )


def _varset(msg: AmiMessage, ts: float | None) -> AmiEvent:
    return _new_VarSet(
        timestamp=ts,
        channel=_snapshot(msg, "VarSet", required=False),
        variable=_str(msg, "Variable", "VarSet"),
        value=msg.get("Value", "") or "",
    )


def _dtmfend(msg: AmiMessage, ts: float | None) -> AmiEvent:
    return _new_DTMFEnd(
        timestamp=ts,
        channel=_snap(msg, "DTMFEnd"),
        digit=_str(msg, "Digit", "DTMFEnd"),
        direction=msg.get("Direction", "") or "",
        duration_ms=_opt_int(msg, "DurationMs", "DTMFEnd"),
    )


def _hangup(msg: AmiMessage, ts: float | None) -> AmiEvent:
    return _new_Hangup(
        timestamp=ts,
        channel=_snap(msg, "Hangup"),
        cause=_int(msg, "Cause", "Hangup"),
        cause_txt=msg.get("Cause-txt", "") or "",
        tech_cause=_opt_int(msg, "TechCause", "Hangup"),
    )


def _dialbegin(msg: AmiMessage, ts: float | None) -> AmiEvent:
    return _new_DialBegin(
        timestamp=ts,
        caller=_snapshot(msg, "DialBegin", required=False),
        dest=_snap(msg, "DialBegin", "Dest"),
        dial_string=msg.get("DialString", "") or "",
    )


def _dialend(msg: AmiMessage, ts: float | None) -> AmiEvent:
    return _new_DialEnd(
        timestamp=ts,
        caller=_snapshot(msg, "DialEnd", required=False),
        dest=_snap(msg, "DialEnd", "Dest"),
        dial_status=_str(msg, "DialStatus", "DialEnd"),
        forward=msg.get("Forward", "") or "",
    )


def _bridgeenter(msg: AmiMessage, ts: float | None) -> AmiEvent:
    return _new_BridgeEnter(
        timestamp=ts,
        channel=_snap(msg, "BridgeEnter"),
        bridge_id=_str(msg, "BridgeUniqueid", "BridgeEnter"),
        bridge_type=msg.get("BridgeType", "") or "",
        num_channels=_opt_int(msg, "BridgeNumChannels", "BridgeEnter"),
        swap_uniqueid=msg.get("SwapUniqueid", "") or "",
    )


def _bridgeleave(msg: AmiMessage, ts: float | None) -> AmiEvent:
    return _new_BridgeLeave(
        timestamp=ts,
        channel=_snap(msg, "BridgeLeave"),
        bridge_id=_str(msg, "BridgeUniqueid", "BridgeLeave"),
        bridge_type=msg.get("BridgeType", "") or "",
        num_channels=_opt_int(msg, "BridgeNumChannels", "BridgeLeave"),
    )


def _callerjoin(msg: AmiMessage, ts: float | None) -> AmiEvent:
    return _new_QueueCallerJoin(
        timestamp=ts,
        channel=_snap(msg, "QueueCallerJoin"),
        queue=_str(msg, "Queue", "QueueCallerJoin"),
        position=_opt_int(msg, "Position", "QueueCallerJoin"),
        count=_opt_int(msg, "Count", "QueueCallerJoin"),
    )


def _callerleave(msg: AmiMessage, ts: float | None) -> AmiEvent:
    return _new_QueueCallerLeave(
        timestamp=ts,
        channel=_snap(msg, "QueueCallerLeave"),
        queue=_str(msg, "Queue", "QueueCallerLeave"),
        position=_opt_int(msg, "Position", "QueueCallerLeave"),
        count=_opt_int(msg, "Count", "QueueCallerLeave"),
    )


def _callerabandon(msg: AmiMessage, ts: float | None) -> AmiEvent:
    return _new_QueueCallerAbandon(
        timestamp=ts,
        channel=_snap(msg, "QueueCallerAbandon"),
        queue=_str(msg, "Queue", "QueueCallerAbandon"),
        position=_opt_int(msg, "Position", "QueueCallerAbandon"),
        original_position=_opt_int(msg, "OriginalPosition", "QueueCallerAbandon"),
        hold_time=_opt_int(msg, "HoldTime", "QueueCallerAbandon"),
    )


def _agent_common(
    msg: AmiMessage, event: str
) -> tuple[ChannelSnapshot, ChannelSnapshot | None, str, str, str]:
    interface = msg.get("Interface")
    if interface is None:
        raise TranslationError(event, "missing Interface", msg.pairs)
    return (
        _snap(msg, event),
        _snapshot(msg, event, "Dest", required=False),
        _str(msg, "Queue", event),
        msg.get("MemberName", "") or interface,
        interface,
    )


def _agentcalled(msg: AmiMessage, ts: float | None) -> AmiEvent:
    ch, dest, queue, member, iface = _agent_common(msg, "AgentCalled")
    return _new_AgentCalled(
        timestamp=ts, channel=ch, dest=dest, queue=queue, member_name=member, interface=iface
    )


def _agentringnoanswer(msg: AmiMessage, ts: float | None) -> AmiEvent:
    ch, dest, queue, member, iface = _agent_common(msg, "AgentRingNoAnswer")
    return _new_AgentRingNoAnswer(
        timestamp=ts,
        channel=ch,
        dest=dest,
        queue=queue,
        member_name=member,
        interface=iface,
        ring_time_ms=_opt_int(msg, "RingTime", "AgentRingNoAnswer"),
    )


def _agentconnect(msg: AmiMessage, ts: float | None) -> AmiEvent:
    ch, dest, queue, member, iface = _agent_common(msg, "AgentConnect")
    return _new_AgentConnect(
        timestamp=ts,
        channel=ch,
        dest=dest,
        queue=queue,
        member_name=member,
        interface=iface,
        ring_time=_opt_int(msg, "RingTime", "AgentConnect"),
        hold_time=_opt_int(msg, "HoldTime", "AgentConnect"),
    )


def _agentcomplete(msg: AmiMessage, ts: float | None) -> AmiEvent:
    ch, dest, queue, member, iface = _agent_common(msg, "AgentComplete")
    return _new_AgentComplete(
        timestamp=ts,
        channel=ch,
        dest=dest,
        queue=queue,
        member_name=member,
        interface=iface,
        hold_time=_opt_int(msg, "HoldTime", "AgentComplete"),
        talk_time=_opt_int(msg, "TalkTime", "AgentComplete"),
        reason=msg.get("Reason", "") or "",
    )


def _agentdump(msg: AmiMessage, ts: float | None) -> AmiEvent:
    ch, dest, queue, member, iface = _agent_common(msg, "AgentDump")
    return _new_AgentDump(
        timestamp=ts, channel=ch, dest=dest, queue=queue, member_name=member, interface=iface
    )


def _member(kind: QueueMemberKind, event: str) -> Callable[[AmiMessage, float | None], AmiEvent]:
    listed = kind == "listed"
    iface_key = "Location" if listed else "Interface"
    name_key = "Name" if listed else "MemberName"

    def translate_member(msg: AmiMessage, ts: float | None) -> AmiEvent:
        interface = msg.get(iface_key) or msg.get("Interface")
        if not interface:
            raise TranslationError(event, f"missing {iface_key}", msg.pairs)
        in_call = msg.get("InCall")
        return _new_QueueMemberEvent(
            timestamp=ts,
            kind=kind,
            queue=_str(msg, "Queue", event),
            interface=interface,
            member_name=msg.get(name_key) or msg.get("MemberName") or interface,
            state_interface=msg.get("StateInterface", "") or "",
            membership=msg.get("Membership", "") or "",
            penalty=_opt_int(msg, "Penalty", event),
            calls_taken=_opt_int(msg, "CallsTaken", event),
            last_call=_opt_int(msg, "LastCall", event),
            in_call=_bool(in_call),
            status=_opt_int(msg, "Status", event),
            paused=_bool(msg.get("Paused")),
            paused_reason=msg.get("PausedReason", "") or "",
            action_id=msg.get("ActionID") if listed else None,
        )

    return translate_member


def _queueparams(msg: AmiMessage, ts: float | None) -> AmiEvent:
    ev = "QueueParams"
    return _new_QueueParams(
        timestamp=ts,
        queue=_str(msg, "Queue", ev),
        max=_opt_int(msg, "Max", ev),
        strategy=msg.get("Strategy", "") or "",
        calls=_opt_int(msg, "Calls", ev),
        hold_time=_opt_int(msg, "Holdtime", ev),
        talk_time=_opt_int(msg, "TalkTime", ev),
        completed=_opt_int(msg, "Completed", ev),
        abandoned=_opt_int(msg, "Abandoned", ev),
        action_id=msg.get("ActionID"),
    )


def _queueentry(msg: AmiMessage, ts: float | None) -> AmiEvent:
    ev = "QueueEntry"
    return _new_QueueEntry(
        timestamp=ts,
        queue=_str(msg, "Queue", ev),
        position=_opt_int(msg, "Position", ev),
        channel=_str(msg, "Channel", ev),
        uniqueid=msg.get("Uniqueid", "") or "",
        caller_id_num=msg.get("CallerIDNum", "") or "",
        caller_id_name=msg.get("CallerIDName", "") or "",
        wait=_opt_int(msg, "Wait", ev),
        priority=_opt_int(msg, "Priority", ev),
        action_id=msg.get("ActionID"),
    )


def _coreshowchannel(msg: AmiMessage, ts: float | None) -> AmiEvent:
    return _new_CoreShowChannel(
        timestamp=ts,
        channel=_snap(msg, "CoreShowChannel"),
        bridge_id=msg.get("BridgeId", "") or "",
        application=msg.get("Application", "") or "",
        application_data=msg.get("ApplicationData", "") or "",
        duration=msg.get("Duration", "") or "",
        action_id=msg.get("ActionID"),
    )


def _blindtransfer(msg: AmiMessage, ts: float | None) -> AmiEvent:
    ev = "BlindTransfer"
    return _new_Transfer(
        timestamp=ts,
        kind="blind",
        result=msg.get("Result", "") or "",
        is_external=bool(_bool(msg.get("IsExternal"))),
        transferer=_snapshot(msg, ev, "Transferer", required=False),
        transferee=_snapshot(msg, ev, "Transferee", required=False),
        target=None,
        context=msg.get("Context", "") or "",
        extension=msg.get("Extension", "") or "",
    )


def _attendedtransfer(msg: AmiMessage, ts: float | None) -> AmiEvent:
    ev = "AttendedTransfer"
    return _new_Transfer(
        timestamp=ts,
        kind="attended",
        result=msg.get("Result", "") or "",
        is_external=bool(_bool(msg.get("IsExternal"))),
        transferer=_snapshot(msg, ev, "OrigTransferer", required=False),
        transferee=_snapshot(msg, ev, "SecondTransferer", required=False),
        target=_snapshot(msg, ev, "TransferTarget", required=False),
        context=msg.get("Context", "") or "",
        extension=msg.get("DestExten", "") or "",
    )


def _cdr(msg: AmiMessage, ts: float | None) -> AmiEvent:
    ev = "Cdr"
    g = msg.get
    return _new_Cdr(
        timestamp=ts,
        source=g("Source", "") or "",
        destination=g("Destination", "") or "",
        destination_context=g("DestinationContext", "") or "",
        caller_id=g("CallerID", "") or "",
        channel=g("Channel", "") or "",
        destination_channel=g("DestinationChannel", "") or "",
        last_application=g("LastApplication", "") or "",
        start_time=g("StartTime", "") or "",
        answer_time=g("AnswerTime", "") or "",
        end_time=g("EndTime", "") or "",
        duration=_opt_int(msg, "Duration", ev),
        billable_seconds=_opt_int(msg, "BillableSeconds", ev),
        disposition=g("Disposition", "") or "",
        uniqueid=g("UniqueID", "") or "",
        user_field=g("UserField", "") or "",
    )


def _userevent(msg: AmiMessage, ts: float | None) -> AmiEvent:
    return _new_UserEvent(
        timestamp=ts,
        user_event=_str(msg, "UserEvent", "UserEvent"),
        channel=_snapshot(msg, "UserEvent", required=False),
        headers=tuple(msg.pairs),
    )


def _fullybooted(msg: AmiMessage, ts: float | None) -> AmiEvent:
    return _new_FullyBooted(timestamp=ts, status=msg.get("Status", "") or "")


def _originateresponse(msg: AmiMessage, ts: float | None) -> AmiEvent:
    ev = "OriginateResponse"
    return _new_OriginateResponse(
        timestamp=ts,
        response=_str(msg, "Response", ev),
        channel=msg.get("Channel", "") or "",
        context=msg.get("Context", "") or "",
        exten=msg.get("Exten", "") or "",
        reason=_opt_int(msg, "Reason", ev),
        uniqueid=msg.get("Uniqueid", "") or "",
        caller_id_num=msg.get("CallerIDNum", "") or "",
        caller_id_name=msg.get("CallerIDName", "") or "",
        action_id=msg.get("ActionID"),
    )


_Translator = Callable[[AmiMessage, float | None], AmiEvent]

_DISPATCH: dict[str, _Translator] = {
    "Newchannel": _newchannel,
    "Newstate": _newstate,
    "Newexten": _newexten,
    "VarSet": _varset,
    "DTMFEnd": _dtmfend,
    "NewCallerid": _newcallerid,
    "Hangup": _hangup,
    "DialBegin": _dialbegin,
    "DialEnd": _dialend,
    "BridgeEnter": _bridgeenter,
    "BridgeLeave": _bridgeleave,
    "QueueCallerJoin": _callerjoin,
    "QueueCallerLeave": _callerleave,
    "QueueCallerAbandon": _callerabandon,
    "AgentCalled": _agentcalled,
    "AgentRingNoAnswer": _agentringnoanswer,
    "AgentConnect": _agentconnect,
    "AgentComplete": _agentcomplete,
    "AgentDump": _agentdump,
    "QueueMemberStatus": _member("status", "QueueMemberStatus"),
    "QueueMemberAdded": _member("added", "QueueMemberAdded"),
    "QueueMemberRemoved": _member("removed", "QueueMemberRemoved"),
    "QueueMemberPause": _member("pause", "QueueMemberPause"),
    "QueueMemberPaused": _member("pause", "QueueMemberPaused"),  # Asterisk 11/12 spelling
    "QueueMemberPenalty": _member("penalty", "QueueMemberPenalty"),
    "QueueMemberRinginuse": _member("ringinuse", "QueueMemberRinginuse"),
    "QueueMember": _member("listed", "QueueMember"),
    "QueueParams": _queueparams,
    "QueueEntry": _queueentry,
    "CoreShowChannel": _coreshowchannel,
    "BlindTransfer": _blindtransfer,
    "AttendedTransfer": _attendedtransfer,
    "Cdr": _cdr,
    "UserEvent": _userevent,
    "FullyBooted": _fullybooted,
    "OriginateResponse": _originateresponse,
}

KNOWN_EVENTS = frozenset(_DISPATCH)


def translate(msg: AmiMessage) -> AmiEvent | None:
    """Typed event for an AMI event message; ``None`` for a response (not an event)."""
    # the key index only: the framer's fast path builds no pair list unless someone asks for it
    index = msg._index
    if index is None:
        index = msg._build_index()
    name = index.get("Event")  # the first Event header, wherever it is
    if name is None:
        return None
    raw_ts = index.get("Timestamp")
    ts: float | None = None
    if raw_ts is not None:
        try:
            ts = float(raw_ts)
        except ValueError:
            raise TranslationError(name, f"Timestamp is not a number: {raw_ts!r}", msg.pairs) from None
    fn = _DISPATCH.get(name)
    if fn is None:
        return _new_OtherEvent(timestamp=ts, name=name, message=msg)
    return fn(msg, ts)
