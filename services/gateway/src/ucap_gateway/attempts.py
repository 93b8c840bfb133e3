"""Failed authentications counted per client address, at the gatekeeper and the log-in form.

Each presented key that reads like one (``ucap_<id>_<secret>``) but is unknown,
revoked or wrong costs the key store a look-up; past a burst of them, an
address gets 429 with ``Retry-After`` for every key this process has not seen
valid, without a look-up, until its bucket refills. A key that does not even
read like one is refused for nothing, so it is not counted.
"""

from fastapi import Request
from fastapi.responses import JSONResponse

from ucap_gateway.keys import KeyRecord, KeyStore, well_formed
from ucap_gateway.ratelimit import RateLimiter


def client_address(request: Request) -> str:
    """The caller's address (uvicorn puts a trusted proxy's ``X-Forwarded-For`` there)."""
    return request.client.host if request.client is not None else "unknown"


async def authenticate(request: Request, key: str) -> KeyRecord | JSONResponse | None:
    """The key's record; None for no valid key; 429 while the caller's address has failed
    too often."""
    keys: KeyStore = request.app.state.keys
    failures: RateLimiter = request.app.state.auth_failures
    address = client_address(request)
    wait = failures.wait(address)
    if wait > 0 and not keys.known(key):
        return too_many_failures(wait)
    record = await keys.authenticate(key)
    if record is None and well_formed(key):
        failures.take(address)
    return record


def held_back_answer(request: Request) -> JSONResponse | None:
    """429 while the caller's address has failed too often, whatever key it may bring."""
    failures: RateLimiter | None = getattr(request.app.state, "auth_failures", None)
    wait = failures.wait(client_address(request)) if failures is not None else 0.0
    return too_many_failures(wait) if wait > 0 else None


def too_many_failures(wait: float) -> JSONResponse:
    retry_after = RateLimiter.retry_after(wait)
    return JSONResponse(
        status_code=429,
        content={
            "error": "too_many_failures",
            "detail": "too many failed authentications from this address; "
            f"try again in {retry_after} s",
        },
        headers={"Retry-After": retry_after},
    )
