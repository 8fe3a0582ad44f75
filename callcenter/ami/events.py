"""Typed AMI events: a pure translator from :class:`AmiMessage` to immutable dataclasses.

``translate(msg)`` dispatches on the event name through one dict (no globbing). Events the service does
not use become :class:`OtherEvent`, which only keeps a reference to the message (cheap). A required
field that is missing or garbled (e.g. a non-numeric ``Cause``) raises :class:`TranslationError` carrying
the event name and the raw headers: the caller logs it and drops the event, the reader never dies.

Cost matters here (every AMI event passes through, issue 8): events are immutable to the type checker
rather than at run time (:func:`_event`), are built by a generated constructor (callcenter/slotted.py), and
:class:`ChannelSnapshot` keeps only the fields the live model reads for every event, the other eleven are
read from the message when asked.

Field names and meanings: ../../../shared/reference/ami-queue-events.md (Asterisk 16–22).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Final, Literal, Self, TypeVar, dataclass_transform, overload

from callcenter.ami.framing import AmiMessage
from callcenter.slotted import constructor

_T = TypeVar("_T")


@dataclass_transform(frozen_default=True, kw_only_default=True)
def _event(cls: type[_T]) -> type[_T]:
    """An event class: a slotted, keyword-only dataclass, hashable, and frozen *to the type checker*.

    Not ``frozen=True``: a frozen dataclass raises in ``__setattr__``, and a class with its own
    ``__setattr__`` loses CPython's specialised slot store, so every field of every event (and of its
    channel snapshot) cost a descriptor call — together 5–7 % of AMI ingest (issue 8). Nothing is lost
    to typed code: mypy, strict and part of ``make test``, reads these classes as frozen and rejects any
    assignment to a field (tests/ami/test_events.py holds it to that).
    """
    return dataclass(slots=True, kw_only=True, unsafe_hash=True)(cls)


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


#: the channel block's keys in ChannelSnapshot's field order (prefixed ``Dest``, ``Transferer`` ... for
#: the other legs)
_SNAPSHOT_KEYS = (
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


class _Field:
    """A channel-block field read from the message when asked (see :class:`ChannelSnapshot`)."""

    __slots__ = ("_at",)

    def __init__(self, key: str) -> None:
        self._at = _SNAPSHOT_KEYS.index(key)  # the leg's own key name is ``snap._keys[_at]``


class _Text(_Field):
    """A text field: "" if absent."""

    __slots__ = ()

    @overload
    def __get__(self, snap: None, owner: type[ChannelSnapshot]) -> Self: ...
    @overload
    def __get__(self, snap: ChannelSnapshot, owner: type[ChannelSnapshot]) -> str: ...
    def __get__(self, snap: ChannelSnapshot | None, owner: type[ChannelSnapshot]) -> str | Self:
        if snap is None:
            return self
        return snap._v[snap._p.get(snap._keys[self._at], -1)] or ""


class _Number(_Field):
    """A numeric field (``ChannelState``, ``Priority``): ``None`` if absent or empty."""

    __slots__ = ()

    @overload
    def __get__(self, snap: None, owner: type[ChannelSnapshot]) -> Self: ...
    @overload
    def __get__(self, snap: ChannelSnapshot, owner: type[ChannelSnapshot]) -> int | None: ...
    def __get__(self, snap: ChannelSnapshot | None, owner: type[ChannelSnapshot]) -> int | Self | None:
        if snap is None:
            return self
        raw = snap._v[snap._p.get(snap._keys[self._at], -1)]
        return int(raw) if raw else None


class ChannelSnapshot:
    """The channel block every channel event carries (``Dest``-prefixed for the called leg). Immutable
    to the type checker, like the events (see :func:`_event`): its four slots are ``Final``.

    The live model reads ``uniqueid`` and ``linkedid`` for every event and the rest now and then, so the
    translator stores those two and a reference to the message's fields, from which the other
    eleven fields are read when asked: building all thirteen for every channel event was most of the
    translation cost (issue 8). ``ChannelState`` and ``Priority`` are still checked when the event is
    translated, so a garbled one is a :class:`TranslationError` there and not a surprise later. Equality,
    hash and repr are those of the frozen dataclass it replaces (all thirteen fields), and
    ``ChannelSnapshot(...)`` takes the same arguments. A prefixed leg (``Dest``, ``Transferer`` …) is an
    instance of a small subclass that only knows its prefixed key names.
    """

    __slots__ = ("_p", "_v", "linkedid", "uniqueid")
    #: the fields in the order of the dataclass this class replaces (equality, hash, repr and pickling)
    __match_args__ = (
        "channel",
        "uniqueid",
        "linkedid",
        "state",
        "caller_id_num",
        "caller_id_name",
        "connected_line_num",
        "connected_line_name",
        "context",
        "exten",
        "priority",
        "language",
        "account_code",
    )
    #: _SNAPSHOT_KEYS with this leg's prefix
    _keys: ClassVar[tuple[str, ...]] = _SNAPSHOT_KEYS
    #: positions of _keys in a snapshot built by __init__ (see _v)
    _own_positions: ClassVar[dict[str, int]] = {key: i for i, key in enumerate(_SNAPSHOT_KEYS)}

    uniqueid: Final[str]
    linkedid: Final[str]
    # the message's fields (never changed after framing, see AmiMessage._fields) or our own:
    # the value of key k is _v[_p.get(k, -1)], None when absent
    _v: Final[list[str | None]]
    _p: Final[dict[str, int]]

    def __init__(
        self,
        channel: str,
        uniqueid: str,
        linkedid: str,
        state: int | None,
        caller_id_num: str,
        caller_id_name: str,
        connected_line_num: str,
        connected_line_name: str,
        context: str,
        exten: str,
        priority: int | None,
        language: str = "",
        account_code: str = "",
    ) -> None:
        values: list[str | None] = [
            channel,
            uniqueid,
            linkedid,
            "" if state is None else str(state),
            caller_id_num,
            caller_id_name,
            connected_line_num,
            connected_line_name,
            context,
            exten,
            "" if priority is None else str(priority),
            language,
            account_code,
            None,
        ]
        self._v = values
        self._p = self._own_positions
        self.uniqueid = uniqueid
        self.linkedid = linkedid

    channel = _Text("Channel")  # present: the translator requires it
    state = _Number("ChannelState")
    caller_id_num = _Text("CallerIDNum")
    caller_id_name = _Text("CallerIDName")
    connected_line_num = _Text("ConnectedLineNum")
    connected_line_name = _Text("ConnectedLineName")
    context = _Text("Context")
    exten = _Text("Exten")
    priority = _Number("Priority")
    language = _Text("Language")
    account_code = _Text("AccountCode")

    @property
    def device(self) -> str:
        """``SIP/150010002-00000005`` → ``SIP/150010002``; Local channels keep their name."""
        name = self.channel
        if name.startswith("Local/"):
            return name
        cut = name.rfind("-")
        return name[:cut] if cut > 0 else name

    def _astuple(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in _SNAPSHOT_FIELDS)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ChannelSnapshot):
            return NotImplemented
        return self._astuple() == other._astuple()

    def __hash__(self) -> int:
        return hash(self._astuple())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in _SNAPSHOT_FIELDS)
        return f"ChannelSnapshot({fields})"

    def __reduce__(self) -> tuple[type[ChannelSnapshot], tuple[object, ...]]:
        return (ChannelSnapshot, self._astuple())  # copy, deepcopy, pickle: through __init__


_SNAPSHOT_FIELDS = ChannelSnapshot.__match_args__
_object_new = object.__new__
_LEGS: dict[str, type[ChannelSnapshot]] = {"": ChannelSnapshot}


def _leg(prefix: str) -> type[ChannelSnapshot]:
    """The snapshot class of a prefixed channel block (``Dest``, ``Transferer`` …), made once."""
    cls = _LEGS.get(prefix)
    if cls is None:
        keys = tuple(prefix + k for k in _SNAPSHOT_KEYS)
        cls = _LEGS[prefix] = type(
            f"_{prefix}ChannelSnapshot",
            (ChannelSnapshot,),
            {"__slots__": (), "_keys": keys, "_own_positions": {key: i for i, key in enumerate(keys)}},
        )
    return cls


@_event
class AmiEvent:
    timestamp: float | None


@_event
class Newchannel(AmiEvent):
    channel: ChannelSnapshot


@_event
class Newstate(AmiEvent):
    channel: ChannelSnapshot


@_event
class NewCallerid(AmiEvent):
    channel: ChannelSnapshot


@_event
class Newexten(AmiEvent):
    channel: ChannelSnapshot
    application: str
    app_data: str


@_event
class VarSet(AmiEvent):
    channel: ChannelSnapshot | None  # None for a global variable
    variable: str
    value: str


@_event
class DTMFEnd(AmiEvent):
    channel: ChannelSnapshot
    digit: str
    direction: str
    duration_ms: int | None


@_event
class Hangup(AmiEvent):
    channel: ChannelSnapshot
    cause: int
    cause_txt: str
    tech_cause: int | None


@_event
class DialBegin(AmiEvent):
    caller: ChannelSnapshot | None  # absent for an AMI Originate
    dest: ChannelSnapshot
    dial_string: str


@_event
class DialEnd(AmiEvent):
    caller: ChannelSnapshot | None
    dest: ChannelSnapshot
    dial_status: str
    forward: str


@_event
class BridgeEnter(AmiEvent):
    channel: ChannelSnapshot
    bridge_id: str
    bridge_type: str
    num_channels: int | None
    swap_uniqueid: str


@_event
class BridgeLeave(AmiEvent):
    channel: ChannelSnapshot
    bridge_id: str
    bridge_type: str
    num_channels: int | None


@_event
class QueueCallerJoin(AmiEvent):
    channel: ChannelSnapshot
    queue: str
    position: int | None
    count: int | None


@_event
class QueueCallerLeave(AmiEvent):
    channel: ChannelSnapshot
    queue: str
    position: int | None
    count: int | None


@_event
class QueueCallerAbandon(AmiEvent):
    channel: ChannelSnapshot
    queue: str
    position: int | None
    original_position: int | None
    hold_time: int | None  # seconds


@_event
class _AgentEvent(AmiEvent):
    channel: ChannelSnapshot  # the caller
    dest: ChannelSnapshot | None  # the member leg
    queue: str
    member_name: str
    interface: str


@_event
class AgentCalled(_AgentEvent):
    pass


@_event
class AgentRingNoAnswer(_AgentEvent):
    ring_time_ms: int | None  # milliseconds, unlike AgentConnect


@_event
class AgentConnect(_AgentEvent):
    ring_time: int | None  # seconds
    hold_time: int | None  # seconds


@_event
class AgentComplete(_AgentEvent):
    hold_time: int | None
    talk_time: int | None
    reason: str


@_event
class AgentDump(_AgentEvent):
    pass


QueueMemberKind = Literal["status", "added", "removed", "pause", "penalty", "ringinuse", "listed"]


@_event
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


@_event
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


@_event
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


@_event
class CoreShowChannel(AmiEvent):
    """CoreShowChannels list item: one live channel."""

    channel: ChannelSnapshot
    bridge_id: str
    application: str
    application_data: str
    duration: str
    action_id: str | None = None


@_event
class Transfer(AmiEvent):
    kind: Literal["blind", "attended"]
    result: str
    is_external: bool
    transferer: ChannelSnapshot | None
    transferee: ChannelSnapshot | None  # blind: the party moved; attended: the second transferer's peer
    target: ChannelSnapshot | None  # attended: the transfer target
    context: str
    extension: str


@_event
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


@_event
class UserEvent(AmiEvent):
    user_event: str
    channel: ChannelSnapshot | None
    headers: tuple[tuple[str, str], ...]


@_event
class FullyBooted(AmiEvent):
    status: str


@_event
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


@_event
class OtherEvent(AmiEvent):
    name: str
    message: AmiMessage


# --- field helpers -------------------------------------------------------------------------------------
# The translators read the message's fields directly (AmiMessage._fields, split once per message): the
# value of ``key`` is ``v[p.get(key, -1)]``, None when the message has no such key (``v`` ends with None).
# A method call per field was a measurable part of AMI ingest (issue 8). ``msg`` is passed along for the
# error's headers.

_Values = list[str | None]
_Positions = dict[str, int]
_Translator = Callable[[AmiMessage, _Values, _Positions, float | None], AmiEvent]


def _int(msg: AmiMessage, v: _Values, p: _Positions, key: str, event: str) -> int:
    raw = v[p.get(key, -1)]
    if raw is None:
        raise TranslationError(event, f"missing {key}", msg.pairs)
    try:
        return int(raw)
    except ValueError:
        raise TranslationError(event, f"{key} is not a number: {raw!r}", msg.pairs) from None


def _opt_int(msg: AmiMessage, v: _Values, p: _Positions, key: str, event: str) -> int | None:
    raw = v[p.get(key, -1)]
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise TranslationError(event, f"{key} is not a number: {raw!r}", msg.pairs) from None


def _str(msg: AmiMessage, v: _Values, p: _Positions, key: str, event: str) -> str:
    raw = v[p.get(key, -1)]
    if raw is None:
        raise TranslationError(event, f"missing {key}", msg.pairs)
    return raw


def _bool(raw: str | None) -> bool | None:
    if raw is None or raw == "":
        return None
    return raw.strip().lower() in ("1", "yes", "true", "on")


_DEST = _leg("Dest")
#: what ChannelState and Priority hold on the wire (absent, empty, small numbers): surely parse
_PLAIN_NUMBERS = frozenset([None, "", *map(str, range(1000))])


def _snap(
    msg: AmiMessage, v: _Values, p: _Positions, event: str, cls: type[ChannelSnapshot] = ChannelSnapshot
) -> ChannelSnapshot:
    """The channel block of ``cls``'s leg; a missing Channel/Uniqueid or a garbled number is an error."""
    keys = cls._keys
    uniqueid = v[p.get(keys[1], -1)]
    if uniqueid is None or keys[0] not in p:
        raise TranslationError(event, f"missing {keys[1] if keys[0] in p else keys[0]}", msg.pairs)
    state_raw = v[p.get(keys[3], -1)]
    prio_raw = v[p.get(keys[10], -1)]
    if state_raw not in _PLAIN_NUMBERS or prio_raw not in _PLAIN_NUMBERS:
        try:  # "-1", " 6", "+2" are numbers too; the lazy fields parse them the same way
            int(state_raw or 0)
            int(prio_raw or 0)
        except ValueError:
            raise TranslationError(
                event, f"garbled {keys[3]}/{keys[10]}: {state_raw!r}/{prio_raw!r}", msg.pairs
            ) from None
    # ChannelSnapshot.__init__ without its thirteen arguments: the snapshot reads the message's fields
    snap: ChannelSnapshot = _object_new(cls)
    snap._v = v  # type: ignore[misc]  # Final, set once here as in __init__
    snap._p = p  # type: ignore[misc]
    snap.uniqueid = uniqueid  # type: ignore[misc]
    snap.linkedid = v[p.get(keys[2], -1)] or uniqueid  # type: ignore[misc]
    return snap


