"""Who is calling: a short-lived token the gateway signs and every service verifies.

The gateway authenticates callers (API keys) and passes the caller on as a
JWT (HS256) whose audience is the one service it is sent to. A service
verifies every request itself, so reaching it directly admits no one the
gateway would not. The algorithm is fixed on the verifying side: ``none``
and algorithm switching are refused.
"""

import time
from contextvars import ContextVar
from enum import StrEnum
from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, status
from pydantic import BaseModel, Field

ALGORITHM = "HS256"
ISSUER = "ucap-gateway"
DEVELOPMENT_KEY = "ucap-development-signing-key-not-for-production"


class Role(StrEnum):
    PUBLISHER = "publisher"
    READER = "reader"
    ADMIN = "admin"


class Principal(BaseModel):
    """An authenticated caller."""

    subject: str = Field(description="`city:granada`, `iuc`, or `ops:<name>`")
    city_id: str | None = Field(default=None, description="The city a city system acts for")
    roles: frozenset[Role]

    def has(self, role: Role) -> bool:
        return role in self.roles or Role.ADMIN in self.roles

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    def acts_for(self, city_ids: object) -> bool:
        """Whether this caller may change what these cities take part in."""
        if self.is_admin:
            return True
        if not self.has(Role.PUBLISHER) or self.city_id is None:
            return False
        cities = {city_ids} if isinstance(city_ids, str) else set(city_ids)  # type: ignore[call-overload]
        return self.city_id in cities


class InvalidTokenError(Exception):
    pass


def issue_token(principal: Principal, *, audience: str, key: str, ttl_seconds: int = 60) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": principal.subject,
        "aud": audience,
        "iat": now,
        "exp": now + ttl_seconds,
        "roles": sorted(principal.roles),
        "city": principal.city_id,
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def verify_token(token: str, *, audience: str, key: str) -> Principal:
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "aud", "iss", "sub"]},
        )
        return Principal(
            subject=claims["sub"],
            city_id=claims.get("city"),
            roles=frozenset(Role(role) for role in claims.get("roles", [])),
        )
    except (jwt.PyJWTError, ValueError, KeyError) as error:
        raise InvalidTokenError(str(error)) from error


current_principal: ContextVar[Principal | None] = ContextVar("current_principal", default=None)


async def principal() -> Principal:
    """The authenticated caller of this request (the middleware has checked there is one)."""
    found = current_principal.get()
    if found is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "authentication required")
    return found


CurrentPrincipal = Annotated[Principal, Depends(principal)]


def require(caller: Principal, allowed: bool, what: str) -> None:
    """403 unless ``allowed``: the one way services refuse a caller."""
    if not allowed:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"{caller.subject} may not {what}")


async def writer(caller: CurrentPrincipal) -> Principal:
    """A caller who may write at all (publisher or admin)."""
    require(caller, caller.has(Role.PUBLISHER), "write")
    return caller


Writer = Annotated[Principal, Depends(writer)]


async def admin(caller: CurrentPrincipal) -> Principal:
    """An admin: operations data (``/ops/*``, ``/metrics``) is for operators alone."""
    require(caller, caller.is_admin, "read operations data")
    return caller
