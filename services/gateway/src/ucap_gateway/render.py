"""Markdown and HTML renderings of a compiled status, from templates."""

from jinja2 import Environment, PackageLoader, select_autoescape

from ucap_gateway.compose import CompiledStatus
from ucap_gateway.summary import summarise

_environment = Environment(
    loader=PackageLoader("ucap_gateway", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def markdown(compiled: CompiledStatus) -> str:
    return _environment.get_template("status.md.j2").render(s=summarise(compiled))


def html(compiled: CompiledStatus, *, live_url: str | None = None) -> str:
    return _environment.get_template("status.html.j2").render(
        s=summarise(compiled), live_url=live_url
    )
