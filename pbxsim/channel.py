"""A simulated channel: its snapshot as AMI shows it, variables, DTMF buffer and hang-up signalling."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Protocol

from pbxsim.events import EventBus, Fields


class State(IntEnum):
    DOWN = 0
    RSRVD = 1
    OFFHOOK = 2
    DIALING = 3
    RING = 4
    RINGING = 5
    UP = 6
    BUSY = 7


STATE_DESC = {
    0: "Down",
    1: "Rsrvd",
    2: "OffHook",
    3: "Dialing",
    4: "Ring",
    5: "Ringing",
    6: "Up",
    7: "Busy",
}

CAUSE_TEXT = {
    0: "Unknown",
    1: "Unallocated (unassigned) number",
    16: "Normal Clearing",
    17: "User busy",
    18: "No user responding",
    19: "User alerting, no answer",
    21: "Call Rejected",
    26: "Answered elsewhere",
    27: "Destination out of order",
    34: "Circuit/channel congestion",
    38: "Network out of order",
    41: "Temporary failure",
    44: "Requested channel not available",
}

ALL_DIGITS = "0123456789*#ABCD"


class ChannelObserver(Protocol):
    """Told what happened to a caller's channel; the scripted caller builds its ground truth from it."""

    def on_answer(self, channel: Channel) -> None: ...
    def on_queue_join(self, channel: Channel, queue: str) -> None: ...
    def on_queue_leave(self, channel: Channel, queue: str, reason: str) -> None: ...
    def on_agent_answer(self, channel: Channel, queue: str, member: str) -> None: ...
    def on_bridge_end(self, channel: Channel) -> None: ...
    def on_hangup(self, channel: Channel) -> None: ...


@dataclass
class Frame:
    """One Gosub level: where Return() goes back to and the LOCAL() variables of the subroutine."""

    context: str
    exten: str
    priority: int
    local: dict[str, str] = field(default_factory=dict)