def _snapshot(
    msg: AmiMessage, v: _Values, p: _Positions, event: str, cls: type[ChannelSnapshot] = ChannelSnapshot
) -> ChannelSnapshot | None:
    """An optional channel block: ``None`` without Channel and Uniqueid (a garbled number is an error)."""
    keys = cls._keys
    if keys[0] in p and keys[1] in p:
        return _snap(msg, v, p, event, cls)
    return None


_new_AgentCalled = constructor(AgentCalled)
_new_AgentComplete = constructor(AgentComplete)
_new_AgentConnect = constructor(AgentConnect)
_new_AgentDump = constructor(AgentDump)
_new_AgentRingNoAnswer = constructor(AgentRingNoAnswer)
_new_BridgeEnter = constructor(BridgeEnter)
_new_BridgeLeave = constructor(BridgeLeave)
_new_Cdr = constructor(Cdr)
_new_OtherEvent = constructor(OtherEvent)
_new_CoreShowChannel = constructor(CoreShowChannel)
_new_DTMFEnd = constructor(DTMFEnd)
_new_DialBegin = constructor(DialBegin)
_new_DialEnd = constructor(DialEnd)
_new_FullyBooted = constructor(FullyBooted)
_new_Hangup = constructor(Hangup)
_new_NewCallerid = constructor(NewCallerid)
_new_Newchannel = constructor(Newchannel)
_new_Newexten = constructor(Newexten)
_new_Newstate = constructor(Newstate)
_new_OriginateResponse = constructor(OriginateResponse)
_new_QueueCallerAbandon = constructor(QueueCallerAbandon)
_new_QueueCallerJoin = constructor(QueueCallerJoin)
_new_QueueCallerLeave = constructor(QueueCallerLeave)
_new_QueueEntry = constructor(QueueEntry)
_new_QueueMemberEvent = constructor(QueueMemberEvent)
_new_QueueParams = constructor(QueueParams)
_new_Transfer = constructor(Transfer)
_new_UserEvent = constructor(UserEvent)
_new_VarSet = constructor(VarSet)


