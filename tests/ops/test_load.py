"""`ucap load FILE` through a real gateway and services: creates, then skips everything;
reports what a service refuses and why; names the place of a malformed file."""

import json
import os
import re
import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.ops.conftest import listed
from tests.support.keys import create_key
from tests.support.processes import REPO_ROOT
from tests.support.stack import Stack
from tests.support.ucap_command import GRANADA, ucap, ucap_here
from ucap_ops.datafile import read_data_file
from ucap_ops.loading.runner import count_items

DATA: dict[str, Any] = json.loads(GRANADA.read_text(encoding="utf-8"))


def load(stack: Stack, file: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    """``ucap load FILE --json``: its exit code, JSON summary and stderr."""
    result = ucap("load", str(file), "--gateway", stack.url, "--json", *args, env=stack.env)
    summary = json.loads(result.stdout) if result.stdout.strip() else {}
    return result.returncode, summary, result.stderr


def counts(stack: Stack, suffix: str) -> dict[str, int]:
    """How many of Granada's cities, MoUs, pilots, U-CAPs and activities the gateway lists."""
    ucap_id = f"granada-ucap-{suffix}"
    ucaps = listed(stack, "/ucaps", city=f"granada-{suffix}")
    return {
        "cities": len([c for c in listed(stack, "/cities") if c["id"].endswith(f"-{suffix}")]),
        "mous": len(listed(stack, "/mous", city=f"granada-{suffix}")),
        "pilots": len(listed(stack, "/pilots", ucap=ucap_id)),
        "ucaps": len(ucaps),
        "activities": sum(len(u["activities"]) for u in ucaps),
    }


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    file = tmp_path / f"data-{uuid.uuid4().hex[:6]}.json"
    file.write_text(json.dumps(data), encoding="utf-8")
    return file


class TestLoadingGranada:
    def test_creates_everything_once_and_a_second_load_skips_everything(self, stack: Stack) -> None:
        suffix = uuid.uuid4().hex[:8]
        items = count_items(read_data_file(GRANADA))

        first_code, first, _ = load(stack, GRANADA, "--suffix", suffix)
        after_first = counts(stack, suffix)
        second_code, second, _ = load(stack, GRANADA, "--suffix", suffix)
        after_second = counts(stack, suffix)
        webinars_end_of_2019 = httpx.get(
            f"{stack.url}/pilots/granada-{suffix}-blockchain-webinars",
            params={"as_of": "2019-12-31"},
            headers=stack.headers,
        )

        assert first_code == 0, first
        assert first["totals"] == {"created": items, "updated": 0, "skipped": 0, "refused": 0}
        assert first["dated"] is True
        assert second_code == 0, second
        assert second["totals"] == {"created": 0, "updated": 0, "skipped": items, "refused": 0}
        expected = {"cities": 5, "mous": 4, "pilots": 13, "ucaps": 1, "activities": 11}
        assert after_first == after_second == expected
        # Dated in the cooperation's timeline: approved with its award in September 2019.
        assert webinars_end_of_2019.status_code == 200, webinars_end_of_2019.text
        assert webinars_end_of_2019.json()["status"] == "approved"

    def test_the_table_counts_each_kind_of_item(self, stack: Stack, tmp_path: Path) -> None:
        suffix = uuid.uuid4().hex[:8]
        file = write(tmp_path, {**DATA, "mous": [], "pilots": [], "ucaps": []})

        result = ucap("load", str(file), "--gateway", stack.url, "--suffix", suffix, env=stack.env)

        assert result.returncode == 0, result.stderr
        rows = [line for line in result.stdout.splitlines() if "city" in line or "total" in line]
        assert [[cell for cell in row.split() if cell not in "│┃"] for row in rows] == [
            ["city", "5", "0", "0", "0"],
            ["total", "5", "0", "0", "0"],
        ]
        assert "5/5" in result.stderr


class TestRefusedEntries:
    def test_a_refused_entry_is_reported_with_the_services_reason_and_exit_1(
        self, stack: Stack, tmp_path: Path
    ) -> None:
        suffix = uuid.uuid4().hex[:8]
        granada = next(city for city in DATA["cities"] if city["id"] == "granada")
        pilot = {"title": "A pilot", "lead_city_id": "granada"}
        data = {
            "format": "ucap-data",
            "version": 2,
            "cities": [granada],
            "pilots": [
                {**pilot, "id": "somewhere-else-pilot"},
                {**pilot, "id": "granada-good-pilot"},
            ],
        }
        file = write(tmp_path, data)

        code, summary, _ = load(stack, file, "--suffix", suffix)
        again = ucap("load", str(file), "--gateway", stack.url, "--suffix", suffix, env=stack.env)

        assert code == 1
        (refused,) = summary["refused"]
        assert (refused["kind"], refused["id"], refused["status"]) == (
            "pilot",
            f"somewhere-else-pilot-{suffix}",
            422,
        )
        assert "starts with its lead city" in refused["detail"]
        outcomes = {(item["kind"], item["id"]): item["outcome"] for item in summary["items"]}
        assert outcomes[("pilot", f"granada-{suffix}-good-pilot")] == "created"
        assert again.returncode == 1
        assert f"refused pilot somewhere-else-pilot-{suffix}: 422 " in again.stdout

    def test_a_key_the_gateway_does_not_know_stops_the_load(
        self, stack: Stack, tmp_path: Path
    ) -> None:
        result = ucap(
            "load", str(GRANADA), "--gateway", stack.url, "--key", "ucap_000000000000_" + "x" * 43,
            env=stack.env,
        )  # fmt: skip

        assert result.returncode == 1
        assert result.stderr.strip() == (
            "error: the key of --key is refused: unknown or revoked API key"
        )


class TestCredentialsFile:
    def test_each_city_writes_its_own_data_with_its_own_key(
        self, stack: Stack, tmp_path: Path
    ) -> None:
        suffix = uuid.uuid4().hex[:8]
        cities = ("granada", "zhengzhou")
        keys = {
            f"city:{city}-{suffix}": create_key(
                stack.env, principal=f"city:{city}-{suffix}", roles=["publisher"]
            )
            for city in cities
        }
        credentials = tmp_path / "credentials.json"
        credentials.write_text(
            json.dumps(
                {
                    "gateway": stack.url,
                    "keys": {
                        name: {"key_id": k["key_id"], "key": k["key"], "roles": k["roles"]}
                        for name, k in keys.items()
                    },
                }
            )
        )
        data = {
            **DATA,
            "cities": [city for city in DATA["cities"] if city["id"] in cities],
            "mous": [mou for mou in DATA["mous"] if mou["id"] == "granada-zhengzhou-2018"],
            "pilots": [],
            "ucaps": [],
        }
        file = write(tmp_path, data)
        # The stack's admin key stays in UCAP_API_KEY: --credentials wins over it.
        result = ucap(
            "load", str(file), "--credentials", str(credentials), "--suffix", suffix, "--json",
            env=stack.env,
        )  # fmt: skip
        mou = f"granada-zhengzhou-2018-{suffix}"
        history = httpx.get(f"{stack.url}/mous/{mou}/history", headers=stack.headers).json()
        city = httpx.get(f"{stack.url}/cities/zhengzhou-{suffix}/history", headers=stack.headers)

        assert result.returncode == 0, result.stdout + result.stderr
        summary = json.loads(result.stdout)
        assert summary["dated"] is False
        assert summary["totals"]["created"] == 2 + 1 + 2
        assert [(entry["type"].split(".")[2], entry["actor"]) for entry in history] == [
            ("drafted", f"city:granada-{suffix}"),
            ("signed", f"city:granada-{suffix}"),
            ("signed", f"city:zhengzhou-{suffix}"),
        ]
        assert {entry["actor"] for entry in city.json()} == {f"city:zhengzhou-{suffix}"}

    def test_key_and_credentials_together_are_refused(self, stack: Stack, tmp_path: Path) -> None:
        result = ucap(
            "load", str(GRANADA), "--key", "k", "--credentials", str(tmp_path / "c.json"),
            env=stack.env,
        )  # fmt: skip

        assert result.returncode == 1
        assert result.stderr.strip() == "error: give --key or --credentials, not both"


class TestMalformedFiles:
    def run(self, tmp_path: Path, text: str) -> tuple[int, str]:
        file = tmp_path / "bad.json"
        file.write_text(text, encoding="utf-8")
        result = ucap_here("load", str(file), "--key", "unused", env=_env_without_key())
        assert "Traceback" not in result.stderr
        return result.returncode, result.stderr.strip()

    def test_a_wrong_field_is_named_by_its_place_and_entry(self, tmp_path: Path) -> None:
        pilot = {"id": "granada-x", "title": "X", "lead_city_id": "granada", "sdg_goals": ["nine"]}
        text = json.dumps({"format": "ucap-data", "version": 1, "pilots": [pilot]})

        code, error = self.run(tmp_path, text)

        assert code == 1
        assert error == (
            f"error: {tmp_path / 'bad.json'}: pilots[0] (granada-x).sdg_goals[0]: "
            "Input should be a valid integer, unable to parse string as an integer"
        )

    def test_a_missing_field_and_an_unknown_one_are_named(self, tmp_path: Path) -> None:
        city = {"id": "granada", "name": "Granada", "country": "ES", "colour": "red"}
        text = json.dumps({"format": "ucap-data", "version": 1, "cities": [city]})

        code, error = self.run(tmp_path, text)

        assert code == 1
        assert "cities[0] (granada).world_region: Field required" in error
        assert "cities[0] (granada).colour: Extra inputs are not permitted" in error

    def test_text_that_is_not_json_is_named_with_its_line(self, tmp_path: Path) -> None:
        code, error = self.run(tmp_path, '{"format": "ucap-data",\n  "version": 1,,\n}')

        assert code == 1
        assert "not JSON" in error
        assert "line 2" in error

    def test_a_file_without_the_format_marker_is_not_taken(self, tmp_path: Path) -> None:
        code, error = self.run(tmp_path, json.dumps({"cities": []}))

        assert code == 1
        assert error.endswith('not a U-CAP data file (expected "format": "ucap-data")')

    def test_a_later_version_is_named(self, tmp_path: Path) -> None:
        code, error = self.run(tmp_path, json.dumps({"format": "ucap-data", "version": 3}))

        assert code == 1
        assert error.endswith("version 3 is not one this ucap reads (1 or 2)")

    def test_a_missing_file_is_one_line(self, tmp_path: Path) -> None:
        result = ucap_here(
            "load", str(tmp_path / "nowhere.json"), "--key", "k", env=_env_without_key()
        )

        assert result.returncode == 1
        assert result.stderr.strip().startswith("error: cannot read")


def _env_without_key() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name != "UCAP_API_KEY"}


class TestTheReadmeExample:
    def test_loads_completely_then_is_up_to_date(self, stack: Stack, tmp_path: Path) -> None:
        readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
        example = re.search(r"```json\n(\{\n  \"format\": \"ucap-data\".*?)\n```", readme, re.S)
        assert example is not None, "the README shows a data file"
        file = tmp_path / "example.json"
        file.write_text(example.group(1), encoding="utf-8")
        suffix = uuid.uuid4().hex[:8]

        first_code, first, _ = load(stack, file, "--suffix", suffix)
        second_code, second, _ = load(stack, file, "--suffix", suffix)
        pilot = httpx.get(
            f"{stack.url}/pilots/granada-{suffix}-blockchain-webinars", headers=stack.headers
        ).json()

        assert first_code == 0, first["refused"]
        assert first["totals"]["created"] == len(first["items"])
        assert second_code == 0, second["refused"]
        assert second["totals"]["skipped"] == len(second["items"])
        assert pilot["milestones"][0]["completed_on"] == "2020-07"
        assert pilot["indicators"][0]["latest"]["value"] == 120
        assert [update["summary"] for update in pilot["updates"]] == ["First webinar held"]
