"""The dependencies every router shares: the running hotline, as FastAPI hands it to an endpoint, and its
database once open."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException
from starlette.requests import HTTPConnection

from callcenter.app import Hotline
from callcenter.db.engine import Database


def get_hotline(connection: HTTPConnection) -> Hotline:
    """The running hotline, for a request or a WebSocket alike."""
    hotline: Hotline = connection.app.state.hotline
    return hotline


HotlineDep = Annotated[Hotline, Depends(get_hotline)]


def open_db(hotline: Hotline) -> Database:
    """The hotline's database; 503 while it is not open (the service is starting)."""
    if hotline.db is None:
        raise HTTPException(503, "the database is not open yet")
    return hotline.db
