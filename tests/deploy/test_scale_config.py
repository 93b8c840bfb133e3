"""What `make scale-up` writes: the three Kafka nodes' settings and HAProxy's config."""

import shutil
import subprocess
from pathlib import Path

import pytest

import ucap_infra
import ucap_scale

SINGLE_NODE_PORTS = {8000, 8001, 8002, 8003, 8004, 9092, 9093}


@pytest.fixture(autouse=True)
def defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The default ports, and the cluster id kept in a folder of the test's own."""
    for variable in (
        "UCAP_SCALE_PORT",
        "UCAP_SCALE_KAFKA_PORT",
        "UCAP_SCALE_KAFKA_CONTROLLER_PORT",
    ):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(ucap_scale, "SCALE_DIR", tmp_path / "scale")


def properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and line[0] != "#")
    return {key: value for key, value in pairs}


def test_three_nodes_form_one_quorum_and_replicate_every_write_to_two() -> None:
    nodes = ucap_scale.kafka_nodes()
    rendered = [properties(node._server_properties(Path("/data"))) for node in nodes]

    assert [r["node.id"] for r in rendered] == ["1", "2", "3"]
    assert {r["controller.quorum.voters"] for r in rendered} == {
        "1@127.0.0.1:9292,2@127.0.0.1:9293,3@127.0.0.1:9294"
    }
    assert [r["listeners"] for r in rendered][2] == (
        "PLAINTEXT://127.0.0.1:9194,CONTROLLER://127.0.0.1:9294"
    )
    for each in rendered:
        assert each["min.insync.replicas"] == "2"
        assert each["offsets.topic.replication.factor"] == "3"
        assert each["transaction.state.log.replication.factor"] == "3"
        assert each["transaction.state.log.min.isr"] == "2"
    assert len({node.cluster_id for node in nodes}) == 1


def test_a_single_node_keeps_its_own_quorum_and_replication_of_one() -> None:
    server = ucap_infra.KafkaServer.from_env()
    single = properties(server._server_properties(Path("/data")))

    assert single["node.id"] == "1"
    assert single["controller.quorum.voters"] == f"1@127.0.0.1:{server.controller_port}"
    assert single["min.insync.replicas"] == "1"
    assert single["offsets.topic.replication.factor"] == "1"


def test_no_default_port_is_one_the_single_node_stack_uses() -> None:
    ports = {r.port for r in ucap_scale.replicas()}
    ports |= {ucap_scale.front_port(s) for s in ucap_scale.SERVICES}
    ports |= {n.port for n in ucap_scale.kafka_nodes()}
    ports |= {n.controller_port for n in ucap_scale.kafka_nodes()}

    assert len(ports) == 10 + 5 + 3 + 3
    assert not ports & SINGLE_NODE_PORTS


def test_the_gateways_call_each_service_through_its_load_balancer() -> None:
    env = ucap_scale.replica_env(ucap_scale.Replica("gateway", 2))

    assert env["UCAP_GATEWAY_PORT"] == "8120"
    assert env["UCAP_GATEWAY_PILOTS_URL"] == "http://127.0.0.1:8103"
    assert env["UCAP_KAFKA_REPLICATION_FACTOR"] == "3"
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:9192,127.0.0.1:9193,127.0.0.1:9194"


@pytest.mark.skipif(
    shutil.which("haproxy") is None and not Path("/usr/sbin/haproxy").exists(),
    reason="haproxy is not installed (make scale-up installs it)",
)
def test_haproxy_accepts_the_config_with_both_replicas_of_every_service(tmp_path: Path) -> None:
    config = tmp_path / "haproxy.cfg"
    config.write_text(ucap_scale.haproxy_config())

    binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
    checked = subprocess.run([binary, "-c", "-f", str(config)], capture_output=True, text=True)

    assert checked.returncode == 0, checked.stdout + checked.stderr
    text = config.read_text()
    assert text.count("    server ") == 10
    assert "bind 127.0.0.1:8100\n" in text
    assert "backend gateway\n    balance leastconn\n" in text