# --- per-event translators -----------------------------------------------------------------------------


def _newchannel(msg: AmiMessage, v: _Values, p: _Positions, ts: float | None) -> AmiEvent:
    return _new_Newchannel(timestamp=ts, channel=_snap(msg, v, p, "Newchannel"))


def _newstate(msg: AmiMessage, v: _Values, p: _Positions, ts: float | None) -> AmiEvent:
    return _new_Newstate(timestamp=ts, channel=_snap(msg, v, p, "Newstate"))


def _newcallerid(msg: AmiMessage, v: _Values, p: _Positions, ts: float | None) -> AmiEvent:
    return _new_NewCallerid(timestamp=ts, channel=_snap(msg, v, p, "NewCallerid"))


def _newexten(msg: AmiMessage, v: _Values, p: _Positions, ts: float | None) -> AmiEvent:
    return _new_Newexten(
        timestamp=ts,
        channel=_snap(msg, v, p, "Newexten"),
        application=v[p.get("Application", -1)] or "",
        app_data=v[p.get("AppData", -1)] or "",
    )


def _varset(msg: AmiMessage, v: _Values, p: _Positions, ts: float | None) -> AmiEvent:
    return _new_VarSet(
        timestamp=ts,
        channel=_snapshot(msg, v, p, "VarSet"),
        variable=_str(msg, v, p, "Variable", "VarSet"),
        value=v[p.get("Value", -1)] or "",
    )


