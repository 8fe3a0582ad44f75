"""Recordings over HTTP: metadata, playback and download with HTTP Range, the access audit log, purge.

Who may listen: supervisors and admins to every call; an agent to the calls they took (their extension is
the call's agent or its agent interface ``PJSIP/<ext>``). Every request for audio is written to
``recording_access_log`` (play, download, or denied), with the byte range asked for.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import select

from callcenter.auth.roles import SUPERVISORS, Principal, Role
from callcenter.db.models import Call
from callcenter.web.auth import require
from callcenter.web.deps import HotlineDep
from recordings.crypto import DecryptError
from recordings.ranges import RangeNotSatisfiable, parse_range
from recordings.service import MEDIA_TYPES, RecordingKeeper, RecordingMissing

router = APIRouter(prefix="/api/recordings", tags=["recordings"])

Listener = Annotated[Principal, Depends(require({Role.AGENT, Role.CALLBACK_AGENT} | SUPERVISORS))]
Supervisor = Annotated[Principal, Depends(require(SUPERVISORS))]
Admin = Annotated[Principal, Depends(require({Role.ADMIN}))]


class RecordingOut(BaseModel):
    linkedid: str
    status: str
    category: str
    format: str | None
    duration_seconds: float | None
    size_bytes: int | None
    sha256: str | None
    encrypted: bool
    stored_at: datetime | None
    audio_url: str


class AccessOut(BaseModel):
    username: str
    user_id: int
    action: str
    byte_range: str | None
    status_code: int
    at: datetime


class PurgedOut(BaseModel):
    linkedid: str
    category: str
    path: str | None
    size_bytes: int | None


def _keeper(hotline: HotlineDep) -> RecordingKeeper:
    if hotline.recordings is None or hotline.db is None:
        raise HTTPException(503, "the recordings store is not open yet")
    return hotline.recordings


KeeperDep = Annotated[RecordingKeeper, Depends(_keeper)]


def took_the_call(principal: Principal, call: Call) -> bool:
    ext = principal.extension
    if not ext:
        return False
    interface = call.agent_interface or ""
    return call.agent == ext or interface.rpartition("/")[2] == ext


async def _allowed(keeper: RecordingKeeper, principal: Principal, linkedid: str) -> bool:
    if principal.has_any(SUPERVISORS):
        return True
    async with keeper.sessions() as session:
        call = await session.scalar(select(Call).where(Call.linkedid == linkedid))
    return call is not None and took_the_call(principal, call)


@router.get("/{linkedid}", response_model=RecordingOut, responses={403: {}, 404: {}})
async def recording(linkedid: str, principal: Listener, keeper: KeeperDep) -> RecordingOut:
    if not await _allowed(keeper, principal, linkedid):
        raise HTTPException(403, "only supervisors and the agent who took the call may hear it")
    try:
        row = await keeper.stored(linkedid)
    except RecordingMissing as exc:
        raise HTTPException(404, f"no stored recording for call {linkedid}") from exc
    return RecordingOut(
        linkedid=row.linkedid,
        status=row.status,
        category=row.category,
        format=row.format,
        duration_seconds=row.duration_seconds,
        size_bytes=row.size_bytes,
        sha256=row.sha256,
        encrypted=row.encrypted,
        stored_at=row.stored_at,
        audio_url=f"/api/recordings/{row.linkedid}/audio",
    )


@router.get("/{linkedid}/audio", responses={206: {}, 403: {}, 404: {}, 416: {}})
async def audio(
    linkedid: str,
    request: Request,
    principal: Listener,
    keeper: KeeperDep,
    download: Annotated[bool, Query(description="as an attachment (audited as a download)")] = False,
) -> Response:
    wanted = request.headers.get("range")
    action = "download" if download else "play"

    async def audit(status: int, what: str = action) -> None:
        await keeper.audit(
            linkedid=linkedid,
            user_id=principal.user_id,
            username=principal.username,
            action=what,
            byte_range=wanted[:64] if wanted else None,
            status_code=status,
        )

    if not await _allowed(keeper, principal, linkedid):
        await audit(403, "denied")
        raise HTTPException(403, "only supervisors and the agent who took the call may hear it")
    try:
        row = await keeper.stored(linkedid)
        data = await keeper.read_audio(row)
    except RecordingMissing as exc:
        await audit(404)
        raise HTTPException(404, f"no stored recording for call {linkedid}") from exc
    except (DecryptError, OSError) as exc:
        await audit(500)
        raise HTTPException(500, f"the recording of call {linkedid} cannot be read: {exc}") from exc
    size = len(data)
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, no-store"}
    ext = row.format or "bin"
    disposition = "attachment" if download else "inline"
    headers["Content-Disposition"] = f'{disposition}; filename="call-{linkedid}.{ext}"'
    media = MEDIA_TYPES.get(row.format or "", "application/octet-stream")
    try:
        span = parse_range(wanted, size)
    except RangeNotSatisfiable:
        await audit(416)
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    if span is None:
        await audit(200)
        return Response(data, media_type=media, headers=headers)
    first, last = span
    await audit(206)
    headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    return Response(data[first : last + 1], status_code=206, media_type=media, headers=headers)


@router.get("/{linkedid}/access", response_model=list[AccessOut])
async def access_log(linkedid: str, _: Supervisor, keeper: KeeperDep) -> list[AccessOut]:
    """Who played or downloaded this call's recording, and when (supervisors)."""
    return [
        AccessOut(
            username=r.username,
            user_id=r.user_id,
            action=r.action,
            byte_range=r.byte_range,
            status_code=r.status_code,
            at=r.at,
        )
        for r in await keeper.access_log(linkedid)
    ]


@router.post("/purge", response_model=list[PurgedOut])
async def purge_now(_: Admin, keeper: KeeperDep) -> list[PurgedOut]:
    """Run the retention purge now (it also runs by itself every hour); returns what it removed."""
    removed = await keeper.purge(datetime.now(UTC))
    return [
        PurgedOut(linkedid=p.linkedid, category=p.category, path=p.path, size_bytes=p.size_bytes)
        for p in removed
    ]
