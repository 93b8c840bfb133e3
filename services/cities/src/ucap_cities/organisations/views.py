"""The ``organisations_view`` collection: one document per organisation, ``_id`` = its id,
shaped as the API returns it; and its queries."""

from dataclasses import dataclass

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from ucap_cities.events import OrganisationRegistered
from ucap_shared.dispatch import Handlers
from ucap_shared.envelope import Envelope
from ucap_shared.queries import page_in_id_order
from ucap_shared.views import WITHOUT_BOOKKEEPING, Document, Outcome, apply_event

ORGANISATIONS_VIEW = "organisations_view"
ORGANISATION_EVENT_PREFIX = "ucap.organisation."


def organisations_view(database: AsyncDatabase[Document]) -> AsyncCollection[Document]:
    return database[ORGANISATIONS_VIEW]


def project_organisations(handlers: Handlers, database: AsyncDatabase[Document]) -> None:
    """Register the projections of organisation events on the service's own ``handlers``."""
    view = organisations_view(database)

    @handlers.on(OrganisationRegistered)
    async def on_registered(envelope: Envelope, data: OrganisationRegistered) -> Outcome:
        def project(current: Document | None) -> Document:
            return {
                **data.model_dump(mode="json"),
                "version": envelope.sequence,
                "registered_at": envelope.time,
                "updated_at": envelope.time,
            }

        return await apply_event(
            view,
            envelope.subject,
            stream=envelope.subject,
            sequence=envelope.sequence,
            project=project,
            contiguous=True,
        )


@dataclass(frozen=True)
class OrganisationFilter:
    scope: str | None = None
    country: str | None = None

    def query(self) -> Document:
        query: Document = {}
        if self.scope is not None:
            query["scope"] = self.scope
        if self.country is not None:
            query["country"] = self.country
        return query


async def find_organisation(
    database: AsyncDatabase[Document], organisation_id: str
) -> Document | None:
    return await organisations_view(database).find_one(
        {"_id": organisation_id}, projection=WITHOUT_BOOKKEEPING
    )


async def list_organisations(
    database: AsyncDatabase[Document], where: OrganisationFilter, *, limit: int, after: str | None
) -> tuple[list[Document], str | None]:
    """One page of organisations in id order, and the next page's cursor (None on the last)."""
    return await page_in_id_order(
        organisations_view(database),
        where.query(),
        limit=limit,
        after=after,
        projection=WITHOUT_BOOKKEEPING,
    )
