"""Reading and writing parsed document data along an :class:`ElementPath`.

Reading gives every match as ``(indexes, value)``: ``indexes`` are the positions taken by the
path's ``[*]`` steps, in order, so that a map writes ``items[*].sku`` read at ``(2,)`` to
``lines[*].code`` at ``(2,)``. Pure: JSON as Python values, XML as ElementTree elements.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from typing import Any

from ._paths import ANY, ElementPath, PathError, Step

__all__ = ["read_json", "write_json", "read_xml", "write_xml", "json_text", "first_text", "Match", "tag_matches"]

Match = tuple[tuple[int, ...], Any]


def json_text(value: Any) -> str:
    """A JSON value as the text a value source gives: scalars as written, null as empty,
    objects and arrays as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def read_json(data: Any, path: ElementPath) -> list[Match]:
    return list(_walk_json(data, path.steps, ()))


def _walk_json(node: Any, steps: tuple[Step, ...], taken: tuple[int, ...]) -> Iterator[Match]:
    if not steps:
        yield taken, node
        return
    step, rest = steps[0], steps[1:]
    if step.index is not None:
        if not isinstance(node, list):
            return
        if step.index == ANY:
            for i, item in enumerate(node):
                yield from _walk_json(item, rest, taken + (i,))
        elif isinstance(step.index, int) and step.index < len(node):
            yield from _walk_json(node[step.index], rest, taken)
        return
    name = step.name or ""
    if isinstance(node, dict):
        if name in node:
            yield from _walk_json(node[name], rest, taken)
    elif isinstance(node, list) and name.isdigit() and int(name) < len(node):  # langs.0, as before
        yield from _walk_json(node[int(name)], rest, taken)


def first_text(matches: list[Match]) -> str:
    return json_text(matches[0][1]) if matches else ""


def write_json(data: Any, path: ElementPath, value: Any, indexes: tuple[int, ...] = ()) -> Any:
    """Set ``value`` at ``path`` in ``data`` (made when None), creating objects and arrays on
    the way; each ``[*]`` takes the next of ``indexes`` (0 when there are none left).
    Returns the (possibly new) top."""
    if not path.steps:
        return value
    holder: list[Any] = [data]
    parent: Any = holder
    key: Any = 0
    queue = list(indexes)
    for number, step in enumerate(path.steps):
        want_list = step.index is not None
        current = parent[key]
        if want_list:
            if not isinstance(current, list):
                current = parent[key] = []
            at = (queue.pop(0) if queue else 0) if step.index == ANY else int(step.index)  # type: ignore[arg-type]
            while len(current) <= at:
                current.append(None)
            parent, key = current, at
        else:
            if not isinstance(current, dict):
                current = parent[key] = {}
            parent, key = current, step.name
            if key not in current:
                current[key] = None
        if number == len(path.steps) - 1:
            parent[key] = value
    return holder[0]


# -- XML ------------------------------------------------------------------------------------------
def tag_matches(tag: str, name: str, namespaces: Mapping[str, str]) -> bool:
    if tag == name:
        return True
    prefix, colon, local = name.partition(":")
    if colon and prefix in namespaces:
        return tag == "{" + namespaces[prefix] + "}" + local
    return tag.rpartition("}")[2] == name if tag.startswith("{") else False


def _qualified(name: str, namespaces: Mapping[str, str]) -> str:
    prefix, colon, local = name.partition(":")
    if colon and prefix in namespaces:
        return "{" + namespaces[prefix] + "}" + local
    return name


def read_xml(root: ET.Element, path: ElementPath, namespaces: Mapping[str, str] | None = None) -> list[Match]:
    """Matches of ``path`` under ``root``: the first step names the root element (with a
    leading ``/`` it must); a path whose first step is not the root's name reads from the
    root's children, as ``address/city`` did before paths were unified."""
    ns = namespaces or {}
    steps = path.steps
    if steps and steps[0].name is not None and not steps[0].attribute and tag_matches(root.tag, steps[0].name, ns):
        steps = steps[1:]
        if steps and steps[0].index is not None:
            if steps[0].index not in (0, ANY):
                return []
            steps = steps[1:]
    elif path.absolute:
        return []
    return list(_walk_xml([root], steps, (), ns))


def _walk_xml(nodes: list[ET.Element], steps: tuple[Step, ...], taken: tuple[int, ...],
              ns: Mapping[str, str]) -> Iterator[Match]:
    if not steps:
        if nodes:
            yield taken, (nodes[0].text or "").strip()
        return
    step, rest = steps[0], steps[1:]
    node = nodes[0] if nodes else None
    if node is None:
        return
    if step.attribute:
        key = _qualified(step.name or "", ns)
        if key in node.attrib:
            yield taken, node.attrib[key]
        return
    children = [c for c in node if tag_matches(c.tag, step.name or "", ns)]
    if rest and rest[0].index is not None:
        index, rest = rest[0].index, rest[1:]
        if index == ANY:
            for i, child in enumerate(children):
                yield from _walk_xml([child], rest, taken + (i,), ns)
            return
        children = children[int(index):int(index) + 1]
    yield from _walk_xml(children[:1], rest, taken, ns)


def write_xml(root: ET.Element | None, path: ElementPath, value: str, indexes: tuple[int, ...] = (),
              namespaces: Mapping[str, str] | None = None, root_name: str = "") -> ET.Element:
    """Set ``value`` at ``path`` (made when ``root`` is None); returns the root. The path's
    first step names the root element; with ``root_name`` (the profile's root), a path that
    does not start with it is read from the root's children (``address/city``, ``@id``), as
    :func:`read_xml` reads it."""
    ns = namespaces or {}
    steps = list(path.steps)
    starts_at_root = bool(steps) and steps[0].name is not None and not steps[0].attribute and (
        not root_name or _qualified(steps[0].name or "", ns) == _qualified(root_name, ns))
    if starts_at_root:
        first_name = steps.pop(0).name or ""
        if steps and steps[0].index is not None:
            steps.pop(0)
    elif root_name and not path.absolute:
        first_name = root_name
    else:
        raise PathError(f"{path}: an XML path to write starts with the root element's name")
    if root is None:
        root = ET.Element(_qualified(first_name, ns))
    elif not tag_matches(root.tag, first_name, ns):
        raise PathError(f"{path}: the root element is {root.tag}, not {first_name}")
    node, queue = root, list(indexes)
    while steps:
        step = steps.pop(0)
        if step.attribute:
            node.set(_qualified(step.name or "", ns), value)
            return root
        at = 0
        if steps and steps[0].index is not None:
            index = steps.pop(0).index
            at = (queue.pop(0) if queue else 0) if index == ANY else int(index)  # type: ignore[arg-type]
        children = [c for c in node if tag_matches(c.tag, step.name or "", ns)]
        while len(children) <= at:
            children.append(ET.SubElement(node, _qualified(step.name or "", ns)))
        node = children[at]
    node.text = value
    return root
