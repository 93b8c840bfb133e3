"""A scraper reads a running service's metrics on its loopback listener, without a token;
the alert rules and the dashboard name only metrics such a scrape exposes."""

import json
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator

import httpx
import pytest
import yaml
from pymongo import MongoClient

from tests.support.auth import bearer
from tests.support.processes import REPO_ROOT, RunningService, free_port, run_service
from tests.support.waiting import polled

OBSERVABILITY = REPO_ROOT / "deploy" / "observability"
ALERTS = OBSERVABILITY / "alerts.yml"
DASHBOARD = OBSERVABILITY / "grafana-dashboard.json"
METRIC_NAME = re.compile(r"\bucap_[a-z0-9_]+")
SAMPLE_NAME = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)", re.MULTILINE)

EXPECTED = {
    "ucap_http_requests_total",
    "ucap_http_request_duration_seconds_bucket",
    "ucap_relay_backlog",
    "ucap_relay_parked_commits",
    "ucap_outbox_oldest_unpublished_age_seconds",
    "ucap_consumer_lag",
    "ucap_consumer_held_events",
    "ucap_dead_letter_records",
    "ucap_dead_letter_unreplayed",
    "ucap_health_check",
    "ucap_events_consumed_total",
    "ucap_metrics_sampled_timestamp_seconds",
}


@pytest.fixture(scope="module")
def cities(
    service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningService, str]]:
    """The cities service on topics and a database of its own, its metrics on a free port."""
    unique = uuid.uuid4().hex[:10]
    metrics_port = free_port()
    env = {
        **service_env,
        "UCAP_TOPIC_NAMESPACE": f"scrape{unique}",
        "UCAP_CITIES_DATABASE": f"ucap_cities_scrape_{unique}",
        "UCAP_CITIES_METRICS_PORT": str(metrics_port),
        "UCAP_METRICS_SAMPLE_SECONDS": "0.5",
    }
    with run_service("cities", env, tmp_path_factory.mktemp("logs")) as service:
        yield service, f"http://127.0.0.1:{metrics_port}/metrics"
    mongo: MongoClient[dict[str, object]]
    with MongoClient(service_env["MONGODB_URI"]) as mongo:
        mongo.drop_database(env["UCAP_CITIES_DATABASE"])


@pytest.fixture(scope="module")
def scrape(cities: tuple[RunningService, str]) -> str:
    """A scrape once a city was registered, read and applied by the service's own consumer."""
    service, metrics_url = cities
    headers = bearer("cities")
    body = {
        "id": "scraped-city",
        "name": "Haikou",
        "native_name": "海口",
        "region": "Hainan",
        "country": "CN",
        "world_region": "Asia",
        "population": {"known": False},
        "clusters": ["Smart City"],
    }
    assert httpx.post(f"{service.url}/cities", json=body, headers=headers).status_code == 201
    assert httpx.get(f"{service.url}/cities/scraped-city", headers=headers).status_code == 200
    assert httpx.get(f"{service.url}/cities/no-such-city", headers=headers).status_code == 404
    assert httpx.get(f"{service.url}/cities/tokenless-caller").status_code == 401
    return polled(
        lambda: httpx.get(metrics_url).text, lambda text: sample_names(text) >= EXPECTED, timeout=30
    )


def sample_names(scrape: str) -> set[str]:
    return {
        match.group(1)
        for line in scrape.splitlines()
        if not line.startswith("#") and (match := SAMPLE_NAME.match(line))
    }


class TestMetricsListener:
    def test_a_scraper_reads_the_metrics_without_a_token(self, scrape: str) -> None:
        missing = EXPECTED - sample_names(scrape)

        assert not missing, f"not in a real scrape: {sorted(missing)}"

    def test_requests_are_counted_per_route_template_not_per_path(self, scrape: str) -> None:
        assert 'route="/cities/{city_id}",status="200"' in scrape
        assert 'route="/cities/{city_id}",status="404"' in scrape
        assert 'route="unrouted",status="401"' in scrape, "refused before any route"
        for raw_path_part in ("scraped-city", "no-such-city", "tokenless-caller"):
            assert raw_path_part not in scrape

    def test_the_sampled_gauges_say_a_healthy_service_is_ok(self, scrape: str) -> None:
        assert 'ucap_health_check{check="relay",ucap_health_check="ok"} 1.0' in scrape
        assert 'ucap_health_check{check="mongodb",ucap_health_check="ok"} 1.0' in scrape
        assert re.search(r'ucap_dead_letter_records\{topic="scrape\w+\.cities\.dlq"\} 0\.0', scrape)

    def test_the_main_port_still_holds_metrics_to_admins(
        self, cities: tuple[RunningService, str]
    ) -> None:
        service, _ = cities

        assert httpx.get(f"{service.url}/metrics").status_code == 401
        assert httpx.get(f"{service.url}/metrics", headers=bearer("cities")).status_code == 200


class TestObservabilityFiles:
    def test_every_alert_and_panel_names_metrics_a_running_service_exposes(
        self, scrape: str
    ) -> None:
        rules = yaml.safe_load(ALERTS.read_text())
        expressions = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
        dashboard = json.loads(DASHBOARD.read_text())
        expressions += [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
        named = {name for expression in expressions for name in METRIC_NAME.findall(expression)}

        assert len(expressions) >= 15
        assert named - sample_names(scrape) == set()

    def test_promtool_accepts_the_rules_and_the_scrape_configuration(self) -> None:
        promtool = shutil.which("promtool")
        if promtool is None:
            pytest.skip("promtool is missing: `make tools` installs Debian's prometheus as root")
        rules = subprocess.run(
            [promtool, "check", "rules", str(ALERTS)], capture_output=True, text=True
        )
        config = subprocess.run(
            [promtool, "check", "config", str(OBSERVABILITY / "prometheus.yml")],
            capture_output=True,
            text=True,
        )

        assert rules.returncode == 0, rules.stdout + rules.stderr
        assert config.returncode == 0, config.stdout + config.stderr

    def test_the_alerts_fire_and_resolve_as_their_unit_tests_say(self) -> None:
        promtool = shutil.which("promtool")
        if promtool is None:
            pytest.skip("promtool is missing: `make tools` installs Debian's prometheus as root")
        tested = subprocess.run(
            [promtool, "test", "rules", str(OBSERVABILITY / "alerts_test.yml")],
            capture_output=True,
            text=True,
        )

        assert tested.returncode == 0, tested.stdout + tested.stderr
