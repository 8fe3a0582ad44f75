"""Bad input that only PostgreSQL notices is the client's error, not ours: 422, never 500.

Found by the OpenAPI fuzzer (tests/fuzz/test_openapi_fuzz.py): an id beyond int64 in a path, a NUL
character in a query string. Validation can't list every such case per endpoint, so the app maps a
data exception (SQLSTATE class 22, or asyncpg refusing an argument before sending it) to 422 in one
place. Any other database error stays a logged 500.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError

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


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DBAPIError)
    async def _database_refused(_req: Request, exc: DBAPIError) -> JSONResponse:
        if is_data_error(exc):
            body = {"error": "invalid-value", "detail": "a value is out of range or invalid"}
            return JSONResponse(body, status_code=422)
        log.error("database error", exc_info=exc)
        return JSONResponse({"error": "database-error"}, status_code=500)
