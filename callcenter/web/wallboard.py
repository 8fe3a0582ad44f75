"""The supervisors' wallboard: the page, its snapshot, hourly charts (SVG drawn here), crisis alerts and the
supervisor's actions (listen / whisper / barge with ChanSpy, force pause, force log-out).

Overflow seats are opened and closed by the overflow controller's own endpoints (``/api/overflow/...``);
the page calls them directly.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from agents.state import AgentState, ForceLogOut, ForcePause, IllegalTransition, PauseReason
from callcenter.agentdesk.alerts import AlertBook, UnknownAlertError
from callcenter.agentdesk.figures import (
    call_fact,
    calls_chart,
    calls_per_agent,
    per_hour,
    per_queue,
    service_level_chart,
    today_bounds,
)
from callcenter.app import Hotline
from callcenter.auth.roles import SUPERVISORS, Principal, mask_number
from callcenter.db.models import Call
from callcenter.reports.occupancy import agent_times
from callcenter.web.auth import require
from callcenter.web.deps import HotlineDep, open_db
from callcenter.web.panel import board_of, illegal_response
from routing.kpi import occupancy, summarise

STATIC = Path(__file__).parent / "static"
Supervisor = Annotated[Principal, Depends(require(SUPERVISORS))]

router = APIRouter(tags=["wallboard"])

SPY_OPTIONS = {"listen": "q", "whisper": "qw", "barge": "qB"}


def _timezone(hotline: Hotline) -> str:
    return hotline.plan.hours.timezone if hotline.plan is not None else "Asia/Shanghai"


async def _today_rows(hotline: Hotline) -> list[Call]:
    start, end = today_bounds(datetime.now(UTC), _timezone(hotline))
    async with open_db(hotline).sessions() as session:
        stmt = select(Call).where(Call.arrived_at >= start, Call.arrived_at < end)
        return list((await session.scalars(stmt)).all())


async def _occupancy_today(hotline: Hotline, now: datetime) -> dict[str, float | None]:
    """Each agent's occupancy today from the recorded state intervals (issue 6; the open state not yet)."""
    if hotline.db is None:
        return {}
    start, end = today_bounds(now, _timezone(hotline))
    async with hotline.db.sessions() as session:
        times = await agent_times(session, start, end)
    return {agent: _round(occupancy([t])) for agent, t in times.items()}


def _wrapup(hotline: Hotline) -> dict[str, float]:
    return {q.name: float(q.wrapup_seconds) for q in (hotline.plan.queues if hotline.plan else ())}


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


@router.get("/wallboard", include_in_schema=False)
async def wallboard_page(_p: Supervisor) -> FileResponse:
    return FileResponse(STATIC / "wallboard.html", media_type="text/html; charset=utf-8")


@router.get("/api/wallboard", summary="Queues, agents, live calls and alerts now; KPIs today")
async def snapshot(hotline: HotlineDep, principal: Supervisor) -> dict[str, Any]:
    now = datetime.now(UTC)
    rows = await _today_rows(hotline)
    kpis = per_queue(rows, _wrapup(hotline))
    answered_by = calls_per_agent(rows)
    occupancy_by = await _occupancy_today(hotline, now)
    board = hotline.agents
    views = board.views() if board is not None else []
    plan = hotline.plan
    live = {snap.name: snap for snap in hotline.model.queue_snapshots()}
    names = [q.name for q in plan.queues] if plan else []
    names += [n for n in sorted(live) if n not in names]

    states: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for view in views:
        for queue in view.status.queues:
            states[queue][str(view.status.state)] += 1
    queues = []
    for name in names:
        snap = live.get(name)
        waits = [
            (now - c.joined_at).total_seconds()
            for c in (snap.waiting if snap else ())
            if c.joined_at is not None
        ]
        k = kpis.get(name)
        s = states.get(name, {})
        qplan = plan.queue(name) if plan else None
        queues.append(
            {
                "name": name,
                "service_line": qplan.service_line if qplan else None,
                "language": qplan.language if qplan else None,
                "waiting": len(snap.waiting) if snap else 0,
                "longest_wait_seconds": round(max(waits), 1) if waits else None,
                "ready": s.get(AgentState.READY, 0),
                "ringing": s.get(AgentState.RINGING, 0),
                "on_call": s.get(AgentState.ON_CALL, 0),
                "wrap_up": s.get(AgentState.WRAP_UP, 0),
                "paused": s.get(AgentState.PAUSED, 0),
                "offered_today": k.offered if k else 0,
                "answered_today": k.answered if k else 0,
                "abandoned_today": k.abandoned if k else 0,
                "service_level": _round(k.service_level) if k else None,
                "abandon_rate": _round(k.abandon_rate) if k else None,
                "asa_seconds": _round(k.average_speed_of_answer, 1) if k else None,
                "aht_seconds": _round(k.average_handle_time, 1) if k else None,
            }
        )
    totals = _totals(rows, hotline)
    agents = []
    for view in views:
        d = view.as_dict(now)
        d["calls_today"] = answered_by.get(view.status.extension, 0)
        d["occupancy_today"] = occupancy_by.get(view.status.extension)  # handling / (handling + ready)
        d.pop("call_id", None)
        agents.append(d)
    seats_open = sum(1 for v in views if v.status.state is not AgentState.LOGGED_OUT)
    calls = [
        {
            "linkedid": r.linkedid,
            "caller_number": r.caller_number if principal.sees_full_numbers else mask_number(r.caller_number),
            "queue": r.queue,
            "language": r.language,
            "menu_path": r.menu_path,
            "priority": r.priority,
            "agent": r.agent,
            "arrived_at": r.arrived_at,
            "answered_at": r.answered_at,
        }
        for r in hotline.model.calls()
        if r.disposition is None
    ]
    alerts = hotline.alerts.open_alerts() if hotline.alerts is not None else []
    return {
        "now": now.isoformat(),
        "seats": {
            "open": seats_open,
            "maximum": plan.seats.maximum if plan else 20,
            "base": plan.seats.base if plan else 8,
        },
        "totals": totals,
        "queues": queues,
        "agents": agents,
        "calls": calls,
        "alerts": [a.as_dict() for a in alerts],
    }


