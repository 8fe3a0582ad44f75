"""What the live model hands to persistence and to the pages: one record per call.

A call is everything that shares one Asterisk ``Linkedid`` (the Uniqueid of the oldest channel of the
call). The live model keeps one :class:`CallRecord` per call while it is up and hands out a copy each time
something a user would notice changes; ``disposition`` is set exactly once, when the call ends.
Persistence upserts by ``linkedid``, so replaying the same change twice writes nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Disposition(StrEnum):
    ANSWERED = "answered"  # an agent (or, outside queues, the called party) answered
    ABANDONED = "abandoned"  # the caller hung up while waiting in a queue or ringing
    QUEUE_TIMEOUT = "queue-timeout"  # the queue gave up (max wait, full, empty) and the dialplan went on
    QUEUE_CALLBACK = "queue-callback"  # the caller left the queue for a callback (the in-queue offer)
    IVR_CALLBACK = "ivr-callback"  # the caller booked a callback in the menu and never queued
    IVR_HANGUP = "ivr-hangup"  # the caller hung up in the menu, before any queue
    OUT_OF_HOURS = "out-of-hours"  # the IVR said the hotline is closed
    BLOCKED = "blocked"  # the IVR rejected a blocked number
    UNANSWERED = "unanswered"  # not a queue call and nobody answered (busy, rejected, failed)


class AttemptOutcome(StrEnum):
    CALLED = "called"  # ringing now
    NO_ANSWER = "no-answer"  # AgentRingNoAnswer, or the ring was cancelled
    CONNECTED = "connected"  # AgentConnect: talking now
    COMPLETED = "completed"  # AgentComplete: the talk ended


@dataclass(slots=True)
class AgentAttempt:
    """One ring of one agent for one call (app_queue's AgentCalled and what followed)."""

    seq: int  # 1, 2, ... within the call
    queue: str
    agent: str  # MemberName as app_queue reports it
    interface: str  # e.g. PJSIP/1002
    called_at: datetime | None
    outcome: AttemptOutcome = AttemptOutcome.CALLED
    ring_seconds: float | None = None
    connected_at: datetime | None = None
    ended_at: datetime | None = None
    talk_seconds: float | None = None
    end_reason: str | None = None  # AgentComplete Reason: caller / agent / transfer


@dataclass(slots=True)
class CallRecord:
    linkedid: str
    uniqueid: str  # the caller's channel
    channel: str | None = None
    caller_number: str | None = None
    caller_name: str | None = None
    dialled_number: str | None = None
    language: str | None = None
    menu_path: str | None = None
    queue: str | None = None  # the last queue the caller waited in
    priority: int | None = None
    arrived_at: datetime | None = None
    ivr_ended_at: datetime | None = None
    queue_joined_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    wait_seconds: float | None = None
    talk_seconds: float | None = None
    disposition: Disposition | None = None  # None while the call is up
    agent: str | None = None  # who answered: MemberName, or the answering device outside queues
    agent_interface: str | None = None
    hangup_cause: int | None = None
    attempts: list[AgentAttempt] = field(default_factory=list)

    @property
    def is_finished(self) -> bool:
        return self.disposition is not None


def call_summary(record: CallRecord) -> dict[str, object]:
    """What the live pages are sent about a call (numbers are masked per role by the pages' API)."""
    return {
        "linkedid": record.linkedid,
        "queue": record.queue,
        "language": record.language,
        "menu_path": record.menu_path,
        "priority": record.priority,
        "agent": record.agent,
        "disposition": None if record.disposition is None else str(record.disposition),
        "arrived_at": record.arrived_at,
        "answered_at": record.answered_at,
        "ended_at": record.ended_at,
    }
