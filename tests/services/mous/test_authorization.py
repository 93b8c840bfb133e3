"""Who may write what: tokens, tenants, roles and the fields that name an owner.

Against the real Kafka and MongoDB-protocol server, the service in-process.
Every refusal is checked to have changed nothing: the MoU's version in the
event store and what ``GET /mous/{id}`` answers are the same before and after,
and in the tenant and reader matrices the service's events topic holds exactly
the MoU's stored events.
"""

import time
import warnings
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from jwt.warnings import InsecureKeyLengthWarning

from tests.services.mous.conftest import MousService, unique_mou_id
from tests.support.auth import ADMIN, bearer, city_publisher, reader
from tests.support.published import Outbox, published_count
from ucap_shared.auth import DEVELOPMENT_KEY, ISSUER, Principal

AUDIENCE = "mous"


@dataclass(frozen=True)
class Tenants:
    """``a`` acts; ``b`` and ``c`` are the parties of the MoUs it must not touch."""

    a: str
    b: str
    c: str


@pytest.fixture(scope="module")
async def tenants(mous: MousService) -> Tenants:
    a, b, c = await mous.register_cities("granada", "zhengzhou", "kunming")
    return Tenants(a, b, c)


def as_(principal: Principal) -> dict[str, str]:
    return bearer(AUDIENCE, principal)


@dataclass(frozen=True)
class Write:
    """One write endpoint, aimed at the MoU ``mou_id`` of cities b and c."""

    name: str
    request: Callable[[str, Tenants], tuple[str, dict[str, Any] | None]]
    admin_status: int = 201
    drafted_first: bool = True
    ended: bool = False
    """Draft the MoU with a validity that has ended (what the expiry check acts on)."""


def _draft_body(mou_id: str, parties: list[str]) -> dict[str, Any]:
    return {
        "id": mou_id,
        "title": f"MoU {mou_id}",
        "subject": "Cooperation",
        "parties": [{"city_id": city} for city in parties],
    }


WRITES = [
    Write(
        "draft",
        lambda mou_id, t: ("/mous", _draft_body(mou_id, [t.b, t.c])),
        drafted_first=False,
    ),
    Write("add party", lambda mou_id, t: (f"/mous/{mou_id}/parties", {"city_id": t.a})),
    Write(
        "sign",
        lambda mou_id, t: (
            f"/mous/{mou_id}/signatures",
            {"city_id": t.b, "signed_on": "2018-07"},
        ),
    ),
    Write(
        "amend",
        lambda mou_id, t: (
            f"/mous/{mou_id}/amendments",
            {"amended_on": "2019-06", "summary": "Adds the health park pilot"},
        ),
    ),
    Write(
        "terminate",
        lambda mou_id, t: (
            f"/mous/{mou_id}/termination",
            {"terminated_on": "2020-11", "reason": "Superseded"},
        ),
    ),
    Write("expiry check", lambda mou_id, t: ("/mous/expiry-check", None), 200, ended=True),
]
# For a city, signing for itself a MoU it is not party to is one more write on another's MoU
# (an admin gets 409 there: the city is not a party).
TENANT_WRITES = [
    *WRITES,
    Write(
        "sign for itself",
        lambda mou_id, t: (f"/mous/{mou_id}/signatures", {"signed_on": "2018-07"}),
    ),
]


@dataclass
class Snapshot:
    version: int
    status: int
    body: Any


async def snapshot(mous: MousService, mou_id: str) -> Snapshot:
    response = await mous.client.get(f"/mous/{mou_id}")
    return Snapshot(await mous.version(mou_id), response.status_code, response.json())


def outbox(mous: MousService) -> Outbox:
    return Outbox.of(mous.app.state.runtime)


async def prepare(mous: MousService, tenants: Tenants, write: Write) -> str:
    """A MoU of cities b and c (drafted by an admin), or only its id for the draft."""
    mou_id = unique_mou_id(f"authz-{write.name.replace(' ', '-')}")
    if write.drafted_first:
        fields = {"valid_until": "2020"} if write.ended else {}
        drafted = await mous.draft(mou_id, [tenants.b, tenants.c], **fields)
        assert drafted.status_code == 201, drafted.text
    return mou_id


async def attempt(
    mous: MousService, tenants: Tenants, write: Write, mou_id: str, principal: Principal
) -> httpx.Response:
    path, body = write.request(mou_id, tenants)
    return await mous.client.post(path, json=body, headers=as_(principal))


