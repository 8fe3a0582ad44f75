"""HTTP routes of the service. Domain errors become HTTP errors here and nowhere else."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from callcenter.ami.connection import AmiActionError, AmiDisconnected
from callcenter.app import Hotline
from callcenter.auth.roles import OPERATORS, STAFF, SUPERVISORS, Principal, Role, mask_number
from callcenter.config.menu_tree import menu_tree_html
from callcenter.db.calls import CallFilter, get_call, list_attempts, list_calls
from callcenter.desk import AgentDesk, UnknownAgentError
from callcenter.web.auth import require
from callcenter.web.auth import router as auth_router
from callcenter.web.callbacks import router as callbacks_router
from callcenter.web.calls_actions import router as calls_actions_router
from callcenter.web.config_api import router as config_router
from callcenter.web.deps import HotlineDep, open_db
from callcenter.web.live import router as live_router
from callcenter.web.overflow import router as overflow_router
from callcenter.web.panel import router as panel_router
from callcenter.web.prompts import router as prompts_router
from callcenter.web.recordings import router as recordings_router
from callcenter.web.reports import pages as report_pages
from callcenter.web.reports import router as reports_router
from callcenter.web.schemas import (
    AttemptOut,
    CallDetailOut,
    CallOut,
    ErrorOut,
    HealthOut,
    MemberOut,
    QueueOut,
    WaitingCallerOut,
)
from callcenter.web.wallboard import router as wallboard_router
from callcenter.web.workorders import pages as workorder_pages
from callcenter.web.workorders import router as workorders_router

STATIC = Path(__file__).parent / "static"


CallViewer = Annotated[Principal, Depends(require(SUPERVISORS | OPERATORS))]
QueueViewer = Annotated[Principal, Depends(require(STAFF | OPERATORS))]
DeskUser = Annotated[Principal, Depends(require({Role.AGENT, Role.CALLBACK_AGENT} | SUPERVISORS))]


def _desk(hotline: Hotline) -> AgentDesk:
    if hotline.desk is None:
        raise HTTPException(503, "no AMI link is configured")
    return hotline.desk


api = APIRouter(prefix="/api")


def _masked(call: CallOut, principal: Principal) -> CallOut:
    if principal.sees_full_numbers:
        return call
    return call.model_copy(update={"caller_number": mask_number(call.caller_number)})


def _own_desk_only(principal: Principal, extension: str) -> None:
    """Agents work their own seat; supervisors may act on any."""
    if not principal.has_any(SUPERVISORS) and principal.extension != extension:
        raise HTTPException(403, f"you are logged in at extension {principal.extension}, not {extension}")


@api.get("/calls", response_model=list[CallOut], summary="Recent calls, newest first")
async def calls(
    hotline: HotlineDep,
    principal: CallViewer,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    queue: str | None = None,
    disposition: str | None = None,
    caller_number: str | None = None,
    since: datetime | None = None,
) -> list[CallOut]:
    rows = await list_calls(
        open_db(hotline).sessions,
        CallFilter(
            limit=limit,
            offset=offset,
            queue=queue,
            disposition=disposition,
            caller_number=caller_number,
            since=since,
        ),
    )
    return [_masked(CallOut.model_validate(row), principal) for row in rows]


@api.get("/calls/{linkedid}", response_model=CallDetailOut, responses={404: {"model": ErrorOut}})
async def call_detail(hotline: HotlineDep, principal: CallViewer, linkedid: str) -> CallDetailOut:
    db = open_db(hotline)
    row = await get_call(db.sessions, linkedid)
    if row is None:
        raise HTTPException(404, f"no call with linkedid {linkedid!r}")
    attempts = [AttemptOut.model_validate(a) for a in await list_attempts(db.sessions, linkedid)]
    call = _masked(CallOut.model_validate(row), principal)
    return CallDetailOut(**call.model_dump(), attempts=attempts)


MEMBER_STATUS = {
    0: "unknown",
    1: "not-in-use",
    2: "in-use",
    3: "busy",
    4: "invalid",
    5: "unavailable",
    6: "ringing",
    7: "ring-in-use",
    8: "on-hold",
}


@api.get("/queues", response_model=list[QueueOut], summary="Live queues: waiting callers and members")
async def queues(hotline: HotlineDep, principal: QueueViewer) -> list[QueueOut]:
    now = datetime.now(UTC)
    planned = {q.name: q for q in hotline.plan.queues} if hotline.plan else {}
    live = {snap.name: snap for snap in hotline.model.queue_snapshots()}
    out = []
    for name in [*planned, *(n for n in sorted(live) if n not in planned)]:
        snap = live.get(name)
        qplan = planned.get(name)
        callers = [
            WaitingCallerOut(
                linkedid=c.linkedid or c.uniqueid,
                caller_number=c.caller_number
                if principal.sees_full_numbers
                else mask_number(c.caller_number),
                priority=c.priority or 0,
                waiting_seconds=None
                if c.joined_at is None
                else max(0.0, (now - c.joined_at).total_seconds()),
            )
            for c in (snap.waiting if snap else ())
        ]
        members = [
            MemberOut(
                interface=m.interface,
                name=m.member_name,
                status=MEMBER_STATUS.get(m.status if m.status is not None else 0, "unknown"),
                paused=m.paused,
                in_call=m.in_call,
                calls_taken=m.calls_taken,
            )
            for m in (snap.members if snap else ())
        ]
        waits = [c.waiting_seconds for c in callers if c.waiting_seconds is not None]
        out.append(
            QueueOut(
                name=name,
                service_line=qplan.service_line if qplan else None,
                language=qplan.language if qplan else None,
                waiting=len(callers),
                longest_wait_seconds=max(waits) if waits else None,
                callers=callers,
                members=members,
                available=sum(1 for m in members if m.status == "not-in-use" and not m.paused),
            )
        )
    return out


@api.post("/agents/{extension}/login", summary="Put an agent into their queues (AMI QueueAdd)")
async def agent_login(hotline: HotlineDep, principal: DeskUser, extension: str) -> dict[str, object]:
    _own_desk_only(principal, extension)
    result = await _desk(hotline).log_in(extension)
    return {"extension": result.extension, "queues": list(result.queues)}


@api.post("/agents/{extension}/logout", summary="Take an agent out of their queues (AMI QueueRemove)")
async def agent_logout(hotline: HotlineDep, principal: DeskUser, extension: str) -> dict[str, object]:
    _own_desk_only(principal, extension)
    result = await _desk(hotline).log_out(extension)
    return {"extension": result.extension, "queues": list(result.queues)}


def install_routes(app: FastAPI) -> None:
    from callcenter.observability.errors import install_error_handlers  # issue 8
    from callcenter.observability.routes import router as observability_router  # issue 8
    from callcenter.web.blocks import router as blocks_router  # issue 9
    from callcenter.web.survey import router as survey_router  # issue 9

    app.include_router(auth_router)
    app.include_router(live_router)
    app.include_router(api)
    app.include_router(recordings_router)  # recordings: playback, Range, audit, purge (issue 7)
    app.include_router(prompts_router)  # prompt uploads (issue 7)
    app.include_router(config_router)  # hotline.yaml apply/history/diff/rollback (issue 3)
    app.include_router(panel_router)  # agents' panel (issue 5)
    app.include_router(wallboard_router)  # supervisors' wallboard (issue 5)
    app.include_router(workorders_router)  # work orders, referral, caller file (issue 6)
    app.include_router(workorder_pages)
    app.include_router(reports_router)  # KPI reports, exports (issue 6)
    app.include_router(report_pages)
    app.include_router(overflow_router)  # overflow seats (issue 4)
    app.include_router(callbacks_router)  # the callback seat (issue 4)
    app.include_router(calls_actions_router)  # crisis, 110, transfers (issue 4)
    app.include_router(survey_router)  # satisfaction: wallboard figures, agents' ratings (issue 9)
    app.include_router(blocks_router)  # blocked numbers, screening log, voice messages (issue 9)
    app.include_router(observability_router)  # /metrics, /readyz (issue 8)
    install_error_handlers(app)  # out-of-range ids, NUL bytes: 422, not 500 (issue 8)

    @app.get("/healthz", response_model=HealthOut, tags=["ops"])
    async def healthz(hotline: HotlineDep) -> HealthOut:
        return HealthOut(
            status="ok",
            ami_connected=hotline.ami_connected,
            database_pending_writes=hotline.writer.pending if hotline.writer else 0,
        )

    @app.get("/menu", include_in_schema=False, response_class=HTMLResponse)
    async def menu_tree(
        hotline: HotlineDep, _p: Annotated[Principal, Depends(require(OPERATORS | SUPERVISORS))]
    ) -> HTMLResponse:
        """What callers will hear: the menu tree per language, drawn from the plan the IVR runs."""
        if hotline.plan is None:
            raise HTTPException(503, "the hotline plan is not loaded yet")
        return HTMLResponse(menu_tree_html(hotline.plan))

    @app.get("/login", include_in_schema=False)
    async def login_page() -> FileResponse:
        return FileResponse(STATIC / "login.html", media_type="text/html; charset=utf-8")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(UnknownAgentError)
    async def _unknown_agent(_req: Request, exc: UnknownAgentError) -> JSONResponse:
        return JSONResponse({"error": "unknown-agent", "detail": str(exc)}, status_code=404)

    @app.exception_handler(AmiActionError)
    async def _ami_refused(_req: Request, exc: AmiActionError) -> JSONResponse:
        return JSONResponse({"error": "ami-refused", "detail": str(exc)}, status_code=409)

    @app.exception_handler(AmiDisconnected)
    async def _ami_down(_req: Request, exc: AmiDisconnected) -> JSONResponse:
        return JSONResponse({"error": "ami-disconnected", "detail": str(exc)}, status_code=503)
