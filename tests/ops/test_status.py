"""`ucap status UCAP_ID` against a real system holding the Granada U-CAP."""

import json

import httpx
import pytest

from tests.support.stack import Stack, load_granada
from tests.support.ucap_command import ucap
from tests.support.waiting import polled


@pytest.fixture(scope="module")
def granada(stack: Stack) -> Stack:
    load_granada(stack.url, stack.env)
    # The reporting service learns of the pilots through Kafka: wait until it shows them.
    url = f"{stack.url}/ucaps/granada-ucap/status?format=md"
    page = polled(
        lambda: httpx.get(url, headers=stack.headers, timeout=30).text,
        lambda text: "BlockLab" in text,
        timeout=60,
        interval=0.5,
    )
    assert "BlockLab" in page, "the pilots never reached the status"
    return stack


def status(stack: Stack, *args: str) -> tuple[int, str, str]:
    result = ucap("status", *args, "--gateway", stack.url, env=stack.env)
    return result.returncode, result.stdout, result.stderr


class TestStatus:
    def test_markdown_by_default_with_the_summarys_facts(self, granada: Stack) -> None:
        code, text, _ = status(granada, "granada-ucap")

        assert code == 0
        assert text.startswith("## IUC Urban Cooperation Action Plan (U-CAP) Summary")
        for fact in ("Andalusia", "236 000", "June 2018 – November 2020", "Zhengzhou"):
            assert fact in text
        assert "BlockLab online cooperative work platform" in text

    def test_json_is_the_compiled_status(self, granada: Stack) -> None:
        code, text, _ = status(granada, "granada-ucap", "--format", "json")

        compiled = json.loads(text)
        assert code == 0
        assert compiled["ucap_id"] == "granada-ucap"
        assert compiled["as_of"] is None
        assert all(part["available"] for part in compiled["parts"].values())

    def test_as_of_gives_the_status_at_the_end_of_that_day(self, granada: Stack) -> None:
        _, today, _ = status(granada, "granada-ucap", "--format", "json")
        code, then, _ = status(granada, "granada-ucap", "--format", "json", "--as-of", "2019-01-01")

        assert code == 0
        assert json.loads(then)["as_of"] == "2019-01-01"
        assert json.loads(then)["status"] != json.loads(today)["status"]

    def test_an_unknown_ucap_is_one_clear_line_and_exit_1(self, granada: Stack) -> None:
        code, text, error = status(granada, "no-such-ucap")

        assert code == 1
        assert text == ""
        assert error.strip() == "error: no U-CAP 'no-such-ucap'"

    def test_a_date_that_is_no_day_is_a_usage_error(self, granada: Stack) -> None:
        code, _, error = status(granada, "granada-ucap", "--as-of", "2019-02-30")

        assert code == 2
        assert "--as-of" in error

    def test_without_a_key_it_says_so(self, granada: Stack) -> None:
        env = {name: value for name, value in granada.env.items() if name != "UCAP_API_KEY"}

        result = ucap("status", "granada-ucap", "--gateway", granada.url, env=env)

        assert result.returncode == 1
        assert result.stderr.strip() == "error: no API key: pass --key or set UCAP_API_KEY"
