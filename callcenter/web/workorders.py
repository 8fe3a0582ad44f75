"""Work-order endpoints: the agent's form, the referral steps, the caller's file, the units' page.

Who may do what:
- the centre's staff (agents, callback agents, supervisors, admins) create, edit, refer, follow up, close,
  and see every order;
- city / county staff (``unit-staff``) see only the orders referred or escalated to their unit or a unit
  below it; they accept, reject, record progress and close. Another unit's order answers 403 on a direct
  read and never shows in a list, a file or an export.

Domain errors are mapped to HTTP here: the rules' codes (``follow-up-missing``, ``transition-not-allowed``,
``stale-version``, ``invalid-referral``) travel as ``{"detail": {"error": code, "message": …}}``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from callcenter.auth.roles import STAFF, SUPERVISORS, Principal, Role, mask_number
from callcenter.web.auth import require
from callcenter.web.deps import HotlineDep
from callcenter.workorders.models import WorkOrder, WorkOrderEvent
from callcenter.workorders.service import (
    CallNotAnswered,
    OrderFilter,
    Scope,
    WorkOrderHidden,
    WorkOrderNotFound,
    WorkOrderService,
    state_of,
)
from routing import referral as rules
from routing.callerid import is_anonymous
from routing.referral import Disposition, OrderState, RiskCheck, RiskLevel, Step, WorkOrderRuleError

STATIC = Path(__file__).parent / "static"
CENTRE = STAFF
READERS = STAFF | {Role.UNIT_STAFF}
UNIT_ACTORS = SUPERVISORS | {Role.UNIT_STAFF}
CLOSERS = STAFF | {Role.UNIT_STAFF}

Reader = Annotated[Principal, Depends(require(READERS))]
CentreUser = Annotated[Principal, Depends(require(CENTRE))]
UnitActor = Annotated[Principal, Depends(require(UNIT_ACTORS))]
Closer = Annotated[Principal, Depends(require(CLOSERS))]
AnonymousQuery = Annotated[
    bool | None, Query(description="true: anonymous callers' orders only; false: callers with a number")
]

router = APIRouter(prefix="/api", tags=["work orders"])
pages = APIRouter()


# -- schemas ----------------------------------------------------------------------------------------------
class CallerProfile(BaseModel):
    age_band: str | None = Field(default=None, max_length=16)
    gender: str | None = Field(default=None, max_length=16)
    identity: Literal["student", "parent", "teacher", "other"] | None = None
    region: str | None = Field(default=None, max_length=64)


class WorkOrderIn(BaseModel):
    linkedid: str = Field(min_length=1, max_length=64)
    service_line: str = Field(min_length=1, max_length=64)
    topic: str | None = Field(default=None, max_length=64)
    summary: str = Field(max_length=20_000)
    risk_level: RiskLevel = RiskLevel.NONE
    risk_checklist: list[RiskCheck] = Field(default_factory=list)
    disposition: Disposition
    caller_profile: CallerProfile | None = None
    confidential: bool = False


class WorkOrderPatch(BaseModel):
    version: int | None = Field(default=None, description="the version edited (or send If-Match)")
    service_line: str | None = Field(default=None, min_length=1, max_length=64)
    topic: str | None = Field(default=None, max_length=64)
    summary: str | None = Field(default=None, max_length=20_000)
    risk_level: RiskLevel | None = None
    risk_checklist: list[RiskCheck] | None = None
    caller_profile: CallerProfile | None = None
    confidential: bool | None = None


class ReferralIn(BaseModel):
    unit_code: str = Field(min_length=1, max_length=64)
    deadline: datetime | None = None
    version: int | None = None


class ReasonIn(BaseModel):
    reason: str = Field(min_length=1, max_length=4000)
    version: int | None = None


class NoteIn(BaseModel):
    note: str = Field(min_length=1, max_length=4000)
    version: int | None = None


class FollowUpIn(BaseModel):
    note: str = Field(default="", max_length=4000)
    reached: bool
    version: int | None = None


class CloseIn(BaseModel):
    result: str = Field(min_length=1, max_length=4000)
    version: int | None = None


class AcceptIn(BaseModel):
    version: int | None = None


class HistoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str
    version: int
    unit_code: str | None
    note: str | None
    changes: dict[str, Any] | None


class WorkOrderOut(BaseModel):
    id: int
    version: int
    linkedid: str | None
    caller_number: str | None
    anonymous: bool = Field(
        description="the caller showed no usable number (匿名来电); caller_number is null"
    )
    queue: str | None
    language: str | None
    agent: str | None
    status: str
    service_line: str
    topic: str | None
    summary: str
    risk_level: str
    risk_checklist: list[str]
    disposition: str | None
    caller_profile: CallerProfile
    confidential: bool
    unit_code: str | None
    unit_name: str | None
    referred_at: datetime | None
    deadline_at: datetime | None
    overdue: bool
    escalation_level: int
    escalated_to: str | None
    followed_up_at: datetime | None
    closed_at: datetime | None
    result: str | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime


class WorkOrderDetailOut(WorkOrderOut):
    history: list[HistoryOut]


class UnitOut(BaseModel):
    code: str
    name: str
    tier: str
    parent: str | None


class CallerFileOut(BaseModel):
    number: str | None
    anonymous: bool = Field(description="no file for anonymous callers: they are not one person")
    calls: list[dict[str, Any]]
    work_orders: list[WorkOrderOut]
    callbacks: list[dict[str, Any]]


# -- helpers ----------------------------------------------------------------------------------------------
def service(hotline: HotlineDep) -> WorkOrderService:
    svc: WorkOrderService | None = hotline.workorders
    if svc is None:
        raise HTTPException(503, "work orders are not open yet")
    return svc


ServiceDep = Annotated[WorkOrderService, Depends(service)]


def scope_of(svc: WorkOrderService, principal: Principal) -> Scope:
    """The centre's staff see everything; unit staff their unit's subtree (nothing without a unit)."""
    if principal.has_any(CENTRE):
        return Scope(None)
    return svc.scope_for_unit(principal.unit_code)


def shown_number(number: str | None, principal: Principal, *, confidential: bool) -> str | None:
    """The caller number this user may see: whole, masked, none for a confidential order below the
    centre, and none for an anonymous caller (``anonymous`` or ``Restricted`` is not a number)."""
    if is_anonymous(number):
        return None
    if principal.sees_full_numbers:
        return number
    return None if confidential else mask_number(number)


def order_out(svc: WorkOrderService, order: WorkOrder, principal: Principal) -> WorkOrderOut:
    number = shown_number(order.caller_number, principal, confidential=order.confidential)
    unit = svc.tree.get(order.unit_code) if order.unit_code else None
    now = svc.clock()
    return WorkOrderOut(
        id=order.id,
        version=order.version,
        linkedid=order.linkedid,
        caller_number=number,
        anonymous=is_anonymous(order.caller_number),
        queue=order.queue,
        language=order.language,
        agent=order.agent,
        status=order.status,
        service_line=order.service_line,
        topic=order.topic,
        summary=order.summary,
        risk_level=order.risk_level,
        risk_checklist=list(order.risk_checklist or []),
        disposition=order.disposition,
        caller_profile=CallerProfile(
            age_band=order.age_band,
            gender=order.gender,
            identity=order.identity,  # type: ignore[arg-type]  # stored from the Literal above
            region=order.region,
        ),
        confidential=order.confidential,
        unit_code=order.unit_code,
        unit_name=unit.name if unit else None,
        referred_at=order.referred_at,
        deadline_at=order.deadline_at,
        overdue=rules.is_overdue(state_of(order), now),
        escalation_level=order.escalation_level,
        escalated_to=order.escalated_to,
        followed_up_at=order.followed_up_at,
        closed_at=order.closed_at,
        result=order.result,
        created_by=order.created_by,
        created_at=order.created_at,
        updated_at=order.updated_at,
    )


def detail_out(
    svc: WorkOrderService, order: WorkOrder, events: list[WorkOrderEvent], principal: Principal
) -> WorkOrderDetailOut:
    base = order_out(svc, order, principal)
    return WorkOrderDetailOut(**base.model_dump(), history=[HistoryOut.model_validate(e) for e in events])


@contextmanager
def domain_errors() -> Iterator[None]:
    """Typed domain errors → HTTP, in one place for these endpoints."""
    try:
        yield
    except WorkOrderNotFound as exc:
        raise HTTPException(404, {"error": exc.code, "message": str(exc)}) from None
    except WorkOrderHidden as exc:
        raise HTTPException(403, {"error": exc.code, "message": str(exc)}) from None
    except CallNotAnswered as exc:
        raise HTTPException(409, {"error": exc.code, "message": str(exc)}) from None
    except rules.InvalidReferral as exc:
        raise HTTPException(422, {"error": exc.code, "message": str(exc)}) from None
    except WorkOrderRuleError as exc:
        raise HTTPException(409, {"error": exc.code, "message": str(exc)}) from None


def _if_match(value: str | None) -> int | None:
    if value is None:
        return None
    cleaned = value.strip().removeprefix("W/").strip('"')
    try:
        return int(cleaned)
    except ValueError:
        raise HTTPException(400, "If-Match must carry the work order's version (its ETag)") from None


NOT_NULL = {"service_line", "summary", "risk_level", "risk_checklist", "confidential"}


def _fields(body: WorkOrderIn | WorkOrderPatch) -> dict[str, Any]:
    """The fields to store: all of a new order's, only those sent in an edit (null clears a profile field
    or the topic; the required fields cannot be cleared)."""
    partial = isinstance(body, WorkOrderPatch)
    data = body.model_dump(
        mode="json", exclude_unset=partial, exclude={"version", "linkedid", "disposition", "caller_profile"}
    )
    if body.caller_profile is not None:
        data.update(body.caller_profile.model_dump(mode="json", exclude_unset=partial))
    return {k: v for k, v in data.items() if v is not None or k not in NOT_NULL}


def _etag(response: Response, order: WorkOrder) -> None:
    response.headers["ETag"] = f'"{order.version}"'


def _unit_step_allowed(principal: Principal) -> None:
    """Accept / reject / progress are the unit's steps (supervisors may act for a unit)."""
    if not principal.has_any(UNIT_ACTORS):
        raise HTTPException(403, "only the unit's staff or a supervisor can do this")


