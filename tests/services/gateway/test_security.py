"""Who gets in: API keys at the gateway, tokens at the services, limits everywhere."""

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest

from tests.support.auth import ADMIN, bearer
from tests.support.keys import auth, create_key
from tests.support.processes import REPO_ROOT, RunningService, run_service
from tests.support.waiting import KEY_TRUST_SECONDS, answer_once
from ucap_shared.auth import DEVELOPMENT_KEY, ISSUER

BURST = 8


@pytest.fixture(scope="module")
def stack(
    service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningService, RunningService, dict[str, str]]]:
    log_dir: Path = tmp_path_factory.mktemp("security-logs")
    suffix = uuid.uuid4().hex[:8]
    env = {**service_env, "UCAP_CITIES_DATABASE": f"test_sec_cities_{suffix}"}
    with run_service("cities", env, log_dir) as cities:
        gateway_env = {
            **env,
            "UCAP_GATEWAY_DATABASE": f"test_sec_{suffix}",
            "UCAP_GATEWAY_CITIES_URL": cities.url,
            "UCAP_GATEWAY_RATE_LIMIT_BURST": str(BURST),
            "UCAP_GATEWAY_RATE_LIMIT_PER_SECOND": "0.5",
        }
        admin = create_key(gateway_env, principal="ops:test", roles=["admin"])["key"]
        with run_service("gateway", gateway_env, log_dir) as gateway:
            gateway.headers = auth(admin)
            yield gateway, cities, gateway_env


def keys_command(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ucap_ops", "keys", *args],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


class TestApiKeys:
    def test_health_needs_no_key_and_everything_else_does(
        self, stack: tuple[RunningService, RunningService, dict[str, str]]
    ) -> None:
        gateway, _, _ = stack
        assert httpx.get(f"{gateway.url}/health/live").status_code == 200
        refused = httpx.get(f"{gateway.url}/cities")
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert httpx.get(f"{gateway.url}/metrics").status_code == 401

    @pytest.mark.parametrize(
        "presented",
        [
            "not-a-key",
            "ucap_000000000000_" + "x" * 43,
            "Bearer-less",
        ],
    )
    def test_malformed_and_unknown_keys_are_401(
        self, stack: tuple[RunningService, RunningService, dict[str, str]], presented: str
    ) -> None:
        gateway, _, _ = stack
        assert httpx.get(f"{gateway.url}/cities", headers=auth(presented)).status_code == 401
        assert (
            httpx.get(f"{gateway.url}/cities", headers={"X-API-Key": presented}).status_code == 401
        )

    def test_a_key_works_until_it_is_revoked_and_is_stored_only_as_a_hash(
        self, stack: tuple[RunningService, RunningService, dict[str, str]]
    ) -> None:
        gateway, _, env = stack
        created = create_key(env, principal="iuc", roles=["reader"])
        assert httpx.get(f"{gateway.url}/cities", headers=auth(created["key"])).status_code == 200

        listed = keys_command(env, "list", "--json")
        revoked = keys_command(env, "revoke", created["key_id"])

        assert revoked.returncode == 0
        assert created["key"] not in listed.stdout
        assert created["key"].split("_", 2)[2] not in listed.stdout
        refused = answer_once(
            lambda: httpx.get(f"{gateway.url}/cities", headers=auth(created["key"])),
            lambda answer: answer.status_code == 401,
            timeout=KEY_TRUST_SECONDS + 2,
        )
        assert refused.status_code == 401

    def test_past_the_burst_a_key_gets_429_with_retry_after(
        self, stack: tuple[RunningService, RunningService, dict[str, str]]
    ) -> None:
        gateway, _, env = stack
        key = create_key(env, principal="iuc", roles=["reader"])["key"]
        codes = [
            httpx.get(f"{gateway.url}/cities", headers=auth(key)).status_code
            for _ in range(BURST + 2)
        ]
        limited = httpx.get(f"{gateway.url}/cities", headers=auth(key))

        assert codes[:BURST] == [200] * BURST
        assert 429 in codes[BURST:]
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) >= 1


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


