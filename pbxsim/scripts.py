"""Scripted callers and the ground truth of each call they place."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pbxsim.channel import Channel, State


@dataclass(frozen=True)
class CallerScript:
    """What an outside caller does.

    `digits`: (delay, digit) pairs; the first delay counts from the moment the dialplan answers, each
    next one from the previous digit. `hangup_after`: patience in seconds from arrival until an agent
    answers (None: waits for ever). `hangup_after_answer`: the caller ends the conversation this many
    seconds after an agent answered (None: the agent ends it).
    """

    number: str
    dialled: str = "12355"
    digits: Sequence[tuple[float, str]] = ()
    hangup_after: float | None = None
    hangup_after_answer: float | None = None
    name: str = ""
    context: str | None = None


@dataclass(frozen=True)
class CallOutcome:
    """Ground truth of one call, in the service's vocabulary for `disposition`."""

    linkedid: str
    caller_number: str
    dialled: str
    digits: str
    queue: str | None
    agent: str | None
    # answered | abandoned | queue-timeout | queue-callback | ivr-callback | ivr-hangup | HOTLINE_DISPOSITION
    disposition: str
    wait_seconds: float | None
    talk_seconds: float | None
    hangup_cause: int
    started_at: float
    ended_at: float
    language: str | None = None  # HOTLINE_LANGUAGE as the IVR left it on the caller's channel
    menu_path: str | None = None  # HOTLINE_MENU_PATH (``fallback`` when the IVR was unreachable)


@dataclass
class PlacedCall:
    linkedid: str
    channel: Channel
    finished: asyncio.Future[CallOutcome]

    async def wait_finished(self, timeout: float | None = None) -> CallOutcome:
        """The outcome, waiting at most `timeout` seconds (the public API the brief asked for)."""
        return await asyncio.wait_for(asyncio.shield(self.finished), timeout)

    def hangup(self) -> None:
        self.channel.request_hangup(16 if self.channel.state == State.UP else 19)


# Leave reasons reported by app_queue (QUEUESTATUS in lower case) that mean "the queue gave up".
QUEUE_GAVE_UP = {"timeout", "full", "joinempty", "leaveempty", "joinunavail", "leaveunavail", "unknown"}


@dataclass
class CallerDriver:
    """Plays a CallerScript on a channel (timers, no task) and builds the CallOutcome."""

    script: CallerScript
    schedule: Callable[[float, Callable[[], None]], asyncio.TimerHandle]
    cancel: Callable[[asyncio.TimerHandle | None], None]
    done: asyncio.Future[CallOutcome]
    record: Callable[[CallOutcome], None]
    pressed: list[str] = field(default_factory=list)
    queue: str | None = None
    queue_result: str | None = None
    agent: str | None = None
    joined_at: float | None = None
    wait_seconds: float | None = None
    talk_started: float | None = None
    talk_seconds: float | None = None
    _patience: asyncio.TimerHandle | None = None
    _timers: list[asyncio.TimerHandle] = field(default_factory=list)

    def start(self, channel: Channel) -> None:
        if self.script.hangup_after is not None:
            self._patience = self.schedule(self.script.hangup_after, lambda: self._give_up(channel))
            self._timers.append(self._patience)

    def _give_up(self, channel: Channel) -> None:
        channel.request_hangup(16 if channel.state == State.UP else 19)

    def on_answer(self, channel: Channel) -> None:
        self._next_digit(channel, 0)

    def _next_digit(self, channel: Channel, index: int) -> None:
        if index >= len(self.script.digits):
            return
        delay, digit = self.script.digits[index]

        def press() -> None:
            if channel.hungup:
                return
            self.pressed.append(digit)
            channel.press(digit)
            self._next_digit(channel, index + 1)

        self._timers.append(self.schedule(delay, press))

    def on_queue_join(self, channel: Channel, queue: str) -> None:
        self.queue = queue
        self.queue_result = None
        self.joined_at = time.time()
        self.wait_seconds = None

    def on_queue_leave(self, channel: Channel, queue: str, reason: str) -> None:
        self.queue = queue
        self.queue_result = reason
        if self.joined_at is not None:
            self.wait_seconds = time.time() - self.joined_at

    def on_agent_answer(self, channel: Channel, queue: str, member: str) -> None:
        self.agent = member
        self.queue_result = "answered"
        if self.joined_at is not None:
            self.wait_seconds = time.time() - self.joined_at
        self.talk_started = time.time()
        self.cancel(self._patience)
        if self.script.hangup_after_answer is not None:
            self._timers.append(
                self.schedule(self.script.hangup_after_answer, lambda: channel.request_hangup(16))
            )

    def on_bridge_end(self, channel: Channel) -> None:
        if self.talk_started is not None:
            self.talk_seconds = time.time() - self.talk_started

    def on_hangup(self, channel: Channel) -> None:
        for handle in self._timers:
            self.cancel(handle)
        if self.agent is not None:
            disposition = "answered"
        elif self.queue_result in QUEUE_GAVE_UP:
            disposition = "queue-timeout"
        elif self.queue_result == "exit-key":
            disposition = "queue-callback"  # the queues' only exit key is the callback offer's
        elif self.queue is not None:
            disposition = "abandoned"
        elif channel.get_var("HOTLINE_DISPOSITION"):
            disposition = channel.get_var("HOTLINE_DISPOSITION") or ""
        elif channel.get_var("HOTLINE_ACTION") == "callback":
            disposition = "ivr-callback"
        else:
            disposition = "ivr-hangup"
        if self.talk_started is not None and self.talk_seconds is None:
            self.talk_seconds = time.time() - self.talk_started
        outcome = CallOutcome(
            linkedid=channel.linkedid,
            caller_number=self.script.number,
            dialled=self.script.dialled,
            digits="".join(self.pressed),
            queue=self.queue,
            agent=self.agent,
            disposition=disposition,
            wait_seconds=self.wait_seconds,
            talk_seconds=self.talk_seconds,
            hangup_cause=channel.hangup_cause,
            started_at=channel.created,
            ended_at=channel.ended_at or time.time(),
            language=channel.get_var("HOTLINE_LANGUAGE") or None,
            menu_path=channel.get_var("HOTLINE_MENU_PATH") or None,
        )
        self.record(outcome)
        if not self.done.done():
            self.done.set_result(outcome)
