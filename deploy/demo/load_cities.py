"""Load the cities of the Granada U-CAP into a running cities service.

    python deploy/demo/load_cities.py [--url http://127.0.0.1:8001] [--file granada-cities.json]
                                      [--key KEY]

Each city is registered with its stakeholders in one request. Idempotent: a
city that is already registered (409) is skipped, never changed.

``--key`` (default: the ``UCAP_API_KEY`` environment variable) is sent as
``Authorization: Bearer <key>``: an admin API key against the gateway, or a
token for the ``cities`` audience against the service itself. The events
name the key's owner as their actor.
"""

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx

DEFAULT_FILE = Path(__file__).resolve().parent / "granada-cities.json"


def load(
    client: httpx.Client, cities: list[dict[str, Any]], occurred_at: str | None = None
) -> tuple[int, int]:
    """Register each city; the numbers created and skipped. Raises on any other answer.

    ``occurred_at`` dates the registrations in the cooperation's own timeline
    (the ``X-UCAP-Occurred-At`` header), so a status ``as_of`` a past day shows them.
    """
    created = skipped = 0
    headers: dict[str, str] = {}
    if occurred_at:
        headers["X-UCAP-Occurred-At"] = occurred_at
    for city in cities:
        response = client.post("/cities", json=city, headers=headers)
        if response.status_code == httpx.codes.CONFLICT:
            skipped += 1
            print(f"skipped {city['id']}: already registered")
        elif response.status_code == httpx.codes.CREATED:
            created += 1
            print(f"created {city['id']}")
        else:
            raise RuntimeError(
                f"registering {city['id']}: HTTP {response.status_code} {response.text}"
            )
    return created, skipped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", default="http://127.0.0.1:8001", help="the cities service")
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE, help="the cities to load")
    parser.add_argument(
        "--key",
        default=os.environ.get("UCAP_API_KEY"),
        help="sent as the bearer credential (default: $UCAP_API_KEY)",
    )
    args = parser.parse_args(argv)
    if not args.key:
        parser.error("no credential: pass --key or set UCAP_API_KEY")
    data = json.loads(args.file.read_text(encoding="utf-8"))
    cities: list[dict[str, Any]] = data["cities"]
    headers = {"Authorization": f"Bearer {args.key}"}
    with httpx.Client(base_url=args.url, timeout=30, headers=headers) as client:
        try:
            created, skipped = load(client, cities, data.get("occurred_at"))
        except (httpx.HTTPError, RuntimeError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    print(f"created {created}, skipped {skipped}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