async def history(mous: MousService, mou_id: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = (await mous.client.get(f"/mous/{mou_id}/history")).json()
    return entries


@pytest.mark.parametrize("write", TENANT_WRITES, ids=[write.name for write in TENANT_WRITES])
class TestTenantMatrix:
    async def test_a_publisher_of_another_city_is_refused_and_nothing_changes(
        self, mous: MousService, tenants: Tenants, write: Write
    ) -> None:
        mou_id = await prepare(mous, tenants, write)
        before = await snapshot(mous, mou_id)

        response = await attempt(mous, tenants, write, mou_id, city_publisher(tenants.a))

        assert response.status_code == 403, response.text
        assert response.json()["detail"].startswith(f"city:{tenants.a} may not")
        assert await snapshot(mous, mou_id) == before
        assert await published_count(outbox(mous), mou_id) == before.version


@pytest.mark.parametrize("write", WRITES, ids=[write.name for write in WRITES])
class TestReaderWritesNothing:
    async def test_a_reader_is_refused_every_write_and_nothing_changes(
        self, mous: MousService, tenants: Tenants, write: Write
    ) -> None:
        mou_id = await prepare(mous, tenants, write)
        before = await snapshot(mous, mou_id)

        response = await attempt(mous, tenants, write, mou_id, reader())

        assert response.status_code == 403, response.text
        assert await snapshot(mous, mou_id) == before
        assert await published_count(outbox(mous), mou_id) == before.version


class TestReaderReadsEverything:
    async def test_a_reader_lists_reads_and_reads_the_history_of_any_mou(
        self, mous: MousService, tenants: Tenants
    ) -> None:
        mou_id = unique_mou_id("read")
        await mous.draft(mou_id, [tenants.b, tenants.c])
        headers = as_(reader())

        listed = await mous.client.get("/mous", params={"city": tenants.b}, headers=headers)
        one = await mous.client.get(f"/mous/{mou_id}", headers=headers)
        events = await mous.client.get(f"/mous/{mou_id}/history", headers=headers)

        assert mou_id in [item["id"] for item in listed.json()["items"]]
        assert one.status_code == 200
        assert [entry["type"] for entry in events.json()] == ["ucap.mou.drafted.v1"]


@pytest.mark.parametrize("write", WRITES, ids=[write.name for write in WRITES])
class TestAdminWritesAnything:
    async def test_an_admin_may_and_the_event_names_the_admin_as_actor(
        self, mous: MousService, tenants: Tenants, write: Write
    ) -> None:
        mou_id = await prepare(mous, tenants, write)
        version = await mous.version(mou_id)

        response = await attempt(mous, tenants, write, mou_id, ADMIN)

        assert response.status_code == write.admin_status, response.text
        assert await mous.version(mou_id) == version + 1
        assert (await history(mous, mou_id))[-1]["actor"] == ADMIN.subject


class TestPartiesWrite:
    async def test_a_party_city_makes_every_change_and_each_event_names_it(
        self, mous: MousService, tenants: Tenants
    ) -> None:
        mou_id = unique_mou_id("own")
        own = as_(city_publisher(tenants.a))
        post = mous.client.post

        responses = [
            await post("/mous", json=_draft_body(mou_id, [tenants.a, tenants.b]), headers=own),
            await post(f"/mous/{mou_id}/parties", json={"city_id": tenants.c}, headers=own),
            await post(f"/mous/{mou_id}/signatures", json={"signed_on": "2018-07"}, headers=own),
            await post(
                f"/mous/{mou_id}/amendments",
                json={"amended_on": "2019", "summary": "More"},
                headers=own,
            ),
            await post(
                f"/mous/{mou_id}/termination",
                json={"terminated_on": "2020", "reason": "Done"},
                headers=own,
            ),
        ]

        assert [response.status_code for response in responses] == [201] * 5
        assert responses[2].json()["signatures"][0]["city_id"] == tenants.a
        assert {entry["actor"] for entry in await history(mous, mou_id)} == {f"city:{tenants.a}"}

    async def test_a_city_added_as_party_may_then_change_the_mou(
        self, mous: MousService, tenants: Tenants
    ) -> None:
        mou_id = unique_mou_id("joined")
        await mous.draft(mou_id, [tenants.b, tenants.c])
        signature = {"signed_on": "2018-07"}
        newcomer = as_(city_publisher(tenants.a))
        path = f"/mous/{mou_id}/signatures"

        before = await mous.client.post(path, json=signature, headers=newcomer)
        added = await mous.client.post(f"/mous/{mou_id}/parties", json={"city_id": tenants.a})
        after = await mous.client.post(path, json=signature, headers=newcomer)

        assert (before.status_code, added.status_code, after.status_code) == (403, 201, 201)


class TestOwnerFieldsComeFromTheToken:
    async def test_a_party_signing_for_the_other_party_is_refused_and_nothing_is_stored(
        self, mous: MousService, tenants: Tenants
    ) -> None:
        mou_id = unique_mou_id("for-other")
        await mous.draft(mou_id, [tenants.a, tenants.b])
        before = await snapshot(mous, mou_id)

        response = await mous.client.post(
            f"/mous/{mou_id}/signatures",
            json={"city_id": tenants.b, "signed_on": "2018-07"},
            headers=as_(city_publisher(tenants.a)),
        )

        assert response.status_code == 403
        assert f"sign for {tenants.b}" in response.json()["detail"]
        assert await snapshot(mous, mou_id) == before

    async def test_a_draft_not_naming_the_caller_among_its_parties_is_refused(
        self, mous: MousService, tenants: Tenants
    ) -> None:
        mou_id = unique_mou_id("not-mine")

        response = await mous.client.post(
            "/mous",
            json=_draft_body(mou_id, [tenants.b, tenants.c]),
            headers=as_(city_publisher(tenants.a)),
        )

        assert response.status_code == 403
        assert await mous.version(mou_id) == 0
        assert (await mous.client.get(f"/mous/{mou_id}")).status_code == 404

    async def test_an_admin_signing_must_name_the_city(
        self, mous: MousService, tenants: Tenants
    ) -> None:
        mou_id = unique_mou_id("admin-unnamed")
        await mous.draft(mou_id, [tenants.a, tenants.b])

        response = await mous.client.post(
            f"/mous/{mou_id}/signatures", json={"signed_on": "2018-07"}
        )

        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "city_id"]
        assert await mous.version(mou_id) == 1


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": ISSUER,
        "sub": ADMIN.subject,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 300,
        "roles": ["admin"],
        "city": None,
        **overrides,
    }


