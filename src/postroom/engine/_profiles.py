"""Validation of a document against its profile (CONTRACT.md, "Profiles"): a document that
does not fit fails alone, with the profile, the element and the reason."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from typing import Any

from ..model import Profile
from ..model._pathdata import tag_matches
from ..model._profiles import Column, JsonElement, ProfileField, XmlElement
from ._formats import parse_date, parse_number
from ._parse import parse_json, parse_xml

__all__ = ["profile_problems", "flat_rows", "record_problems"]

_BOOLEANS = {"true", "false", "yes", "no", "y", "n", "1", "0", ""}


def profile_problems(profile: Profile, data: bytes) -> list[str]:
    """Every way ``data`` does not fit ``profile`` (empty when it fits), each naming the element."""
    kind = profile.profile_type
    try:
        if kind == "flat_file":
            return list(_flat_problems(profile, data.decode("utf-8")))
        if kind == "json":
            return list(_json_problems(profile.elements, parse_json(data or b"null"), ""))
        if kind == "xml":
            return list(_xml_problems(profile, parse_xml(data)))
        return list(_database_problems(profile.columns, parse_json(data or b"null")))
    except (ValueError, UnicodeDecodeError) as exc:
        return [f"the document is not {kind.replace('_', ' ')} data: {exc}"]


def flat_rows(profile: Profile, text: str) -> Iterator[tuple[int, list[str]]]:
    """The data rows of a flat-file document with their line numbers (header skipped)."""
    if profile.layout == "fixed_width":
        for n, line in _fixed_lines(profile, text):
            row, at = [], 0
            for field in profile.fields:
                row.append(line[at:at + (field.length or 0)].strip())
                at += field.length or 0
            yield n, row
        return
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=profile.delimiter, quotechar=profile.quote)
    for number, row in enumerate(reader, 1):
        if row and (number > 1 or not profile.header):
            yield reader.line_num, row


def _fixed_lines(profile: Profile, text: str) -> list[tuple[int, str]]:
    """The data lines of a fixed-width document, numbered (blank lines and the header left out)."""
    lines = [(n, line.rstrip("\r")) for n, line in enumerate(text.split("\n"), 1) if line.strip()]
    return lines[1 if profile.header else 0:]


def _overruns(profile: Profile, text: str) -> dict[int, str]:
    """Fixed width: the lines longer than their fields, by line number, with what is lost."""
    if profile.layout != "fixed_width":
        return {}
    width = sum(f.length or 0 for f in profile.fields)
    found = {}
    for line, data in _fixed_lines(profile, text):
        rest = data[width:].rstrip()
        if rest:
            found[line] = (f"line {line}: is {len(data.rstrip())} characters long, and the fields take {width}; "
                           f"the rest ({rest[:20]!r}) is in no field (give the fields their lengths)")
    return found


def _flat_problems(profile: Profile, text: str) -> Iterator[str]:
    overruns = _overruns(profile, text)
    for line, row in flat_rows(profile, text):
        for problem in record_problems(profile, row):
            yield f"line {line}: {problem}"
        if line in overruns:
            yield overruns[line]


def record_problems(profile: Profile, row: list[str]) -> list[str]:
    """How one flat-file record (its fields, by position) does not fit ``profile``'s fields."""
    problems = []
    if profile.layout != "fixed_width" and len(row) > len(profile.fields) and profile.fields:
        problems.append(f"{len(row)} fields, and the profile has {len(profile.fields)}")
    for index, field in enumerate(profile.fields):
        problem = _value_problem(field, row[index] if index < len(row) else "")
        if problem:
            problems.append(f"field {field.name}: {problem}")
    return problems


def _value_problem(field: ProfileField | Column, value: str) -> str | None:
    if value.strip() == "":
        return "is required and empty" if field.required else None
    if isinstance(field, ProfileField) and field.max_length and len(value) > field.max_length:
        return f"is {len(value)} characters long, more than its max_length {field.max_length}"
    fmt = field.format
    try:
        if field.type == "number":
            parse_number(value, fmt)
        elif field.type == "date":
            parse_date(value, fmt)
    except ValueError as exc:
        return str(exc)
    if field.type == "boolean" and value.strip().lower() not in _BOOLEANS:
        return f"{value!r} is not a boolean (true or false)"
    return None


