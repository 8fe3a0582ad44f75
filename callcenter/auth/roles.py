"""Who may do what. Pure: roles, the principal that a request acts as, and the login rate limiter."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    AGENT = "agent"
    CALLBACK_AGENT = "callback-agent"
    SUPERVISOR = "supervisor"
    OPS = "ops"
    UNIT_STAFF = "unit-staff"  # city / county teams: see only their unit's (and its children's) work orders
    ADMIN = "admin"


# Named groups used by the endpoints, so that "who sees live queues" is said once.
STAFF = frozenset({Role.AGENT, Role.CALLBACK_AGENT, Role.SUPERVISOR, Role.ADMIN})
SUPERVISORS = frozenset({Role.SUPERVISOR, Role.ADMIN})
OPERATORS = frozenset({Role.OPS, Role.ADMIN})


@dataclass(frozen=True, slots=True)
class Principal:
    """The user a request acts as."""

    user_id: int
    username: str
    display_name: str
    roles: frozenset[Role]
    extension: str | None = None  # the agent's seat / phone extension
    unit_code: str | None = None  # the organisation unit of city / county staff

    def has_any(self, roles: frozenset[Role] | set[Role]) -> bool:
        return bool(self.roles & roles)

    @property
    def sees_full_numbers(self) -> bool:
        """Caller numbers are shown whole only to roles that need them for the call in hand."""
        return self.has_any({Role.AGENT, Role.CALLBACK_AGENT, Role.SUPERVISOR})


def mask_number(number: str | None) -> str | None:
    """138****5678: keep the first three and last four digits of a long number, mask the middle."""
    if number is None or len(number) <= 4:
        return number
    if len(number) <= 7:
        return number[:1] + "*" * (len(number) - 3) + number[-2:]
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def parse_roles(text: str) -> frozenset[Role]:
    """``"agent,supervisor"`` → roles; an unknown name raises ValueError naming it."""
    roles = set()
    for name in (part.strip() for part in text.split(",")):
        if not name:
            continue
        try:
            roles.add(Role(name))
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise ValueError(f"unknown role {name!r} (known: {known})") from None
    return frozenset(roles)


@dataclass
class LoginLimiter:
    """At most ``max_failures`` failed logins per key (user name and address) within ``window`` seconds."""

    max_failures: int = 5
    window: float = 300.0
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def retry_after(self, key: str, now: float) -> float | None:
        """Seconds until the key may try again, or None when it may try now."""
        times = self._prune(key, now)
        if len(times) < self.max_failures:
            return None
        return max(0.0, times[0] + self.window - now)

    def failed(self, key: str, now: float) -> None:
        self._prune(key, now).append(now)

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)

    def _prune(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(self._failures) > 10_000:  # bounded memory under a spray of user names
            for stale in [k for k, v in self._failures.items() if not v][:5_000]:
                del self._failures[stale]
        return times
