"""Who may change a city: its own publisher or an admin; readers read; strangers get 401.

Tokens are sent straight to the service, as the gateway would send them; the bad
ones are built with PyJWT directly. A refused write must leave the city as it
was in the event store, in the view and on the service's events topic.
"""

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import httpx
import jwt
import pytest
from fastapi.routing import APIRoute

from tests.services.cities.conftest import CitiesService, city_body, new_id
from tests.support.auth import ADMIN, bearer, city_publisher, reader
from tests.support.published import Outbox, published_count
from ucap_cities.api import router
from ucap_shared.auth import DEVELOPMENT_KEY, ISSUER, Principal

STAKEHOLDER = {"id": "city-hall", "name": "City Hall", "kind": "city_government"}


@dataclass(frozen=True)
class Write:
    """One write endpoint, aimed at the city ``city_id``."""

    name: str
    method: str
    route: str
    path: Callable[[str], str]
    body: Callable[[str], dict[str, Any] | None]

    async def send(
        self, client: httpx.AsyncClient, city_id: str, headers: dict[str, str]
    ) -> httpx.Response:
        return await client.request(
            self.method, self.path(city_id), json=self.body(city_id), headers=headers
        )


# Each acts on a city registered by ``registered`` below, with one stakeholder and
# the cluster "Smart City"; registering is aimed at that (existing) city's id.
WRITES = [
    Write("register", "POST", "/cities", lambda c: "/cities", lambda c: city_body(c)),
    Write(
        "update profile",
        "PATCH",
        "/cities/{city_id}",
        lambda c: f"/cities/{c}",
        lambda c: {"name": "Renamed", "region": "Elsewhere"},
    ),
    Write(
        "add stakeholder",
        "POST",
        "/cities/{city_id}/stakeholders",
        lambda c: f"/cities/{c}/stakeholders",
        lambda c: {"id": "newcomer-co", "name": "Newcomer", "kind": "company"},
    ),
    Write(
        "remove stakeholder",
        "DELETE",
        "/cities/{city_id}/stakeholders/{stakeholder_id}",
        lambda c: f"/cities/{c}/stakeholders/{STAKEHOLDER['id']}",
        lambda c: None,
    ),
    Write(
        "join cluster",
        "POST",
        "/cities/{city_id}/clusters",
        lambda c: f"/cities/{c}/clusters",
        lambda c: {"cluster": "Circular Economy"},
    ),
    Write(
        "leave cluster",
        "DELETE",
        "/cities/{city_id}/clusters/{cluster}",
        lambda c: f"/cities/{c}/clusters/Smart City",
        lambda c: None,
    ),
]
ON_EACH_WRITE = pytest.mark.parametrize("write", WRITES, ids=[w.name for w in WRITES])


async def registered(service: CitiesService) -> str:
    """A fresh city (registered by an admin), with a stakeholder and one cluster."""
    city_id = new_id()
    body = city_body(city_id, clusters=["Smart City"], stakeholders=[STAKEHOLDER])
    response = await service.client.post("/cities", json=body)
    assert response.status_code == 201, response.text
    return city_id


class Snapshot(NamedTuple):
    """A city as it is now: its version in the store, its view and its history."""

    version: int
    view: tuple[int, Any]
    history: tuple[int, Any]


async def snapshot(service: CitiesService, city_id: str) -> Snapshot:
    version = await service.app.state.runtime.store.version(city_id)
    view = await service.client.get(f"/cities/{city_id}")
    events = await service.client.get(f"/cities/{city_id}/history")
    return Snapshot(version, (view.status_code, view.json()), (events.status_code, events.json()))


def outbox(service: CitiesService) -> Outbox:
    return Outbox.of(service.app.state.runtime)


async def actors(service: CitiesService, city_id: str) -> list[str]:
    response = await service.client.get(f"/cities/{city_id}/history")
    assert response.status_code == 200, response.text
    return [event["actor"] for event in response.json()]


