"""Who may write what: the caller comes from the token, a U-CAP belongs to its lead city.

In-process against the real Kafka and MongoDB-protocol server. Every refused
write must leave the U-CAP exactly as it was: the same version in the event
store, no event in its history, the same answer to a GET, and on the service's
events topic exactly the U-CAP's stored events.
"""

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest

from tests.services.reporting.conftest import ReportingService, fresh, ucap_body
from tests.support.auth import ADMIN, bearer, city_publisher, reader
from tests.support.published import Outbox, published
from ucap_shared.auth import DEVELOPMENT_KEY, ISSUER
from ucap_shared.auth import Principal as Caller
from ucap_shared.eventstore import EventStore
from ucap_shared.topics import events_topic

ACTIVITY_ID = "2018-07-first-meeting"


def activity(activity_id: str = ACTIVITY_ID) -> dict[str, Any]:
    return {
        "activity_id": activity_id,
        "date": "2018-07",
        "kind": "meeting",
        "ordinal": 1,
        "title": "First meeting",
        "places": ["Granada"],
        "city_ids": [],
        "outcome": "Agreed the themes",
    }


@dataclass(frozen=True)
class Write:
    """One write endpoint, aimed at an existing U-CAP (and its one activity)."""

    name: str
    method: str
    path: str
    body: Callable[[str, str], dict[str, Any] | None]
    """The body, from the U-CAP's id and its lead city."""

    def url(self, ucap_id: str) -> str:
        return self.path.format(ucap=ucap_id, activity=ACTIVITY_ID)


WRITES = [
    Write("create", "POST", "/ucaps", lambda u, lead: ucap_body(f"{u}-new", lead, ["kunming"])),
    Write("edit sections", "PATCH", "/ucaps/{ucap}", lambda u, lead: {"contact": "x@y.org"}),
    Write(
        "log activity",
        "POST",
        "/ucaps/{ucap}/activities",
        lambda u, lead: activity("2018-09-second-meeting"),
    ),
    Write(
        "edit activity",
        "PATCH",
        "/ucaps/{ucap}/activities/{activity}",
        lambda u, lead: {"outcome": "changed"},
    ),
    Write("remove activity", "DELETE", "/ucaps/{ucap}/activities/{activity}", lambda u, lead: None),
    Write(
        "deliver",
        "POST",
        "/ucaps/{ucap}/deliver",
        lambda u, lead: {"status": "delivered", "delivered_on": "2020-05"},
    ),
]
WRITE_IDS = [write.name for write in WRITES]


@dataclass
class Seeded:
    """A U-CAP an admin created, led by ``lead`` with ``counterpart``, holding one activity."""

    ucap_id: str
    lead: str
    counterpart: str


async def seeded(reporting: ReportingService) -> Seeded:
    lead, counterpart = fresh("lead"), fresh("counterpart")
    ucap_id = fresh("ucap")
    await reporting.create(ucap_id, lead, [counterpart])
    await reporting.register("kunming")  # the counterpart of the U-CAP the writes create
    logged = await reporting.client.post(f"/ucaps/{ucap_id}/activities", json=activity())
    assert logged.status_code == 201, logged.text
    return Seeded(ucap_id, lead, counterpart)


async def send(
    reporting: ReportingService, write: Write, seed: Seeded, caller: Caller
) -> httpx.Response:
    body = write.body(seed.ucap_id, seed.lead)
    return await reporting.client.request(
        write.method,
        write.url(seed.ucap_id),
        json=body,
        headers=bearer("reporting", caller),
    )


def outbox(reporting: ReportingService) -> Outbox:
    """The service's event store and the topic its relay publishes to."""
    settings = reporting.settings
    store = EventStore(reporting.mongo[settings.database], source=f"ucap/{settings.service_name}")
    return Outbox(store, events_topic(settings.service_name), reporting.bootstrap)


@dataclass
class Snapshot:
    version: int
    ucap: Any
    history: Any
    created: tuple[int, int]
    """The stored version and the GET status of the U-CAP the ``create`` write would make."""


