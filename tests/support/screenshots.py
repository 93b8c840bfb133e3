"""Whole-page screenshots kept as test artefacts, and what a test can check of them.

The PNGs go to ``.artifacts/screenshots/`` at the repository's root (ignored by git,
never committed), named by the test that took them, so a run leaves them to look at.
"""

import base64
import math
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.browser import Page

ARTIFACTS = Path(__file__).resolve().parents[2] / ".artifacts" / "screenshots"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Png:
    width: int
    height: int
    distinct_bytes: int
    """Distinct byte values of the decoded rows: a blank page has a handful."""


def whole_page(page: Page, name: str) -> tuple[Path, tuple[int, int]]:
    """The whole page (beyond the window) as ``<name>.png``; and the page's CSS size."""
    metrics = page.call("Page.getLayoutMetrics")
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    width, height = math.ceil(size["width"]), math.ceil(size["height"])
    shot = page.call(
        "Page.captureScreenshot",
        format="png",
        captureBeyondViewport=True,
        clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    return path, (width, height)


def read_png(path: Path) -> Png:
    """Its size from the header, and how varied its pixels are (no image library needed)."""
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE), f"{path} is no PNG"
    offset, idat = len(PNG_SIGNATURE), b""
    width = height = 0
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    return Png(width=width, height=height, distinct_bytes=len(set(zlib.decompress(idat))))


PICTURE_LABELS = """
Array.from(document.querySelectorAll('svg[role="img"]')).map(function (svg) {
  var ids = (svg.getAttribute('aria-labelledby') || '').split(' ').filter(Boolean);
  return {
    id: svg.id,
    labels: ids.map(function (id) {
      var found = document.getElementById(id);
      return found ? found.textContent : null;
    }),
    shown: svg.getBoundingClientRect().height > 0
  };
})
"""


def picture_labels(page: Page) -> list[dict[str, Any]]:
    """Each SVG picture of the page: its id, the texts it is labelled by, whether shown."""
    found: list[dict[str, Any]] = page.evaluate(PICTURE_LABELS)
    return found
