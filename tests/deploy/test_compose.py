"""docker-compose.yml cannot run here; this checks it against the code instead."""

import re
import secrets
from pathlib import Path
from typing import Any

import pytest
import yaml

from ucap_cities.config import Settings as CitiesSettings
from ucap_gateway.config import Settings as GatewaySettings
from ucap_mous.config import Settings as MousSettings
from ucap_pilots.config import Settings as PilotsSettings
from ucap_reporting.config import Settings as ReportingSettings
from ucap_shared.settings import ServiceSettings

REPO_ROOT = Path(__file__).resolve().parents[2]
VARIABLE = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")
SETTINGS: dict[str, type[ServiceSettings]] = {
    "cities": CitiesSettings,
    "mous": MousSettings,
    "pilots": PilotsSettings,
    "reporting": ReportingSettings,
    "gateway": GatewaySettings,
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    return loaded


def env_names(settings: type[ServiceSettings]) -> set[str]:
    """Every environment variable a settings class reads."""
    prefix = str(settings.model_config.get("env_prefix", ""))
    names: set[str] = set()
    for name, field in settings.model_fields.items():
        choices = getattr(field.validation_alias, "choices", None)
        names |= {str(c) for c in choices} if choices else {f"{prefix}{name}".upper()}
    return names


class MissingVariableError(Exception):
    """What compose says when a required variable (``${NAME:?message}``) is unset."""


def interpolated(value: str, shell: dict[str, str]) -> str:
    """``value`` as compose resolves it from the shell's variables."""

    def resolve(match: re.Match[str]) -> str:
        name, kind, text = match.groups()
        if shell.get(name):
            return shell[name]
        if kind == "?":
            raise MissingVariableError(f"required variable {name} is missing a value: {text}")
        return text if kind == "-" else ""

    return VARIABLE.sub(resolve, value)


def pinned_kafka_version() -> str:
    pom = (REPO_ROOT / "deploy/local/kafka/pom.xml").read_text()
    match = re.search(r"<kafka.version>([^<]+)</kafka.version>", pom)
    assert match is not None
    return match.group(1)


class TestComposeFile:
    def test_runs_official_kafka_of_the_pinned_version_and_official_mongo(
        self, compose: dict[str, Any]
    ) -> None:
        services = compose["services"]
        assert services["kafka"]["image"] == f"apache/kafka:{pinned_kafka_version()}"
        assert services["mongo"]["image"].startswith("mongo:")
        assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert services["kafka"]["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"

    @pytest.mark.parametrize("name", sorted(SETTINGS))
    def test_each_service_is_built_from_the_dockerfile_and_health_checked(
        self, compose: dict[str, Any], name: str
    ) -> None:
        service = compose["services"][name]
        build = service["build"]
        dockerfile = REPO_ROOT / build["context"] / build.get("dockerfile", "Dockerfile")
        assert dockerfile == REPO_ROOT / "Dockerfile"
        assert dockerfile.exists()
        port = SETTINGS[name]().port
        assert build["args"] == {"SERVICE": name, "PORT": str(port)}
        assert f"127.0.0.1:{port}/health/ready" in " ".join(service["healthcheck"]["test"])
        assert "EXPOSE ${PORT}" in dockerfile.read_text()

    @pytest.mark.parametrize("name", sorted(SETTINGS))
    def test_each_service_waits_for_healthy_infrastructure(
        self, compose: dict[str, Any], name: str
    ) -> None:
        depends = compose["services"][name]["depends_on"]
        assert depends["kafka"] == {"condition": "service_healthy"}
        assert depends["mongo"] == {"condition": "service_healthy"}

    @pytest.mark.parametrize("name", sorted(SETTINGS))
    def test_sets_only_variables_the_service_reads_and_points_at_the_containers(
        self, compose: dict[str, Any], name: str
    ) -> None:
        environment = compose["services"][name]["environment"]
        assert set(environment) <= env_names(SETTINGS[name])
        assert environment["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert environment["MONGODB_URI"].startswith("mongodb://mongo:27017")

    def test_the_gateway_reaches_every_service_by_its_compose_name(
        self, compose: dict[str, Any]
    ) -> None:
        environment = compose["services"]["gateway"]["environment"]
        for name in ("cities", "mous", "pilots", "reporting"):
            port = SETTINGS[name]().port
            assert environment[f"UCAP_GATEWAY_{name.upper()}_URL"] == f"http://{name}:{port}"

    def test_only_the_gateway_publishes_a_port(self, compose: dict[str, Any]) -> None:
        publishing = {name for name, svc in compose["services"].items() if svc.get("ports")}
        assert publishing == {"gateway"}
        assert compose["services"]["gateway"]["ports"] == [f"{GatewaySettings().port}:8000"]

    def test_every_container_is_restarted_when_it_exits(self, compose: dict[str, Any]) -> None:
        policies = {name: svc.get("restart") for name, svc in compose["services"].items()}
        assert policies == dict.fromkeys(["kafka", "mongo", *SETTINGS], "unless-stopped")

    @pytest.mark.parametrize("name", sorted(SETTINGS))
    def test_refuses_to_start_without_a_token_key_and_says_which(
        self, compose: dict[str, Any], name: str
    ) -> None:
        environment = compose["services"][name]["environment"]
        with pytest.raises(MissingVariableError) as refused:
            {key: interpolated(str(value), {}) for key, value in environment.items()}
        assert "UCAP_TOKEN_KEY" in str(refused.value)
        assert "32+ characters" in str(refused.value)

    @pytest.mark.parametrize("name", sorted(SETTINGS))
    def test_with_the_token_key_set_each_service_runs_in_production_with_that_key(
        self, compose: dict[str, Any], name: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        key = secrets.token_urlsafe(48)
        environment = {
            variable: interpolated(str(value), {"UCAP_TOKEN_KEY": key})
            for variable, value in compose["services"][name]["environment"].items()
        }
        for variable, value in environment.items():
            monkeypatch.setenv(variable, value)
        settings = SETTINGS[name]()
        assert settings.production
        assert settings.signing_key() == key
