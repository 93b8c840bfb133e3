"""A pilot's updates sealed in runs by the pilots view writers, against the real server.

Each set of handlers below plays one process of the pilots service (with its own
memory of the documents it wrote, as a replica has): whichever writes, the view reads
back as the pilot its events make, and its document holds only the latest updates.
"""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from tests.services.pilots.aggregate_examples import progress, proposed
from tests.support.replicas import replica
from ucap_pilots import views
from ucap_pilots.domain import Pilot, evolve
from ucap_pilots.events import PilotEvent, ProgressReported
from ucap_pilots.sealed_updates import RUNS, SEALED_RUNS, UPDATES_PER_RUN, MissingRunError
from ucap_shared import written_documents
from ucap_shared.dates import PartialDate
from ucap_shared.dispatch import Handlers, dispatch
from ucap_shared.envelope import Envelope
from ucap_shared.mongo import MongoClient
from ucap_shared.views import APPLIED, REVISION

Document = dict[str, Any]


@pytest.fixture
async def database(mongo: MongoClient, unique: str) -> AsyncIterator[AsyncDatabase[Document]]:
    db = mongo[f"test_pilot_update_runs_{unique}"]
    await views.create_indexes(db)
    yield db
    await mongo.drop_database(db.name)


class Process:
    """One process's pilots view writer, its memories its own."""

    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self.handlers: Handlers = views.own_handlers(database)
        self.memory = written_documents.WrittenDocuments()

    async def project(self, envelope: Envelope) -> None:
        with replica(self.memory):
            await dispatch(self.handlers, envelope, group="test")


class History:
    """A pilot's events, numbered, and the state they make."""

    def __init__(self) -> None:
        self.pilot: Pilot | None = None
        self.envelopes: list[Envelope] = []
        self.pilot_id = proposed().pilot_id

    def add(self, event: PilotEvent) -> Envelope:
        envelope = Envelope(
            source="ucap/pilots",
            type=event.event_type,
            subject=self.pilot_id,
            sequence=len(self.envelopes) + 1,
            data=event.model_dump(mode="json"),
            actor="city:granada",
        )
        self.envelopes.append(envelope)
        self.pilot = evolve(self.pilot, event, envelope.time)
        return envelope

    def update(self) -> Envelope:
        number = len(self.envelopes)
        update = progress(f"key-{number}", reported_on=PartialDate(2020, 1 + number % 12))
        return self.add(ProgressReported(pilot_id=self.pilot_id, update=update))


async def stored(database: AsyncDatabase[Document], pilot_id: str) -> Document:
    document = await database[views.PILOTS_VIEW].find_one({"_id": pilot_id})
    assert document is not None
    return document


class TestOneProcess:
    async def test_seals_each_full_run_and_reads_back_the_whole_pilot(
        self, database: AsyncDatabase[Document]
    ) -> None:
        process, history = Process(database), History()
        await process.project(history.add(proposed()))
        for _ in range(2 * UPDATES_PER_RUN + 20):
            await process.project(history.update())

        document = await stored(database, history.pilot_id)

        assert document[SEALED_RUNS] == 2
        assert len(views.own_part(document).updates) == 20
        assert await database[RUNS].count_documents({"pilot_id": history.pilot_id}) == 2
        assert await views.find_pilot(database, history.pilot_id) == history.pilot

    async def test_a_document_counting_a_run_not_stored_is_an_error_not_a_shorter_pilot(
        self, database: AsyncDatabase[Document]
    ) -> None:
        process, history = Process(database), History()
        await process.project(history.add(proposed()))
        for _ in range(UPDATES_PER_RUN + 1):
            await process.project(history.update())
        await database[RUNS].delete_many({"pilot_id": history.pilot_id})

        with pytest.raises(MissingRunError, match=r"runs \[0\]"):
            await views.find_pilot(database, history.pilot_id)


class TestProcessesTakingTurns:
    async def test_whichever_writes_the_view_reads_back_the_whole_pilot(
        self, database: AsyncDatabase[Document]
    ) -> None:
        first, second, history = Process(database), Process(database), History()
        await first.project(history.add(proposed()))
        turns = [first] * 60 + [second] * 45 + [first] * 30 + [second] * 7

        for process in turns:
            await process.project(history.update())

        assert history.pilot is not None
        assert len(history.pilot.updates) == len(turns)
        assert await views.find_pilot(database, history.pilot_id) == history.pilot
        document = await stored(database, history.pilot_id)
        assert len(views.own_part(document).updates) <= UPDATES_PER_RUN
        runs = await database[RUNS].count_documents({"pilot_id": history.pilot_id})
        assert runs >= document[SEALED_RUNS] == len(turns) // UPDATES_PER_RUN

    async def test_a_document_written_before_runs_were_sealed_is_sealed_by_the_next_writes(
        self, database: AsyncDatabase[Document]
    ) -> None:
        history = History()
        history.add(proposed())
        for _ in range(70):
            history.update()
        assert history.pilot is not None
        older = {
            **views.pilot_document(history.pilot),
            "_id": history.pilot_id,
            APPLIED: {history.pilot_id: len(history.envelopes)},
            REVISION: 1,
        }
        del older[SEALED_RUNS]
        await database[views.PILOTS_VIEW].insert_one(older)
        process = Process(database)

        for _ in range(2):
            await process.project(history.update())

        document = await stored(database, history.pilot_id)
        assert document[SEALED_RUNS] == 1
        assert len(views.own_part(document).updates) == 72 - UPDATES_PER_RUN
        assert await views.find_pilot(database, history.pilot_id) == history.pilot
