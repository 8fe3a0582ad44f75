"""The report as HTML: the reports page (period picker, tables, charts) and the printable monthly report.
Chinese first; every chart is inline SVG from :mod:`callcenter.reports.svg`."""

from __future__ import annotations

from html import escape

from callcenter.reports.figures import DIMENSIONS, KPI_COLUMNS, Report, anonymous_figures, case_figures
from callcenter.reports.svg import bar_chart, line_chart

NAMES = {
    "offered": "呼入量 offered",
    "answered": "接通量 answered",
    "abandoned": "放弃量 abandoned",
    "short_abandoned": "短放弃 short abandons",
    "timed_out": "排队超时 timed out",
    "callbacks_booked": "排队中预约回电 callbacks booked in queue",
    "service_level": "服务水平 service level",
    "average_speed_of_answer": "平均应答时间 ASA (s)",
    "average_handle_time": "平均处理时长 AHT (s)",
    "abandon_rate": "放弃率 abandon rate",
    "occupancy": "坐席占用率 occupancy",
    "callbacks": "回电任务 callbacks",
    "callbacks_on_time": "回电及时率 callbacks on time",
    "work_orders": "工单 work orders",
    "anonymous_work_orders": "未显示号码来电的工单 work orders of anonymous callers",
    "referrals": "转办 referrals",
    "referrals_on_time": "转办按时办结率 referrals on time",
    "crisis_cases": "危机个案 crisis cases",
    "queue": "队列 queue",
    "service_line": "服务类别 service line",
    "language": "语言 language",
    "age_band": "年龄段 age band",
    "gender": "性别 gender",
    "region": "地区 region",
    "figure": "指标 figure",
    "all": "全部 all",
    "anonymous": "其中未显示号码来电 of which anonymous callers",
}
RATIOS = {"service_level", "abandon_rate", "occupancy", "callbacks_on_time", "referrals_on_time"}
KINDS = {"daily": "日报", "weekly": "周报", "monthly": "月报"}

STYLE = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border:1px solid #bbb;padding:.2em .5em;text-align:right;font-size:13px}
th:first-child,td:first-child{text-align:left}
h1{font-size:20px}h2{font-size:16px;margin-top:1.5em}
.charts{display:flex;flex-wrap:wrap;gap:1em}
nav a{margin-right:1em}
@media print{nav,form{display:none}body{margin:0}h2{break-before:auto}.chart{break-inside:avoid}}
"""


def fmt(name: str, value: float | int | None) -> str:
    if value is None:
        return "—"
    if name in RATIOS:
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _kpi_table(report: Report, dim: str) -> str:
    head = "".join(f"<th>{escape(NAMES[c])}</th>" for c in KPI_COLUMNS)
    rows = "".join(
        f"<tr><td>{escape(g.group)}</td>"
        + "".join(f"<td>{fmt(c, getattr(g.kpi, c))}</td>" for c in KPI_COLUMNS)
        + "</tr>"
        for g in report.by.get(dim, [])
    )
    return f"<table><thead><tr><th>{escape(NAMES[dim])}</th>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _summary_table(report: Report) -> str:
    """The period's figures, with beside them the same figures for anonymous callers where they exist (a
    supervisor reads "answered 4, of which anonymous 1" on one line)."""
    o = report.overall
    anonymous = anonymous_figures(report)
    summary = [(c, getattr(o, c)) for c in KPI_COLUMNS] + [
        (n, v)
        for n, v in case_figures(report)
        if n != "anonymous_work_orders"  # in its column instead
    ]
    head = "".join(f"<th>{escape(NAMES[n])}</th>" for n in ("figure", "all", "anonymous"))
    rows = "".join(
        f"<tr><td>{escape(NAMES[n])}</td><td>{fmt(n, v)}</td>"
        f"<td>{fmt(n, anonymous[n]) if n in anonymous else ''}</td></tr>"
        for n, v in summary
    )
    return f'<table class="summary"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def report_body(report: Report) -> str:
    parts = [
        f"<h2>总体指标 Key figures</h2>{_summary_table(report)}",
        '<div class="charts">',
        bar_chart(
            "各队列接通量 Answered by queue",
            [(g.group, float(g.kpi.answered)) for g in report.by.get("queue", [])],
        ),
        bar_chart(
            "各队列服务水平 Service level by queue",
            [(g.group, g.kpi.service_level) for g in report.by.get("queue", [])],
            unit="%",
        ),
        bar_chart(
            "服务类别呼入量 Offered by service line",
            [(g.group, float(g.kpi.offered)) for g in report.by.get("service_line", [])],
        ),
        "</div>",
        "<h2>话题趋势 Topic trends</h2>",
        line_chart("工单话题 Work-order topics", report.trend_labels, report.trends),
    ]
    for dim in DIMENSIONS:
        parts.append(f"<h2>{escape(NAMES[dim])}</h2>{_kpi_table(report, dim)}")
    return "".join(parts)


def report_page(report: Report, *, printable: bool = False) -> str:
    kind = report.period.kind.value
    title = f"12355 {KINDS[kind]} {report.period.label}"
    links = (
        ""
        if printable
        else (
            '<nav><a href="/reports?period=daily">日报</a><a href="/reports?period=weekly">周报</a>'
            '<a href="/reports?period=monthly">月报</a>'
            f'<a href="/api/reports/{kind}.csv?date={report.period.first_day}">CSV</a>'
            f'<a href="/api/reports/{kind}.xlsx?date={report.period.first_day}">XLSX</a>'
            f'<a href="/reports/monthly/print?month={report.period.first_day:%Y-%m}">打印月报 Print</a></nav>'
            '<form method="get" action="/reports">'
            f'<input type="hidden" name="period" value="{kind}">'
            f'<label>日期 Date <input type="date" name="date" value="{report.period.first_day}"></label> '
            '<button type="submit">查看 Show</button></form>'
        )
    )
    span = f"{report.period.start:%Y-%m-%d %H:%M} – {report.period.end:%Y-%m-%d %H:%M} ({report.period.zone})"
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style>"
        '<link rel="stylesheet" href="/static/reports.css"></head><body>'
        f"{links}<h1>{escape(title)}</h1><p>{escape(span)}</p>{report_body(report)}</body></html>"
    )
