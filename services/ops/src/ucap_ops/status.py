"""`ucap status UCAP_ID`: the live U-CAP status, compiled by the gateway, as Markdown or
JSON, now or as it stood at the end of a past day."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import httpx
import typer

from ucap_ops.gateway_access import (
    DEFAULT_GATEWAY,
    GatewayOption,
    KeyOption,
    describe,
    fail,
    require_key,
    unreachable,
)


class StatusFormat(StrEnum):
    MARKDOWN = "md"
    JSON = "json"


def status_command(
    ucap_id: Annotated[str, typer.Argument(help="The U-CAP's id, e.g. granada-ucap")],
    output: Annotated[
        StatusFormat, typer.Option("--format", help="md (Markdown) or json")
    ] = StatusFormat.MARKDOWN,
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of",
            formats=["%Y-%m-%d"],
            help="The status as it stood at the end of that day (YYYY-MM-DD)",
            show_default=False,
        ),
    ] = None,
    gateway: GatewayOption = None,
    key: KeyOption = None,
) -> None:
    """Print a U-CAP's live status, compiled by the gateway from every service."""
    url = gateway or DEFAULT_GATEWAY
    params = {"format": output.value}
    if as_of is not None:
        params["as_of"] = as_of.date().isoformat()
    headers = {"X-API-Key": require_key(key)}
    try:
        answer = httpx.get(
            f"{url.rstrip('/')}/ucaps/{ucap_id}/status", params=params, headers=headers, timeout=30
        )
    except httpx.HTTPError as error:
        fail(unreachable(url, error))
    if answer.status_code == httpx.codes.NOT_FOUND:
        fail(f"no U-CAP {ucap_id!r}" + _as_of_text(as_of))
    if answer.status_code == httpx.codes.UNAUTHORIZED:
        fail(f"the gateway refuses the key: {describe(answer)}")
    if not answer.is_success:
        fail(f"the gateway answered {answer.status_code}: {describe(answer)}")
    typer.echo(answer.text.rstrip("\n"))


def _as_of_text(as_of: datetime | None) -> str:
    return f" as of {as_of.date().isoformat()}" if as_of is not None else ""
