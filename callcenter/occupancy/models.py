"""``agent_state_intervals``: one row per closed agent state (who, which state, from, until)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Identity, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.db.models import TS, Base


class AgentStateInterval(Base):
    """An agent was in ``state`` from ``started_at`` until ``ended_at`` (logged-out time is not kept)."""

    __tablename__ = "agent_state_intervals"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    agent: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(TS)
    ended_at: Mapped[datetime] = mapped_column(TS)

    __table_args__ = (
        Index("ix_agent_state_intervals_started_at", "started_at"),
        Index("ix_agent_state_intervals_agent_started_at", "agent", "started_at"),
    )
