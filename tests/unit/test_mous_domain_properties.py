"""Properties of the MoU aggregate over generated inputs (Hypothesis)."""

from dataclasses import dataclass, field
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.mous_examples import (
    CITIES,
    FIRA,
    FUND,
    GRANADA,
    ORGANISATIONS,
    ZHENGZHOU,
    a_mou,
    applied,
    drafted,
    signed,
)
from ucap_mous import domain
from ucap_mous.domain import CLOSED, Amendment, MoU, Signature, Status, Termination
from ucap_mous.events import PUBLISHED_EVENTS, MouDrafted, MouEvent, MouExpired, Party
from ucap_shared.dates import PartialDate, latest
from ucap_shared.problems import ConflictError, InvalidInputError

SMALL = settings(max_examples=20, deadline=None)
WALKS = settings(max_examples=12, deadline=None)
"""Few examples (fewer walks, the dearest): all MoU domain test files run in under 3 seconds."""
MODELS = {model.event_type: model for model in PUBLISHED_EVENTS}

days = st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31))
POOL = (
    GRANADA,
    ZHENGZHOU,
    Party(city_id="barcelona"),
    Party(city_id="kunming"),
    FIRA,
    Party(city_id="granada", organisation_id="pts-health-park"),
    FUND,
    Party(organisation_id="eurocities"),
)
"""Known parties of the three kinds, none twice."""
STRANGERS = (
    Party(city_id="atlantis"),
    Party(city_id="kunming", organisation_id="fira-de-barcelona"),
    Party(city_id="granada", stakeholder_ids=("pts-health-park", "nobody")),
    Party(organisation_id="nobody"),
    Party(organisation_id="eurocities", stakeholder_ids=("x",)),
)
"""Parties a rule refuses."""
RANK = {Status.DRAFT: 0, Status.SIGNED: 1, Status.IN_FORCE: 2, Status.EXPIRED: 3}


@st.composite
def partial_dates(draw: st.DrawFn, within: st.SearchStrategy[date] = days) -> PartialDate:
    """A year, a year and month, or a full date."""
    day = draw(within)
    precision = draw(st.sampled_from(["year", "month", "day"]))
    if precision == "year":
        return PartialDate(day.year)
    if precision == "month":
        return PartialDate(day.year, day.month)
    return PartialDate.of(day)


@st.composite
def validities(draw: st.DrawFn) -> tuple[PartialDate | None, PartialDate | None]:
    """A validity draft_mou accepts: open at either end, or ending in a later year."""
    valid_from = draw(st.none() | partial_dates())
    after = date(valid_from.year + 1, 1, 1) if valid_from else date(1990, 1, 1)
    valid_until = draw(st.none() | partial_dates(st.dates(after, date(2045, 12, 31))))
    return valid_from, valid_until


@st.composite
def drafts(draw: st.DrawFn) -> MouDrafted:
    parties = draw(st.lists(st.sampled_from(POOL), min_size=2, max_size=4, unique=True))
    valid_from, valid_until = draw(validities())
    return drafted(parties=tuple(parties), valid_from=valid_from, valid_until=valid_until)


@dataclass
class Walk:
    """A MoU taken through generated commands: the events made and the state stepped to."""

    state: MoU
    events: list[MouEvent] = field(default_factory=list)
    closed_steps: list[list[MouEvent]] = field(default_factory=list)
    """What each command accepted while the MoU was closed on the day it was tried."""

    def step(self, events: list[MouEvent]) -> None:
        for event in events:
            self.state = domain.evolve(self.state, event)
            self.events.append(event)


def command(draw: st.DrawFn, mou: MoU, today: date) -> list[MouEvent]:
    """One command drawn at random and tried on ``mou``; it may be refused."""
    kind = draw(st.sampled_from(["add", "amend", "terminate", "expire", *["sign"] * 5]))
    if kind == "add":
        party = draw(st.sampled_from(POOL))
        return domain.add_party(mou, party, CITIES, today, ORGANISATIONS)
    if kind == "sign":
        # Mostly a party of the MoU, so that walks reach a MoU signed by all.
        party = draw(st.sampled_from(mou.parties) | st.sampled_from(POOL))
        return domain.sign_mou(mou, signature_on(party, draw(st.none() | partial_dates())), today)
    if kind == "amend":
        amendment = Amendment(amended_on=draw(partial_dates()), summary="more")
        return domain.amend_mou(mou, amendment, today)
    if kind == "terminate":
        termination = Termination(terminated_on=draw(partial_dates()), reason="done")
        return domain.terminate_mou(mou, termination, today)
    return domain.expire_mou(mou, today)


