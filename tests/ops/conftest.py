"""The ``ucap`` command's tests: each module runs its own system (databases, topics)."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.stack import Stack, running_stack


@pytest.fixture(scope="module")
def stack(service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(service_env, tmp_path_factory.mktemp("ops-logs")) as running:
        yield running


def listed(stack: Stack, path: str, **params: str) -> list[dict[str, Any]]:
    """Every item of one of the gateway's lists, page after page."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = {**params, "limit": "200", **({"cursor": cursor} if cursor else {})}
        answer = httpx.get(f"{stack.url}{path}", params=query, headers=stack.headers, timeout=30)
        answer.raise_for_status()
        page = answer.json()
        items += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return items
