"""Prometheus metrics, read from the running hotline at scrape time (nothing on the event path).

One :class:`HotlineMetrics` per :class:`~callcenter.app.Hotline` (its own registry, so tests that build
several hotlines never clash). ``GET /metrics`` (``callcenter/observability/routes.py``) calls
:meth:`HotlineMetrics.render`, which reads the live model, the AMI link, the call writer and the
reconciler, and the last hour of finished calls for the service level (ICMI formula #4,
``routing.kpi.service_level``).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from sqlalchemy import select

from callcenter.db.models import Call
from routing.kpi import DEFAULT_ANSWER_WITHIN_SECONDS, CallFact, CallOutcome, service_level

if TYPE_CHECKING:
    from callcenter.app import Hotline

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SERVICE_LEVEL_WINDOW = timedelta(hours=1)
_OUTCOMES = {
    "answered": CallOutcome.ANSWERED,
    "abandoned": CallOutcome.ABANDONED,
    "queue-timeout": CallOutcome.TIMED_OUT,
    "queue-callback": CallOutcome.CALLBACK,
}


class HotlineMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.calls_waiting = Gauge(
            "hotline_calls_waiting", "Callers waiting in a queue now", ["queue"], registry=r
        )
        self.calls_up = Gauge("hotline_calls_up", "Calls the live model follows now", registry=r)
        self.service_level = Gauge(
            "hotline_service_level_ratio",
            "Share of the last hour's queued calls answered within the target (ICMI formula #4)",
            ["queue"],
            registry=r,
        )
        self.seats_open = Gauge(
            "hotline_seats_open", "Agent devices in at least one queue, not paused", registry=r
        )
        self.ami_connected = Gauge("hotline_ami_connected", "1 while the AMI link is logged in", registry=r)
        self.event_lag = Gauge(
            "hotline_ami_event_lag_seconds",
            "Now minus the Timestamp of the newest AMI event applied",
            registry=r,
        )
        self.spool_depth = Gauge(
            "hotline_db_spool_depth", "Call records waiting to be written to PostgreSQL", registry=r
        )
        self.reconcile_backlog = Gauge(
            "hotline_reconcile_backlog", "Call ends waiting for Asterisk's CDR to be corrected", registry=r
        )
        self.events_applied = Counter(
            "hotline_ami_events_applied", "AMI events applied to the model", registry=r
        )
        self.events_dropped = Counter(
            "hotline_ami_events_dropped", "Malformed AMI events dropped", registry=r
        )
        self.reconciled = Counter("hotline_calls_reconciled", "Calls finished from CDR/queue_log", registry=r)
        self.db_failures = Counter(
            "hotline_db_write_failures", "Failed call-record writes (retried)", registry=r
        )
        self._seen: dict[str, float] = {}

    def _count(self, counter: Counter, key: str, total: float) -> None:
        """Counters mirror totals kept elsewhere: add the increase since the last scrape."""
        before = self._seen.get(key, 0.0)
        if total > before:
            counter.inc(total - before)
        self._seen[key] = total

    async def render(self, hotline: Hotline, now: float | None = None) -> bytes:
        now = time.time() if now is None else now
        model = hotline.model
        self.calls_up.set(len(model.calls()))
        seats: set[str] = set()
        for snap in model.queue_snapshots():
            self.calls_waiting.labels(snap.name).set(len(snap.waiting))
            for member in snap.members:
                if not member.paused and member.status != 5:
                    seats.add(member.state_interface or member.interface)
        if hotline.plan is not None:
            for queue in hotline.plan.queues:
                self.calls_waiting.labels(queue.name)  # every queue shows, at 0 when nobody waits
        self.seats_open.set(len(seats))
        self.ami_connected.set(1 if hotline.ami_connected else 0)
        stamp = hotline.ami_event_at
        self.event_lag.set(max(0.0, now - stamp) if stamp is not None else 0.0)
        writer = hotline.writer
        self.spool_depth.set(writer.pending if writer is not None else 0)
        if writer is not None:
            self._count(self.db_failures, "db_failures", writer.failures)
        reconciler = hotline.reconciler
        if reconciler is not None:
            self.reconcile_backlog.set(reconciler.backlog)
            self._count(self.reconciled, "reconciled", reconciler.stats.reconciled)
        self._count(self.events_applied, "applied", hotline.feed.applied)
        self._count(self.events_dropped, "dropped", hotline.feed.dropped)
        await self._service_levels(hotline, now)
        return generate_latest(self.registry)

    async def _service_levels(self, hotline: Hotline, now: float) -> None:
        if hotline.db is None:
            return
        since = datetime.fromtimestamp(now, UTC) - SERVICE_LEVEL_WINDOW
        stmt = select(Call.queue, Call.disposition, Call.wait_seconds).where(
            Call.ended_at >= since, Call.queue.is_not(None), Call.disposition.in_(list(_OUTCOMES))
        )
        try:
            async with hotline.db.sessions() as session:
                rows = (await session.execute(stmt)).all()
        except Exception:  # PostgreSQL away: the other figures still matter (spool depth above all)
            return
        per_queue: dict[str, list[CallFact]] = {}
        for queue, disposition, wait in rows:
            if queue is None or disposition not in _OUTCOMES:
                continue
            per_queue.setdefault(queue, []).append(CallFact(_OUTCOMES[disposition], float(wait or 0.0)))
        for queue, facts in per_queue.items():
            value = service_level(facts, DEFAULT_ANSWER_WITHIN_SECONDS)
            if value is not None:
                self.service_level.labels(queue).set(value)
