"""Components: connection, operation, process, profile, process_property.

``parse_component`` turns one loaded YAML document into a model, with errors that name
the file, the line, the field and the fix.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any, Literal, Self, TypeGuard

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import ErrorDetails

from ..errors import ConfigError, ValidationError
from ._loaded import Loaded
from ._maps import MapEntry
from ._profiles import (
    Column,
    JsonElement,
    ProfileField,
    XmlAttribute,
    XmlElement,
    check_profile_shape,
    names_to_models,
    or_bare_name,
)
from ._shapes import SHAPE_MODELS, Shape, StartShape

__all__ = [
    "COMPONENT_TYPES",
    "FOLDER_PART_MAX",
    "Component",
    "Connection",
    "CrossReference",
    "MapComponent",
    "Operation",
    "Process",
    "Profile",
    "ProcessPropertySet",
    "parse_component",
    "slugify",
    "check_process_graph",
]

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
# Control characters, line separators and the bidirectional overrides that make a name read
# differently from what it is (a folder becomes a path on export; names show in tables).
_UNSHOWABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_UNSHOWABLE_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # a description keeps tabs and lines
FOLDER_PART_MAX = 60


def _refuse_unshowable(value: str, what: str, pattern: re.Pattern[str] = _UNSHOWABLE) -> str:
    found = pattern.search(value)
    if found:
        raise ValueError(f"{what} holds the control character U+{ord(found.group()):04X} at character "
                         f"{found.start() + 1}; write it without control or text-direction characters")
    return value


def slugify(name: str) -> str:
    """``"Gmail Mail Connection"`` → ``"gmail-mail-connection"`` (ASCII, lower case)."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return text[:120] or "component"


