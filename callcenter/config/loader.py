"""Load ``hotline.yaml`` into a :class:`routing.plan.HotlinePlan`, reporting every problem with its place.

Errors are collected, not raised one at a time: ops staff fix a file in one pass. Each names
``FILE:LINE:COL`` (1-based) of the offending node. The schema is documented key by key in docs/CONFIG.md.

The result is an immutable plan (frozen dataclasses, read-only mappings): the service swaps the whole
object when a new file is applied, so a call in progress keeps the plan it started with.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from routing.overflow import OverflowPolicy, PolicyError
from routing.plan import (
    ALWAYS_OPEN,
    ANONYMOUS_VARIANT,
    BILINGUAL_PROMPT_SET,
    CALLBACK_OFFER_PROMPT,
    ActionKind,
    AgentPlan,
    ExternalHotline,
    Holiday,
    HotlinePlan,
    HoursPlan,
    Language,
    Menu,
    MenuAction,
    QueuePlan,
    Schedule,
    SeatPlan,
    ServiceLine,
    SurveyPlan,
    SurveyQuestion,
    TierPlan,
    TimeWindow,
    UnitPlan,
    national_number,
)

__all__ = ["MAX_SEATS", "ConfigError", "ConfigProblem", "load_plan", "parse_plan"]

MAX_SEATS = 20
"""The most seats the hotline's licence and room allow (the seeds: 8 normally, 20 at most)."""


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class ConfigError(Exception):
    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


