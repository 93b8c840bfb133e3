"""The signature a receiver checks: HMAC-SHA256 of ``<timestamp>.<body>`` with the secret.

The timestamp (Unix seconds, ``X-UCAP-Timestamp``) is signed with the body, so a
receiver that refuses timestamps older than its replay window (``REPLAY_WINDOW``,
five minutes, is what the README advises) refuses a captured delivery sent again.
Every try is signed afresh with the time it is sent.
"""

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "X-UCAP-Signature"
TIMESTAMP_HEADER = "X-UCAP-Timestamp"
DELIVERY_HEADER = "X-UCAP-Delivery"
KIND_HEADER = "X-UCAP-Event"
SCHEME = "v1"
REPLAY_WINDOW_SECONDS = 300
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix naming what follows, not a secret


def new_secret() -> str:
    """A subscription's secret: 256 random bits, shown once at registration."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``v1=<hex>``: the value of ``X-UCAP-Signature``."""
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"{SCHEME}={digest}"


def signed_headers(
    secret: str, delivery_id: str, kind: str, body: bytes, now: float
) -> dict[str, str]:
    timestamp = int(now)
    return {
        "Content-Type": "application/json",
        "User-Agent": "ucap-webhooks/1",
        DELIVERY_HEADER: delivery_id,
        KIND_HEADER: kind,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


def verify(
    secret: str,
    headers: dict[str, str],
    body: bytes,
    *,
    now: float,
    window_seconds: int = REPLAY_WINDOW_SECONDS,
) -> bool:
    """What a receiver does: the signature matches, and the timestamp is within the window."""
    try:
        timestamp = int(headers[TIMESTAMP_HEADER])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > window_seconds:
        return False
    expected = signature(secret, timestamp, body)
    return hmac.compare_digest(expected, headers.get(SIGNATURE_HEADER, ""))
