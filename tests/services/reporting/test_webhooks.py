"""Webhooks against the real Kafka and MongoDB-protocol server, to a receiver on loopback.

Deliveries come from the events the service's consumers apply (published here as the
pilots and MoUs services publish them); the worker posts them, signed, and retries.
"""

import json
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.services.reporting.conftest import ReportingService, fresh, start_reporting
from tests.support.auth import ADMIN, bearer, city_publisher, reader
from tests.support.infra import Infra
from tests.support.receiver import Received, Receiver, running_receiver, signature_holds
from tests.support.waiting import eventually, polled_async
from ucap_reporting.config import Settings
from ucap_reporting.webhooks import deliveries, subscriptions
from ucap_reporting.webhooks.deliveries import DELIVERIES
from ucap_reporting.webhooks.overdue import check_overdue
from ucap_reporting.webhooks.subscriptions import SUBSCRIPTIONS, ChangeKind
from ucap_reporting.webhooks.worker import DeliveryWorker
from ucap_shared.auth import issue_token
from ucap_shared.mongo import MongoClient

Body = dict[str, Any]

QUICK_WEBHOOKS = {
    "webhook_poll_seconds": 0.1,
    "webhook_first_retry_seconds": 0.2,
    "webhook_max_retry_seconds": 0.5,
    "webhook_max_attempts": 3,
    "webhook_overdue_check_seconds": 0.5,
    "webhook_timeout_seconds": 1.0,
}
DEADLINE = 30


@pytest.fixture(scope="module")
async def reporting(infra: Infra) -> AsyncIterator[ReportingService]:
    async for service in start_reporting(infra, "webhooks", overrides=QUICK_WEBHOOKS):
        yield service


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def as_city(city: str) -> dict[str, str]:
    return bearer("reporting", city_publisher(city))


async def a_ucap(reporting: ReportingService) -> tuple[str, str, str]:
    """A new U-CAP: its id, lead city and one counterpart."""
    ucap_id, lead, counterpart = fresh("ucap"), fresh("lead"), fresh("counterpart")
    await reporting.create(ucap_id, lead, [counterpart])
    return ucap_id, lead, counterpart


