"""Load Granada's U-CAP into a running reporting service.

    python deploy/demo/load_ucap.py [--url http://127.0.0.1:8004] [--file granada-ucap.json]
                                    [--key KEY]

Idempotent: the U-CAP is created once, then its sections are patched only
where they differ from the file; activities are logged when missing and
edited when they differ; a delivery is recorded only when its deliverable is
not there yet.

Dated in the cooperation's timeline: every write carries ``X-UCAP-Occurred-At``,
so the service records each event at the moment it happened and a U-CAP read
``as_of`` a past day shows what stood then. The U-CAP's creation (and any
later correction of its sections) is dated at the start of its period, each
activity at its own date, each delivery at its deliverable's date.

``--key`` (default: the ``UCAP_API_KEY`` environment variable) is sent as
``Authorization: Bearer <key>``: an API key against the gateway, or a token
for the ``reporting`` audience against the service itself. The events name
the key's owner as their actor.
"""

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
OCCURRED_AT = "X-UCAP-Occurred-At"
Json = dict[str, Any]


def _dated(on: str | None) -> dict[str, str]:
    """The header dating a write in the cooperation's timeline (none when undated)."""
    return {OCCURRED_AT: on} if on else {}


def _delivery_date(delivery: Json) -> str:
    """When a delivery happened: its deliverable's date, else the day it names."""
    on: str = delivery["deliverable"].get("date") or delivery["delivered_on"]
    return on


def _sections(ucap: Json, current: Json) -> Json:
    """The fields of the file that differ from what the service holds."""
    changed: Json = {}
    for name, value in ucap.items():
        if name == "id":
            continue
        held = current.get(name)
        if name == "period" and isinstance(held, dict):
            held = {"from": held.get("from"), "until": held.get("until")}
        if held != value:
            changed[name] = value
    return changed


def load_ucap(client: httpx.Client, data: Json) -> list[str]:
    """Bring the U-CAP up to ``data``; return what was done."""
    done: list[str] = []
    ucap: Json = data["ucap"]
    ucap_id = ucap["id"]
    started = _dated((ucap.get("period") or {}).get("from"))
    existing = client.get(f"/ucaps/{ucap_id}")
    if existing.status_code == 404:
        created = client.post("/ucaps", json=ucap, headers=started)
        created.raise_for_status()
        current: Json = created.json()
        done.append("created")
    else:
        existing.raise_for_status()
        current = existing.json()
        changed = _sections(ucap, current)
        if changed:
            patched = client.patch(f"/ucaps/{ucap_id}", json=changed, headers=started)
            patched.raise_for_status()
            current = patched.json()
            done.append(f"updated {', '.join(sorted(changed))}")
    held = {activity["activity_id"]: activity for activity in current["activities"]}
    # In date order, activities and deliveries together: the U-CAP's stream then runs
    # forward in time, so its state as of any day is a prefix of it.
    steps = [(activity["date"], "activity", activity) for activity in data["activities"]]
    steps += [(_delivery_date(delivery), "delivery", delivery) for delivery in data["deliveries"]]
    for on, kind, item in sorted(steps, key=lambda step: step[0]):
        if kind == "delivery":
            if item["deliverable"] in current["deliverables"]:
                continue
            response = client.post(f"/ucaps/{ucap_id}/deliver", json=item, headers=_dated(on))
            done.append(f"delivered {item['deliverable']['kind']} {item['delivered_on']}")
        elif item["activity_id"] not in held:
            response = client.post(f"/ucaps/{ucap_id}/activities", json=item, headers=_dated(on))
            done.append(f"logged {item['activity_id']}")
        elif held[item["activity_id"]] != item:
            changes = {k: v for k, v in item.items() if k != "activity_id"}
            response = client.patch(
                f"/ucaps/{ucap_id}/activities/{item['activity_id']}",
                json=changes,
                headers=_dated(on),
            )
            done.append(f"edited {item['activity_id']}")
        else:
            continue
        response.raise_for_status()
        current = response.json()
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", default="http://127.0.0.1:8004", help="the reporting service")
    parser.add_argument("--file", type=Path, default=HERE / "granada-ucap.json")
    parser.add_argument(
        "--key",
        default=os.environ.get("UCAP_API_KEY"),
        help="sent as the bearer credential (default: $UCAP_API_KEY)",
    )
    args = parser.parse_args(argv)
    if not args.key:
        parser.error("no credential: pass --key or set UCAP_API_KEY")
    data: Json = json.loads(args.file.read_text(encoding="utf-8"))
    headers = {"Authorization": f"Bearer {args.key}"}
    with httpx.Client(base_url=args.url, timeout=10, headers=headers) as client:
        try:
            done = load_ucap(client, data)
        except httpx.HTTPStatusError as error:
            print(f"{data['ucap']['id']}: {error.response.status_code} {error.response.text}")
            return 1
    print(f"{data['ucap']['id']}: {', '.join(done) or 'up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
