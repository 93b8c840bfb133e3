"""Log-in for a browser: a form takes the key, a cookie carries it, for reading only."""

import subprocess
import sys
import uuid
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pytest

from tests.support.keys import create_key
from tests.support.processes import RunningService, run_service
from tests.support.waiting import KEY_TRUST_SECONDS, answer_once

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.fixture(scope="module")
def gateway(
    service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningService]:
    log_dir: Path = tmp_path_factory.mktemp("login-logs")
    suffix = uuid.uuid4().hex[:8]
    env = {**service_env, "UCAP_CITIES_DATABASE": f"test_login_cities_{suffix}"}
    with run_service("cities", env, log_dir) as cities:
        gateway_env = {
            **env,
            "UCAP_GATEWAY_DATABASE": f"test_login_{suffix}",
            "UCAP_GATEWAY_CITIES_URL": cities.url,
        }
        with run_service("gateway", gateway_env, log_dir) as gateway:
            yield gateway


def new_key(gateway: RunningService, *, roles: tuple[str, ...] = ("reader",)) -> dict[str, str]:
    return create_key(gateway.env, principal="iuc", roles=list(roles))


@pytest.fixture(scope="module")
def reader_key(gateway: RunningService) -> str:
    return new_key(gateway)["key"]


@pytest.fixture(scope="module")
def admin_key(gateway: RunningService) -> str:
    return create_key(gateway.env, principal="ops:login-test", roles=["admin"])["key"]


def log_in(gateway: RunningService, key: str, next_path: str = "/cities") -> httpx.Response:
    return httpx.post(
        f"{gateway.url}/login",
        data={"key": key, "next": next_path},
        headers={**BROWSER, "Origin": gateway.url},
    )


def session_cookie(response: httpx.Response) -> SimpleCookie:
    cookie = SimpleCookie()
    cookie.load(response.headers["set-cookie"])
    return cookie


def with_cookie(key: str) -> dict[str, str]:
    return {"Cookie": f"ucap_key={key}"}


class TestTheForm:
    def test_the_form_asks_for_the_key_and_carries_next(self, gateway: RunningService) -> None:
        page = httpx.get(f"{gateway.url}/login", params={"next": "/ucaps/x/status?format=html"})

        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert 'name="key"' in page.text
        assert 'value="/ucaps/x/status?format=html"' in page.text

    def test_a_wrong_key_is_a_401_page_with_a_message_and_no_cookie(
        self, gateway: RunningService
    ) -> None:
        answer = log_in(gateway, "ucap_000000000000_" + "x" * 43)

        assert answer.status_code == 401
        assert answer.headers["content-type"].startswith("text/html")
        assert "Unknown or revoked API key" in answer.text
        assert "set-cookie" not in answer.headers

    def test_a_good_key_sets_an_httponly_strict_cookie_and_goes_on_to_next(
        self, gateway: RunningService, reader_key: str
    ) -> None:
        key = reader_key

        answer = log_in(gateway, key, "/cities?limit=5")

        assert answer.status_code == 303
        assert answer.headers["location"] == "/cities?limit=5"
        morsel = session_cookie(answer)["ucap_key"]
        assert morsel.value == key
        assert morsel["httponly"] is True
        assert morsel["samesite"].lower() == "strict"
        assert morsel["path"] == "/"
        assert not morsel["secure"], "plain http outside production"

    @pytest.mark.parametrize(
        "elsewhere",
        ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"],
    )
    def test_a_next_off_this_site_is_refused(
        self, gateway: RunningService, reader_key: str, elsewhere: str
    ) -> None:
        key = reader_key

        form = httpx.get(f"{gateway.url}/login", params={"next": elsewhere})
        answer = log_in(gateway, key, elsewhere)

        assert form.status_code == 400
        assert answer.status_code == 400
        assert "location" not in answer.headers
        assert "set-cookie" not in answer.headers

    def test_a_form_posted_from_another_site_is_refused(
        self, gateway: RunningService, reader_key: str
    ) -> None:
        key = reader_key

        answer = httpx.post(
            f"{gateway.url}/login",
            data={"key": key, "next": "/cities"},
            headers={"Origin": "https://evil.example"},
        )

        assert answer.status_code == 403
        assert "set-cookie" not in answer.headers


