"""The few SVG elements the pages' pictures are drawn with, as strings with escaped text.

Every picture is an ``<svg role="img">`` labelled by its own ``<title>`` and ``<desc>``;
the page beside it holds a table of the same data. Colours are few and dark enough
to print, and every mark also differs by shape or carries its value as text.
"""

from html import escape

INK = "#1b1b1b"
BLUE = "#003399"
RED = "#a33333"
GREY = "#767676"
PALE = "#e4e8f2"
FONT = 'font-family="Georgia, serif" font-size="12"'


def _attributes(attributes: dict[str, str | float]) -> str:
    return "".join(
        f' {name.rstrip("_").replace("_", "-")}="{escape(str(value))}"'
        for name, value in attributes.items()
    )


def element(name: str, content: str = "", **attributes: str | float) -> str:
    """An element; ``content`` is markup already (escape text with :func:`text`)."""
    return f"<{name}{_attributes(attributes)}>{content}</{name}>"


def text(x: float, y: float, words: str, **attributes: str | float) -> str:
    return element("text", escape(words), x=round(x, 1), y=round(y, 1), **attributes)


def tooltip(words: str) -> str:
    """A mark's own ``<title>``: what a pointer shows, and what a screen reader reads."""
    return element("title", escape(words))


def shortened(words: str, most: int) -> str:
    """A label that fits its place; the mark's tooltip and the table say it whole."""
    return words if len(words) <= most else words[: most - 1] + "…"


def picture(chart_id: str, *, title: str, desc: str, width: int, height: int, body: str) -> str:
    """The whole picture, scaled to the page's width, named for assistive technology."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{escape(chart_id)}" class="chart" '
        f'role="img" aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f"{FONT}>"
        + element("title", escape(title), id=f"{chart_id}-title")
        + element("desc", escape(desc), id=f"{chart_id}-desc")
        + body
        + "</svg>"
    )


def bar_rows(
    chart_id: str,
    rows: list[tuple[str, int]],
    *,
    title: str,
    desc: str,
    width: int = 640,
    fill: str = BLUE,
) -> str:
    """Horizontal bars, one per row, each with its label and its count written beside it."""
    label_width, row_height, top = 190, 26, 8
    most = max((count for _, count in rows), default=0) or 1
    scale = (width - label_width - 60) / most
    body = []
    for index, (label, count) in enumerate(rows):
        y = top + index * row_height
        length = max(count * scale, 1.0)
        body.append(
            element(
                "g",
                tooltip(f"{label}: {count}")
                + text(label_width - 8, y + 15, shortened(label, 26), text_anchor="end", fill=INK)
                + element(
                    "rect",
                    x=label_width,
                    y=y + 3,
                    width=round(length, 1),
                    height=row_height - 8,
                    fill=fill,
                )
                + text(label_width + length + 6, y + 15, str(count), fill=INK),
            )
        )
    height = top * 2 + max(len(rows), 1) * row_height
    if not rows:
        body.append(text(8, top + 15, "Nothing to show yet.", fill=GREY))
    return picture(chart_id, title=title, desc=desc, width=width, height=height, body="".join(body))
