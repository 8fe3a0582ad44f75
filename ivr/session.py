"""One caller's IVR session: the menu walk (``ivr/menu.py``) played over a FastAGI channel.

The dialplan (``asterisk-config/extensions.conf``) has already run ``Answer()`` and cleared
``HOTLINE_QUEUE`` before ``AGI()``: the session does not answer again (an extra ``ANSWER`` is a round trip
for nothing, and on a dead channel a ``511``).

Each :class:`~ivr.menu.Prompt` becomes ``STREAM FILE <notice> ""`` (only after an invalid key) and
``GET DATA <prompt> <timeout ms> <max digits>``, which collects digits while the prompt plays (``#`` pressed
first is passed to the walk as ``"#"``: GET DATA swallows it as its terminator). When the walk
finishes the session sets, in this order::

    HOTLINE_LANGUAGE, HOTLINE_MENU_PATH, HOTLINE_PRIORITY, HOTLINE_QUEUE_TIMEOUT,
    HOTLINE_ACTION and HOTLINE_ACTION_TARGET (only for crisis/callback/transfer/message),
    HOTLINE_DISPOSITION (only when the call must not be queued),
    HOTLINE_ANONYMOUS=1 (only for a caller without a number: the queue then asks them to hold instead of
    offering a callback, see [hotline-queue-voice] in the rendered dialplan),
    HOTLINE_QUEUE  -- last: the dialplan tests it, so a half-finished session falls back cleanly.

A hang-up raises :class:`~ivr.agi.protocol.AgiHangup` out of :func:`run_ivr` before anything more is sent;
the server then closes the connection. A prompt Asterisk cannot play (``result=-1`` on a live channel) is
logged and counted as a timeout, so a missing sound file still routes the caller (to ``after_retries`` or
the default queue) instead of dropping the call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from routing.plan import ActionKind, HotlinePlan

from .agi.protocol import AgiCommandFailedError
from .agi.server import AgiChannel, AgiHandler
from .hours_gate import CallerScreen, after_walk, for_anonymous, screen_caller
from .menu import IvrResult, MenuWalk, Prompt

__all__ = ["StepLatencyHook", "keyed_input", "make_ivr_route", "result_variables", "run_ivr"]

log = logging.getLogger(__name__)

StepLatencyHook = Callable[[float], None]
"""Called with the seconds from receiving a reply to sending the next command (menu-walk overhead)."""


def result_variables(result: IvrResult) -> list[tuple[str, str]]:
    """The channel variables for ``result``, in the order they are set (``HOTLINE_QUEUE`` last)."""
    variables = [
        ("HOTLINE_LANGUAGE", result.language),
        ("HOTLINE_MENU_PATH", result.menu_path),
        ("HOTLINE_PRIORITY", str(result.priority)),
        ("HOTLINE_QUEUE_TIMEOUT", str(result.queue_timeout_seconds)),
    ]
    if result.action is not ActionKind.QUEUE:
        variables.append(("HOTLINE_ACTION", str(result.action)))
        if result.target:
            variables.append(("HOTLINE_ACTION_TARGET", result.target))
    if result.disposition:
        variables.append(("HOTLINE_DISPOSITION", result.disposition))
    if result.anonymous:
        variables.append(("HOTLINE_ANONYMOUS", "1"))
    variables.append(("HOTLINE_QUEUE", result.queue))
    return variables


def keyed_input(collected: str, *, timed_out: bool) -> str | None:
    """What GET DATA's reply means for the walk: None when nothing was keyed before the timeout. ``#``
    ends GET DATA and is not returned, so an empty result without ``(timeout)`` is ``"#"`` pressed first
    (a menu may offer it as an option)."""
    if timed_out:
        return collected or None
    return collected or "#"


async def run_ivr(
    channel: AgiChannel,
    plan: HotlinePlan,
    *,
    clock: Callable[[], float],
    on_step_latency: StepLatencyHook | None = None,
    screen: CallerScreen | None = None,
    now: Callable[[], datetime] | None = None,
) -> IvrResult:
    """Walk ``plan``'s menus with the caller, set the ``HOTLINE_*`` variables and return the result.
    Blocked numbers, anonymous callers and closed hours are handled around the walk by
    ``ivr/hours_gate.py`` (hours only when ``now`` is given).

    Raises :class:`~ivr.agi.protocol.AgiHangup` when the caller hangs up (nothing more is set)."""
    gate = await screen_caller(channel, plan, screen)
    if gate.blocked:
        return IvrResult(plan.default_language, "", "", plan.default_priority, 0, disposition="blocked")
    walk = MenuWalk(plan)
    step = walk.start()
    replied_at: float | None = None

    def command_about_to_be_sent() -> None:
        nonlocal replied_at
        if replied_at is not None and on_step_latency is not None:
            on_step_latency(clock() - replied_at)
        replied_at = None

    uniqueid = channel.request.uniqueid
    while isinstance(step, Prompt):
        command_about_to_be_sent()
        if step.notice is not None:
            try:
                await channel.stream_file(step.notice)
            except AgiCommandFailedError:
                log.warning("IVR %s: cannot play %s", uniqueid, step.notice)
        digits: str | None
        try:
            collected, timed_out = await channel.get_data(
                step.prompt_file, max(1, round(step.timeout_seconds * 1000)), step.max_digits
            )
            digits = keyed_input(collected, timed_out=timed_out)
        except AgiCommandFailedError:
            log.warning("IVR %s: cannot play %s; counted as a timeout", uniqueid, step.prompt_file)
            digits = None
        replied_at = clock()
        step = walk.on_input(digits)

    if now is not None:
        result = await after_walk(channel, plan, step.result, gate.number, screen, now)
    else:  # no business hours to apply
        result = for_anonymous(step.result, gate.number)
    command_about_to_be_sent()
    for name, value in result_variables(result):
        await channel.set_variable(name, value)
    log.info(
        "IVR %s: path %s → queue %s (language %s, priority %d)",
        uniqueid,
        result.menu_path,
        result.queue,
        result.language,
        result.priority,
    )
    return result


def make_ivr_route(
    plan_provider: Callable[[], HotlinePlan],
    *,
    clock: Callable[[], float] = time.monotonic,
    on_step_latency: StepLatencyHook | None = None,
    screen: CallerScreen | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> AgiHandler:
    """The handler for route ``ivr``. The plan is read once when the call arrives, so a configuration
    swap never changes the menus under a caller who is mid-menu."""

    async def ivr_route(channel: AgiChannel) -> None:
        plan = plan_provider()
        await run_ivr(channel, plan, clock=clock, on_step_latency=on_step_latency, screen=screen, now=now)

    return ivr_route