def _dtmfend(msg: AmiMessage, v: _Values, p: _Positions, ts: float | None) -> AmiEvent:
    return _new_DTMFEnd(
        timestamp=ts,
        channel=_snap(msg, v, p, "DTMFEnd"),
        digit=_str(msg, v, p, "Digit", "DTMFEnd"),
        direction=v[p.get("Direction", -1)] or "",
        duration_ms=_opt_int(msg, v, p, "DurationMs", "DTMFEnd"),
    )


def _hangup(msg: AmiMessage, v: _Values, p: _Positions, ts: float | None) -> AmiEvent:
    return _new_Hangup(
        timestamp=ts,
        channel=_snap(msg, v, p, "Hangup"),
        cause=_int(msg, v, p, "Cause", "Hangup"),
        cause_txt=v[p.get("Cause-txt", -1)] or "",
        tech_cause=_opt_int(msg, v, p, "TechCause", "Hangup"),
    )


def _dialbegin(msg: AmiMessage, v: _Values, p: _Positions, ts: float | None) -> AmiEvent:
    return _new_DialBegin(
        timestamp=ts,
        caller=_snapshot(msg, v, p, "DialBegin"),
        dest=_snap(msg, v, p, "DialBegin", _DEST),
        dial_string=v[p.get("DialString", -1)] or "",
    )


