"""Requests of a load to the gateway: sent with the key of whoever the data belongs to,
dated in the cooperation's timeline when the key may date, and retried, for a bounded
time, when a service has not yet heard of a city, MoU or U-CAP the file itself defines (its
view of the other services is fed through Kafka, a moment after they answered)."""

import re
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from ucap_ops.credentials import Credentials
from ucap_ops.gateway_access import describe, problems_of, unreachable
from ucap_ops.loading.progress import Progress

OCCURRED_AT = "X-UCAP-Occurred-At"
# The services' words for a reference they do not know (yet): the id is what was named.
UNKNOWN_REFERENCE = re.compile(r"^unknown (?:city|MoU|organisation) '?(?P<id>[^' ]+)'?$")
UNKNOWN_UCAP = re.compile(r"^unknown U-CAP '?(?P<id>[^':; ]+)'?(?:[:;].*)?$")
FOREIGN_STAKEHOLDER = re.compile(r"^'.+' is not a stakeholder of '(?P<id>[^']+)'$")
MAX_RETRY_AFTER_SECONDS = 5.0


class LoadError(RuntimeError):
    """The load cannot go on at all: the gateway is unreachable or refuses the key."""


@dataclass(frozen=True)
class Reply:
    status: int | None
    """None when nothing was sent (no key for it)"""
    body: Any
    detail: str
    replayed: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class KeyChoice:
    """One key for everything, or a credentials file: each city's data with that city's
    publisher key, the rest (and a city without a key) with its admin key."""

    single: str | None = None
    credentials: Credentials | None = None

    def key_for(self, cities: Sequence[str]) -> str | None:
        if self.single is not None:
            return self.single
        assert self.credentials is not None
        for city in cities:
            stored = self.credentials.for_city(city)
            if stored is not None:
                return stored.key
        admin = self.credentials.admin()
        return admin[1].key if admin else None

    def every_key(self) -> dict[str, str]:
        """Each key by who holds it, to check them all before loading."""
        if self.single is not None:
            return {"--key": self.single}
        assert self.credentials is not None
        return {name: stored.key for name, stored in self.credentials.keys.items()}


class Gateway:
    def __init__(
        self,
        client: httpx.Client,
        keys: KeyChoice,
        *,
        defined: Collection[str],
        wait_seconds: float,
        progress: Progress,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._keys = keys
        self._defined = defined
        self._wait_seconds = wait_seconds
        self._progress = progress
        self._clock = clock
        self.dated = False
        """Whether writes carry their date: only an admin's key may date"""

    def check_keys(self, listing: str) -> None:
        """Every key must authenticate (a read of ``listing``, a list the load writes to); a
        single key that may date (an admin's) will date the writes."""
        for holder, key in self._keys.every_key().items():
            answer = self._request("GET", listing, key, params={"limit": "1"})
            if answer.status_code in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
                raise LoadError(f"the key of {holder} is refused: {describe(answer)}")
        if self._keys.single is not None:
            probe = self._request(
                "GET",
                listing,
                self._keys.single,
                params={"limit": "1"},
                headers={OCCURRED_AT: "2000-01"},
            )
            self.dated = probe.status_code == httpx.codes.OK

    def read(self, path: str, acting: Sequence[str]) -> Reply:
        key = self._keys.key_for(acting)
        if key is None:
            return _keyless(acting)
        return _reply(self._request("GET", path, key))

    def send(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        *,
        acting: Sequence[str],
        on: str | None = None,
    ) -> Reply:
        """One write, answered; a refusal for an unknown reference of the file's own, or
        for the rate limit, is retried until ``wait_seconds`` have passed."""
        key = self._keys.key_for(acting)
        if key is None:
            return _keyless(acting)
        headers = {OCCURRED_AT: on} if self.dated and on else {}
        deadline = self._clock() + self._wait_seconds
        pause = 0.2
        waiting_for: str | None = None
        while True:
            answer = self._request(method, path, key, json=body, headers=headers)
            wait = self._retry_after(answer)
            if wait is None:
                missing = self._pending_reference(answer)
                if missing is not None:
                    wait = pause
                    pause = min(pause * 1.5, 1.0)
                    if waiting_for != missing:
                        self._progress.note(f"waiting: {path} refers to {missing}, not known yet")
                        waiting_for = missing
            if wait is None or self._clock() + wait > deadline:
                return _reply(answer)
            time.sleep(wait)

    def _request(
        self,
        method: str,
        path: str,
        key: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        try:
            return self._client.request(
                method,
                path,
                json=json,
                params=params,
                headers={"Authorization": f"Bearer {key}", **(headers or {})},
            )
        except httpx.HTTPError as error:
            raise LoadError(unreachable(str(self._client.base_url), error)) from error

    @staticmethod
    def _retry_after(answer: httpx.Response) -> float | None:
        if answer.status_code != httpx.codes.TOO_MANY_REQUESTS:
            return None
        try:
            return min(float(answer.headers.get("retry-after", "1")), MAX_RETRY_AFTER_SECONDS)
        except ValueError:
            return 1.0

    def _pending_reference(self, answer: httpx.Response) -> str | None:
        """The reference a 422 is waiting for, when every problem is one the file defines."""
        if answer.status_code != httpx.codes.UNPROCESSABLE_ENTITY:
            return None
        problems = problems_of(answer)
        if not problems:
            return None
        named = []
        for problem in problems:
            message = str(problem.get("msg", "")) if isinstance(problem, dict) else ""
            match = (
                UNKNOWN_REFERENCE.match(message)
                or UNKNOWN_UCAP.match(message)
                or FOREIGN_STAKEHOLDER.match(message)
            )
            if match is None or match["id"] not in self._defined:
                return None
            named.append(match["id"])
        return ", ".join(dict.fromkeys(named))


def _reply(answer: httpx.Response) -> Reply:
    try:
        body: Any = answer.json()
    except ValueError:
        body = None
    ok = answer.is_success
    return Reply(
        status=answer.status_code,
        body=body,
        detail="" if ok else describe(answer),
        replayed=answer.headers.get("idempotent-replayed") == "true",
    )


def _keyless(acting: Sequence[str]) -> Reply:
    cities = ", ".join(f"city:{city}" for city in acting) or "this"
    return Reply(
        status=None, body=None, detail=f"no key for {cities} in the credentials, and no admin key"
    )
