"""``/api/config``: ops apply a new hotline.yaml, read the history, diff two versions, roll back.

The body of ``POST /api/config/apply`` is the YAML text itself (any content type). An invalid file is
refused with 422 and every problem as ``FILE:LINE:COL: message``; nothing is stored and the serving
version keeps serving. The work is done by :class:`callcenter.config.apply.ConfigApplier`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel

from callcenter.auth.roles import OPERATORS, Principal
from callcenter.config.apply import ApplyFailedError, ApplyResult, ConfigApplier, VersionRefusedError
from callcenter.config.loader import ConfigError, ConfigProblem
from callcenter.config.versions import (
    UnknownVersionError,
    VersionInfo,
    get_version,
    list_versions,
    unified_diff,
)
from callcenter.web.auth import require
from callcenter.web.deps import HotlineDep

router = APIRouter(prefix="/api/config", tags=["config"])

Operator = Annotated[Principal, Depends(require(OPERATORS))]
MAX_BYTES = 1_000_000


class ProblemOut(BaseModel):
    file: str
    line: int
    column: int
    message: str
    text: str  # FILE:LINE:COL: message


class VersionOut(BaseModel):
    n: int
    created_at: datetime
    author: str
    source: str
    action: str
    rollback_of: int | None
    sha256: str
    lines_added: int
    lines_removed: int
    applied_at: datetime | None
    apply_note: str | None
    serving: bool


class ApplyOut(BaseModel):
    unchanged: bool
    version: VersionOut | None
    diff: str
    files_written: list[str]
    reloaded: list[str]
    members_added: list[str]  # "queue PJSIP/1001"
    members_removed: list[str]
    notes: list[str]


def _applier(hotline: HotlineDep) -> ConfigApplier:
    if hotline.config is None:
        raise HTTPException(503, "the service is not started yet")
    return hotline.config


ApplierDep = Annotated[ConfigApplier, Depends(_applier)]


def _version_out(v: VersionInfo, serving: int | None) -> VersionOut:
    added, removed = v.changed_lines
    return VersionOut(
        n=v.n,
        created_at=v.created_at,
        author=v.author,
        source=v.source,
        action=v.action,
        rollback_of=v.rollback_of,
        sha256=v.sha256,
        lines_added=added,
        lines_removed=removed,
        applied_at=v.applied_at,
        apply_note=v.apply_note,
        serving=v.n == serving,
    )


def _apply_out(result: ApplyResult, serving: int | None) -> ApplyOut:
    return ApplyOut(
        unchanged=result.unchanged,
        version=_version_out(result.version, serving) if result.version else None,
        diff=result.version.diff if result.version else "",
        files_written=result.files_written,
        reloaded=result.reloaded,
        members_added=[f"{q} {i}" for q, i in result.members_added],
        members_removed=[f"{q} {i}" for q, i in result.members_removed],
        notes=result.notes,
    )


def _problems(problems: list[ConfigProblem]) -> JSONResponse:
    return JSONResponse(
        status_code=422,
        content={
            "detail": f"{len(problems)} problem(s); nothing was changed",
            "problems": [
                ProblemOut(
                    file=p.file, line=p.line, column=p.column, message=p.message, text=str(p)
                ).model_dump()
                for p in problems
            ],
        },
    )


@router.post(
    "/apply",
    response_model=ApplyOut,
    summary="Check, store and apply a hotline.yaml (the request body); 422 lists every problem",
    responses={
        422: {"description": "the file has problems; nothing was changed"},
        500: {"description": "stored, but the rendered files could not be written: the old version serves"},
    },
)
async def apply_config(
    request: Request,
    principal: Operator,
    applier: ApplierDep,
    name: Annotated[
        str, Query(max_length=200, description="the file name shown in problems")
    ] = "hotline.yaml",
) -> ApplyOut | JSONResponse:
    body = await request.body()
    if len(body) > MAX_BYTES:
        raise HTTPException(413, f"a hotline.yaml of more than {MAX_BYTES} bytes is not plausible")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return _problems([ConfigProblem(name, 1, 1, "the file is not UTF-8 text")])
    try:
        result = await applier.apply_text(text, author=principal.username, source=name)
    except ConfigError as exc:
        return _problems(exc.problems)
    except ApplyFailedError as exc:
        raise HTTPException(500, f"stored but not applied: {exc}") from exc
    return _apply_out(result, applier.version)


@router.get("/history", response_model=list[VersionOut], summary="Stored versions, newest first")
async def history(
    _p: Operator, applier: ApplierDep, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[VersionOut]:
    return [_version_out(v, applier.version) for v in await list_versions(applier.sessions, limit=limit)]


@router.get(
    "/versions/{n}",
    response_class=PlainTextResponse,
    summary="The YAML text of version n",
    responses={404: {}},
)
async def version_text(_p: Operator, applier: ApplierDep, n: int) -> PlainTextResponse:
    try:
        version = await get_version(applier.sessions, n)
    except UnknownVersionError as exc:
        raise HTTPException(404, str(exc)) from exc
    return PlainTextResponse(version.yaml_text, media_type="text/yaml; charset=utf-8")


@router.get(
    "/diff",
    response_class=PlainTextResponse,
    summary="Unified diff from version a to version b",
    responses={404: {}},
)
async def diff(
    _p: Operator, applier: ApplierDep, a: Annotated[int, Query(ge=1)], b: Annotated[int, Query(ge=1)]
) -> PlainTextResponse:
    try:
        old, new = await get_version(applier.sessions, a), await get_version(applier.sessions, b)
    except UnknownVersionError as exc:
        raise HTTPException(404, str(exc)) from exc
    text = unified_diff(old.yaml_text, new.yaml_text, old_name=f"version {a}", new_name=f"version {b}")
    return PlainTextResponse(text, media_type="text/x-diff; charset=utf-8")


@router.post(
    "/rollback/{n}",
    response_model=ApplyOut,
    summary="Serve version n again (stored as a new version)",
    responses={404: {}, 422: {}},
)
async def rollback(principal: Operator, applier: ApplierDep, n: int) -> ApplyOut | JSONResponse:
    try:
        result = await applier.rollback(n, author=principal.username)
    except UnknownVersionError as exc:
        raise HTTPException(404, str(exc)) from exc
    except VersionRefusedError as exc:
        return _problems(exc.problems)
    except ApplyFailedError as exc:
        raise HTTPException(500, f"stored but not applied: {exc}") from exc
    return _apply_out(result, applier.version)
