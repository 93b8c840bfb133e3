"""What the commands that go through the gateway share: its URL and key options, the
one-line error they exit with, and an API error body put into words."""

from typing import Annotated, Any, NoReturn

import httpx
import typer

DEFAULT_GATEWAY = "http://127.0.0.1:8000"

GatewayOption = Annotated[
    str | None,
    typer.Option(
        "--gateway",
        envvar="UCAP_GATEWAY_URL",
        help=f"The gateway's URL (default {DEFAULT_GATEWAY})",
        show_default=False,
    ),
]
KeyOption = Annotated[
    str | None,
    typer.Option(
        "--key", envvar="UCAP_API_KEY", help="An API key of the gateway", show_default=False
    ),
]


def fail(message: str, code: int = 1) -> NoReturn:
    """Exit with ``error: <message>`` on stderr: the end of every expected failure."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def require_key(key: str | None) -> str:
    if not key:
        fail("no API key: pass --key or set UCAP_API_KEY")
    return key


def unreachable(url: str, error: httpx.HTTPError) -> str:
    return f"cannot reach the gateway at {url}: {error.__class__.__name__} {error}".rstrip()


def describe(response: httpx.Response) -> str:
    """The API's own words for a refusal: the error body's ``detail`` (a string, or a 422's
    problems as ``loc: msg``), else the body as it came."""
    try:
        body: Any = response.json()
    except ValueError:
        return response.text.strip()[:500] or response.reason_phrase
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):
        return "; ".join(_problem(problem) for problem in detail)
    if isinstance(detail, str):
        return detail
    return response.text.strip()[:500]


def problems_of(response: httpx.Response) -> list[Any]:
    """The field problems of a 422: the error body's ``detail`` list."""
    try:
        body: Any = response.json()
    except ValueError:
        return []
    if not isinstance(body, dict):
        return []
    problems = body.get("detail")
    return problems if isinstance(problems, list) else []


def _problem(problem: object) -> str:
    if not isinstance(problem, dict):
        return str(problem)
    loc = ".".join(str(part) for part in problem.get("loc", []))
    return f"{loc}: {problem.get('msg', '')}" if loc else str(problem.get("msg", ""))