async def snapshot(reporting: ReportingService, ucap_id: str) -> Snapshot:
    get, store = reporting.client.get, outbox(reporting).store
    return Snapshot(
        version=await store.version(ucap_id),
        ucap=(await get(f"/ucaps/{ucap_id}")).json(),
        history=(await get(f"/ucaps/{ucap_id}/history")).json(),
        created=(
            await store.version(f"{ucap_id}-new"),
            (await get(f"/ucaps/{ucap_id}-new")).status_code,
        ),
    )


@pytest.fixture(scope="module")
async def untouched(reporting: ReportingService) -> Seeded:
    """One U-CAP for every refusal: a refused write leaves it as it was (each test checks)."""
    return await seeded(reporting)


Refused = Callable[[Write, Seeded, Caller], Awaitable[httpx.Response]]


@pytest.fixture
def refused(reporting: ReportingService) -> Refused:
    """Send ``write`` as ``caller``; assert it changed nothing at all; return the answer."""

    async def attempt(write: Write, seed: Seeded, caller: Caller) -> httpx.Response:
        before = await snapshot(reporting, seed.ucap_id)
        response = await send(reporting, write, seed, caller)
        after = await snapshot(reporting, seed.ucap_id)
        assert after == before
        assert before.created == (0, 404)
        on_topic = await published(outbox(reporting))
        assert on_topic[seed.ucap_id] == before.version
        assert on_topic[f"{seed.ucap_id}-new"] == 0
        return response

    return attempt


class TestAnotherCityChangesNothing:
    """The tenant matrix: a publisher of a city that does not lead the U-CAP, on every write."""

    @pytest.mark.parametrize("write", WRITES, ids=WRITE_IDS)
    async def test_a_stranger_city_is_refused(
        self, untouched: Seeded, refused: Refused, write: Write
    ) -> None:
        response = await refused(write, untouched, city_publisher(fresh("stranger")))
        assert response.status_code == 403, response.text

    @pytest.mark.parametrize("write", WRITES, ids=WRITE_IDS)
    async def test_a_counterpart_city_is_refused(
        self, untouched: Seeded, refused: Refused, write: Write
    ) -> None:
        response = await refused(write, untouched, city_publisher(untouched.counterpart))
        assert response.status_code == 403, response.text


class TestReaderWritesNothing:
    @pytest.mark.parametrize("write", WRITES, ids=WRITE_IDS)
    async def test_a_reader_is_refused(
        self, untouched: Seeded, refused: Refused, write: Write
    ) -> None:
        response = await refused(write, untouched, reader())
        assert response.status_code == 403, response.text


class TestWhoMayWrite:
    @pytest.mark.parametrize("write", WRITES, ids=WRITE_IDS)
    async def test_the_lead_citys_publisher_may_and_is_the_actor(
        self, reporting: ReportingService, write: Write
    ) -> None:
        seed = await seeded(reporting)
        caller = city_publisher(seed.lead)
        response = await send(reporting, write, seed, caller)
        assert response.status_code in (200, 201), response.text
        ucap_id = f"{seed.ucap_id}-new" if write.name == "create" else seed.ucap_id
        history = (await reporting.client.get(f"/ucaps/{ucap_id}/history")).json()
        assert history[-1]["actor"] == f"city:{seed.lead}"

    @pytest.mark.parametrize("write", WRITES, ids=WRITE_IDS)
    async def test_an_admin_may_and_is_the_actor(
        self, reporting: ReportingService, write: Write
    ) -> None:
        seed = await seeded(reporting)
        response = await send(reporting, write, seed, ADMIN)
        assert response.status_code in (200, 201), response.text
        ucap_id = f"{seed.ucap_id}-new" if write.name == "create" else seed.ucap_id
        history = (await reporting.client.get(f"/ucaps/{ucap_id}/history")).json()
        assert history[-1]["actor"] == ADMIN.subject == "ops:test"

    async def test_any_role_reads(self, reporting: ReportingService) -> None:
        seed = await seeded(reporting)
        for caller in (reader(), city_publisher(fresh("stranger"))):
            headers = bearer("reporting", caller)
            for path in ("", "/history", "/status"):
                response = await reporting.client.get(
                    f"/ucaps/{seed.ucap_id}{path}", headers=headers
                )
                assert response.status_code == 200, (path, response.text)
            listed = await reporting.client.get("/ucaps", headers=headers)
            assert listed.status_code == 200


