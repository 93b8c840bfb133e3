"""What ``ucap load`` sends for version 2's facts, as pure logic over an in-memory gateway
that answers as the services of the issue's contract A do: organisations registered
before MoUs, parties and signatures that are organisations, a signature of unknown date
(``signed_on`` null, undated), a city's kind, an activity's status and end date.

These check the requests only; loading them into real services needs the cities, MoUs
and reporting services that accept those fields (and a gateway that routes
``/organisations``)."""

import json
from collections.abc import Callable
from typing import Any

import httpx

from ucap_ops.datafile.models import Activity, City, Mou, Organisation, Ucap
from ucap_ops.loading.cities import load_city
from ucap_ops.loading.gateway import Gateway, KeyChoice
from ucap_ops.loading.mous import load_mou
from ucap_ops.loading.organisations import load_organisation
from ucap_ops.loading.run import Run
from ucap_ops.loading.ucaps import load_ucap

Answer = Callable[[httpx.Request], httpx.Response]
OCCURRED_AT = "x-ucap-occurred-at"


class Quiet:
    def working_on(self, text: str) -> None:
        pass

    def finished(self, result: object) -> None:
        pass

    def note(self, text: str) -> None:
        pass


def run_against(answer: Answer) -> tuple[Run, list[httpx.Request]]:
    requests: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return answer(request)

    client = httpx.Client(base_url="http://gateway", transport=httpx.MockTransport(handle))
    gateway = Gateway(
        client, KeyChoice(single="k"), defined=set(), wait_seconds=0, progress=Quiet()
    )
    gateway.dated = True
    return Run(gateway, Quiet()), requests


def always(answer: httpx.Response) -> Answer:
    return lambda _: answer


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)


def writes(requests: list[httpx.Request]) -> list[httpx.Request]:
    return [r for r in requests if r.method != "GET"]


def nothing_yet(request: httpx.Request) -> httpx.Response:
    """Every read 404 (nothing there yet); every write accepted, echoing what it was sent."""
    if request.method == "GET":
        return httpx.Response(404, json={"error": "not_found", "detail": "none"})
    sent = body(request)
    if request.url.path.endswith("/signatures"):
        return httpx.Response(201, json={"signatures": [sent]})
    return httpx.Response(201, json=sent)


FUND = Organisation(
    organisation_id="uk-china-biotech-fund",
    name="UK-China Biotech Fund",
    kind="fund",
    scope="international",
)


class TestAnOrganisationWithNoCity:
    def test_is_registered_with_the_contract_s_fields(self) -> None:
        run, requests = run_against(nothing_yet)

        load_organisation(run, FUND)

        assert [(r.method, r.url.path) for r in requests] == [
            ("GET", "/organisations/uk-china-biotech-fund"),
            ("POST", "/organisations"),
        ]
        assert body(requests[1]) == {
            "organisation_id": "uk-china-biotech-fund",
            "name": "UK-China Biotech Fund",
            "native_name": None,
            "kind": "fund",
            "scope": "international",
            "country": None,
            "website": None,
        }
        assert run.summary.as_json()["totals"]["created"] == 1

    def test_that_exists_is_skipped(self) -> None:
        run, requests = run_against(lambda _: httpx.Response(200, json={}))

        load_organisation(run, FUND)

        assert writes(requests) == []
        assert run.summary.as_json()["totals"]["skipped"] == 1


