"""The programme's pilots as an IATI 2.03 activity document (``iati-activities``).

Built as an element tree from the pilots, the cities and the U-CAPs the programme's
filters select (see ``iati_sources``), never by joining strings. Partial dates become
full ISO dates: a start (and a value or transaction date) its first day, an end its
last day; an actual date is never after today.
"""

import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from ucap_gateway import iati_codes as codes
from ucap_gateway.iati_elements import XML_LANG, decimal_text, narrative, shares, sub, text
from ucap_gateway.iati_results import add_results
from ucap_shared.dates import PartialDate

Document = dict[str, Any]
ENDED = frozenset({"completed", "cancelled"})


@dataclass(frozen=True)
class Publisher:
    """Who reports the activities: the gateway's IATI settings."""

    ref: str
    name: str
    type: str
    language: str


@dataclass(frozen=True)
class UcapPilots:
    """One U-CAP the filters select, with its pilots (as the pilots service has them)."""

    ucap_id: str
    lead_city_id: str
    counterpart_city_ids: Sequence[str]
    pilots: Sequence[Document]


@dataclass(frozen=True)
class IatiSources:
    ucaps: Sequence[UcapPilots]
    cities: dict[str, Document] = field(default_factory=dict)
    """The cities named, by id, as the cities service has them; an unknown one is absent."""


@dataclass(frozen=True)
class IatiDocument:
    body: bytes
    etag: str


def first_day(value: str) -> date:
    return PartialDate.parse(value).first_day


def last_day(value: str) -> date:
    return PartialDate.parse(value).last_day


def activities_document(
    sources: IatiSources, publisher: Publisher, *, today: date, now: datetime | None = None
) -> IatiDocument:
    """The document, and an ETag that moves with its content, not with its generation time."""
    root = ET.Element("iati-activities", {"version": codes.IATI_VERSION})
    for ucap in sources.ucaps:
        for pilot in sorted(ucap.pilots, key=lambda p: str(p["id"])):
            add_activity(root, pilot, ucap, sources.cities, publisher, today)
    digest = hashlib.sha256(ET.tostring(root, encoding="utf-8")).hexdigest()[:32]
    moment = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    root.set("generated-datetime", moment.isoformat().replace("+00:00", "Z"))
    ET.indent(root)
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return IatiDocument(body=body, etag=f'"{digest}"')


def add_activity(
    root: ET.Element,
    pilot: Document,
    ucap: UcapPilots,
    cities: dict[str, Document],
    publisher: Publisher,
    today: date,
) -> None:
    language = publisher.language
    activity = sub(root, "iati-activity")
    activity.set(XML_LANG, language)
    if updated := pilot.get("updated_at"):
        activity.set("last-updated-datetime", str(updated))
    sub(activity, "iati-identifier").text = text(f"{publisher.ref}-{pilot['id']}")
    reporting = sub(activity, "reporting-org", ref=publisher.ref, type=publisher.type)
    narrative(reporting, publisher.name, language)
    narrative(sub(activity, "title"), str(pilot["title"]), language)
    if pilot.get("description"):
        narrative(sub(activity, "description", type=codes.GENERAL), pilot["description"], language)
    _participants(activity, pilot, cities, language)
    sub(activity, "activity-status", code=activity_status(pilot))
    for date_type, on in activity_dates(pilot, today):
        sub(activity, "activity-date", type=date_type, iso_date=on.isoformat())
    countries = recipient_countries(pilot, ucap, cities)
    for country, percentage in zip(countries, shares(len(countries)), strict=True):
        sub(activity, "recipient-country", code=country, percentage=percentage)
    _sectors(activity, pilot)
    _transactions(activity, pilot, cities, language)
    add_results(activity, pilot, language)


def city_name(cities: dict[str, Document], city_id: str) -> str:
    return str(cities.get(city_id, {}).get("name") or city_id)


def _participants(
    activity: ET.Element, pilot: Document, cities: dict[str, Document], language: str
) -> None:
    seen: set[tuple[str, str]] = set()
    partners = [{"city_id": pilot["lead_city_id"], "role": "lead"}, *pilot.get("partners", [])]
    for partner in partners:
        role = codes.ROLE_OF_PARTNER[partner["role"]]
        if (partner["city_id"], role) in seen:
            continue
        seen.add((partner["city_id"], role))
        org = sub(activity, "participating-org", role=role, type=codes.LOCAL_GOVERNMENT)
        narrative(org, city_name(cities, partner["city_id"]), language)
    for funder in dict.fromkeys(award["funder"] for award in pilot.get("funding", [])):
        org = sub(activity, "participating-org", role=codes.FUNDING)
        narrative(org, funder, language)


