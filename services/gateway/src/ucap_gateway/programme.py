"""The programme page: every U-CAP with its figures, flags and a link to its status."""

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

_environment = Environment(
    loader=PackageLoader("ucap_gateway", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
    trim_blocks=True,
    lstrip_blocks=True,
)

GROUPS = (
    ("by_cluster", "Cluster"),
    ("by_theme", "Theme"),
    ("by_sdg", "SDG"),
    ("by_country", "Country"),
)


def _context(programme: dict[str, Any], ucaps: list[dict[str, Any]]) -> dict[str, Any]:
    return {"p": programme, "ucaps": ucaps, "groups": GROUPS}


def programme_markdown(programme: dict[str, Any], ucaps: list[dict[str, Any]]) -> str:
    return _environment.get_template("programme.md.j2").render(**_context(programme, ucaps))


def programme_html(programme: dict[str, Any], ucaps: list[dict[str, Any]]) -> str:
    return _environment.get_template("programme.html.j2").render(**_context(programme, ucaps))
