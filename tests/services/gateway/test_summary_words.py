"""How the summary words dates, ranges, figures and the expected results (pure functions)."""

import json
from pathlib import Path

import pytest

from ucap_gateway.chart_timeline import first_day, last_day
from ucap_gateway.summary import expected_results
from ucap_gateway.summary_text import date_range, figure

GRANADA = Path(__file__).resolve().parents[3] / "deploy" / "demo" / "granada.json"


@pytest.mark.parametrize(
    ("start", "end", "said"),
    [
        ("2019-06-09", None, "9 June 2019"),
        ("2019-06-09", "2019-06-15", "9–15 June 2019"),
        ("2019-06-28", "2019-07-02", "28 June – 2 July 2019"),
        ("2019-12-30", "2020-01-02", "30 December 2019 – 2 January 2020"),
        ("2019-06", "2019-08", "June–August 2019"),
        ("2018", "2019", "2018 – 2019"),
        ("2019-06", "2019-06", "June 2019"),
    ],
)
def test_a_range_says_once_what_its_ends_share(start: str, end: str | None, said: str) -> None:
    assert date_range(start, end) == said


def test_figures_drop_a_trailing_zero_and_group_thousands() -> None:
    assert [figure(v) for v in (4.0, 13.5, 2500000.0, 0.0)] == ["4", "13.5", "2 500 000", "0"]


def test_partial_dates_span_their_whole_month_or_year() -> None:
    assert (first_day("2020-02"), last_day("2020-02")) == (
        first_day("2020-02-01"),
        first_day("2020-02-29"),
    )
    assert last_day("2019").isoformat() == "2019-12-31"


def test_the_granada_expected_results_are_a_paragraph_then_lists_under_headings() -> None:
    written = json.loads(GRANADA.read_text())["ucaps"][0]["expected_results"]

    blocks = expected_results(written)

    assert blocks[0].heading == ""
    assert blocks[0].paragraphs[0].startswith("The activities carried out")
    assert [b.heading for b in blocks[1:]] == [
        "With all interested Chinese and European cities from the Circular Economy and "
        "Smart City clusters",
        "Kunming",
        "Liuzhou",
        "Haikou",
        "Zhengzhou",
    ]
    assert [len(b.items) for b in blocks[1:]] == [3, 6, 5, 1, 1]
    assert all(not b.paragraphs for b in blocks[1:])


def test_text_with_no_heading_or_list_stays_paragraphs() -> None:
    blocks = expected_results("One result.\nAnother result.")

    assert len(blocks) == 1
    assert blocks[0].paragraphs == ["One result.", "Another result."]
    assert blocks[0].items == []
