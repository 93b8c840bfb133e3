"""A pilot's ``pilots_view`` document and its sealed runs of updates, as built in memory."""

from typing import Any

from tests.services.pilots.aggregate_examples import a_pilot, applied, progress
from ucap_pilots import views
from ucap_pilots.domain import Pilot
from ucap_pilots.events import ProgressReported
from ucap_pilots.sealed_updates import SEALED_RUNS, UPDATES_PER_RUN, full_runs, run_document
from ucap_shared.dates import PartialDate


def with_updates(count: int, pilot: Pilot | None = None) -> Pilot:
    pilot = pilot or a_pilot()
    first = len(pilot.updates)
    return applied(
        pilot,
        [
            ProgressReported(
                pilot_id=pilot.pilot_id,
                update=progress(f"key-{n}", reported_on=PartialDate(2020, 1 + n % 12)),
            )
            for n in range(first, first + count)
        ],
    )


def stored(document: dict[str, Any]) -> dict[str, Any]:
    """The document as the server returns it: binary values as bytes."""
    return {**document, "pilot_z": bytes(document["pilot_z"])}


class TestTheDocumentOfAPilot:
    def test_counts_its_sealed_runs_and_holds_the_rest(self) -> None:
        own = with_updates(20)

        document = views.pilot_document(own, 3)

        assert document[SEALED_RUNS] == 3
        assert views.own_part(document) == own
        assert views.sealed_runs_of(document) == 3

    def test_written_before_runs_were_sealed_it_counts_none(self) -> None:
        older = {
            k: v for k, v in views.pilot_document(with_updates(70)).items() if k != SEALED_RUNS
        }

        assert views.sealed_runs_of(older) == 0
        assert len(views.own_part(older).updates) == 70


class TestARun:
    def test_of_the_same_updates_is_the_same_document(self) -> None:
        pilot = with_updates(UPDATES_PER_RUN)
        again = with_updates(UPDATES_PER_RUN)

        first = run_document(pilot.pilot_id, 4, pilot.updates)

        assert first == run_document(again.pilot_id, 4, again.updates)
        assert first["_id"] == f"{pilot.pilot_id}|4"

    def test_is_full_at_each_multiple_of_its_length(self) -> None:
        assert full_runs(with_updates(UPDATES_PER_RUN - 1).updates) == 0
        assert full_runs(with_updates(UPDATES_PER_RUN).updates) == 1
        assert full_runs(with_updates(2 * UPDATES_PER_RUN + 7).updates) == 2


class TestParsedPilots:
    def test_a_document_it_wrote_is_not_parsed_again(self) -> None:
        parsed = views.ParsedPilots()
        own = with_updates(10)
        document = parsed.document(own, 2)

        assert parsed.of(own.pilot_id, stored(document)) is own

    def test_a_document_counting_other_runs_is_parsed(self) -> None:
        parsed = views.ParsedPilots()
        own = with_updates(10)
        document = parsed.document(own, 2)

        read = parsed.of(own.pilot_id, {**stored(document), SEALED_RUNS: 1})

        assert read is not own
        assert read == own
