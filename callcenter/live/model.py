"""The live model: typed AMI events in, call-record changes and queue state out. Pure: no asyncio, no I/O.

One :class:`LiveModel` follows every call (keyed by ``Linkedid``) and every queue. ``apply(event)`` returns
the changes a subscriber cares about:

- :class:`CallChanged` — a copy of the record whenever something a user notices changes: arrival, IVR end,
  queue join, an agent rung / not answering, answer, talk end;
- :class:`CallEnded` — exactly once per call, disposition set, when every channel of the Linkedid hung up;
  the call is then forgotten;
- :class:`CallDropped` — :meth:`LiveModel.sweep` gave up on a call whose channels went silent (missed
  Hangup events); the record is handed out without a disposition;
- :class:`QueueChanged` / :class:`MemberChanged` — wallboard state moved.

Decisions (docs/ARCHITECTURE.md, "Dispositions"):

- The caller is the channel whose Uniqueid == Linkedid, else the first channel seen.
- Caller number/name = CallerIDNum/Name at Newchannel. A later NewCallerid on the caller leg fills them only
  while they are unknown (``""``/``<unknown>``): a PBX rewriting the caller ID to an internal extension
  (cacofonisk ``ab_success_a_hangup``: 150010001 → 201) must not overwrite the real number.
- Dialled number = Exten at the caller's Newchannel.
- IVR end = the first of: ``HOTLINE_QUEUE`` set non-empty, ``HOTLINE_DISPOSITION`` set non-empty, the
  first ``QueueCallerJoin``. (The dialplan *clears* ``HOTLINE_QUEUE`` on entry: an empty value marks the
  call as a hotline call, it does not end the IVR.)
- ``queue-timeout``: ``QUEUESTATUS`` in TIMEOUT/FULL/JOINEMPTY/LEAVEEMPTY/JOINUNAVAIL/LEAVEUNAVAIL on the
  caller leg after the latest ``QueueCallerJoin`` (or with no join at all: JOINEMPTY refuses the join).
  ``QueueCallerAbandon`` alone (app_queue sends it on a timeout too) is not an abandon.
- ``answered``: ``AgentConnect``, or (plain calls) the caller in a bridge with another channel. The agent of a
  plain call is the answering device: the non-Local destination of the last ``DialEnd ANSWER`` before the
  bridge (``SIP/150010002``), else the non-Local peer in the bridge.
- ``abandoned``: queued (join or abandon seen) and hung up without a timeout status, or a plain call whose
  caller gave up while something rang (its own ``DialEnd CANCEL`` or a Hangup with a dial pending).
- ``queue-callback`` / ``ivr-callback``: the dialplan raised ``HotlineCallback`` on the caller's channel (the
  caller took the queue's callback offer, or booked one in the menu) and nobody answered; a queue that gave
  up first (``queue-timeout``, whose on_timeout action may book one too) and out-of-hours keep theirs.
- ``ivr-hangup``: a hotline call (a ``HOTLINE_*`` variable or an ``AGI`` step seen) that never queued.
- ``unanswered``: anything else (busy, rejected, nobody rang).
- Wait = app_queue's ``HoldTime`` (AgentConnect / QueueCallerAbandon), else timestamps join→answer/leave;
  talk = ``TalkTime`` of AgentComplete, else answer→end. Times come from the event's ``Timestamp`` or,
  failing that, ``received_at``; with neither they stay ``None`` — never invented.

Channels can move between Linkedids (attended transfers, pickups): a channel event carrying a new Linkedid
of a known call moves the channel there; the old call ends when its last channel is gone.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from callcenter.ami.events import (
    AgentCalled,
    AgentComplete,
    AgentConnect,
    AgentDump,
    AgentRingNoAnswer,
    AmiEvent,
    BridgeEnter,
    BridgeLeave,
    ChannelSnapshot,
    CoreShowChannel,
    DialBegin,
    DialEnd,
    Hangup,
    NewCallerid,
    Newchannel,
    Newexten,
    Newstate,
    QueueCallerAbandon,
    QueueCallerJoin,
    QueueCallerLeave,
    QueueEntry,
    QueueMemberEvent,
    QueueParams,
    UserEvent,
    VarSet,
)
from callcenter.records import AgentAttempt, AttemptOutcome, CallRecord, Disposition
from callcenter.slotted import copier

__all__ = [
    "CallChanged",
    "CallDropped",
    "CallEnded",
    "Change",
    "LiveModel",
    "MemberChanged",
    "MemberSnapshot",
    "QueueChanged",
    "QueueSnapshot",
    "WaitingCaller",
]

QUEUE_GAVE_UP = frozenset({"TIMEOUT", "FULL", "JOINEMPTY", "LEAVEEMPTY", "JOINUNAVAIL", "LEAVEUNAVAIL"})
_IVR_DISPOSITIONS = {"out-of-hours": Disposition.OUT_OF_HOURS, "blocked": Disposition.BLOCKED}
_UNKNOWN_IDS = frozenset({"", "<unknown>", "unknown"})
_REFUSED = frozenset({"BUSY", "CONGESTION", "CHANUNAVAIL", "NOANSWER"})
DEFAULT_IDLE_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class CallChanged:
    record: CallRecord


@dataclass(frozen=True, slots=True)
class CallEnded:
    record: CallRecord


@dataclass(frozen=True, slots=True)
class CallDropped:
    record: CallRecord


@dataclass(frozen=True, slots=True)
class QueueChanged:
    queue: str


@dataclass(frozen=True, slots=True)
class MemberChanged:
    queue: str
    interface: str


Change = CallChanged | CallEnded | CallDropped | QueueChanged | MemberChanged


@dataclass(frozen=True, slots=True)
class WaitingCaller:
    uniqueid: str
    linkedid: str | None
    channel: str
    caller_number: str | None
    joined_at: datetime | None
    priority: int | None
    position: int | None


@dataclass(frozen=True, slots=True)
class MemberSnapshot:
    interface: str
    member_name: str
    state_interface: str
    status: int | None  # app_queue device status: 1 not in use, 2 in use, 6 ringing, 5 unavailable, ...
    paused: bool
    paused_reason: str
    in_call: bool
    calls_taken: int
    penalty: int | None
    membership: str


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    name: str
    waiting: tuple[WaitingCaller, ...]
    members: tuple[MemberSnapshot, ...]
    calls_taken: int  # sum of the members' CallsTaken (app_queue's counter)
    answered: int  # AgentConnect seen since this model started
    abandoned: int  # calls that ended abandoned from this queue since this model started
    timed_out: int
    strategy: str = ""


@dataclass(slots=True)
class _Member:
    interface: str
    member_name: str
    state_interface: str = ""
    status: int | None = None
    paused: bool = False
    paused_reason: str = ""
    in_call: bool = False
    calls_taken: int = 0
    penalty: int | None = None
    membership: str = ""


@dataclass(slots=True)
class _Queue:
    name: str
    waiting: dict[str, WaitingCaller] = field(default_factory=dict)
    members: dict[str, _Member] = field(default_factory=dict)
    answered: int = 0
    abandoned: int = 0
    timed_out: int = 0
    strategy: str = ""


@dataclass(slots=True)
class _Call:
    record: CallRecord
    caller_uid: str
    channels: set[str] = field(default_factory=set)
    last_activity: float | None = None
    arrived_ts: float | None = None
    hotline: bool = False
    ivr_ended: bool = False
    queued: bool = False
    join_ts: float | None = None
    leave_ts: float | None = None
    queue_status: str | None = None
    abandon_seen: bool = False
    hotline_disposition: Disposition | None = None
    callback_booked: bool = False  # the dialplan's HotlineCallback on the caller's channel
    answered: bool = False
    answer_ts: float | None = None
    answer_device: str | None = None
    ringing: dict[str, str] = field(default_factory=dict)  # dest uniqueid -> dialling uniqueid
    caller_cancelled: bool = False
    refused: bool = False
    open_attempts: dict[str, AgentAttempt] = field(default_factory=dict)  # interface -> attempt
    attempt_ts: dict[int, float] = field(default_factory=dict)  # seq -> called/connected timestamp
    dest_attempt: dict[str, AgentAttempt] = field(default_factory=dict)  # member leg uniqueid -> attempt
    talk_time: int | None = None


def _dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


# a copy per CallChanged: a quarter of AMI ingest time before it was generated (callcenter/slotted.py)
_copy_record = copier(CallRecord)
_copy_attempt = copier(AgentAttempt)


_H = TypeVar("_H", CallChanged, CallEnded)


def _copy(rec: CallRecord) -> CallRecord:
    out: CallRecord = _copy_record(rec)
    attempts = rec.attempts
    out.attempts = list(map(_copy_attempt, attempts)) if attempts else []
    return out


def _holder(cls: type[_H]) -> Callable[[CallRecord], _H]:
    """``cls(record)`` for a frozen one-field change class, through the slot descriptor.

    A frozen dataclass's ``__init__`` assigns through ``object.__setattr__``; one of these is made per
    CallChanged, so the descriptor saves a measurable share of AMI ingest (issue 8). Same object.
    """
    (only,) = dataclasses.fields(cls)
    assert only.name == "record" and not hasattr(cls, "__post_init__"), cls
    set_record = cls.__dict__["record"].__set__
    new = object.__new__

    def make(record: CallRecord) -> _H:
        change: _H = new(cls)
        set_record(change, record)
        return change

    return make


_call_changed = _holder(CallChanged)
_call_ended = _holder(CallEnded)


def _known(value: str) -> bool:
    return value not in _UNKNOWN_IDS


def _device(channel: str) -> str:
    if channel.startswith("Local/"):
        return channel
    cut = channel.rfind("-")
    return channel[:cut] if cut > 0 else channel


class LiveModel:
    """Follows calls and queues from typed AMI events. Not thread-safe; one owner applies events."""

    def __init__(self) -> None:
        self._calls: dict[str, _Call] = {}
        self._chan_call: dict[str, str] = {}  # uniqueid -> linkedid of the call it belongs to now
        self._bridges: dict[str, set[str]] = {}  # bridge id -> uniqueids in it
        self._chan_bridge: dict[str, str] = {}
        self._chan_name: dict[str, str] = {}  # uniqueid -> channel name, for channels of followed calls
        self._queues: dict[str, _Queue] = {}
        self._out: list[Change] = []
        self._handlers: dict[type[AmiEvent], Callable[[Any, float | None], None]] = {
            Newchannel: self._on_newchannel,
            Newstate: self._on_touch,
            NewCallerid: self._on_newcallerid,
            Newexten: self._on_newexten,
            VarSet: self._on_varset,
            Hangup: self._on_hangup,
            DialBegin: self._on_dialbegin,
            DialEnd: self._on_dialend,
            BridgeEnter: self._on_bridgeenter,
            BridgeLeave: self._on_bridgeleave,
            QueueCallerJoin: self._on_join,
            QueueCallerLeave: self._on_leave,
            QueueCallerAbandon: self._on_abandon,
            AgentCalled: self._on_agentcalled,
            AgentRingNoAnswer: self._on_ringnoanswer,
            AgentConnect: self._on_agentconnect,
            AgentComplete: self._on_agentcomplete,
            AgentDump: self._on_agentdump,
            QueueMemberEvent: self._on_member,
            QueueParams: self._on_queueparams,
            QueueEntry: self._on_queueentry,
            CoreShowChannel: self._on_coreshowchannel,
            UserEvent: self._on_userevent,
        }

    # --- public API -------------------------------------------------------------------------------------

    def apply(self, event: AmiEvent, received_at: float | None = None) -> list[Change]:
        """Apply one event. ``received_at`` (epoch seconds) is used when the event has no Timestamp."""
        handler = self._handlers.get(type(event))
        if handler is None:
            return []
        out: list[Change] = []
        self._out = out
        when = event.timestamp
        handler(event, received_at if when is None else when)
        return out

    def sweep(self, now: float, max_idle: float = DEFAULT_IDLE_SECONDS) -> list[Change]:
        """Forget calls with no event for ``max_idle`` seconds (their Hangups were missed).

        Calls that never had a time (captures without Timestamp, no ``received_at``) are stamped with the
        first sweep that sees them, so they go ``max_idle`` later.
        """
        out: list[Change] = []
        self._out = out
        for lid, call in list(self._calls.items()):
            if call.last_activity is None:
                call.last_activity = now
            elif now - call.last_activity >= max_idle:
                self._forget(lid, call)
                out.append(CallDropped(_copy(call.record)))
        return out

    def discard(self, linkedid: str) -> bool:
        """Forget a call without ending it (it ended while the AMI link was down; the reconciler
        finishes it from Asterisk's CDR). Queue state changes are dropped with it."""
        call = self._calls.get(linkedid)
        if call is None:
            return False
        self._out = []
        self._forget(linkedid, call)
        return True

    def calls(self) -> list[CallRecord]:
        """Copies of the records of the calls still up."""
        return [_copy(c.record) for c in self._calls.values()]

    def call(self, linkedid: str) -> CallRecord | None:
        call = self._calls.get(linkedid)
        return None if call is None else _copy(call.record)

    def queue_snapshots(self) -> list[QueueSnapshot]:
        return [self._queue_snapshot(q) for q in sorted(self._queues.values(), key=lambda q: q.name)]

    def queue_snapshot(self, name: str) -> QueueSnapshot | None:
        q = self._queues.get(name)
        return None if q is None else self._queue_snapshot(q)

    # --- helpers ----------------------------------------------------------------------------------------

    @staticmethod
    def _queue_snapshot(q: _Queue) -> QueueSnapshot:
        waiting = sorted(
            q.waiting.values(),
            key=lambda w: (
                w.position if w.position is not None else 1 << 30,
                w.joined_at or datetime.min.replace(tzinfo=UTC),
            ),
        )
        members = tuple(
            MemberSnapshot(
                interface=m.interface,
                member_name=m.member_name,
                state_interface=m.state_interface,
                status=m.status,
                paused=m.paused,
                paused_reason=m.paused_reason,
                in_call=m.in_call,
                calls_taken=m.calls_taken,
                penalty=m.penalty,
                membership=m.membership,
            )
            for m in sorted(q.members.values(), key=lambda m: m.interface)
        )
        return QueueSnapshot(
            name=q.name,
            waiting=tuple(waiting),
            members=members,
            calls_taken=sum(m.calls_taken for m in q.members.values()),
            answered=q.answered,
            abandoned=q.abandoned,
            timed_out=q.timed_out,
            strategy=q.strategy,
        )

    def _queue(self, name: str) -> _Queue:
        q = self._queues.get(name)
        if q is None:
            q = self._queues[name] = _Queue(name)
        return q

    def _changed(self, call: _Call) -> None:
        self._out.append(_call_changed(_copy(call.record)))

    def _call_for(self, snap: ChannelSnapshot, when: float | None) -> _Call | None:
        """The call a channel belongs to now, following moves between Linkedids."""
        uid = snap.uniqueid
        lid = snap.linkedid
        current = self._chan_call.get(uid)
        if current == lid:
            call = self._calls.get(lid)
        elif current is None:
            call = self._calls.get(lid)
            if call is not None:
                call.channels.add(uid)
                self._chan_call[uid] = lid
                self._chan_name[uid] = snap.channel
        else:
            old = self._calls.get(current)
            new = self._calls.get(lid)
            if new is None:
                call = old  # moved to a call we do not follow: keep it where it was
            else:
                call = new
                new.channels.add(uid)
                self._chan_call[uid] = lid
                if old is not None:
                    old.channels.discard(uid)
                    if not old.channels:
                        self._finish(current, old, when)
        if call is not None and when is not None:
            call.last_activity = when
        return call

    def _close_ringing_attempts(
        self, call: _Call, when: float | None, keep: AgentAttempt | None = None
    ) -> bool:
        changed = False
        for iface, attempt in list(call.open_attempts.items()):
            if attempt is keep or attempt.outcome is not AttemptOutcome.CALLED:
                continue
            attempt.outcome = AttemptOutcome.NO_ANSWER
            start = call.attempt_ts.get(attempt.seq)
            if attempt.ring_seconds is None and start is not None and when is not None:
                attempt.ring_seconds = max(0.0, when - start)
            del call.open_attempts[iface]
            changed = True
        return changed

    def _end_ivr(self, call: _Call, when: float | None) -> None:
        if not call.ivr_ended:
            call.ivr_ended = True
            call.record.ivr_ended_at = _dt(when)
            self._changed(call)

    # --- channel events ---------------------------------------------------------------------------------

    def _on_newchannel(self, ev: Newchannel, when: float | None) -> None:
        snap = ev.channel
        call = self._calls.get(snap.linkedid)
        if call is None:
            self._new_call(snap, when)
            return
        self._call_for(snap, when)
        if snap.uniqueid == snap.linkedid and call.caller_uid != snap.uniqueid:
            self._set_caller(call, snap)

    def _new_call(self, snap: ChannelSnapshot, when: float | None) -> _Call:
        rec = CallRecord(linkedid=snap.linkedid, uniqueid=snap.uniqueid, arrived_at=_dt(when))
        call = _Call(record=rec, caller_uid=snap.uniqueid, channels={snap.uniqueid}, last_activity=when)
        call.arrived_ts = when
        self._set_caller(call, snap)
        self._calls[snap.linkedid] = call
        self._chan_call[snap.uniqueid] = snap.linkedid
        self._chan_name[snap.uniqueid] = snap.channel
        self._changed(call)
        return call

    @staticmethod
    def _set_caller(call: _Call, snap: ChannelSnapshot) -> None:
        rec = call.record
        call.caller_uid = rec.uniqueid = snap.uniqueid
        rec.channel = snap.channel
        rec.caller_number = snap.caller_id_num if _known(snap.caller_id_num) else None
        rec.caller_name = snap.caller_id_name if _known(snap.caller_id_name) else None
        rec.dialled_number = snap.exten or None

    def _on_touch(self, ev: Newstate, when: float | None) -> None:
        self._call_for(ev.channel, when)

    def _on_newcallerid(self, ev: NewCallerid, when: float | None) -> None:
        snap = ev.channel
        call = self._call_for(snap, when)
        if call is None or snap.uniqueid != call.caller_uid:
            return
        rec = call.record
        if rec.caller_number is None and _known(snap.caller_id_num):
            rec.caller_number = snap.caller_id_num
        if rec.caller_name is None and _known(snap.caller_id_name):
            rec.caller_name = snap.caller_id_name

    def _on_newexten(self, ev: Newexten, when: float | None) -> None:
        snap = ev.channel
        call = self._call_for(snap, when)
        if call is None or snap.uniqueid != call.caller_uid:
            return
        if ev.application == "AGI" or snap.context.startswith("hotline"):
            call.hotline = True

    def _on_varset(self, ev: VarSet, when: float | None) -> None:
        snap = ev.channel
        if snap is None:
            return  # a global variable
        call = self._call_for(snap, when)
        if call is None or snap.uniqueid != call.caller_uid:
            return
        name = ev.variable
        value = ev.value
        rec = call.record
        if name.startswith("HOTLINE_"):
            call.hotline = True
            if name == "HOTLINE_LANGUAGE":
                rec.language = value or rec.language
            elif name == "HOTLINE_MENU_PATH":
                rec.menu_path = value or rec.menu_path
            elif name == "HOTLINE_QUEUE":
                if value:
                    rec.queue = value
                    self._end_ivr(call, when)
            elif name == "HOTLINE_PRIORITY":
                with contextlib.suppress(ValueError):
                    rec.priority = int(value)
            elif name == "HOTLINE_DISPOSITION" and value:
                disposition = _IVR_DISPOSITIONS.get(value)
                if disposition is not None:
                    call.hotline_disposition = disposition
                self._end_ivr(call, when)
        elif name == "QUEUESTATUS":
            call.queue_status = value

    def _on_userevent(self, ev: UserEvent, when: float | None) -> None:
        snap = ev.channel
        if ev.user_event != "HotlineCallback" or snap is None:
            return
        call = self._call_for(snap, when)
        if call is not None and snap.uniqueid == call.caller_uid:
            call.callback_booked = True

    def _on_hangup(self, ev: Hangup, when: float | None) -> None:
        snap = ev.channel
        uid = snap.uniqueid
        call = self._call_for(snap, when)
        self._chan_call.pop(uid, None)
        self._chan_name.pop(uid, None)
        bridge = self._chan_bridge.pop(uid, None)
        if bridge is not None:
            self._leave_bridge(bridge, uid)
        if call is None:
            return
        lid = call.record.linkedid
        if uid == call.caller_uid:
            call.record.hangup_cause = ev.cause
            if any(src == uid for src in call.ringing.values()):
                call.caller_cancelled = True
        call.ringing.pop(uid, None)
        attempt = call.dest_attempt.pop(uid, None)
        if attempt is not None and attempt.outcome is AttemptOutcome.CALLED:
            attempt.outcome = AttemptOutcome.NO_ANSWER
            start = call.attempt_ts.get(attempt.seq)
            if attempt.ring_seconds is None and start is not None and when is not None:
                attempt.ring_seconds = max(0.0, when - start)
            if call.open_attempts.get(attempt.interface) is attempt:
                del call.open_attempts[attempt.interface]
        call.channels.discard(uid)
        if not call.channels:
            self._finish(lid, call, when)

    def _on_dialbegin(self, ev: DialBegin, when: float | None) -> None:
        call = self._call_for(ev.dest, when)
        if ev.caller is not None:
            src_call = self._call_for(ev.caller, when)
            if src_call is not None:
                src_call.ringing[ev.dest.uniqueid] = ev.caller.uniqueid
            elif call is not None:
                call.ringing[ev.dest.uniqueid] = ev.caller.uniqueid

    def _on_dialend(self, ev: DialEnd, when: float | None) -> None:
        dest = ev.dest
        call = self._call_for(dest, when)
        if ev.caller is not None:
            call = self._call_for(ev.caller, when) or call
        if call is None:
            return
        src = call.ringing.pop(dest.uniqueid, None)
        status = ev.dial_status
        if status == "ANSWER":
            if not dest.channel.startswith("Local/") and not call.answered:
                call.answer_device = _device(dest.channel)
        elif status == "CANCEL":
            if src == call.caller_uid or (ev.caller is not None and ev.caller.uniqueid == call.caller_uid):
                call.caller_cancelled = True
        elif status in _REFUSED:
            call.refused = True

    def _on_bridgeenter(self, ev: BridgeEnter, when: float | None) -> None:
        snap = ev.channel
        self._call_for(snap, when)
        uid = snap.uniqueid
        old = self._chan_bridge.get(uid)
        if old is not None and old != ev.bridge_id:
            self._leave_bridge(old, uid)
        members = self._bridges.setdefault(ev.bridge_id, set())
        members.add(uid)
        self._chan_bridge[uid] = ev.bridge_id
        if len(members) < 2:
            return
        for member in members:
            lid = self._chan_call.get(member)
            call = self._calls.get(lid) if lid is not None else None
            if call is None or call.answered or call.caller_uid not in members:
                continue
            call.answered = True
            call.answer_ts = when
            rec = call.record
            rec.answered_at = _dt(when)
            if rec.agent is None:
                device = call.answer_device
                if device is None:
                    for other in members:
                        if other == call.caller_uid:
                            continue
                        name = self._channel_name(other, ev)
                        if name is not None and not name.startswith("Local/"):
                            device = _device(name)
                            break
                rec.agent = device
                rec.agent_interface = device
            self._changed(call)

    def _channel_name(self, uid: str, ev: BridgeEnter) -> str | None:
        if ev.channel.uniqueid == uid:
            return ev.channel.channel
        return self._chan_name.get(uid)

    def _on_bridgeleave(self, ev: BridgeLeave, when: float | None) -> None:
        self._call_for(ev.channel, when)
        uid = ev.channel.uniqueid
        if self._chan_bridge.get(uid) == ev.bridge_id:
            del self._chan_bridge[uid]
        self._leave_bridge(ev.bridge_id, uid)

    def _leave_bridge(self, bridge: str, uid: str) -> None:
        members = self._bridges.get(bridge)
        if members is not None:
            members.discard(uid)
            if not members:
                del self._bridges[bridge]

    # --- queue caller events ----------------------------------------------------------------------------

    def _on_join(self, ev: QueueCallerJoin, when: float | None) -> None:
        snap = ev.channel
        call = self._call_for(snap, when)
        q = self._queue(ev.queue)
        q.waiting[snap.uniqueid] = WaitingCaller(
            uniqueid=snap.uniqueid,
            linkedid=snap.linkedid,
            channel=snap.channel,
            caller_number=(call.record.caller_number if call else None)
            or (snap.caller_id_num if _known(snap.caller_id_num) else None),
            joined_at=_dt(when),
            priority=call.record.priority if call else None,
            position=ev.position,
        )
        self._out.append(QueueChanged(ev.queue))
        if call is None:
            return
        call.queued = True
        call.join_ts = when
        call.leave_ts = None
        call.queue_status = None
        call.abandon_seen = False
        rec = call.record
        rec.queue = ev.queue
        rec.queue_joined_at = _dt(when)
        if not call.ivr_ended:
            call.ivr_ended = True
            rec.ivr_ended_at = _dt(when)
        self._changed(call)

    def _on_leave(self, ev: QueueCallerLeave, when: float | None) -> None:
        snap = ev.channel
        call = self._call_for(snap, when)
        q = self._queue(ev.queue)
        if q.waiting.pop(snap.uniqueid, None) is not None:
            self._out.append(QueueChanged(ev.queue))
        if call is not None:
            call.leave_ts = when

    def _on_abandon(self, ev: QueueCallerAbandon, when: float | None) -> None:
        snap = ev.channel
        call = self._call_for(snap, when)
        q = self._queue(ev.queue)
        if q.waiting.pop(snap.uniqueid, None) is not None:
            self._out.append(QueueChanged(ev.queue))
        if call is None:
            return
        call.queued = True
        call.abandon_seen = True
        call.leave_ts = when
        rec = call.record
        rec.queue = ev.queue
        if ev.hold_time is not None:
            rec.wait_seconds = float(ev.hold_time)
        if self._close_ringing_attempts(call, when):
            self._changed(call)

    # --- agent events -----------------------------------------------------------------------------------

    def _attempt_for(self, call: _Call, ev: AgentCalled | AgentConnect, when: float | None) -> AgentAttempt:
        attempt = AgentAttempt(
            seq=len(call.record.attempts) + 1,
            queue=ev.queue,
            agent=ev.member_name,
            interface=ev.interface,
            called_at=_dt(when),
        )
        call.record.attempts.append(attempt)
        if when is not None:
            call.attempt_ts[attempt.seq] = when
        call.open_attempts[ev.interface] = attempt
        if ev.dest is not None:
            call.dest_attempt[ev.dest.uniqueid] = attempt
        return attempt

    def _on_agentcalled(self, ev: AgentCalled, when: float | None) -> None:
        call = self._call_for(ev.channel, when)
        if ev.dest is not None:
            self._call_for(ev.dest, when)
        if call is None:
            return
        previous = call.open_attempts.get(ev.interface)
        if previous is not None and previous.outcome is AttemptOutcome.CALLED:
            previous.outcome = AttemptOutcome.NO_ANSWER
        self._attempt_for(call, ev, when)
        self._changed(call)

    def _on_ringnoanswer(self, ev: AgentRingNoAnswer, when: float | None) -> None:
        call = self._call_for(ev.channel, when)
        if call is None:
            return
        attempt = call.open_attempts.pop(ev.interface, None)
        if attempt is None or attempt.outcome is not AttemptOutcome.CALLED:
            return
        attempt.outcome = AttemptOutcome.NO_ANSWER
        if ev.ring_time_ms is not None:
            attempt.ring_seconds = ev.ring_time_ms / 1000.0
        else:
            start = call.attempt_ts.get(attempt.seq)
            if start is not None and when is not None:
                attempt.ring_seconds = max(0.0, when - start)
        self._changed(call)

    def _on_agentconnect(self, ev: AgentConnect, when: float | None) -> None:
        call = self._call_for(ev.channel, when)
        if ev.dest is not None:
            self._call_for(ev.dest, when)
        if call is None:
            return
        attempt = call.open_attempts.get(ev.interface)
        if attempt is None or attempt.outcome is not AttemptOutcome.CALLED:
            attempt = self._attempt_for(call, ev, when)
            attempt.called_at = None  # AgentCalled was not seen
        attempt.outcome = AttemptOutcome.CONNECTED
        attempt.connected_at = _dt(when)
        if when is not None:
            call.attempt_ts[attempt.seq] = when
        if ev.ring_time is not None:
            attempt.ring_seconds = float(ev.ring_time)
        self._close_ringing_attempts(call, when, keep=attempt)
        rec = call.record
        rec.queue = ev.queue
        q = self._queue(ev.queue)
        q.waiting.pop(call.caller_uid, None)
        if not call.answered:
            call.answered = True
            call.answer_ts = when
            q.answered += 1
            rec.answered_at = _dt(when)
            rec.agent = ev.member_name
            rec.agent_interface = ev.interface
            if ev.hold_time is not None:
                rec.wait_seconds = float(ev.hold_time)
            elif call.join_ts is not None and when is not None:
                rec.wait_seconds = max(0.0, when - call.join_ts)
        member = q.members.get(ev.interface)
        if member is not None:
            member.in_call = True
            self._out.append(MemberChanged(ev.queue, ev.interface))
        self._out.append(QueueChanged(ev.queue))
        self._changed(call)

    def _on_agentcomplete(self, ev: AgentComplete, when: float | None) -> None:
        call = self._call_for(ev.channel, when)
        if call is None:
            return
        attempt = call.open_attempts.pop(ev.interface, None)
        if attempt is None:
            for candidate in reversed(call.record.attempts):
                if candidate.interface == ev.interface and candidate.outcome is AttemptOutcome.CONNECTED:
                    attempt = candidate
                    break
        if attempt is not None:
            attempt.outcome = AttemptOutcome.COMPLETED
            attempt.ended_at = _dt(when)
            attempt.end_reason = ev.reason or None
            if ev.talk_time is not None:
                attempt.talk_seconds = float(ev.talk_time)
            else:
                start = call.attempt_ts.get(attempt.seq)
                if start is not None and when is not None:
                    attempt.talk_seconds = max(0.0, when - start)
        if (
            ev.talk_time is not None
            and call.talk_time is None
            and ev.interface == call.record.agent_interface
        ):
            call.talk_time = ev.talk_time
            call.record.talk_seconds = float(ev.talk_time)
        member = self._queue(ev.queue).members.get(ev.interface)
        if member is not None:
            member.in_call = False
            self._out.append(MemberChanged(ev.queue, ev.interface))
        self._changed(call)

    def _on_agentdump(self, ev: AgentDump, when: float | None) -> None:
        call = self._call_for(ev.channel, when)
        if call is None:
            return
        attempt = call.open_attempts.pop(ev.interface, None)
        if attempt is not None:
            attempt.outcome = AttemptOutcome.NO_ANSWER
            attempt.end_reason = "dump"
            self._changed(call)

    # --- queue and member state -------------------------------------------------------------------------

    def _on_member(self, ev: QueueMemberEvent, when: float | None) -> None:
        q = self._queue(ev.queue)
        if ev.kind == "removed":
            q.members.pop(ev.interface, None)
            self._out.append(MemberChanged(ev.queue, ev.interface))
            return
        m = q.members.get(ev.interface)
        if m is None:
            m = q.members[ev.interface] = _Member(ev.interface, ev.member_name)
        m.member_name = ev.member_name or m.member_name
        if ev.state_interface:
            m.state_interface = ev.state_interface
        if ev.membership:
            m.membership = ev.membership
        if ev.status is not None:
            m.status = ev.status
        if ev.paused is not None:
            m.paused = ev.paused
            m.paused_reason = ev.paused_reason if ev.paused else ""
        if ev.in_call is not None:
            m.in_call = ev.in_call
        if ev.calls_taken is not None:
            m.calls_taken = ev.calls_taken
        if ev.penalty is not None:
            m.penalty = ev.penalty
        self._out.append(MemberChanged(ev.queue, ev.interface))

    def _on_queueparams(self, ev: QueueParams, when: float | None) -> None:
        q = self._queue(ev.queue)
        q.strategy = ev.strategy or q.strategy
        self._out.append(QueueChanged(ev.queue))

    def _on_queueentry(self, ev: QueueEntry, when: float | None) -> None:
        """Rebuild hook (QueueStatus after a restart): one waiting caller."""
        q = self._queue(ev.queue)
        lid = self._chan_call.get(ev.uniqueid)
        call = self._calls.get(lid) if lid is not None else None
        joined = when - ev.wait if when is not None and ev.wait is not None else None
        q.waiting[ev.uniqueid] = WaitingCaller(
            uniqueid=ev.uniqueid,
            linkedid=lid,
            channel=ev.channel,
            caller_number=ev.caller_id_num if _known(ev.caller_id_num) else None,
            joined_at=_dt(joined),
            priority=ev.priority,
            position=ev.position,
        )
        if call is not None and not call.queued:
            call.queued = True
            call.join_ts = joined
            call.record.queue = ev.queue
            call.record.queue_joined_at = _dt(joined)
            call.ivr_ended = True
            self._changed(call)
        self._out.append(QueueChanged(ev.queue))

    def _on_coreshowchannel(self, ev: CoreShowChannel, when: float | None) -> None:
        """Rebuild hook (CoreShowChannels after a restart): a channel already up."""
        snap = ev.channel
        call = self._calls.get(snap.linkedid)
        if call is None:
            # arrival time unknown (the call was up before the restart), but the channel was seen now:
            # without last_activity, sweep would only stamp it and a dead call would linger max_idle more
            self._new_call(snap, None).last_activity = when
        else:
            self._call_for(snap, when)
            if snap.uniqueid == snap.linkedid and call.caller_uid != snap.uniqueid:
                self._set_caller(call, snap)
        if ev.bridge_id:
            self._bridges.setdefault(ev.bridge_id, set()).add(snap.uniqueid)
            self._chan_bridge[snap.uniqueid] = ev.bridge_id

    # --- end of a call ----------------------------------------------------------------------------------

    def _forget(self, lid: str, call: _Call) -> None:
        self._calls.pop(lid, None)
        for uid in call.channels:
            if self._chan_call.get(uid) == lid:
                del self._chan_call[uid]
                self._chan_name.pop(uid, None)
            bridge = self._chan_bridge.pop(uid, None)
            if bridge is not None:
                self._leave_bridge(bridge, uid)
        for q in self._queues.values():
            if q.waiting.pop(call.caller_uid, None) is not None:
                self._out.append(QueueChanged(q.name))

    def _finish(self, lid: str, call: _Call, when: float | None) -> None:
        rec = call.record
        rec.ended_at = _dt(when)
        if call.answered:
            disposition = Disposition.ANSWERED
        elif call.hotline_disposition is not None:
            disposition = call.hotline_disposition
        elif call.queue_status in QUEUE_GAVE_UP:
            disposition = Disposition.QUEUE_TIMEOUT
        elif call.callback_booked:
            disposition = Disposition.QUEUE_CALLBACK if call.queued else Disposition.IVR_CALLBACK
        elif call.queued:
            disposition = Disposition.ABANDONED
        elif call.hotline:
            disposition = Disposition.IVR_HANGUP
        elif call.caller_cancelled:
            disposition = Disposition.ABANDONED
        else:
            disposition = Disposition.UNANSWERED
        rec.disposition = disposition
        if rec.queue is not None and call.queued:
            q = self._queue(rec.queue)
            if disposition is Disposition.ABANDONED:
                q.abandoned += 1
            elif disposition is Disposition.QUEUE_TIMEOUT:
                q.timed_out += 1
        # wait and talk from timestamps when app_queue did not report them
        if rec.wait_seconds is None:
            if call.queued and call.join_ts is not None:
                end = (
                    call.answer_ts
                    if call.answered
                    else (call.leave_ts if call.leave_ts is not None else when)
                )
                if end is not None:
                    rec.wait_seconds = max(0.0, end - call.join_ts)
            elif not call.queued and call.arrived_ts is not None:
                end = call.answer_ts if call.answered else when
                if end is not None and (call.answered or disposition is Disposition.ABANDONED):
                    rec.wait_seconds = max(0.0, end - call.arrived_ts)
        if call.answered and rec.talk_seconds is None and call.answer_ts is not None and when is not None:
            rec.talk_seconds = max(0.0, when - call.answer_ts)
        for attempt in rec.attempts:
            if attempt.outcome is AttemptOutcome.CALLED:
                attempt.outcome = AttemptOutcome.NO_ANSWER
                start = call.attempt_ts.get(attempt.seq)
                if start is not None and when is not None:
                    attempt.ring_seconds = max(0.0, when - start)
            elif attempt.outcome is AttemptOutcome.CONNECTED:
                attempt.outcome = AttemptOutcome.COMPLETED
                attempt.ended_at = _dt(when)
                start = call.attempt_ts.get(attempt.seq)
                if attempt.talk_seconds is None and start is not None and when is not None:
                    attempt.talk_seconds = max(0.0, when - start)
        self._forget(lid, call)
        self._out.append(_call_ended(_copy(rec)))
