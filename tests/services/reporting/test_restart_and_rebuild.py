"""Killing the reporting process while events flow loses nothing; ``rebuild`` reproduces it.

Two real reporting processes read the same events: one runs without
interruption, the other is killed (SIGKILL) while it applies them and started
again. Their status views must end identical; then the killed one's views are
dropped and rebuilt from the events, and must read back identical again.
"""

import asyncio
import sys
import uuid
from pathlib import Path
from typing import Any, TypeGuard

import httpx

from tests.services.reporting.conftest import Streams, fresh, publish, start_group_at_end, ucap_body
from tests.support.auth import bearer
from tests.support.infra import Infra
from tests.support.processes import REPO_ROOT, run_service
from tests.support.waiting import eventually, polled_async
from ucap_shared.envelope import Envelope
from ucap_shared.mongo import MongoClient

# Enough rounds that the kill lands while events are being applied; few, because every
# event costs several writes to FerretDB in each of the two processes.
ROUNDS = 4


def flow(ucap_id: str, cities: list[str], rounds: int) -> list[Envelope]:
    """City, MoU and pilot events of one U-CAP: registrations, renames, signatures, progress."""
    s = Streams()
    lead, *counterparts = cities
    events = [s.city_registered(city, city.title()) for city in cities]
    for index, counterpart in enumerate(counterparts):
        mou = f"{counterpart}-mou"
        events += [
            s.mou_drafted(mou, [lead, counterpart], valid_until="2030-12"),
            s.mou_signed(mou, lead, "2018-07"),
            s.mou_signed(mou, counterpart, f"2018-0{index + 7}"),
        ]
    pilots = [f"{city}-pilot" for city in counterparts]
    for pilot, counterpart in zip(pilots, counterparts, strict=True):
        events += [
            s.pilot_proposed(pilot, ucap_id, lead, [counterpart]),
            s.pilot_status(pilot, "approved", "approved", "2019-01"),
            s.milestone_added(pilot, "m1", "2020-03"),
        ]
    for round_ in range(rounds):
        for pilot, counterpart in zip(pilots, counterparts, strict=True):
            events.append(
                s.pilot_progress(
                    pilot,
                    f"u{round_}",
                    f"2020-{round_ % 12 + 1:02d}",
                    counterpart,
                    f"round {round_}",
                )
            )
        events.append(s.city_renamed(counterparts[round_ % len(counterparts)], f"Renamed {round_}"))
    return events


def comparable(status: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in status.items() if k not in ("freshness", "on")}


def finished(status: dict[str, Any] | None) -> TypeGuard[dict[str, Any]]:
    """Whether a status shows all of ``flow``: three pilots, the last rename, every update."""
    if status is None or status["figures"]["pilots"] != 3:
        return False
    names = [c["city"]["name"] for c in status["counterparts"]]
    return f"Renamed {ROUNDS - 1}" in names and all(
        p["updates_count"] == ROUNDS for c in status["counterparts"] for p in c["pilots"]
    )


def differences(expected: Any, got: Any, path: str = "status") -> str:
    """Where two statuses part, one line per differing leaf (for a failure to name)."""
    if isinstance(expected, dict) and isinstance(got, dict):
        keys = sorted(set(expected) | set(got))
        return "\n".join(
            d for k in keys if (d := differences(expected.get(k), got.get(k), f"{path}.{k}"))
        )
    if isinstance(expected, list) and isinstance(got, list) and len(expected) == len(got):
        return "\n".join(
            d
            for i, (e, g) in enumerate(zip(expected, got, strict=True))
            if (d := differences(e, g, f"{path}[{i}]"))
        )
    return "" if expected == got else f"{path}: uninterrupted {expected!r}, restarted {got!r}"


async def status_of(url: str, ucap_id: str) -> dict[str, Any] | None:
    async with httpx.AsyncClient(base_url=url, headers=bearer("reporting")) as client:
        response = await client.get(f"/ucaps/{ucap_id}/status")
    return comparable(response.json()) if response.status_code == 200 else None


