"""Who may write what: tokens, roles and the pilot's own cities, against the real stores.

Every write endpoint is exercised by the same table (``WRITES``): the tenant
matrix (a city outside the pilot), a reader, and the callers who may (an admin,
the lead city, a partner). A refusal must leave the event store and the view
as they were, and the events topic holding exactly the pilot's stored events.
"""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import pytest

from tests.services.pilots.conftest import PilotsService
from tests.support.auth import ADMIN, bearer, city_publisher, reader
from tests.support.published import Outbox, published_count
from ucap_shared.auth import DEVELOPMENT_KEY, ISSUER, Principal


@dataclass(frozen=True)
class Target:
    """A pilot led by ``lead`` with ``partner``; ``stranger`` takes no part in it."""

    pilot_id: str
    lead: str
    partner: str
    stranger: str

    @property
    def new_pilot_id(self) -> str:
        """The id a proposal in a test names: a pilot the lead would lead."""
        return f"{self.lead}-proposed-{self.pilot_id.rsplit('-', 1)[-1]}"


Body = Callable[[Target, str], dict[str, Any]]
"""The request body, given the target and the city the caller reports as."""


def _no_body(target: Target, city: str) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Write:
    name: str
    path: str
    """With ``{pilot}`` for the pilot's id."""
    body: Body = _no_body
    method: str = "POST"
    prepare: tuple[str, ...] = ()
    """Status actions an admin takes first, so that the write is otherwise allowed."""
    proposes: bool = False

    def subject(self, target: Target) -> str:
        """The pilot the write changes (or, proposing, creates)."""
        return target.new_pilot_id if self.proposes else target.pilot_id

    async def send(
        self, client: httpx.AsyncClient, target: Target, caller: Principal, city: str
    ) -> httpx.Response:
        headers = {**bearer("pilots", caller), "Idempotency-Key": f"key-{uuid.uuid4()}"}
        return await client.request(
            self.method,
            self.path.format(pilot=target.pilot_id),
            json=self.body(target, city),
            headers=headers,
        )


def _proposal(target: Target, city: str) -> dict[str, Any]:
    return {
        "id": target.new_pilot_id,
        "title": "Another pilot",
        "lead_city_id": target.lead,
        "partners": [{"city_id": target.partner, "role": "partner"}],
    }


def _progress(target: Target, city: str) -> dict[str, Any]:
    return {"reported_on": "2020-07", "reporting_city_id": city, "summary": "Webinar held"}


WRITES = [
    Write("propose", "/pilots", _proposal, proposes=True),
    Write("approve", "/pilots/{pilot}/approve"),
    Write("start", "/pilots/{pilot}/start", prepare=("approve",)),
    Write("hold", "/pilots/{pilot}/hold", prepare=("approve",)),
    Write("resume", "/pilots/{pilot}/resume", prepare=("approve", "hold")),
    Write("complete", "/pilots/{pilot}/complete", prepare=("approve", "start")),
    Write("cancel", "/pilots/{pilot}/cancel"),
    Write("edit", "/pilots/{pilot}", lambda t, c: {"title": "Renamed"}, method="PATCH"),
    Write(
        "add milestone",
        "/pilots/{pilot}/milestones",
        lambda t, c: {"id": "w2", "title": "Second webinar", "planned_on": "2020-09"},
    ),
    Write(
        "complete milestone",
        "/pilots/{pilot}/milestones/w1/complete",
        lambda t, c: {"completed_on": "2020-07-15"},
    ),
    Write(
        "award funding",
        "/pilots/{pilot}/funding",
        lambda t, c: {"funder": "IUC competitive fund", "awarded_on": "2019-09"},
    ),
    Write(
        "add indicator",
        "/pilots/{pilot}/indicators",
        lambda t, c: {"id": "participants", "name": "Participants", "unit": "people"},
    ),
    Write("report progress", "/pilots/{pilot}/progress", _progress),
]
NAMES = [write.name for write in WRITES]


