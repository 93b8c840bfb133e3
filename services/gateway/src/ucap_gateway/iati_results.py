"""A pilot's indicators as an IATI ``result``: baseline, target and the actuals reported.

Each actual closes a period: the first starts on the baseline's date (else on the first
date the indicator names), each next the day after the one before; a target alone
makes one period that ends on the target's date. Each period carries the target.
"""

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ucap_gateway import iati_codes as codes
from ucap_gateway.iati_elements import decimal_text, narrative, sub
from ucap_shared.dates import PartialDate

Document = dict[str, Any]


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    actual: float | None


def add_results(activity: ET.Element, pilot: Document, language: str) -> None:

    indicators = pilot.get("indicators", [])
    if not indicators:
        return
    result = sub(activity, "result", type=codes.OUTPUT)
    narrative(sub(result, "title"), str(pilot["title"]), language)
    for indicator in indicators:
        unit = str(indicator.get("unit") or "")
        measure = codes.PERCENTAGE if unit.lower() in codes.PERCENT_UNITS else codes.UNIT
        element = sub(result, "indicator", measure=measure)
        narrative(sub(element, "title"), str(indicator["name"]), language)
        if unit:
            narrative(sub(element, "description"), f"Unit: {unit}", language)
        _baseline(element, indicator)
        target = indicator.get("target")
        for period in periods(indicator):
            _period(element, period, target)


def _baseline(indicator: ET.Element, found: Document) -> None:

    baseline = found.get("baseline")
    if baseline is None:
        return
    on = PartialDate.parse(baseline["on"]).first_day
    sub(
        indicator,
        "baseline",
        year=str(on.year),
        iso_date=on.isoformat(),
        value=decimal_text(baseline["value"]),
    )


def _period(indicator: ET.Element, period: Period, target: Document | None) -> None:

    element = sub(indicator, "period")
    sub(element, "period-start", iso_date=period.start.isoformat())
    sub(element, "period-end", iso_date=period.end.isoformat())
    if target is not None:
        sub(element, "target", value=decimal_text(target["value"]))
    if period.actual is not None:
        sub(element, "actual", value=decimal_text(period.actual))


def periods(indicator: Document) -> list[Period]:
    baseline, target = indicator.get("baseline"), indicator.get("target")
    actuals = sorted(
        indicator.get("actuals", []), key=lambda actual: PartialDate.parse(actual["on"])
    )
    named = [m["on"] for m in (baseline, target, *actuals) if m is not None]
    if not named:
        return []
    start = PartialDate.parse(baseline["on"] if baseline else min(named)).first_day
    found: list[Period] = []
    for actual in actuals:
        end = PartialDate.parse(actual["on"]).last_day
        found.append(Period(start=min(start, end), end=end, actual=float(actual["value"])))
        start = end + timedelta(days=1)
    if not actuals and target is not None:
        end = PartialDate.parse(target["on"]).last_day
        found.append(Period(start=min(start, end), end=end, actual=None))
    return found
