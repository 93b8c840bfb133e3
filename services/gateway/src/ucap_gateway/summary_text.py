"""Words for the summary's facts: dates as they were given, SDGs with their names, cities
with their native names and kinds, figures with their units."""

import calendar

from ucap_gateway.reported import City, Measure

EN_DASH = "–"
ARROW = "→"

SDG_NAMES = {
    1: "No Poverty",
    2: "Zero Hunger",
    3: "Good Health and Well-Being",
    4: "Quality Education",
    5: "Gender Equality",
    6: "Clean Water and Sanitation",
    7: "Affordable and Clean Energy",
    8: "Decent Work and Economic Growth",
    9: "Industry, Innovation and Infrastructure",
    10: "Reduced Inequalities",
    11: "Sustainable Cities and Communities",
    12: "Responsible Consumption and Production",
    13: "Climate Action",
    14: "Life Below Water",
    15: "Life on Land",
    16: "Peace, Justice and Strong Institutions",
    17: "Partnerships for the Goals",
}
ORDINALS = [
    "",
    "First",
    "Second",
    "Third",
    "Fourth",
    "Fifth",
    "Sixth",
    "Seventh",
    "Eighth",
    "Ninth",
    "Tenth",
    "Eleventh",
    "Twelfth",
]


def words(code: str | None) -> str:
    """``in_progress`` -> ``in progress``; ``combined_authority`` -> ``combined authority``."""
    return (code or "").replace("_", " ")


def as_given(value: str | None) -> str:
    """``2018-07`` -> ``July 2018``; ``2020`` stays; ``2018-09-03`` -> ``3 September 2018``."""
    if not value:
        return ""
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 1:
        return str(parts[0])
    month = calendar.month_name[parts[1]]
    return f"{month} {parts[0]}" if len(parts) == 2 else f"{parts[2]} {month} {parts[0]}"


def date_range(start: str, end: str | None) -> str:
    """``2019-06-09`` to ``2019-06-15`` -> ``9-15 June 2019`` (with an en dash): what the
    two dates share is said once."""
    if not end or end == start:
        return as_given(start)
    first, last = start.split("-"), end.split("-")
    if len(first) == len(last) == 3 and first[:2] == last[:2]:
        return f"{int(first[2])}{EN_DASH}{as_given(end)}"
    if len(first) == len(last) == 3 and first[0] == last[0]:
        month = calendar.month_name[int(first[1])]
        return f"{int(first[2])} {month} {EN_DASH} {as_given(end)}"
    if len(first) == len(last) == 2 and first[0] == last[0]:
        return f"{calendar.month_name[int(first[1])]}{EN_DASH}{as_given(end)}"
    return f"{as_given(start)} {EN_DASH} {as_given(end)}"


def sdg(number: int) -> str:
    name = SDG_NAMES.get(number)
    return f"SDG {number}: {name}" if name else f"SDG {number}"


def city_name(profile: City) -> str:
    """The city's name, its native name beside it when it differs, its kind when not a city:
    ``Haikou 海口``, ``West Midlands (combined authority)``."""
    name = profile.name or profile.city_id
    native_name = profile.native_name
    native = f" {native_name}" if native_name and native_name != name else ""
    kind = f" ({words(profile.kind)})" if profile.kind and profile.kind != "city" else ""
    return f"{name}{native}{kind}"


def figure(value: float) -> str:
    """A measured value without a trailing ``.0``, with a thin thousands space."""
    return f"{value:,.10g}".replace(",", " ") if abs(value) >= 1000 else f"{value:.10g}"


def measure(found: Measure | None, unit: str | None) -> str:
    if found is None:
        return "not set"
    with_unit = f"{figure(found.value)} {unit}" if unit else figure(found.value)
    return f"{with_unit} ({as_given(found.on)})"