async def target_for(pilots: PilotsService, cities: list[str], write: Write) -> Target:
    """A fresh pilot (with milestone w1) in the status ``write`` needs, set up by an admin."""
    lead, partner, _, stranger = cities
    pilot_id = await pilots.new_pilot(lead, [partner])
    milestone = {"id": "w1", "title": "First webinar", "planned_on": "2020-07"}
    response = await pilots.client.post(f"/pilots/{pilot_id}/milestones", json=milestone)
    assert response.status_code == 201, response.text
    for action in write.prepare:
        response = await pilots.client.post(f"/pilots/{pilot_id}/{action}")
        assert response.status_code == 200, response.text
    return Target(pilot_id=pilot_id, lead=lead, partner=partner, stranger=stranger)


@dataclass
class Snapshot:
    version: int
    status: int
    view: Any = field(default=None)


async def snapshot(pilots: PilotsService, pilot_id: str) -> Snapshot:
    response = await pilots.client.get(f"/pilots/{pilot_id}")
    return Snapshot(await pilots.version(pilot_id), response.status_code, response.json())


class TestTenantMatrix:
    @pytest.mark.parametrize("write", WRITES, ids=NAMES)
    async def test_a_city_outside_the_pilot_is_403_and_changes_nothing(
        self, pilots: PilotsService, cities: list[str], write: Write
    ) -> None:
        target = await target_for(pilots, cities, write)
        before = await snapshot(pilots, write.subject(target))

        response = await write.send(
            pilots.client, target, city_publisher(target.stranger), target.stranger
        )

        assert response.status_code == 403, response.text
        assert f"city:{target.stranger}" in response.json()["detail"]
        assert await snapshot(pilots, write.subject(target)) == before
        outbox = Outbox.of(pilots.runtime)
        assert await published_count(outbox, write.subject(target)) == before.version


class TestReader:
    @pytest.mark.parametrize("write", WRITES, ids=NAMES)
    async def test_a_reader_is_403_and_changes_nothing(
        self, pilots: PilotsService, cities: list[str], write: Write
    ) -> None:
        target = await target_for(pilots, cities, write)
        before = await snapshot(pilots, write.subject(target))

        response = await write.send(pilots.client, target, reader(), target.partner)

        assert response.status_code == 403, response.text
        assert await snapshot(pilots, write.subject(target)) == before
        outbox = Outbox.of(pilots.runtime)
        assert await published_count(outbox, write.subject(target)) == before.version

    async def test_a_reader_reads_pilots_lists_and_history(
        self, pilots: PilotsService, cities: list[str]
    ) -> None:
        pilot_id = await pilots.new_pilot(cities[0], [cities[1]])
        headers = bearer("pilots", reader())
        for path in (f"/pilots/{pilot_id}", f"/pilots/{pilot_id}/history", "/pilots"):
            response = await pilots.client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.text)


WHO = {
    "admin": lambda target: (ADMIN, target.partner),
    "lead": lambda target: (city_publisher(target.lead), target.lead),
    "partner": lambda target: (city_publisher(target.partner), target.partner),
}
ALLOWED = [
    (write, who)
    for write in WRITES
    for who in WHO
    # A partner proposing names itself as lead: that is its own pilot, tested below.
    if not (write.proposes and who == "partner")
]


class TestThePilotsCitiesAndAdmins:
    @pytest.mark.parametrize(
        ("write", "who"), ALLOWED, ids=[f"{w.name}-{who}" for w, who in ALLOWED]
    )
    async def test_the_write_is_recorded_with_the_caller_as_actor(
        self, pilots: PilotsService, cities: list[str], write: Write, who: str
    ) -> None:
        target = await target_for(pilots, cities, write)
        caller, city = WHO[who](target)
        before = await pilots.version(write.subject(target))

        response = await write.send(pilots.client, target, caller, city)

        assert response.status_code in (200, 201), response.text
        history = (await pilots.client.get(f"/pilots/{write.subject(target)}/history")).json()
        assert len(history) > before
        assert {entry["actor"] for entry in history[before:]} == {caller.subject}


