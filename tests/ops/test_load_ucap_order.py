"""The loader creates U-CAPs before pilots (a pilot names its U-CAP, which the pilots
service learns from reporting's events) and waits, for a bounded time, while a service has
not heard yet of a U-CAP or city the file itself creates."""

import httpx

from tests.ops.test_load_waiting import gateway
from tests.support.ucap_command import GRANADA
from ucap_ops.datafile import read_data_file
from ucap_ops.loading.runner import defined_ids

UNKNOWN_UCAP = {
    "error": "invalid_input",
    "detail": [
        {
            "loc": ["body", "ucap_id"],
            "msg": "unknown U-CAP granada-ucap: the pilots service learns U-CAPs from "
            "reporting's events, so one created a moment ago may not be known yet; retry",
            "type": "value_error",
        }
    ],
}
UNKNOWN_COUNTERPART = {
    "error": "invalid_input",
    "detail": [
        {
            "loc": ["body", "counterpart_city_ids", 1],
            "msg": "unknown city kunming",
            "type": "value_error",
        }
    ],
}


class TestWaitingForAUcap:
    def test_a_pilot_waits_until_the_pilots_service_knows_its_ucap(self) -> None:
        def answer(attempt: int) -> httpx.Response:
            return httpx.Response(422, json=UNKNOWN_UCAP) if attempt < 3 else httpx.Response(201)

        loader, requests, notes = gateway(answer, defined={"granada-ucap"}, wait=10)

        reply = loader.send("POST", "/pilots", {}, acting=["granada"])

        assert reply.status == 201
        assert len(requests) == 3
        assert notes.lines == ["waiting: /pilots refers to granada-ucap, not known yet"]

    def test_a_ucap_the_file_does_not_create_is_refused_at_once(self) -> None:
        loader, requests, _ = gateway(
            lambda _: httpx.Response(422, json=UNKNOWN_UCAP), defined={"granada"}, wait=10
        )

        assert loader.send("POST", "/pilots", {}, acting=["granada"]).status == 422
        assert len(requests) == 1

    def test_a_ucap_waits_until_reporting_knows_its_counterparts(self) -> None:
        def answer(attempt: int) -> httpx.Response:
            if attempt < 2:
                return httpx.Response(422, json=UNKNOWN_COUNTERPART)
            return httpx.Response(201)

        loader, requests, _ = gateway(answer, defined={"kunming"}, wait=10)

        assert loader.send("POST", "/ucaps", {}, acting=["granada"]).status == 201
        assert len(requests) == 2


class TestWhatTheFileDefines:
    def test_includes_its_ucaps(self) -> None:
        assert "granada-ucap" in defined_ids(read_data_file(GRANADA))
