"""What the benchmarks seed through the gateway: cities, and writes retried until taken."""

import asyncio
import time
from typing import Any

import httpx

RETRIED = (422, 429, 502, 503, 504)


def city_body(city_id: str, country: str) -> dict[str, Any]:
    """A city to register: Spanish ones in Europe, the others in Asia."""
    return {
        "id": city_id,
        "name": city_id.title(),
        "country": country,
        "world_region": "Europe" if country == "ES" else "Asia",
        "population": {"known": False},
        "clusters": ["Smart City"],
    }


async def until_created(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], *, timeout: float = 120
) -> None:
    """POST until 201 (or 409: there already); 422 while a view has not heard of a city
    yet, 429 past a key's rate, 5xx while a service starts."""
    deadline = time.monotonic() + timeout
    while True:
        response = await client.post(path, json=body)
        if response.status_code in (200, 201, 409):
            return
        if response.status_code not in RETRIED or time.monotonic() > deadline:
            raise RuntimeError(f"POST {path}: {response.status_code} {response.text}")
        await asyncio.sleep(1.0 if response.status_code == 429 else 0.3)