# -- endpoints --------------------------------------------------------------------------------------------
@router.post(
    "/workorders", status_code=201, response_model=WorkOrderOut, summary="Complete a call's work order"
)
async def create_work_order(
    svc: ServiceDep, principal: CentreUser, body: WorkOrderIn, response: Response
) -> WorkOrderOut:
    with domain_errors():
        order = await svc.create(
            linkedid=body.linkedid,
            fields=_fields(body),
            disposition=body.disposition,
            actor=principal.username,
        )
    _etag(response, order)
    return order_out(svc, order, principal)


@router.get("/workorders", response_model=list[WorkOrderOut], summary="Work orders the user may see")
async def list_work_orders(
    svc: ServiceDep,
    principal: Reader,
    caller_number: str | None = None,
    anonymous: AnonymousQuery = None,
    status: str | None = None,
    unit: str | None = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[WorkOrderOut]:
    flt = OrderFilter(
        caller_number=caller_number,
        anonymous=anonymous,
        status=status,
        unit=unit,
        overdue_at=svc.clock() if overdue else None,
        limit=limit,
        offset=offset,
    )
    rows = await svc.find(flt, scope_of(svc, principal))
    return [order_out(svc, o, principal) for o in rows]


@router.get("/workorders/by-call/{linkedid}", response_model=WorkOrderOut, summary="A call's work order")
async def work_order_of_call(
    svc: ServiceDep, principal: CentreUser, linkedid: str, response: Response
) -> WorkOrderOut:
    """The call's work order; the draft is created here the first time it is asked for (after answer)."""
    with domain_errors():
        order = await svc.draft_for_call(linkedid, actor=principal.username)
    _etag(response, order)
    return order_out(svc, order, principal)


@router.get("/workorders/catalogue", summary="What the work-order form offers")
async def catalogue(hotline: HotlineDep, _principal: Reader) -> dict[str, Any]:
    """Service lines (from the plan), topics (``callcenter/workorders/topics.yaml``), risk levels and the
    risk checklist, dispositions, caller identities: the choices of the agent's form."""
    from callcenter.workorders.units import load_topics

    plan = hotline.plan
    lines = [{"code": s.code, "name": s.name} for s in (plan.service_lines if plan else ())]
    return {
        "service_lines": [*lines, {"code": "other", "name": "其他"}],
        "topics": [{"code": code, **names} for code, names in load_topics().items()],
        "risk_levels": [r.value for r in RiskLevel],
        "risk_checklist": [c.value for c in RiskCheck],
        "dispositions": [d.value for d in Disposition],
        "identities": ["student", "parent", "teacher", "other"],
    }


@router.get("/workorders/{order_id}", response_model=WorkOrderDetailOut, summary="A work order with history")
async def get_work_order(
    svc: ServiceDep, principal: Reader, order_id: int, response: Response
) -> WorkOrderDetailOut:
    with domain_errors():
        order, events = await svc.get(order_id, scope_of(svc, principal))
    _etag(response, order)
    return detail_out(svc, order, events, principal)


@router.patch("/workorders/{order_id}", response_model=WorkOrderOut, summary="A versioned edit")
async def edit_work_order(
    svc: ServiceDep,
    principal: CentreUser,
    order_id: int,
    body: WorkOrderPatch,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> WorkOrderOut:
    version = _if_match(if_match) if if_match is not None else body.version
    if version is None:
        raise HTTPException(428, "send the version you edited (If-Match header or the version field)")
    with domain_errors():
        order = await svc.edit(
            order_id, version=version, fields=_fields(body), actor=principal.username, scope=Scope(None)
        )
    _etag(response, order)
    return order_out(svc, order, principal)


async def _step(
    svc: WorkOrderService,
    principal: Principal,
    order_id: int,
    rule: Callable[[OrderState, datetime], Step],
    version: int | None,
    response: Response,
) -> WorkOrderOut:
    with domain_errors():
        order = await svc.step(
            order_id, rule, actor=principal.username, scope=scope_of(svc, principal), version=version
        )
    _etag(response, order)
    return order_out(svc, order, principal)


@router.post("/workorders/{order_id}/referral", response_model=WorkOrderOut, summary="Refer to a unit")
async def refer_work_order(
    svc: ServiceDep, principal: CentreUser, order_id: int, body: ReferralIn, response: Response
) -> WorkOrderOut:
    deadline = body.deadline
    if deadline is not None and deadline.tzinfo is None:
        deadline = deadline.replace(tzinfo=UTC)

    def rule(state: OrderState, now: datetime) -> Step:
        return rules.refer(
            state, tree=svc.tree, unit=body.unit_code, policy=svc.policy, now=now, deadline=deadline
        )

    return await _step(svc, principal, order_id, rule, body.version, response)


@router.post("/workorders/{order_id}/accept", response_model=WorkOrderOut, summary="The unit accepts")
async def accept_work_order(
    svc: ServiceDep, principal: UnitActor, order_id: int, response: Response, body: AcceptIn | None = None
) -> WorkOrderOut:
    _unit_step_allowed(principal)
    return await _step(
        svc, principal, order_id, lambda s, _now: rules.accept(s), body.version if body else None, response
    )


@router.post("/workorders/{order_id}/reject", response_model=WorkOrderOut, summary="The unit rejects")
async def reject_work_order(
    svc: ServiceDep, principal: UnitActor, order_id: int, body: ReasonIn, response: Response
) -> WorkOrderOut:
    return await _step(
        svc, principal, order_id, lambda s, _now: rules.reject(s, reason=body.reason), body.version, response
    )


@router.post("/workorders/{order_id}/progress", response_model=WorkOrderOut, summary="The unit's progress")
async def progress_work_order(
    svc: ServiceDep, principal: UnitActor, order_id: int, body: NoteIn, response: Response
) -> WorkOrderOut:
    return await _step(
        svc, principal, order_id, lambda s, _now: rules.progress(s, note=body.note), body.version, response
    )


@router.post("/workorders/{order_id}/follow-up", response_model=WorkOrderOut, summary="The call back")
async def follow_up_work_order(
    svc: ServiceDep, principal: CentreUser, order_id: int, body: FollowUpIn, response: Response
) -> WorkOrderOut:
    def rule(state: OrderState, now: datetime) -> Step:
        return rules.follow_up(state, reached=body.reached, note=body.note, now=now)

    return await _step(svc, principal, order_id, rule, body.version, response)


@router.post("/workorders/{order_id}/close", response_model=WorkOrderOut, summary="Close with a result")
async def close_work_order(
    svc: ServiceDep, principal: Closer, order_id: int, body: CloseIn, response: Response
) -> WorkOrderOut:
    def rule(state: OrderState, now: datetime) -> Step:
        return rules.close(state, result=body.result, now=now)

    return await _step(svc, principal, order_id, rule, body.version, response)


@router.get("/callers/{number}/file", response_model=CallerFileOut, summary="One person, one file")
async def caller_file(svc: ServiceDep, principal: Reader, number: str) -> CallerFileOut:
    """The caller's calls, work orders and callbacks. Unit staff get only their units' orders."""
    data = await svc.caller_file(number, scope_of(svc, principal))
    calls = []
    for c in data["calls"]:
        calls.append(
            {
                "linkedid": c.linkedid,
                "arrived_at": c.arrived_at,
                "answered_at": c.answered_at,
                "queue": c.queue,
                "language": c.language,
                "disposition": c.disposition,
                "agent": c.agent,
                "wait_seconds": c.wait_seconds,
                "talk_seconds": c.talk_seconds,
            }
        )
    return CallerFileOut(
        number=shown_number(number, principal, confidential=False),
        anonymous=is_anonymous(number),
        calls=calls,
        work_orders=[order_out(svc, o, principal) for o in data["work_orders"]],
        callbacks=data["callbacks"],
    )


@router.get("/units", response_model=list[UnitOut], summary="The organisation tree")
async def units(svc: ServiceDep, _principal: Reader) -> list[UnitOut]:
    return [UnitOut(code=u.code, name=u.name, tier=u.tier, parent=u.parent) for u in svc.tree.units.values()]


@pages.get("/workorders", include_in_schema=False)
async def workorders_page(_principal: Reader) -> FileResponse:
    return FileResponse(STATIC / "workorders.html", media_type="text/html; charset=utf-8")
