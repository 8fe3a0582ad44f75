"""The dependencies every router shares: the running hotline, as FastAPI hands it to an endpoint, and its
database once open."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from callcenter.app import Hotline
from callcenter.db.engine import Database


def get_hotline(request: Request) -> Hotline:
    hotline: Hotline = request.app.state.hotline
    return hotline


HotlineDep = Annotated[Hotline, Depends(get_hotline)]


def open_db(hotline: Hotline) -> Database:
    """The hotline's database; 503 while it is not open (the service is starting)."""
    if hotline.db is None:
        raise HTTPException(503, "the database is not open yet")
    return hotline.db
