"""A Map's source and target documents in their profile's form: read paths from a source
document, build a target and write it out (CSV record, JSON, XML, database row)."""

from __future__ import annotations

import csv
import io
import json
import math
import xml.etree.ElementTree as ET
from typing import Any

from ..model import Profile
from ..model._pathdata import Match, read_json, read_xml, tag_matches, write_json, write_xml
from ..model._paths import ElementPath
from ._parse import parse_json, parse_xml
from ._profiles import flat_rows

__all__ = ["Source", "Target"]

_TRUE, _FALSE = ("true", "yes", "y", "1"), ("false", "no", "n", "0")


class Source:
    """One source document, parsed once, read by path."""

    def __init__(self, profile: Profile, data: bytes) -> None:
        self.profile = profile
        self.kind = profile.profile_type
        self.row: dict[str, str] = {}
        self.tree: Any = None
        if self.kind == "flat_file":
            names = [f.name for f in profile.fields]
            rows = list(flat_rows(profile, data.decode("utf-8")))
            if len(rows) > 1:
                raise ValueError(f"the document holds {len(rows)} records and a map reads one; split the data "
                                 "first (a Data Process split by line with headers: retain)")
            if not rows:
                raise ValueError("the document holds no record" + (" under its header line" if profile.header else "")
                                 + f"; profile {profile.id} has header: {str(profile.header).lower()} (a split "
                                 "with headers: retain keeps the header line with each record)")
            values = rows[0][1]
            self.row = {name: values[i] if i < len(values) else "" for i, name in enumerate(names)}
        elif self.kind == "xml":
            self.tree = parse_xml(data)
        else:
            self.tree = parse_json(data or b"null")

    def read(self, path: ElementPath) -> list[Match]:
        if self.kind == "flat_file":
            name = path.steps[0].name or ""
            return [((), self.row[name])] if name in self.row else []
        if self.kind == "xml":
            return read_xml(self.tree, path, self.profile.namespaces)
        return read_json(self.tree, path)


class Target:
    """The document a map builds, in its profile's form."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.kind = profile.profile_type
        self.row: dict[str, str] = {}
        self.json: Any = None
        self.xml: ET.Element | None = None

    def write(self, path: ElementPath, value: str, indexes: tuple[int, ...]) -> None:
        if self.kind == "flat_file":
            self.row[path.steps[0].name or ""] = value
        elif self.kind == "xml":
            self.xml = write_xml(self.xml, path, value, indexes, self.profile.namespaces, self.profile.root)
        else:
            self.json = write_json(self.json, path, self._typed(path, value), indexes)

    def _typed(self, path: ElementPath, value: str) -> Any:
        """JSON numbers and booleans where the target profile says so; text otherwise."""
        kind = element_type(self.profile, path)
        if value == "":
            return value if kind == "string" else None
        if kind == "number":
            try:
                number = float(value)
                if not math.isfinite(number):
                    raise ValueError
            except ValueError:
                raise ValueError(f"{value!r} is not a number, and profile {self.profile.id} has "
                                 f"{path} as a number (map a number here, or change the element's type)") from None
            return int(number) if number.is_integer() and "." not in value and "e" not in value.lower() else number
        if kind == "boolean":
            flag = value.strip().lower()
            if flag not in _TRUE + _FALSE:
                raise ValueError(f"{value!r} is not true or false, and profile {self.profile.id} has {path} "
                                 "as a boolean (map true/false, yes/no, y/n or 1/0)")
            return flag in _TRUE
        return value

    def render(self) -> bytes:
        if self.kind == "flat_file":
            return self._csv()
        if self.kind == "xml":
            root = self.xml if self.xml is not None else ET.Element(self.profile.root)
            _profile_order(root, self.profile.elements, self.profile.namespaces)
            for prefix, uri in self.profile.namespaces.items():
                ET.register_namespace(prefix, uri)
            return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=False))
        return json.dumps(self.json if self.json is not None else {}, ensure_ascii=False).encode("utf-8")

    def _csv(self) -> bytes:
        out = io.StringIO()
        names = [f.name for f in self.profile.fields]
        values = [self.row.get(n, "") for n in names]
        # csv quotes fields holding the line terminator (LF) but not a lone CR, which a reader
        # takes as a line break: such a row is written with every field quoted
        if any("\r" in v for v in values):
            writer = csv.writer(out, delimiter=self.profile.delimiter, quotechar=self.profile.quote,
                                lineterminator="\n", quoting=csv.QUOTE_ALL)
        else:
            writer = csv.writer(out, delimiter=self.profile.delimiter, quotechar=self.profile.quote,
                                lineterminator="\n")
        if self.profile.header:
            writer.writerow(names)
        writer.writerow(values)
        return out.getvalue().encode("utf-8")


def element_type(profile: Profile, path: ElementPath) -> str:
    """The declared JSON type at ``path`` of a JSON or database profile ("string" when unknown)."""
    if profile.profile_type == "database":
        name = path.steps[0].name if path.steps else None
        for column in profile.columns:
            if column.name == name:
                return {"text": "string", "date": "string"}.get(column.type, column.type)
        return "string"
    elements: list[Any] = profile.elements
    found: Any = None
    for name in path.names:
        found = next((e for e in elements if getattr(e, "name", None) == name), None)
        if found is None:
            return "string"
        elements = found.elements
    return found.type if found is not None and found.type in ("number", "boolean") else "string"


def _profile_order(node: ET.Element, elements: list[Any], namespaces: dict[str, str]) -> None:
    """The children of ``node`` in the order the profile lists them (as Boomi writes XML),
    whatever order the mappings wrote them in; children the profile does not list go last."""
    def rank(child: ET.Element) -> int:
        return next((i for i, e in enumerate(elements) if tag_matches(child.tag, e.name, namespaces)), len(elements))

    children = list(node)
    ordered = sorted(children, key=rank)  # stable: repetitions keep their order
    if ordered != children:
        for child in children:
            node.remove(child)
        node.extend(ordered)
    for child in ordered:
        rank_at = rank(child)
        if rank_at < len(elements):
            _profile_order(child, elements[rank_at].elements, namespaces)
