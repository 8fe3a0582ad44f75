"""Load ``hotline.yaml`` into a :class:`routing.plan.HotlinePlan`, reporting every problem with its place.

Errors are collected, not raised one at a time: ops staff fix a file in one pass. Each names
``FILE:LINE:COL`` (1-based) of the offending node.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from routing.plan import (
    ActionKind,
    AgentPlan,
    HotlinePlan,
    Language,
    Menu,
    MenuAction,
    QueuePlan,
    ServiceLine,
)


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
}
_STRATEGIES = {"ringall", "rrmemory", "leastrecent", "linear", "fewestcalls", "random", "wrandom"}


class _Reader:
    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[ConfigProblem] = []

    def error(self, node: Node, message: str) -> None:
        mark = node.start_mark
        self.problems.append(ConfigProblem(self.file, mark.line + 1, mark.column + 1, message))

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
        return out

    def text(self, node: Node | None, where: str, default: str | None = None) -> str | None:
        if node is None:
            return default
        if not isinstance(node, ScalarNode) or node.value == "":
            self.error(node, f"{where} must be text")
            return default
        return str(node.value)

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
    top = r.mapping(
        root,
        "the file",
        {"hotline", "languages", "service_lines", "queue_defaults", "queues", "ivr", "agents"},
    )
    plan = _build(r, top, root)
    if r.problems or plan is None:
        raise ConfigError(r.problems)
    return plan


def _build(r: _Reader, top: dict[str, Node], root: Node) -> HotlinePlan | None:
    for required in ("hotline", "languages", "service_lines", "queues", "ivr"):
        if required not in top:
            r.error(root, f"missing section {required!r}")
    hotline = r.mapping(top.get("hotline"), "hotline", {"number", "name", "default_language",
                                                        "default_queue", "crisis_queue", "crisis_priority"})
    languages = []
    for code, node in r.mapping(top.get("languages"), "languages").items():
        fields = r.mapping(node, f"languages.{code}", {"name", "prompt_set"})
        languages.append(Language(code, r.text(fields.get("name"), f"languages.{code}.name", code) or code,
                                  r.text(fields.get("prompt_set"), f"languages.{code}.prompt_set", code) or code))
    lang_codes = {lang.code for lang in languages}
    lines = []
    for code, node in r.mapping(top.get("service_lines"), "service_lines").items():
        fields = r.mapping(node, f"service_lines.{code}", {"name"})
        lines.append(ServiceLine(code, r.text(fields.get("name"), f"service_lines.{code}.name", code) or code))
    line_codes = {s.code for s in lines}

    defaults = r.mapping(top.get("queue_defaults"), "queue_defaults", set(_QUEUE_KEYS))
    queues = []
    for name, node in r.mapping(top.get("queues"), "queues").items():
        fields = r.mapping(node, f"queues.{name}", {"service_line", "language", *_QUEUE_KEYS})
        kwargs: dict[str, object] = {}
        for key, attr in _QUEUE_KEYS.items():
            value_node = fields.get(key, defaults.get(key))
            if value_node is None:
                continue
            if key == "strategy":
                strategy = r.text(value_node, f"queues.{name}.strategy")
                if strategy and strategy not in _STRATEGIES:
                    r.error(value_node, f"queues.{name}.strategy: {strategy!r} is not one of "
                                        f"{', '.join(sorted(_STRATEGIES))}")
                elif strategy:
                    kwargs[attr] = strategy
            else:
                kwargs[attr] = int(r.number(value_node, f"queues.{name}.{key}", 0, integer=True))
        line = r.text(fields.get("service_line"), f"queues.{name}.service_line")
        lang = r.text(fields.get("language"), f"queues.{name}.language")
        if line is None or lang is None:
            r.error(node, f"queues.{name} needs service_line and language")
            continue
        if line not in line_codes:
            r.error(fields["service_line"], f"queues.{name}.service_line: no service line {line!r}")
        if lang not in lang_codes:
            r.error(fields["language"], f"queues.{name}.language: no language {lang!r}")
        queues.append(QueuePlan(name=name, service_line=line, language=lang, **kwargs))  # type: ignore[arg-type]
    queue_names = {q.name for q in queues}

    menus, entry = _menus(r, top.get("ivr"), lang_codes, queue_names)
    agents = []
    for ext, node in r.mapping(top.get("agents"), "agents").items():
        fields = r.mapping(node, f"agents.{ext}", {"name", "skills", "languages"})
        skills = r.texts(fields.get("skills"), f"agents.{ext}.skills")
        langs = r.texts(fields.get("languages"), f"agents.{ext}.languages")
        for skill in skills:
            if skill not in line_codes:
                r.error(fields["skills"], f"agents.{ext}.skills: nobody defined the service line {skill!r}")
        for lang in langs:
            if lang not in lang_codes:
                r.error(fields["languages"], f"agents.{ext}.languages: no language {lang!r}")
        agents.append(AgentPlan(ext, r.text(fields.get("name"), f"agents.{ext}.name", ext) or ext, skills, langs))

    default_language = r.text(hotline.get("default_language"), "hotline.default_language", "zh") or "zh"
    if lang_codes and default_language not in lang_codes:
        r.error(hotline.get("default_language", root), f"hotline.default_language: no language {default_language!r}")
    default_queue = r.text(hotline.get("default_queue"), "hotline.default_queue")
    if default_queue is None:
        r.error(root if "hotline" not in top else top["hotline"], "hotline.default_queue is required")
    elif default_queue not in queue_names:
        r.error(hotline["default_queue"], f"hotline.default_queue: no queue {default_queue!r}")
    crisis_queue = r.text(hotline.get("crisis_queue"), "hotline.crisis_queue")
    if crisis_queue is not None and crisis_queue not in queue_names:
        r.error(hotline["crisis_queue"], f"hotline.crisis_queue: no queue {crisis_queue!r}")
    if r.problems or default_queue is None or entry is None:
        return None
    return HotlinePlan(
        number=r.text(hotline.get("number"), "hotline.number", "12355") or "12355",
        name=r.text(hotline.get("name"), "hotline.name", "12355") or "12355",
        languages=tuple(languages),
        service_lines=tuple(lines),
        queues=tuple(queues),
        default_queue=default_queue,
        entry_menu=entry,
        menus=menus,
        agents=tuple(agents),
        default_language=default_language,
        crisis_queue=crisis_queue,
        crisis_priority=int(r.number(hotline.get("crisis_priority"), "hotline.crisis_priority", 10, integer=True)),
    )


def _menus(
    r: _Reader, node: Node | None, langs: set[str], queues: set[str]
) -> tuple[dict[str, Menu], str | None]:
    ivr = r.mapping(node, "ivr", {"entry", "menus"})
    entry = r.text(ivr.get("entry"), "ivr.entry")
    raw = r.mapping(ivr.get("menus"), "ivr.menus")
    menus: dict[str, Menu] = {}
    targets: list[tuple[Node, str, MenuAction]] = []
    for name, mnode in raw.items():
        fields = r.mapping(mnode, f"ivr.menus.{name}",
                           {"prompt", "timeout", "retries", "invalid_prompt", "options", "after_retries"})
        options: dict[str, MenuAction] = {}
        for key, onode in r.mapping(fields.get("options"), f"ivr.menus.{name}.options").items():
            if key not in set("0123456789*#"):
                r.error(onode, f"ivr.menus.{name}.options: {key!r} is not a telephone key (0-9, * or #)")
                continue
            action = _action(r, onode, f"ivr.menus.{name}.options.{key}", langs)
            if action is not None:
                options[key] = action
                targets.append((onode, f"ivr.menus.{name}.options.{key}", action))
        after = None
        if "after_retries" in fields:
            after = _action(r, fields["after_retries"], f"ivr.menus.{name}.after_retries", langs)
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
            prompt=r.text(fields.get("prompt"), f"ivr.menus.{name}.prompt", name) or name,
            options=options,
            timeout_seconds=timeout,
            retries=retries,
            invalid_prompt=r.text(fields.get("invalid_prompt"), f"ivr.menus.{name}.invalid_prompt",
                                  "invalid") or "invalid",
            after_retries=after,
        )
    for onode, where, action in targets:
        if action.kind is ActionKind.SUBMENU and action.target not in menus:
            r.error(onode, f"{where}: no menu {action.target!r}")
        if action.kind is ActionKind.QUEUE:
            names = {action.target.replace("{language}", lang) for lang in langs} \
                if "{language}" in action.target else {action.target}
            missing = sorted(n for n in names if n not in queues)
            if missing:
                r.error(onode, f"{where}: no queue {', '.join(repr(m) for m in missing)}")
    if entry is None:
        if node is not None:  # a missing ivr section was reported already
            r.error(node, "ivr.entry is required")
    elif entry not in menus:
        r.error(ivr["entry"], f"ivr.entry: no menu {entry!r}")
    return menus, entry


def _action(r: _Reader, node: Node, where: str, langs: set[str]) -> MenuAction | None:
    fields = r.mapping(node, where, {*_ACTION_KEYS, "language", "priority"})
    kinds = [k for k in fields if k in _ACTION_KEYS]
    if len(kinds) != 1:
        r.error(node, f"{where} must lead to exactly one of: {', '.join(sorted(_ACTION_KEYS))}")
        return None
    kind = ActionKind(kinds[0])
    target = "" if kind is ActionKind.CRISIS else (r.text(fields[kinds[0]], f"{where}.{kind.value}") or "")
    language = r.text(fields.get("language"), f"{where}.language")
    if language is not None and language not in langs:
        r.error(fields["language"], f"{where}.language: no language {language!r}")
    priority = fields.get("priority")
    return MenuAction(
        kind=kind,
        target=target,
        language=language,
        priority=int(r.number(priority, f"{where}.priority", 0, integer=True)) if priority is not None else None,
    )