async def create(url: str, body: dict[str, Any]) -> None:
    """Created once the service knows the U-CAP's cities (422 until then)."""
    async with httpx.AsyncClient(base_url=url, headers=bearer("reporting")) as client:

        async def created() -> bool:
            response = await client.post("/ucaps", json=body)
            assert response.status_code in (201, 422), response.text
            return response.status_code == 201

        await eventually(created, timeout=60, interval=0.2)


async def rebuild(env: dict[str, str]) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ucap_reporting",
        "rebuild",
        env=env,
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = (await asyncio.wait_for(process.communicate(), 300))[0].decode()
    assert process.returncode == 0, output
    return output


class TestKilledWhileEventsFlow:
    async def test_restarted_and_rebuilt_views_equal_an_uninterrupted_run(
        self, infra: Infra, service_env: dict[str, str], log_dir: Path, mongo: MongoClient
    ) -> None:
        suffix = uuid.uuid4().hex[:8]
        envs = {}
        for name in ("steady", "killed"):
            group = f"reporting-test-{name}-{suffix}"
            await start_group_at_end(infra.kafka_bootstrap_servers, group)
            envs[name] = {
                **service_env,
                # A U-CAP topic of this test's own: the shared one holds every earlier test's
                # U-CAPs, which a rebuild would otherwise replay too.
                "UCAP_REPORTING_SERVICE_NAME": f"reporting-{name}-{suffix}",
                "UCAP_REPORTING_DATABASE": f"test_reporting_{name}_{suffix}",
                "UCAP_REPORTING_CONSUMER_GROUP": group,
            }
        ucap_id = fresh("ucap")
        cities = [fresh("lead"), fresh("haikou"), fresh("kunming"), fresh("liuzhou")]
        body = ucap_body(ucap_id, cities[0], cities[1:])
        events = flow(ucap_id, cities, rounds=ROUNDS)
        third = len(events) // 3
        bootstrap = infra.kafka_bootstrap_servers
        try:
            with run_service("reporting", envs["steady"], log_dir) as steady:
                # The cities first: a U-CAP names only cities the service knows.
                await publish(bootstrap, *events[: len(cities)])
                await create(steady.url, body)
                with run_service("reporting", envs["killed"], log_dir) as first:
                    await create(first.url, body)
                    await publish(bootstrap, *events[len(cities) : third])
                    first.process.kill()  # while it is applying them
                await publish(bootstrap, *events[third : 2 * third])
                with run_service("reporting", envs["killed"], log_dir) as again:
                    await publish(bootstrap, *events[2 * third :])

                    async def both() -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
                        return await status_of(steady.url, ucap_id), await status_of(
                            again.url, ucap_id
                        )

                    def converged(pair: tuple[Any, Any]) -> bool:
                        expected, got = pair
                        return finished(expected) and got == expected

                    uninterrupted, restarted = await polled_async(
                        both, converged, timeout=90, interval=0.3
                    )
                    assert finished(uninterrupted), (
                        f"the steady run never finished: {uninterrupted}"
                    )
                    assert restarted == uninterrupted, differences(uninterrupted, restarted)
            output = await rebuild(envs["killed"])
            with run_service("reporting", envs["killed"], log_dir) as rebuilt:
                after_rebuild = await status_of(rebuilt.url, ucap_id)
        finally:
            for env in envs.values():
                await mongo.drop_database(env["UCAP_REPORTING_DATABASE"])

        assert after_rebuild is not None
        assert uninterrupted["figures"]["mous_signed"] == 3
        assert [c["city"]["name"] for c in uninterrupted["counterparts"]][
            (ROUNDS - 1) % 3
        ] == f"Renamed {ROUNDS - 1}"
        # A rebuild replays the U-CAP before its cities, so their copies come pushed, with
        # their streams' positions; the live runs pulled them when the U-CAP was created.
        rebuilt_applied = after_rebuild.pop("applied")
        applied = uninterrupted.pop("applied")
        assert after_rebuild == uninterrupted, output
        assert {stream: rebuilt_applied.get(stream) for stream in applied} == applied
