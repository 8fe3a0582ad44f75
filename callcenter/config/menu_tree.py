"""What callers will hear: the menu tree of a plan, per language, as data and as an HTML page.

:func:`menu_tree` walks the plan the way :mod:`ivr.menu` does (prompt sets, ``{language}`` queues, the
default queue after the last retry, the crisis queue) and returns a tree of :class:`TreeNode`;
:func:`menu_tree_html` draws every language's tree as one self-contained HTML page for ops staff. Both are
pure: the web route (to be wired by the lead) only loads the plan and returns the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from routing.plan import BILINGUAL_PROMPT_SET, ActionKind, HotlinePlan, Menu, MenuAction

__all__ = ["TreeNode", "menu_tree", "menu_tree_html", "menu_trees"]


@dataclass(frozen=True, slots=True)
class TreeNode:
    """One step of the caller's walk.

    ``key`` is what the caller presses to get here (``""`` for the entry menu, ``"t"`` for "after the last
    timeout or invalid key"); ``kind`` is ``menu``, an :class:`ActionKind` value, ``language`` (the option
    switches to another language, whose tree is drawn apart), ``loop`` (back to a menu drawn above) or
    ``default`` (the plan's default queue)."""

    key: str
    kind: str
    label: str
    prompt: str | None = None  # the sound file, "set/name"
    transcript: str | None = None  # what the caller hears, from the plan's prompts
    detail: str = ""  # timeouts and retries of a menu, the priority of a queue
    children: tuple[TreeNode, ...] = ()


def menu_trees(plan: HotlinePlan) -> dict[str, TreeNode]:
    """The tree of every language of the plan, by language code (sorted)."""
    return {lang.code: menu_tree(plan, lang.code) for lang in sorted(plan.languages, key=lambda la: la.code)}


def menu_tree(plan: HotlinePlan, language: str) -> TreeNode:
    """What a caller who speaks ``language`` hears, from the entry menu down."""
    return _Walker(plan, language).menu("", plan.entry_menu, None, ())


class _Walker:
    def __init__(self, plan: HotlinePlan, language: str) -> None:
        self.plan = plan
        self.language = language

    def prompt(self, name: str, chosen: str | None) -> tuple[str, str | None]:
        if chosen is None:
            prompt_set = BILINGUAL_PROMPT_SET
        else:
            lang = self.plan.language(chosen)
            prompt_set = lang.prompt_set if lang is not None else chosen
        return f"{prompt_set}/{name}", self.plan.prompts.get(prompt_set, {}).get(name)

    def menu(
        self, key: str, name: str, chosen: str | None, path: tuple[tuple[str, str | None], ...]
    ) -> TreeNode:
        menu = self.plan.menus.get(name)
        if menu is None:
            return self.default(key)
        if (name, chosen) in path:
            return TreeNode(key, "loop", f"back to menu {name}")
        path = (*path, (name, chosen))
        prompt, transcript = self.prompt(menu.prompt, chosen)
        children = [self.action(k, a, chosen, path) for k, a in sorted(menu.options.items(), key=_key_order)]
        after = (
            self.action("t", menu.after_retries, chosen, path)
            if menu.after_retries is not None
            else self.default("t")
        )
        children.append(after)
        return TreeNode(key, "menu", f"menu {name}", prompt, transcript, _menu_detail(menu), tuple(children))

    def action(
        self, key: str, action: MenuAction, chosen: str | None, path: tuple[tuple[str, str | None], ...]
    ) -> TreeNode:
        if action.language is not None and action.language != self.language:
            lang = self.plan.language(action.language)
            return TreeNode(key, "language", f"{lang.name if lang else action.language} ({action.language})")
        chosen = action.language or chosen
        caller_language = chosen or self.plan.default_language
        match action.kind:
            case ActionKind.SUBMENU:
                return self.menu(key, action.target, chosen, path)
            case ActionKind.QUEUE:
                priority = self.plan.default_priority if action.priority is None else action.priority
                return self.queue(
                    key, action.target.replace("{language}", caller_language), priority, "queue"
                )
            case ActionKind.CRISIS:
                priority = self.plan.crisis_priority if action.priority is None else action.priority
                return self.queue(key, self.plan.crisis_queue or self.plan.default_queue, priority, "crisis")
            case ActionKind.TRANSFER:
                hotline = self.plan.external_hotline(action.target)
                name = f"{hotline.name} " if hotline else ""
                return TreeNode(key, "transfer", f"transfer to {name}{action.target}")
            case ActionKind.MESSAGE | ActionKind.CALLBACK:
                prompt, transcript = (
                    self.prompt(action.target, caller_language) if action.target else (None, None)
                )
                label = (
                    "message, then hang up"
                    if action.kind is ActionKind.MESSAGE
                    else "callback booked, hang up"
                )
                return TreeNode(key, str(action.kind), label, prompt, transcript)
        return self.default(key)  # pragma: no cover - exhaustive

    def queue(self, key: str, name: str, priority: int, kind: str) -> TreeNode:
        queue = self.plan.queue(name)
        if queue is None:  # as the IVR does: a queue the plan lacks routes to the default queue
            name = self.plan.default_queue
            queue = self.plan.queue(name)
        line = next((s.name for s in self.plan.service_lines if queue and s.code == queue.service_line), "")
        detail = f"priority {priority}"
        if queue is not None:
            detail += f", waits at most {queue.max_wait_seconds} s"
            if queue.on_timeout is not None:
                detail += f", then {queue.on_timeout.kind} {queue.on_timeout.target}".rstrip()
        return TreeNode(key, kind, f"queue {name} {line}".rstrip(), detail=detail)

    def default(self, key: str) -> TreeNode:
        node = self.queue(key, self.plan.default_queue, self.plan.default_priority, "default")
        return TreeNode(key, "default", f"default {node.label}", detail=node.detail)


def _key_order(item: tuple[str, MenuAction]) -> tuple[int, str]:
    # As on the keypad: 1-9, then 0, *, #.
    key = item[0]
    return ("1234567890*#".find(key) if key in "1234567890*#" else 99, key)


def _menu_detail(menu: Menu) -> str:
    return f"waits {menu.timeout_seconds:g} s for a key, {menu.retries} retries"


_KEY_NAMES = {"": "", "t": "no key / wrong key, last time"}


def menu_tree_html(plan: HotlinePlan) -> str:
    """A self-contained HTML page: one section per language, each the tree as nested lists."""
    sections = []
    for code, tree in menu_trees(plan).items():
        lang = plan.language(code)
        title = f"{lang.name if lang else code} ({code})"
        sections.append(
            f'<section lang="{escape(code)}"><h2>{escape(title)}</h2><ul class="tree">'
            f"{_node_html(tree)}</ul></section>"
        )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh"><head><meta charset="utf-8">'
        f"<title>{escape(plan.name)} — IVR</title>"
        "<style>"
        "body{font-family:sans-serif;margin:1.5em}"
        ".tree,.tree ul{list-style:none;margin:0;padding-left:1.4em;border-left:1px solid #bbb}"
        ".tree li{margin:.35em 0}"
        ".key{display:inline-block;min-width:1.6em;padding:0 .3em;border:1px solid #666;border-radius:4px;"
        "text-align:center;font-weight:bold;margin-right:.4em}"
        ".kind-crisis .label{color:#b00;font-weight:bold}.kind-language .label,.kind-loop .label{color:#666}"
        ".say{color:#035;font-style:italic}.detail,.file{color:#777;font-size:.85em}"
        "</style></head><body>"
        f"<h1>{escape(plan.name)} ({escape(plan.number)})</h1>" + "".join(sections) + "</body></html>\n"
    )


def _node_html(node: TreeNode) -> str:
    key = _KEY_NAMES.get(node.key, node.key)
    parts = [f'<li class="kind-{escape(node.kind)}">']
    if key:
        parts.append(f'<span class="key">{escape(key)}</span>')
    parts.append(f'<span class="label">{escape(node.label)}</span>')
    if node.detail:
        parts.append(f' <span class="detail">({escape(node.detail)})</span>')
    if node.prompt:
        parts.append(f' <span class="file">{escape(node.prompt)}</span>')
    if node.transcript:
        parts.append(f'<div class="say">“{escape(node.transcript)}”</div>')
    elif node.prompt:
        parts.append('<div class="say">(no transcript)</div>')
    if node.children:
        parts.append("<ul>" + "".join(_node_html(child) for child in node.children) + "</ul>")
    parts.append("</li>")
    return "".join(parts)
