"""The agent state machine: one pure transition function, typed events in, a new status and AMI commands out.

States: logged-out, ready, ringing, on-call, wrap-up, paused (with a reason). The AMI adapter feeds it
facts (AgentCalled → ``Ring``, AgentConnect → ``Answer``, AgentComplete → ``HangUp`` …) and the agent's
or supervisor's requests (``LogIn``, ``Pause`` …), then executes the returned commands (``QueueAdd``,
``QueueRemove``, ``QueuePause``). Nothing here touches the network or reads the clock: ``now`` is passed in.

Rules that are not obvious from the table:

- Wrap-up ends by time only. app_queue enforces ``wrapuptime`` itself and AMI has no action to cut it
  short, so a ``Ready`` during wrap-up would be a lie; the agent may ``Pause`` (e.g. after-call-work)
  instead. ``WrapupDone`` is accepted once ``now >= wrapup_until``; ``due_event`` tells the adapter when.
- A pause asked for while ringing or on a call is *pending*: app_queue is told at once (a paused member
  keeps its current call and is offered no new one), and the agent lands in ``paused`` instead of
  ``ready`` when the call and its wrap-up are over. ``Ready`` while a pause is pending cancels it.
- An agent may not log out while ringing or on a call (hang up first); a supervisor's ``ForceLogOut`` works
  in every logged-in state. The call itself stays up on the phone: removing a member from a queue does not
  hang up its channel, so we stop tracking the agent and leave the caller alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum


class AgentState(StrEnum):
    LOGGED_OUT = "logged-out"
    READY = "ready"
    RINGING = "ringing"
    ON_CALL = "on-call"
    WRAP_UP = "wrap-up"
    PAUSED = "paused"


class PauseReason(StrEnum):
    BREAK = "break"
    MEETING = "meeting"
    TRAINING = "training"
    AFTER_CALL_WORK = "after-call-work"


# ---------------------------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class QueueMembership:
    """One queue the agent joins on log-in, with the penalty computed by ``routing.skills``."""

    queue: str
    penalty: int = 0


@dataclass(frozen=True, slots=True)
class LogIn:
    memberships: tuple[QueueMembership, ...]


@dataclass(frozen=True, slots=True)
class LogOut:
    pass


@dataclass(frozen=True, slots=True)
class Ready:
    pass


@dataclass(frozen=True, slots=True)
class Pause:
    reason: PauseReason


@dataclass(frozen=True, slots=True)
class Ring:
    """app_queue rings the agent (AgentCalled). ``wrapup_seconds`` is the ringing queue's plan value
    (``QueuePlan.wrapup_seconds``): it decides how long wrap-up lasts after this call."""

    call_id: str
    queue: str = ""
    wrapup_seconds: int = 0


@dataclass(frozen=True, slots=True)
class Answer:
    """AgentConnect. ``call_id`` (the Linkedid) is checked against the ringing call when given."""

    call_id: str | None = None


@dataclass(frozen=True, slots=True)
class RingTimeout:
    """AgentRingNoAnswer: the agent let it ring; counted as a missed offer."""


@dataclass(frozen=True, slots=True)
class RingCancelled:
    """The caller hung up or another member answered (ringall): not the agent's fault, not counted."""


@dataclass(frozen=True, slots=True)
class HangUp:
    """AgentComplete."""


@dataclass(frozen=True, slots=True)
class WrapupDone:
    pass


@dataclass(frozen=True, slots=True)
class ForcePause:
    """A supervisor pauses the agent; recorded with who did it. The agent may resume with ``Ready``."""

    reason: PauseReason
    by: str


@dataclass(frozen=True, slots=True)
class ForceLogOut:
    by: str


AgentEvent = (
    LogIn
    | LogOut
    | Ready
    | Pause
    | Ring
    | Answer
    | RingTimeout
    | RingCancelled
    | HangUp
    | WrapupDone
    | ForcePause
    | ForceLogOut
)


# -------------------------------------------------------------------------------------------- commands


@dataclass(frozen=True, slots=True)
class QueueAdd:
    queue: str
    interface: str
    penalty: int
    member_name: str
    paused: bool = False


@dataclass(frozen=True, slots=True)
class QueueRemove:
    queue: str
    interface: str


@dataclass(frozen=True, slots=True)
class QueuePause:
    """AMI QueuePause without ``Queue``: applies to every queue the interface is a member of."""

    interface: str
    paused: bool
    reason: str = ""


AmiCommand = QueueAdd | QueueRemove | QueuePause


# ------------------------------------------------------------------------------------------- the status


