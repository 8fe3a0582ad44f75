"""Log in, log out, and the role check every endpoint uses.

A session token travels in an HttpOnly, SameSite=Strict cookie (pages) or an ``Authorization: Bearer``
header (scripts). ``require(roles)`` makes a dependency that answers 401 without a valid session and 403
when the user has none of the roles; it is the only way endpoints check access.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field

from callcenter.auth.roles import Principal, Role
from callcenter.auth.store import UserStore
from callcenter.web.deps import get_hotline

log = logging.getLogger(__name__)
COOKIE = "hotline_session"


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class MeOut(BaseModel):
    username: str
    display_name: str
    roles: list[str]
    extension: str | None
    unit_code: str | None


def _me(p: Principal) -> MeOut:
    return MeOut(
        username=p.username,
        display_name=p.display_name,
        roles=sorted(r.value for r in p.roles),
        extension=p.extension,
        unit_code=p.unit_code,
    )


def _users(request: Request) -> UserStore:
    users: UserStore | None = get_hotline(request).users
    if users is None:
        raise HTTPException(503, "the user store is not open yet")
    return users


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.cookies.get(COOKIE)


async def current_principal(request: Request) -> Principal:
    token = _token(request)
    principal = await _users(request).principal_for(token) if token else None
    if principal is None:
        raise HTTPException(401, "log in first", headers={"WWW-Authenticate": "Bearer"})
    return principal


def require(roles: frozenset[Role] | set[Role]) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency: the principal, if they hold one of ``roles``; 401 / 403 otherwise."""
    wanted = frozenset(roles)

    async def check(request: Request) -> Principal:
        principal = await current_principal(request)
        if not principal.has_any(wanted):
            raise HTTPException(403, f"this needs one of the roles: {', '.join(sorted(wanted))}")
        return principal

    check.required_roles = wanted  # type: ignore[attr-defined]  # read by the route × role test
    return check


router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/login", response_model=MeOut, responses={401: {}, 429: {}})
async def login(body: LoginIn, request: Request, response: Response) -> MeOut:
    users = _users(request)
    hotline = get_hotline(request)
    limiter = hotline.login_limiter
    peer = request.client.host if request.client else "?"
    key = f"{body.username}@{peer}"
    now = time.monotonic()
    wait = limiter.retry_after(key, now)
    if wait is not None:
        log.warning("login refused for %r from %s: too many failures", body.username, peer)
        raise HTTPException(
            429, "too many failed logins; try again later", {"Retry-After": str(int(wait) + 1)}
        )
    principal = await users.verify(body.username, body.password)
    if principal is None:
        limiter.failed(key, now)
        log.warning("failed login for %r from %s", body.username, peer)
        raise HTTPException(401, "wrong user name or password")
    limiter.succeeded(key)
    session = await users.open_session(principal)
    secure = bool(hotline.settings.cookie_secure)
    response.set_cookie(
        COOKIE,
        session.token,
        httponly=True,
        samesite="strict",
        secure=secure,
        expires=session.expires_at,
        path="/",
    )
    response.headers["X-Session-Token"] = session.token  # for scripts that use the Bearer header
    log.info("user %s logged in from %s", principal.username, peer)
    return _me(principal)


@router.post("/logout", status_code=204)
async def logout(request: Request, response: Response) -> None:
    token = _token(request)
    if token:
        await _users(request).close_session(token)
    response.delete_cookie(COOKIE, path="/")


@router.get("/me", response_model=MeOut, responses={401: {}})
async def me(principal: Annotated[Principal, Depends(current_principal)]) -> MeOut:
    return _me(principal)