class TestAnMouBetweenOrganisations:
    MOU = Mou.model_validate(
        {
            "id": "fira-tianfu-2019",
            "title": "Smart City Congress in Chengdu",
            "parties": [
                {"city_id": "barcelona", "organisation_id": "fira-de-barcelona"},
                {"organisation_id": "uk-china-biotech-fund"},
            ],
            "signatures": [
                {
                    "city_id": "barcelona",
                    "organisation_id": "fira-de-barcelona",
                    "signed_on": "2019-06",
                },
                {"organisation_id": "uk-china-biotech-fund", "signed_on": None},
            ],
        }
    )

    def test_sends_each_party_and_signature_as_city_and_organisation(self) -> None:
        run, requests = run_against(nothing_yet)

        load_mou(run, self.MOU)

        drafted, dated, _ = writes(requests)
        assert body(drafted)["parties"] == [
            {"city_id": "barcelona", "organisation_id": "fira-de-barcelona", "stakeholder_ids": []},
            {"organisation_id": "uk-china-biotech-fund", "stakeholder_ids": []},
        ]
        assert drafted.headers[OCCURRED_AT] == "2019-06"
        assert body(drafted)["drafted_on"] == "2019-06", "by default its first dated signature"
        assert body(dated) == {
            "city_id": "barcelona",
            "organisation_id": "fira-de-barcelona",
            "signed_on": "2019-06",
        }
        assert dated.headers[OCCURRED_AT] == "2019-06"

    def test_its_own_drafting_date_is_sent_when_the_file_gives_one(self) -> None:
        run, requests = run_against(nothing_yet)

        load_mou(run, self.MOU.model_copy(update={"drafted_on": "2019-02"}))

        drafted = writes(requests)[0]
        assert (body(drafted)["drafted_on"], drafted.headers[OCCURRED_AT]) == ("2019-02",) * 2

    def test_a_signature_of_unknown_date_sends_null_and_no_date(self) -> None:
        run, requests = run_against(nothing_yet)

        load_mou(run, self.MOU)

        undated = writes(requests)[-1]
        assert body(undated) == {"organisation_id": "uk-china-biotech-fund", "signed_on": None}
        assert OCCURRED_AT not in undated.headers

    def test_a_party_that_signed_is_not_signed_again(self) -> None:
        signed = {"city_id": None, "organisation_id": "uk-china-biotech-fund", "signed_on": None}

        def answer(request: httpx.Request) -> httpx.Response:
            if request.method == "GET":
                return httpx.Response(200, json={"signatures": [signed]})
            return httpx.Response(201, json={"signatures": [signed, body(request)]})

        run, requests = run_against(answer)

        load_mou(run, self.MOU)

        assert [r.url.path for r in writes(requests)] == ["/mous/fira-tianfu-2019/signatures"]
        assert body(writes(requests)[0])["organisation_id"] == "fira-de-barcelona"


def city(kind: str) -> City:
    return City.model_validate(
        {
            "id": "west-midlands",
            "kind": kind,
            "name": "West Midlands",
            "country": "GB",
            "world_region": "Europe",
            "population": {"known": False},
        }
    )


class TestACityKind:
    def test_other_than_city_is_sent(self) -> None:
        run, requests = run_against(nothing_yet)

        load_city(run, city("combined_authority"))

        assert body(writes(requests)[0])["kind"] == "combined_authority"

    def test_city_goes_unsaid(self) -> None:
        run, requests = run_against(nothing_yet)

        load_city(run, city("city"))

        assert "kind" not in body(writes(requests)[0])


def ucap_with(*activities: dict[str, Any]) -> Ucap:
    return Ucap.model_validate(
        {
            "id": "chengdu-ucap",
            "title": "U-CAP",
            "lead_city_id": "barcelona",
            "counterpart_city_ids": ["chengdu"],
            "activities": list(activities),
        }
    )


def holding(*activities: dict[str, Any]) -> dict[str, Any]:
    """The U-CAP as the reporting service holds it, with these activities."""
    return {**ucap_with().sections(), "activities": list(activities)}


CONGRESS = {
    "activity_id": "2019-06-congress",
    "date": "2019-06-09",
    "end_date": "2019-06-15",
    "kind": "mission",
    "title": "Mission",
}
PLANNED = {
    "activity_id": "2020-11-visit",
    "date": "2020-11",
    "status": "planned",
    "kind": "visit",
    "title": "Visit",
}
HELD = {"activity_id": "2019-03-meeting", "date": "2019-03", "kind": "meeting", "title": "M"}


class TestAnActivity:
    def test_sends_its_status_and_end_date_unless_held_on_one_day(self) -> None:
        run, requests = run_against(nothing_yet)

        load_ucap(run, ucap_with(CONGRESS, PLANNED, HELD))

        logged = {
            body(r)["activity_id"]: body(r) for r in writes(requests) if "activities" in r.url.path
        }
        assert logged["2019-06-congress"]["end_date"] == "2019-06-15"
        assert "status" not in logged["2019-06-congress"]
        assert logged["2020-11-visit"]["status"] == "planned"
        assert "end_date" not in logged["2020-11-visit"]
        assert not {"status", "end_date"} & set(logged["2019-03-meeting"])

    def test_held_as_the_file_says_is_skipped_whether_or_not_the_service_says_status(
        self,
    ) -> None:
        said = Activity.model_validate(HELD).model_dump(mode="json")
        unsaid = {k: v for k, v in said.items() if k not in {"status", "end_date"}}
        for held in (said, unsaid):
            run, requests = run_against(always(httpx.Response(200, json=holding(held))))

            load_ucap(run, ucap_with(HELD))

            assert writes(requests) == [], held

    def test_planned_then_held_is_patched_to_held(self) -> None:
        planned = Activity.model_validate({**HELD, "status": "planned"}).model_dump(mode="json")
        run, requests = run_against(lambda _: httpx.Response(200, json=holding(planned)))

        load_ucap(run, ucap_with(HELD))

        (patched,) = writes(requests)
        assert patched.method == "PATCH"
        assert body(patched) == {"status": "held"}
