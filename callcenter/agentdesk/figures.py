"""Today's figures for the wallboard: ``routing.kpi`` over the calls table, per queue and per hour, and the
hourly charts drawn as SVG on the server (no chart library, no CDN)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from html import escape
from typing import Protocol
from zoneinfo import ZoneInfo

from routing.kpi import CallFact, CallOutcome, KpiSummary, summarise

_OUTCOMES = {
    "answered": CallOutcome.ANSWERED,
    "abandoned": CallOutcome.ABANDONED,
    "queue-timeout": CallOutcome.TIMED_OUT,
    "queue-callback": CallOutcome.CALLBACK,
}


class CallRow(Protocol):
    """The columns of ``calls`` the figures need (``callcenter.db.models.Call`` has them)."""

    @property
    def queue(self) -> str | None: ...
    @property
    def disposition(self) -> str | None: ...
    @property
    def wait_seconds(self) -> float | None: ...
    @property
    def talk_seconds(self) -> float | None: ...
    @property
    def arrived_at(self) -> datetime | None: ...
    @property
    def agent(self) -> str | None: ...


def day_start(now: datetime, timezone: str) -> datetime:
    """Midnight of ``now``'s day in the hotline's time zone (an aware datetime)."""
    local = now.astimezone(ZoneInfo(timezone))
    return datetime.combine(local.date(), time(0), tzinfo=local.tzinfo)


def call_fact(row: CallRow, wrapup_seconds: float) -> CallFact | None:
    """A queued call as a KPI fact; calls that never reached a queue (IVR hang-ups …) are None."""
    outcome = _OUTCOMES.get(row.disposition or "")
    if outcome is None or row.queue is None:
        return None
    answered = outcome is CallOutcome.ANSWERED
    return CallFact(
        outcome=outcome,
        wait_seconds=row.wait_seconds or 0.0,
        talk_seconds=(row.talk_seconds or 0.0) if answered else 0.0,
        wrapup_seconds=wrapup_seconds if answered else 0.0,
    )


def per_queue(rows: Iterable[CallRow], wrapup: Mapping[str, float]) -> dict[str, KpiSummary]:
    facts: dict[str, list[CallFact]] = defaultdict(list)
    for row in rows:
        fact = call_fact(row, wrapup.get(row.queue or "", 0.0))
        if fact is not None and row.queue is not None:
            facts[row.queue].append(fact)
    return {queue: summarise(items) for queue, items in facts.items()}


def calls_per_agent(rows: Iterable[CallRow]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        if row.disposition == "answered" and row.agent:
            counts[row.agent] += 1
    return dict(counts)


@dataclass(frozen=True, slots=True)
class HourFigures:
    hour: int  # 0..23 local time
    offered: int
    answered: int
    service_level: float | None


def per_hour(rows: Iterable[CallRow], wrapup: Mapping[str, float], timezone: str) -> list[HourFigures]:
    zone = ZoneInfo(timezone)
    facts: dict[int, list[CallFact]] = defaultdict(list)
    for row in rows:
        fact = call_fact(row, wrapup.get(row.queue or "", 0.0))
        if fact is not None and row.arrived_at is not None:
            facts[row.arrived_at.astimezone(zone).hour].append(fact)
    out = []
    for hour in range(24):
        s = summarise(facts.get(hour, []))
        out.append(HourFigures(hour, s.offered, s.answered, s.service_level))
    return out


# ------------------------------------------------------------------------------------------ the charts
_W, _H, _LEFT, _BOTTOM, _TOP = 720, 220, 40, 24, 24


def _frame(title: str, y_labels: list[tuple[float, str]]) -> list[str]:
    plot_h = _H - _BOTTOM - _TOP
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" role="img" '
        f'aria-label="{escape(title)}" font-family="Noto Sans CJK SC, sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{_W}" height="{_H}" fill="#fff"/>',
        f'<text x="{_LEFT}" y="12" font-size="12" font-weight="bold">{escape(title)}</text>',
    ]
    for frac, label in y_labels:
        y = _TOP + plot_h * (1 - frac)
        parts.append(f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{_W - 8}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{_LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">{escape(label)}</text>')
    step = (_W - _LEFT - 8) / 24
    for hour in range(0, 24, 2):
        x = _LEFT + step * hour + step / 2
        parts.append(f'<text x="{x:.1f}" y="{_H - 8}" text-anchor="middle">{hour:02d}</text>')
    return parts


def calls_chart(hours: list[HourFigures], title: str) -> str:
    """Bars per hour: offered (light) and answered (dark)."""
    top = max([h.offered for h in hours] + [1])
    plot_h = _H - _BOTTOM - _TOP
    parts = _frame(title, [(0.0, "0"), (0.5, f"{top / 2:g}"), (1.0, str(top))])
    step = (_W - _LEFT - 8) / 24
    for h in hours:
        x = _LEFT + step * h.hour
        for value, colour, inset, cls in (
            (h.offered, "#9ecae1", 2.0, "offered"),
            (h.answered, "#2171b5", 6.0, "answered"),
        ):
            height = plot_h * value / top
            parts.append(
                f'<rect class="{cls}" data-hour="{h.hour}" data-value="{value}" x="{x + inset:.1f}" '
                f'y="{_TOP + plot_h - height:.1f}" width="{step - 2 * inset:.1f}" height="{height:.1f}" '
                f'fill="{colour}"/>'
            )
    parts.append("</svg>")
    return "".join(parts)


def service_level_chart(hours: list[HourFigures], title: str, target: float = 0.8) -> str:
    """A line of the service level per hour (hours without calls are gaps) and the target as a dashed line."""
    plot_h = _H - _BOTTOM - _TOP
    parts = _frame(title, [(0.0, "0%"), (0.5, "50%"), (1.0, "100%")])
    step = (_W - _LEFT - 8) / 24
    y_target = _TOP + plot_h * (1 - target)
    parts.append(
        f'<line x1="{_LEFT}" y1="{y_target:.1f}" x2="{_W - 8}" y2="{y_target:.1f}" '
        'stroke="#e6550d" stroke-dasharray="4 3"/>'
    )
    points: list[tuple[float, float]] = []
    for h in hours:
        if h.service_level is None:
            if len(points) > 1:
                parts.append(_polyline(points))
            points = []
            continue
        x = _LEFT + step * h.hour + step / 2
        y = _TOP + plot_h * (1 - h.service_level)
        points.append((x, y))
        parts.append(
            f'<circle class="sl" data-hour="{h.hour}" data-value="{h.service_level:.3f}" '
            f'cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#31a354"/>'
        )
    if len(points) > 1:
        parts.append(_polyline(points))
    parts.append("</svg>")
    return "".join(parts)


def _polyline(points: list[tuple[float, float]]) -> str:
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return f'<polyline points="{coords}" fill="none" stroke="#31a354" stroke-width="2"/>'


def today_bounds(now: datetime, timezone: str) -> tuple[datetime, datetime]:
    start = day_start(now, timezone)
    return start, start + timedelta(days=1)
