"""Tokens for calling a service directly in tests, as the gateway would."""

from ucap_shared.auth import DEVELOPMENT_KEY, Principal, Role, issue_token

ADMIN = Principal(subject="ops:test", roles=frozenset({Role.ADMIN}))


def city_publisher(city_id: str) -> Principal:
    return Principal(subject=f"city:{city_id}", city_id=city_id, roles=frozenset({Role.PUBLISHER}))


def reader() -> Principal:
    return Principal(subject="iuc", roles=frozenset({Role.READER}))


def bearer(
    audience: str, principal: Principal = ADMIN, *, ttl_seconds: int = 3600
) -> dict[str, str]:
    """The Authorization header for ``audience`` (a service's base name: cities, mous …)."""
    token = issue_token(principal, audience=audience, key=DEVELOPMENT_KEY, ttl_seconds=ttl_seconds)
    return {"Authorization": f"Bearer {token}"}
