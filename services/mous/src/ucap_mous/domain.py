"""MoUs: the aggregate folded from its events, its rules, and commands to events.

Pure: no I/O. What the rules need to know of the world (which cities exist,
their stakeholders, today's date) is passed in.

A MoU's status is derived, never stored, because it moves with the calendar:
``terminated`` once terminated; ``expired`` once its validity has ended (or an
expiry was recorded); else ``draft`` until every party has signed; then
``signed`` until its validity starts and ``in_force`` from then. A MoU with no
``valid_from`` is in force from the day its last party signed; when a signature's
date is not known (``signed_on`` null), the MoU is still signed once every party
has signed, its ``signed_on`` is null, and with no ``valid_from`` it counts as in
force already (it was signed on some day before today).

A party is a city, a city's stakeholder organisation (city and organisation ids)
or an organisation with no city (organisation id only); its key is the pair.
A signature by a party that is not one is refused with 409 (a conflict with
the MoU's current parties, which adding the party first resolves), as are a
second signature of one party and any signature or amendment of an expired or
terminated MoU.
"""

from collections.abc import Iterable, Mapping
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from ucap_mous.events import (
    LinkedDocument,
    MouAmended,
    MouDrafted,
    MouEvent,
    MouExpired,
    MouPartyAdded,
    MouSigned,
    MouTerminated,
    Party,
    PartyKey,
)
from ucap_shared.dates import PartialDate, first_day_of_all, latest
from ucap_shared.problems import ConflictError, FieldProblem, InvalidInputError

KnownCities = Mapping[str, frozenset[str]]
"""City id -> ids of its stakeholder organisations, for the cities a rule looks at."""
KnownOrganisations = frozenset[str]
"""Ids of the organisations with no city a rule looks at that are registered."""

Loc = list[str | int]


