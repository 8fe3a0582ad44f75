"""The agents' panel: the page and its API (``/panel``, ``/api/panel/...``).

State changes go through the agent board (``callcenter/agentdesk/board.py``), which executes them over AMI
(QueueAdd, QueuePause, QueueRemove) and publishes topic ``agent`` on the live hub. The screen pop reads the
caller's earlier calls from the calls table; work orders, transfers, callbacks and crisis marking belong to
other endpoints (``/api/workorders``, ``/api/callers/{number}/file``, ``/api/calls/{linkedid}/...``,
``/api/callbacks``) which the page calls when they exist.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel

from agents.state import IllegalTransition, LogIn, LogOut, Pause, PauseReason, Ready
from callcenter.agentdesk.board import AgentBoard
from callcenter.app import Hotline
from callcenter.auth.roles import SUPERVISORS, Principal, Role, mask_number
from callcenter.db.calls import CallFilter, list_calls
from callcenter.web.auth import require
from callcenter.web.deps import HotlineDep, open_db
from routing.callerid import is_anonymous

STATIC = Path(__file__).parent / "static"
PANEL_ROLES = frozenset({Role.AGENT, Role.CALLBACK_AGENT}) | SUPERVISORS

PanelUser = Annotated[Principal, Depends(require(PANEL_ROLES))]

router = APIRouter(tags=["panel"])


def board_of(hotline: Hotline) -> AgentBoard:
    if hotline.agents is None:
        raise HTTPException(503, "no AMI link is configured")
    return hotline.agents


def _seat(principal: Principal, extension: str | None) -> str:
    """The seat a request acts on: an agent's own; a supervisor names any."""
    if extension is None:
        if principal.extension is None:
            raise HTTPException(422, "your account has no extension; name one (?extension=)")
        return principal.extension
    if not principal.has_any(SUPERVISORS) and principal.extension != extension:
        raise HTTPException(403, f"you are logged in at extension {principal.extension}, not {extension}")
    return extension


def _number(principal: Principal, number: str | None) -> str | None:
    return number if principal.sees_full_numbers else mask_number(number)


def illegal_response(exc: IllegalTransition) -> JSONResponse:
    return JSONResponse(
        {"error": "illegal-transition", "state": str(exc.state), "detail": str(exc)}, status_code=409
    )


class PauseIn(BaseModel):
    reason: PauseReason = PauseReason.BREAK


def panel_state(hotline: Hotline, principal: Principal, extension: str) -> dict[str, Any]:
    board = board_of(hotline)
    now = datetime.now(UTC)
    out = board.view(extension).as_dict(now)
    call = None
    call_id = out["call_id"]
    record = hotline.model.call(call_id) if call_id else None
    if record is not None:
        wait = None
        if record.queue_joined_at is not None:
            end = record.answered_at or now
            wait = max(0.0, (end - record.queue_joined_at).total_seconds())
        call = {
            "linkedid": record.linkedid,
            "caller_number": _number(principal, record.caller_number),
            "caller_name": record.caller_name,
            "language": record.language,
            "menu_path": record.menu_path,
            "queue": record.queue,
            "priority": record.priority,
            "arrived_at": record.arrived_at,
            "answered_at": record.answered_at,
            "wait_seconds": record.wait_seconds if record.wait_seconds is not None else wait,
        }
    out["call"] = call
    plan = hotline.plan
    qplans = {q.name: q for q in plan.queues} if plan else {}
    out["queue_names"] = {
        q: {"service_line": qp.service_line, "language": qp.language}
        for q in out["queues"]
        if (qp := qplans.get(q)) is not None
    }
    return out


@router.get("/panel", include_in_schema=False)
async def panel_page(_p: PanelUser) -> FileResponse:
    return FileResponse(STATIC / "panel.html", media_type="text/html; charset=utf-8")


@router.get("/api/panel/state", summary="The agent's state, time in it, and the call in hand")
async def state(hotline: HotlineDep, principal: PanelUser, extension: str | None = None) -> dict[str, Any]:
    return panel_state(hotline, principal, _seat(principal, extension))


