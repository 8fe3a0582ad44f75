"""Report figures from plain rows: periods, KPI per group, topic trends. No I/O here (the queries are in
``callcenter.reports.queries``); every formula is :mod:`routing.kpi`'s or :mod:`routing.referral`'s, written
down in docs/KPI.md."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from callcenter.reports.occupancy import AgentOccupancy
from routing import kpi
from routing.kpi import CallbackFact, CallFact, CallOutcome, KpiSummary
from routing.referral import ReferralFact, referrals_on_time

UNKNOWN = "unknown"  # a dimension the work order did not fill in (or a call without a work order)
DIMENSIONS = ("queue", "service_line", "language", "age_band", "gender", "region")


class PeriodKind(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


@dataclass(frozen=True, slots=True)
class Period:
    kind: PeriodKind
    first_day: date
    days: int
    zone: str

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(), ZoneInfo(self.zone))

    @property
    def end(self) -> datetime:
        return datetime.combine(self.first_day + timedelta(days=self.days), time(), ZoneInfo(self.zone))

    @property
    def label(self) -> str:
        if self.kind is PeriodKind.DAILY:
            return self.first_day.isoformat()
        if self.kind is PeriodKind.WEEKLY:
            year, week, _ = self.first_day.isocalendar()
            return f"{year}-W{week:02d}"
        return self.first_day.strftime("%Y-%m")

    def buckets(self) -> list[tuple[str, datetime, datetime]]:
        """Trend buckets: hours of a day, days of a week or a month."""
        zone = ZoneInfo(self.zone)
        if self.kind is PeriodKind.DAILY:
            base = self.start
            return [(f"{h:02d}", base + timedelta(hours=h), base + timedelta(hours=h + 1)) for h in range(24)]
        out = []
        for i in range(self.days):
            d = self.first_day + timedelta(days=i)
            start = datetime.combine(d, time(), zone)
            out.append((d.strftime("%m-%d"), start, start + timedelta(days=1)))
        return out


def period_of(kind: PeriodKind, day: date, zone: str) -> Period:
    """The day, the ISO week (Monday first) or the calendar month that contains ``day``."""
    if kind is PeriodKind.DAILY:
        return Period(kind, day, 1, zone)
    if kind is PeriodKind.WEEKLY:
        return Period(kind, day - timedelta(days=day.weekday()), 7, zone)
    first = day.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return Period(kind, first, (nxt - first).days, zone)


@dataclass(frozen=True, slots=True)
class CallRow:
    """One queued call of the period with what its work order says about the caller."""

    outcome: CallOutcome
    wait_seconds: float
    talk_seconds: float
    queue: str | None
    service_line: str | None
    language: str | None
    age_band: str | None = None
    gender: str | None = None
    region: str | None = None
    anonymous: bool = False  # no usable caller number (routing.callerid)


@dataclass(frozen=True, slots=True)
class OrderRow:
    """One work order created in the period."""

    created_at: datetime
    topic: str | None
    service_line: str
    risk_level: str
    referred: bool
    deadline_at: datetime | None
    closed_at: datetime | None
    rejected: bool
    anonymous: bool = False  # opened for a caller without a usable number (routing.callerid)


@dataclass(frozen=True, slots=True)
class GroupFigures:
    group: str
    kpi: KpiSummary


@dataclass
class Report:
    period: Period
    overall: KpiSummary
    occupancy: float | None
    callbacks: int
    callbacks_on_time: float | None
    work_orders: int
    referrals: int
    referrals_on_time: float | None
    crisis_cases: int
    anonymous: KpiSummary  # the call figures of anonymous callers alone, counted like ``overall``
    anonymous_work_orders: int
    by: dict[str, list[GroupFigures]] = field(default_factory=dict)
    topics: list[str] = field(default_factory=list)  # the most frequent first
    trend_labels: list[str] = field(default_factory=list)
    trends: dict[str, list[int]] = field(default_factory=dict)  # topic -> count per bucket
    occupancy_by_agent: list[AgentOccupancy] = field(default_factory=list)  # agent_state_intervals


def call_fact(row: CallRow) -> CallFact:
    return CallFact(row.outcome, row.wait_seconds, row.talk_seconds)


def build_report(
    period: Period,
    calls: Sequence[CallRow],
    orders: Sequence[OrderRow],
    callbacks: Sequence[CallbackFact],
    *,
    now: datetime,
    occupancy: float | None = None,
    occupancy_by_agent: Sequence[AgentOccupancy] = (),
    answer_within_seconds: float = kpi.DEFAULT_ANSWER_WITHIN_SECONDS,
    top_topics: int = 8,
) -> Report:
    def summary(rows: Iterable[CallRow]) -> KpiSummary:
        return kpi.summarise([call_fact(r) for r in rows], answer_within_seconds=answer_within_seconds)

    by: dict[str, list[GroupFigures]] = {}
    for dim in DIMENSIONS:
        groups: dict[str, list[CallRow]] = defaultdict(list)
        for row in calls:
            groups[getattr(row, dim) or UNKNOWN].append(row)
        by[dim] = [GroupFigures(g, summary(rows)) for g, rows in sorted(groups.items())]

    referral_facts = [
        ReferralFact(o.deadline_at, o.closed_at, o.rejected)
        for o in orders
        if o.referred and o.deadline_at is not None
    ]
    topic_counts = Counter(o.topic or UNKNOWN for o in orders)
    topics = [t for t, _ in topic_counts.most_common(top_topics)]
    buckets = period.buckets()
    trends = {t: [0] * len(buckets) for t in topics}
    for o in orders:
        topic = o.topic or UNKNOWN
        if topic not in trends:
            continue
        for i, (_label, start, end) in enumerate(buckets):
            if start <= o.created_at < end:
                trends[topic][i] += 1
                break
    return Report(
        period=period,
        overall=summary(calls),
        occupancy=occupancy,
        occupancy_by_agent=list(occupancy_by_agent),
        callbacks=len(callbacks),
        callbacks_on_time=kpi.callbacks_on_time(callbacks, now),
        work_orders=len(orders),
        referrals=len(referral_facts),
        referrals_on_time=referrals_on_time(referral_facts, now),
        crisis_cases=sum(1 for o in orders if o.risk_level == "crisis" or o.service_line == "crisis"),
        anonymous=summary(r for r in calls if r.anonymous),
        anonymous_work_orders=sum(1 for o in orders if o.anonymous),
        by=by,
        topics=topics,
        trend_labels=[b[0] for b in buckets],
        trends=trends,
    )


# -- flat rows for CSV / XLSX ---------------------------------------------------------------------------
KPI_COLUMNS = (
    "offered",
    "answered",
    "abandoned",
    "short_abandoned",
    "timed_out",
    "callbacks_booked",
    "service_level",
    "average_speed_of_answer",
    "average_handle_time",
    "abandon_rate",
)


def _figure(value: float | int | None) -> float | int | str:
    if value is None:
        return ""
    return round(value, 4) if isinstance(value, float) else value


def report_rows(report: Report) -> list[list[object]]:
    """The report as a table: a header, the whole period, then each dimension's groups, then the case
    figures and the topic trends."""
    rows: list[list[object]] = [["period", "dimension", "group", *KPI_COLUMNS]]
    rows.append(
        [report.period.label, "all", "all", *(_figure(getattr(report.overall, c)) for c in KPI_COLUMNS)]
    )
    rows.append(
        [
            report.period.label,
            "caller_id",
            "anonymous",
            *(_figure(getattr(report.anonymous, c)) for c in KPI_COLUMNS),
        ]
    )
    for dim, groups in report.by.items():
        for g in groups:
            rows.append(
                [report.period.label, dim, g.group, *(_figure(getattr(g.kpi, c)) for c in KPI_COLUMNS)]
            )
    rows.append([])
    rows.append(["period", "figure", "value"])
    for name, value in case_figures(report):
        rows.append([report.period.label, name, _figure(value)])
    if report.occupancy_by_agent:
        rows.append([])
        rows.append(["period", "agent", "occupancy", "handling_seconds", "idle_seconds"])
        for a in report.occupancy_by_agent:
            rows.append(
                [report.period.label, a.agent, _figure(a.occupancy), a.handling_seconds, a.idle_seconds]
            )
    rows.append([])
    rows.append(["topic", *report.trend_labels])
    for topic in report.topics:
        rows.append([topic, *report.trends[topic]])
    return rows


def anonymous_figures(report: Report) -> dict[str, float | int | None]:
    """The figures also counted for anonymous callers alone, by the name of the whole period's figure."""
    figures: dict[str, float | int | None] = {c: getattr(report.anonymous, c) for c in KPI_COLUMNS}
    figures["work_orders"] = report.anonymous_work_orders
    return figures


def case_figures(report: Report) -> list[tuple[str, float | int | None]]:
    return [
        ("occupancy", report.occupancy),
        ("callbacks", report.callbacks),
        ("callbacks_on_time", report.callbacks_on_time),
        ("work_orders", report.work_orders),
        ("anonymous_work_orders", report.anonymous_work_orders),
        ("referrals", report.referrals),
        ("referrals_on_time", report.referrals_on_time),
        ("crisis_cases", report.crisis_cases),
    ]
