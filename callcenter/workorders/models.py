"""Tables of the work orders: the organisation tree, the orders, and every step of their history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Identity, Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.db.models import Base

TS = DateTime(timezone=True)


class OrgUnit(Base):
    """A unit of the follow-up organisation (region → league/city → banner/county), seeded on start."""

    __tablename__ = "org_units"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    tier: Mapped[str] = mapped_column(String(32))
    parent_code: Mapped[str | None] = mapped_column(String(64), ForeignKey("org_units.code"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class WorkOrder(Base):
    """One case: what the caller needed, who follows it up, until when, and how it ended."""

    __tablename__ = "work_orders"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    linkedid: Mapped[str | None] = mapped_column(String(64), unique=True)
    caller_number: Mapped[str | None] = mapped_column(String(64))
    queue: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(8))
    agent: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=1)
    service_line: Mapped[str] = mapped_column(String(64))
    topic: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text, default="")
    risk_level: Mapped[str] = mapped_column(String(16), default="none")
    risk_checklist: Mapped[list[str]] = mapped_column(JSONB, default=list)
    disposition: Mapped[str | None] = mapped_column(String(16))
    age_band: Mapped[str | None] = mapped_column(String(16))
    gender: Mapped[str | None] = mapped_column(String(16))
    identity: Mapped[str | None] = mapped_column(String(16))
    region: Mapped[str | None] = mapped_column(String(64))
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    unit_code: Mapped[str | None] = mapped_column(String(64), ForeignKey("org_units.code"))
    referred_at: Mapped[datetime | None] = mapped_column(TS)
    deadline_at: Mapped[datetime | None] = mapped_column(TS)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    escalated_to: Mapped[str | None] = mapped_column(String(64), ForeignKey("org_units.code"))
    escalation_due_at: Mapped[datetime | None] = mapped_column(TS)
    followed_up_at: Mapped[datetime | None] = mapped_column(TS)
    closed_at: Mapped[datetime | None] = mapped_column(TS)
    result: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())

    __table_args__ = (
        Index("ix_work_orders_caller_number", "caller_number"),
        Index("ix_work_orders_status", "status"),
        Index("ix_work_orders_unit_code", "unit_code"),
        Index("ix_work_orders_escalation_due_at", "escalation_due_at"),
        Index("ix_work_orders_created_at", "created_at"),
    )


class WorkOrderEvent(Base):
    """One step in a work order's history: who did what, when, from which status, with which note."""

    __tablename__ = "work_order_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    work_order_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("work_orders.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(TS)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    unit_code: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSONB)

    __table_args__ = (Index("ix_work_order_events_work_order_id", "work_order_id"),)