@router.get("/api/panel/config", summary="What the panel needs to start: the seat, the softphone, hotlines")
async def config(hotline: HotlineDep, principal: PanelUser) -> dict[str, Any]:
    plan = hotline.plan
    return {
        "username": principal.username,
        "display_name": principal.display_name,
        "extension": principal.extension,
        "supervisor": principal.has_any(SUPERVISORS),
        "pause_reasons": [str(r) for r in PauseReason],
        "external_hotlines": [
            {"key": h.key, "name": h.name} for h in (plan.external_hotlines if plan else ())
        ],
        "queues": [q.name for q in (plan.queues if plan else ())],
        "service_lines": [{"code": s.code, "name": s.name} for s in (plan.service_lines if plan else ())],
        "softphone": (STATIC / "vendor" / "jssip.min.js").exists(),
        "softphone_wss_url": hotline.settings.softphone_wss_url,
        "softphone_sip_domain": hotline.settings.softphone_sip_domain,
    }


async def _act(hotline: Hotline, extension: str, event: LogIn | LogOut | Ready | Pause) -> None:
    board = board_of(hotline)
    if isinstance(event, LogIn):
        event = LogIn(board.memberships(extension))
    await board.request(extension, event)


@router.post(
    "/api/panel/{extension}/login",
    summary="Log in to the seat: QueueAdd to every queue served",
    response_model=None,
)
async def log_in(hotline: HotlineDep, principal: PanelUser, extension: str) -> dict[str, Any] | JSONResponse:
    return await _do(hotline, principal, extension, LogIn(()))


@router.post(
    "/api/panel/{extension}/ready", summary="Ready for calls (QueuePause false)", response_model=None
)
async def ready(hotline: HotlineDep, principal: PanelUser, extension: str) -> dict[str, Any] | JSONResponse:
    return await _do(hotline, principal, extension, Ready())


@router.post(
    "/api/panel/{extension}/pause", summary="Pause with a reason (QueuePause true)", response_model=None
)
async def pause(
    hotline: HotlineDep, principal: PanelUser, extension: str, body: PauseIn
) -> dict[str, Any] | JSONResponse:
    return await _do(hotline, principal, extension, Pause(body.reason))


@router.post(
    "/api/panel/{extension}/logout", summary="Log out of the seat (QueueRemove)", response_model=None
)
async def log_out(hotline: HotlineDep, principal: PanelUser, extension: str) -> dict[str, Any] | JSONResponse:
    return await _do(hotline, principal, extension, LogOut())


@router.post("/api/panel/{extension}/hangup", summary="Hang up the agent's leg of the call (AMI Hangup)")
async def hang_up(hotline: HotlineDep, principal: PanelUser, extension: str) -> dict[str, Any]:
    seat = _seat(principal, extension)
    board = board_of(hotline)
    channel = board.view(seat).member_channel
    if channel is None or hotline.actions is None:
        raise HTTPException(409, "no call in hand")
    await hotline.actions.hangup(channel)
    return {"extension": seat, "hung_up": channel}


async def _do(
    hotline: Hotline, principal: Principal, extension: str, event: LogIn | LogOut | Ready | Pause
) -> dict[str, Any] | JSONResponse:
    seat = _seat(principal, extension)
    try:
        await _act(hotline, seat, event)
    except IllegalTransition as exc:
        return illegal_response(exc)
    return panel_state(hotline, principal, seat)


@router.get("/api/panel/callers/{number}/calls", summary="The caller's earlier calls (screen pop)")
async def caller_calls(
    hotline: HotlineDep,
    principal: PanelUser,
    number: str,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[dict[str, Any]]:
    db = open_db(hotline)
    if is_anonymous(number):
        return []  # "anonymous", "unknown" … are many different people: no history to show
    rows = await list_calls(db.sessions, CallFilter(limit=limit, caller_number=number))
    return [
        {
            "linkedid": r.linkedid,
            "caller_number": _number(principal, r.caller_number),
            "arrived_at": r.arrived_at,
            "language": r.language,
            "menu_path": r.menu_path,
            "queue": r.queue,
            "agent": r.agent,
            "wait_seconds": r.wait_seconds,
            "talk_seconds": r.talk_seconds,
            "disposition": r.disposition,
        }
        for r in rows
    ]