class TestABodyNamingAnotherCityAsLead:
    async def test_creating_a_ucap_led_by_another_city_is_refused(
        self, reporting: ReportingService
    ) -> None:
        ucap_id = fresh("ucap")
        response = await reporting.client.post(
            "/ucaps",
            json=ucap_body(ucap_id, "haikou", ["granada"]),
            headers=bearer("reporting", city_publisher("granada")),
        )
        assert response.status_code == 403
        assert "haikou" in response.json()["detail"]
        assert (await reporting.client.get(f"/ucaps/{ucap_id}")).status_code == 404

    async def test_the_lead_cannot_hand_its_ucap_to_another_city(
        self, reporting: ReportingService, refused: Refused
    ) -> None:
        seed = await seeded(reporting)
        handover = Write(
            "hand over", "PATCH", "/ucaps/{ucap}", lambda u, lead: {"lead_city_id": "haikou"}
        )
        response = await refused(handover, seed, city_publisher(seed.lead))
        assert response.status_code == 403


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": ISSUER,
        "sub": "ops:test",
        "aud": "reporting",
        "iat": now,
        "exp": now + 300,
        "roles": ["admin"],
        "city": None,
        **changes,
    }


def signed(payload: dict[str, Any], key: str = DEVELOPMENT_KEY) -> str:
    return jwt.encode(payload, key, algorithm="HS256")


BAD_AUTHORIZATIONS = {
    "no token": None,
    "not a bearer": f"Basic {signed(claims())}",
    "malformed": "Bearer not.a.jwt",
    "expired": f"Bearer {signed(claims(iat=int(time.time()) - 600, exp=int(time.time()) - 60))}",
    "another audience": f"Bearer {signed(claims(aud='cities'))}",
    "alg none": f"Bearer {jwt.encode(claims(), None, algorithm='none')}",
    "another key": f"Bearer {signed(claims(), 'another-signing-key-of-at-least-32-bytes')}",
    "another issuer": f"Bearer {signed(claims(iss='someone-else'))}",
}


class TestABadTokenIsUnauthenticated:
    @pytest.mark.parametrize("authorization", BAD_AUTHORIZATIONS.values(), ids=BAD_AUTHORIZATIONS)
    async def test_a_write_is_401_and_stores_nothing(
        self, reporting: ReportingService, authorization: str | None
    ) -> None:
        ucap_id = fresh("ucap")
        request = reporting.client.build_request(
            "POST", "/ucaps", json=ucap_body(ucap_id, "granada", ["kunming"])
        )
        del request.headers["Authorization"]
        if authorization is not None:
            request.headers["Authorization"] = authorization
        response = await reporting.client.send(request)
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert (await reporting.client.get(f"/ucaps/{ucap_id}")).status_code == 404

    @pytest.mark.parametrize("authorization", BAD_AUTHORIZATIONS.values(), ids=BAD_AUTHORIZATIONS)
    async def test_a_read_is_401(
        self, reporting: ReportingService, authorization: str | None
    ) -> None:
        request = reporting.client.build_request("GET", "/ucaps")
        del request.headers["Authorization"]
        if authorization is not None:
            request.headers["Authorization"] = authorization
        assert (await reporting.client.send(request)).status_code == 401

    async def test_the_health_endpoints_stay_open(self, reporting: ReportingService) -> None:
        request = reporting.client.build_request("GET", "/health/live")
        del request.headers["Authorization"]
        assert (await reporting.client.send(request)).status_code == 200