class TestTheCookie:
    def test_it_lets_a_browser_read(self, gateway: RunningService, reader_key: str) -> None:
        key = reader_key
        with httpx.Client(base_url=gateway.url) as browser:
            log_in_answer = browser.post(
                "/login", data={"key": key, "next": "/cities"}, headers=BROWSER
            )
            listing = browser.get("/cities")
            head = browser.head("/cities")

        assert log_in_answer.status_code == 303
        assert listing.status_code == 200
        assert "items" in listing.json()
        assert head.status_code != 401, "HEAD is let in too (the route itself may not serve it)"

    @pytest.mark.parametrize(
        ("method", "path"),
        [("POST", "/cities"), ("PATCH", "/cities/granada"), ("DELETE", "/cities/x")],
    )
    def test_it_does_not_authorise_a_write(
        self, gateway: RunningService, admin_key: str, method: str, path: str
    ) -> None:
        key = admin_key

        answer = httpx.request(
            method,
            f"{gateway.url}{path}",
            json={"name": "Nowhere"},
            headers={**with_cookie(key), "Origin": gateway.url},
        )
        with_header = httpx.request(
            method, f"{gateway.url}{path}", json={}, headers={"X-API-Key": key}
        )

        assert answer.status_code == 401
        assert answer.json()["error"] == "unauthenticated"
        assert with_header.status_code != 401, "the same key in a header is let through"

    def test_a_revoked_key_in_the_cookie_sends_the_browser_back_to_log_in(
        self, gateway: RunningService
    ) -> None:
        created = new_key(gateway)
        key = created["key"]
        assert httpx.get(f"{gateway.url}/cities", headers=with_cookie(key)).status_code == 200
        subprocess.run(
            [sys.executable, "-m", "ucap_ops", "keys", "revoke", created["key_id"]],
            env=dict(gateway.env),
            check=True,
            capture_output=True,
        )
        answer = answer_once(
            lambda: httpx.get(f"{gateway.url}/cities", headers={**BROWSER, **with_cookie(key)}),
            lambda answer: answer.status_code == 303,
            timeout=KEY_TRUST_SECONDS + 2,
        )

        assert answer.status_code == 303
        assert answer.headers["location"] == "/login?next=%2Fcities"
        assert session_cookie(answer)["ucap_key"].value == ""


class TestWithoutAKey:
    def test_a_browser_asking_for_a_page_is_sent_to_log_in_and_back(
        self, gateway: RunningService
    ) -> None:
        answer = httpx.get(f"{gateway.url}/ucaps/granada/status?format=html", headers=BROWSER)

        assert answer.status_code == 303
        assert answer.headers["location"] == (
            "/login?next=%2Fucaps%2Fgranada%2Fstatus%3Fformat%3Dhtml"
        )

    def test_an_api_client_gets_401_json(self, gateway: RunningService) -> None:
        answer = httpx.get(
            f"{gateway.url}/ucaps/granada/status", headers={"Accept": "application/json"}
        )

        assert answer.status_code == 401
        assert answer.json()["error"] == "unauthenticated"
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")


class TestLogOut:
    def test_log_out_clears_the_cookie(self, gateway: RunningService, reader_key: str) -> None:
        key = reader_key
        with httpx.Client(base_url=gateway.url, headers=BROWSER) as browser:
            browser.post("/login", data={"key": key, "next": "/cities"})
            assert browser.get("/cities").status_code == 200

            out = browser.post("/logout")
            after = browser.get("/cities")

        assert out.status_code == 303
        assert out.headers["location"] == "/login"
        cleared = session_cookie(out)["ucap_key"]
        assert cleared.value == ""
        assert cleared["max-age"] == "0"
        assert after.status_code == 303
        assert after.headers["location"].startswith("/login?next=")


class TestProductionMode:
    def test_the_cookie_is_secure(self, gateway: RunningService, tmp_path: Path) -> None:
        env = {
            **gateway.env,
            "UCAP_ENV": "production",
            "UCAP_TOKEN_KEY": "k" * 48,
        }
        key = create_key(env, principal="iuc", roles=["reader"])["key"]
        with run_service("gateway", env, tmp_path) as production:
            answer = log_in(production, key)

        assert answer.status_code == 303
        assert session_cookie(answer)["ucap_key"]["secure"] is True
