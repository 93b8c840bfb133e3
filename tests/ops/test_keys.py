"""`ucap keys create|list|revoke` against the gateway's real key store, and a real gateway
that honours what they did."""

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.processes import RunningService, free_port, run_service
from tests.support.ucap_command import ucap
from tests.support.waiting import KEY_TRUST_SECONDS, answer_once


@pytest.fixture(scope="module")
def keys_env(service_env: dict[str, str]) -> dict[str, str]:
    unique = uuid.uuid4().hex[:8]
    nowhere = f"http://127.0.0.1:{free_port()}"
    return {
        **service_env,
        "UCAP_GATEWAY_DATABASE": f"test_ops_keys_{unique}",
        "UCAP_GATEWAY_CONSUMER_GROUP": f"test-ops-keys-{unique}",
        # No service behind it: a request that gets past the key check answers 502.
        **{f"UCAP_GATEWAY_{name}_URL": nowhere for name in ("CITIES", "MOUS", "PILOTS")},
        "UCAP_GATEWAY_REPORTING_URL": nowhere,
    }


@pytest.fixture(scope="module")
def gateway(
    keys_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningService]:
    with run_service("gateway", keys_env, tmp_path_factory.mktemp("keys-logs")) as running:
        yield running


def status_with(gateway: RunningService, key: str) -> httpx.Response:
    return httpx.get(f"{gateway.url}/cities", headers={"X-API-Key": key}, timeout=10)


class TestCreateListRevoke:
    def test_a_created_key_opens_the_gateway_until_it_is_revoked(
        self, keys_env: dict[str, str], gateway: RunningService
    ) -> None:
        created = ucap(
            "keys", "create", "--city", "granada", "--role", "publisher", "--json", env=keys_env
        )
        new = json.loads(created.stdout)
        before = status_with(gateway, new["key"])

        revoked = ucap("keys", "revoke", new["key_id"], env=keys_env)
        after = answer_once(
            lambda: status_with(gateway, new["key"]),
            lambda answer: answer.status_code == 401,
            timeout=KEY_TRUST_SECONDS + 2,
        )
        listing = json.loads(ucap("keys", "list", "--json", env=keys_env).stdout)
        again = ucap("keys", "revoke", new["key_id"], env=keys_env)

        assert created.returncode == 0, created.stderr
        assert (new["principal"], new["roles"]) == ("city:granada", ["publisher"])
        assert new["key"].startswith(f"ucap_{new['key_id']}_")
        assert before.status_code != 401, before.text
        assert revoked.returncode == 0
        assert revoked.stdout.strip() == f"revoked {new['key_id']}"
        assert after.status_code == 401
        assert "revoked" in after.json()["detail"]
        (record,) = [r for r in listing if r["key_id"] == new["key_id"]]
        assert record["revoked_at"] is not None
        assert "key" not in record
        assert "hash" not in record
        assert again.returncode == 1
        assert again.stderr.strip() == f"error: no active key {new['key_id']}"

    def test_lists_each_key_with_its_holder_and_roles_in_text(
        self, keys_env: dict[str, str]
    ) -> None:
        created = ucap("keys", "create", "--principal", "iuc", "--role", "reader", env=keys_env)
        key_id = created.stdout.split()[2]

        listing = ucap("keys", "list", env=keys_env)

        assert created.returncode == 0, created.stderr
        assert created.stdout.splitlines()[1].startswith("key (shown once): ucap_")
        (line,) = [line for line in listing.stdout.splitlines() if line.startswith(key_id)]
        assert "iuc" in line
        assert "reader" in line
        assert line.endswith("active")

    def test_several_roles_are_kept(self, keys_env: dict[str, str]) -> None:
        created = ucap(
            "keys", "create", "--principal", "ops:night", "--role", "admin", "--role", "reader",
            "--json", env=keys_env,
        )  # fmt: skip

        assert json.loads(created.stdout)["roles"] == ["admin", "reader"]


class TestRefusals:
    def test_a_key_for_no_one_is_refused(self, keys_env: dict[str, str]) -> None:
        neither = ucap("keys", "create", "--role", "reader", env=keys_env)
        both = ucap(
            "keys", "create", "--city", "x", "--principal", "iuc", "--role", "reader", env=keys_env
        )
        bogus = ucap("keys", "create", "--principal", "somebody", "--role", "reader", env=keys_env)

        assert neither.returncode == both.returncode == bogus.returncode == 2
        assert "--city or --principal" in neither.stderr
        assert "--city or --principal" in both.stderr
        assert bogus.stderr.strip() == "error: 'somebody' is not city:<id>, iuc or ops:<name>"

    def test_an_unknown_role_is_a_usage_error(self, keys_env: dict[str, str]) -> None:
        answer = ucap("keys", "create", "--principal", "iuc", "--role", "boss", env=keys_env)

        assert answer.returncode == 2
        assert "boss" in answer.stderr

    def test_a_key_store_that_does_not_answer_is_one_clear_line(
        self, keys_env: dict[str, str], tmp_path: Path
    ) -> None:
        down = {**keys_env, "MONGODB_URI": f"mongodb://127.0.0.1:{free_port()}/"}

        answer = ucap("keys", "list", env=down)

        assert answer.returncode == 1
        assert answer.stderr.startswith("error: the key store (MongoDB at mongodb://127.0.0.1:")
        assert "Traceback" not in answer.stderr
