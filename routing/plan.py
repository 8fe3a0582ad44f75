"""The hotline plan: what ops staff describe in ``hotline.yaml``, as plain immutable data.

The pure core (IVR menu walk, routing, overflow) reads this and nothing else. The YAML loader in
``callcenter.config`` builds it and reports every problem in the file; this module only holds the
shape, so that it can be built by hand in unit tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ActionKind(StrEnum):
    """What a menu option (or a menu's last retry) leads to."""

    SUBMENU = "submenu"
    QUEUE = "queue"
    CRISIS = "crisis"
    CALLBACK = "callback"
    TRANSFER = "transfer"
    MESSAGE = "message"


@dataclass(frozen=True, slots=True)
class MenuAction:
    """One destination. ``target`` is a menu name, a queue name (``{language}`` is filled in with the
    caller's language), an external hotline key or a prompt name, depending on ``kind``."""

    kind: ActionKind
    target: str = ""
    language: str | None = None  # choosing this option sets the caller's language
    priority: int | None = None  # queue priority override (crisis calls jump the queue)


@dataclass(frozen=True, slots=True)
class Menu:
    name: str
    prompt: str
    options: dict[str, MenuAction]
    timeout_seconds: float = 5.0
    retries: int = 2
    invalid_prompt: str = "invalid"
    after_retries: MenuAction | None = None  # None: the hotline's default queue


@dataclass(frozen=True, slots=True)
class Language:
    code: str  # "zh", "mn"
    name: str
    prompt_set: str  # the sound directory Asterisk plays from, e.g. "zh"


@dataclass(frozen=True, slots=True)
class ServiceLine:
    code: str  # "psychology", "legal", ...
    name: str


@dataclass(frozen=True, slots=True)
class QueuePlan:
    name: str
    service_line: str
    language: str
    strategy: str = "rrmemory"
    member_timeout_seconds: int = 15
    retry_seconds: int = 5
    wrapup_seconds: int = 10
    max_wait_seconds: int = 600
    max_len: int = 0
    weight: int = 0


@dataclass(frozen=True, slots=True)
class AgentPlan:
    extension: str
    name: str
    skills: tuple[str, ...]
    languages: tuple[str, ...]

    @property
    def interface(self) -> str:
        return f"PJSIP/{self.extension}"


@dataclass(frozen=True, slots=True)
class HotlinePlan:
    number: str
    name: str
    languages: tuple[Language, ...]
    service_lines: tuple[ServiceLine, ...]
    queues: tuple[QueuePlan, ...]
    default_queue: str
    entry_menu: str
    menus: dict[str, Menu]
    agents: tuple[AgentPlan, ...] = field(default=())
    default_language: str = "zh"
    default_priority: int = 0
    crisis_queue: str | None = None
    crisis_priority: int = 10

    def queue(self, name: str) -> QueuePlan | None:
        return next((q for q in self.queues if q.name == name), None)

    def queues_for_agent(self, agent: AgentPlan) -> tuple[QueuePlan, ...]:
        """The queues an agent serves: every queue whose service line and language the agent has."""
        return tuple(
            q for q in self.queues if q.service_line in agent.skills and q.language in agent.languages
        )
