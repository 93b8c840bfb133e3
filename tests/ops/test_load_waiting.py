"""The loader's patience, as pure logic over an in-memory HTTP exchange: a write refused
for a city the file itself creates is retried until the service knows it, for a bounded
time; a refusal for anything else is final at once."""

import json
from collections.abc import Callable

import httpx

from ucap_ops.loading.gateway import Gateway, KeyChoice

UNKNOWN = {
    "error": "invalid_input",
    "detail": [{"loc": ["body", "lead_city_id"], "msg": "unknown city granada", "type": "x"}],
}


class Notes:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def working_on(self, text: str) -> None:
        pass

    def finished(self, result: object) -> None:
        pass

    def note(self, text: str) -> None:
        self.lines.append(text)


def gateway(
    answer: Callable[[int], httpx.Response], *, defined: set[str], wait: float
) -> tuple[Gateway, list[httpx.Request], Notes]:
    requests: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return answer(len(requests))

    client = httpx.Client(base_url="http://gateway", transport=httpx.MockTransport(handle))
    notes = Notes()
    loader = Gateway(
        client, KeyChoice(single="k"), defined=defined, wait_seconds=wait, progress=notes
    )
    return loader, requests, notes


class TestWaitingForReferences:
    def test_retries_until_the_service_knows_a_city_of_the_file(self) -> None:
        def answer(attempt: int) -> httpx.Response:
            return httpx.Response(422, json=UNKNOWN) if attempt < 3 else httpx.Response(201)

        loader, requests, notes = gateway(answer, defined={"granada"}, wait=10)

        reply = loader.send("POST", "/pilots", {}, acting=["granada"])

        assert reply.status == 201
        assert len(requests) == 3
        assert notes.lines == ["waiting: /pilots refers to granada, not known yet"]

    def test_retries_until_the_service_knows_an_organisation_of_the_file(self) -> None:
        unknown = {
            "error": "invalid_input",
            "detail": [
                {
                    "loc": ["body", "parties", 1, "organisation_id"],
                    "msg": "unknown organisation 'uk-china-biotech-fund'",
                    "type": "value_error",
                }
            ],
        }

        def answer(attempt: int) -> httpx.Response:
            return httpx.Response(422, json=unknown) if attempt < 2 else httpx.Response(201)

        loader, requests, notes = gateway(answer, defined={"uk-china-biotech-fund"}, wait=10)

        reply = loader.send("POST", "/mous", {}, acting=[])

        assert reply.status == 201
        assert len(requests) == 2
        assert notes.lines == ["waiting: /mous refers to uk-china-biotech-fund, not known yet"]

    def test_a_city_the_file_does_not_create_is_refused_at_once(self) -> None:
        loader, requests, _ = gateway(
            lambda _: httpx.Response(422, json=UNKNOWN), defined={"haikou"}, wait=10
        )

        reply = loader.send("POST", "/pilots", {}, acting=["granada"])

        assert reply.status == 422
        assert reply.detail == "body.lead_city_id: unknown city granada"
        assert len(requests) == 1

    def test_gives_up_when_the_wait_is_over(self) -> None:
        loader, requests, _ = gateway(
            lambda _: httpx.Response(422, json=UNKNOWN), defined={"granada"}, wait=0.5
        )

        reply = loader.send("POST", "/pilots", {}, acting=["granada"])

        assert reply.status == 422
        assert 2 <= len(requests) <= 4

    def test_another_problem_next_to_an_unknown_city_is_final(self) -> None:
        problems = [
            *UNKNOWN["detail"],
            {"loc": ["body", "id"], "msg": "a pilot's id starts with its lead city's id"},
        ]
        loader, requests, _ = gateway(
            lambda _: httpx.Response(422, json={"detail": problems}), defined={"granada"}, wait=10
        )

        reply = loader.send("POST", "/pilots", {}, acting=["granada"])

        assert reply.status == 422
        assert len(requests) == 1


class TestRequests:
    def test_an_admin_key_dates_each_write_and_sends_the_key_as_bearer(self) -> None:
        loader, requests, _ = gateway(lambda _: httpx.Response(200, json={}), defined=set(), wait=1)

        loader.check_keys("/cities")
        loader.send("POST", "/cities", {"id": "x"}, acting=["x"], on="2018-06")

        assert loader.dated is True
        assert requests[-1].headers["X-UCAP-Occurred-At"] == "2018-06"
        assert requests[-1].headers["Authorization"] == "Bearer k"
        assert json.loads(requests[-1].content) == {"id": "x"}

    def test_a_key_that_may_not_date_sends_no_date(self) -> None:
        def answer(attempt: int) -> httpx.Response:
            dated = attempt == 2
            return httpx.Response(403 if dated else 200, json={})

        loader, requests, _ = gateway(answer, defined=set(), wait=1)

        loader.check_keys("/cities")
        loader.send("POST", "/cities", {}, acting=["x"], on="2018-06")

        assert loader.dated is False
        assert "X-UCAP-Occurred-At" not in requests[-1].headers
