"""Actions on a live call: mark it crisis, link it to 110, transfer it to another public hotline."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, ConfigDict

from callcenter.ami.connection import AmiError
from callcenter.app import Hotline
from callcenter.auth.roles import SUPERVISORS, Principal, Role
from callcenter.crisis.service import CrisisService
from callcenter.transfers.service import (
    CallNotLive,
    NoPbx,
    TransferFailed,
    TransferMode,
    TransferOut,
    TransferService,
    UnknownHotline,
    transfers_of,
)
from callcenter.web.auth import require
from callcenter.web.deps import HotlineDep, open_db

router = APIRouter(prefix="/api/calls", tags=["call actions"])

Handler = Annotated[Principal, Depends(require({Role.AGENT, Role.CALLBACK_AGENT} | SUPERVISORS))]


class CrisisOut(BaseModel):
    linkedid: str
    risk_level: str
    source: str
    marked_by: str | None
    marked_at: datetime
    reprioritised: bool


class TransferIn(BaseModel):
    to: str
    mode: Literal["blind", "attended"] = "blind"


class PoliceIn(BaseModel):
    # transfer: the caller goes to 110 (blind); attended / conference: the agent consults 110 first
    # (AMI Atxfer) and completes the transfer by hanging up. A three-way bridge is not built.
    mode: Literal["transfer", "blind", "attended", "conference"] = "transfer"


class TransferModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # read straight from the service's TransferOut

    id: int
    linkedid: str
    target: str
    mode: str
    channel: str
    requested_by: str | None
    requested_at: datetime
    status: str
    error: str | None


def _model(out: TransferOut) -> TransferModel:
    return TransferModel.model_validate(out)


def _crisis(hotline: Hotline) -> CrisisService:
    if hotline.crisis is None:
        raise HTTPException(503, "the service is starting")
    return hotline.crisis


def _transfers(hotline: Hotline) -> TransferService:
    if hotline.transfers is None:
        raise HTTPException(503, "the service is starting")
    return hotline.transfers


@router.post("/{linkedid}/crisis", response_model=CrisisOut, summary="Mark a live call as crisis (high risk)")
async def mark_crisis(linkedid: str, hotline: HotlineDep, principal: Handler) -> CrisisOut:
    try:
        mark = await _crisis(hotline).mark(linkedid, principal.username)
    except CallNotLive as exc:
        raise HTTPException(404, str(exc)) from exc
    except NoPbx as exc:
        raise HTTPException(503, str(exc)) from exc
    return CrisisOut(
        linkedid=mark.linkedid,
        risk_level=mark.risk_level,
        source=mark.source,
        marked_by=mark.marked_by,
        marked_at=mark.marked_at,
        reprioritised=mark.reprioritised,
    )


async def _run_transfer(
    hotline: Hotline, linkedid: str, to: str, mode: TransferMode, who: str, police: bool
) -> TransferModel:
    try:
        if police:
            out = await _crisis(hotline).police(linkedid, mode, who)
        else:
            out = await _transfers(hotline).transfer(linkedid, to, mode, who)
    except UnknownHotline as exc:
        raise HTTPException(422, str(exc)) from exc
    except CallNotLive as exc:
        raise HTTPException(404, str(exc)) from exc
    except NoPbx as exc:
        raise HTTPException(503, str(exc)) from exc
    except (TransferFailed, AmiError) as exc:
        raise HTTPException(502, str(exc)) from exc
    return _model(out)


@router.post("/{linkedid}/police", response_model=TransferModel, summary="Link a crisis call to 110")
async def police(linkedid: str, body: PoliceIn, hotline: HotlineDep, principal: Handler) -> TransferModel:
    mode = TransferMode.BLIND if body.mode in ("transfer", "blind") else TransferMode.ATTENDED
    return await _run_transfer(hotline, linkedid, "110", mode, principal.username, police=True)


@router.post(
    "/{linkedid}/transfer", response_model=TransferModel, summary="Transfer to 110/12309/12320/12348/12338"
)
async def transfer(linkedid: str, body: TransferIn, hotline: HotlineDep, principal: Handler) -> TransferModel:
    return await _run_transfer(
        hotline, linkedid, body.to, TransferMode(body.mode), principal.username, police=False
    )


@router.get(
    "/{linkedid}/transfers", response_model=list[TransferModel], summary="Transfers recorded on a call"
)
async def list_transfers(linkedid: str, hotline: HotlineDep, _p: Handler) -> list[TransferModel]:
    return [_model(t) for t in await transfers_of(open_db(hotline).sessions, linkedid)]