def _dialend(msg: AmiMessage, v: _Values, p: _Positions, ts: float | None) -> AmiEvent:
    return _new_DialEnd(
        timestamp=ts,
        caller=_snapshot(msg, v, p, "DialEnd"),
        dest=_snap(msg, v, p, "DialEnd", _DEST),
        dial_status=_str(msg, v, p, "DialStatus", "DialEnd"),
        forward=v[p.get("Forward", -1)] or "",
    )


def _bridgeenter(msg: AmiMessage, v: _Values, p: _Positions, ts: float | None) -> AmiEvent:
    return _new_BridgeEnter(
        timestamp=ts,
        channel=_snap(msg, v, p, "BridgeEnter"),
        bridge_id=_str(msg, v, p, "BridgeUniqueid", "BridgeEnter"),
        bridge_type=v[p.get("BridgeType", -1)] or "",
        num_channels=_opt_int(msg, v, p, "BridgeNumChannels", "BridgeEnter"),
        swap_uniqueid=v[p.get("SwapUniqueid", -1)] or "",
    )


def _bridgeleave(msg: AmiMessage, v: _Values, p: _Positions, ts: float | None) -> AmiEvent:
    return _new_BridgeLeave(
        timestamp=ts,
        channel=_snap(msg, v, p, "BridgeLeave"),
        bridge_id=_str(msg, v, p, "BridgeUniqueid", "BridgeLeave"),
        bridge_type=v[p.get("BridgeType", -1)] or "",
        num_channels=_opt_int(msg, v, p, "BridgeNumChannels", "BridgeLeave"),
    )


