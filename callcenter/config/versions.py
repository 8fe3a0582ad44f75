"""Every applied ``hotline.yaml`` kept in PostgreSQL: who, when, the whole text and a diff to the one before.

The history is append-only. ``hotline config rollback N`` does not delete anything: it stores version N's
text again as a new version (``action = "rollback"``, ``rollback_of = N``), so the newest row is always the
version that should be serving, and the history shows the rollback as the change it is.

A new version is announced with ``NOTIFY hotline_config, '<n>'`` in the transaction that stores it; the
running service listens (``callcenter/config/apply.py``) and swaps to it. ``applied_at`` and ``apply_note``
are written back by the service that swapped (or refused to).
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import DateTime, Integer, String, Text, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.db.models import Base

__all__ = [
    "NOTIFY_CHANNEL",
    "ConfigVersion",
    "UnknownVersionError",
    "VersionInfo",
    "get_version",
    "latest_version",
    "list_versions",
    "mark_applied",
    "store_version",
    "unified_diff",
]

NOTIFY_CHANNEL = "hotline_config"
_LOCK_KEY = 12355_0009  # pg_advisory_xact_lock: one writer at a time, so "the previous version" is exact

TS = DateTime(timezone=True)


class ConfigVersion(Base):
    __tablename__ = "config_versions"

    n: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())
    author: Mapped[str] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(512))  # the file name as given, or "api"
    action: Mapped[str] = mapped_column(String(16))  # apply | rollback | initial
    rollback_of: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    yaml_text: Mapped[str] = mapped_column(Text)
    diff: Mapped[str] = mapped_column(Text)  # unified diff from the previous version's text
    applied_at: Mapped[datetime | None] = mapped_column(TS)  # when a running service swapped to it
    apply_note: Mapped[str | None] = mapped_column(Text)  # what the service said (reload trouble, refusal)


class UnknownVersionError(LookupError):
    def __init__(self, n: int) -> None:
        super().__init__(f"there is no configuration version {n}")
        self.n = n


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """One version as the history shows it (the text only when asked for)."""

    n: int
    created_at: datetime
    author: str
    source: str
    action: str
    rollback_of: int | None
    sha256: str
    diff: str
    applied_at: datetime | None
    apply_note: str | None
    yaml_text: str

    @property
    def changed_lines(self) -> tuple[int, int]:
        """(lines added, lines removed) by this version."""
        added = removed = 0
        for line in self.diff.splitlines():
            if line.startswith("+") and not line.startswith("+++"):
                added += 1
            elif line.startswith("-") and not line.startswith("---"):
                removed += 1
        return added, removed


def _info(row: ConfigVersion) -> VersionInfo:
    return VersionInfo(
        n=row.n,
        created_at=row.created_at,
        author=row.author,
        source=row.source,
        action=row.action,
        rollback_of=row.rollback_of,
        sha256=row.sha256,
        diff=row.diff,
        applied_at=row.applied_at,
        apply_note=row.apply_note,
        yaml_text=row.yaml_text,
    )


def unified_diff(old: str, new: str, *, old_name: str, new_name: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), fromfile=old_name, tofile=new_name
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def sha256_of(yaml_text: str) -> str:
    return hashlib.sha256(yaml_text.encode("utf-8")).hexdigest()


async def store_version(
    sessions: async_sessionmaker[AsyncSession],
    *,
    yaml_text: str,
    author: str,
    source: str,
    action: str = "apply",
    rollback_of: int | None = None,
    applied: bool = False,
    apply_note: str | None = None,
) -> VersionInfo:
    """Append a version (numbered one past the newest) and announce it with NOTIFY, in one transaction.
    The caller has already checked the text: only valid files are stored."""
    async with sessions() as session, session.begin():
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        previous = (
            await session.execute(select(ConfigVersion).order_by(ConfigVersion.n.desc()).limit(1))
        ).scalar_one_or_none()
        n = 1 if previous is None else previous.n + 1
        old_text = "" if previous is None else previous.yaml_text
        row = ConfigVersion(
            n=n,
            author=author,
            source=source,
            action=action,
            rollback_of=rollback_of,
            sha256=sha256_of(yaml_text),
            yaml_text=yaml_text,
            diff=unified_diff(
                old_text,
                yaml_text,
                old_name=f"version {previous.n}" if previous is not None else "(none)",
                new_name=f"version {n}",
            ),
            applied_at=datetime.now(UTC) if applied else None,
            apply_note=apply_note,
        )
        session.add(row)
        await session.flush()
        await session.execute(
            text("SELECT pg_notify(:channel, :payload)"), {"channel": NOTIFY_CHANNEL, "payload": str(n)}
        )
    async with sessions() as session:
        stored = await session.get(ConfigVersion, n)
        assert stored is not None
        return _info(stored)


async def mark_applied(
    sessions: async_sessionmaker[AsyncSession], n: int, *, applied: bool, note: str | None
) -> None:
    """Record what the running service did with version ``n``."""
    values: dict[str, object] = {"apply_note": note}
    if applied:
        values["applied_at"] = func.now()
    async with sessions() as session, session.begin():
        await session.execute(update(ConfigVersion).where(ConfigVersion.n == n).values(**values))


async def get_version(sessions: async_sessionmaker[AsyncSession], n: int) -> VersionInfo:
    async with sessions() as session:
        row = await session.get(ConfigVersion, n)
    if row is None:
        raise UnknownVersionError(n)
    return _info(row)


async def latest_version(sessions: async_sessionmaker[AsyncSession]) -> VersionInfo | None:
    async with sessions() as session:
        row = (
            await session.execute(select(ConfigVersion).order_by(ConfigVersion.n.desc()).limit(1))
        ).scalar_one_or_none()
    return None if row is None else _info(row)


async def list_versions(sessions: async_sessionmaker[AsyncSession], *, limit: int = 50) -> list[VersionInfo]:
    """Newest first."""
    async with sessions() as session:
        rows = (
            await session.execute(select(ConfigVersion).order_by(ConfigVersion.n.desc()).limit(limit))
        ).scalars()
        return [_info(row) for row in rows]
