"""Every overflow decision, as it was made: the supervisors' audit trail of seats opened and closed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, Identity, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.db.models import TS, Base


class OverflowDecisionRow(Base):
    __tablename__ = "overflow_decisions"
    __table_args__ = (Index("ix_overflow_decisions_decided_at", "decided_at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    decided_at: Mapped[datetime] = mapped_column(TS)
    extension: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))  # open / close / close-after-call / override-*
    reason: Mapped[str] = mapped_column(Text)
    by: Mapped[str | None] = mapped_column(String(64))  # the supervisor, None for the controller
    active_seats: Mapped[int] = mapped_column(Integer)
    wanted_seats: Mapped[int] = mapped_column(Integer)
    predicted_service_level: Mapped[float | None] = mapped_column(Float)
    applied: Mapped[bool] = mapped_column(Boolean, default=True)  # False: the AMI action failed
