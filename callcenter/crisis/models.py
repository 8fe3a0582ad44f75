"""Risk flags on calls: a crisis call is high risk, with who or what marked it and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.db.models import TS, Base


class CallRiskRow(Base):
    """One row per flagged call (keyed by linkedid, no foreign key: the flag may come before the call's
    first row is written)."""

    __tablename__ = "call_risk"

    linkedid: Mapped[str] = mapped_column(String(64), primary_key=True)
    risk_level: Mapped[str] = mapped_column(String(16))  # "high" for a crisis
    source: Mapped[str] = mapped_column(String(16))  # "ivr" (HOTLINE_ACTION=crisis) or "panel"
    marked_by: Mapped[str | None] = mapped_column(String(64))
    marked_at: Mapped[datetime] = mapped_column(TS)
    police_at: Mapped[datetime | None] = mapped_column(TS)  # when the call was linked to 110
    police_mode: Mapped[str | None] = mapped_column(String(16))
