"""HTML and Markdown pages from the templates: statuses, the programme, the log-in form."""

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


def page(template: str, **context: object) -> str:
    return _environment.get_template(template).render(**context)


def markdown(compiled: CompiledStatus) -> str:
    return page("status.md.j2", s=summarise(compiled))


def html(compiled: CompiledStatus, *, live_url: str | None = None) -> str:
    """The page; with ``live_url``, it follows that feed and refreshes itself."""
    return page(
        "status.html.j2",
        s=summarise(compiled),
        live_url=live_url,
        etag=compiled.etag().strip('"'),
    )
