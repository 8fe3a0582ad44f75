"""The callback seat over HTTP: the task list, taking the next task, dialling a caller back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, ConfigDict

from callcenter.ami.connection import AmiError
from callcenter.app import Hotline
from callcenter.auth.roles import STAFF, SUPERVISORS, Principal, Role
from callcenter.callbacks.service import (
    AgentBusy,
    CallbackService,
    CallbackTaskOut,
    CallbackUnavailable,
)
from callcenter.web.auth import require
from callcenter.web.deps import HotlineDep
from routing.callbacks import TaskNotOpen, UnknownTask

router = APIRouter(prefix="/api/callbacks", tags=["callbacks"])

Viewer = Annotated[Principal, Depends(require(STAFF))]
Dialler = Annotated[Principal, Depends(require({Role.CALLBACK_AGENT} | SUPERVISORS))]


class CallbackTaskModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # read straight from the service's CallbackTaskOut

    id: str
    number: str
    status: str
    created_at: datetime
    due_at: datetime
    call_ids: list[str]
    sources: list[str]
    queue: str | None
    language: str | None
    crisis: bool
    priority: int
    attempts: int
    last_outcome: str | None
    assigned_to: str | None
    closed_at: datetime | None
    answered_call_id: str | None


class DialIn(BaseModel):
    extension: str | None = None  # a supervisor dials from this seat; an agent always from their own


def model_of(task: CallbackTaskOut) -> CallbackTaskModel:
    return CallbackTaskModel.model_validate(task)


def _service(hotline: Hotline) -> CallbackService:
    if hotline.callbacks is None:
        raise HTTPException(503, "the callback book is not loaded yet")
    return hotline.callbacks


def _extension(principal: Principal, body: DialIn | None) -> str:
    if Role.CALLBACK_AGENT in principal.roles and principal.extension:
        return principal.extension
    if body is not None and body.extension:
        return body.extension
    if principal.extension:
        return principal.extension
    raise HTTPException(422, "no extension to dial from: the user has none and none was given")


@router.get("", response_model=list[CallbackTaskModel], summary="Callback tasks (open ones by default)")
async def list_callbacks(
    hotline: HotlineDep, _p: Viewer, status: str | None = "open", limit: int = 200
) -> list[CallbackTaskModel]:
    tasks = await _service(hotline).list_tasks(status=status or None, limit=min(max(limit, 1), 1000))
    return [model_of(t) for t in tasks]


@router.post("/next", response_model=CallbackTaskModel | None, summary="Take the next due task")
async def take_next(hotline: HotlineDep, principal: Dialler) -> CallbackTaskModel | None:
    service = _service(hotline)
    task = service.take_next(_extension(principal, None))
    if task is None:
        return None
    return model_of(await service.get(task.id))


@router.get("/{task_id}", response_model=CallbackTaskModel, summary="One callback task")
async def get_callback(task_id: str, hotline: HotlineDep, _p: Viewer) -> CallbackTaskModel:
    try:
        return model_of(await _service(hotline).get(task_id))
    except UnknownTask as exc:
        raise HTTPException(404, str(exc)) from exc


@router.post(
    "/{task_id}/dial",
    response_model=CallbackTaskModel,
    status_code=202,
    summary="Call the caller back: agent's phone first, then the caller, caller ID 12355",
)
async def dial_callback(
    task_id: str, hotline: HotlineDep, principal: Dialler, body: DialIn | None = None
) -> CallbackTaskModel:
    service = _service(hotline)
    try:
        return model_of(await service.dial(task_id, _extension(principal, body)))
    except UnknownTask as exc:
        raise HTTPException(404, str(exc)) from exc
    except (TaskNotOpen, AgentBusy) as exc:
        raise HTTPException(409, str(exc)) from exc
    except CallbackUnavailable as exc:
        raise HTTPException(503, str(exc)) from exc
    except AmiError as exc:
        raise HTTPException(502, f"Asterisk refused the callback: {exc}") from exc