OTHER_KEY = "another-signing-key-that-this-service-does-not-know-of-at-all-0123456789"


def signed(key: str, algorithm: str = "HS256", **overrides: Any) -> str:
    with warnings.catch_warnings():
        # The service's development key is short for HS512: the point of that token.
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return "Bearer " + jwt.encode(claims(**overrides), key, algorithm=algorithm)


def expired() -> str:
    now = int(time.time())
    return signed(DEVELOPMENT_KEY, iat=now - 120, exp=now - 60)


# Each credential has one flaw; built when the test runs, so none has expired by accident.
BAD_CREDENTIALS: dict[str, Callable[[], str | None]] = {
    "no token": lambda: None,
    "not a bearer": lambda: "Basic b3BzOnRlc3Q=",
    "malformed token": lambda: "Bearer not.a.jwt",
    "expired token": expired,
    "token for another audience": lambda: signed(DEVELOPMENT_KEY, aud="cities"),
    "unsigned token (alg none)": lambda: "Bearer " + jwt.encode(claims(), None, algorithm="none"),
    "token signed with another key": lambda: signed(OTHER_KEY),
    "token of another algorithm": lambda: signed(DEVELOPMENT_KEY, "HS512"),
}


@pytest.fixture
async def bare_client(mous: MousService) -> AsyncIterator[httpx.AsyncClient]:
    """A client that sends only the headers a test gives it."""
    transport = httpx.ASGITransport(app=mous.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mous") as client:
        yield client


class TestTokens:
    @pytest.mark.parametrize(
        "credential", BAD_CREDENTIALS.values(), ids=list(BAD_CREDENTIALS.keys())
    )
    async def test_a_request_without_a_valid_token_is_401_and_stores_nothing(
        self,
        mous: MousService,
        tenants: Tenants,
        bare_client: httpx.AsyncClient,
        credential: Callable[[], str | None],
    ) -> None:
        mou_id = unique_mou_id("token")
        await mous.draft(mou_id, [tenants.a, tenants.b])
        authorization = credential()
        headers = {"Authorization": authorization} if authorization else {}

        read = await bare_client.get(f"/mous/{mou_id}", headers=headers)
        write = await bare_client.post(
            f"/mous/{mou_id}/amendments",
            json={"amended_on": "2019", "summary": "Forged"},
            headers=headers,
        )

        assert (read.status_code, write.status_code) == (401, 401)
        assert write.headers["www-authenticate"].startswith("Bearer")
        assert await mous.version(mou_id) == 1

    async def test_the_same_hand_made_token_signed_with_the_service_key_is_accepted(
        self, mous: MousService, tenants: Tenants, bare_client: httpx.AsyncClient
    ) -> None:
        """The refusals above are for the one flaw each token has."""
        mou_id = unique_mou_id("token-ok")
        await mous.draft(mou_id, [tenants.a, tenants.b])
        response = await bare_client.post(
            f"/mous/{mou_id}/amendments",
            json={"amended_on": "2019", "summary": "Genuine"},
            headers={"Authorization": signed(DEVELOPMENT_KEY)},
        )

        assert response.status_code == 201
        assert await mous.version(mou_id) == 2
