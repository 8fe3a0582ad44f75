"""Asterisk's .conf syntax: `[section]`, `key = value` / `key => value`, `;` comments (`\\;` is literal)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class Section:
    name: str
    entries: list[tuple[str, str, int]] = field(default_factory=list)  # key (as written), value, line

    def get(self, key: str, default: str | None = None) -> str | None:
        for k, v, _ in reversed(self.entries):
            if k.lower() == key:
                return v
        return default


def strip_comment(line: str) -> str:
    out = []
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line) and line[i + 1] == ";":
            out.append(";")
            i += 2
            continue
        if ch == ";":
            break
        out.append(ch)
        i += 1
    return "".join(out)


def parse_conf(text: str) -> list[Section]:
    sections: list[Section] = []
    current: Section | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = strip_comment(raw).strip()
        if not line:
            continue
        if line.startswith("#"):
            log.warning("line %d: %s is not supported, ignored", number, line.split()[0])
            continue
        if line.startswith("["):
            end = line.find("]")
            if end < 0:
                log.warning("line %d: unterminated section header", number)
                continue
            current = Section(line[1:end].strip())
            sections.append(current)
            continue
        if current is None:
            log.warning("line %d: entry outside any section, ignored", number)
            continue
        arrow = line.find("=>")
        equal = line.find("=")
        if arrow >= 0 and arrow <= equal:
            key, value = line[:arrow], line[arrow + 2 :]
        elif equal >= 0:
            key, value = line[:equal], line[equal + 1 :]
        else:
            log.warning("line %d: no '=' in %r, ignored", number, line)
            continue
        current.entries.append((key.strip(), value.strip(), number))
    return sections
