"""Every HTTP route the app serves, flattened — for the route × role access test and the docs.

FastAPI ≥ 0.160 keeps included routers as lazy ``_IncludedRouter`` entries in ``app.routes`` instead of
copying their routes; we walk them through ``original_router`` and the include prefix. If a later FastAPI
changes that shape, :func:`http_routes` raises rather than silently listing fewer routes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute


@dataclass(frozen=True, slots=True)
class HttpRoute:
    path: str
    methods: frozenset[str]
    route: APIRoute


def http_routes(app: FastAPI) -> list[HttpRoute]:
    return list(_walk(app.routes, ""))


def _walk(routes: Iterable[BaseRoute], prefix: str) -> Iterator[HttpRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield HttpRoute(prefix + route.path, frozenset(route.methods or ()) - {"HEAD", "OPTIONS"}, route)
        elif isinstance(route, Mount | Route | WebSocketRoute):
            continue  # static files, FastAPI's own docs pages, /ws (its own test)
        else:
            original = getattr(route, "original_router", None)
            context = getattr(route, "include_context", None)
            if original is None or context is None:
                raise TypeError(f"do not know how to list the routes inside {type(route).__name__}")
            yield from _walk(original.routes, prefix + str(getattr(context, "prefix", "")))