def signature_on(party: Party, on: PartialDate | None) -> Signature:
    return Signature(city_id=party.city_id, organisation_id=party.organisation_id, signed_on=on)


@st.composite
def walks(draw: st.DrawFn) -> Walk:
    """A draft, then 4 to 8 commands on days that do not go back, the refused left out."""
    first = draw(drafts())
    walk = Walk(domain.evolve(None, first), [first])
    for today in sorted(draw(st.lists(days, min_size=4, max_size=8))):
        closed_before = walk.state.status_on(today) in CLOSED
        try:
            events = command(draw, walk.state, today)
        except (ConflictError, InvalidInputError):
            continue
        if closed_before:
            walk.closed_steps.append(events)
        walk.step(events)
    return walk


def kept(date_kept: PartialDate | None, date_sent: PartialDate | None) -> bool:
    """The same date at the same precision (2018-07 is not 2018-07-01)."""
    if date_kept is None or date_sent is None:
        return date_kept is date_sent
    return (date_kept.precision, date_kept.iso()) == (date_sent.precision, date_sent.iso())


def over_the_wire(event: MouEvent) -> MouEvent:
    """``event`` as a consumer reads it: its JSON, parsed by its model."""
    read = MODELS[event.event_type].model_validate_json(event.model_dump_json())
    assert isinstance(read, type(event))
    return read


class TestWalks:
    @WALKS
    @given(walks())
    def test_a_fold_of_the_events_equals_stepping_through_them(self, walk: Walk) -> None:
        assert domain.fold(walk.events) == walk.state
        assert domain.fold(over_the_wire(event) for event in walk.events) == walk.state

    @WALKS
    @given(walks())
    def test_parties_are_distinct_and_only_they_sign_each_once(self, walk: Walk) -> None:
        keys = walk.state.party_keys
        signers = [(s.city_id, s.organisation_id) for s in walk.state.signatures]
        assert len(set(keys)) == len(keys)
        assert len(set(signers)) == len(signers)
        assert set(signers) <= set(keys)

    @WALKS
    @given(walks())
    def test_a_closed_mou_takes_no_event_but_the_record_of_its_expiry(self, walk: Walk) -> None:
        for events in walk.closed_steps:
            assert all(isinstance(event, MouExpired) for event in events)
        assert sum(isinstance(event, MouExpired) for event in walk.events) <= 1

    @WALKS
    @given(walks(), days, days)
    def test_a_status_only_moves_forward_with_the_calendar(
        self, walk: Walk, one: date, other: date
    ) -> None:
        earlier, later = sorted((one, other))
        before, after = walk.state.status_on(earlier), walk.state.status_on(later)
        if Status.TERMINATED in (before, after):
            assert before is after is Status.TERMINATED
        else:
            assert RANK[before] <= RANK[after]


class TestExpiry:
    @WALKS
    @given(walks(), days, days)
    def test_an_expiry_is_recorded_once_at_the_precision_of_the_validity_end(
        self, walk: Walk, one: date, other: date
    ) -> None:
        events = domain.expire_mou(walk.state, one)
        if events:
            [expired] = events
            assert isinstance(expired, MouExpired)
            assert kept(expired.expired_on, walk.state.valid_until)
            assert walk.state.status_on(one) is Status.EXPIRED
        after = applied(walk.state, events)
        assert domain.expire_mou(after, one) == []
        if events:
            assert domain.expire_mou(after, other) == []


