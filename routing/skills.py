"""Skills and languages → queue membership, penalties and app_queue penalty rules.

An agent serves a queue when they have its service line as a skill. How well they speak the queue's
language decides how early they are offered its callers:

    penalty = LANGUAGE_TIER × language_gap + skill_gap
    language_gap = 5 − language level (0 for a native speaker, 4 for level 1),
                   or 5 (``NON_SPEAKER_GAP``) for an agent who does not speak the language at all
    skill_gap    = 5 − skill level (0 … 4)

Lower is preferred (app_queue rings the lowest penalty first among the members it may ring), so native
speakers come first, then weaker speakers, and within each language step the stronger skill first.
``LANGUAGE_TIER`` (10) is larger than any skill gap, so language always outranks skill.

Widening: a Mongolian caller first reaches Mongolian speakers only; after W seconds (configured per language)
the caller is opened to agents of the same service line who do not speak Mongolian. In app_queue terms the
dialplan sets ``QUEUE_MAX_PENALTY`` to ``SPEAKERS_MAX_PENALTY`` (49) before ``Queue()``, and the queue's rule
(queuerules.conf) raises it to ``EVERYONE_MAX_PENALTY`` (54) after W seconds:

    [widen-mn-psychology]
    penaltychange => 30,54

app_queue only changes ``QUEUE_MAX_PENALTY`` through rules when the dialplan set it first (see
queuerules.conf.sample), hence ``QueueRouting.initial_max_penalty``. Queues without widening have no rule and
no maximum: non-speakers are not members of them at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from routing.plan import AgentPlan, HotlinePlan, QueuePlan

MIN_LEVEL = 1
MAX_LEVEL = 5
LANGUAGE_TIER = 10
NON_SPEAKER_GAP = MAX_LEVEL  # one language step beyond the weakest speaker
SPEAKERS_MAX_PENALTY = LANGUAGE_TIER * NON_SPEAKER_GAP - 1  # 49: every speaker, whatever the skill level
EVERYONE_MAX_PENALTY = LANGUAGE_TIER * NON_SPEAKER_GAP + (MAX_LEVEL - MIN_LEVEL)  # 54


class InvalidLevel(ValueError):
    def __init__(self, extension: str, what: str, level: int) -> None:
        super().__init__(f"agent {extension}: level {level} for {what!r} is outside {MIN_LEVEL}..{MAX_LEVEL}")


@dataclass(frozen=True, slots=True)
class AgentProfile:
    """An agent's skills (service line → level 1-5) and languages (code → level 1-5, 5 = native).

    ``routing.plan.AgentPlan`` lists skills and languages without levels; ``profile_from_plan`` gives
    them default levels until the plan carries them."""

    extension: str
    skills: Mapping[str, int]
    languages: Mapping[str, int]

    def __post_init__(self) -> None:
        for what, level in (*self.skills.items(), *self.languages.items()):
            if not MIN_LEVEL <= level <= MAX_LEVEL:
                raise InvalidLevel(self.extension, what, level)

    @property
    def interface(self) -> str:
        return f"PJSIP/{self.extension}"


def profile_from_plan(
    agent: AgentPlan, *, skill_level: int = 3, language_level: int = MAX_LEVEL
) -> AgentProfile:
    """Levels for a plan agent: each skill at ``skill_level``, each listed language at ``language_level``."""
    return AgentProfile(
        agent.extension,
        {s: skill_level for s in agent.skills},
        {lang: language_level for lang in agent.languages},
    )


@dataclass(frozen=True, slots=True)
class LanguageWidening:
    """Callers of ``language`` reach non-speakers after ``after_seconds`` in the queue."""

    language: str
    after_seconds: int


@dataclass(frozen=True, slots=True)
class Member:
    queue: str
    extension: str
    penalty: int
    speaks_language: bool

    @property
    def interface(self) -> str:
        return f"PJSIP/{self.extension}"


@dataclass(frozen=True, slots=True)
class PenaltyValue:
    """One field of a ``penaltychange`` line: absolute (``10``) or relative (``+3``, ``-2``)."""

    value: int
    relative: bool = False

    def render(self) -> str:
        return f"{self.value:+d}" if self.relative else str(self.value)


@dataclass(frozen=True, slots=True)
class PenaltyChange:
    """``penaltychange => <seconds>,<max>[,<min>]``; a field left as None is not changed."""

    seconds: int
    max_penalty: PenaltyValue | None = None
    min_penalty: PenaltyValue | None = None

    def render(self) -> str:
        fields = [str(self.seconds), self.max_penalty.render() if self.max_penalty else ""]
        if self.min_penalty is not None:
            fields.append(self.min_penalty.render())
        return "penaltychange => " + ",".join(fields)


@dataclass(frozen=True, slots=True)
class PenaltyRule:
    """A named ``[rule]`` section of queuerules.conf."""

    name: str
    changes: tuple[PenaltyChange, ...]

    def render(self) -> str:
        return "\n".join([f"[{self.name}]", *(c.render() for c in self.changes)]) + "\n"


@dataclass(frozen=True, slots=True)
class QueueRouting:
    """Everything the adapter and the config renderer need for one queue.

    ``members`` go to AMI QueueAdd (with their penalty) when the agent logs in; ``initial_max_penalty``
    is set as ``QUEUE_MAX_PENALTY`` in the dialplan before ``Queue()`` (None: do not set it); ``rule`` is
    written to queuerules.conf and named in queues.conf as the queue's ``defaultrule``."""

    queue: str
    members: tuple[Member, ...]
    initial_max_penalty: int | None = None
    rule: PenaltyRule | None = None