class Component(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    type: str
    name: str = Field(..., min_length=1, max_length=500, description="Display name; need not be unique.")
    id: str = Field("", description="Unique id; a slug of the name when absent.")
    folder: str = Field("", max_length=1000, description="Folder path such as Tutorials/Dr Smith.")
    description: str = ""
    version: int | None = Field(None, description="Set by the repository; ignored on import.")

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        return _refuse_unshowable(value, "the name")

    @field_validator("description")
    @classmethod
    def _check_description(cls, value: str) -> str:
        return _refuse_unshowable(value, "the description", _UNSHOWABLE_TEXT)

    @field_validator("folder")
    @classmethod
    def _check_folder(cls, value: str) -> str:
        _refuse_unshowable(value, "the folder")
        for part in value.split("/"):
            if part.strip() in (".", ".."):
                raise ValueError(f"the folder {value!r} holds {part.strip()!r}; a folder path names folders, "
                                 "such as Tutorials/Dr Smith")
            if len(part) > FOLDER_PART_MAX:
                raise ValueError(f"the folder name {part[:20]!r}... is longer than {FOLDER_PART_MAX} characters "
                                 "(it becomes a folder on disk on export)")
        return value

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if value and not _ID.match(value):
            raise ValueError(
                "an id uses letters, digits, '.', '_' and '-', starts with a letter or digit, at most 128 characters"
            )
        return value

    def model_post_init(self, __context: Any) -> None:
        if not self.id:
            self.id = slugify(self.name)



class Connection(Component):
    type: Literal["connection"]
    connector: str = Field(..., description="Connector name, e.g. mail or disk.")
    settings: dict[str, Any] = Field(default_factory=dict)


class Operation(Component):
    type: Literal["operation"]
    connector: str
    settings: dict[str, Any] = Field(default_factory=dict)


class Profile(Component):
    type: Literal["profile"]
    profile_type: Literal["flat_file", "json", "xml", "database"] = "flat_file"
    delimiter: str = Field(",", min_length=1, max_length=1)
    quote: str = Field('"', min_length=1, max_length=1)
    header: bool = Field(True, description="Flat file: the data starts with a header line.")
    layout: Literal["delimited", "fixed_width"] = "delimited"
    fields: list[ProfileField] = Field(default_factory=list, json_schema_extra=or_bare_name)
    elements: list[Any] = Field(default_factory=list, description="JSON or XML: the element tree.")
    root: str = Field("", description="XML: the root element's name.")
    attributes: list[XmlAttribute] = Field(default_factory=list, description="XML: the root's attributes.",
                                           json_schema_extra=or_bare_name)
    namespaces: dict[str, str] = Field(default_factory=dict, description="XML: prefix → namespace URI.")
    table: str = Field("", description="Database: the table.")
    columns: list[Column] = Field(default_factory=list, description="Database: the columns.",
                                  json_schema_extra=or_bare_name)

    @field_validator("fields", "columns", "attributes", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        return names_to_models(value)

    @model_validator(mode="after")
    def _check_kind(self) -> Self:
        check_profile_shape(self)
        model: type[BaseModel] = JsonElement if self.profile_type == "json" else XmlElement
        elements = []
        for index, element in enumerate(names_to_models(self.elements)):
            try:
                elements.append(model.model_validate(element))
            except PydanticValidationError as exc:
                err = exc.errors(include_input=False)[0]
                where = ".".join(str(p) for p in (index, *err["loc"]))
                if err["type"] == "value_error":  # our own check, which says what to do
                    raise ValueError(f"elements.{where}: {err['msg'].removeprefix('Value error, ')}") from None
                raise ValueError(f"elements.{where}: {err['msg']} (see docs/profiles.md for the keys of an "
                                 f"element: name, type, required, elements, ...)") from None
        self.elements = elements
        return self


class ProcessPropertyDef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    default: str = ""
    label: str = ""


class ProcessPropertySet(Component):
    type: Literal["process_property"]
    properties: list[ProcessPropertyDef] = Field(default_factory=list)


class LayoutPoint(BaseModel):
    """Where a shape sits on the canvas."""

    model_config = ConfigDict(extra="forbid")
    x: float
    y: float


class Process(Component):
    type: Literal["process"]
    start: str = Field("start", description="Id of the start shape.")
    profile: str | None = Field(None, description="Default profile for profile_element values.")
    shapes: dict[str, Shape]
    layout: dict[str, LayoutPoint] | None = Field(
        None, description="The canvas position of each shape, by shape id (kept by the web builder; "
                          "the engine ignores it).")

    @field_validator("shapes", mode="before")
    @classmethod
    def _check_types(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for shape_id, shape in value.items():
                if isinstance(shape, dict):
                    kind = shape.get("type")
                    if kind is None:
                        raise ValueError(f"shape {shape_id!r} has no type")
                    if not _known(kind, SHAPE_MODELS):
                        raise ValueError(
                            f"shape {shape_id!r} has unknown type {kind!r}; known types: {', '.join(SHAPE_MODELS)}"
                        )
        return value

    @property
    def start_shape(self) -> StartShape:
        """The shape named by ``start``; a loaded process's graph check guarantees it is a start shape."""
        shape = self.shapes[self.start]
        if not isinstance(shape, StartShape):
            raise TypeError(f"shape {self.start!r} named by start is a {shape.type} shape")
        return shape


COMPONENT_TYPES: dict[str, type[Component]] = {
    "connection": Connection,
    "operation": Operation,
    "process": Process,
    "profile": Profile,
    "process_property": ProcessPropertySet,
}


def _fix_for(error: ErrorDetails) -> str | None:
    fix = (error.get("ctx") or {}).get("fix")
    if fix:  # a check that says how to fix what it refuses
        return str(fix)
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return "remove it, or check its spelling against the reference in docs/reference"
    if kind == "missing":
        return "add it"
    if kind == "literal_error":
        return "use one of the values listed"
    return None


def _known(kind: object, table: Mapping[str, object]) -> TypeGuard[str]:
    """Whether ``kind`` names an entry of ``table``; a list or mapping written as a type names none."""
    return isinstance(kind, str) and kind in table


def parse_component(loaded: Loaded) -> Component:
    """Validate one YAML document as a component."""
    data = loaded.data
    if not isinstance(data, dict):
        raise ConfigError("a component is a mapping with type, name and settings", file=loaded.file,
                          line=loaded.start_line)
    kind = data.get("type")
    if not _known(kind, COMPONENT_TYPES):
        raise ConfigError(
            f"unknown component type {kind!r}" if kind not in (None, "") else "the component has no type",
            file=loaded.file,
            line=loaded.line_of(("type",)),
            field="type",
            fix="use one of: " + ", ".join(COMPONENT_TYPES),
        )
    model = COMPONENT_TYPES[kind]
    if kind == "process" and isinstance(data.get("shapes"), dict):
        for shape_id, shape in data["shapes"].items():
            shape_type = shape.get("type") if isinstance(shape, dict) else None
            if not _known(shape_type, SHAPE_MODELS):
                raise ConfigError(
                    f"shape {shape_id!r} has unknown type {shape_type!r}" if shape_type else f"shape {shape_id!r} has no type",
                    file=loaded.file, line=loaded.line_of(("shapes", shape_id, "type")),
                    field=f"shapes.{shape_id}.type", fix="use one of: " + ", ".join(SHAPE_MODELS))
    try:
        component = model.model_validate(data)
    except PydanticValidationError as exc:
        problems = []
        for err in exc.errors(include_input=False):
            loc = _user_path(err["loc"])
            field = ".".join(str(p) for p in loc) or None
            message = err["msg"]
            if message.startswith("Value error, "):
                message = message[len("Value error, "):]
            problems.append(
                ConfigError(message, file=loaded.file, line=loaded.line_of(loc), field=field, fix=_fix_for(err))
            )
        raise ValidationError(str(problems[0]), problems=problems, file=loaded.file) from None
    if kind == "process":
        check_process_graph(component, loaded)  # type: ignore[arg-type]
    return component


_STEP_TAGS = {"split", "combine", "search_replace", "base64_encode", "base64_decode", "character_encode",
              "character_decode", "zip", "unzip", "script"}


def _user_path(loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """Pydantic's error location without the union tags it inserts (the shape type after
    ``shapes.<id>``, the step type after ``steps.<n>``, validator names), so that it names
    the keys the user wrote."""
    out: list[str | int] = []
    for part in loc:
        if isinstance(part, str):
            if len(out) >= 2 and out[-2] == "shapes" and part in SHAPE_MODELS and len(out) == 2:
                continue
            if len(out) >= 2 and out[-2] == "steps" and isinstance(out[-1], int) and part in _STEP_TAGS:
                continue
            if part.startswith("function-") or part.startswith("tagged-union["):
                continue
        out.append(part)
    return tuple(out)


def check_process_graph(process: Process, loaded: Loaded | None = None) -> None:
    """Every ``next`` names a shape; the start exists; no cycle without an exit."""
    file = loaded.file if loaded else None
    problems: list[ConfigError] = []

    def line(*path: Any) -> int | None:
        return loaded.line_of(("shapes",) + path) if loaded else None

    if process.start not in process.shapes:
        problems.append(ConfigError(
            f"the start shape {process.start!r} is not among the shapes", file=file,
            line=loaded.line_of(("start",)) if loaded else None, field="start",
            fix="name the id of the start shape under shapes"))
    elif process.shapes[process.start].type != "start":
        problems.append(ConfigError(
            f"shape {process.start!r} named by start is a {process.shapes[process.start].type} shape",
            file=file, field="start", fix="point start at a shape of type start"))
    for key in process.layout or {}:
        if key not in process.shapes:
            problems.append(ConfigError(
                f"layout names {key!r}, which is not a shape of this process", file=file,
                line=loaded.line_of(("layout", key)) if loaded else None, field=f"layout.{key}",
                fix="remove it from layout, or use a shape id: " + ", ".join(sorted(process.shapes))))
    for shape_id, shape in process.shapes.items():
        for outlet, target in shape.outlets():
            if target is None:
                continue
            path = _outlet_path(outlet)
            field = ".".join(["shapes", shape_id, *map(str, path)])
            problem = _outlet_problem(process, shape_id, outlet, target)
            if problem:
                message, fix = problem
                problems.append(ConfigError(message, file=file, line=line(shape_id, *path), field=field, fix=fix))
        if shape.type == "start" and shape_id != process.start:
            problems.append(ConfigError("a process has one start shape", file=file, line=line(shape_id),
                                        field=f"shapes.{shape_id}", fix="remove it or change its type"))
    if not problems:
        cycle = _find_closed_cycle(process)
        if cycle:
            problems.append(ConfigError(
                "these shapes form a cycle with no way out: " + " → ".join(cycle + [cycle[0]]),
                file=file, line=line(cycle[0]), field=f"shapes.{cycle[0]}",
                fix="send one of them to a shape outside the cycle (a decision's other outlet or a stop)"))
    if problems:
        raise ValidationError(str(problems[0]), problems=problems, file=file)


def _outlet_path(outlet: str) -> tuple[str | int, ...]:
    """Where an outlet is written: ``branch 2`` is ``branches.1``, ``case 1`` ``cases.0.next``."""
    kind, _, number = outlet.partition(" ")
    if kind == "branch":
        return ("branches", int(number) - 1)
    if kind == "case":
        return ("cases", int(number) - 1, "next")
    return (outlet,)


def _outlet_problem(process: Process, shape_id: str, outlet: str, target: str) -> tuple[str, str] | None:
    """What is wrong with an outlet's target, as (message, fix); None when it is fine."""
    if target not in process.shapes:
        return (f"{outlet} names {target!r}, which is not a shape of this process",
                "use one of: " + ", ".join(sorted(process.shapes)))
    if target == shape_id:
        what = {"catch": "a document that failed would be caught by the same Try/Catch again, forever",
                "try": "the Try/Catch would protect itself, forever"}.get(outlet, "its documents would come back to it "
                                                                         "forever")
        return (f"{outlet} leads back to shape {shape_id!r} itself: {what}",
                "point it at another shape, or leave it out to end the path there")
    if target == process.start:
        return (f"{outlet} leads to the start shape {target!r}; documents enter a process only at its start",
                "point it at the shape after the start, or at another shape")
    return None


def _find_closed_cycle(process: Process) -> list[str] | None:
    """A strongly connected set of shapes with a cycle and no outlet leaving it."""
    graph = {sid: [t for _, t in shape.outlets() if t] for sid, shape in process.shapes.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:  # Tarjan, iterative enough for process sizes
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            components.append(comp)

    for v in graph:
        if v not in index:
            strong(v)
    for comp in components:
        members = set(comp)
        is_cycle = len(comp) > 1 or comp[0] in graph[comp[0]]
        if not is_cycle:
            continue
        exits = any(t not in members for v in comp for t in graph[v])
        ends = any(not process.shapes[v].outlets() for v in comp)
        if not exits and not ends:
            return sorted(comp)
    return None


class MapComponent(Component):
    """A map: how a document of ``from_profile`` becomes one of ``to_profile``."""

    type: Literal["map"]
    from_profile: str = Field(..., min_length=1)
    to_profile: str = Field(..., min_length=1)
    mappings: list[MapEntry] = Field(..., min_length=1)


class CrossReference(Component):
    """A lookup table: rows of values under named columns."""

    type: Literal["cross_reference"]
    name: str = Field("", max_length=500)
    columns: list[str] = Field(..., min_length=1)
    rows: list[list[str]] = Field(default_factory=list)

    @field_validator("rows", mode="before")
    @classmethod
    def _texts(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [[_cell(c) for c in row] if isinstance(row, list) else row for row in value]
        return value

    @model_validator(mode="after")
    def _widths(self) -> Self:
        for number, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise ValueError(f"row {number + 1} has {len(row)} values and there are {len(self.columns)} columns "
                                 f"({', '.join(self.columns)}); give each row one value per column")
        if not self.name:
            self.name = self.id
        return self

    def lookup(self, match: str, output: str, value: str) -> str | None:
        at, out = self.columns.index(match), self.columns.index(output)
        for row in self.rows:
            if row[at] == value:
                return row[out]
        return None


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, int | float) else value


COMPONENT_TYPES["map"] = MapComponent
COMPONENT_TYPES["cross_reference"] = CrossReference