class TestPartialDates:
    @SMALL
    @given(validities(), st.lists(st.none() | partial_dates(), min_size=2, max_size=2))
    def test_the_dates_of_a_draft_and_its_signatures_keep_their_precision(
        self,
        validity: tuple[PartialDate | None, PartialDate | None],
        signed_on: list[PartialDate | None],
    ) -> None:
        valid_from, valid_until = validity
        mou = a_mou(valid_from=valid_from, valid_until=valid_until)
        for party, on in zip((GRANADA, ZHENGZHOU), signed_on, strict=True):
            [event] = domain.sign_mou(mou, signature_on(party, on), date(1990, 1, 1))
            mou = domain.evolve(mou, over_the_wire(event))
        for state in (mou, MoU.model_validate_json(mou.model_dump_json())):
            assert kept(state.valid_from, valid_from)
            assert kept(state.valid_until, valid_until)
            assert all(
                kept(s.signed_on, on) for s, on in zip(state.signatures, signed_on, strict=True)
            )

    @SMALL
    @given(partial_dates(), partial_dates())
    def test_an_amendment_and_a_termination_keep_the_precision_of_their_dates(
        self, amended_on: PartialDate, terminated_on: PartialDate
    ) -> None:
        mou = a_mou()
        mou = applied(
            mou, domain.amend_mou(mou, Amendment(amended_on=amended_on, summary="s"), date.min)
        )
        mou = applied(
            mou,
            domain.terminate_mou(
                mou, Termination(terminated_on=terminated_on, reason="r"), date.min
            ),
        )
        for state in (mou, MoU.model_validate_json(mou.model_dump_json())):
            assert kept(state.amendments[0].amended_on, amended_on)
            assert state.termination is not None
            assert kept(state.termination.terminated_on, terminated_on)


class TestSigningOrder:
    @SMALL
    @given(
        st.permutations((GRANADA, FIRA, FUND)),
        st.lists(st.none() | partial_dates(), min_size=3, max_size=3),
        days,
    )
    def test_what_a_mou_signed_by_all_says_does_not_depend_on_who_signed_first(
        self, order: list[Party], dates: list[PartialDate | None], today: date
    ) -> None:
        parties = (GRANADA, FIRA, FUND)
        on = {party.key: (d.iso() if d else None) for party, d in zip(parties, dates, strict=True)}

        def signed_in(sequence: tuple[Party, ...] | list[Party]) -> MoU:
            mou = a_mou(parties=parties)
            return applied(mou, [signed(party, on[party.key]) for party in sequence])

        one, other = signed_in(parties), signed_in(order)
        assert other.fully_signed
        assert (other.signed_on, other.in_force_from) == (one.signed_on, one.in_force_from)
        assert other.status_on(today) is one.status_on(today)
        if None in dates:
            assert other.signed_on is None
        else:
            known = [d for d in dates if d is not None]
            assert other.signed_on == latest(known)
            assert other.in_force_from == max(d.first_day for d in known)


class TestRefusedInput:
    @SMALL
    @given(st.lists(st.sampled_from(POOL + STRANGERS), max_size=4), validities())
    def test_a_refused_draft_names_fields_within_the_command(
        self,
        parties: list[Party],
        validity: tuple[PartialDate | None, PartialDate | None],
    ) -> None:
        command = drafted(parties=tuple(parties), valid_from=validity[0], valid_until=validity[1])
        try:
            assert domain.draft_mou(None, command, CITIES, ORGANISATIONS) == [command]
        except InvalidInputError as error:
            for problem in error.problems:
                assert resolves(command.model_dump(), problem.loc), problem.loc
            return
        assert set(parties) <= set(POOL)

    @SMALL
    @given(partial_dates(), partial_dates())
    def test_a_validity_ending_before_it_starts_is_refused_at_its_end(
        self, one: PartialDate, other: PartialDate
    ) -> None:
        valid_from, valid_until = sorted((one, other), key=lambda d: d.first_day, reverse=True)
        command = drafted(valid_from=valid_from, valid_until=valid_until)
        if valid_until.last_day < valid_from.first_day:
            with pytest.raises(InvalidInputError) as error:
                domain.draft_mou(None, command, CITIES)
            assert [p.loc for p in error.value.problems] == [["valid_until"]]
        elif valid_until >= valid_from:
            assert domain.draft_mou(None, command, CITIES) == [command]

    @WALKS
    @given(walks(), st.sampled_from(STRANGERS), days)
    def test_a_refused_party_names_fields_of_the_party_whatever_the_mou(
        self, walk: Walk, party: Party, today: date
    ) -> None:
        with pytest.raises(InvalidInputError) as error:
            domain.add_party(walk.state, party, CITIES, today, ORGANISATIONS)
        for problem in error.value.problems:
            assert resolves(party.model_dump(), problem.loc), problem.loc


def resolves(document: object, loc: list[str | int]) -> bool:
    """Whether ``loc`` is a path to a value in ``document`` (a command as JSON)."""
    for part in loc:
        if isinstance(part, str):
            if not (isinstance(document, dict) and part in document):
                return False
            document = document[part]
        else:
            if not (isinstance(document, list | tuple) and 0 <= part < len(document)):
                return False
            document = document[part]
    return True