def _callerjoin(msg: AmiMessage, v: _Values, p: _Positions, ts: float | None) -> AmiEvent:
    ev = "QueueCallerJoin"
    return _new_QueueCallerJoin(
        timestamp=ts,
        channel=_snap(msg, v, p, ev),
        queue=_str(msg, v, p, "Queue", ev),
        position=_opt_int(msg, v, p, "Position", ev),
        count=_opt_int(msg, v, p, "Count", ev),
    )


def _callerleave(msg: AmiMessage, v: _Values, p: _Positions, ts: float | None) -> AmiEvent:
    ev = "QueueCallerLeave"
    return _new_QueueCallerLeave(
        timestamp=ts,
        channel=_snap(msg, v, p, ev),
        queue=_str(msg, v, p, "Queue", ev),
        position=_opt_int(msg, v, p, "Position", ev),
        count=_opt_int(msg, v, p, "Count", ev),
    )


def _callerabandon(msg: AmiMessage, v: _Values, p: _Positions, ts: float | None) -> AmiEvent:
    ev = "QueueCallerAbandon"
    return _new_QueueCallerAbandon(
        timestamp=ts,
        channel=_snap(msg, v, p, ev),
        queue=_str(msg, v, p, "Queue", ev),
        position=_opt_int(msg, v, p, "Position", ev),
        original_position=_opt_int(msg, v, p, "OriginalPosition", ev),
        hold_time=_opt_int(msg, v, p, "HoldTime", ev),
    )


def _agent_common(
    msg: AmiMessage, v: _Values, p: _Positions, event: str
) -> tuple[ChannelSnapshot, ChannelSnapshot | None, str, str, str]:
    interface = v[p.get("Interface", -1)]
    if interface is None:
        raise TranslationError(event, "missing Interface", msg.pairs)
    return (
        _snap(msg, v, p, event),
        _snapshot(msg, v, p, event, _DEST),
        _str(msg, v, p, "Queue", event),
        v[p.get("MemberName", -1)] or interface,
        interface,
    )


def _agentcalled(msg: AmiMessage, v: _Values, p: _Positions, ts: float | None) -> AmiEvent:
    ch, dest, queue, member, iface = _agent_common(msg, v, p, "AgentCalled")
    return _new_AgentCalled(
        timestamp=ts, channel=ch, dest=dest, queue=queue, member_name=member, interface=iface
    )


def _agentringnoanswer(msg: AmiMessage, v: _Values, p: _Positions, ts: float | None) -> AmiEvent:
    ch, dest, queue, member, iface = _agent_common(msg, v, p, "AgentRingNoAnswer")
    return _new_AgentRingNoAnswer(
        timestamp=ts,
        channel=ch,
        dest=dest,
        queue=queue,
        member_name=member,
        interface=iface,
        ring_time_ms=_opt_int(msg, v, p, "RingTime", "AgentRingNoAnswer"),
    )


def _agentconnect(msg: AmiMessage, v: _Values, p: _Positions, ts: float | None) -> AmiEvent:
    ch, dest, queue, member, iface = _agent_common(msg, v, p, "AgentConnect")
    return _new_AgentConnect(
        timestamp=ts,
        channel=ch,
        dest=dest,
        queue=queue,
        member_name=member,
        interface=iface,
        ring_time=_opt_int(msg, v, p, "RingTime", "AgentConnect"),
        hold_time=_opt_int(msg, v, p, "HoldTime", "AgentConnect"),
    )


def _agentcomplete(msg: AmiMessage, v: _Values, p: _Positions, ts: float | None) -> AmiEvent:
    ch, dest, queue, member, iface = _agent_common(msg, v, p, "AgentComplete")
    return _new_AgentComplete(
        timestamp=ts,
        channel=ch,
        dest=dest,
        queue=queue,
        member_name=member,
        interface=iface,
        hold_time=_opt_int(msg, v, p, "HoldTime", "AgentComplete"),
        talk_time=_opt_int(msg, v, p, "TalkTime", "AgentComplete"),
        reason=v[p.get("Reason", -1)] or "",
    )


