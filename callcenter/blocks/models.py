"""Supervisor blocks, the screening log (every block and every rejected call) and out-of-hours messages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Identity, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.db.models import Base

TS = DateTime(timezone=True)


class CallerBlock(Base):
    """A number a supervisor blocked from the panel, with a reason and an optional expiry."""

    __tablename__ = "caller_blocks"
    __table_args__ = (Index("ix_caller_blocks_number", "number"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    number: Mapped[str] = mapped_column(String(64))  # national form (no +86 / 0086)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())
    expires_at: Mapped[datetime | None] = mapped_column(TS)  # None: until lifted
    lifted_at: Mapped[datetime | None] = mapped_column(TS)
    lifted_by: Mapped[str | None] = mapped_column(String(64))


class ScreeningLog(Base):
    """Every block, unblock, rejected call and repeat-caller flag."""

    __tablename__ = "caller_screening_log"
    __table_args__ = (Index("ix_caller_screening_log_number_at", "number", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(TS, server_default=func.now())
    event: Mapped[str] = mapped_column(String(16))  # block | unblock | rejected | repeat-caller
    number: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))  # panel | yaml | ivr
    reason: Mapped[str | None] = mapped_column(Text)
    linkedid: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(64))


class CallerArrival(Base):
    """Each call reaching the IVR, by number: what repeat-caller detection counts."""

    __tablename__ = "caller_arrivals"
    __table_args__ = (Index("ix_caller_arrivals_number_at", "number", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    number: Mapped[str] = mapped_column(String(64))
    linkedid: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(TS)


class VoiceMessage(Base):
    """A message left out of hours. Kept here until recordings/ stores IVR messages itself; linked to the
    callback request by the call's linkedid (the HotlineCallback UserEvent of the same call)."""

    __tablename__ = "voice_messages"
    __table_args__ = (Index("ix_voice_messages_linkedid", "linkedid"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    linkedid: Mapped[str] = mapped_column(String(64))
    number: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(Text)  # Asterisk's RECORD FILE name (without the format)
    format: Mapped[str] = mapped_column(String(8))
    duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())
