"""Load Granada's MoUs into a running MoUs service.

    python deploy/demo/load_mous.py [--url http://127.0.0.1:8002] [--file granada-mous.json]
                                    [--key KEY]

Idempotent: an existing MoU is not drafted again, and a party that has
signed already is not signed again. The party cities must be known to the
MoUs service first (registered through the cities service).

``--key`` (default: the environment's ``UCAP_API_KEY``) is sent as
``Authorization: Bearer <key>``: an API key when ``--url`` is the gateway, a
token for the ``mous`` audience when it is the service itself. It must be an
operator's (admin): the loader signs for every party city, and a city's key
signs only for its own city.
"""

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent


def _dated(occurred_at: str | None) -> dict[str, str]:
    return {"X-UCAP-Occurred-At": occurred_at} if occurred_at else {}


def load(client: httpx.Client, mou: dict[str, Any]) -> list[str]:
    """Bring one MoU up to the file; return what was done."""
    done: list[str] = []
    signatures: list[dict[str, Any]] = mou.pop("signatures", [])
    existing = client.get(f"/mous/{mou['id']}")
    if existing.status_code == 404:
        # Dated in the cooperation's timeline: drafted when first signed.
        first_signed = min((s["signed_on"] for s in signatures), default=None)
        created = client.post("/mous", json=mou, headers=_dated(first_signed))
        created.raise_for_status()
        current = created.json()
        done.append("drafted")
    else:
        existing.raise_for_status()
        current = existing.json()
    signed = {signature["city_id"] for signature in current["signatures"]}
    for signature in signatures:
        if signature["city_id"] in signed:
            continue
        response = client.post(
            f"/mous/{mou['id']}/signatures", json=signature, headers=_dated(signature["signed_on"])
        )
        response.raise_for_status()
        done.append(f"signed by {signature['city_id']}")
    return done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", default="http://127.0.0.1:8002", help="the MoUs service")
    parser.add_argument("--file", type=Path, default=HERE / "granada-mous.json")
    parser.add_argument(
        "--key",
        default=os.environ.get("UCAP_API_KEY"),
        help="sent as the bearer credential (default: $UCAP_API_KEY)",
    )
    args = parser.parse_args()
    if not args.key:
        parser.error("no credential: pass --key or set UCAP_API_KEY")
    data = json.loads(args.file.read_text())
    auth = {"Authorization": f"Bearer {args.key}"}
    with httpx.Client(base_url=args.url, headers=auth, timeout=10) as client:
        for mou in data["mous"]:
            try:
                done = load(client, dict(mou))
            except httpx.HTTPStatusError as error:
                print(f"{mou['id']}: {error.response.status_code} {error.response.text}")
                return 1
            print(f"{mou['id']}: {', '.join(done) or 'up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