def _agentdump(msg: AmiMessage, v: _Values, p: _Positions, ts: float | None) -> AmiEvent:
    ch, dest, queue, member, iface = _agent_common(msg, v, p, "AgentDump")
    return _new_AgentDump(
        timestamp=ts, channel=ch, dest=dest, queue=queue, member_name=member, interface=iface
    )


def _member(kind: QueueMemberKind, event: str) -> _Translator:
    listed = kind == "listed"
    iface_key = "Location" if listed else "Interface"
    name_key = "Name" if listed else "MemberName"

    def translate_member(msg: AmiMessage, v: _Values, p: _Positions, ts: float | None) -> AmiEvent:
        interface = v[p.get(iface_key, -1)] or v[p.get("Interface", -1)]
        if not interface:
            raise TranslationError(event, f"missing {iface_key}", msg.pairs)
        return _new_QueueMemberEvent(
            timestamp=ts,
            kind=kind,
            queue=_str(msg, v, p, "Queue", event),
            interface=interface,
            member_name=v[p.get(name_key, -1)] or v[p.get("MemberName", -1)] or interface,
            state_interface=v[p.get("StateInterface", -1)] or "",
            membership=v[p.get("Membership", -1)] or "",
            penalty=_opt_int(msg, v, p, "Penalty", event),
            calls_taken=_opt_int(msg, v, p, "CallsTaken", event),
            last_call=_opt_int(msg, v, p, "LastCall", event),
            in_call=_bool(v[p.get("InCall", -1)]),
            status=_opt_int(msg, v, p, "Status", event),
            paused=_bool(v[p.get("Paused", -1)]),
            paused_reason=v[p.get("PausedReason", -1)] or "",
            action_id=v[p.get("ActionID", -1)] if listed else None,
        )

    return translate_member


def _queueparams(msg: AmiMessage, v: _Values, p: _Positions, ts: float | None) -> AmiEvent:
    ev = "QueueParams"
    return _new_QueueParams(
        timestamp=ts,
        queue=_str(msg, v, p, "Queue", ev),
        max=_opt_int(msg, v, p, "Max", ev),
        strategy=v[p.get("Strategy", -1)] or "",
        calls=_opt_int(msg, v, p, "Calls", ev),
        hold_time=_opt_int(msg, v, p, "Holdtime", ev),
        talk_time=_opt_int(msg, v, p, "TalkTime", ev),
        completed=_opt_int(msg, v, p, "Completed", ev),
        abandoned=_opt_int(msg, v, p, "Abandoned", ev),
        action_id=v[p.get("ActionID", -1)],
    )


def _queueentry(msg: AmiMessage, v: _Values, p: _Positions, ts: float | None) -> AmiEvent:
    ev = "QueueEntry"
    return _new_QueueEntry(
        timestamp=ts,
        queue=_str(msg, v, p, "Queue", ev),
        position=_opt_int(msg, v, p, "Position", ev),
        channel=_str(msg, v, p, "Channel", ev),
        uniqueid=v[p.get("Uniqueid", -1)] or "",
        caller_id_num=v[p.get("CallerIDNum", -1)] or "",
        caller_id_name=v[p.get("CallerIDName", -1)] or "",
        wait=_opt_int(msg, v, p, "Wait", ev),
        priority=_opt_int(msg, v, p, "Priority", ev),
        action_id=v[p.get("ActionID", -1)],
    )


def _coreshowchannel(msg: AmiMessage, v: _Values, p: _Positions, ts: float | None) -> AmiEvent:
    return _new_CoreShowChannel(
        timestamp=ts,
        channel=_snap(msg, v, p, "CoreShowChannel"),
        bridge_id=v[p.get("BridgeId", -1)] or "",
        application=v[p.get("Application", -1)] or "",
        application_data=v[p.get("ApplicationData", -1)] or "",
        duration=v[p.get("Duration", -1)] or "",
        action_id=v[p.get("ActionID", -1)],
    )


