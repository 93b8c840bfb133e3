"""Load Granada's pilot projects into a running pilots service.

    python deploy/demo/load_pilots.py [--url http://127.0.0.1:8003] [--file granada-pilots.json]
                                      [--suffix SUFFIX] [--key KEY]

Idempotent: an existing pilot is not proposed again; a status step, milestone,
funding award or indicator already recorded is skipped; progress updates carry
idempotency keys. The cities (and linked MoUs) must be known to the pilots
service first (registered through the cities and MoUs services).

``--suffix`` makes every city, MoU, U-CAP and pilot id unique (``granada`` ->
``granada-<suffix>``, ``granada-blocklab`` -> ``granada-<suffix>-blocklab``), so a
test can load the set next to other people's data.

``--key`` (default: the ``UCAP_API_KEY`` environment variable) is sent as
``Authorization: Bearer <key>``: an admin API key against the gateway, or a
token for the ``pilots`` audience against the service itself. The events name
the key's owner as their actor.

Dated in the cooperation's timeline: every request carries ``X-UCAP-Occurred-At``,
so the service records each event when it happened and ``?as_of=`` a past day
shows the pilot as it was. A pilot is proposed (with its milestones and
indicators) on its ``proposed_on``; a status step takes effect on its
``effective_on``; funding on ``awarded_on``; progress on ``reported_on``.
"""

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, TypedDict

import httpx

HERE = Path(__file__).resolve().parent
OCCURRED_AT = "X-UCAP-Occurred-At"


class StatusStep(TypedDict):
    action: str
    effective_on: str | None
    note: str | None


def with_suffix(pilot: dict[str, Any], suffix: str) -> dict[str, Any]:
    """The pilot with every city, MoU, U-CAP and pilot id made unique by ``suffix``."""
    if not suffix:
        return pilot
    lead = pilot["lead_city_id"]
    return {
        **pilot,
        "id": f"{lead}-{suffix}-" + pilot["id"].removeprefix(f"{lead}-"),
        "lead_city_id": f"{lead}-{suffix}",
        "partners": [{**p, "city_id": f"{p['city_id']}-{suffix}"} for p in pilot["partners"]],
        "mou_ids": [f"{mou}-{suffix}" for mou in pilot["mou_ids"]],
        "ucap_id": f"{pilot['ucap_id']}-{suffix}" if pilot.get("ucap_id") else None,
    }


def _at(occurred_on: str | None) -> dict[str, str]:
    """The header dating a request's events (none: the service's clock)."""
    return {OCCURRED_AT: occurred_on} if occurred_on else {}


def _post(
    client: httpx.Client, path: str, body: dict[str, Any], occurred_on: str | None
) -> dict[str, Any]:
    response = client.post(path, json=body, headers=_at(occurred_on))
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def load(client: httpx.Client, pilot: dict[str, Any]) -> list[str]:
    """Bring one pilot up to the file; return what was done."""
    pilot = dict(pilot)
    proposed_on: str | None = pilot.pop("proposed_on", None)
    steps: list[StatusStep] = pilot.pop("status_path", [])
    milestones: list[dict[str, Any]] = pilot.pop("milestones", [])
    funding: list[dict[str, Any]] = pilot.pop("funding", [])
    indicators: list[dict[str, Any]] = pilot.pop("indicators", [])
    updates: list[dict[str, Any]] = pilot.pop("progress", [])
    done: list[str] = []
    path = f"/pilots/{pilot['id']}"
    existing = client.get(path, headers=_at(proposed_on))
    if existing.status_code == httpx.codes.NOT_FOUND:
        current = _post(client, "/pilots", pilot, proposed_on)
        done.append("proposed")
    else:
        existing.raise_for_status()
        current = existing.json()
    reached = {change["status"] for change in current["status_changes"]}
    for step in steps:
        if step["action"] in current["allowed_actions"]:
            body = {"effective_on": step.get("effective_on"), "note": step.get("note")}
            effective_on = step.get("effective_on") or proposed_on
            current = _post(client, f"{path}/{step['action']}", body, effective_on)
            done.append(step["action"])
        elif not reached:
            raise RuntimeError(f"{pilot['id']}: cannot {step['action']} from {current['status']}")
    have = {m["id"] for m in current["milestones"]}
    for milestone in milestones:
        if milestone["id"] not in have:
            current = _post(client, f"{path}/milestones", milestone, proposed_on)
            done.append(f"milestone {milestone['id']}")
    have = {award["award_id"] for award in current["funding"]}
    for award in funding:
        if award["id"] not in have:
            current = _post(
                client, f"{path}/funding", award, award.get("awarded_on") or proposed_on
            )
            done.append(f"award {award['id']}")
    have = {indicator["id"] for indicator in current["indicators"]}
    for indicator in indicators:
        if indicator["id"] not in have:
            current = _post(client, f"{path}/indicators", indicator, proposed_on)
            done.append(f"indicator {indicator['id']}")
    for update in updates:
        result = client.post(
            f"{path}/progress", json=update, headers=_at(update.get("reported_on") or proposed_on)
        )
        result.raise_for_status()
        if result.headers.get("Idempotent-Replayed") == "false":
            done.append(f"progress {update['idempotency_key']}")
    return done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", default="http://127.0.0.1:8003", help="the pilots service")
    parser.add_argument("--file", type=Path, default=HERE / "granada-pilots.json")
    parser.add_argument("--suffix", default="", help="appended to every id, for tests")
    parser.add_argument(
        "--key",
        default=os.environ.get("UCAP_API_KEY"),
        help="sent as the bearer credential (default: $UCAP_API_KEY)",
    )
    args = parser.parse_args()
    data = json.loads(args.file.read_text())
    headers = {"Authorization": f"Bearer {args.key}"} if args.key else {}
    with httpx.Client(base_url=args.url, timeout=30, headers=headers) as client:
        for raw in data["pilots"]:
            pilot = with_suffix(raw, args.suffix)
            try:
                done = load(client, pilot)
            except httpx.HTTPStatusError as error:
                print(f"{pilot['id']}: {error.response.status_code} {error.response.text}")
                return 1
            print(f"{pilot['id']}: {', '.join(done) or 'up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