def _totals(rows: list[Call], hotline: Hotline) -> dict[str, Any]:
    wrapup = _wrapup(hotline)
    facts = [f for r in rows if (f := call_fact(r, wrapup.get(r.queue or "", 0.0))) is not None]
    k = summarise(facts)
    return {
        "offered_today": k.offered,
        "answered_today": k.answered,
        "abandoned_today": k.abandoned,
        "service_level": _round(k.service_level),
        "abandon_rate": _round(k.abandon_rate),
        "asa_seconds": _round(k.average_speed_of_answer, 1),
        "aht_seconds": _round(k.average_handle_time, 1),
    }


_CHART_TITLES = {
    "calls": {
        "zh": "每小时来电（浅色：呼入，深色：接听）",
        "en": "Calls per hour (light: offered, dark: answered)",
    },
    "service-level": {
        "zh": "每小时服务水平（虚线：目标 80%）",
        "en": "Service level per hour (dashed: 80% target)",
    },
}


@router.get("/api/wallboard/charts/{chart}.svg", summary="Today's hourly chart, drawn on the server")
async def chart(
    hotline: HotlineDep, _p: Supervisor, chart: Literal["calls", "service-level"], lang: str = "zh"
) -> Response:
    rows = await _today_rows(hotline)
    hours = per_hour(rows, _wrapup(hotline), _timezone(hotline))
    title = _CHART_TITLES[chart]["en" if lang == "en" else "zh"]
    svg = calls_chart(hours, title) if chart == "calls" else service_level_chart(hours, title)
    return Response(svg, media_type="image/svg+xml; charset=utf-8", headers={"Cache-Control": "no-store"})


class SpyIn(BaseModel):
    mode: Literal["listen", "whisper", "barge"] = "listen"
    supervisor_extension: str | None = Field(
        default=None, description="where the supervisor's phone rings; defaults to their account's extension"
    )


class ForcePauseIn(BaseModel):
    reason: PauseReason = PauseReason.MEETING


@router.post("/api/wallboard/agents/{extension}/spy", summary="Listen / whisper / barge (ChanSpy)")
async def spy(hotline: HotlineDep, principal: Supervisor, extension: str, body: SpyIn) -> dict[str, Any]:
    board = board_of(hotline)
    board.agent_plan(extension)
    target = body.supervisor_extension or principal.extension
    if not target:
        raise HTTPException(422, "your account has no extension; say where your phone is")
    if hotline.actions is None:
        raise HTTPException(503, "no AMI link is configured")
    options = SPY_OPTIONS[body.mode]
    await hotline.actions.originate(
        f"PJSIP/{target}",
        application="ChanSpy",
        data=f"PJSIP/{extension},{options}",
        caller_id=f"{body.mode} {extension} <{extension}>",
    )
    return {"extension": extension, "mode": body.mode, "supervisor_extension": target, "options": options}


@router.post(
    "/api/wallboard/agents/{extension}/pause", summary="Force a pause (supervisor)", response_model=None
)
async def force_pause(
    hotline: HotlineDep, principal: Supervisor, extension: str, body: ForcePauseIn
) -> dict[str, Any] | JSONResponse:
    board = board_of(hotline)
    try:
        status = await board.request(extension, ForcePause(body.reason, by=principal.username))
    except IllegalTransition as exc:
        return illegal_response(exc)
    return board.view(status.extension).as_dict(datetime.now(UTC))


@router.post(
    "/api/wallboard/agents/{extension}/logout", summary="Force a log-out (supervisor)", response_model=None
)
async def force_logout(
    hotline: HotlineDep, principal: Supervisor, extension: str
) -> dict[str, Any] | JSONResponse:
    board = board_of(hotline)
    try:
        status = await board.request(extension, ForceLogOut(by=principal.username))
    except IllegalTransition as exc:
        return illegal_response(exc)
    return board.view(status.extension).as_dict(datetime.now(UTC))


def _alerts(hotline: Hotline) -> AlertBook:
    if hotline.alerts is None:
        raise HTTPException(503, "no AMI link is configured")
    return hotline.alerts


@router.get("/api/wallboard/alerts", summary="Crisis alerts not yet acknowledged")
async def alerts(hotline: HotlineDep, _p: Supervisor) -> list[dict[str, Any]]:
    return [a.as_dict() for a in _alerts(hotline).open_alerts()]


@router.post("/api/wallboard/alerts/{alert_id}/ack", summary="Acknowledge a crisis alert")
async def acknowledge(hotline: HotlineDep, principal: Supervisor, alert_id: int) -> dict[str, Any]:
    try:
        return _alerts(hotline).acknowledge(alert_id, principal.username).as_dict()
    except UnknownAlertError:
        raise HTTPException(404, f"no alert {alert_id}") from None
