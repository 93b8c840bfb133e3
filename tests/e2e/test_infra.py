"""`make infra-up` twice is harmless; `make infra-down` leaves no process behind; the
FerretDB it starts on PostgreSQL stands more concurrent writes than one client makes."""

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from tests.support.infra import Infra, answers_ping, ferretdb_of_its_own
from tests.support.processes import REPO_ROOT, free_port
from tests.support.waiting import eventually


def infra(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "deploy/local/ucap_infra.py", command],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def ours(*patterns: str) -> list[str]:
    """Processes whose command line has one of ``patterns`` (this run's folder, its ports)."""
    found: set[str] = set()
    for pattern in patterns:
        listed = subprocess.run(
            ["pgrep", "-af", "--", pattern], capture_output=True, text=True, check=False
        ).stdout.splitlines()
        found |= {line for line in listed if "pgrep" not in line}
    return sorted(found)


class TestInfraLifecycle:
    def test_up_twice_reuses_the_servers_and_down_stops_them_all(self) -> None:
        # Not pytest's tmp_path: as root, PostgreSQL runs as `postgres`, which must reach it.
        run_dir = Path(tempfile.mkdtemp(prefix="ucap-infra-test-"))
        run_dir.chmod(0o755)
        mongo_port = free_port()
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URI")
        }
        env |= {
            "UCAP_RUN_DIR": str(run_dir),
            "UCAP_KAFKA_PORT": str(free_port()),
            "UCAP_KAFKA_CONTROLLER_PORT": str(free_port()),
            "UCAP_MONGO_PORT": str(mongo_port),
            "UCAP_POSTGRES_PORT": str(free_port()),
            "UCAP_KAFKA_HEAP": "384m",
        }
        patterns = (str(run_dir), f"-listen 127.0.0.1:{mongo_port}")
        try:
            first = infra("up", env)
            second = infra("up", env)
            status = infra("status", env)
            running = ours(*patterns)
        finally:
            down = infra("down", env)
            left = ours(*patterns)
            shutil.rmtree(run_dir, ignore_errors=True)

        assert first.returncode == 0, first.stdout + first.stderr
        assert "kafka: starting" in first.stdout
        assert "postgres: starting" in first.stdout
        assert first.stdout.index("postgres: starting") < first.stdout.index("mongodb: starting")
        assert second.returncode == 0, second.stdout + second.stderr
        assert "kafka: already answering" in second.stdout
        assert "postgres: already answering" in second.stdout
        assert "mongodb: already answering" in second.stdout
        assert status.returncode == 0, status.stdout
        assert len(running) == 3, running
        assert down.returncode == 0
        assert "kafka: stopped" in down.stdout
        assert "mongodb: stopped" in down.stdout
        assert "postgres: stopped" in down.stdout
        assert left == []


class TestFerretDBOnPostgres:
    WRITERS = 200
    ROUNDS = 30

    async def test_more_concurrent_updates_than_its_default_pool_all_complete(
        self, infra: Infra, tmp_path: Path, unique: str
    ) -> None:
        server = await ferretdb_of_its_own(tmp_path.name)
        server.start()
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            server.uri, maxPoolSize=self.WRITERS + 10, serverSelectionTimeoutMS=2000
        )
        docs = client[f"pool_{unique}"]["docs"]
        try:
            await eventually(lambda: answers_ping(client), timeout=30)
            await docs.insert_many([{"_id": n, "v": 0} for n in range(self.WRITERS)])

            async def rounds() -> None:
                for _ in range(self.ROUNDS):
                    await asyncio.gather(
                        *(
                            docs.update_one({"_id": n}, {"$inc": {"v": 1}})
                            for n in range(self.WRITERS)
                        )
                    )

            await asyncio.wait_for(rounds(), timeout=60)
            assert await docs.count_documents({"v": self.ROUNDS}) == self.WRITERS
            await client.drop_database(docs.database.name)
        finally:
            await client.close()
            server.process.stop()
