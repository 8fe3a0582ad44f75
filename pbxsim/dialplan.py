"""extensions.conf: contexts, extensions (literal and `_` patterns), priorities, labels, includes, globals."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pbxsim.conf import parse_conf

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Step:
    priority: int
    app: str
    data: str
    label: str | None
    line: int


@dataclass
class Extension:
    name: str
    steps: dict[int, Step] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)
    last: int = 0
    cid: str | None = None  # `exten => 1/_X.,...`: only callers whose number matches (app_queue's exit keys)


@dataclass
class Context:
    name: str
    extensions: dict[str, Extension] = field(default_factory=dict)
    patterns: list[Extension] = field(default_factory=list)
    includes: list[str] = field(default_factory=list)


@lru_cache(maxsize=512)
def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 1  # skip the leading `_`
    while i < len(pattern):
        ch = pattern[i]
        upper = ch.upper()
        if upper == "X":
            out.append("[0-9]")
        elif upper == "Z":
            out.append("[1-9]")
        elif upper == "N":
            out.append("[2-9]")
        elif ch == ".":
            out.append(".+")
        elif ch == "!":
            out.append(".*")
        elif ch == "[":
            end = pattern.find("]", i)
            if end < 0:
                out.append(re.escape(ch))
            else:
                out.append("[" + pattern[i + 1 : end].replace("\\", "\\\\") + "]")
                i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out))


def matches(pattern: str, exten: str) -> bool:
    if not pattern.startswith("_"):
        return pattern == exten
    return _pattern_regex(pattern).fullmatch(exten) is not None


def split_app(text: str) -> tuple[str, str]:
    """`Queue(a,b)` -> ("Queue", "a,b"); `Hangup` -> ("Hangup", "")."""
    text = text.strip()
    paren = text.find("(")
    if paren < 0:
        # The old `App,data` form.
        name, _, data = text.partition(",")
        return name.strip(), data
    data = text[paren + 1 :]
    if data.endswith(")"):
        data = data[:-1]
    return text[:paren].strip(), data


class Dialplan:
    def __init__(self) -> None:
        self.contexts: dict[str, Context] = {}
        self.globals: dict[str, str] = {}

    @classmethod
    def load(cls, path: Path) -> Dialplan:
        return cls.parse(path.read_text(encoding="utf-8"))

    @classmethod
    def parse(cls, text: str) -> Dialplan:
        plan = cls()
        for section in parse_conf(text):
            if section.name == "general":
                continue
            if section.name == "globals":
                for key, value, _ in section.entries:
                    plan.globals[key] = value
                continue
            context = plan.contexts.setdefault(section.name, Context(section.name))
            current: Extension | None = None
            for raw_key, value, line in section.entries:
                key = raw_key.lower()
                if key == "include":
                    context.includes.append(value.strip())
                elif key in ("exten", "same"):
                    current = plan._add_step(context, current, key, value, line)
                elif key in ("ignorepat", "switch", "eswitch", "lswitch"):
                    log.info("line %d: %s is not simulated", line, key)
                else:
                    log.warning("line %d: unknown dialplan entry %r", line, key)
        return plan

    def _add_step(
        self, context: Context, current: Extension | None, key: str, value: str, line: int
    ) -> Extension | None:
        if key == "exten":
            name, sep, rest = value.partition(",")
            if not sep:
                log.warning("line %d: malformed exten %r", line, value)
                return current
            name = name.strip()
            cid = None
            if "/" in name:  # caller-id matching: kept for app_queue's exit keys only, else not simulated
                name, cid = name.split("/", 1)
            ext = context.extensions.get(name) or next((p for p in context.patterns if p.name == name), None)
            if ext is None:
                ext = Extension(name, cid=cid)
                if name.startswith("_"):
                    context.patterns.append(ext)
                else:
                    context.extensions[name] = ext
        else:
            if current is None:
                log.warning("line %d: 'same' without a preceding exten", line)
                return current
            ext, rest = current, value
        prio_text, sep, app_text = rest.partition(",")
        if not sep:
            log.warning("line %d: missing application in %r", line, value)
            return ext
        prio_text = prio_text.strip()
        label = None
        match = re.fullmatch(r"([^()]+)\((.+)\)", prio_text)
        if match:
            prio_text, label = match.group(1).strip(), match.group(2).strip()
        if prio_text == "n":
            priority = ext.last + 1
        elif prio_text == "s":
            priority = ext.last
        elif prio_text.isdigit():
            priority = int(prio_text)
        elif prio_text == "hint":
            return ext
        else:
            log.warning("line %d: bad priority %r", line, prio_text)
            return ext
        app, data = split_app(app_text)
        ext.steps[priority] = Step(priority, app, data, label, line)
        ext.last = priority
        if label:
            ext.labels[label] = priority
        return ext

    # ----- lookups -----
    def find(self, context: str, exten: str, _seen: frozenset[str] = frozenset()) -> Extension | None:
        """The extension `exten` matches in `context` (literal first, then patterns, then includes)."""
        ctx = self.contexts.get(context)
        if ctx is None or context in _seen:
            return None
        ext = ctx.extensions.get(exten)
        if ext is not None:
            return ext
        for pattern in ctx.patterns:
            if matches(pattern.name, exten):
                return pattern
        for included in ctx.includes:
            found = self.find(included, exten, _seen | {context})
            if found is not None:
                return found
        return None

    def exists(self, context: str, exten: str, priority: int = 1) -> bool:
        ext = self.find(context, exten)
        return ext is not None and priority in ext.steps

    def can_match_more(self, context: str, prefix: str) -> bool:
        """Whether some extension of `context` is longer than `prefix` and starts with it."""
        ctx = self.contexts.get(context)
        if ctx is None:
            return False
        return any(name.startswith(prefix) and name != prefix for name in ctx.extensions)

    def priority_of(self, context: str, exten: str, target: str) -> int | None:
        """A priority number or a label of the extension."""
        target = target.strip()
        if target.lstrip("-").isdigit():
            return int(target)
        ext = self.find(context, exten)
        if ext is None:
            return None
        return ext.labels.get(target)


def goto_target(target: str, context: str, exten: str) -> tuple[str, str, str]:
    """``Goto([[context,]exten,]label)`` -> (context, exten, label); a part left out or empty is the
    current one (``context``, ``exten``)."""
    parts = [p.strip() for p in target.split(",")]
    new_context = new_exten = ""
    if len(parts) == 3:
        new_context, new_exten, label = parts
    elif len(parts) == 2:
        new_exten, label = parts
    else:
        label = parts[0]
    return new_context or context, new_exten or exten, label
