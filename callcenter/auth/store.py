"""Users and sessions in PostgreSQL. Passwords are hashed with argon2; session tokens are random and only
their SHA-256 is stored, so a database dump does not let anyone log in."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.auth.roles import Principal, Role, parse_roles
from callcenter.db.models import User, UserSession

_hasher = PasswordHasher()
# A hash to verify against when the user does not exist, so that timing does not tell who exists.
_DUMMY_HASH = _hasher.hash("not a real password")
MIN_PASSWORD_LENGTH = 8


class UserExistsError(ValueError):
    pass


class UnknownUserError(LookupError):
    pass


class WeakPasswordError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class NewSession:
    token: str
    principal: Principal
    expires_at: datetime


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _principal(user: User) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        roles=parse_roles(user.roles),
        extension=user.extension,
        unit_code=user.unit_code,
    )


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPasswordError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


class UserStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, session_hours: float = 12.0) -> None:
        self._sessions = sessions
        self._session_lifetime = timedelta(hours=session_hours)

    async def add(
        self,
        username: str,
        password: str,
        roles: frozenset[Role],
        *,
        display_name: str | None = None,
        extension: str | None = None,
        unit_code: str | None = None,
    ) -> Principal:
        check_password_strength(password)
        if not roles:
            raise ValueError("a user needs at least one role")
        async with self._sessions() as session, session.begin():
            if await session.scalar(select(User.id).where(User.username == username)) is not None:
                raise UserExistsError(f"user {username!r} exists already")
            user = User(
                username=username,
                display_name=display_name or username,
                password_hash=_hasher.hash(password),
                roles=",".join(sorted(r.value for r in roles)),
                extension=extension,
                unit_code=unit_code,
                disabled=False,
            )
            session.add(user)
            await session.flush()
            return _principal(user)

    async def ensure(
        self, username: str, password: str, roles: frozenset[Role], **kwargs: str | None
    ) -> None:
        """Create the user unless it exists (the demo's accounts)."""
        with contextlib.suppress(UserExistsError):
            await self.add(username, password, roles, **kwargs)

    async def set_password(self, username: str, password: str) -> None:
        check_password_strength(password)
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                update(User).where(User.username == username).values(password_hash=_hasher.hash(password))
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise UnknownUserError(f"no user {username!r}")
            await session.execute(
                delete(UserSession).where(UserSession.user_id == _user_id_subquery(username))
            )

    async def disable(self, username: str) -> None:
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                update(User).where(User.username == username).values(disabled=True)
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise UnknownUserError(f"no user {username!r}")
            await session.execute(
                delete(UserSession).where(UserSession.user_id == _user_id_subquery(username))
            )

    async def verify(self, username: str, password: str) -> Principal | None:
        """The user when the password is right and the account enabled; None otherwise."""
        async with self._sessions() as session:
            user = await session.scalar(select(User).where(User.username == username))
        try:
            _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if user is None or user.disabled:
            return None
        return _principal(user)

    async def open_session(self, principal: Principal, now: datetime | None = None) -> NewSession:
        now = now or datetime.now(UTC)
        token = secrets.token_urlsafe(32)
        expires = now + self._session_lifetime
        async with self._sessions() as session, session.begin():
            session.add(
                UserSession(token_hash=_token_hash(token), user_id=principal.user_id, expires_at=expires)
            )
            await session.execute(update(User).where(User.id == principal.user_id).values(last_login_at=now))
        return NewSession(token, principal, expires)

    async def principal_for(self, token: str, now: datetime | None = None) -> Principal | None:
        now = now or datetime.now(UTC)
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(User)
                    .join(UserSession, UserSession.user_id == User.id)
                    .where(UserSession.token_hash == _token_hash(token), UserSession.expires_at > now)
                )
            ).scalar_one_or_none()
        if row is None or row.disabled:
            return None
        return _principal(row)

    async def close_session(self, token: str) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(delete(UserSession).where(UserSession.token_hash == _token_hash(token)))


def _user_id_subquery(username: str):  # type: ignore[no-untyped-def]
    return select(User.id).where(User.username == username).scalar_subquery()
