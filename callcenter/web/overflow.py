"""Overflow seats over HTTP: what the controller sees and decided, and the supervisors' overrides."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel

from callcenter.app import Hotline
from callcenter.auth.roles import STAFF, SUPERVISORS, Principal
from callcenter.overflow.controller import OverflowController, UnknownSeat, recent_decisions
from callcenter.web.auth import require
from callcenter.web.deps import HotlineDep, open_db
from routing.overflow import OverrideAction

router = APIRouter(prefix="/api/overflow", tags=["overflow"])

Viewer = Annotated[Principal, Depends(require(STAFF))]
Supervisor = Annotated[Principal, Depends(require(SUPERVISORS))]


class SeatOut(BaseModel):
    extension: str
    base: bool
    open: bool
    busy: bool
    closing: bool
    opened_at: datetime | None
    override: str | None


class DecisionOut(BaseModel):
    id: int
    decided_at: datetime
    extension: str
    action: str
    reason: str
    by: str | None
    active_seats: int
    wanted_seats: int
    predicted_service_level: float | None
    applied: bool


class OverflowOut(BaseModel):
    running: bool
    policy: dict[str, float | int] | None
    active_seats: int | None
    wanted_seats: int | None
    predicted_service_level: float | None
    notes: list[str]
    seats: list[SeatOut]
    decisions: list[DecisionOut]


def _controller(hotline: Hotline) -> OverflowController:
    if hotline.overflow is None:
        raise HTTPException(409, "the overflow controller is not running (settings.overflow_interval is 0)")
    return hotline.overflow


@router.get(
    "", response_model=OverflowOut, summary="Seats, the controller's figures and its latest decisions"
)
async def overflow_state(hotline: HotlineDep, _p: Viewer) -> OverflowOut:
    rows = await recent_decisions(open_db(hotline).sessions)
    decisions = [
        DecisionOut(
            id=r.id,
            decided_at=r.decided_at,
            extension=r.extension,
            action=r.action,
            reason=r.reason,
            by=r.by,
            active_seats=r.active_seats,
            wanted_seats=r.wanted_seats,
            predicted_service_level=r.predicted_service_level,
            applied=r.applied,
        )
        for r in rows
    ]
    ctl = hotline.overflow
    if ctl is None:
        return OverflowOut(
            running=False,
            policy=None,
            active_seats=None,
            wanted_seats=None,
            predicted_service_level=None,
            notes=[],
            seats=[],
            decisions=decisions,
        )
    last = ctl.last
    return OverflowOut(
        running=True,
        policy={k: v for k, v in ctl.policy_dict().items() if isinstance(v, int | float)},
        active_seats=last.active_seats if last else None,
        wanted_seats=last.wanted_seats if last else None,
        predicted_service_level=last.predicted_service_level if last else None,
        notes=list(last.notes) if last else [],
        seats=[
            SeatOut(
                extension=s.extension,
                base=s.base,
                open=s.open,
                busy=s.busy,
                closing=s.closing,
                opened_at=s.opened_at,
                override=s.override,
            )
            for s in ctl.seat_views()
        ],
        decisions=decisions,
    )


@router.post(
    "/seats/{extension}/{what}",
    response_model=OverflowOut,
    summary="Force a seat open or closed, or release the override (the controller decides again)",
)
async def seat_override(
    extension: str,
    what: Literal["open", "close", "release"],
    hotline: HotlineDep,
    principal: Supervisor,
) -> OverflowOut:
    ctl = _controller(hotline)
    action = None if what == "release" else OverrideAction(what)
    try:
        await ctl.override(extension, action, principal.username)
    except UnknownSeat as exc:
        raise HTTPException(404, str(exc)) from exc
    return await overflow_state(hotline, principal)
