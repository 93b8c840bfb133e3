"""A U-CAP's own events: its document in ``ucaps_view``, the city index, its status.

A U-CAP event *pulls* the copies of its cities, of its lead's MoUs (and, when created,
its pilots) into its status document, after the index names it (for MoUs: after
``ucaps_view`` names its lead): see the package's docstring. It drops the copies of MoUs
its lead is not a party to, left by a former lead.
"""

from ucap_reporting.domain import Ucap, evolve
from ucap_reporting.events import PUBLISHED_EVENTS, UcapCreated, UcapEvent
from ucap_reporting.projections.documents import (
    CITIES_VIEW,
    CITY_INDEX_VIEW,
    MOUS_VIEW,
    OWN_TOPIC,
    PILOT_INDEX_VIEW,
    STATUS_VIEW,
    UCAPS_VIEW,
    apply_and_read,
    copies,
    handlers_of,
    merge_copies,
    merge_sections,
    status_project,
    stream_of,
)
from ucap_reporting.projections.organisations import (
    organisations_of_mou,
    organisations_of_pilot,
    pull_organisations,
)
from ucap_reporting.store import ViewStore
from ucap_shared.dispatch import Handlers
from ucap_shared.envelope import Envelope
from ucap_shared.views import Document, Outcome


def of_lead(mous: list[Document], lead_city_id: str) -> list[Document]:
    """The copies of MoUs the lead is a party to: those of a former lead are dropped.

    Parties are only ever added, so a newer copy of a MoU holds every party of an older
    one, and the copies pulled (all of the lead's) are never the ones dropped.
    """
    return [mou for mou in mous if lead_city_id in mou["party_city_ids"]]


def ucap_of(document: Document | None) -> Ucap | None:
    if document is None:
        return None
    return Ucap.model_validate({k: v for k, v in document.items() if k != "_id"})


async def on_ucap_event(views: ViewStore, envelope: Envelope, event: UcapEvent) -> Outcome:
    ucap_id, stream = envelope.subject, stream_of("ucap", envelope.subject)

    def project_ucap(current: Document | None) -> Document:
        return evolve(ucap_of(current), event).model_dump(mode="json")

    outcome, document = await apply_and_read(
        views,
        UCAPS_VIEW,
        ucap_id,
        stream=stream,
        sequence=envelope.sequence,
        project=project_ucap,
        contiguous=True,
    )
    latest = ucap_of(document)
    assert latest is not None
    city_ids = sorted(set(latest.city_ids))
    for city_id in city_ids:
        await views.apply(
            CITY_INDEX_VIEW,
            city_id,
            stream=stream,
            sequence=envelope.sequence,
            project=lambda current: {
                "ucap_ids": sorted({*(current or {}).get("ucap_ids", []), ucap_id})
            },
        )
    # Pull only after the index names this U-CAP: see the package's docstring.
    cities = [city for city_id in city_ids if (city := await views.get(CITIES_VIEW, city_id))]
    mous = await views.find_in(MOUS_VIEW, "party_city_ids", [latest.lead_city_id])
    # Pilots push themselves only to U-CAPs that exist (see ``pilots``); those that came
    # first are pulled once, when the U-CAP is created.
    pilots = (
        await views.find_in(PILOT_INDEX_VIEW, "ucap_ids_seen", [ucap_id])
        if isinstance(event, UcapCreated)
        else []
    )

    referred = [
        *(o for mou in mous for o in organisations_of_mou(mou)),
        *(o for pilot in pilots for o in organisations_of_pilot(pilot)),
    ]
    organisations = await pull_organisations(views, referred, [ucap_id], stream, envelope.sequence)

    def change(document: Document) -> Document:
        state = ucap_of(document["ucap"])
        merged = merge_sections(document, organisations)
        return {
            **merged,
            "ucap": evolve(state, event).model_dump(mode="json"),
            "cities": merge_copies(document["cities"], "city_id", copies(cities)),
            "mous": of_lead(
                merge_copies(document["mous"], "mou_id", copies(mous)), latest.lead_city_id
            ),
            "pilots": merge_copies(document["pilots"], "pilot_id", copies(pilots)),
        }

    await views.apply(
        STATUS_VIEW,
        ucap_id,
        stream=stream,
        sequence=envelope.sequence,
        project=status_project(ucap_id, change),
    )
    return outcome


def own_handlers(views: ViewStore, topic: str = OWN_TOPIC) -> Handlers:
    """The U-CAP's own events, read from ``topic`` (the runtime's own topic)."""
    return handlers_of(topic, "ucap.ucap.", views, [(m, on_ucap_event) for m in PUBLISHED_EVENTS])
