"""Prompts over HTTP (ops): list what the plan names and what audio exists; upload a recording.

``PUT /api/prompts/{prompt_set}/{name}`` takes the audio as the request body (``Content-Type`` audio/wav,
audio/mpeg or audio/mp4 — or ``?format=wav|mp3|m4a``). It is converted to what Asterisk plays and placed
under the sounds directory; an unreadable upload is refused (422) and nothing is replaced.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel

from callcenter.app import Hotline
from callcenter.auth.roles import OPERATORS, Principal
from callcenter.web.auth import require
from callcenter.web.deps import get_hotline
from recordings.prompts import MAX_UPLOAD_BYTES, UPLOAD_FORMATS, PromptError, install_prompt, prompt_path
from recordings.service import sounds_dir

router = APIRouter(prefix="/api/prompts", tags=["prompts"])
Operator = Annotated[Principal, Depends(require(OPERATORS))]

CONTENT_TYPES = {
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/vnd.wave": "wav",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/mp4": "m4a",
    "audio/x-m4a": "m4a",
    "audio/m4a": "m4a",
    "audio/aac": "m4a",
}


class PromptOut(BaseModel):
    prompt_set: str
    name: str
    text: str | None  # the transcript in hotline.yaml; None: not named in the plan
    has_audio: bool


class InstalledOut(BaseModel):
    prompt_set: str
    name: str
    files: list[str]
    duration_seconds: float
    in_plan: bool


def _hotline(request: Request) -> Hotline:
    hotline = get_hotline(request)
    if hotline.plan is None:
        raise HTTPException(503, "the service is starting")
    return hotline


@router.get("", response_model=list[PromptOut])
async def list_prompts(_: Operator, request: Request) -> list[PromptOut]:
    hotline = _hotline(request)
    assert hotline.plan is not None
    sounds = sounds_dir(hotline.settings)
    return [
        PromptOut(
            prompt_set=prompt_set,
            name=name,
            text=text,
            has_audio=prompt_path(sounds, prompt_set, name).is_file(),
        )
        for prompt_set, texts in sorted(hotline.plan.prompts.items())
        for name, text in sorted(texts.items())
    ]


@router.put("/{prompt_set}/{name}", response_model=InstalledOut, responses={413: {}, 415: {}, 422: {}})
async def upload_prompt(
    prompt_set: str,
    name: str,
    _: Operator,
    request: Request,
    format: Annotated[str | None, Query(description="wav, mp3 or m4a (else from Content-Type)")] = None,
) -> InstalledOut:
    hotline = _hotline(request)
    assert hotline.plan is not None
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fmt = (format or CONTENT_TYPES.get(content_type, "")).lower()
    if fmt not in UPLOAD_FORMATS:
        raise HTTPException(
            415, f"send wav, mp3 or m4a audio (Content-Type or ?format=); got {content_type or 'none'}"
        )
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES:
        raise HTTPException(413, f"a prompt upload may be at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    data = await request.body()
    sounds: Path = sounds_dir(hotline.settings)
    try:
        installed = await asyncio.to_thread(install_prompt, sounds, prompt_set, name, data, fmt)
    except PromptError as exc:
        raise HTTPException(422, str(exc)) from exc
    return InstalledOut(
        prompt_set=installed.prompt_set,
        name=installed.name,
        files=[str(p.relative_to(sounds)) for p in installed.files],
        duration_seconds=round(installed.duration, 3),
        in_plan=name in hotline.plan.prompts.get(prompt_set, {}),
    )