class TestLimits:
    def test_a_10_mb_body_is_413_and_the_gateway_does_not_grow_by_20_mb(
        self, stack: tuple[RunningService, RunningService, dict[str, str]]
    ) -> None:
        gateway, _, _ = stack
        before = rss_kib(gateway.process.pid)
        body = b"{" + b" " * (10 * 1024 * 1024) + b"}"
        declared = httpx.post(
            f"{gateway.url}/cities",
            content=body,
            headers={**gateway.headers, "Content-Type": "application/json"},
            timeout=30,
        )

        def chunks() -> Iterator[bytes]:
            for _ in range(10):
                yield b" " * (1024 * 1024)

        streamed = httpx.post(
            f"{gateway.url}/cities",
            content=chunks(),
            headers={**gateway.headers, "Content-Type": "application/json"},
            timeout=30,
        )
        after = rss_kib(gateway.process.pid)

        assert declared.status_code == 413
        assert streamed.status_code == 413
        assert after - before < 20 * 1024

    def test_json_nested_past_the_cap_is_422(
        self, stack: tuple[RunningService, RunningService, dict[str, str]]
    ) -> None:
        gateway, _, _ = stack
        deep = "[" * 100 + "]" * 100
        answer = httpx.post(
            f"{gateway.url}/cities",
            content=deep,
            headers={**gateway.headers, "Content-Type": "application/json"},
        )
        assert answer.status_code == 422
        assert "deeper" in answer.text


def token(**changes: object) -> str:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": ISSUER,
        "sub": "ops:test",
        "aud": "cities",
        "iat": now,
        "exp": now + 60,
        "roles": ["admin"],
        "city": None,
    }
    key = str(changes.pop("key", DEVELOPMENT_KEY))
    algorithm = str(changes.pop("alg", "HS256"))
    claims.update(changes)
    if algorithm == "none":
        return jwt.encode(claims, None, algorithm="none")
    return jwt.encode(claims, key, algorithm=algorithm)


class TestServiceTokens:
    @pytest.mark.parametrize(
        ("name", "header"),
        [
            ("missing", {}),
            ("expired", {"Authorization": f"Bearer {token(exp=int(time.time()) - 5)}"}),
            ("unsigned", {"Authorization": f"Bearer {token(alg='none')}"}),
            ("another key", {"Authorization": f"Bearer {token(key='x' * 40)}"}),
            ("another audience", {"Authorization": f"Bearer {token(aud='pilots')}"}),
            ("HS512 switch", {"Authorization": f"Bearer {token(alg='HS512')}"}),
            ("garbage", {"Authorization": "Bearer abc.def.ghi"}),
        ],
    )
    def test_a_service_reached_directly_refuses_a_bad_token(
        self,
        stack: tuple[RunningService, RunningService, dict[str, str]],
        name: str,
        header: dict[str, str],
    ) -> None:
        _, cities, _ = stack
        answer = httpx.get(f"{cities.url}/cities", headers=header)
        assert answer.status_code == 401, name

    def test_a_service_admits_the_gateways_token(
        self, stack: tuple[RunningService, RunningService, dict[str, str]]
    ) -> None:
        _, cities, _ = stack
        assert httpx.get(f"{cities.url}/cities", headers=bearer("cities", ADMIN)).status_code == 200


class TestProductionMode:
    def test_refuses_to_start_without_a_real_signing_key(self, service_env: dict[str, str]) -> None:
        env = {**service_env, "UCAP_ENV": "production"}
        env.pop("UCAP_TOKEN_KEY", None)
        started = subprocess.run(
            [sys.executable, "-m", "ucap_cities"],
            env=env,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert started.returncode != 0
        assert "UCAP_TOKEN_KEY" in started.stderr

    def test_serves_no_interactive_docs_nor_schema(
        self, service_env: dict[str, str], log_dir: Path
    ) -> None:
        env = {
            **service_env,
            "UCAP_ENV": "production",
            "UCAP_TOKEN_KEY": "k" * 48,
            "UCAP_CITIES_DATABASE": f"test_prod_{uuid.uuid4().hex[:8]}",
        }
        with run_service("cities", env, log_dir) as cities:
            docs = httpx.get(f"{cities.url}/docs")
            schema = httpx.get(f"{cities.url}/openapi.json")
        assert docs.status_code in (401, 404)
        assert schema.status_code in (401, 404)
