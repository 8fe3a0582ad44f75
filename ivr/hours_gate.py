"""What the IVR checks around the menu walk: blocked numbers, repeat callers, anonymous callers and
business hours (issue 9).

Before the walk (:func:`screen_caller`): every call with a number is reported to the screen (repeat-caller
detection happens there); a number in the YAML's ``blocked_numbers`` or blocked by a supervisor hears
``blocked`` (in the default language: nothing was chosen yet), the rejection is logged and the session
ends with ``HOTLINE_DISPOSITION=blocked`` (the dialplan hangs up: the call never reaches a queue). The
dialplan refuses the YAML's list before ``Answer`` already; this catches panel blocks and numbers the
trunk presents differently.

After the walk (:func:`after_walk`):

- an anonymous caller (no caller ID) who chose ``callback`` is queued instead: a callback is impossible;
- when the service line of the chosen queue is closed (``routing.hours.is_open``), the caller hears, in
  their language, the hours (``hours.out_of_hours``'s prompt, default ``closed``), then the options
  ``out-of-hours-options`` (0 crisis, 1 callback, 2 message) or, for anonymous callers,
  ``out-of-hours-options-anonymous`` (0 crisis, 2 message). 0 reaches the crisis queue when its line is
  open (7x24 where the YAML says so); 1 raises the ``HotlineCallback`` UserEvent (the callback service's
  contract) and plays ``callback-booked``; 2 plays ``leave-message``, records with ``RECORD FILE`` (``#``
  ends), hands the file to the screen, raises ``HotlineCallback`` (Reason ``message``) for callers with a
  number, and plays ``message-recorded``. Every closed-hours outcome but the crisis route ends with
  ``HOTLINE_DISPOSITION=out-of-hours``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from routing.callerid import caller_number  # one rule with the reports and work orders
from routing.hours import is_open
from routing.plan import ActionKind, HotlinePlan, national_number

from .agi.protocol import AgiCommandFailedError
from .agi.server import AgiChannel
from .menu import IvrResult

__all__ = [
    "BLOCKED_PROMPT",
    "CallerScreen",
    "GateOutcome",
    "after_walk",
    "caller_number",
    "for_anonymous",
    "screen_caller",
]

log = logging.getLogger(__name__)

BLOCKED_PROMPT = "blocked"
CLOSED_PROMPT = "closed"
OPTIONS_PROMPT = "out-of-hours-options"
OPTIONS_ANONYMOUS_PROMPT = "out-of-hours-options-anonymous"
LEAVE_MESSAGE_PROMPT = "leave-message"
MESSAGE_RECORDED_PROMPT = "message-recorded"
CALLBACK_BOOKED_PROMPT = "callback-booked"
MESSAGE_MAX_MS = 120_000
MESSAGE_DIR = "hotline-messages"


class CallerScreen(Protocol):
    """What the gate needs from the service (``callcenter/blocks/service.py``)."""

    async def arrived(self, number: str, linkedid: str) -> None: ...

    async def blocked_reason(self, number: str) -> str | None: ...

    async def rejected(self, number: str, linkedid: str, reason: str, source: str) -> None: ...

    async def voice_message(
        self, linkedid: str, number: str | None, language: str, path: str, fmt: str, duration_ms: int | None
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class GateOutcome:
    blocked: bool
    number: str | None  # None: anonymous


def _prompt_set(plan: HotlinePlan, language: str) -> str:
    lang = plan.language(language)
    return lang.prompt_set if lang is not None else language


async def _play(channel: AgiChannel, file: str) -> None:
    try:
        await channel.stream_file(file)
    except AgiCommandFailedError:
        log.warning("IVR %s: cannot play %s", channel.request.uniqueid, file)


async def screen_caller(channel: AgiChannel, plan: HotlinePlan, screen: CallerScreen | None) -> GateOutcome:
    """Before the menus: report the arrival, refuse blocked numbers. Sets ``HOTLINE_DISPOSITION=blocked``
    when the caller is refused (then the session must end)."""
    number = caller_number(channel.request.callerid)
    linkedid = channel.request.uniqueid
    if number is None:
        return GateOutcome(blocked=False, number=None)
    if screen is not None:
        await screen.arrived(national_number(number), linkedid)
    reason: str | None = "blocked_numbers" if plan.is_blocked(number) else None
    source = "yaml"
    if reason is None and screen is not None:
        reason = await screen.blocked_reason(national_number(number))
        source = "panel"
    if reason is None:
        return GateOutcome(blocked=False, number=number)
    if screen is not None:
        await screen.rejected(national_number(number), linkedid, reason, source)
    await _play(channel, f"{_prompt_set(plan, plan.default_language)}/{BLOCKED_PROMPT}")
    await channel.set_variable("HOTLINE_DISPOSITION", "blocked")
    log.info("IVR %s: blocked number refused (%s)", linkedid, source)
    return GateOutcome(blocked=True, number=number)


async def _callback_event(channel: AgiChannel, number: str, result: IvrResult, reason: str) -> None:
    await channel.exec(
        "UserEvent",
        f"HotlineCallback,Reason: {reason},Caller: {number},Language: {result.language},"
        f"MenuPath: {result.menu_path},Queue: {result.queue}",
    )


def for_anonymous(result: IvrResult, number: str | None) -> IvrResult:
    """A caller without a number is marked anonymous, and a callback chosen in the menu (impossible
    without a number) becomes a plain queue."""
    if number is not None:
        return result
    if result.action is ActionKind.CALLBACK:
        result = replace(result, action=ActionKind.QUEUE, target="")
    return replace(result, anonymous=True)


async def after_walk(
    channel: AgiChannel,
    plan: HotlinePlan,
    result: IvrResult,
    number: str | None,
    screen: CallerScreen | None,
    now: Callable[[], datetime],
) -> IvrResult:
    """Apply anonymity and business hours to the walk's result (see the module's rules)."""
    result = for_anonymous(result, number)
    queue = plan.queue(result.queue)
    if queue is None or is_open(plan.hours, queue.service_line, now()):
        return result
    return await _out_of_hours(channel, plan, result, number, screen, now)


async def _out_of_hours(
    channel: AgiChannel,
    plan: HotlinePlan,
    result: IvrResult,
    number: str | None,
    screen: CallerScreen | None,
    now: Callable[[], datetime],
) -> IvrResult:
    closed = replace(result, disposition="out-of-hours", action=ActionKind.QUEUE, target="")
    action = plan.hours.out_of_hours
    if action is not None and action.kind is ActionKind.TRANSFER:
        return replace(result, action=ActionKind.TRANSFER, target=action.target)
    if action is not None and action.kind is ActionKind.QUEUE:
        target = plan.queue(action.target.replace("{language}", result.language))
        if target is not None and is_open(plan.hours, target.service_line, now()):
            return replace(result, queue=target.name, queue_timeout_seconds=target.max_wait_seconds)
    prompt_set = _prompt_set(plan, result.language)
    hours_prompt = CLOSED_PROMPT
    if action is not None and action.kind in (ActionKind.MESSAGE, ActionKind.CALLBACK) and action.target:
        hours_prompt = action.target
    await _play(channel, f"{prompt_set}/{hours_prompt}")
    options = OPTIONS_PROMPT if number is not None else OPTIONS_ANONYMOUS_PROMPT
    try:
        collected, _timed_out = await channel.get_data(f"{prompt_set}/{options}", 5000, 1)
    except AgiCommandFailedError:
        collected = ""
    crisis = plan.queue(plan.crisis_queue or plan.default_queue)
    if collected == "0" and crisis is not None and is_open(plan.hours, crisis.service_line, now()):
        return replace(
            result,
            queue=crisis.name,
            priority=plan.crisis_priority,
            queue_timeout_seconds=crisis.max_wait_seconds,
            action=ActionKind.CRISIS,
            target="",
        )
    if collected == "1" and number is not None:
        await _callback_event(channel, number, result, "out-of-hours")
        await _play(channel, f"{prompt_set}/{CALLBACK_BOOKED_PROMPT}")
        return closed
    if collected == "2":
        await _play(channel, f"{prompt_set}/{LEAVE_MESSAGE_PROMPT}")
        path = f"{MESSAGE_DIR}/{channel.request.uniqueid}"
        reply = await channel.command("RECORD", "FILE", path, "wav", "#", str(MESSAGE_MAX_MS), "BEEP")
        duration = reply.endpos // 8 if reply.endpos is not None and reply.endpos >= 0 else None  # 8 kHz
        if screen is not None:
            await screen.voice_message(
                channel.request.uniqueid, number, result.language, path, "wav", duration
            )
        if channel.hung_up or reply.result == "-1":
            return closed
        if number is not None:
            await _callback_event(channel, number, result, "message")
        await _play(channel, f"{prompt_set}/{MESSAGE_RECORDED_PROMPT}")
    return closed