@dataclass(frozen=True, slots=True)
class DayCounters:
    """Per-day figures for the agent panel and wallboard; reset when ``now`` falls on another day."""

    day: date
    answered: int = 0
    missed: int = 0  # ring timeouts only
    talk_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class AgentStatus:
    extension: str
    state: AgentState
    since: datetime  # when the current state was entered
    counters: DayCounters
    queues: tuple[str, ...] = ()
    pause_reason: PauseReason | None = None  # set in PAUSED only
    paused_by: str | None = None  # supervisor who forced the pause, if any
    pending_pause: PauseReason | None = None  # asked for while ringing / on call / in wrap-up
    pending_paused_by: str | None = None
    call_id: str | None = None  # ringing, on-call and wrap-up
    call_queue: str | None = None
    call_wrapup_seconds: int = 0
    wrapup_until: datetime | None = None

    @property
    def interface(self) -> str:
        return f"PJSIP/{self.extension}"

    def seconds_in_state(self, now: datetime) -> float:
        return max(0.0, (now - self.since).total_seconds())


def logged_out(extension: str, now: datetime) -> AgentStatus:
    """A fresh agent, as the service knows it before the first log-in."""
    return AgentStatus(extension, AgentState.LOGGED_OUT, now, DayCounters(now.date()))


@dataclass(frozen=True, slots=True)
class Transition:
    status: AgentStatus
    commands: tuple[AmiCommand, ...] = ()


_Illegal = Callable[[str], "IllegalTransition"]


class IllegalTransition(Exception):
    """The event makes no sense in the agent's current state. The adapter maps it to HTTP 409 for requests
    from the panel, and logs and drops it for AMI facts (the live model resynchronises from QueueStatus)."""

    def __init__(self, status: AgentStatus, event: AgentEvent, why: str) -> None:
        self.state = status.state
        self.event = event
        self.why = why
        super().__init__(f"agent {status.extension}: cannot {event_name(event)} while {status.state}: {why}")


