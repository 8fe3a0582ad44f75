"""Transfers of calls to the other public hotlines, recorded on the call."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Identity, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.db.models import TS, Base


class CallTransferRow(Base):
    __tablename__ = "call_transfers"
    __table_args__ = (Index("ix_call_transfers_linkedid", "linkedid"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    linkedid: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(16))  # the external hotline's key: 110, 12348 …
    mode: Mapped[str] = mapped_column(String(16))  # blind / attended
    channel: Mapped[str] = mapped_column(String(128))  # the channel that was redirected or transferred
    requested_by: Mapped[str | None] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(TS)
    status: Mapped[str] = mapped_column(String(16))  # sent / failed
    error: Mapped[str | None] = mapped_column(Text)
