"""What the HTTP API returns: stable, documented shapes (they are API contract)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class CallOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    linkedid: str
    uniqueid: str
    caller_number: str | None
    dialled_number: str | None
    language: str | None
    menu_path: str | None
    queue: str | None
    priority: int | None
    arrived_at: datetime | None
    ivr_ended_at: datetime | None
    queue_joined_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    wait_seconds: float | None
    talk_seconds: float | None
    disposition: str | None
    agent: str | None
    hangup_cause: int | None


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    queue: str
    agent: str
    interface: str
    outcome: str
    called_at: datetime | None
    ring_seconds: float | None
    connected_at: datetime | None
    ended_at: datetime | None
    talk_seconds: float | None
    end_reason: str | None


class CallDetailOut(CallOut):
    attempts: list[AttemptOut]


class WaitingCallerOut(BaseModel):
    linkedid: str
    caller_number: str | None
    priority: int
    waiting_seconds: float | None


class MemberOut(BaseModel):
    interface: str
    name: str
    status: str
    paused: bool
    in_call: bool
    calls_taken: int


class QueueOut(BaseModel):
    name: str
    service_line: str | None
    language: str | None
    waiting: int
    longest_wait_seconds: float | None
    callers: list[WaitingCallerOut]
    members: list[MemberOut]
    available: int


class HealthOut(BaseModel):
    status: str
    ami_connected: bool
    database_pending_writes: int


class ErrorOut(BaseModel):
    error: str
    detail: str
