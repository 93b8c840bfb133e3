"""Every city, organisation, MoU, pilot and U-CAP id of a data file made unique with a
suffix, so the same data can be loaded next to other data (as tests do): ``granada``
becomes ``granada-<suffix>``, a pilot ``granada-blocklab`` becomes
``granada-<suffix>-blocklab`` (a pilot's id starts with its lead city's). A city's
stakeholders keep their ids (they are unique within the city). References are renamed
alike, also to what the file does not define itself, so one section of a file loads on
its own."""

import re
from typing import TypeVar

from ucap_ops.datafile import DataFile, Mou, Pilot, Ucap
from ucap_ops.datafile.models import PartyName

Named = TypeVar("Named", bound=PartyName)
SUFFIX_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def with_suffix(data: DataFile, suffix: str) -> DataFile:
    if not suffix:
        return data
    if not SUFFIX_PATTERN.match(suffix):
        raise ValueError(f"suffix {suffix!r}: lowercase letters, digits and single dashes only")
    renamed = _Renames(data, suffix)
    return data.model_copy(
        update={
            "cities": [c.model_copy(update={"id": renamed.city(c.id)}) for c in data.cities],
            "organisations": [
                o.model_copy(update={"organisation_id": f"{o.organisation_id}-{suffix}"})
                for o in data.organisations
            ],
            "mous": [renamed.in_mou(mou) for mou in data.mous],
            "pilots": [renamed.in_pilot(pilot) for pilot in data.pilots],
            "ucaps": [renamed.in_ucap(ucap) for ucap in data.ucaps],
        }
    )


class _Renames:
    def __init__(self, data: DataFile, suffix: str) -> None:
        self._suffix = suffix
        self._pilots = {pilot.id: self._pilot_id(pilot, suffix) for pilot in data.pilots}

    @staticmethod
    def _pilot_id(pilot: Pilot, suffix: str) -> str:
        lead = f"{pilot.lead_city_id}-"
        if pilot.id.startswith(lead):
            return f"{lead}{suffix}-{pilot.id.removeprefix(lead)}"
        return f"{pilot.id}-{suffix}"

    def city(self, city_id: str) -> str:
        return f"{city_id}-{self._suffix}"

    def cities(self, city_ids: list[str]) -> list[str]:
        return [self.city(city_id) for city_id in city_ids]

    def mou(self, mou_id: str) -> str:
        return f"{mou_id}-{self._suffix}"

    def mous(self, mou_ids: list[str]) -> list[str]:
        return [self.mou(mou_id) for mou_id in mou_ids]

    def pilots(self, pilot_ids: list[str]) -> list[str]:
        return [self._pilots.get(p, f"{p}-{self._suffix}") for p in pilot_ids]

    def ucap(self, ucap_id: str) -> str:
        return f"{ucap_id}-{self._suffix}"

    def party(self, named: Named) -> Named:
        """A city's stakeholder keeps its id; an organisation with no city is renamed."""
        if named.city_id is not None:
            return named.model_copy(update={"city_id": self.city(named.city_id)})
        return named.model_copy(
            update={"organisation_id": f"{named.organisation_id}-{self._suffix}"}
        )

    def in_mou(self, mou: Mou) -> Mou:
        return mou.model_copy(
            update={
                "id": self.mou(mou.id),
                "parties": [self.party(p) for p in mou.parties],
                "signatures": [self.party(s) for s in mou.signatures],
            }
        )

    def in_pilot(self, pilot: Pilot) -> Pilot:
        return pilot.model_copy(
            update={
                "id": self._pilots[pilot.id],
                "lead_city_id": self.city(pilot.lead_city_id),
                "partners": [
                    p.model_copy(update={"city_id": self.city(p.city_id)}) for p in pilot.partners
                ],
                "mou_ids": self.mous(pilot.mou_ids),
                "ucap_id": self.ucap(pilot.ucap_id) if pilot.ucap_id else None,
                "progress": [
                    update.model_copy(
                        update={
                            "reporting_city_id": self.city(update.reporting_city_id),
                            "idempotency_key": f"{update.idempotency_key}-{self._pilots[pilot.id]}",
                        }
                    )
                    for update in pilot.progress
                ],
            }
        )

    def in_ucap(self, ucap: Ucap) -> Ucap:
        return ucap.model_copy(
            update={
                "id": self.ucap(ucap.id),
                "lead_city_id": self.city(ucap.lead_city_id),
                "counterpart_city_ids": self.cities(ucap.counterpart_city_ids),
                "activities": [
                    activity.model_copy(
                        update={
                            "city_ids": self.cities(activity.city_ids),
                            "mou_ids": self.mous(activity.mou_ids),
                            "pilot_ids": self.pilots(activity.pilot_ids),
                        }
                    )
                    for activity in ucap.activities
                ],
            }
        )