_ACTION_KEYS = {k.value for k in ActionKind}
_QUEUE_KEYS = {
    "strategy": "strategy",
    "member_timeout": "member_timeout_seconds",
    "retry": "retry_seconds",
    "wrapup": "wrapup_seconds",
    "max_wait": "max_wait_seconds",
    "max_len": "max_len",
    "weight": "weight",
    "announce_frequency": "announce_frequency_seconds",
    "callback_offer_after": "callback_offer_after_seconds",
}
_QUEUE_FLAGS = {"join_empty": "join_empty", "leave_when_empty": "leave_when_empty"}
_STRATEGIES = {"ringall", "rrmemory", "leastrecent", "linear", "fewestcalls", "random", "wrandom"}
_TOP_KEYS = {
    "hotline",
    "languages",
    "prompts",
    "service_lines",
    "tiers",
    "units",
    "queue_defaults",
    "queues",
    "ivr",
    "hours",
    "seats",
    "agents",
    "external_hotlines",
    "blocked_numbers",
    "survey",
    "repeat_callers",
}
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SCHEDULE_KEYS = {"daily", *_DAYS, "holiday", "workday"}
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_NUMBER = re.compile(r"^\+?[0-9]{3,20}$")
_DIAL = re.compile(r"^[A-Za-z0-9]+/[^\s,()]+$")
# Names end up as Asterisk section names, extensions and file names: keep them to safe characters.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class _Reader:
    """Typed reads of YAML nodes that record a problem (with the node's place) instead of raising."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[ConfigProblem] = []
        self._keys: dict[int, Node] = {}  # id(value node) -> its key node, for problems about a whole entry
        # menu name -> where its parts are ("@": the menu, "@key": its name, "prompt", "options.1", ...)
        self.menu_nodes: dict[str, dict[str, Node]] = {}

    def error(self, node: Node, message: str) -> None:
        mark = node.start_mark
        problem = ConfigProblem(self.file, mark.line + 1, mark.column + 1, message)
        if problem not in self.problems:  # one place reached along two paths is one problem
            self.problems.append(problem)

    def key_of(self, node: Node) -> Node:
        """The key node of a mapping value (the entry's name), else the node itself."""
        return self._keys.get(id(node), node)

    def mapping(self, node: Node | None, where: str, allowed: set[str] | None = None) -> dict[str, Node]:
        if node is None:
            return {}
        if not isinstance(node, MappingNode):
            self.error(node, f"{where} must be a mapping (key: value)")
            return {}
        out: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in out:
                self.error(key_node, f"{where}: key {key!r} appears twice")
                continue
            if allowed is not None and key not in allowed:
                hint = difflib.get_close_matches(key, sorted(allowed), n=1)
                suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
                self.error(key_node, f"{where}: unknown key {key!r}{suggestion}")
                continue
            out[key] = value_node
            self._keys[id(value_node)] = key_node
        return out

    def text(self, node: Node | None, where: str, default: str | None = None) -> str | None:
        if node is None:
            return default
        if not isinstance(node, ScalarNode) or node.value == "":
            self.error(node, f"{where} must be text")
            return default
        return str(node.value)

    def name(self, node: Node | None, where: str) -> str | None:
        """A name that becomes part of Asterisk configuration (queue, prompt, extension)."""
        value = self.text(node, where)
        if value is not None and node is not None and not _NAME.match(value.replace("{language}", "x")):
            self.error(node, f"{where}: {value!r} may only hold letters, digits, '_', '.' and '-'")
            return None
        return value

    def number(self, node: Node | None, where: str, default: float, *, integer: bool = False) -> float:
        if node is None:
            return default
        try:
            if not isinstance(node, ScalarNode):
                raise ValueError
            value = int(node.value) if integer else float(node.value)
        except ValueError:
            self.error(node, f"{where} must be {'a whole number' if integer else 'a number'}")
            return default
        return value

    def integer(
        self,
        node: Node | None,
        where: str,
        default: int,
        *,
        low: int = 0,
        high: int | None = None,
    ) -> int:
        value = int(self.number(node, where, default, integer=True))
        if node is not None and (value < low or (high is not None and value > high)):
            bound = f"from {low} to {high}" if high is not None else f"{low} or more"
            self.error(node, f"{where} must be {bound}, not {value}")
            return default
        return value

    def flag(self, node: Node | None, where: str, default: bool) -> bool:
        if node is None:
            return default
        if isinstance(node, ScalarNode) and node.tag.endswith(":bool"):
            return str(node.value).lower() in ("yes", "true", "on", "y")
        self.error(node, f"{where} must be yes or no")
        return default

    def texts(self, node: Node | None, where: str) -> tuple[str, ...]:
        if node is None:
            return ()
        if not isinstance(node, SequenceNode):
            self.error(node, f"{where} must be a list")
            return ()
        out = []
        for item in node.value:
            value = self.text(item, where)
            if value is not None:
                out.append(value)
        return tuple(out)

    def items(self, node: Node | None, where: str) -> list[Node]:
        """The nodes of a list; a single scalar counts as a list of one."""
        if node is None:
            return []
        if isinstance(node, SequenceNode):
            return list(node.value)
        if isinstance(node, ScalarNode):
            return [node]
        self.error(node, f"{where} must be a list")
        return []


def load_plan(path: Path) -> HotlinePlan:
    """Read and check the file; raise :class:`ConfigError` listing every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigProblem(str(path), 1, 1, f"cannot read the file: {exc}")]) from exc
    return parse_plan(text, str(path))


def parse_plan(text: str, file: str = "<hotline.yaml>") -> HotlinePlan:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise ConfigError([ConfigProblem(file, line, col, f"YAML syntax: {exc.problem}")]) from exc
    except yaml.YAMLError as exc:
        raise ConfigError([ConfigProblem(file, 1, 1, f"YAML syntax: {exc}")]) from exc
    r = _Reader(file)
    if root is None:
        raise ConfigError([ConfigProblem(file, 1, 1, "the file is empty")])
    top = r.mapping(root, "the file", _TOP_KEYS)
    plan = _build(r, top, root)
    if r.problems or plan is None:
        raise ConfigError(sorted(r.problems, key=lambda p: (p.line, p.column)))
    return plan


def _build(r: _Reader, top: dict[str, Node], root: Node) -> HotlinePlan | None:
    for required in ("hotline", "languages", "prompts", "service_lines", "queues", "ivr"):
        if required not in top:
            r.error(root, f"missing section {required!r}")
    hotline = r.mapping(
        top.get("hotline"),
        "hotline",
        {
            "number",
            "name",
            "default_language",
            "default_queue",
            "default_priority",
            "crisis_queue",
            "crisis_priority",
        },
    )
    number = r.text(hotline.get("number"), "hotline.number", "12355") or "12355"
    if "number" in hotline and not number.isdigit():
        r.error(hotline["number"], f"hotline.number: {number!r} must be digits only")
    languages = []
    for code, node in r.mapping(top.get("languages"), "languages").items():
        fields = r.mapping(node, f"languages.{code}", {"name", "prompt_set", "widen_after"})
        widen = fields.get("widen_after")
        languages.append(
            Language(
                code,
                r.text(fields.get("name"), f"languages.{code}.name", code) or code,
                r.name(fields.get("prompt_set"), f"languages.{code}.prompt_set") or code,
                None if widen is None else r.integer(widen, f"languages.{code}.widen_after", 0, low=0),
            )
        )
    lang_codes = {lang.code for lang in languages}
    prompts = _prompts(r, top.get("prompts"), languages)
    lines = []
    for code, node in r.mapping(top.get("service_lines"), "service_lines").items():
        fields = r.mapping(node, f"service_lines.{code}", {"name"})
        lines.append(
            ServiceLine(code, r.text(fields.get("name"), f"service_lines.{code}.name", code) or code)
        )
    line_codes = {s.code for s in lines}
    tiers = []
    for code, node in r.mapping(top.get("tiers"), "tiers").items():
        fields = r.mapping(node, f"tiers.{code}", {"name", "deadline_days"})
        tiers.append(
            TierPlan(
                code,
                r.text(fields.get("name"), f"tiers.{code}.name", code) or code,
                r.integer(fields.get("deadline_days"), f"tiers.{code}.deadline_days", 3, low=1),
            )
        )
    units = _units(r, top.get("units"), {t.code for t in tiers})

    externals = _externals(r, top.get("external_hotlines"))
    external_keys = {h.key for h in externals}
    checks = _Checks(r, lang_codes, external_keys)

    queues = _queues(r, top, line_codes, lang_codes, checks)
    queue_names = {q.name for q in queues}
    checks.queues = queue_names

    menus, entry = _menus(r, top.get("ivr"), checks)
    agents = _agents(r, top.get("agents"), line_codes, lang_codes)
    seats = _seats(r, top.get("seats"), {a.extension for a in agents}, root)
    hours = _hours(r, top.get("hours"), line_codes, checks)
    survey = _survey(r, top.get("survey"))
    repeat = r.mapping(top.get("repeat_callers"), "repeat_callers", {"calls", "minutes"})
    blocked = set()
    for item in r.items(top.get("blocked_numbers"), "blocked_numbers"):
        value = r.text(item, "blocked_numbers")
        if value is not None and not _NUMBER.match(value):
            r.error(
                item, f"blocked_numbers: {value!r} is not a telephone number (digits, optionally a leading +)"
            )
        elif value is not None:
            blocked.add(national_number(value))

    default_language = r.text(hotline.get("default_language"), "hotline.default_language", "zh") or "zh"
    if lang_codes and default_language not in lang_codes:
        r.error(
            hotline.get("default_language", root),
            f"hotline.default_language: no language {default_language!r}",
        )
    default_queue = r.text(hotline.get("default_queue"), "hotline.default_queue")
    if default_queue is None:
        r.error(top.get("hotline", root), "hotline.default_queue is required")
    elif default_queue not in queue_names:
        r.error(hotline["default_queue"], f"hotline.default_queue: no queue {default_queue!r}")
    crisis_queue = r.text(hotline.get("crisis_queue"), "hotline.crisis_queue")
    if crisis_queue is not None and crisis_queue not in queue_names:
        r.error(hotline["crisis_queue"], f"hotline.crisis_queue: no queue {crisis_queue!r}")

    language_sets = {lang.code: lang.prompt_set for lang in languages}
    if entry is not None and entry in menus:
        _walk_menus(r, menus, entry, checks)
    if survey is not None:
        survey_node = top["survey"]
        for prompt in (survey.intro, *(q.prompt for q in survey.questions), survey.thanks):
            # Played after the call, in the language the caller chose.
            checks.need_prompt(survey_node, "survey", prompt, tuple(sorted(lang_codes)))
    _check_prompts(r, checks, language_sets, prompts)
    _check_anonymous_offer(r, checks, language_sets, prompts)
    if r.problems or default_queue is None or entry is None:
        return None
    return HotlinePlan(
        number=number,
        name=r.text(hotline.get("name"), "hotline.name", "12355") or "12355",
        languages=tuple(languages),
        service_lines=tuple(lines),
        queues=tuple(queues),
        default_queue=default_queue,
        entry_menu=entry,
        menus=menus,
        agents=tuple(agents),
        default_language=default_language,
        default_priority=r.integer(hotline.get("default_priority"), "hotline.default_priority", 0),
        crisis_queue=crisis_queue,
        crisis_priority=r.integer(hotline.get("crisis_priority"), "hotline.crisis_priority", 10),
        prompts=prompts,
        hours=hours,
        seats=seats,
        external_hotlines=externals,
        blocked_numbers=frozenset(blocked),
        survey=survey,
        tiers=tuple(tiers),
        units=units,
        repeat_calls=r.integer(repeat.get("calls"), "repeat_callers.calls", 0, low=0),
        repeat_minutes=r.integer(repeat.get("minutes"), "repeat_callers.minutes", 0, low=0),
    )


@dataclass
class _Checks:
    """Cross-references collected while reading, checked once everything they may point at is known."""

    r: _Reader
    languages: set[str]
    externals: set[str]
    queues: set[str] | None = None
    # (node, where, prompt, the callers' languages it must exist for: a code, None for the bilingual set;
    # None instead of the tuple: every language and the bilingual set)
    prompts: list[tuple[Node, str, str, tuple[str | None, ...] | None]] = field(default_factory=list)
    # (node, where, language) of each queue offering callbacks: its prompt set needs an anonymous variant
    offers: list[tuple[Node, str, str]] = field(default_factory=list)

    def need_prompt(
        self, node: Node, where: str, prompt: str, languages: tuple[str | None, ...] | None
    ) -> None:
        self.prompts.append((node, where, prompt, languages))

    def action_targets(self, node: Node, where: str, action: MenuAction) -> None:
        """Checks that do not depend on the caller's language (queues, hotlines)."""
        if action.kind is ActionKind.QUEUE and self.queues is not None:
            names = (
                {action.target.replace("{language}", lang) for lang in self.languages}
                if "{language}" in action.target
                else {action.target}
            )
            missing = sorted(n for n in names if n not in self.queues)
            if missing:
                self.r.error(node, f"{where}: no queue {', '.join(repr(m) for m in missing)}")
        if action.kind is ActionKind.TRANSFER and action.target not in self.externals:
            known = ", ".join(sorted(self.externals)) or "none defined"
            self.r.error(node, f"{where}: no external hotline {action.target!r} (external_hotlines: {known})")


def _prompts(r: _Reader, node: Node | None, languages: list[Language]) -> Mapping[str, Mapping[str, str]]:
    out: dict[str, Mapping[str, str]] = {}
    set_nodes = r.mapping(node, "prompts")
    for prompt_set, set_node in set_nodes.items():
        texts: dict[str, str] = {}
        for name, text_node in r.mapping(set_node, f"prompts.{prompt_set}").items():
            if not _NAME.match(name):
                r.error(
                    r.key_of(text_node),
                    f"prompts.{prompt_set}: {name!r} may only hold letters, digits, '_', '.' and '-'",
                )
                continue
            texts[name] = r.text(text_node, f"prompts.{prompt_set}.{name}", "") or ""
        out[prompt_set] = MappingProxyType(texts)
    if node is not None and isinstance(node, MappingNode):
        for lang in languages:
            if lang.prompt_set not in out:
                r.error(node, f"prompts: no prompt set {lang.prompt_set!r} for language {lang.code!r}")
        for prompt_set in out:
            base = prompt_set.removesuffix(ANONYMOUS_VARIANT)
            if base != prompt_set and base not in out:
                r.error(
                    r.key_of(set_nodes[prompt_set]),
                    f"prompts.{prompt_set}: no prompt set {base!r} for this variant of it "
                    f"(callers without a number hear its sounds, the others come from {base!r})",
                )
    return MappingProxyType(out)


def _units(r: _Reader, node: Node | None, tier_codes: set[str]) -> tuple[UnitPlan, ...]:
    """``units: {CODE: {name, tier, parent?}}``: every parent must be a unit, every tier a ``tiers`` code,
    and no unit may be its own ancestor."""
    units: dict[str, UnitPlan] = {}
    nodes: dict[str, tuple[Node, dict[str, Node]]] = {}
    for code, entry in r.mapping(node, "units").items():
        fields = r.mapping(entry, f"units.{code}", {"name", "tier", "parent"})
        where = f"units.{code}"
        name = r.text(fields.get("name"), f"{where}.name")
        tier = r.text(fields.get("tier"), f"{where}.tier")
        parent = r.text(fields.get("parent"), f"{where}.parent")
        if name is None:
            r.error(r.key_of(entry), f"{where}: a name is required")
        if tier is None:
            r.error(r.key_of(entry), f"{where}: a tier is required")
        elif tier not in tier_codes:
            r.error(fields["tier"], f"{where}.tier: no tier {tier!r} in tiers")
        units[code] = UnitPlan(code, name or code, tier or "", parent)
        nodes[code] = (entry, fields)
    for code, unit in units.items():
        if unit.parent is not None and unit.parent not in units:
            r.error(nodes[code][1]["parent"], f"units.{code}.parent: no unit {unit.parent!r}")
    for code, unit in units.items():  # each unit on a cycle is reported; one leading into a cycle is not
        parent, steps = unit.parent, 0
        while parent is not None and parent in units and steps <= len(units):
            if parent == code:
                r.error(nodes[code][1]["parent"], f"units.{code}.parent: a cycle (its own ancestor)")
                break
            parent, steps = units[parent].parent, steps + 1
    return tuple(units.values())


def _externals(r: _Reader, node: Node | None) -> tuple[ExternalHotline, ...]:
    out = []
    for key, hnode in r.mapping(node, "external_hotlines").items():
        where = f"external_hotlines.{key}"
        fields = r.mapping(hnode, where, {"name", "dial", "timeout"})
        if not key.isdigit():
            r.error(r.key_of(hnode), f"{where}: the key must be the hotline's number (digits)")
        dial = r.text(fields.get("dial"), f"{where}.dial")
        if dial is None:
            r.error(hnode, f"{where}.dial is required (an Asterisk dial string such as PJSIP/{key}@pstn)")
            continue
        if not _DIAL.match(dial):
            r.error(fields["dial"], f"{where}.dial: {dial!r} is not a dial string like PJSIP/{key}@pstn")
        out.append(
            ExternalHotline(
                key,
                r.text(fields.get("name"), f"{where}.name", key) or key,
                dial,
                r.integer(fields.get("timeout"), f"{where}.timeout", 60, low=5, high=600),
            )
        )
    return tuple(out)


def _queues(
    r: _Reader, top: dict[str, Node], line_codes: set[str], lang_codes: set[str], checks: _Checks
) -> list[QueuePlan]:
    defaults = r.mapping(top.get("queue_defaults"), "queue_defaults", {*_QUEUE_KEYS, *_QUEUE_FLAGS})
    queues = []
    timeouts: list[tuple[Node, str, MenuAction, str]] = []
    for name, node in r.mapping(top.get("queues"), "queues").items():
        fields = r.mapping(
            node, f"queues.{name}", {"service_line", "language", "on_timeout", *_QUEUE_KEYS, *_QUEUE_FLAGS}
        )
        if not _NAME.match(name):
            r.error(r.key_of(node), f"queues: {name!r} may only hold letters, digits, '_', '.' and '-'")
        kwargs: dict[str, object] = {}
        for key, attr in _QUEUE_KEYS.items():
            value_node = fields.get(key, defaults.get(key))
            if value_node is None:
                continue
            if key == "strategy":
                strategy = r.text(value_node, f"queues.{name}.strategy")
                if strategy and strategy not in _STRATEGIES:
                    r.error(
                        value_node,
                        f"queues.{name}.strategy: {strategy!r} is not one of "
                        f"{', '.join(sorted(_STRATEGIES))}",
                    )
                elif strategy:
                    kwargs[attr] = strategy
            else:
                kwargs[attr] = r.integer(value_node, f"queues.{name}.{key}", 0)
        for key, attr in _QUEUE_FLAGS.items():
            value_node = fields.get(key, defaults.get(key))
            if value_node is not None:
                kwargs[attr] = r.flag(value_node, f"queues.{name}.{key}", key == "join_empty")
        line = r.text(fields.get("service_line"), f"queues.{name}.service_line")
        lang = r.text(fields.get("language"), f"queues.{name}.language")
        if line is None or lang is None:
            r.error(node, f"queues.{name} needs service_line and language")
            continue
        if line not in line_codes:
            r.error(fields["service_line"], f"queues.{name}.service_line: no service line {line!r}")
        if lang not in lang_codes:
            r.error(fields["language"], f"queues.{name}.language: no language {lang!r}")
        on_timeout = None
        if "on_timeout" in fields:
            on_timeout = _action(
                r,
                fields["on_timeout"],
                f"queues.{name}.on_timeout",
                lang_codes,
                allowed={ActionKind.QUEUE, ActionKind.CALLBACK, ActionKind.MESSAGE, ActionKind.TRANSFER},
            )
            if on_timeout is not None:
                timeouts.append((fields["on_timeout"], f"queues.{name}.on_timeout", on_timeout, name))
        queues.append(QueuePlan(name=name, service_line=line, language=lang, on_timeout=on_timeout, **kwargs))  # type: ignore[arg-type]
        if kwargs.get("callback_offer_after_seconds"):
            offer_node = fields.get("callback_offer_after", defaults.get("callback_offer_after", node))
            where = f"queues.{name}.callback_offer_after"
            checks.need_prompt(offer_node, where, CALLBACK_OFFER_PROMPT, (lang,))
            checks.offers.append((offer_node, where, lang))
    names = {q.name for q in queues}
    by_name = {q.name: q for q in queues}
    for onode, where, action, name in timeouts:
        if action.kind is ActionKind.QUEUE:
            if "{language}" in action.target:
                r.error(onode, f"{where}: name the overflow queue itself, without {{language}}")
            elif action.target not in names:
                r.error(onode, f"{where}: no queue {action.target!r}")
            elif _overflow_loops(by_name, name):
                r.error(
                    onode, f"{where}: overflow from {name!r} comes back to it; a caller would never leave"
                )
        elif action.kind is ActionKind.TRANSFER and action.target not in checks.externals:
            r.error(onode, f"{where}: no external hotline {action.target!r}")
        elif action.kind in (ActionKind.MESSAGE, ActionKind.CALLBACK) and action.target:
            checks.need_prompt(onode, where, action.target, (by_name[name].language,))
    return queues


def _overflow_loops(queues: Mapping[str, QueuePlan], start: str) -> bool:
    seen = {start}
    current = queues[start].on_timeout
    while current is not None and current.kind is ActionKind.QUEUE:
        if current.target in seen:
            return current.target == start
        seen.add(current.target)
        nxt = queues.get(current.target)
        current = nxt.on_timeout if nxt is not None else None
    return False


def _menus(r: _Reader, node: Node | None, checks: _Checks) -> tuple[dict[str, Menu], str | None]:
    ivr = r.mapping(node, "ivr", {"entry", "menus"})
    entry = r.text(ivr.get("entry"), "ivr.entry")
    raw = r.mapping(ivr.get("menus"), "ivr.menus")
    menus: dict[str, Menu] = {}
    targets: list[tuple[Node, str, MenuAction]] = []
    for name, mnode in raw.items():
        fields = r.mapping(
            mnode,
            f"ivr.menus.{name}",
            {"prompt", "timeout", "retries", "invalid_prompt", "options", "after_retries"},
        )
        parts = r.menu_nodes[name] = {"@": mnode, "@key": r.key_of(mnode), **fields}
        options: dict[str, MenuAction] = {}
        for key, onode in r.mapping(fields.get("options"), f"ivr.menus.{name}.options").items():
            parts[f"options.{key}"] = onode
            if key not in set("0123456789*#"):
                r.error(onode, f"ivr.menus.{name}.options: {key!r} is not a telephone key (0-9, * or #)")
                continue
            action = _action(r, onode, f"ivr.menus.{name}.options.{key}", checks.languages)
            if action is not None:
                options[key] = action
                targets.append((onode, f"ivr.menus.{name}.options.{key}", action))
        after = None
        if "after_retries" in fields:
            after = _action(r, fields["after_retries"], f"ivr.menus.{name}.after_retries", checks.languages)
            if after is not None:
                targets.append((fields["after_retries"], f"ivr.menus.{name}.after_retries", after))
        retries = int(r.number(fields.get("retries"), f"ivr.menus.{name}.retries", 2, integer=True))
        timeout = r.number(fields.get("timeout"), f"ivr.menus.{name}.timeout", 5.0)
        if retries < 0:
            r.error(fields["retries"], f"ivr.menus.{name}.retries must be 0 or more")
        if timeout <= 0:
            r.error(fields["timeout"], f"ivr.menus.{name}.timeout must be more than 0 seconds")
        menus[name] = Menu(
            name=name,
            prompt=r.name(fields.get("prompt"), f"ivr.menus.{name}.prompt") or name,
            options=options,
            timeout_seconds=timeout,
            retries=retries,
            invalid_prompt=r.name(fields.get("invalid_prompt"), f"ivr.menus.{name}.invalid_prompt")
            or "invalid",
            after_retries=after,
        )
    for onode, where, action in targets:
        if action.kind is ActionKind.SUBMENU and action.target not in menus:
            r.error(onode, f"{where}: no menu {action.target!r}")
        checks.action_targets(onode, where, action)
    if entry is None:
        if node is not None:  # a missing ivr section was reported already
            r.error(node, "ivr.entry is required")
    elif entry not in menus:
        r.error(ivr["entry"], f"ivr.entry: no menu {entry!r}")
    return menus, entry


def _action(
    r: _Reader, node: Node, where: str, langs: set[str], allowed: set[ActionKind] | None = None
) -> MenuAction | None:
    kinds_allowed = {k.value for k in allowed} if allowed is not None else _ACTION_KEYS
    if not isinstance(node, MappingNode):
        r.error(node, f"{where} must be a mapping (key: value), e.g. {{queue: zh-legal}}")
        return None
    fields = r.mapping(node, where, {*_ACTION_KEYS, "language", "priority"})
    kinds = [k for k in fields if k in _ACTION_KEYS]
    if len(kinds) != 1 or kinds[0] not in kinds_allowed:
        r.error(node, f"{where} must lead to exactly one of: {', '.join(sorted(kinds_allowed))}")
        return None
    kind = ActionKind(kinds[0])
    target = "" if kind is ActionKind.CRISIS else (r.name(fields[kinds[0]], f"{where}.{kind.value}") or "")
    language = r.text(fields.get("language"), f"{where}.language")
    if language is not None and language not in langs:
        r.error(fields["language"], f"{where}.language: no language {language!r}")
    priority = fields.get("priority")
    return MenuAction(
        kind=kind,
        target=target,
        language=language,
        priority=int(r.number(priority, f"{where}.priority", 0, integer=True))
        if priority is not None
        else None,
    )


def _walk_menus(r: _Reader, menus: dict[str, Menu], entry: str, checks: _Checks) -> None:
    """Walk the menu tree as callers do, tracking the language they have chosen, to find menus no caller
    reaches and prompts missing from the set a caller would hear them in."""
    seen: set[tuple[str, str | None]] = set()
    todo: list[tuple[str, str | None]] = [(entry, None)]
    reached: set[str] = set()
    while todo:
        state = todo.pop()
        if state in seen:
            continue
        seen.add(state)
        name, lang = state
        menu = menus[name]
        reached.add(name)
        sets = (lang,)
        menu_node = r.menu_nodes[name]
        checks.need_prompt(
            menu_node.get("prompt", menu_node["@"]), f"ivr.menus.{name}.prompt", menu.prompt, sets
        )
        if menu.retries > 0 and menu.options:  # the invalid-key notice is only played when a retry follows
            checks.need_prompt(
                menu_node.get("invalid_prompt", menu_node["@"]),
                f"ivr.menus.{name}.invalid_prompt",
                menu.invalid_prompt,
                sets,
            )
        actions = [(f"options.{k}", a) for k, a in sorted(menu.options.items())]
        if menu.after_retries is not None:
            actions.append(("after_retries", menu.after_retries))
        for where, action in actions:
            chosen = action.language or lang
            if action.kind is ActionKind.SUBMENU and action.target in menus:
                todo.append((action.target, chosen))
            elif action.kind in (ActionKind.MESSAGE, ActionKind.CALLBACK) and action.target:
                node = menu_node.get(where, menu_node["@"])
                checks.need_prompt(node, f"ivr.menus.{name}.{where}", action.target, (chosen,))
    for name in sorted(set(menus) - reached):
        r.error(
            r.menu_nodes[name]["@key"],
            f"ivr.menus.{name}: unreachable: no option or after_retries of a menu reached from "
            f"ivr.entry {entry!r} leads to it",
        )


def _check_prompts(
    r: _Reader, checks: _Checks, language_sets: dict[str, str], prompts: Mapping[str, Mapping[str, str]]
) -> None:
    every: tuple[str | None, ...] = (None, *sorted(language_sets))
    for node, where, prompt, languages in checks.prompts:
        wanted = sorted(
            {
                BILINGUAL_PROMPT_SET if lang is None else language_sets.get(lang, lang)
                for lang in (every if languages is None else languages)
            }
        )
        for prompt_set in wanted:
            if prompt_set in prompts and prompt not in prompts[prompt_set]:
                r.error(
                    node,
                    f"{where}: prompt {prompt!r} is missing from prompt set {prompt_set!r} "
                    f"(prompts.{prompt_set})",
                )


def _check_anonymous_offer(
    r: _Reader, checks: _Checks, language_sets: dict[str, str], prompts: Mapping[str, Mapping[str, str]]
) -> None:
    """A queue offering callbacks plays its offer to every waiting caller; callers without a number hear
    the ``<set>_anonymous`` variant instead (routing/plan.py), which must therefore exist: without it
    Asterisk falls back to the offer, and they would be offered a callback they cannot have. One problem
    per missing variant, at the first queue that needs it."""
    missing: dict[str, list[tuple[Node, str]]] = {}
    for node, where, lang in checks.offers:
        prompt_set = language_sets.get(lang)
        if prompt_set is None or prompt_set not in prompts:
            continue  # reported already (no such language or prompt set)
        variant = prompt_set + ANONYMOUS_VARIANT
        if CALLBACK_OFFER_PROMPT not in prompts.get(variant, {}):
            missing.setdefault(variant, []).append((node, where))
    for variant, needs in missing.items():
        node, where = needs[0]
        others = f" (and {len(needs) - 1} more queue(s) of that language)" if len(needs) > 1 else ""
        r.error(
            node,
            f"{where}{others}: callers without a number would hear the callback offer they cannot take: "
            f"add prompts.{variant}.{CALLBACK_OFFER_PROMPT} (what they hear instead, e.g. a request to hold)",
        )


def _agents(r: _Reader, node: Node | None, line_codes: set[str], lang_codes: set[str]) -> list[AgentPlan]:
    agents = []
    for ext, anode in r.mapping(node, "agents").items():
        fields = r.mapping(anode, f"agents.{ext}", {"name", "skills", "languages"})
        if not ext.isdigit():
            r.error(r.key_of(anode), f"agents: {ext!r} must be the agent's extension (digits)")
        skills = r.texts(fields.get("skills"), f"agents.{ext}.skills")
        langs = r.texts(fields.get("languages"), f"agents.{ext}.languages")
        for skill in skills:
            if skill not in line_codes:
                r.error(fields["skills"], f"agents.{ext}.skills: nobody defined the service line {skill!r}")
        for lang in langs:
            if lang not in lang_codes:
                r.error(fields["languages"], f"agents.{ext}.languages: no language {lang!r}")
        agents.append(
            AgentPlan(ext, r.text(fields.get("name"), f"agents.{ext}.name", ext) or ext, skills, langs)
        )
    return agents


def _seats(r: _Reader, node: Node | None, extensions: set[str], root: Node) -> SeatPlan:
    fields = r.mapping(node, "seats", {"base", "max", "standby", "callback", "overflow"})
    before = len(r.problems)
    base = r.integer(fields.get("base"), "seats.base", 8, low=1, high=MAX_SEATS)
    maximum = r.integer(fields.get("max"), "seats.max", MAX_SEATS, low=1, high=MAX_SEATS)
    if base > maximum and len(r.problems) == before:  # not when either was unreadable: no made-up value
        r.error(fields.get("base", node or root), f"seats.base ({base}) is above seats.max ({maximum})")
    standby = r.texts(fields.get("standby"), "seats.standby")
    for ext in standby:
        if ext not in extensions:
            r.error(fields["standby"], f"seats.standby: no agent {ext!r}")
    if len(set(standby)) != len(standby):
        r.error(fields["standby"], "seats.standby names an agent twice")
    callback = r.text(fields.get("callback"), "seats.callback")
    if callback is not None and callback not in extensions:
        r.error(fields["callback"], f"seats.callback: no agent {callback!r}")
    overflow = _overflow_thresholds(r, fields.get("overflow"), base, maximum)
    return SeatPlan(base=base, maximum=maximum, standby=standby, callback=callback, overflow=overflow)


def _overflow_thresholds(r: _Reader, node: Node | None, base: int, maximum: int) -> Mapping[str, float]:
    """``seats.overflow``: the overflow controller's thresholds (docs/CONFIG.md), checked together."""
    allowed = {f for f in OverflowPolicy.__dataclass_fields__ if f not in ("base_seats", "max_seats")}
    fields = r.mapping(node, "seats.overflow", allowed)
    ints = {"open_waiting", "waiting_step", "close_waiting"}
    values: dict[str, float] = {}
    for key, value_node in fields.items():
        value = r.number(value_node, f"seats.overflow.{key}", 0, integer=key in ints)
        if value < 0:
            r.error(value_node, f"seats.overflow.{key} must not be negative")
        values[key] = value
    if values:
        try:
            OverflowPolicy(base_seats=min(base, maximum), max_seats=maximum, **values)  # type: ignore[arg-type]
        except PolicyError as exc:
            r.error(node or fields[next(iter(fields))], f"seats.overflow: {exc}")
    return MappingProxyType(values)


def _hours(r: _Reader, node: Node | None, line_codes: set[str], checks: _Checks) -> HoursPlan:
    if node is None:
        return HoursPlan()
    fields = r.mapping(
        node,
        "hours",
        {"timezone", "year", "schedules", "service_lines", "holidays", "workdays", "out_of_hours"},
    )
    timezone = r.text(fields.get("timezone"), "hours.timezone", "Asia/Shanghai") or "Asia/Shanghai"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        r.error(fields["timezone"], f"hours.timezone: unknown time zone {timezone!r} (e.g. Asia/Shanghai)")
        timezone = "Asia/Shanghai"
    year = r.integer(fields.get("year"), "hours.year", 0, low=2000, high=2100) if "year" in fields else None
    schedules = [
        _schedule(r, name, snode)
        for name, snode in r.mapping(fields.get("schedules"), "hours.schedules").items()
    ]
    known = {s.name for s in schedules} | {ALWAYS_OPEN}
    default = ALWAYS_OPEN
    by_line: dict[str, str] = {}
    for line, lnode in r.mapping(fields.get("service_lines"), "hours.service_lines").items():
        schedule = r.text(lnode, f"hours.service_lines.{line}")
        if schedule is None:
            continue
        if schedule not in known:
            r.error(
                lnode,
                f"hours.service_lines.{line}: no schedule {schedule!r} "
                f"(hours.schedules: {', '.join(sorted(known))})",
            )
        if line == "default":
            default = schedule
        elif line not in line_codes:
            r.error(r.key_of(lnode), f"hours.service_lines: no service line {line!r}")
        else:
            by_line[line] = schedule
    holidays = _holidays(r, fields.get("holidays"), year)
    workdays: set[date] = set()
    for item in r.items(fields.get("workdays"), "hours.workdays"):
        day = _date(r, item, "hours.workdays", year)
        if day is None:
            continue
        holiday = next((h for h in holidays if h.first <= day <= h.last), None)
        if holiday is not None:
            r.error(item, f"hours.workdays: {day} is inside the holiday {holiday.name!r}; it cannot be both")
        elif day.weekday() < 5:
            r.error(
                item,
                f"hours.workdays: {day} is a {day.strftime('%A')}, already a working day; "
                "make-up working days are Saturdays or Sundays",
            )
        elif day in workdays:
            r.error(item, f"hours.workdays: {day} appears twice")
        workdays.add(day)
    out_of_hours = None
    if "out_of_hours" in fields:
        out_of_hours = _action(
            r,
            fields["out_of_hours"],
            "hours.out_of_hours",
            checks.languages,
            allowed={ActionKind.MESSAGE, ActionKind.CALLBACK, ActionKind.TRANSFER, ActionKind.QUEUE},
        )
        if out_of_hours is not None:
            checks.action_targets(fields["out_of_hours"], "hours.out_of_hours", out_of_hours)
            if out_of_hours.kind in (ActionKind.MESSAGE, ActionKind.CALLBACK) and out_of_hours.target:
                # Hours may be checked before the caller chose a language: every set needs the notice.
                checks.need_prompt(fields["out_of_hours"], "hours.out_of_hours", out_of_hours.target, None)
    return HoursPlan(
        timezone=timezone,
        schedules=tuple(schedules),
        default_schedule=default,
        service_lines=MappingProxyType(by_line),
        holidays=tuple(holidays),
        workdays=frozenset(workdays),
        out_of_hours=out_of_hours,
    )


def _schedule(r: _Reader, name: str, node: Node) -> Schedule:
    where = f"hours.schedules.{name}"
    if name == ALWAYS_OPEN:
        r.error(r.key_of(node), f"{where}: {ALWAYS_OPEN!r} is built in (open at all times); use another name")
    if isinstance(node, ScalarNode) and node.value == ALWAYS_OPEN:
        return Schedule(name, always_open=True)
    fields = r.mapping(node, where, _SCHEDULE_KEYS)
    daily = _windows(r, fields.get("daily"), f"{where}.daily")
    days = tuple(_windows(r, fields[d], f"{where}.{d}") if d in fields else daily for d in _DAYS)
    workday = _windows(r, fields["workday"], f"{where}.workday") if "workday" in fields else None
    return Schedule(
        name, weekdays=days, holiday=_windows(r, fields.get("holiday"), f"{where}.holiday"), workday=workday
    )


def _windows(r: _Reader, node: Node | None, where: str) -> tuple[TimeWindow, ...]:
    """``"08:00-20:00"``, a list of such windows, or ``closed``."""
    if node is None:
        return ()
    if isinstance(node, ScalarNode) and node.value == "closed":
        return ()
    out: list[tuple[Node, TimeWindow]] = []
    for item in r.items(node, where):
        text = r.text(item, where)
        if text is None:
            continue
        window = _window(r, item, where, text)
        if window is None:
            continue
        clash = next(
            (w for _, w in out if window.start_minute < w.end_minute and w.start_minute < window.end_minute),
            None,
        )
        if clash is not None:
            r.error(item, f"{where}: {window} overlaps {clash}")
            continue
        out.append((item, window))
    return tuple(sorted((w for _, w in out), key=lambda w: w.start_minute))


def _window(r: _Reader, node: Node, where: str, text: str) -> TimeWindow | None:
    m = _WINDOW.match(text)
    if m is None:
        r.error(node, f"{where}: {text!r} is not a time window like 08:00-20:00 (or closed)")
        return None
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    for hour, minute in ((h1, m1), (h2, m2)):
        if hour > 24 or minute > 59 or (hour == 24 and minute != 0):
            r.error(node, f"{where}: {hour:02d}:{minute:02d} is not a time of day (00:00 to 24:00)")
            return None
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if end == start:
        r.error(node, f"{where}: {text.strip()} is empty (it ends when it starts)")
        return None
    if end < start:
        r.error(
            node,
            f"{where}: {text.strip()} ends before it starts; a window cannot cross midnight: write "
            f"{h1:02d}:{m1:02d}-24:00 on this day and 00:00-{h2:02d}:{m2:02d} on the next",
        )
        return None
    return TimeWindow(start, end)


def _date(r: _Reader, node: Node, where: str, year: int | None) -> date | None:
    text = r.text(node, where)
    if text is None:
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        r.error(node, f"{where}: {text!r} is not a date like 2025-10-01")
        return None
    if year is not None and day.year != year:
        r.error(node, f"{where}: {day} is not in hours.year {year}")
    return day


def _holidays(r: _Reader, node: Node | None, year: int | None) -> list[Holiday]:
    """``name: 2025-10-01..2025-10-08`` (or one date) per holiday."""
    out: list[Holiday] = []
    for name, hnode in r.mapping(node, "hours.holidays").items():
        where = f"hours.holidays.{name}"
        text = r.text(hnode, where)
        if text is None:
            continue
        first_text, _, last_text = text.partition("..")
        try:
            first = date.fromisoformat(first_text.strip())
            last = date.fromisoformat(last_text.strip()) if last_text else first
        except ValueError:
            r.error(
                hnode,
                f"{where}: {text!r} is not a date like 2025-10-01 or a range like 2025-10-01..2025-10-08",
            )
            continue
        if last < first:
            r.error(hnode, f"{where}: {text} ends before it starts")
            continue
        if last - first > timedelta(days=30):
            r.error(hnode, f"{where}: {text} is longer than 30 days; is a date mistyped?")
            continue
        if year is not None and (first.year != year or last.year != year):
            r.error(hnode, f"{where}: {text} is not in hours.year {year}")
        clash = next((h for h in out if first <= h.last and h.first <= last), None)
        if clash is not None:
            r.error(hnode, f"{where}: {text} overlaps the holiday {clash.name!r}")
            continue
        out.append(Holiday(name, first, last))
    return out


def _survey(r: _Reader, node: Node | None) -> SurveyPlan | None:
    if node is None:
        return None
    fields = r.mapping(
        node, "survey", {"enabled", "intro", "questions", "thanks", "timeout", "satisfied", "agents_see_own"}
    )
    if not r.flag(fields.get("enabled"), "survey.enabled", True):
        return None
    questions = []
    for name, qnode in r.mapping(fields.get("questions"), "survey.questions").items():
        qfields = r.mapping(qnode, f"survey.questions.{name}", {"prompt", "max"})
        questions.append(
            SurveyQuestion(
                name,
                r.name(qfields.get("prompt"), f"survey.questions.{name}.prompt") or name,
                r.integer(qfields.get("max"), f"survey.questions.{name}.max", 5, low=1, high=9),
            )
        )
    if not questions:
        r.error(node, "survey: at least one question is needed (or enabled: no)")
    return SurveyPlan(
        intro=r.name(fields.get("intro"), "survey.intro") or "survey-intro",
        questions=tuple(questions),
        thanks=r.name(fields.get("thanks"), "survey.thanks") or "survey-thanks",
        timeout_seconds=r.number(fields.get("timeout"), "survey.timeout", 5.0),
        satisfied=frozenset(
            r.integer(item, "survey.satisfied", 1, low=1, high=9)
            for item in r.items(fields.get("satisfied"), "survey.satisfied")
        ),
        agents_see_own=r.flag(fields.get("agents_see_own"), "survey.agents_see_own", True),
    )
