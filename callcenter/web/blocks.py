"""Supervisors' blocks, the screening log and out-of-hours voice messages (issue 9)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from callcenter.auth.roles import SUPERVISORS, Principal, Role
from callcenter.blocks.service import BlockNotFound, CallerScreening, InvalidBlock, block_out
from callcenter.web.auth import require
from callcenter.web.deps import get_hotline, open_db

router = APIRouter(prefix="/api/blocks", tags=["blocks"])

Supervisor = Annotated[Principal, Depends(require(SUPERVISORS))]
MessageReader = Annotated[Principal, Depends(require(SUPERVISORS | {Role.CALLBACK_AGENT}))]


class BlockIn(BaseModel):
    number: str = Field(min_length=3, max_length=32)
    reason: str = Field(min_length=1, max_length=500)
    expires_at: datetime | None = None  # None: until a supervisor lifts it


def _screen(request: Request) -> CallerScreening:
    hotline = get_hotline(request)
    open_db(hotline)
    if hotline.screen is None:
        raise HTTPException(503, "the service is starting")
    return hotline.screen


@router.get("")
async def list_blocks(
    request: Request, _who: Supervisor, all: Annotated[bool, Query()] = False
) -> list[dict[str, Any]]:
    return [block_out(b) for b in await _screen(request).blocks(active_only=not all)]


@router.post("", status_code=201)
async def create_block(request: Request, body: BlockIn, who: Supervisor) -> dict[str, Any]:
    try:
        row = await _screen(request).block(body.number, body.reason, body.expires_at, who.username)
    except InvalidBlock as exc:
        raise HTTPException(422, str(exc)) from exc
    return block_out(row)


@router.delete("/{block_id}")
async def lift_block(request: Request, block_id: int, who: Supervisor) -> dict[str, Any]:
    try:
        row = await _screen(request).unblock(block_id, who.username)
    except BlockNotFound as exc:
        raise HTTPException(404, "no such active block") from exc
    return block_out(row)


@router.get("/log")
async def screening_log(
    request: Request,
    _who: Supervisor,
    event: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    rows = await _screen(request).screening_log(limit=limit, event=event)
    return [
        {
            "at": r.at.isoformat() if r.at else None,
            "event": r.event,
            "number": r.number,
            "source": r.source,
            "reason": r.reason,
            "linkedid": r.linkedid,
            "actor": r.actor,
        }
        for r in rows
    ]


@router.get("/messages")
async def voice_messages(
    request: Request, _who: MessageReader, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> list[dict[str, Any]]:
    """Out-of-hours voice messages (the file names Asterisk recorded), newest first."""
    rows = await _screen(request).voice_messages(limit=limit)
    return [
        {
            "linkedid": r.linkedid,
            "number": r.number,
            "language": r.language,
            "path": f"{r.path}.{r.format}",
            "duration_ms": r.duration_ms,
            "created_at": r.created_at.isoformat() if r.created_at else None,
        }
        for r in rows
    ]
