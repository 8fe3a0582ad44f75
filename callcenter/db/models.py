"""The database schema (PostgreSQL only). Alembic migrations in ``alembic/versions`` own it; ``alembic
check`` in the test suite keeps these models and the migrations equal."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


TS = DateTime(timezone=True)


class Call(Base):
    """One row per call (per Asterisk Linkedid)."""

    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    linkedid: Mapped[str] = mapped_column(String(64), unique=True)
    uniqueid: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(128))
    caller_number: Mapped[str | None] = mapped_column(String(64))
    caller_name: Mapped[str | None] = mapped_column(String(128))
    dialled_number: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(8))
    menu_path: Mapped[str | None] = mapped_column(String(128))
    queue: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[int | None] = mapped_column(Integer)
    arrived_at: Mapped[datetime | None] = mapped_column(TS)
    ivr_ended_at: Mapped[datetime | None] = mapped_column(TS)
    queue_joined_at: Mapped[datetime | None] = mapped_column(TS)
    answered_at: Mapped[datetime | None] = mapped_column(TS)
    ended_at: Mapped[datetime | None] = mapped_column(TS)
    wait_seconds: Mapped[float | None] = mapped_column(Float)
    talk_seconds: Mapped[float | None] = mapped_column(Float)
    disposition: Mapped[str | None] = mapped_column(String(32))
    agent: Mapped[str | None] = mapped_column(String(128))
    agent_interface: Mapped[str | None] = mapped_column(String(128))
    hangup_cause: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())

    __table_args__ = (
        Index("ix_calls_arrived_at", "arrived_at"),
        Index("ix_calls_caller_number", "caller_number"),
        Index("ix_calls_queue_arrived", "queue", "arrived_at"),
    )


class AgentAttempt(Base):
    """Each ring of an agent for a call: called, no-answer, connected, completed."""

    __tablename__ = "agent_attempts"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    linkedid: Mapped[str] = mapped_column(String(64), ForeignKey("calls.linkedid", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    queue: Mapped[str] = mapped_column(String(64))
    agent: Mapped[str] = mapped_column(String(128))
    interface: Mapped[str] = mapped_column(String(128))
    outcome: Mapped[str] = mapped_column(String(16))
    called_at: Mapped[datetime | None] = mapped_column(TS)
    ring_seconds: Mapped[float | None] = mapped_column(Float)
    connected_at: Mapped[datetime | None] = mapped_column(TS)
    ended_at: Mapped[datetime | None] = mapped_column(TS)
    talk_seconds: Mapped[float | None] = mapped_column(Float)
    end_reason: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (UniqueConstraint("linkedid", "seq", name="uq_agent_attempts_linkedid_seq"),)


class Agent(Base):
    """An agent as the hotline plan describes them (kept in step with the YAML on start)."""

    __tablename__ = "agents"

    extension: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    interface: Mapped[str] = mapped_column(String(128))
    skills: Mapped[str] = mapped_column(Text)  # comma-separated service lines
    languages: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())


class Queue(Base):
    """A skill queue as the hotline plan describes it."""

    __tablename__ = "queues"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    service_line: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    strategy: Mapped[str] = mapped_column(String(32))
    max_wait_seconds: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())


class User(Base):
    """A person who logs in to the pages: agent, supervisor, ops, city/county staff, admin."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    password_hash: Mapped[str] = mapped_column(String(256))
    roles: Mapped[str] = mapped_column(String(256))  # comma-separated callcenter.auth.roles.Role values
    extension: Mapped[str | None] = mapped_column(String(32))
    unit_code: Mapped[str | None] = mapped_column(String(64))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())
    last_login_at: Mapped[datetime | None] = mapped_column(TS)


class UserSession(Base):
    """A login session; only the SHA-256 of its token is stored."""

    __tablename__ = "user_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(TS)

    __table_args__ = (Index("ix_user_sessions_user_id", "user_id"),)
