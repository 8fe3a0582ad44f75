"""Bad input that only PostgreSQL notices is the client's error, not ours: 422, never 500.

Found by the OpenAPI fuzzer (tests/fuzz/test_openapi_fuzz.py): an id beyond int64 in a path, a NUL
character in a query string. Validation can't list every such case per endpoint, so the app maps a
data exception (SQLSTATE class 22, or asyncpg refusing an argument before sending it) to 422 in one
place. PostgreSQL out of reach (refused, gone, the link dropped) is 503 with a ``Retry-After``: the
service goes on taking calls and writes them when it is back, and the page says so instead of a bare 500.
Any other database error stays a logged 500.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError

from callcenter.db.spool import is_connection_error, raised_by_the_database_driver

log = logging.getLogger(__name__)


def is_data_error(exc: BaseException) -> bool:
    import asyncpg  # type: ignore[import-untyped]

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, asyncpg.DataError):
            return True
        sqlstate = getattr(current, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith("22"):
            return True
        current = getattr(current, "orig", None) or current.__cause__
    return False


def _database_away(exc: BaseException) -> JSONResponse:
    log.warning("request refused, database unavailable: %r", exc)
    body = {
        "error": "database-unavailable",
        "detail": f"PostgreSQL cannot be reached ({type(exc).__name__}); calls are still taken and "
        "recorded when it is back: try again shortly",
    }
    return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DBAPIError)
    async def _database_refused(_req: Request, exc: DBAPIError) -> JSONResponse:
        if is_data_error(exc):
            body = {"error": "invalid-value", "detail": "a value is out of range or invalid"}
            return JSONResponse(body, status_code=422)
        if is_connection_error(exc):
            return _database_away(exc)
        log.error("database error", exc_info=exc)
        return JSONResponse({"error": "database-error"}, status_code=500)

    @app.exception_handler(OSError)
    async def _unreachable(_req: Request, exc: OSError) -> JSONResponse:
        if raised_by_the_database_driver(exc):
            return _database_away(exc)
        log.error("unhandled OS error", exc_info=exc)
        return JSONResponse({"error": "internal-error"}, status_code=500)