class Channel:
    def __init__(
        self,
        bus: EventBus,
        name: str,
        uniqueid: str,
        linkedid: str,
        *,
        caller_num: str,
        caller_name: str,
        context: str,
        exten: str,
        priority: int = 1,
        state: State = State.DOWN,
        language: str = "en",
        dnid: str = "",
        on_state: Callable[[Channel], None] | None = None,
    ) -> None:
        self.bus = bus
        self.name = name
        self.uniqueid = uniqueid
        self.linkedid = linkedid
        self.caller_num = caller_num
        self.caller_name = caller_name
        self.connected_num = ""
        self.connected_name = ""
        self.context = context
        self.exten = exten
        self.priority = priority
        self.state = state
        self.language = language
        self.accountcode = ""
        self.dnid = dnid
        self.app = ""
        self.app_data = ""
        self.bridge_id = ""
        self.peer = ""  # the channel it was bridged with (CDR DestinationChannel)
        self.variables: dict[str, str] = {}
        self.cdr_vars: dict[str, str] = {}  # Set(CDR(name)=...): userfield and custom cdr columns
        # Inheritance marks of Set(_X=) / Set(__X=): 1 = one generation, 2 = for ever.
        self.inherit: dict[str, int] = {}
        self.stack: list[Frame] = []
        self.created = time.time()
        self.answered_at: float | None = None
        self.ended_at: float | None = None
        self.hangup_cause = 16
        self.hungup = False  # hang-up requested (remote party or AMI); apps must stop
        self.ended = False  # Hangup event sent
        self.jumped = False  # a Goto changed the position: do not step to priority + 1
        self.redirect: tuple[str, str, int] | None = None
        self.observer: ChannelObserver | None = None
        self.after_hangup: list[Callable[[], None]] = []
        self._on_state = on_state
        loop = asyncio.get_running_loop()
        # Resolved when the current application must stop: hang-up or AMI Redirect.
        self.interrupt: asyncio.Future[None] = loop.create_future()
        self.digits: deque[str] = deque()
        self.recorded: list[str] = []  # RECORD FILE names (the simulator keeps no audio)
        self.heard: list[tuple[float, str]] = []  # (loop time, sound) played by app_queue announcements
        self._digit_waiter: asyncio.Future[None] | None = None

    # ----- snapshot and events -----
    @property
    def tech(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def device(self) -> str:
        """`PJSIP/1002-0000002b` -> `PJSIP/1002`: the device whose state this channel drives."""
        return self.name.rsplit("-", 1)[0]

    def snapshot(self, prefix: str = "") -> Fields:
        return [
            (prefix + "Channel", self.name),
            (prefix + "ChannelState", str(int(self.state))),
            (prefix + "ChannelStateDesc", STATE_DESC.get(int(self.state), "Unknown")),
            (prefix + "CallerIDNum", self.caller_num or "<unknown>"),
            (prefix + "CallerIDName", self.caller_name or "<unknown>"),
            (prefix + "ConnectedLineNum", self.connected_num or "<unknown>"),
            (prefix + "ConnectedLineName", self.connected_name or "<unknown>"),
            (prefix + "Language", self.language),
            (prefix + "AccountCode", self.accountcode),
            (prefix + "Context", self.context),
            (prefix + "Exten", self.exten),
            (prefix + "Priority", str(self.priority)),
            (prefix + "Uniqueid", self.uniqueid),
            (prefix + "Linkedid", self.linkedid),
        ]

    def emit(self, name: str, category: str, extra: Fields | None = None) -> None:
        if self.bus.idle:
            return
        self.bus.emit(name, category, self.snapshot() + (extra or []))

    def announce(self) -> None:
        self.emit("Newchannel", "call")

    def set_state(self, state: State) -> None:
        if state == self.state:
            return
        self.state = state
        if state == State.UP and self.answered_at is None:
            self.answered_at = time.time()
        self.emit("Newstate", "call")
        if self._on_state is not None:
            self._on_state(self)

    def answer(self) -> None:
        first = self.answered_at is None
        self.set_state(State.UP)
        if first and self.observer is not None:
            self.observer.on_answer(self)

    # ----- variables -----
    def set_var(self, name: str, value: str) -> None:
        """Set(name=value). The VarSet event keeps the name as written (`__X`), storage strips it."""
        bare = name.lstrip("_")
        if name.startswith("__"):
            self.inherit[bare] = 2
        elif name.startswith("_"):
            self.inherit[bare] = 1
        if bare.startswith("LOCAL(") and bare.endswith(")") and self.stack:
            self.stack[-1].local[bare[6:-1]] = value
        else:
            self.variables[bare] = value
        self.emit("VarSet", "dialplan", [("Variable", name), ("Value", value)])

    def get_var(self, name: str) -> str | None:
        if self.stack and name in self.stack[-1].local:
            return self.stack[-1].local[name]
        return self.variables.get(name)

    def inherited(self) -> dict[str, tuple[str, int]]:
        """Variables a channel created by this one receives (one underscore is consumed per generation)."""
        return {k: (self.variables[k], level) for k, level in self.inherit.items() if k in self.variables}

    # ----- DTMF -----
    def press(self, digit: str, duration_ms: int = 120) -> None:
        """The remote party pressed a key: DTMFBegin/DTMFEnd, then the digit is readable."""
        if self.hungup:
            return
        self.emit("DTMFBegin", "dtmf", [("Digit", digit), ("Direction", "Received")])
        self.emit(
            "DTMFEnd",
            "dtmf",
            [("Digit", digit), ("DurationMs", str(duration_ms)), ("Direction", "Received")],
        )
        self.digits.append(digit)
        self._wake()

    def _wake(self) -> None:
        waiter = self._digit_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self, seconds: float | None, escape: str = "") -> str | None:
        """Wait up to `seconds` (None: for ever) for one of the `escape` digits.

        Returns the digit, "" on timeout, None when the channel was hung up or redirected. Other digits
        are read and dropped, as Asterisk does while it plays a prompt that they do not interrupt.
        """
        loop = asyncio.get_running_loop()
        deadline = None if seconds is None else loop.time() + seconds
        while True:
            while self.digits:
                digit = self.digits.popleft()
                if digit in escape:
                    return digit
            if self.interrupt.done():
                return None
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return ""
            waiter = loop.create_future()
            self._digit_waiter = waiter
            try:
                await asyncio.wait(
                    (waiter, self.interrupt), timeout=remaining, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                self._digit_waiter = None
                if not waiter.done():
                    waiter.cancel()

    async def sleep(self, seconds: float) -> bool:
        """Wait without reading digits; False when interrupted (hang-up or redirect)."""
        if self.interrupt.done():
            return False
        await asyncio.wait((self.interrupt,), timeout=max(seconds, 0.0))
        return not self.interrupt.done()

    # ----- hang-up -----
    def request_hangup(self, cause: int = 16) -> None:
        """The other end hung up (or AMI Hangup): HangupRequest now, Hangup when the owner finishes."""
        if self.hungup or self.ended:
            return
        self.hungup = True
        self.hangup_cause = cause
        self.emit("HangupRequest", "call", [("Cause", str(cause))])
        self._interrupt()

    def request_redirect(self, context: str, exten: str, priority: int) -> None:
        self.redirect = (context, exten, priority)
        self._interrupt()

    def _interrupt(self) -> None:
        if not self.interrupt.done():
            self.interrupt.set_result(None)
        self._wake()

    def rearm(self) -> None:
        """After a redirect was handled the channel lives on: a fresh interrupt future."""
        if self.interrupt.done() and not self.hungup:
            self.interrupt = asyncio.get_running_loop().create_future()

    def finish(self, cause: int | None = None) -> None:
        """Send the Hangup event (once) and run the post-hang-up hooks."""
        if self.ended:
            return
        if cause is not None and not self.hungup:
            self.hangup_cause = cause
        self.hungup = True
        self.ended = True
        self.ended_at = time.time()
        self._interrupt()
        self.emit(
            "Hangup",
            "call",
            [("Cause", str(self.hangup_cause)), ("Cause-txt", CAUSE_TEXT.get(self.hangup_cause, "Unknown"))],
        )
        if self._on_state is not None:
            self._on_state(self)
        hooks, self.after_hangup = self.after_hangup, []
        for hook in hooks:
            hook()
        if self.observer is not None:
            self.observer.on_hangup(self)