_JSON_TYPES: dict[str, tuple[type, ...]] = {"object": (dict,), "array": (list,), "string": (str,),
                                            "number": (int, float), "boolean": (bool,)}


def _json_type_fits(kind: str, value: Any) -> bool:
    if isinstance(value, bool) and kind == "number":
        return False
    return isinstance(value, _JSON_TYPES[kind])


def _json_problems(elements: list[JsonElement], node: Any, where: str) -> Iterator[str]:
    if not isinstance(node, dict):
        yield f"{where or 'the document'}: is {_json_kind(node)}, and the profile expects an object"
        return
    for element in elements:
        path = f"{where}.{element.name}" if where else element.name
        if element.name not in node or node[element.name] is None:
            if element.required:
                yield f"{path}: is required and missing"
            continue
        yield from _json_element(element, node[element.name], path)


def _json_element(element: JsonElement, value: Any, path: str) -> Iterator[str]:
    if not _json_type_fits(element.type, value):
        yield f"{path}: is {_json_kind(value)}, and the profile expects {element.type}"
        return
    if element.type == "object":
        yield from _json_problems(element.elements, value, path)
    elif element.type == "array":
        entry = element.items or ("object" if element.elements else None)
        for i, item in enumerate(value):
            if entry == "object":
                yield from _json_problems(element.elements, item, f"{path}[{i}]")
            elif entry and not _json_type_fits(entry, item):
                yield f"{path}[{i}]: is {_json_kind(item)}, and the profile expects {entry}"


def _json_kind(value: Any) -> str:
    for name, kinds in (("null", (type(None),)), ("a boolean", (bool,)), ("a number", (int, float)),
                        ("a string", (str,)), ("an object", (dict,)), ("an array", (list,))):
        if isinstance(value, kinds):
            return name
    return type(value).__name__


def _xml_problems(profile: Profile, root: ET.Element) -> Iterator[str]:
    ns = profile.namespaces
    if not tag_matches(root.tag, profile.root, ns):
        yield f"the root element is {root.tag}, and the profile expects {profile.root}"
        return
    yield from _xml_node(profile.root, profile.attributes, profile.elements, root, ns)


def _xml_node(path: str, attributes: list[Any], elements: list[XmlElement], node: ET.Element,
              ns: Mapping[str, str]) -> Iterator[str]:
    for attribute in attributes:
        if attribute.required and not any(tag_matches(k, attribute.name, ns) for k in node.attrib):
            yield f"{path}/@{attribute.name}: is required and missing"
    for element in elements:
        found = [c for c in node if tag_matches(c.tag, element.name, ns)]
        where = f"{path}/{element.name}"
        if not found and element.required:
            yield f"{where}: is required and missing"
        if len(found) > 1 and not element.repeating:
            yield f"{where}: appears {len(found)} times, and the profile has it once (set repeating: true)"
        for child in found:
            text = (child.text or "").strip()
            if text and element.type in ("number", "date", "boolean"):
                problem = _value_problem(ProfileField(name=element.name, type=_flat_type(element.type),
                                                      format=element.format), text)
                if problem:
                    yield f"{where}: {problem}"
            yield from _xml_node(where, element.attributes, element.elements, child, ns)


def _flat_type(kind: str) -> Any:
    return {"string": "text"}.get(kind, kind)


def _database_problems(columns: list[Column], node: Any) -> Iterator[str]:
    rows = node if isinstance(node, list) else [node]
    names = {c.name for c in columns}
    for number, row in enumerate(rows):
        where = f"row {number + 1}: " if isinstance(node, list) else ""
        if not isinstance(row, dict):
            yield f"{where}is {_json_kind(row)}, and a database row is an object of columns"
            continue
        for key in row:
            if key not in names:
                yield f"{where}column {key}: is not a column of the profile (columns: {', '.join(sorted(names))})"
        for column in columns:
            value = row.get(column.name)
            if value is None:
                if column.required:
                    yield f"{where}column {column.name}: is required and missing"
                continue
            problem = _value_problem(column, value if isinstance(value, str) else str(value))
            if problem and not (column.type == "number" and isinstance(value, int | float)):
                yield f"{where}column {column.name}: {problem}"