def as_(principal: Principal) -> dict[str, str]:
    return bearer("cities", principal)


class TestTheMatrixCoversEveryWrite:
    def test_every_write_route_of_the_service_is_in_the_matrix(self) -> None:
        routes = {
            (method, route.path)
            for route in router.routes
            if isinstance(route, APIRoute)
            for method in route.methods or ()
            if method not in {"GET", "HEAD"}
        }

        assert routes == {(w.method, w.route) for w in WRITES}


class TestAPublisherOfAnotherCity:
    @ON_EACH_WRITE
    async def test_is_refused_and_changes_nothing(
        self, cities: CitiesService, write: Write
    ) -> None:
        city_id = await registered(cities)
        before = await snapshot(cities, city_id)

        response = await write.send(cities.client, city_id, as_(city_publisher(new_id())))

        assert response.status_code == 403, response.text
        assert await snapshot(cities, city_id) == before
        assert await published_count(outbox(cities), city_id) == before.version

    @ON_EACH_WRITE
    async def test_is_refused_before_the_city_is_looked_up(
        self, cities: CitiesService, write: Write
    ) -> None:
        city_id = new_id()

        response = await write.send(cities.client, city_id, as_(city_publisher(new_id())))

        assert response.status_code == 403, response.text
        assert await cities.app.state.runtime.store.version(city_id) == 0
        assert await published_count(outbox(cities), city_id) == 0


class TestAPublisherOfTheCityItself:
    @ON_EACH_WRITE
    async def test_may_change_it_and_is_named_as_the_actor(
        self, cities: CitiesService, write: Write
    ) -> None:
        city_id = await registered(cities)
        publisher = city_publisher(city_id)
        expected = 409 if write.name == "register" else None

        response = await write.send(cities.client, city_id, as_(publisher))

        if expected is not None:
            # Allowed to try: the id is taken, so the answer is the domain's, not a refusal.
            assert response.status_code == expected, response.text
            assert await actors(cities, city_id) == [ADMIN.subject, ADMIN.subject]
        else:
            assert response.status_code in (200, 201), response.text
            assert (await actors(cities, city_id))[-1] == "city:" + city_id

    async def test_registers_its_own_city_as_itself(self, cities: CitiesService) -> None:
        city_id = new_id()

        response = await cities.client.post(
            "/cities", json=city_body(city_id), headers=as_(city_publisher(city_id))
        )

        assert response.status_code == 201, response.text
        assert await actors(cities, city_id) == [f"city:{city_id}"]


class TestABodyNamingAnotherCity:
    async def test_registering_another_citys_id_is_refused_and_stores_nothing(
        self, cities: CitiesService
    ) -> None:
        own, other = new_id(), new_id()

        response = await cities.client.post(
            "/cities", json=city_body(other), headers=as_(city_publisher(own))
        )

        assert response.status_code == 403, response.text
        assert other in response.json()["detail"]
        assert await cities.app.state.runtime.store.version(other) == 0
        assert (await cities.client.get(f"/cities/{other}")).status_code == 404
        assert (await cities.client.get(f"/cities/{own}")).status_code == 404


class TestAReader:
    @ON_EACH_WRITE
    async def test_may_not_write(self, cities: CitiesService, write: Write) -> None:
        city_id = await registered(cities)
        before = await snapshot(cities, city_id)

        response = await write.send(cities.client, city_id, as_(reader()))

        assert response.status_code == 403, response.text
        assert await snapshot(cities, city_id) == before
        assert await published_count(outbox(cities), city_id) == before.version

    async def test_reads_every_city_its_history_and_the_list(self, cities: CitiesService) -> None:
        city_id = await registered(cities)
        headers = as_(reader())

        one = await cities.client.get(f"/cities/{city_id}", headers=headers)
        events = await cities.client.get(f"/cities/{city_id}/history", headers=headers)
        listed = await cities.client.get("/cities", params={"limit": 200}, headers=headers)

        assert one.status_code == 200
        assert one.json()["id"] == city_id
        assert events.status_code == 200
        assert len(events.json()) == 2
        assert listed.status_code == 200


