"""The pieces every part of the IATI document is built from: elements, narratives, numbers."""

import re
import xml.etree.ElementTree as ET
from decimal import Decimal

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Characters XML 1.0 cannot hold: the tree would write them, and no reader would parse them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def text(value: str) -> str:
    return _NOT_XML.sub("", value)


def sub(parent: ET.Element, tag: str, **attributes: str) -> ET.Element:
    """A child element; an attribute named ``iso_date`` is written ``iso-date``."""
    return ET.SubElement(parent, tag, {name.replace("_", "-"): v for name, v in attributes.items()})


def narrative(parent: ET.Element, value: str, language: str | None = None) -> ET.Element:
    element = sub(parent, "narrative")
    if language:
        element.set(XML_LANG, language)
    element.text = text(value)
    return element


def decimal_text(value: float | str | Decimal) -> str:
    """A number as IATI's xsd:decimal: no exponent, no trailing zeros."""
    shown = format(Decimal(str(value)), "f")
    return shown.rstrip("0").rstrip(".") if "." in shown else shown


def shares(count: int) -> list[str]:
    """``count`` percentages that add up to exactly 100, as equal as two decimals allow."""
    if count == 0:
        return []
    each = (Decimal(100) / count).quantize(Decimal("0.01"))
    return [decimal_text(each)] * (count - 1) + [decimal_text(Decimal(100) - each * (count - 1))]
