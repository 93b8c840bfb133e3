"""Pilots, events and values to build the pilot aggregate's unit tests from (no I/O)."""

from collections.abc import Iterable
from datetime import UTC, datetime

from ucap_pilots import domain
from ucap_pilots.domain import Action, Pilot
from ucap_pilots.events import (
    FundingAward,
    Indicator,
    IndicatorValue,
    Measure,
    Milestone,
    PartnerCity,
    PilotEvent,
    PilotProposed,
    ProgressUpdate,
    Role,
)
from ucap_shared.dates import PartialDate

AT = datetime(2020, 1, 1, tzinfo=UTC)
LATER = datetime(2020, 2, 1, tzinfo=UTC)
CITIES = frozenset({"granada", "kunming", "nagpur"})
MOUS = frozenset({"granada-kunming-2019"})
UCAP_CITIES = frozenset({"granada", "kunming"})
PILOT_ID = "granada-blocklab"


def proposed(**fields: object) -> PilotProposed:
    values: dict[str, object] = {
        "pilot_id": PILOT_ID,
        "title": "BlockLab",
        "description": "A cooperative platform",
        "lead_city_id": "granada",
        "partners": (
            PartnerCity(city_id="granada", role=Role.LEAD),
            PartnerCity(city_id="kunming", role=Role.PARTNER),
        ),
        "stakeholder_ids": ("medialab-ugr",),
        "cluster": "Circular Economy",
        "themes": ("Smart City",),
        "sdg_goals": (9, 11),
        "sdg_targets": ("11.3",),
        "urban_agenda_themes": (),
        "mou_ids": (),
        "ucap_id": None,
        **fields,
    }
    return PilotProposed.model_validate(values)


def applied(state: Pilot | None, events: Iterable[PilotEvent], at: datetime = AT) -> Pilot:
    """``state`` after ``events``, all recorded at ``at``."""
    for event in events:
        state = domain.evolve(state, event, at)
    assert state is not None
    return state


def a_pilot(*actions: Action, **fields: object) -> Pilot:
    """A proposed pilot taken through ``actions``."""
    state = applied(None, [proposed(**fields)])
    for action in actions:
        state = applied(state, domain.change_status(state, action, None, None))
    return state


def closed_pilot() -> Pilot:
    return a_pilot(Action.CANCEL)


def milestone(milestone_id: str = "webinar-1", planned_on: str = "2020-07") -> Milestone:
    return Milestone(
        milestone_id=milestone_id, title="First webinar", planned_on=PartialDate.parse(planned_on)
    )


def award(award_id: str = "iuc-fund-2019") -> FundingAward:
    return FundingAward(
        award_id=award_id,
        funder="IUC competitive fund",
        category="gold",
        amount="50000.00",
        currency="EUR",
        awarded_on=PartialDate(2019, 9),
    )


def indicator(indicator_id: str = "participants") -> Indicator:
    return Indicator(
        indicator_id=indicator_id,
        name="Webinar participants",
        unit="people",
        baseline=Measure(value=0, on=PartialDate(2020, 6)),
        target=Measure(value=300, on=PartialDate(2020, 11)),
    )


def progress(
    key: str = "granada-2020-07-15",
    *,
    reported_on: PartialDate | None = None,
    city_id: str = "granada",
    values: Iterable[tuple[str, float]] = (),
    milestone_id: str | None = None,
) -> ProgressUpdate:
    return ProgressUpdate(
        update_id=domain.update_id_for(key),
        reported_on=reported_on or PartialDate(2020, 7, 15),
        reporting_city_id=city_id,
        summary="First webinar held",
        indicator_values=tuple(
            IndicatorValue(indicator_id=name, value=value) for name, value in values
        ),
        milestone_id=milestone_id,
        attachments=(),
    )