def activity_status(pilot: Document) -> str:
    """The pilots service's IATI status code, else the same mapping from the status."""
    given = pilot.get("iati_status") or {}
    code = str(given.get("code") or codes.STATUS_OF_PILOT[pilot["status"]])
    if code not in codes.ACTIVITY_STATUS:
        raise ValueError(f"pilot {pilot['id']}: {code} is no IATI activity status")
    return code


def _changes_to(pilot: Document, status: str) -> list[str]:
    """When the pilot came to ``status``, each time: the date it took effect, else the day
    it was recorded."""
    return [
        change.get("effective_on") or str(change["recorded_at"])[:10]
        for change in pilot.get("status_changes", [])
        if change["status"] == status
    ]


def activity_dates(pilot: Document, today: date) -> list[tuple[str, date]]:
    """Planned start and end from the milestones, actual start from the first start,
    actual end from the completion or cancellation; at least a start, as IATI asks."""
    found: list[tuple[str, date]] = []
    planned = sorted(m["planned_on"] for m in pilot.get("milestones", []))
    if planned:
        found.append((codes.PLANNED_START, first_day(planned[0])))
    if started := _changes_to(pilot, "in_progress"):
        found.append((codes.ACTUAL_START, min(first_day(started[0]), today)))
    if not found:
        proposed = _changes_to(pilot, "proposed") or [str(pilot.get("proposed_at", today))[:10]]
        found.append((codes.PLANNED_START, first_day(proposed[0])))
    if planned:
        found.append((codes.PLANNED_END, last_day(planned[-1])))
    ended = _changes_to(pilot, pilot["status"]) if pilot["status"] in ENDED else []
    if ended:
        found.append((codes.ACTUAL_END, min(last_day(ended[-1]), today)))
    return found


def recipient_countries(
    pilot: Document, ucap: UcapPilots, cities: dict[str, Document]
) -> list[str]:
    """The partner cities' countries (not the lead's, nor a funder's); the U-CAP's
    counterparts' when no partner's country is known."""
    partners = [
        p["city_id"]
        for p in pilot.get("partners", [])
        if p["role"] in ("partner", "implementing") and p["city_id"] != pilot["lead_city_id"]
    ]
    countries = _countries(partners, cities) or _countries(ucap.counterpart_city_ids, cities)
    return countries


def _countries(city_ids: Iterable[str], cities: dict[str, Document]) -> list[str]:
    found = (cities.get(city_id, {}).get("country") for city_id in city_ids)
    return list(dict.fromkeys(str(country) for country in found if country))


def _sectors(activity: ET.Element, pilot: Document) -> None:
    for vocabulary, sdgs in (
        (codes.SDG_GOAL, [str(goal) for goal in pilot.get("sdg_goals", [])]),
        (codes.SDG_TARGET, [str(target) for target in pilot.get("sdg_targets", [])]),
    ):
        unique = list(dict.fromkeys(sdgs))
        for code, percentage in zip(unique, shares(len(unique)), strict=True):
            sub(activity, "sector", vocabulary=vocabulary, code=code, percentage=percentage)


def _transactions(
    activity: ET.Element, pilot: Document, cities: dict[str, Document], language: str
) -> None:
    """Each funding award with an amount and its currency, as a commitment to the pilot."""
    for award in pilot.get("funding", []):
        if not award.get("amount") or not award.get("currency"):
            continue
        on = first_day(award["awarded_on"]).isoformat()
        transaction = sub(activity, "transaction")
        sub(transaction, "transaction-type", code=codes.INCOMING_COMMITMENT)
        sub(transaction, "transaction-date", iso_date=on)
        value = sub(transaction, "value", currency=award["currency"], value_date=on)
        value.text = decimal_text(award["amount"])
        category = f" ({award['category']})" if award.get("category") else ""
        narrative(sub(transaction, "description"), f"{award['funder']}{category}", language)
        narrative(sub(transaction, "provider-org"), award["funder"], language)
        narrative(
            sub(transaction, "receiver-org"), city_name(cities, pilot["lead_city_id"]), language
        )
