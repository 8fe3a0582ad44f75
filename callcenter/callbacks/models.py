"""Callback tasks and every attempt at one, linked to the calls they came from and the calls they made."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Identity, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.db.models import TS, Base


class CallbackTaskRow(Base):
    __tablename__ = "callback_tasks"
    __table_args__ = (Index("ix_callback_tasks_number_status", "number", "status"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # "cb-17" as the pure book names it
    number: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(TS)
    due_at: Mapped[datetime] = mapped_column(TS)
    first_due_at: Mapped[datetime] = mapped_column(TS)
    # linkedids of the missed calls, comma-separated, oldest first
    call_ids: Mapped[str] = mapped_column(Text)
    sources: Mapped[str] = mapped_column(Text)
    queue: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(8))
    crisis: Mapped[bool] = mapped_column(Boolean, default=False)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    first_attempt_at: Mapped[datetime | None] = mapped_column(TS)
    last_outcome: Mapped[str | None] = mapped_column(String(16))
    assigned_to: Mapped[str | None] = mapped_column(String(32))
    closed_at: Mapped[datetime | None] = mapped_column(TS)
    answered_call_id: Mapped[str | None] = mapped_column(String(64))


class CallbackAttemptRow(Base):
    __tablename__ = "callback_attempts"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(32), ForeignKey("callback_tasks.id", ondelete="CASCADE"))
    agent: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(TS)
    linkedid: Mapped[str | None] = mapped_column(String(64))  # the callback call, once Asterisk names it
    outcome: Mapped[str | None] = mapped_column(String(16))  # None while the attempt is under way
    ended_at: Mapped[datetime | None] = mapped_column(TS)