class Status(StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"
    IN_FORCE = "in_force"
    EXPIRED = "expired"
    TERMINATED = "terminated"


CLOSED = frozenset({Status.EXPIRED, Status.TERMINATED})


class Signature(BaseModel):
    """One party's signature; ``signed_on`` null: the date is not known."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    city_id: str | None
    organisation_id: str | None = None
    signed_on: PartialDate | None
    place: str | None = None
    signatory: str | None = None
    occasion: str | None = None


class Amendment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    amended_on: PartialDate
    summary: str


class Termination(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    terminated_on: PartialDate
    reason: str


class MoU(BaseModel):
    """The aggregate's state after its events."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    mou_id: str
    title: str
    subject: str
    parties: tuple[Party, ...]
    themes: tuple[str, ...]
    valid_from: PartialDate | None = None
    valid_until: PartialDate | None = None
    documents: tuple[LinkedDocument, ...] = ()
    drafted_on: PartialDate | None = None
    """When it was drafted, as its parties date it (None: when it was recorded)."""
    signatures: tuple[Signature, ...] = ()
    amendments: tuple[Amendment, ...] = ()
    termination: Termination | None = None
    expired_on: PartialDate | None = None

    @property
    def party_keys(self) -> list[PartyKey]:
        return [party.key for party in self.parties]

    @property
    def party_city_ids(self) -> list[str]:
        """The cities of the parties that have one, each once, in party order."""
        return list(dict.fromkeys(p.city_id for p in self.parties if p.city_id is not None))

    @property
    def signed_by(self) -> set[PartyKey]:
        return {(signature.city_id, signature.organisation_id) for signature in self.signatures}

    @property
    def fully_signed(self) -> bool:
        return bool(self.signatures) and set(self.party_keys) <= self.signed_by

    @property
    def signed_on(self) -> PartialDate | None:
        """When the MoU was concluded: its last party's signature date, once all have signed
        and every signature's date is known."""
        if not self.fully_signed:
            return None
        dates = self._signature_dates()
        return latest(dates) if dates else None

    def _signature_dates(self) -> list[PartialDate]:
        """Every signature's date, or none if any is not known."""
        dates = [signature.signed_on for signature in self.signatures]
        return [] if None in dates else [d for d in dates if d is not None]

    @property
    def in_force_from(self) -> date | None:
        """The first day in force; ``date.min`` for a MoU with no ``valid_from`` whose last
        signature's date is not known (in force by now, since some unknown day)."""
        if not self.fully_signed:
            return None
        if self.valid_from is not None:
            return self.valid_from.first_day
        dates = self._signature_dates()
        return first_day_of_all(dates) if dates else date.min

    def status_on(self, today: date) -> Status:
        if self.termination is not None:
            return Status.TERMINATED
        if self.expired_on is not None or self.validity_ended_by(today):
            return Status.EXPIRED
        in_force_from = self.in_force_from
        if in_force_from is None:
            return Status.DRAFT
        return Status.IN_FORCE if in_force_from <= today else Status.SIGNED

    def validity_ended_by(self, today: date) -> bool:
        return self.valid_until is not None and self.valid_until.last_day < today


# --- folding events ---------------------------------------------------------


def evolve(state: MoU | None, event: MouEvent) -> MoU:
    """The state after one more event."""
    if isinstance(event, MouDrafted):
        return MoU(
            mou_id=event.mou_id,
            title=event.title,
            subject=event.subject,
            parties=event.parties,
            themes=event.themes,
            valid_from=event.valid_from,
            valid_until=event.valid_until,
            documents=event.documents,
            drafted_on=event.drafted_on,
        )
    if state is None:
        raise ValueError(f"{event.event_type} before the MoU was drafted")
    if isinstance(event, MouPartyAdded):
        return state.model_copy(update={"parties": (*state.parties, event.party)})
    if isinstance(event, MouSigned):
        signature = Signature(
            city_id=event.city_id,
            organisation_id=event.organisation_id,
            signed_on=event.signed_on,
            place=event.place,
            signatory=event.signatory,
            occasion=event.occasion,
        )
        return state.model_copy(update={"signatures": (*state.signatures, signature)})
    if isinstance(event, MouAmended):
        amendment = Amendment(amended_on=event.amended_on, summary=event.summary)
        return state.model_copy(update={"amendments": (*state.amendments, amendment)})
    if isinstance(event, MouTerminated):
        termination = Termination(terminated_on=event.terminated_on, reason=event.reason)
        return state.model_copy(update={"termination": termination})
    return state.model_copy(update={"expired_on": event.expired_on})


def fold(events: Iterable[MouEvent]) -> MoU | None:
    state: MoU | None = None
    for event in events:
        state = evolve(state, event)
    return state


# --- rules ------------------------------------------------------------------


def party_problems(
    party: Party, cities: KnownCities, organisations: KnownOrganisations, loc: Loc
) -> list[FieldProblem]:
    """What is wrong with a party: an unknown city, an organisation that is not that city's
    stakeholder, an unknown organisation with no city, or stakeholders not of its city."""
    if party.city_id is None:
        problems: list[FieldProblem] = []
        if party.organisation_id not in organisations:
            problems.append(
                FieldProblem(
                    loc=[*loc, "organisation_id"],
                    msg=f"unknown organisation {party.organisation_id!r}",
                )
            )
        if party.stakeholder_ids:
            problems.append(
                FieldProblem(
                    loc=[*loc, "stakeholder_ids"],
                    msg="an organisation with no city has no stakeholders",
                )
            )
        return problems
    if party.city_id not in cities:
        return [FieldProblem(loc=[*loc, "city_id"], msg=f"unknown city {party.city_id!r}")]
    known = cities[party.city_id]
    problems = [
        FieldProblem(
            loc=[*loc, "stakeholder_ids", index],
            msg=f"{stakeholder!r} is not a stakeholder of {party.city_id!r}",
        )
        for index, stakeholder in enumerate(party.stakeholder_ids)
        if stakeholder not in known
    ]
    if party.organisation_id is not None and party.organisation_id not in known:
        problems.insert(
            0,
            FieldProblem(
                loc=[*loc, "organisation_id"],
                msg=f"{party.organisation_id!r} is not a stakeholder of {party.city_id!r}",
            ),
        )
    return problems


def describe(key: PartyKey) -> str:
    """A party as a message names it: ``barcelona``, ``barcelona/fira-de-barcelona``."""
    return "/".join(part for part in key if part is not None)


def _refuse_when_closed(mou: MoU, today: date, doing: str) -> None:
    status = mou.status_on(today)
    if status in CLOSED:
        raise ConflictError(
            f"MoU {mou.mou_id} is {status.value}: it accepts no {doing}",
            mou_id=mou.mou_id,
            status=status.value,
        )


# --- commands ---------------------------------------------------------------


def draft_mou(
    existing: MoU | None,
    drafted: MouDrafted,
    cities: KnownCities,
    organisations: KnownOrganisations = frozenset(),
) -> list[MouEvent]:
    if existing is not None:
        raise ConflictError(f"MoU {drafted.mou_id} already exists", mou_id=drafted.mou_id)
    problems: list[FieldProblem] = []
    seen: set[PartyKey] = set()
    for index, party in enumerate(drafted.parties):
        loc: Loc = ["parties", index]
        if party.key in seen:
            field = "city_id" if party.organisation_id is None else "organisation_id"
            problems.append(
                FieldProblem(loc=[*loc, field], msg=f"{describe(party.key)!r} is a party twice")
            )
        seen.add(party.key)
        problems += party_problems(party, cities, organisations, loc)
    if len(seen) < 2:
        problems.append(FieldProblem(loc=["parties"], msg="a MoU needs two or more parties"))
    starts, ends = drafted.valid_from, drafted.valid_until
    if starts and ends and ends.last_day < starts.first_day:
        problems.append(FieldProblem(loc=["valid_until"], msg="the validity ends before it starts"))
    if problems:
        raise InvalidInputError(problems)
    return [drafted]


def add_party(
    mou: MoU,
    party: Party,
    cities: KnownCities,
    today: date,
    organisations: KnownOrganisations = frozenset(),
) -> list[MouEvent]:
    problems = party_problems(party, cities, organisations, [])
    if problems:
        raise InvalidInputError(problems)
    _refuse_when_closed(mou, today, "new party")
    if party.key in mou.party_keys:
        raise ConflictError(
            f"{describe(party.key)} is already a party to {mou.mou_id}",
            mou_id=mou.mou_id,
            city_id=party.city_id,
            organisation_id=party.organisation_id,
        )
    if mou.fully_signed:
        raise ConflictError(
            f"MoU {mou.mou_id} is signed by all its parties: it takes no new party",
            mou_id=mou.mou_id,
        )
    return [MouPartyAdded(mou_id=mou.mou_id, party=party)]


def sign_mou(mou: MoU, signature: Signature, today: date) -> list[MouEvent]:
    _refuse_when_closed(mou, today, "signature")
    key: PartyKey = (signature.city_id, signature.organisation_id)
    if key not in mou.party_keys:
        raise ConflictError(
            f"{describe(key)} is not a party to {mou.mou_id}; add it as a party first",
            mou_id=mou.mou_id,
            city_id=signature.city_id,
            organisation_id=signature.organisation_id,
        )
    if key in mou.signed_by:
        raise ConflictError(
            f"{describe(key)} has already signed {mou.mou_id}",
            mou_id=mou.mou_id,
            city_id=signature.city_id,
            organisation_id=signature.organisation_id,
        )
    return [
        MouSigned(
            mou_id=mou.mou_id,
            city_id=signature.city_id,
            organisation_id=signature.organisation_id,
            signed_on=signature.signed_on,
            place=signature.place,
            signatory=signature.signatory,
            occasion=signature.occasion,
        )
    ]


def amend_mou(mou: MoU, amendment: Amendment, today: date) -> list[MouEvent]:
    _refuse_when_closed(mou, today, "amendment")
    return [
        MouAmended(mou_id=mou.mou_id, amended_on=amendment.amended_on, summary=amendment.summary)
    ]


def terminate_mou(mou: MoU, termination: Termination, today: date) -> list[MouEvent]:
    _refuse_when_closed(mou, today, "termination")
    return [
        MouTerminated(
            mou_id=mou.mou_id,
            terminated_on=termination.terminated_on,
            reason=termination.reason,
        )
    ]


def expire_mou(mou: MoU, today: date) -> list[MouEvent]:
    """Record the end of a MoU's validity once it has passed; nothing otherwise."""
    if mou.termination is not None or mou.expired_on is not None:
        return []
    if mou.valid_until is None or not mou.validity_ended_by(today):
        return []
    return [MouExpired(mou_id=mou.mou_id, expired_on=mou.valid_until)]
