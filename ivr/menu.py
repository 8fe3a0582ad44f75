"""The IVR menu walk: a pure state machine over a :class:`~routing.plan.HotlinePlan`.

No I/O and no asyncio: the session (``ivr/session.py``) plays each :class:`Prompt`, collects digits and feeds
them back with :meth:`MenuWalk.on_input`; the walk answers with the next :class:`Prompt` or with
:class:`Finished` carrying the :class:`IvrResult` the dialplan needs.

Rules:

- Before a language is chosen prompts come from the bilingual set ``hotline/<prompt>``; afterwards from the
  chosen language's ``<prompt_set>/<prompt>``.
- A timeout is recorded ``t`` in the menu path, a key that matches no option ``i``; both count as a retry.
  An invalid key also plays the menu's ``invalid_prompt`` before the menu prompt (``Prompt.notice``).
- After ``retries`` retries (``retries + 1`` tries) the menu's ``after_retries`` action is taken, or the
  plan's default queue when there is none.
- A queue name's ``{language}`` is filled in with the caller's language (the chosen one, else the plan's
  default language). A queue the plan does not know (say ``{language}`` made ``mn-legal`` but only ``zh-*``
  queues exist) routes to the default queue instead: a caller is never sent to a queue Asterisk lacks.
- ``crisis`` goes to ``plan.crisis_queue`` (else the default queue) with ``plan.crisis_priority`` (or the
  option's own priority).
- ``callback``, ``transfer`` and ``message`` finish with that action kind and target; until the dialplan
  implements them the result also names the default queue, so the caller still reaches a person.
- A walk that keeps bouncing between menus (``after_retries`` pointing to a submenu) is bounded by
  ``max_prompts``: past it the caller goes to the default queue.
"""

from __future__ import annotations

from dataclasses import dataclass

from routing.plan import ActionKind, HotlinePlan, Menu, MenuAction

__all__ = [
    "BILINGUAL_PROMPT_SET",
    "PATH_INVALID",
    "PATH_TIMEOUT",
    "Finished",
    "IvrResult",
    "MenuWalk",
    "MenuWalkError",
    "Prompt",
    "Step",
]

BILINGUAL_PROMPT_SET = "hotline"
PATH_TIMEOUT = "t"
PATH_INVALID = "i"
PATH_SEPARATOR = "-"


class MenuWalkError(Exception):
    """The walk was misused (input before start, input after finish) or the plan has no entry menu."""


@dataclass(frozen=True, slots=True)
class Prompt:
    """Play ``notice`` (if any, no digits collected), then ``prompt_file`` while collecting up to
    ``max_digits`` digits, waiting ``timeout_seconds`` for them."""

    prompt_file: str
    timeout_seconds: float
    max_digits: int
    menu: str
    notice: str | None = None


@dataclass(frozen=True, slots=True)
class IvrResult:
    """What the IVR decided; the session turns it into ``HOTLINE_*`` channel variables."""

    language: str
    menu_path: str
    queue: str
    priority: int
    queue_timeout_seconds: int
    action: ActionKind = ActionKind.QUEUE
    target: str = ""  # the action's target for callback/transfer/message (hotline key, prompt name)
    disposition: str | None = None  # "out-of-hours"/"blocked": the call must not be queued
    anonymous: bool = False  # no caller number: no callback can be offered (set by ivr/session.py)


@dataclass(frozen=True, slots=True)
class Finished:
    result: IvrResult


Step = Prompt | Finished


