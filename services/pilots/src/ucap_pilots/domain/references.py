"""What a pilot refers to, checked: its SDG targets, partner cities, MoUs and U-CAP.

Each check returns every problem it finds, at its place in the request (``loc``),
so a command reports them all at once. What exists (cities, MoUs, a U-CAP's
cities) is what this service knows from the other services' events, passed in.
"""

from collections.abc import Iterable, Set

from ucap_pilots.events import PartnerCity, Role
from ucap_shared.problems import FieldProblem

Loc = list[str | int]


def sdg_problems(goals: Iterable[int], targets: Iterable[str], loc: Loc) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    goal_set = set(goals)
    for index, target in enumerate(targets):
        goal = int(target.split(".")[0])
        if goal not in goal_set:
            problems.append(
                FieldProblem(
                    loc=[*loc, "sdg_targets", index],
                    msg=f"target {target} belongs to SDG {goal}, which is not in sdg_goals",
                )
            )
    return problems


def partner_problems(
    lead_city_id: str, partners: Iterable[PartnerCity], known_cities: Set[str], loc: Loc
) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    seen: set[str] = set()
    leads = 0
    for index, partner in enumerate(partners):
        here: Loc = [*loc, "partners", index]
        if partner.city_id in seen:
            problems.append(FieldProblem(loc=[*here, "city_id"], msg="city listed twice"))
        seen.add(partner.city_id)
        if partner.role is Role.LEAD:
            leads += 1
            if partner.city_id != lead_city_id:
                problems.append(
                    FieldProblem(
                        loc=[*here, "role"], msg=f"only the lead city {lead_city_id} is lead"
                    )
                )
        if partner.city_id not in known_cities and partner.city_id != lead_city_id:
            problems.append(
                FieldProblem(loc=[*here, "city_id"], msg=f"unknown city {partner.city_id}")
            )
    if lead_city_id not in seen or leads == 0:
        problems.append(
            FieldProblem(
                loc=[*loc, "partners"], msg=f"the lead city {lead_city_id} must be listed as lead"
            )
        )
    return problems


def mou_problems(mou_ids: Iterable[str], known_mous: Set[str], loc: Loc) -> list[FieldProblem]:
    return [
        FieldProblem(loc=[*loc, "mou_ids", index], msg=f"unknown MoU {mou_id}")
        for index, mou_id in enumerate(mou_ids)
        if mou_id not in known_mous
    ]


UcapCities = Set[str] | None
"""The lead and counterpart cities of a U-CAP as this service knows it; None: unknown."""


def ucap_problems(
    ucap_id: str | None, lead_city_id: str, cities: UcapCities, loc: Loc
) -> list[FieldProblem]:
    """A pilot names only a U-CAP its lead city takes part in (as lead or counterpart)."""
    if ucap_id is None:
        return []
    here: Loc = [*loc, "ucap_id"]
    if cities is None:
        return [
            FieldProblem(
                loc=here,
                msg=f"unknown U-CAP {ucap_id}: the pilots service learns U-CAPs from "
                "reporting's events, so one created a moment ago may not be known yet; retry",
            )
        ]
    if lead_city_id not in cities:
        return [
            FieldProblem(
                loc=here,
                msg=f"{lead_city_id} is neither the lead nor a counterpart city of U-CAP "
                f"{ucap_id}: a pilot names only a U-CAP its lead city takes part in",
            )
        ]
    return []


def with_lead(lead_city_id: str, partners: Iterable[PartnerCity]) -> tuple[PartnerCity, ...]:
    """The partners, and the lead city last as ``lead`` when the caller left it out.

    Last, so the positions of the caller's own entries stay those of its request.
    """
    listed = tuple(partners)
    if any(partner.city_id == lead_city_id for partner in listed):
        return listed
    return (*listed, PartnerCity(city_id=lead_city_id, role=Role.LEAD))
