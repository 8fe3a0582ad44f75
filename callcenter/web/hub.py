"""The live hub: pushes what changed to the pages over WebSocket.

Anything in the service publishes ``hub.publish(topic, data, roles=...)``; every connected page whose user
holds one of ``roles`` (all logged-in users when ``roles`` is None) receives ``{"topic", "data", "seq"}``.
Publishing never blocks the event path: each connection has a bounded queue, and a page too slow to keep
up is disconnected (it reconnects and re-reads the state over HTTP) rather than slowing everyone down.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from callcenter.auth.roles import Principal, Role

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Subscriber:
    principal: Principal
    topics: frozenset[str] | None = None  # None: every topic
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(maxsize=1000))
    overflowed: bool = False


class LiveHub:
    def __init__(self) -> None:
        self._subscribers: set[Subscriber] = set()
        self._seq = 0

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def subscribe(self, principal: Principal, topics: frozenset[str] | None = None) -> Subscriber:
        sub = Subscriber(principal, topics)
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self._subscribers.discard(sub)

    def publish(
        self, topic: str, data: Mapping[str, Any] | list[Any], *, roles: frozenset[Role] | None = None
    ) -> int:
        """Queue the message for every subscriber allowed to see it; returns how many got it."""
        self._seq += 1
        text = json.dumps({"topic": topic, "seq": self._seq, "data": data}, ensure_ascii=False, default=str)
        delivered = 0
        for sub in list(self._subscribers):
            if sub.overflowed or (sub.topics is not None and topic not in sub.topics):
                continue
            if roles is not None and not sub.principal.has_any(roles):
                continue
            try:
                sub.queue.put_nowait(text)
                delivered += 1
            except asyncio.QueueFull:
                sub.overflowed = True
                log.warning("live page of %s too slow; disconnecting it", sub.principal.username)
        return delivered
