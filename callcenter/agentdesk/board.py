"""Every agent's live state, kept by feeding ``agents.state.transition`` and executing what it returns.

Facts come from AMI (``on_event``, a listener of the live feed): AgentCalled → ``Ring``, AgentConnect →
``Answer``, AgentRingNoAnswer → ``RingTimeout``, AgentComplete → ``HangUp``; the caller hanging up (or
another member answering) while an agent rings → ``RingCancelled``. Requests come from the panel and the
wallboard (``request``): the transition is checked first, the new status is taken at once (so the
QueueMember events our own commands cause find the agent already where the request put it), the commands are
executed over AMI, and a failed command puts the old status back. Wrap-up ends by time: ``run`` ticks
``due_event`` for every agent.

Members added, paused or removed by someone else (the old desk endpoints, a restart, the CLI) are adopted:
a QueueMemberAdded/QueueMember for a logged-out agent logs them in without commands (paused if app_queue
says so); a QueueMemberPause flips a ready agent to paused and a paused one to ready; a QueueMemberRemoved
for a logged-in agent not on a call logs them out. After a (re)connect the feed's rebuild lists QueueStatus
to every listener; ``resync`` does the same for a board on its own.
Illegal facts are logged and dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from agents.state import (
    AgentEvent,
    AgentState,
    AgentStatus,
    Answer,
    ForceLogOut,
    HangUp,
    IllegalTransition,
    LogIn,
    Pause,
    PauseReason,
    QueueAdd,
    QueueMembership,
    QueuePause,
    QueueRemove,
    Ready,
    Ring,
    RingCancelled,
    RingTimeout,
    due_event,
    logged_out,
    transition,
)
from callcenter.ami.actions import AmiActions
from callcenter.ami.connection import AmiActionError
from callcenter.ami.events import (
    AgentCalled,
    AgentComplete,
    AgentConnect,
    AgentRingNoAnswer,
    AmiEvent,
    Hangup,
    QueueCallerAbandon,
    QueueMemberEvent,
    TranslationError,
    translate,
)
from callcenter.ami.framing import AmiMessage
from callcenter.desk import UnknownAgentError
from routing.plan import AgentPlan, HotlinePlan
from routing.skills import memberships_of, plan_routing

log = logging.getLogger(__name__)

__all__ = ["AgentBoard", "AgentView", "UnknownAgentError"]


@dataclass(frozen=True, slots=True)
class AgentView:
    """One agent as the pages see it (no caller number: the panel reads that over HTTP, per role)."""

    status: AgentStatus
    name: str
    member_channel: str | None  # the agent's leg of the current call (AgentConnect's DestChannel)

    def as_dict(self, now: datetime) -> dict[str, Any]:
        s = self.status
        return {
            "extension": s.extension,
            "name": self.name,
            "state": str(s.state),
            "since": s.since.isoformat(),
            "seconds_in_state": round(s.seconds_in_state(now), 1),
            "queues": list(s.queues),
            "pause_reason": None if s.pause_reason is None else str(s.pause_reason),
            "paused_by": s.paused_by,
            "pending_pause": None if s.pending_pause is None else str(s.pending_pause),
            "call_id": s.call_id,
            "call_queue": s.call_queue,
            "wrapup_until": None if s.wrapup_until is None else s.wrapup_until.isoformat(),
            "answered_today": s.counters.answered,
            "missed_today": s.counters.missed,
            "talk_seconds_today": round(s.counters.talk_seconds, 1),
        }


def _extension(interface: str, member_name: str) -> str:
    """``PJSIP/1002`` → ``1002``; falls back to the member name."""
    if "/" in interface:
        return interface.split("/", 1)[1]
    return member_name or interface


class AgentBoard:
    def __init__(
        self,
        actions: AmiActions,
        plan: Callable[[], HotlinePlan],
        publish: Callable[[Mapping[str, Any]], None],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        tick_seconds: float = 0.25,
        observe: Callable[[AgentStatus], None] | None = None,
    ) -> None:
        self._actions = actions
        self._observe = observe  # every status taken (the occupancy recorder); must not block
        self._plan = plan
        self._publish = publish
        self._clock = clock
        self._tick = tick_seconds
        self._status: dict[str, AgentStatus] = {}
        self._member_channel: dict[str, str] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    # -- reading -----------------------------------------------------------------------------------
    def agent_plan(self, extension: str) -> AgentPlan:
        agent = next((a for a in self._plan().agents if a.extension == extension), None)
        if agent is None:
            raise UnknownAgentError(extension)
        return agent

    def status(self, extension: str) -> AgentStatus:
        self.agent_plan(extension)
        return self._status.get(extension) or logged_out(extension, self._clock())

    def view(self, extension: str) -> AgentView:
        agent = self.agent_plan(extension)
        return AgentView(self.status(extension), agent.name, self._member_channel.get(extension))

    def views(self) -> list[AgentView]:
        return [self.view(a.extension) for a in self._plan().agents]

    def now(self) -> datetime:
        return self._clock()

    # -- requests from the pages -------------------------------------------------------------------
    def memberships(self, extension: str) -> tuple[QueueMembership, ...]:
        self.agent_plan(extension)
        # queues and penalties from skills and languages, as the desk applies them (routing/skills.py)
        members = memberships_of(extension, plan_routing(self._plan()))
        return tuple(QueueMembership(m.queue, m.penalty) for m in members)

    async def request(self, extension: str, event: AgentEvent) -> AgentStatus:
        """Carry out an agent's or supervisor's request; ``IllegalTransition`` when it makes no sense now,
        ``AmiActionError``/``AmiDisconnected`` when Asterisk refused (the old status is kept then)."""
        self.agent_plan(extension)
        lock = self._locks.setdefault(extension, asyncio.Lock())
        async with lock:
            before = self.status(extension)
            step = transition(before, event, self._clock())
            self._set(step.status)
            try:
                for command in step.commands:
                    await self._execute(command)
            except BaseException:
                self._set(before)
                raise
            return step.status

    async def _execute(self, command: QueueAdd | QueueRemove | QueuePause) -> None:
        if isinstance(command, QueueAdd):
            try:
                await self._actions.queue_add(
                    command.queue,
                    command.interface,
                    member_name=command.member_name,
                    penalty=command.penalty,
                    paused=command.paused,
                    state_interface=command.interface,
                )
            except AmiActionError as exc:
                if "Already there" not in str(exc):
                    raise
        elif isinstance(command, QueueRemove):
            try:
                await self._actions.queue_remove(command.queue, command.interface)
            except AmiActionError as exc:
                if "Not there" not in str(exc):
                    raise
        else:
            await self._actions.queue_pause(command.interface, command.paused, reason=command.reason or None)

    async def resync(self) -> int:
        """For a board without a live feed: learn the members Asterisk has (QueueStatus), adopting agents
        logged in elsewhere; returns how many member items were read. (The service's board hears the
        feed's own QueueStatus after every (re)connect instead.)"""
        response = await self._actions.queue_status()
        for item in response.events:
            self.on_message(item)
        return len(response.events)

    # -- the wrap-up timer -------------------------------------------------------------------------
    def tick(self) -> int:
        """Apply every time-driven event that is due; how many agents moved."""
        now = self._clock()
        moved = 0
        for status in list(self._status.values()):
            event = due_event(status, now)
            if event is not None:
                self._fact(status.extension, event)
                moved += 1
        return moved

    async def run(self) -> None:
        """The timer task (owned by ``Hotline``)."""
        while True:
            await asyncio.sleep(self._tick)
            try:
                self.tick()
            except Exception:
                log.exception("agent wrap-up timer failed")

    # -- facts from AMI ----------------------------------------------------------------------------
    def on_message(self, msg: AmiMessage) -> None:
        """A raw AMI message (a board without a live feed: :meth:`resync`)."""
        try:
            event = translate(msg)
        except TranslationError:
            return  # the live feed logs it
        if event is not None:
            self.on_event(event)

    def on_event(self, event: AmiEvent) -> None:
        """A typed AMI event, as the live feed hands it to its listeners (the service's way in)."""
        if isinstance(event, AgentCalled):
            ext = _extension(event.interface, event.member_name)
            qplan = self._plan().queue(event.queue)
            self._fact(
                ext,
                Ring(
                    event.channel.linkedid,
                    event.queue,
                    qplan.wrapup_seconds if qplan is not None else 0,
                ),
            )
        elif isinstance(event, AgentConnect):
            ext = _extension(event.interface, event.member_name)
            if event.dest is not None:
                self._member_channel[ext] = event.dest.channel
            self._fact(ext, Answer(event.channel.linkedid))
            self._cancel_rings(event.channel.linkedid, but=ext)
        elif isinstance(event, AgentRingNoAnswer):
            ext = _extension(event.interface, event.member_name)
            if self._ringing(ext, event.channel.linkedid):
                self._fact(ext, RingTimeout())
        elif isinstance(event, AgentComplete):
            ext = _extension(event.interface, event.member_name)
            self._member_channel.pop(ext, None)
            if self._known(ext) and self.status(ext).state is AgentState.ON_CALL:
                self._fact(ext, HangUp())
        elif isinstance(event, QueueCallerAbandon):
            self._cancel_rings(event.channel.linkedid)
        elif isinstance(event, Hangup):
            if event.channel.uniqueid == event.channel.linkedid:  # the caller's own channel
                self._cancel_rings(event.channel.linkedid)
        elif isinstance(event, QueueMemberEvent):
            self._member(event)

    def _known(self, extension: str) -> bool:
        return any(a.extension == extension for a in self._plan().agents)

    def _ringing(self, extension: str, call_id: str) -> bool:
        status = self._status.get(extension)
        return status is not None and status.state is AgentState.RINGING and status.call_id == call_id

    def _cancel_rings(self, call_id: str, but: str | None = None) -> None:
        for ext, status in list(self._status.items()):
            if ext != but and status.state is AgentState.RINGING and status.call_id == call_id:
                self._fact(ext, RingCancelled())

    def _member(self, event: QueueMemberEvent) -> None:
        ext = _extension(event.interface, event.member_name)
        if not self._known(ext):
            return
        state = self.status(ext).state
        if event.kind in ("added", "listed") and state is AgentState.LOGGED_OUT:
            self._fact(ext, LogIn(self.memberships(ext)))
            if event.paused:
                reasons = {str(r): r for r in PauseReason}
                self._fact(ext, Pause(reasons.get(event.paused_reason, PauseReason.BREAK)))
        elif event.kind == "pause" and event.paused and state is AgentState.READY:
            reasons = {str(r): r for r in PauseReason}  # paused by someone else (CLI, another tool)
            self._fact(ext, Pause(reasons.get(event.paused_reason, PauseReason.BREAK)))
        elif event.kind == "pause" and event.paused is False and state is AgentState.PAUSED:
            self._fact(ext, Ready())
        elif event.kind == "removed" and state in (
            AgentState.READY,
            AgentState.PAUSED,
            AgentState.WRAP_UP,
        ):
            self._fact(ext, ForceLogOut(by="pbx"))

    def _fact(self, extension: str, event: AgentEvent) -> None:
        """A fact already true in Asterisk: take the new status, run no command."""
        if not self._known(extension):
            return
        try:
            step = transition(self.status(extension), event, self._clock())
        except IllegalTransition as exc:
            log.info("agent fact dropped: %s", exc)
            return
        self._set(step.status)

    def _set(self, status: AgentStatus) -> None:
        self._status[status.extension] = status
        if self._observe is not None:
            try:
                self._observe(status)
            except Exception:
                log.exception("recording agent %s's state failed", status.extension)
        try:
            self._publish(self.view(status.extension).as_dict(self._clock()))
        except Exception:
            log.exception("publishing agent %s failed", status.extension)
