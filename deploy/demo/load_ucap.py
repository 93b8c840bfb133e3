"""Load Granada's U-CAP into a running reporting service.

    python deploy/demo/load_ucap.py [--url http://127.0.0.1:8004] [--file granada-ucap.json]

Idempotent: the U-CAP is created once, then its sections are patched only
where they differ from the file; activities are logged when missing and
edited when they differ; a delivery is recorded only when its deliverable is
not there yet.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
ACTOR = {"X-UCAP-Actor": "ops:demo-loader"}
Json = dict[str, Any]


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
    existing = client.get(f"/ucaps/{ucap_id}")
    if existing.status_code == 404:
        created = client.post("/ucaps", json=ucap, headers=ACTOR)
        created.raise_for_status()
        current: Json = created.json()
        done.append("created")
    else:
        existing.raise_for_status()
        current = existing.json()
        changed = _sections(ucap, current)
        if changed:
            patched = client.patch(f"/ucaps/{ucap_id}", json=changed, headers=ACTOR)
            patched.raise_for_status()
            current = patched.json()
            done.append(f"updated {', '.join(sorted(changed))}")
    held = {activity["activity_id"]: activity for activity in current["activities"]}
    for activity in data["activities"]:
        activity_id = activity["activity_id"]
        if activity_id not in held:
            response = client.post(f"/ucaps/{ucap_id}/activities", json=activity, headers=ACTOR)
            done.append(f"logged {activity_id}")
        elif held[activity_id] != activity:
            changes = {k: v for k, v in activity.items() if k != "activity_id"}
            response = client.patch(
                f"/ucaps/{ucap_id}/activities/{activity_id}", json=changes, headers=ACTOR
            )
            done.append(f"edited {activity_id}")
        else:
            continue
        response.raise_for_status()
        current = response.json()
    for delivery in data["deliveries"]:
        if delivery["deliverable"] in current["deliverables"]:
            continue
        response = client.post(f"/ucaps/{ucap_id}/deliver", json=delivery, headers=ACTOR)
        response.raise_for_status()
        current = response.json()
        done.append(f"delivered {delivery['deliverable']['kind']} {delivery['delivered_on']}")
    return done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", default="http://127.0.0.1:8004", help="the reporting service")
    parser.add_argument("--file", type=Path, default=HERE / "granada-ucap.json")
    args = parser.parse_args()
    data: Json = json.loads(args.file.read_text())
    with httpx.Client(base_url=args.url, timeout=10) as client:
        try:
            done = load_ucap(client, data)
        except httpx.HTTPStatusError as error:
            print(f"{data['ucap']['id']}: {error.response.status_code} {error.response.text}")
            return 1
    print(f"{data['ucap']['id']}: {', '.join(done) or 'up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