class MenuWalk:
    """One caller's walk through the plan's menus. Create one per call."""

    def __init__(self, plan: HotlinePlan, *, max_prompts: int = 30) -> None:
        if plan.entry_menu not in plan.menus:
            raise MenuWalkError(f"entry menu {plan.entry_menu!r} is not in the plan")
        self._plan = plan
        self._max_prompts = max_prompts
        self._language: str | None = None
        self._path: list[str] = []
        self._menu: Menu = plan.menus[plan.entry_menu]
        self._failures = 0  # timeouts and invalid keys in the current menu
        self._prompts = 0
        self._started = False
        self._result: IvrResult | None = None

    @property
    def language(self) -> str | None:
        """The language the caller chose, None until then."""
        return self._language

    @property
    def menu_path(self) -> str:
        return PATH_SEPARATOR.join(self._path)

    @property
    def result(self) -> IvrResult | None:
        return self._result

    def start(self) -> Step:
        if self._started:
            raise MenuWalkError("the walk has already started")
        self._started = True
        return self._prompt()

    def on_input(self, digits: str | None) -> Step:
        """Feed what the caller keyed in for the last prompt: None for a timeout; ``""`` (``#`` alone) and
        anything that is not an option are invalid keys."""
        if not self._started:
            raise MenuWalkError("on_input() before start()")
        if self._result is not None:
            raise MenuWalkError("the walk has finished")
        if digits is None:
            self._path.append(PATH_TIMEOUT)
            return self._retry(invalid=False)
        action = self._menu.options.get(digits)
        if action is None:
            self._path.append(PATH_INVALID)
            return self._retry(invalid=True)
        self._path.append(digits)
        return self._take(action)

    # -- internals ---------------------------------------------------------------------------------------

    def _retry(self, *, invalid: bool) -> Step:
        self._failures += 1
        if self._failures > self._menu.retries:
            after = self._menu.after_retries
            if after is None:
                return self._finish_default()
            return self._take(after)
        notice = self._prompt_file(self._menu.invalid_prompt) if invalid else None
        return self._prompt(notice=notice)

    def _take(self, action: MenuAction) -> Step:
        if action.language is not None:
            self._language = action.language
        match action.kind:
            case ActionKind.SUBMENU:
                menu = self._plan.menus.get(action.target)
                if menu is None:
                    return self._finish_default()
                self._menu = menu
                self._failures = 0
                return self._prompt()
            case ActionKind.QUEUE:
                priority = self._plan.default_priority if action.priority is None else action.priority
                return self._finish_queue(action.target, priority, ActionKind.QUEUE)
            case ActionKind.CRISIS:
                queue = self._plan.crisis_queue or self._plan.default_queue
                priority = self._plan.crisis_priority if action.priority is None else action.priority
                return self._finish_queue(queue, priority, ActionKind.CRISIS)
            case ActionKind.CALLBACK | ActionKind.TRANSFER | ActionKind.MESSAGE:
                priority = self._plan.default_priority if action.priority is None else action.priority
                return self._finish_queue(self._plan.default_queue, priority, action.kind, action.target)
        raise MenuWalkError(f"unknown action kind {action.kind!r}")  # pragma: no cover - exhaustive enum

    def _prompt(self, *, notice: str | None = None) -> Step:
        self._prompts += 1
        if self._prompts > self._max_prompts:
            return self._finish_default()
        menu = self._menu
        max_digits = max((len(key) for key in menu.options), default=1)
        return Prompt(
            prompt_file=self._prompt_file(menu.prompt),
            timeout_seconds=menu.timeout_seconds,
            max_digits=max(max_digits, 1),
            menu=menu.name,
            notice=notice,
        )

    def _prompt_file(self, prompt: str) -> str:
        if self._language is None:
            return f"{BILINGUAL_PROMPT_SET}/{prompt}"
        language = next((lang for lang in self._plan.languages if lang.code == self._language), None)
        prompt_set = language.prompt_set if language is not None else self._language
        return f"{prompt_set}/{prompt}"

    def _caller_language(self) -> str:
        return self._language if self._language is not None else self._plan.default_language

    def _finish_default(self) -> Step:
        return self._finish_queue(self._plan.default_queue, self._plan.default_priority, ActionKind.QUEUE)

    def _finish_queue(self, queue_name: str, priority: int, action: ActionKind, target: str = "") -> Step:
        language = self._caller_language()
        name = queue_name.replace("{language}", language)
        queue = self._plan.queue(name)
        if queue is None:
            name = self._plan.default_queue.replace("{language}", language)
            queue = self._plan.queue(name)
        # The loader guarantees the default queue exists; should it not, Asterisk's own fallback takes over.
        max_wait = queue.max_wait_seconds if queue is not None else 600
        self._result = IvrResult(
            language=language,
            menu_path=self.menu_path,
            queue=name,
            priority=priority,
            queue_timeout_seconds=max_wait,
            action=action,
            target=target,
        )
        return Finished(self._result)
