"""The recordings' tables: one recording per call (by ``linkedid``) and the access audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Identity, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.db.models import TS, Base


class Recording(Base):
    """The recording of one answered call: where the stored file is and what it holds.

    ``status``: ``stored`` (converted, verified, the original removed), ``failed`` (the original kept for a
    person to look at; ``error`` says why), ``purged`` (removed by the retention policy; the row stays as
    the record of what existed and when it went)."""

    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    linkedid: Mapped[str] = mapped_column(
        String(64), ForeignKey("calls.linkedid", ondelete="CASCADE"), unique=True
    )
    status: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(64))
    original_path: Mapped[str | None] = mapped_column(Text)  # MixMonitor's file while it is kept
    path: Mapped[str | None] = mapped_column(Text)  # the stored (converted) file
    format: Mapped[str | None] = mapped_column(String(16))  # opus, mp3, wav
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))  # of the stored bytes (encrypted when encrypted)
    encrypted: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    call_ended_at: Mapped[datetime | None] = mapped_column(TS)  # retention counts from here
    created_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())
    stored_at: Mapped[datetime | None] = mapped_column(TS)
    purged_at: Mapped[datetime | None] = mapped_column(TS)

    __table_args__ = (Index("ix_recordings_status_ended", "status", "call_ended_at"),)


class RecordingAccess(Base):
    """Who played or downloaded which call's recording, and when (refused attempts too)."""

    __tablename__ = "recording_access_log"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    linkedid: Mapped[str] = mapped_column(String(64))  # no foreign key: the log outlives the call row
    user_id: Mapped[int] = mapped_column(BigInteger)
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))  # play, download, denied
    byte_range: Mapped[str | None] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(TS, server_default=func.now())

    __table_args__ = (
        Index("ix_recording_access_log_linkedid", "linkedid", "at"),
        Index("ix_recording_access_log_user", "user_id", "at"),
    )
