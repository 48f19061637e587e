"""Paths into document data (CONTRACT.md, "Paths into document data"): one syntax for
``profile_element``, map ``from``/``to`` and database parameters.

* flat file and database: a field (column) by its name, as written;
* JSON: a dotted path from the top, names as written (spaces allowed), ``[0]`` for an entry
  of an array and ``[*]`` for every entry (``items[*].sku``); a name holding ``.``, ``[``,
  ``]`` or ``\\`` writes it after a backslash (``a\\.b`` is the one key ``a.b``); a leading
  ``$.`` is accepted and means the top;
* XML: an element path from the root element (``patient/address/city``), an attribute as
  the last step (``@id``), ``[0]``/``[*]`` after an element for its repetitions, a leading
  ``/`` accepted.

Pure: parsing and formatting here, reading and writing of parsed data in
:mod:`postroom.model._pathdata`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["ElementPath", "Step", "PathError", "parse_path", "format_path", "PathKind", "ANY"]

PathKind = Literal["flat_file", "json", "xml", "database"]
ANY = "*"
"""The index of a ``[*]`` step: every entry."""

_SPECIAL = ".[]\\"


class PathError(ValueError):
    """A path that cannot be read; the message says where and how to write it."""


@dataclass(frozen=True, slots=True)
class Step:
    """One step: a name (a key, an element, a field), or an index into the repetitions of the
    step before (``int`` or :data:`ANY`), or an XML attribute (``attribute`` set)."""

    name: str | None = None
    index: int | str | None = None
    attribute: bool = False


@dataclass(frozen=True, slots=True)
class ElementPath:
    kind: PathKind
    steps: tuple[Step, ...]
    absolute: bool = False  # XML written with a leading "/"

    @property
    def repeating(self) -> bool:
        return any(s.index == ANY for s in self.steps)

    @property
    def names(self) -> tuple[str, ...]:
        """The names along the path, without indexes (``items[*].sku`` → ``items``, ``sku``)."""
        return tuple(s.name for s in self.steps if s.name is not None)

    def __str__(self) -> str:
        return format_path(self)


def parse_path(text: str, kind: PathKind) -> ElementPath:
    """Read ``text`` as a path into a document of ``kind``; :class:`PathError` when it is not one."""
    if not isinstance(text, str) or text == "":
        raise PathError("the path is empty; name a field, a JSON path such as Record.Email or an XML path "
                        "such as patient/address/city")
    if kind in ("flat_file", "database"):
        return ElementPath(kind, (Step(name=text),))
    if kind == "json":
        return ElementPath(kind, _json_steps(text))
    return _xml_path(text)


def _bracket(text: str, i: int) -> tuple[int | str, int]:
    """The index of the ``[...]`` opening at ``text[i]`` and the position after it."""
    end = text.find("]", i)
    if end < 0:
        raise PathError(f"{text!r}: the [ at character {i + 1} is not closed; write [0] or [*]")
    inner = text[i + 1:end].strip()
    if inner == ANY:
        return ANY, end + 1
    if inner.isdigit():
        return int(inner), end + 1
    raise PathError(f"{text!r}: [{inner}] at character {i + 1} is not an index; write [0] for the first "
                    "entry or [*] for every entry (a name holding [ writes it as \\[)")


def _json_steps(text: str) -> tuple[Step, ...]:
    if text == "$":
        return ()
    if text.startswith("$.") or text.startswith("$["):
        text = text[2:] if text.startswith("$.") else text[1:]
    steps: list[Step] = []
    i, n = 0, len(text)
    expect_name = True
    while i < n:
        if text[i] == "[":
            index, i = _bracket(text, i)
            steps.append(Step(index=index))
            expect_name = False
            continue
        if not expect_name:
            if text[i] != ".":
                raise PathError(f"{text!r}: a . or [ must follow ] at character {i + 1}")
            i += 1
        name, i = _json_name(text, i)
        steps.append(Step(name=name))
        expect_name = False
    return tuple(steps)


def _json_name(text: str, i: int) -> tuple[str, int]:
    out: list[str] = []
    n = len(text)
    while i < n and text[i] not in ".[":
        if text[i] == "]":
            raise PathError(f"{text!r}: a ] at character {i + 1} closes nothing (write \\] in a name)")
        if text[i] == "\\":
            if i + 1 >= n:
                raise PathError(f"{text!r}: the path ends with a lone \\; write \\\\ for a backslash")
            i += 1
        out.append(text[i])
        i += 1
    if not out:
        raise PathError(f"{text!r}: an empty name at character {i + 1}; remove the extra . or write the name")
    return "".join(out), i


def _xml_path(text: str) -> ElementPath:
    absolute = text.startswith("/")
    body = text[1:] if absolute else text
    steps: list[Step] = []
    parts = body.split("/")
    for number, part in enumerate(parts):
        if part.startswith("@"):
            if number != len(parts) - 1 or len(part) == 1:
                raise PathError(f"{text!r}: an attribute (@name) is the last step of an XML path")
            steps.append(Step(name=part[1:], attribute=True))
            continue
        name, _, rest = part.partition("[")
        if not name or name != name.strip():
            raise PathError(f"{text!r}: step {number + 1} is empty or has spaces around it; an XML path is "
                            "element names separated by / (patient/address/city)")
        steps.append(Step(name=name))
        if rest:
            index, end = _bracket(part, len(name))
            if end != len(part):
                raise PathError(f"{text!r}: text after [{index}] in step {number + 1}")
            steps.append(Step(index=index))
    return ElementPath("xml", tuple(steps), absolute)


def _escape(name: str) -> str:
    return "".join("\\" + c if c in _SPECIAL else c for c in name)


def format_path(path: ElementPath) -> str:
    """The text of ``path``, such that ``parse_path(format_path(p), p.kind) == p``."""
    if path.kind in ("flat_file", "database"):
        return path.steps[0].name or ""
    if path.kind == "xml":
        parts: list[str] = []
        for step in path.steps:
            if step.index is not None:
                parts[-1] += f"[{step.index}]"
            else:
                parts.append(("@" if step.attribute else "") + (step.name or ""))
        return ("/" if path.absolute else "") + "/".join(parts)
    out: list[str] = []
    for step in path.steps:
        if step.index is not None:
            out.append(f"[{step.index}]")
        else:
            name = _escape(step.name or "")
            if out == [] and name.startswith("$"):
                name = "\\" + name
            out.append(("." if out else "") + name)
    return "".join(out)