class TestAnAdmin:
    @ON_EACH_WRITE
    async def test_may_change_any_city_and_is_named_as_the_actor(
        self, cities: CitiesService, write: Write
    ) -> None:
        city_id = new_id() if write.name == "register" else await registered(cities)
        admin = Principal(subject="ops:alice", roles=ADMIN.roles)

        response = await write.send(cities.client, city_id, as_(admin))

        assert response.status_code in (200, 201), response.text
        assert (await actors(cities, city_id))[-1] == "ops:alice"


def _claims(*, drop: tuple[str, ...] = (), **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "ops:intruder",
        "aud": "cities",
        "iat": now,
        "exp": now + 300,
        "roles": ["admin"],
        "city": None,
    }
    return {k: v for k, v in {**claims, **overrides}.items() if k not in drop}


def _signed(
    key: str = DEVELOPMENT_KEY,
    algorithm: str = "HS256",
    drop: tuple[str, ...] = (),
    **overrides: Any,
) -> str:
    with warnings.catch_warnings():
        # The development key is short for HS512; the point is that it is refused at all.
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        return jwt.encode(_claims(drop=drop, **overrides), key, algorithm=algorithm)


BAD_AUTHORIZATION: dict[str, dict[str, str]] = {
    "no token": {},
    "malformed token": {"Authorization": "Bearer not.a.token"},
    "no scheme": {"Authorization": _signed()},
    "basic scheme": {"Authorization": f"Basic {_signed()}"},
    "empty bearer": {"Authorization": "Bearer "},
    "expired": {
        "Authorization": "Bearer " + _signed(iat=int(time.time()) - 600, exp=int(time.time()) - 300)
    },
    "other audience": {"Authorization": "Bearer " + _signed(aud="mous")},
    "other issuer": {"Authorization": "Bearer " + _signed(iss="someone-else")},
    "no expiry": {"Authorization": "Bearer " + _signed(drop=("exp",))},
    "alg none": {"Authorization": "Bearer " + jwt.encode(_claims(), None, algorithm="none")},
    "other algorithm, same key": {"Authorization": "Bearer " + _signed(algorithm="HS512")},
    "other key": {
        "Authorization": "Bearer " + _signed(key="a-different-key-of-at-least-32-bytes!")
    },
}
EACH_BAD_AUTHORIZATION = pytest.mark.parametrize(
    "headers", BAD_AUTHORIZATION.values(), ids=BAD_AUTHORIZATION.keys()
)


async def _bare(service: CitiesService) -> httpx.AsyncClient:
    """A client of the same app that sends no token of its own."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=service.app), base_url="http://cities"
    )


class TestWithoutAValidToken:
    @EACH_BAD_AUTHORIZATION
    async def test_a_write_is_401_and_stores_nothing(
        self, cities: CitiesService, headers: dict[str, str]
    ) -> None:
        city_id = new_id()

        async with await _bare(cities) as client:
            response = await client.post("/cities", json=city_body(city_id), headers=headers)

        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert await cities.app.state.runtime.store.version(city_id) == 0

    @EACH_BAD_AUTHORIZATION
    async def test_a_read_is_401(self, cities: CitiesService, headers: dict[str, str]) -> None:
        city_id = await registered(cities)

        async with await _bare(cities) as client:
            one = await client.get(f"/cities/{city_id}", headers=headers)
            listed = await client.get("/cities", headers=headers)

        assert (one.status_code, listed.status_code) == (401, 401)

    async def test_the_health_endpoints_stay_open(self, cities: CitiesService) -> None:
        async with await _bare(cities) as client:
            live = await client.get("/health/live")

        assert live.status_code == 200
