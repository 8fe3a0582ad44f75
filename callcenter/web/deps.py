"""The dependencies every router shares: the running hotline, as FastAPI hands it to an endpoint."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from callcenter.app import Hotline


def get_hotline(request: Request) -> Hotline:
    hotline: Hotline = request.app.state.hotline
    return hotline


HotlineDep = Annotated[Hotline, Depends(get_hotline)]