def event_name(event: AgentEvent) -> str:
    """``RingTimeout`` → ``ring_timeout``: the name used in messages and in the API."""
    name = type(event).__name__
    return "".join("_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name))


# ------------------------------------------------------------------------------------------ transitions


def apply(agent: AgentStatus, event: AgentEvent, now: datetime) -> AgentStatus:
    """The new status after ``event``; raises ``IllegalTransition``. See ``transition`` for the commands."""
    return transition(agent, event, now).status


def transition(agent: AgentStatus, event: AgentEvent, now: datetime) -> Transition:
    """The new status and the AMI commands the adapter must execute, in order."""
    agent = _roll_day(agent, now)
    state = agent.state

    def illegal(why: str) -> IllegalTransition:
        return IllegalTransition(agent, event, why)

    if state is AgentState.LOGGED_OUT:
        if isinstance(event, LogIn):
            return _log_in(agent, event, now)
        raise illegal("the agent is not logged in")
    if isinstance(event, LogIn):
        raise illegal("the agent is already logged in")
    if isinstance(event, ForceLogOut):
        return _log_out(agent, now)
    if isinstance(event, LogOut):
        if state in (AgentState.RINGING, AgentState.ON_CALL):
            raise illegal("hang up (or let the call ring out) before logging out")
        return _log_out(agent, now)
    if isinstance(event, Pause | ForcePause):
        return _pause(agent, event, now, illegal)
    if isinstance(event, Ready):
        return _ready(agent, now, illegal)
    if isinstance(event, Ring):
        if state is not AgentState.READY:
            raise illegal("only a ready agent is offered calls")
        return Transition(
            _enter(
                agent,
                AgentState.RINGING,
                now,
                call_id=event.call_id,
                call_queue=event.queue or None,
                call_wrapup_seconds=max(0, event.wrapup_seconds),
            )
        )
    if isinstance(event, Answer):
        if state is not AgentState.RINGING:
            raise illegal("no call is ringing")
        if event.call_id is not None and event.call_id != agent.call_id:
            raise illegal(f"the ringing call is {agent.call_id}, not {event.call_id}")
        counters = replace(agent.counters, answered=agent.counters.answered + 1)
        return Transition(_enter(agent, AgentState.ON_CALL, now, counters=counters))
    if isinstance(event, RingTimeout | RingCancelled):
        if state is not AgentState.RINGING:
            raise illegal("no call is ringing")
        counters = agent.counters
        if isinstance(event, RingTimeout):
            counters = replace(counters, missed=counters.missed + 1)
        return Transition(_available(replace(agent, counters=counters), now))
    if isinstance(event, HangUp):
        if state is not AgentState.ON_CALL:
            raise illegal("the agent is not on a call")
        talk = agent.counters.talk_seconds + agent.seconds_in_state(now)
        agent = replace(agent, counters=replace(agent.counters, talk_seconds=talk))
        if agent.call_wrapup_seconds <= 0:
            return Transition(_available(agent, now))
        until = now + timedelta(seconds=agent.call_wrapup_seconds)
        return Transition(_enter(agent, AgentState.WRAP_UP, now, wrapup_until=until))
    if isinstance(event, WrapupDone):
        if state is not AgentState.WRAP_UP:
            raise illegal("the agent is not in wrap-up")
        if agent.wrapup_until is not None and now < agent.wrapup_until:
            raise illegal(f"wrap-up runs until {agent.wrapup_until.isoformat()}")
        return Transition(_available(agent, now))
    raise TypeError(f"not an agent event: {event!r}")  # pragma: no cover - the union is exhaustive


def due_event(agent: AgentStatus, now: datetime) -> WrapupDone | None:
    """The time-driven event that is due at ``now``, if any: the adapter's timer calls this."""
    if agent.state is AgentState.WRAP_UP and agent.wrapup_until is not None and now >= agent.wrapup_until:
        return WrapupDone()
    return None


# ---------------------------------------------------------------------------------------------- helpers


def _roll_day(agent: AgentStatus, now: datetime) -> AgentStatus:
    if now.date() == agent.counters.day:
        return agent
    return replace(agent, counters=DayCounters(now.date()))


def _enter(agent: AgentStatus, state: AgentState, now: datetime, **changes: object) -> AgentStatus:
    return replace(agent, state=state, since=now, **changes)  # type: ignore[arg-type]


_ON_A_CALL = (AgentState.RINGING, AgentState.ON_CALL, AgentState.WRAP_UP)

_NO_CALL: dict[str, object] = {
    "call_id": None,
    "call_queue": None,
    "call_wrapup_seconds": 0,
    "wrapup_until": None,
}


def _available(agent: AgentStatus, now: datetime) -> AgentStatus:
    """Where an agent goes when a call (or an offer) is over: ready, or paused if a pause was pending.
    No command: a pending pause was already sent to app_queue when it was asked for."""
    if agent.pending_pause is not None:
        return _enter(
            agent,
            AgentState.PAUSED,
            now,
            pause_reason=agent.pending_pause,
            paused_by=agent.pending_paused_by,
            pending_pause=None,
            pending_paused_by=None,
            **_NO_CALL,
        )
    return _enter(agent, AgentState.READY, now, **_NO_CALL)


def _log_in(agent: AgentStatus, event: LogIn, now: datetime) -> Transition:
    queues = tuple(dict.fromkeys(m.queue for m in event.memberships))  # keep order, drop duplicates
    penalties = {m.queue: m.penalty for m in event.memberships}
    status = _enter(agent, AgentState.READY, now, queues=queues)
    commands = tuple(QueueAdd(q, agent.interface, penalties[q], member_name=agent.extension) for q in queues)
    return Transition(status, commands)


def _log_out(agent: AgentStatus, now: datetime) -> Transition:
    commands = tuple(QueueRemove(q, agent.interface) for q in agent.queues)
    status = AgentStatus(agent.extension, AgentState.LOGGED_OUT, now, agent.counters)
    return Transition(status, commands)


def _pause(
    agent: AgentStatus,
    event: Pause | ForcePause,
    now: datetime,
    illegal: _Illegal,
) -> Transition:
    by = event.by if isinstance(event, ForcePause) else None
    command = QueuePause(agent.interface, paused=True, reason=str(event.reason))
    state = agent.state
    if state is AgentState.RINGING and by is None:
        # The agent's own panel: answer or let it ring out first. A supervisor may still queue a pause.
        raise illegal("answer the ringing call or let it ring out first")
    if state in (AgentState.RINGING, AgentState.ON_CALL):
        return Transition(
            replace(agent, pending_pause=event.reason, pending_paused_by=by),
            (command,),
        )
    if state is AgentState.PAUSED and agent.pause_reason == event.reason and agent.paused_by == by:
        raise illegal(f"already paused for {event.reason}")
    status = _enter(
        agent,
        AgentState.PAUSED,
        now,
        pause_reason=event.reason,
        paused_by=by,
        pending_pause=None,
        pending_paused_by=None,
        **_NO_CALL,
    )
    return Transition(status, (command,))


def _ready(agent: AgentStatus, now: datetime, illegal: _Illegal) -> Transition:
    unpause = QueuePause(agent.interface, paused=False)
    state = agent.state
    if state is AgentState.PAUSED:
        status = _enter(agent, AgentState.READY, now, pause_reason=None, paused_by=None)
        return Transition(status, (unpause,))
    if state in _ON_A_CALL and agent.pending_pause is not None:
        return Transition(replace(agent, pending_pause=None, pending_paused_by=None), (unpause,))
    if state is AgentState.READY:
        raise illegal("the agent is already ready")
    if state is AgentState.WRAP_UP:
        raise illegal("app_queue enforces wrap-up; it ends by itself (pause for after-call work instead)")
    raise illegal("the agent is busy with a call")
