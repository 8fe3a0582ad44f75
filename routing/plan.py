"""The hotline plan: what ops staff describe in ``hotline.yaml``, as plain immutable data.

The pure core (IVR menu walk, routing, overflow) reads this and nothing else. The YAML loader in
``callcenter.config`` builds it and reports every problem in the file; this module only holds the
shape, so that it can be built by hand in unit tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from types import MappingProxyType

BILINGUAL_PROMPT_SET = "hotline"
"""The prompt set played before the caller has chosen a language (the same name as ``ivr.menu``'s)."""

CALLBACK_OFFER_PROMPT = "callback-offer-key"
"""What a queue offering callbacks plays every ``callback_offer_after`` seconds ("press 1 ...")."""

ANONYMOUS_VARIANT = "_anonymous"
"""Suffix of a prompt set's variant for callers without a number (``zh_anonymous``): Asterisk looks a sound
up in ``zh_anonymous/`` before ``zh/``, so the variant holds only what must differ for them (the in-queue
callback offer, which they cannot take)."""

ALWAYS_OPEN = "24x7"
"""The built-in schedule name of a line that never closes, holidays included."""


def _no_mapping() -> Mapping[str, str]:
    return MappingProxyType({})


class ActionKind(StrEnum):
    """What a menu option (or a menu's last retry) leads to."""

    SUBMENU = "submenu"
    QUEUE = "queue"
    CRISIS = "crisis"
    CALLBACK = "callback"
    TRANSFER = "transfer"
    MESSAGE = "message"


def national_number(number: str) -> str:
    """``number`` without China's country code (``+86``, ``0086``): how blocked numbers are compared, since
    the same caller shows up either way depending on the trunk."""
    for prefix in ("+86", "0086"):
        if number.startswith(prefix):
            return number[len(prefix) :]
    return number


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
    # Callers of this language reach agents who do not speak it after this many seconds in the queue
    # (routing/skills.py: penalty rules); None: only speakers ever serve them.
    widen_after_seconds: int | None = None


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
    # What happens when the caller waited max_wait_seconds (QUEUESTATUS TIMEOUT) or the queue was full
    # (FULL): None hangs up (the live model turns the call into a callback task); QUEUE overflows to
    # another queue, CALLBACK/MESSAGE play a prompt, TRANSFER dials an external hotline.
    on_timeout: MenuAction | None = None
    join_empty: bool = True  # callers wait even when no agent is logged in
    leave_when_empty: bool = False
    # What the caller hears while waiting (issue 9): position and estimated wait every N s (0: never),
    # and after this many seconds "press 1 to be called back" (0: never offered).
    announce_frequency_seconds: int = 0
    callback_offer_after_seconds: int = 0


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
class TimeWindow:
    """Open from ``start_minute`` (inclusive) to ``end_minute`` (exclusive), minutes since 00:00 local time.
    ``end_minute`` may be 1440 (24:00); a window never crosses midnight (the loader rejects it)."""

    start_minute: int
    end_minute: int

    def __str__(self) -> str:
        return f"{_hhmm(self.start_minute)}-{_hhmm(self.end_minute)}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True, slots=True)
class Schedule:
    """Opening hours of one or more service lines. ``weekdays[0]`` is Monday.

    On a public holiday the ``holiday`` windows apply (closed by default); on a make-up working day (调休上班,
    a Saturday or Sunday declared a working day) the ``workday`` windows apply, Monday's when None.
    ``always_open`` lines (7x24) ignore all of it."""

    name: str
    weekdays: tuple[tuple[TimeWindow, ...], ...] = ((),) * 7
    holiday: tuple[TimeWindow, ...] = ()
    workday: tuple[TimeWindow, ...] | None = None
    always_open: bool = False


@dataclass(frozen=True, slots=True)
class Holiday:
    name: str
    first: date
    last: date  # inclusive


@dataclass(frozen=True, slots=True)
class HoursPlan:
    """Business hours per service line, with the year's holidays and make-up working days.

    The default (no schedules) is open at all times."""

    timezone: str = "Asia/Shanghai"
    schedules: tuple[Schedule, ...] = ()
    default_schedule: str = ALWAYS_OPEN  # for every service line not named in ``service_lines``
    service_lines: Mapping[str, str] = field(default_factory=_no_mapping)  # line code -> schedule name
    holidays: tuple[Holiday, ...] = ()
    workdays: frozenset[date] = frozenset()
    out_of_hours: MenuAction | None = None  # None: the IVR's own default (hang up with a notice)

    def schedule_for(self, service_line: str) -> Schedule | None:
        """The schedule of ``service_line``; None when it is always open."""
        name = self.service_lines.get(service_line, self.default_schedule)
        if name == ALWAYS_OPEN:
            return None
        return next((s for s in self.schedules if s.name == name), None)


@dataclass(frozen=True, slots=True)
class SeatPlan:
    """Seats staffed normally (``base``) and at most under load (``maximum``, 20 at the hotline's scale).
    ``standby`` lists the agents' extensions called in, in order, when overflow seats open; ``callback`` is
    the seat that calls back missed callers."""

    base: int = 8
    maximum: int = 20
    standby: tuple[str, ...] = ()
    callback: str | None = None
    # Overflow controller thresholds (``routing.overflow.OverflowPolicy`` field -> value), from
    # ``seats.overflow``; unnamed ones keep the policy's defaults.
    overflow: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class ExternalHotline:
    """A public hotline callers can be transferred to (110, 12309, 12320, 12348, 12338)."""

    key: str  # what menu options name, usually the number itself
    name: str
    dial: str  # an Asterisk dial string, e.g. "PJSIP/110@pstn"
    timeout_seconds: int = 60


@dataclass(frozen=True, slots=True)
class SurveyQuestion:
    name: str
    prompt: str
    max_digit: int = 5  # answers are one key, 1..max_digit


@dataclass(frozen=True, slots=True)
class SurveyPlan:
    """The satisfaction survey played to the caller after the agent hangs up."""

    intro: str
    questions: tuple[SurveyQuestion, ...]
    thanks: str
    timeout_seconds: float = 5.0
    satisfied: frozenset[int] = frozenset()  # the keys that count as satisfied (empty: the top two)
    agents_see_own: bool = True  # may an agent see their own individual ratings?

    def is_satisfied(self, rating: int) -> bool:
        if self.satisfied:
            return rating in self.satisfied
        top = max((q.max_digit for q in self.questions), default=5)
        return rating >= top - 1


@dataclass(frozen=True, slots=True)
class TierPlan:
    """A level of the follow-up organisation (province, city, county) that work orders are referred to."""

    code: str
    name: str
    deadline_days: int = 3


@dataclass(frozen=True, slots=True)
class UnitPlan:
    """A unit of the follow-up organisation (``units`` in the YAML): seeded into ``org_units``."""

    code: str
    name: str
    tier: str  # a TierPlan code
    parent: str | None = None  # the unit above (None: the top)


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
    # Added with the ops-editable configuration (issue 3); every field has a default so hand-built plans
    # in tests stay short.
    prompts: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: MappingProxyType({}))
    """prompt set (``hotline`` for the bilingual one, else a language's ``prompt_set``) -> prompt name ->
    what the caller hears (the transcript shown on the menu-tree page)."""
    hours: HoursPlan = field(default_factory=HoursPlan)
    seats: SeatPlan = field(default_factory=SeatPlan)
    external_hotlines: tuple[ExternalHotline, ...] = ()
    blocked_numbers: frozenset[str] = frozenset()  # national numbers (see national_number)
    survey: SurveyPlan | None = None
    tiers: tuple[TierPlan, ...] = ()
    units: tuple[UnitPlan, ...] = ()  # the organisation tree work orders are referred down (issue 6)
    repeat_calls: int = 0  # a number calling more than this many times ...
    repeat_minutes: int = 0  # ... within this many minutes is flagged to supervisors (0: never)

    def queue(self, name: str) -> QueuePlan | None:
        return next((q for q in self.queues if q.name == name), None)

    def language(self, code: str) -> Language | None:
        return next((lang for lang in self.languages if lang.code == code), None)

    def external_hotline(self, key: str) -> ExternalHotline | None:
        return next((h for h in self.external_hotlines if h.key == key), None)

    def is_blocked(self, number: str) -> bool:
        """Is the caller's number blocked? Compared without the country code (see :func:`national_number`)."""
        return national_number(number) in self.blocked_numbers

    def queues_for_agent(self, agent: AgentPlan) -> tuple[QueuePlan, ...]:
        """The queues an agent serves: every queue whose service line and language the agent has."""
        return tuple(
            q for q in self.queues if q.service_line in agent.skills and q.language in agent.languages
        )