def _blindtransfer(msg: AmiMessage, v: _Values, p: _Positions, ts: float | None) -> AmiEvent:
    ev = "BlindTransfer"
    return _new_Transfer(
        timestamp=ts,
        kind="blind",
        result=v[p.get("Result", -1)] or "",
        is_external=bool(_bool(v[p.get("IsExternal", -1)])),
        transferer=_snapshot(msg, v, p, ev, _leg("Transferer")),
        transferee=_snapshot(msg, v, p, ev, _leg("Transferee")),
        target=None,
        context=v[p.get("Context", -1)] or "",
        extension=v[p.get("Extension", -1)] or "",
    )


def _attendedtransfer(msg: AmiMessage, v: _Values, p: _Positions, ts: float | None) -> AmiEvent:
    ev = "AttendedTransfer"
    return _new_Transfer(
        timestamp=ts,
        kind="attended",
        result=v[p.get("Result", -1)] or "",
        is_external=bool(_bool(v[p.get("IsExternal", -1)])),
        transferer=_snapshot(msg, v, p, ev, _leg("OrigTransferer")),
        transferee=_snapshot(msg, v, p, ev, _leg("SecondTransferer")),
        target=_snapshot(msg, v, p, ev, _leg("TransferTarget")),
        context=v[p.get("Context", -1)] or "",
        extension=v[p.get("DestExten", -1)] or "",
    )


def _cdr(msg: AmiMessage, v: _Values, p: _Positions, ts: float | None) -> AmiEvent:
    ev = "Cdr"
    return _new_Cdr(
        timestamp=ts,
        source=v[p.get("Source", -1)] or "",
        destination=v[p.get("Destination", -1)] or "",
        destination_context=v[p.get("DestinationContext", -1)] or "",
        caller_id=v[p.get("CallerID", -1)] or "",
        channel=v[p.get("Channel", -1)] or "",
        destination_channel=v[p.get("DestinationChannel", -1)] or "",
        last_application=v[p.get("LastApplication", -1)] or "",
        start_time=v[p.get("StartTime", -1)] or "",
        answer_time=v[p.get("AnswerTime", -1)] or "",
        end_time=v[p.get("EndTime", -1)] or "",
        duration=_opt_int(msg, v, p, "Duration", ev),
        billable_seconds=_opt_int(msg, v, p, "BillableSeconds", ev),
        disposition=v[p.get("Disposition", -1)] or "",
        uniqueid=v[p.get("UniqueID", -1)] or "",
        user_field=v[p.get("UserField", -1)] or "",
    )


def _userevent(msg: AmiMessage, v: _Values, p: _Positions, ts: float | None) -> AmiEvent:
    return _new_UserEvent(
        timestamp=ts,
        user_event=_str(msg, v, p, "UserEvent", "UserEvent"),
        channel=_snapshot(msg, v, p, "UserEvent"),
        headers=tuple(msg.pairs),
    )


def _fullybooted(msg: AmiMessage, v: _Values, p: _Positions, ts: float | None) -> AmiEvent:
    return _new_FullyBooted(timestamp=ts, status=v[p.get("Status", -1)] or "")


def _originateresponse(msg: AmiMessage, v: _Values, p: _Positions, ts: float | None) -> AmiEvent:
    ev = "OriginateResponse"
    return _new_OriginateResponse(
        timestamp=ts,
        response=_str(msg, v, p, "Response", ev),
        channel=v[p.get("Channel", -1)] or "",
        context=v[p.get("Context", -1)] or "",
        exten=v[p.get("Exten", -1)] or "",
        reason=_opt_int(msg, v, p, "Reason", ev),
        uniqueid=v[p.get("Uniqueid", -1)] or "",
        caller_id_num=v[p.get("CallerIDNum", -1)] or "",
        caller_id_name=v[p.get("CallerIDName", -1)] or "",
        action_id=v[p.get("ActionID", -1)],
    )


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
    v, p = msg._fields()
    name = v[p.get("Event", -1)]  # the first Event header, wherever it is
    if name is None:
        return None
    raw_ts = v[p.get("Timestamp", -1)]
    ts: float | None = None
    if raw_ts is not None:
        try:
            ts = float(raw_ts)
        except ValueError:
            raise TranslationError(name, f"Timestamp is not a number: {raw_ts!r}", msg.pairs) from None
    fn = _DISPATCH.get(name)
    if fn is None:
        return _new_OtherEvent(timestamp=ts, name=name, message=msg)
    return fn(msg, v, p, ts)