def penalty(agent: AgentProfile, queue: QueuePlan) -> int | None:
    """The agent's penalty in ``queue``, or None when the agent lacks the queue's service line."""
    skill = agent.skills.get(queue.service_line)
    if skill is None:
        return None
    language = agent.languages.get(queue.language)
    language_gap = NON_SPEAKER_GAP if language is None else MAX_LEVEL - language
    return LANGUAGE_TIER * language_gap + (MAX_LEVEL - skill)


def queue_routing(
    queue: QueuePlan,
    agents: Iterable[AgentProfile],
    widenings: Sequence[LanguageWidening] = (),
) -> QueueRouting:
    """Members (best first, ties by extension) and the widening rule of one queue."""
    widening = next((w for w in widenings if w.language == queue.language), None)
    members: list[Member] = []
    for agent in agents:
        p = penalty(agent, queue)
        if p is None:
            continue
        speaks = queue.language in agent.languages
        if not speaks and widening is None:
            continue  # no widening for this language: a non-speaker is no use to its callers
        members.append(Member(queue.name, agent.extension, p, speaks))
    members.sort(key=lambda m: (m.penalty, m.extension))
    if widening is None:
        return QueueRouting(queue.name, tuple(members))
    rule = PenaltyRule(
        f"widen-{queue.name}",
        (PenaltyChange(widening.after_seconds, PenaltyValue(EVERYONE_MAX_PENALTY)),),
    )
    return QueueRouting(queue.name, tuple(members), SPEAKERS_MAX_PENALTY, rule)


def routing_table(
    queues: Iterable[QueuePlan],
    agents: Sequence[AgentProfile],
    widenings: Sequence[LanguageWidening] = (),
) -> tuple[QueueRouting, ...]:
    return tuple(queue_routing(q, agents, widenings) for q in queues)


def widenings_of(plan: HotlinePlan) -> tuple[LanguageWidening, ...]:
    """The plan's languages that widen to non-speakers (``languages.<code>.widen_after`` in the YAML)."""
    return tuple(
        LanguageWidening(lang.code, lang.widen_after_seconds)
        for lang in plan.languages
        if lang.widen_after_seconds is not None
    )


def plan_routing(plan: HotlinePlan) -> tuple[QueueRouting, ...]:
    """The routing table of a whole plan (agents at ``profile_from_plan``'s default levels)."""
    profiles = [profile_from_plan(a) for a in plan.agents]
    return routing_table(plan.queues, profiles, widenings_of(plan))