async def subscribe(
    reporting: ReportingService, city: str, url: str, ucap_id: str, kinds: list[str]
) -> dict[str, Any]:
    response = await reporting.client.post(
        "/webhooks",
        json={"url": url, "ucap_ids": [ucap_id], "kinds": kinds},
        headers=as_city(city),
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def delivered(receiver: Receiver, wanted: Callable[[Body], bool]) -> list[Received]:
    """Waits until the receiver took (answered 200) a request whose body ``wanted``
    accepts; every request it got."""

    async def probe() -> list[Received] | None:
        got = receiver.requests()
        return got if any(r.answered == 200 and wanted(json.loads(r.body)) for r in got) else None

    return await eventually(probe, timeout=DEADLINE, interval=0.1)


def of_type(event_type: str) -> Callable[[Body], bool]:
    return lambda body: bool(body.get("event", {}).get("type") == event_type)


class TestADeliveryComesFromTheEvent:
    async def test_a_pilot_progress_update_reaches_the_receiver_signed(
        self, reporting: ReportingService, receiver: Receiver
    ) -> None:
        ucap_id, lead, counterpart = await a_ucap(reporting)
        subscription = await subscribe(reporting, lead, receiver.url, ucap_id, ["status_changed"])
        pilot = fresh("pilot")
        streams = reporting.streams
        await reporting.publish(
            streams.pilot_proposed(pilot, ucap_id, lead, [counterpart]),
            streams.pilot_progress(pilot, "u1", "2026-11-30", lead, "Sensors installed"),
        )

        got = await delivered(receiver, of_type("ucap.pilot.progress_reported.v1"))

        progress = of_type("ucap.pilot.progress_reported.v1")
        request = next(r for r in got if progress(json.loads(r.body)))
        body = json.loads(request.body)
        assert signature_holds(subscription["secret"], request)
        assert not signature_holds("whsec_another", request)
        assert body["ucap_id"] == ucap_id
        assert body["kind"] == "status_changed"
        assert body["subscription_id"] == subscription["subscription_id"]
        assert body["event"]["subject"] == pilot
        assert body["event"]["data"]["update"]["summary"] == "Sensors installed"
        assert request.headers["X-UCAP-Delivery"] == body["delivery_id"]
        assert request.headers["X-UCAP-Event"] == "status_changed"

    async def test_only_the_kinds_subscribed_are_delivered(
        self, reporting: ReportingService, receiver: Receiver
    ) -> None:
        ucap_id, lead, counterpart = await a_ucap(reporting)
        await subscribe(reporting, counterpart, receiver.url, ucap_id, ["mou_signed"])
        mou = fresh("mou")
        streams = reporting.streams
        await reporting.publish(
            streams.mou_drafted(mou, [lead, counterpart]),
            streams.mou_signed(mou, lead, "2026-11-30"),
        )

        got = await delivered(receiver, of_type("ucap.mou.signed.v1"))

        assert [json.loads(r.body)["kind"] for r in got] == ["mou_signed"]

    async def test_an_overdue_milestone_is_announced_once(
        self, reporting: ReportingService, receiver: Receiver
    ) -> None:
        ucap_id, lead, counterpart = await a_ucap(reporting)
        await subscribe(reporting, lead, receiver.url, ucap_id, ["milestone_overdue"])
        pilot = fresh("pilot")
        streams = reporting.streams
        await reporting.publish(
            streams.pilot_proposed(pilot, ucap_id, lead, [counterpart]),
            streams.milestone_added(pilot, "m1", "2020-01"),
        )

        got = await delivered(receiver, lambda body: body["kind"] == "milestone_overdue")

        milestone = json.loads(got[0].body)["milestone"]
        assert (milestone["pilot_id"], milestone["milestone_id"]) == (pilot, "m1")
        database = reporting.mongo[reporting.settings.database]
        assert await check_overdue(database, datetime.now(UTC).date()) == 0
        assert len(receiver.requests()) == 1

    async def test_an_event_before_the_registration_is_not_announced(
        self, reporting: ReportingService, receiver: Receiver
    ) -> None:
        ucap_id, lead, counterpart = await a_ucap(reporting)
        early, late = fresh("pilot"), fresh("pilot")
        streams = reporting.streams
        before = streams.pilot_proposed(early, ucap_id, lead, [counterpart])
        await subscribe(reporting, lead, receiver.url, ucap_id, ["status_changed"])
        await reporting.publish(before, streams.pilot_proposed(late, ucap_id, lead, [counterpart]))

        got = await delivered(receiver, lambda body: body["event"]["subject"] == late)

        assert {json.loads(r.body)["event"]["subject"] for r in got} == {late}


class TestRetries:
    async def test_a_receiver_that_fails_twice_gets_it_on_the_third_try(
        self, reporting: ReportingService, receiver: Receiver
    ) -> None:
        ucap_id, lead, counterpart = await a_ucap(reporting)
        subscription = await subscribe(reporting, lead, receiver.url, ucap_id, ["status_changed"])
        receiver.fail_next(2)
        pilot = fresh("pilot")
        await reporting.publish(
            reporting.streams.pilot_proposed(pilot, ucap_id, lead, [counterpart])
        )

        got = await delivered(receiver, lambda body: body["event"]["subject"] == pilot)

        assert [r.answered for r in got] == [500, 500, 200]
        assert len({r.headers["X-UCAP-Delivery"] for r in got}) == 1
        assert all(signature_holds(subscription["secret"], r) for r in got)
        deliveries_view = reporting.mongo[reporting.settings.database][DELIVERIES]

        async def recorded() -> dict[str, Any] | None:
            # The worker records the answer after the receiver has sent it.
            found = await deliveries_view.find_one({"_id": got[0].headers["X-UCAP-Delivery"]})
            return found if found is not None and found["state"] != "pending" else None

        stored = await polled_async(recorded, lambda found: found is not None, timeout=10)
        assert stored is not None
        assert (stored["state"], stored["tries"], stored["last_status"]) == ("delivered", 3, 200)


@pytest.fixture
def silent_url() -> Iterator[str]:
    """An endpoint that takes connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/hooks"
    finally:
        server.close()


async def stored_delivery(
    reporting: ReportingService, subscription_id: str, wanted: Callable[[Body], bool]
) -> Body:
    collection = reporting.mongo[reporting.settings.database][DELIVERIES]

    async def probe() -> Body | None:
        found = await collection.find({"subscription_id": subscription_id}).to_list()
        return next((d for d in found if wanted(d)), None)

    return await eventually(probe, timeout=DEADLINE, interval=0.1)


async def _arrived(receiver: Receiver) -> bool:
    return receiver.arrivals() > 0


class TestFailedTries:
    async def test_a_receiver_that_never_answers_fails_the_try_at_the_deadline(
        self, reporting: ReportingService, silent_url: str
    ) -> None:
        ucap_id, lead, counterpart = await a_ucap(reporting)
        subscription = await subscribe(reporting, lead, silent_url, ucap_id, ["status_changed"])
        await reporting.publish(
            reporting.streams.pilot_proposed(fresh("pilot"), ucap_id, lead, [counterpart])
        )

        tried = await stored_delivery(
            reporting, subscription["subscription_id"], lambda d: d["tries"] >= 1
        )

        assert tried["last_error"] == "no answer within 1 s"
        assert tried["last_status"] is None

    async def test_a_delivery_of_a_deleted_subscription_is_dead_at_once(
        self, reporting: ReportingService, receiver: Receiver
    ) -> None:
        ucap_id, lead, counterpart = await a_ucap(reporting)
        subscription = await subscribe(reporting, lead, receiver.url, ucap_id, ["status_changed"])
        # Every try is held, and fails, until the subscription is gone: none can succeed
        # between the first try and the deletion, however slowly this test runs.
        release = receiver.hold(status=500)
        await reporting.publish(
            reporting.streams.pilot_proposed(fresh("pilot"), ucap_id, lead, [counterpart])
        )
        await eventually(lambda: _arrived(receiver), timeout=DEADLINE, interval=0.05)

        deleted = await reporting.client.delete(f"/webhooks/{subscription['subscription_id']}")
        release.set()

        assert deleted.status_code == 204
        dead = await stored_delivery(
            reporting, subscription["subscription_id"], lambda d: d["state"] == "dead"
        )
        assert dead["last_error"] == "the subscription was deleted"
        assert dead["tries"] == receiver.arrivals() + 1, "the last try sent nothing"


class TestWhoMaySubscribe:
    async def test_a_city_cannot_subscribe_for_a_ucap_it_has_no_part_in(
        self, reporting: ReportingService, receiver: Receiver
    ) -> None:
        ucap_id, _, _ = await a_ucap(reporting)
        response = await reporting.client.post(
            "/webhooks",
            json={"url": receiver.url, "ucap_ids": [ucap_id], "kinds": ["status_changed"]},
            headers=as_city(fresh("outsider")),
        )
        assert response.status_code == 403
        assert response.json()["error"] == "forbidden"

    async def test_a_reader_cannot_subscribe(
        self, reporting: ReportingService, receiver: Receiver
    ) -> None:
        ucap_id, _, _ = await a_ucap(reporting)
        response = await reporting.client.post(
            "/webhooks",
            json={"url": receiver.url, "ucap_ids": [ucap_id], "kinds": ["status_changed"]},
            headers=bearer("reporting", reader()),
        )
        assert response.status_code == 403

    async def test_an_unknown_ucap_is_404(
        self, reporting: ReportingService, receiver: Receiver
    ) -> None:
        response = await reporting.client.post(
            "/webhooks",
            json={"url": receiver.url, "ucap_ids": [fresh("nope")], "kinds": ["status_changed"]},
        )
        assert response.status_code == 404

    async def test_a_city_lists_and_deletes_only_its_own_and_never_sees_a_secret(
        self, reporting: ReportingService, receiver: Receiver
    ) -> None:
        ucap_id, lead, counterpart = await a_ucap(reporting)
        mine = await subscribe(reporting, lead, receiver.url, ucap_id, ["status_changed"])
        theirs = await subscribe(reporting, counterpart, receiver.url, ucap_id, ["mou_signed"])

        listed = (await reporting.client.get("/webhooks", headers=as_city(lead))).json()["items"]
        refused = await reporting.client.delete(
            f"/webhooks/{theirs['subscription_id']}", headers=as_city(lead)
        )
        deleted = await reporting.client.delete(
            f"/webhooks/{mine['subscription_id']}", headers=as_city(lead)
        )

        assert [s["subscription_id"] for s in listed] == [mine["subscription_id"]]
        assert all("secret" not in s for s in listed)
        assert refused.status_code == 403
        assert deleted.status_code == 204
        stored = reporting.mongo[reporting.settings.database][SUBSCRIPTIONS]
        assert await stored.find_one({"_id": mine["subscription_id"]}) is None


PRODUCTION_KEY = "a-production-token-key-of-forty-characters!"


@pytest.fixture(scope="module")
async def production(infra: Infra) -> AsyncIterator[ReportingService]:
    overrides = {"UCAP_ENV": "production", "UCAP_TOKEN_KEY": PRODUCTION_KEY}
    async for service in start_reporting(infra, "webhooks-production", overrides=overrides):
        yield service


class TestProductionSendsOnlyToPublicAddresses:
    @pytest.mark.parametrize(
        "url",
        [
            "https://127.0.0.1/hooks",
            "https://10.1.2.3/hooks",
            "https://192.168.0.7:8443/hooks",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/hooks",
            "https://[::ffff:127.0.0.1]/hooks",
            "https://localhost/hooks",
            "http://93.184.215.14/hooks",
        ],
    )
    async def test_an_endpoint_that_is_not_public_https_is_refused(
        self, production: ReportingService, url: str
    ) -> None:
        token = issue_token(ADMIN, audience="reporting", key=PRODUCTION_KEY)
        response = await production.client.post(
            "/webhooks",
            json={"url": url, "ucap_ids": [fresh("ucap")], "kinds": ["status_changed"]},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["body", "url"]

    async def test_a_name_that_resolves_inward_by_the_time_of_delivery_gets_nothing(
        self, production: ReportingService, receiver: Receiver
    ) -> None:
        # As if the name had resolved to a public address at registration, and points
        # to loopback now: the worker resolves it again before the try, and refuses it.
        database = production.mongo[production.settings.database]
        port = receiver.url.split(":")[2].split("/")[0]
        created = await subscriptions.insert(
            database,
            caller=ADMIN,
            url=f"https://localhost:{port}/hooks",
            ucap_ids=["u"],
            kinds=[ChangeKind.STATUS_CHANGED],
            secret="whsec_t",
            description=None,
        )
        subscription = await subscriptions.find(database, created.subscription_id)
        assert subscription is not None
        await deliveries.enqueue(
            database, subscription, ucap_id="u", kind="status_changed", cause="e1", what={}
        )

        tried = await stored_delivery(
            production, created.subscription_id, lambda d: d["tries"] == 1
        )

        assert tried["state"] == "pending"
        assert tried["last_error"].startswith(
            "endpoint refused: localhost resolves to an address that is not public"
        )
        assert receiver.requests() == []


class TestOneWorkerAmongReplicas:
    async def test_only_the_holder_of_the_lease_posts_and_another_takes_over_when_released(
        self, mongo: MongoClient, unique: str, receiver: Receiver
    ) -> None:
        database = mongo[f"test_webhook_lease_{unique}"]
        settings = Settings.model_validate(QUICK_WEBHOOKS)
        try:
            await subscriptions.create_indexes(database)
            await deliveries.create_indexes(database)
            created = await subscriptions.insert(
                database,
                caller=ADMIN,
                url=receiver.url,
                ucap_ids=["u"],
                kinds=[ChangeKind.STATUS_CHANGED],
                secret="whsec_t",
                description=None,
            )
            subscription = await subscriptions.find(database, created.subscription_id)
            assert subscription is not None

            async def enqueue(cause: str) -> None:
                await deliveries.enqueue(
                    database,
                    subscription,
                    ucap_id="u",
                    kind="status_changed",
                    cause=cause,
                    what={"n": cause},
                )

            async with httpx.AsyncClient() as client:
                first = DeliveryWorker(database, settings, client)
                second = DeliveryWorker(database, settings, client)
                await enqueue("e1")
                assert await first.round() == 1
                await enqueue("e2")
                assert await second.round() == 0
                assert await first.round() == 1
                await first.lease.release()
                await enqueue("e3")
                assert await second.round() == 1
        finally:
            await mongo.drop_database(database.name)

        assert [json.loads(r.body)["n"] for r in receiver.requests()] == ["e1", "e2", "e3"]
