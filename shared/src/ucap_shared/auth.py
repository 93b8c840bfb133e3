"""Who is calling: a short-lived token the gateway signs and every service verifies.

The gateway authenticates callers (API keys) and passes the caller on as a
JWT (HS256) whose audience is the one service it is sent to. A service
verifies every request itself, so reaching it directly admits no one the
gateway would not. The algorithm is fixed on the verifying side: ``none``
and algorithm switching are refused.
"""

import time
from collections.abc import Callable
from contextvars import ContextVar
from enum import StrEnum
from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, status
from pydantic import BaseModel, Field

from ucap_shared.bounded import BoundedMap

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


def issue_token(
    principal: Principal,
    *,
    audience: str,
    key: str,
    ttl_seconds: int = 60,
    now: int | None = None,
) -> str:
    now = int(time.time()) if now is None else now
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


def _verified(token: str, *, audience: str, key: str) -> tuple[Principal, int]:
    """The token's caller and its expiry (seconds since the epoch); InvalidTokenError."""
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "aud", "iss", "sub"]},
        )
        principal = Principal(
            subject=claims["sub"],
            city_id=claims.get("city"),
            roles=frozenset(Role(role) for role in claims.get("roles", [])),
        )
        return principal, int(claims["exp"])
    except (jwt.PyJWTError, ValueError, KeyError) as error:
        raise InvalidTokenError(str(error)) from error


class VerifiedTokens:
    """A service's tokens verified before, with their callers: one seen again (the gateway
    sends each for a while) costs a lookup and its expiry, not a signature check.

    Keyed by the whole token, signature included: a token differing in any byte is
    verified afresh. Only tokens that passed are kept, the oldest let go past ``capacity``.
    """

    def __init__(
        self,
        *,
        audience: str,
        key: str,
        capacity: int = 4096,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._audience = audience
        self._key = key
        self._clock = clock
        self._known: BoundedMap[str, tuple[Principal, int]] = BoundedMap(capacity)

    def verify(self, token: str) -> Principal:
        known = self._known.get(token)
        if known is not None:
            principal, expires = known
            if self._clock() < expires:
                return principal
            self._known.discard(token)
            raise InvalidTokenError("Signature has expired")
        principal, expires = _verified(token, audience=self._audience, key=self._key)
        self._known.put(token, (principal, expires))
        return principal


class ServiceTokens:
    """The gateway's tokens for the services: one per caller and service, sent again until
    half its lifetime has passed, so a request as a rule signs none (and a service verifies
    it once). A token sent is valid for at least half the lifetime still."""

    def __init__(
        self,
        *,
        key: str,
        ttl_seconds: int,
        capacity: int = 4096,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = key
        self._ttl = ttl_seconds
        self._clock = clock
        self._issued: BoundedMap[tuple[object, ...], tuple[str, int]] = BoundedMap(capacity)

    def for_caller(self, principal: Principal, audience: str) -> str:
        who = (principal.subject, principal.city_id, tuple(sorted(principal.roles)), audience)
        now = self._clock()
        issued = self._issued.get(who)
        if issued is not None and now - issued[1] < self._ttl / 2:
            return issued[0]
        issued_at = int(now)
        token = issue_token(
            principal, audience=audience, key=self._key, ttl_seconds=self._ttl, now=issued_at
        )
        self._issued.put(who, (token, issued_at))
        return token


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
