"""Dates known to the day, the month or only the year ("July 2018").

On the wire and in MongoDB a partial date is an ISO-style string at its own
precision: ``"2018"``, ``"2018-07"`` or ``"2018-07-15"``. Those strings sort
correctly against each other, so a plain sort on the field orders them.
"""

import calendar
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import total_ordering
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
MONTHS |= {name.lower(): number for number, name in enumerate(calendar.month_abbr) if name}
ISO_PATTERN = r"^\d{4}(-\d{2}(-\d{2})?)?$"
_ISO = re.compile(ISO_PATTERN)
_WORDS = re.compile(r"^(?:(\d{1,2})\s+)?([A-Za-z]+)\.?\s+(\d{4})$")


def days_after(day: date, days: int) -> date:
    """``day`` moved by ``days`` (back when negative), held at the calendar's ends.

    Total where ``day + timedelta(days)`` overflows: a status asked for 9999-12-31 (or a
    U-CAP dated in year 1) compares its dates with the calendar's last (or first) day.
    """
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def utc_moment(moment: datetime) -> datetime:
    """``moment`` in UTC (naive: taken as UTC); ValueError when UTC has no such time.

    ``0001-01-01T00:00+05:00`` is a moment of year 0 in UTC, which no ``datetime`` holds.
    """
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError as error:
        raise ValueError(f"{moment.isoformat()} is outside the calendar in UTC") from error


class Precision(StrEnum):
    YEAR = "year"
    MONTH = "month"
    DAY = "day"


@total_ordering
class PartialDate:
    """A date at day, month or year precision; compares by its ISO form.

    Years have four digits (1 to 9999), so the ISO forms order as ``(year, month or 0,
    day or 0)`` does: that tuple is what it compares, and its ISO form is made once.
    """

    __slots__ = ("_iso", "_order", "day", "month", "year")

    def __init__(self, year: int, month: int | None = None, day: int | None = None) -> None:
        if day is not None and month is None:
            raise ValueError("a day needs a month")
        date(year, month or 1, day or 1)  # raises ValueError for an impossible date
        self.year, self.month, self.day = year, month, day
        self._order = (year, month or 0, day or 0)
        self._iso: str | None = None

    @classmethod
    def parse(cls, text: str) -> "PartialDate":
        """``2018``, ``2018-07``, ``2018-07-15``, ``July 2018`` or ``15 July 2018``."""
        text = text.strip()
        if _ISO.match(text):
            parts = [int(part) for part in text.split("-")]
            return cls(*parts)
        match = _WORDS.match(text)
        if match and match.group(2).lower() in MONTHS:
            day = int(match.group(1)) if match.group(1) else None
            return cls(int(match.group(3)), MONTHS[match.group(2).lower()], day)
        raise ValueError(f"{text!r} is not a date like 2018, 2018-07, 2018-07-15 or July 2018")

    @classmethod
    def of(cls, value: date) -> "PartialDate":
        return cls(value.year, value.month, value.day)

    @property
    def precision(self) -> Precision:
        if self.day is not None:
            return Precision.DAY
        return Precision.MONTH if self.month is not None else Precision.YEAR

    @property
    def first_day(self) -> date:
        return date(self.year, self.month or 1, self.day or 1)

    @property
    def last_day(self) -> date:
        """The last day the date may mean: a month's last day, a year's 31 December."""
        if self.day is not None and self.month is not None:
            return date(self.year, self.month, self.day)
        month = self.month or 12
        return date(self.year, month, calendar.monthrange(self.year, month)[1])

    def iso(self) -> str:
        if self._iso is None:
            self._iso = self._formatted()
        return self._iso

    def _formatted(self) -> str:
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    def render(self) -> str:
        """As a person writes it: ``2018``, ``July 2018``, ``3 September 2018``."""
        if self.month is None:
            return str(self.year)
        month = calendar.month_name[self.month]
        return f"{month} {self.year}" if self.day is None else f"{self.day} {month} {self.year}"

    def __str__(self) -> str:
        return self.iso()

    def __repr__(self) -> str:
        return f"PartialDate({self.iso()!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PartialDate) and self._order == other._order

    def __lt__(self, other: "PartialDate") -> bool:
        return self._order < other._order

    def __ge__(self, other: "PartialDate") -> bool:
        return self._order >= other._order

    def __hash__(self) -> int:
        return hash(self._order)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def validate(value: object) -> "PartialDate":
            if isinstance(value, PartialDate):
                return value
            if isinstance(value, date):
                return cls.of(value)
            if isinstance(value, str):
                return cls.parse(value)
            raise ValueError("a partial date is a string like 2018-07")

        return core_schema.no_info_plain_validator_function(
            validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda value: value.iso(), when_used="always"
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "string",
            "pattern": ISO_PATTERN,
            "description": "A date at year, month or day precision: 2018, 2018-07 or 2018-07-15",
            "examples": ["2018-07", "2020", "2018-09-03"],
        }


def latest(dates: Iterable[PartialDate]) -> PartialDate:
    """The latest of ``dates`` as a reader takes them: by the last day each may mean, then
    by the first. So "2018" is later than "2018-03" (it may mean December), and "2018-12"
    later than "2018" (both may mean 31 December; only "2018-12" rules out January)."""
    return max(dates, key=lambda each: (each.last_day, each.first_day))


def today() -> date:
    """Today in UTC: the day time-relative facts (overdue, stale, expired) are judged on."""
    return datetime.now(UTC).date()


def first_day_of_all(dates: Iterable[PartialDate]) -> date:
    """The first day on which every one of ``dates`` has begun: the latest first day.
    "2018" and "2018-03" give 1 March 2018 (when an MoU signed on both may be in force)."""
    return max(each.first_day for each in dates)
