"""Read a document as JSON or XML, safely: bad data is a ``ValueError`` that says why (the
caller fails that document), never a crash of the execution.

XML with a DOCTYPE is refused before its declarations are read: entity declarations are how
XML reads local files or URLs (XXE) and multiplies a few bytes into gigabytes (entity
expansion), and documents exchanged between systems have no need of them."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

__all__ = ["parse_json", "parse_xml"]


class _NoDoctype(ET.TreeBuilder):
    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise ValueError("XML with a DOCTYPE is refused (its entity declarations could read files or expand "
                         "without bound); remove the <!DOCTYPE ...> declaration")


def parse_xml(data: bytes | str) -> ET.Element:
    parser = ET.XMLParser(target=_NoDoctype())
    try:
        parser.feed(data)
        return parser.close()
    except ET.ParseError as exc:
        raise ValueError(f"not well-formed XML: {exc}") from None
    except RecursionError:
        raise ValueError("XML nested too deeply to read") from None


def parse_json(data: bytes | str) -> object:
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply to read (more than about 1,000 levels)") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc}") from None
