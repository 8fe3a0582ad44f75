"""Crisis alerts that stay until a supervisor acknowledges them.

Others publish ``hub.publish("crisis-alert", {...})``; the book listens on the hub like a page does (one
bounded subscriber, drained by a task owned by ``Hotline``), keeps every alert with an id, and on
acknowledgement publishes ``crisis-ack`` so that every open wallboard drops it. A reloaded wallboard reads
the open alerts over HTTP. In memory: a restart forgets acknowledged and open alerts alike.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from callcenter.auth.roles import SUPERVISORS, Principal, Role
from callcenter.web.hub import LiveHub

log = logging.getLogger(__name__)

ALERT_TOPIC = "crisis-alert"
ACK_TOPIC = "crisis-ack"
_LISTENER = Principal(0, "crisis-alert-book", "crisis alert book", frozenset(Role))


@dataclass(slots=True)
class CrisisAlert:
    id: int
    received_at: datetime
    data: dict[str, Any]
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "received_at": self.received_at.isoformat(),
            "data": self.data,
            "acknowledged_by": self.acknowledged_by,
            "acknowledged_at": None if self.acknowledged_at is None else self.acknowledged_at.isoformat(),
        }


class UnknownAlertError(LookupError):
    pass


class AlertBook:
    def __init__(self, hub: LiveHub, *, keep: int = 500) -> None:
        self._hub = hub
        self._keep = keep
        self._alerts: OrderedDict[int, CrisisAlert] = OrderedDict()
        self._ids = itertools.count(1)

    def open_alerts(self) -> list[CrisisAlert]:
        return [a for a in self._alerts.values() if a.acknowledged_by is None]

    def add(self, data: dict[str, Any]) -> CrisisAlert:
        alert = CrisisAlert(next(self._ids), datetime.now(UTC), data)
        self._alerts[alert.id] = alert
        while len(self._alerts) > self._keep:
            self._alerts.popitem(last=False)
        return alert

    def acknowledge(self, alert_id: int, by: str) -> CrisisAlert:
        alert = self._alerts.get(alert_id)
        if alert is None:
            raise UnknownAlertError(alert_id)
        if alert.acknowledged_by is None:
            alert.acknowledged_by = by
            alert.acknowledged_at = datetime.now(UTC)
            self._hub.publish(ACK_TOPIC, alert.as_dict(), roles=SUPERVISORS)
        return alert

    async def run(self) -> None:
        """Listen for alerts until cancelled (a task owned by ``Hotline``)."""
        sub = self._hub.subscribe(_LISTENER, frozenset({ALERT_TOPIC}))
        try:
            while True:
                text = await sub.queue.get()
                message = json.loads(text)
                data = message.get("data")
                alert = self.add(data if isinstance(data, dict) else {"text": str(data)})
                log.warning("crisis alert %d: %s", alert.id, alert.data)
        finally:
            self._hub.unsubscribe(sub)