def memberships_of(extension: str, table: Iterable[QueueRouting]) -> tuple[Member, ...]:
    """One agent's memberships across the table: what the agent state machine's ``LogIn`` carries."""
    return tuple(m for routing in table for m in routing.members if m.extension == extension)


def render_rules(table: Iterable[QueueRouting]) -> str:
    """The queuerules.conf body for every queue that has a rule."""
    return "\n".join(r.rule.render() for r in table if r.rule is not None)


# -------------------------------------------------------------------------- what app_queue will do


@dataclass(frozen=True, slots=True)
class PenaltyWindow:
    """The caller's ``QUEUE_MAX_PENALTY`` / ``QUEUE_MIN_PENALTY``; None means unset (no limit)."""

    max_penalty: int | None = None
    min_penalty: int | None = None


def window_after(
    waited_seconds: float,
    changes: Sequence[PenaltyChange],
    start: PenaltyWindow | None = None,
) -> PenaltyWindow:
    """The caller's penalty window after waiting ``waited_seconds``, as app_queue's ``update_qe_rule``
    computes it: rules in time order, each applied once its time has come; a limit that the dialplan did
    not set is never touched by a rule; relative changes add to the current value; below 0 becomes 0."""
    start = start or PenaltyWindow()
    max_p, min_p = start.max_penalty, start.min_penalty
    for change in sorted(changes, key=lambda c: c.seconds):
        if change.seconds > waited_seconds:
            break
        max_p = _changed(max_p, change.max_penalty)
        min_p = _changed(min_p, change.min_penalty)
    return PenaltyWindow(max_p, min_p)


def _changed(current: int | None, change: PenaltyValue | None) -> int | None:
    if current is None or change is None:
        return current
    value = current + change.value if change.relative else change.value
    return max(0, value)


def eligible(
    members: Iterable[Member],
    waited_seconds: float,
    rule: PenaltyRule | None,
    initial: PenaltyWindow | None = None,
) -> tuple[Member, ...]:
    """The members app_queue may offer a caller who has waited ``waited_seconds``, best first.

    Mirrors app_queue: a member whose penalty is above QUEUE_MAX_PENALTY or below QUEUE_MIN_PENALTY is
    skipped. (app_queue re-checks rules about once a second while the caller waits, so a real widening
    lands up to a second after its time.) Availability (paused, busy, wrap-up) is the caller's concern."""
    window = window_after(waited_seconds, rule.changes if rule else (), initial)
    chosen = [
        m
        for m in members
        if (window.max_penalty is None or m.penalty <= window.max_penalty)
        and (window.min_penalty is None or m.penalty >= window.min_penalty)
    ]
    return tuple(sorted(chosen, key=lambda m: (m.penalty, m.extension)))


def eligible_in(routing: QueueRouting, waited_seconds: float) -> tuple[Member, ...]:
    """``eligible`` for a queue built by ``queue_routing`` (its initial maximum and its rule)."""
    return eligible(routing.members, waited_seconds, routing.rule, PenaltyWindow(routing.initial_max_penalty))


_CHANGE = re.compile(r"^\s*penaltychange\s*=>?\s*(\d+)\s*,\s*([+-]?\d*)\s*(?:,\s*([+-]?\d*)\s*)?$")


def parse_penaltychange(line: str) -> PenaltyChange:
    """Read one ``penaltychange => …`` line back (for tests and the simulator). An empty field is
    "no change" as in app_queue (it reads as a relative change of 0)."""
    match = _CHANGE.match(line)
    if match is None:
        raise ValueError(f"not a penaltychange line: {line!r}")
    seconds, max_text, min_text = match.groups()
    return PenaltyChange(int(seconds), _parse_value(max_text), _parse_value(min_text))


def _parse_value(text: str | None) -> PenaltyValue | None:
    if not text:
        return None
    return PenaltyValue(int(text), relative=text[0] in "+-")
