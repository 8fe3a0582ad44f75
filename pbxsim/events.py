"""AMI event construction and fan-out.

An event is encoded to bytes once, when it is emitted, and the same bytes object is handed to every
session: with hundreds of channels alive, per-session encoding would dominate the simulator's cost.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger(__name__)

Fields = list[tuple[str, str]]


def clean(value: str) -> str:
    """A header value may not contain a line break: it would end the message early on the wire."""
    if "\r" in value or "\n" in value:
        return value.replace("\r", " ").replace("\n", " ")
    return value


def encode(fields: Iterable[tuple[str, str]]) -> bytes:
    """One AMI message: `Key: Value` lines with CRLF and an empty line at the end."""
    return ("".join(f"{key}: {clean(value)}\r\n" for key, value in fields) + "\r\n").encode("utf-8")


def format_timestamp(epoch: float) -> str:
    """Asterisk prints `<seconds>.<microseconds>` with six digits (timestampevents=yes)."""
    seconds = int(epoch)
    return f"{seconds}.{int((epoch - seconds) * 1_000_000):06d}"


@dataclass(slots=True)
class Event:
    """An emitted event. `category` is the class used for filtering (`call`, `agent`, `dialplan`...)."""

    name: str
    category: str
    fields: Fields
    timestamp: float
    data: bytes = field(default=b"", repr=False)

    def get(self, key: str, default: str = "") -> str:
        for k, v in self.fields:
            if k == key:
                return v
        return default


class Subscriber(Protocol):
    def deliver(self, event: Event) -> None: ...


class EventBus:
    """Sends every event to the logged-in AMI sessions and to in-process listeners (tests, ground truth)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._subscribers: set[Subscriber] = set()
        self._listeners: list[Callable[[Event], None]] = []

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.add(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    def add_listener(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        self._listeners.append(listener)

        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    @property
    def idle(self) -> bool:
        return not self._subscribers and not self._listeners

    def emit(self, name: str, category: str, fields: Fields) -> None:
        # Nobody listening (benchmarks without a client): skip the encoding altogether.
        if not self._subscribers and not self._listeners:
            return
        now = self._clock()
        head = [("Event", name), ("Privilege", f"{category},all"), ("Timestamp", format_timestamp(now))]
        event = Event(name, category, fields, now, encode(head + fields))
        for subscriber in tuple(self._subscribers):
            subscriber.deliver(event)
        for listener in tuple(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken listener must not break the PBX
                log.exception("event listener failed on %s", name)
