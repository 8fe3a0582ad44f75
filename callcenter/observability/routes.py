"""``GET /metrics`` (Prometheus text format) and ``GET /readyz``.

Both are open, like ``/healthz``: a Prometheus server and a load balancer's probe do not log in. Neither
shows a caller's number or any call detail, only counts and states.

``/readyz`` answers 200 only when the hotline can take and record calls: the plan is loaded, FastAGI
listens, the AMI link is logged in (when a target is set) and PostgreSQL answers ``SELECT 1``; else 503
with the failing checks. ``/healthz`` stays a liveness probe (the process answers).
"""

from __future__ import annotations

import weakref

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import text

from callcenter.app import Hotline
from callcenter.observability.metrics import CONTENT_TYPE, HotlineMetrics
from callcenter.web.deps import HotlineDep

router = APIRouter(tags=["ops"])


class ReadyOut(BaseModel):
    ready: bool
    checks: dict[str, bool]


_METRICS: weakref.WeakKeyDictionary[Hotline, HotlineMetrics] = weakref.WeakKeyDictionary()


def metrics_for(hotline: Hotline) -> HotlineMetrics:
    """The hotline's own registry (several hotlines in one process never share counters)."""
    metrics = _METRICS.get(hotline)
    if metrics is None:
        metrics = _METRICS[hotline] = HotlineMetrics()
    return metrics


@router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE: {}}}})
async def metrics(hotline: HotlineDep) -> Response:
    body = await metrics_for(hotline).render(hotline)
    return Response(body, media_type=CONTENT_TYPE)


@router.get("/readyz", response_model=ReadyOut, responses={503: {"model": ReadyOut}})
async def readyz(hotline: HotlineDep) -> JSONResponse:
    checks = {
        "plan": hotline.plan is not None,
        "fastagi": hotline.agi is not None,
        "ami": (hotline.settings.ami_target is None and hotline.ami is None) or hotline.ami_connected,
        "database": await _database_answers(hotline),
    }
    ready = all(checks.values())
    return JSONResponse(ReadyOut(ready=ready, checks=checks).model_dump(), status_code=200 if ready else 503)


async def _database_answers(hotline: Hotline) -> bool:
    if hotline.db is None:
        return False
    try:
        async with hotline.db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        return False
    return True
