"""Retention of recordings: pure rules with an explicit ``now``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType

CRISIS = "crisis"
UNKNOWN = "general"


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """Days a recording is kept after its call ended, per category (the queue's service line); categories
    not named keep ``default_days``."""

    default_days: int = 180
    by_category: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({CRISIS: 1825}))

    def __post_init__(self) -> None:
        for name, days in {"default": self.default_days, **self.by_category}.items():
            if days < 1:
                raise ValueError(f"retention for {name!r} must be at least one day, got {days}")

    def days_for(self, category: str) -> int:
        return self.by_category.get(category, self.default_days)

    def expires_at(self, category: str, ended_at: datetime) -> datetime:
        return ended_at + timedelta(days=self.days_for(category))

    def is_expired(self, category: str, ended_at: datetime, now: datetime) -> bool:
        return now >= self.expires_at(category, ended_at)


@dataclass(frozen=True, slots=True)
class Kept:
    """What the policy needs to know of one kept recording."""

    linkedid: str
    category: str
    ended_at: datetime


def expired(items: Iterable[Kept], policy: RetentionPolicy, now: datetime) -> list[Kept]:
    """The recordings whose time is up at ``now``, oldest first."""
    due = [k for k in items if policy.is_expired(k.category, k.ended_at, now)]
    return sorted(due, key=lambda k: (k.ended_at, k.linkedid))


def category_of(queue: str | None, service_line_of: Mapping[str, str]) -> str:
    """A call's category: the service line of the queue it was answered from (``crisis`` for the crisis
    queues), ``general`` when the queue is unknown."""
    if queue is None:
        return UNKNOWN
    return service_line_of.get(queue, UNKNOWN)
