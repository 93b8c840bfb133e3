from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from ucap_shared.dates import PartialDate, Precision, first_day_of_all, latest


class Dated(BaseModel):
    when: PartialDate


def at_precision(day: date, precision: Precision) -> PartialDate:
    if precision is Precision.YEAR:
        return PartialDate(day.year)
    if precision is Precision.MONTH:
        return PartialDate(day.year, day.month)
    return PartialDate.of(day)


class TestPartialDate:
    @pytest.mark.parametrize(
        ("text", "iso", "precision", "rendered"),
        [
            ("July 2018", "2018-07", Precision.MONTH, "July 2018"),
            ("2018-07", "2018-07", Precision.MONTH, "July 2018"),
            ("2020", "2020", Precision.YEAR, "2020"),
            ("2018-09-03", "2018-09-03", Precision.DAY, "3 September 2018"),
            ("3 Sep 2018", "2018-09-03", Precision.DAY, "3 September 2018"),
        ],
    )
    def test_keeps_its_precision_and_renders_as_given(
        self, text: str, iso: str, precision: Precision, rendered: str
    ) -> None:
        parsed = PartialDate.parse(text)
        assert parsed.iso() == iso
        assert parsed.precision is precision
        assert parsed.render() == rendered

    def test_month_precision_sorts_before_a_later_day(self) -> None:
        dates = [PartialDate.parse(t) for t in ("2018-09-03", "July 2018", "2018", "2019-01")]
        assert [d.iso() for d in sorted(dates)] == ["2018", "2018-07", "2018-09-03", "2019-01"]
        assert sorted(d.iso() for d in dates) == [d.iso() for d in sorted(dates)]

    @given(st.lists(st.tuples(st.dates(), st.sampled_from(Precision)), min_size=2, max_size=6))
    def test_orders_and_equals_as_its_iso_form_does(
        self, days: list[tuple[date, Precision]]
    ) -> None:
        dates = [at_precision(day, precision) for day, precision in days]
        for one in dates:
            for other in dates:
                assert (one < other) == (one.iso() < other.iso())
                assert (one >= other) == (one.iso() >= other.iso())
                assert (one == other) == (one.iso() == other.iso())
                assert (one == other) <= (hash(one) == hash(other))

    def test_round_trips_through_json_at_its_precision(self) -> None:
        model = Dated.model_validate_json('{"when": "July 2018"}')
        assert model.model_dump_json() == '{"when":"2018-07"}'
        assert Dated.model_validate_json(model.model_dump_json()) == model

    def test_the_last_day_of_a_month_or_year(self) -> None:
        assert PartialDate.parse("2020-02").last_day.isoformat() == "2020-02-29"
        assert PartialDate.parse("2019").last_day.isoformat() == "2019-12-31"

    @pytest.mark.parametrize("bad", ["2018-13", "Smarch 2018", "2018-02-30", "", "18-07"])
    def test_refuses_what_is_not_a_date(self, bad: str) -> None:
        with pytest.raises(ValidationError):
            Dated(when=bad)  # type: ignore[arg-type]


class TestTheLatestOfPartialDates:
    @pytest.mark.parametrize(
        ("dates", "expected"),
        [
            (["2018", "2018-03"], "2018"),
            (["2018-03", "2018"], "2018"),
            (["2018", "2018-12"], "2018-12"),
            (["2018-12-31", "2018"], "2018-12-31"),
            (["2018-05-10", "2018-03"], "2018-05-10"),
            (["2018", "2019-01"], "2019-01"),
        ],
    )
    def test_is_the_one_that_may_mean_the_last_day(self, dates: list[str], expected: str) -> None:
        assert latest(PartialDate.parse(each) for each in dates) == PartialDate.parse(expected)


class TestTheFirstDayOfAllPartialDates:
    @pytest.mark.parametrize(
        ("dates", "expected"),
        [
            (["2018", "2018-03"], date(2018, 3, 1)),
            (["2018-03", "2018"], date(2018, 3, 1)),
            (["2018-12-31", "2018"], date(2018, 12, 31)),
            (["2017-05-10", "2018"], date(2018, 1, 1)),
            (["2019"], date(2019, 1, 1)),
        ],
    )
    def test_is_the_latest_first_day(self, dates: list[str], expected: date) -> None:
        assert first_day_of_all(PartialDate.parse(each) for each in dates) == expected