class TestOwnerNamedInTheBody:
    async def test_proposing_a_pilot_led_by_another_city_is_403_and_stores_nothing(
        self, pilots: PilotsService, cities: list[str]
    ) -> None:
        mine, other = cities[0], cities[1]
        publisher = bearer("pilots", city_publisher(mine))
        for pilot_id in (f"{other}-theirs-{uuid.uuid4().hex[:8]}", f"{mine}-x-{uuid.uuid4().hex}"):
            body = {"id": pilot_id, "title": "Not mine to lead", "lead_city_id": other}
            response = await pilots.client.post("/pilots", json=body, headers=publisher)
            assert response.status_code == 403, response.text
            assert await pilots.version(pilot_id) == 0
            assert (await pilots.client.get(f"/pilots/{pilot_id}")).status_code == 404

    async def test_a_city_proposes_as_lead_with_others_as_partners(
        self, pilots: PilotsService, cities: list[str]
    ) -> None:
        mine, other = cities[1], cities[0]
        pilot_id = f"{mine}-own-{uuid.uuid4().hex[:8]}"
        body = {
            "id": pilot_id,
            "title": "Mine",
            "lead_city_id": mine,
            "partners": [{"city_id": other, "role": "partner"}],
        }
        response = await pilots.client.post(
            "/pilots", json=body, headers=bearer("pilots", city_publisher(mine))
        )
        assert response.status_code == 201, response.text
        (entry,) = (await pilots.client.get(f"/pilots/{pilot_id}/history")).json()
        assert entry["actor"] == f"city:{mine}"

    async def test_a_partner_reporting_as_another_city_is_403_and_stores_nothing(
        self, pilots: PilotsService, cities: list[str]
    ) -> None:
        lead, partner = cities[0], cities[1]
        pilot_id = await pilots.new_pilot(lead, [partner])
        before = await snapshot(pilots, pilot_id)

        response = await pilots.client.post(
            f"/pilots/{pilot_id}/progress",
            json=_progress(Target(pilot_id, lead, partner, cities[3]), lead),
            headers={**bearer("pilots", city_publisher(partner)), "Idempotency-Key": "as-lead"},
        )

        assert response.status_code == 403, response.text
        assert lead in response.json()["detail"]
        assert await snapshot(pilots, pilot_id) == before


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "ops:intruder",
        "aud": "pilots",
        "iat": now,
        "exp": now + 600,
        "roles": ["admin"],
        "city": None,
    }
    return {**claims, **changes}


def _signed(claims: dict[str, Any], key: str = DEVELOPMENT_KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {jwt.encode(claims, key, algorithm='HS256')}"}


BAD_CREDENTIALS: dict[str, dict[str, str]] = {
    "no token": {},
    "malformed token": {"Authorization": "Bearer not.a.jwt"},
    "not a bearer": {"Authorization": "Basic b3BzOnNlY3JldA=="},
    "expired": _signed(_claims(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)),
    "another audience": _signed(_claims(aud="mous")),
    "alg none": {"Authorization": f"Bearer {jwt.encode(_claims(), None, algorithm='none')}"},
    "another key": _signed(_claims(), key="some-other-key-of-at-least-32-characters"),
    "another issuer": _signed(_claims(iss="someone-else")),
}


class TestAuthentication:
    @pytest.mark.parametrize("credentials", BAD_CREDENTIALS.values(), ids=BAD_CREDENTIALS)
    async def test_a_write_without_a_valid_token_is_401_and_stores_nothing(
        self, pilots: PilotsService, cities: list[str], credentials: dict[str, str]
    ) -> None:
        pilot_id = f"{cities[0]}-intruder-{uuid.uuid4().hex[:8]}"
        body = {"id": pilot_id, "title": "Intruder", "lead_city_id": cities[0]}
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=pilots.app), base_url="http://pilots"
        ) as bare:
            response = await bare.post("/pilots", json=body, headers=credentials)
            read = await bare.get("/pilots", headers=credentials)

        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert read.status_code == 401, read.text
        assert await pilots.version(pilot_id) == 0

    async def test_health_needs_no_token(self, pilots: PilotsService) -> None:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=pilots.app), base_url="http://pilots"
        ) as bare:
            assert (await bare.get("/health/live")).status_code == 200
