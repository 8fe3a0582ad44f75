"""Report endpoints: KPI per day / week / month (JSON, CSV, XLSX, an HTML page with SVG charts, a
printable monthly report) for supervisors, and the streaming work-order export (CSV / XLSX), which unit
staff may use for their own units' orders only."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, StreamingResponse

from callcenter.auth.roles import SUPERVISORS, Principal, Role
from callcenter.reports.export import csv_text, file_chunks, orders_csv, orders_xlsx, rows_xlsx
from callcenter.reports.figures import PeriodKind, Report, period_of, report_rows
from callcenter.reports.pages import report_page
from callcenter.reports.queries import load_report
from callcenter.web.auth import require
from callcenter.web.deps import get_hotline, open_db
from callcenter.web.workorders import AnonymousQuery, ServiceDep, scope_of, shown_number
from callcenter.workorders.service import OrderFilter, WorkOrderService

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Supervisor = Annotated[Principal, Depends(require(SUPERVISORS))]
Exporter = Annotated[Principal, Depends(require(SUPERVISORS | {Role.UNIT_STAFF}))]

router = APIRouter(prefix="/api/reports", tags=["reports"])
pages = APIRouter(include_in_schema=False)


async def _report(request: Request, svc: WorkOrderService, kind: PeriodKind, day: date | None) -> Report:
    hotline = get_hotline(request)
    db = open_db(hotline)
    if hotline.plan is None:
        raise HTTPException(503, "the service is starting")
    zone = hotline.plan.hours.timezone
    now = svc.clock()
    the_day = day or now.astimezone(ZoneInfo(zone)).date()
    return await load_report(db.sessions, period_of(kind, the_day, zone), now=now)


def _number(principal: Principal) -> Any:
    def number(order: Any) -> str | None:
        return shown_number(order.caller_number, principal, confidential=order.confidential)

    return number


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


# -- work-order export (before the /{period} routes, which would match these names) ----------------------
def _export_filter(
    request: Request,
    start: date | None = None,
    end: date | None = None,
    status: str | None = None,
    unit: str | None = None,
    anonymous: AnonymousQuery = None,
) -> OrderFilter:
    """Orders created from ``start`` (inclusive) to ``end`` (exclusive), days in the hotline's time zone."""
    plan = get_hotline(request).plan
    zone = ZoneInfo(plan.hours.timezone if plan is not None else "Asia/Shanghai")

    def midnight(day: date | None) -> datetime | None:
        return None if day is None else datetime.combine(day, datetime.min.time(), zone)

    return OrderFilter(
        status=status,
        unit=unit,
        anonymous=anonymous,
        created_from=midnight(start),
        created_before=midnight(end),
    )


# the export's query parameters (start, end, status, unit, anonymous), read once for both formats
ExportFilter = Annotated[OrderFilter, Depends(_export_filter)]


@router.get("/workorders.csv", summary="Work orders as CSV (streamed)")
async def workorders_csv(svc: ServiceDep, principal: Exporter, flt: ExportFilter) -> StreamingResponse:
    stream = svc.stream(flt, scope_of(svc, principal))
    return StreamingResponse(
        orders_csv(stream, _number(principal)),
        media_type="text/csv; charset=utf-8",
        headers=_attachment("workorders.csv"),
    )


@router.get("/workorders.xlsx", summary="Work orders as XLSX (written row by row)")
async def workorders_xlsx(svc: ServiceDep, principal: Exporter, flt: ExportFilter) -> StreamingResponse:
    stream = svc.stream(flt, scope_of(svc, principal))
    path = await orders_xlsx(stream, _number(principal))
    return StreamingResponse(file_chunks(path), media_type=XLSX, headers=_attachment("workorders.xlsx"))


# -- KPI reports -----------------------------------------------------------------------------------------
def report_json(report: Report) -> dict[str, Any]:
    data = dataclasses.asdict(report)
    data["period"].update(
        label=report.period.label, start=report.period.start.isoformat(), end=report.period.end.isoformat()
    )
    encoded: dict[str, Any] = jsonable_encoder(data)
    return encoded


@router.get("/{kind}.csv", summary="A period's report as CSV")
async def report_csv(
    request: Request,
    svc: ServiceDep,
    _p: Supervisor,
    kind: PeriodKind,
    day: Annotated[date | None, Query(alias="date")] = None,
) -> StreamingResponse:
    report = await _report(request, svc, kind, day)

    async def body() -> Any:
        yield ("\ufeff" + csv_text(report_rows(report))).encode()

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers=_attachment(f"12355-{kind}-{report.period.label}.csv"),
    )


@router.get("/{kind}.xlsx", summary="A period's report as XLSX")
async def report_xlsx(
    request: Request,
    svc: ServiceDep,
    _p: Supervisor,
    kind: PeriodKind,
    day: Annotated[date | None, Query(alias="date")] = None,
) -> StreamingResponse:
    import asyncio

    report = await _report(request, svc, kind, day)
    path = await asyncio.to_thread(rows_xlsx, report_rows(report), f"{kind} {report.period.label}")
    return StreamingResponse(
        file_chunks(path), media_type=XLSX, headers=_attachment(f"12355-{kind}-{report.period.label}.xlsx")
    )


@router.get("/{kind}", summary="A period's report: KPI overall and by group, case figures, topic trends")
async def report(
    request: Request,
    svc: ServiceDep,
    _p: Supervisor,
    kind: PeriodKind,
    day: Annotated[date | None, Query(alias="date")] = None,
) -> dict[str, Any]:
    return report_json(await _report(request, svc, kind, day))


@pages.get("/reports", response_class=HTMLResponse)
async def reports_page(
    request: Request,
    svc: ServiceDep,
    _p: Supervisor,
    period: PeriodKind = PeriodKind.DAILY,
    day: Annotated[date | None, Query(alias="date")] = None,
) -> HTMLResponse:
    return HTMLResponse(report_page(await _report(request, svc, period, day)))


@pages.get("/reports/monthly/print", response_class=HTMLResponse)
async def monthly_print(
    request: Request,
    svc: ServiceDep,
    _p: Supervisor,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
) -> HTMLResponse:
    day = None if month is None else date.fromisoformat(f"{month}-01")
    return HTMLResponse(report_page(await _report(request, svc, PeriodKind.MONTHLY, day), printable=True))
