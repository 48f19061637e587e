"""Resolve value sources against a document and the execution."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Protocol

from ..errors import DocumentError
from ..model import Component, Process, ProcessPropertySet, Profile, ValueSource
from ..model._pathdata import first_text, read_json, read_xml
from ..model._paths import ElementPath, PathError, PathKind, parse_path
from ..model._values import ValueSource as _VS
from ..sdk import Document
from ._dates import format_date
from ._flatfile import FlatRecord, parse_record
from ._parse import parse_json, parse_xml


class ValueScope(Protocol):
    """What a value source reads of the running execution (``_context.ExecutionContext``)."""

    # read-only here: properties, which the context's fields satisfy
    @property
    def process(self) -> Process: ...
    @property
    def execution_id(self) -> str: ...
    @property
    def components(self) -> Callable[[str], Component | None]: ...
    @property
    def process_version(self) -> int: ...
    @property
    def process_properties(self) -> dict[str, str]: ...
    @property
    def dynamic_process_properties(self) -> dict[str, str]: ...
    @property
    def node(self) -> str: ...
    @property
    def start_time(self) -> datetime: ...
    @property
    def documents_in(self) -> int: ...

    def profile(self, profile_id: str | None, shape_id: str | None = None) -> Profile | None: ...

    def default_profile(self) -> str | None: ...


__all__ = ["resolve", "resolve_all", "profile_element", "compile_value", "Getter"]

# Reads one path (column, JSON path, XPath) of a parsed document.
Reader = Callable[[str], str]

#: A value compiled once per shape: (document, the default profile of the process whose shape
#: runs now, which the shape looks up once per batch) -> the value's text.
Getter = Callable[[Document, "str | None"], str]


def resolve_all(sources: list[ValueSource], doc: Document, ctx: ValueScope,
                profile_id: str | None = None, shape_id: str | None = None) -> str:
    if len(sources) == 1:
        return resolve(sources[0], doc, ctx, profile_id, shape_id)
    return "".join(resolve(s, doc, ctx, profile_id, shape_id) for s in sources)


def resolve(source: _VS, doc: Document, ctx: ValueScope, profile_id: str | None = None,
            shape_id: str | None = None) -> str:
    kind, arg = source.kind, source.arg
    if kind == "static":
        return arg
    if kind == "document_property":
        return doc.properties.get(arg, "")
    if kind == "dynamic_document_property":
        return doc.dynamic.get(arg, "")
    if kind == "profile_element":
        return profile_element(doc, arg, ctx, source.profile or profile_id or ctx.default_profile(), shape_id)
    if kind == "process_property":
        if arg in ctx.process_properties:
            return ctx.process_properties[arg]
        return _process_property_default(ctx, arg)
    if kind == "dynamic_process_property":
        return ctx.dynamic_process_properties.get(arg, "")
    if kind == "current_data":
        return doc.text()
    if kind == "current_date":
        return format_date(datetime.now().astimezone(), arg)
    if kind == "execution_property":
        return _execution_property(ctx, arg)
    return ""


def _process_property_default(ctx: ValueScope, name: str) -> str:
    """``COMPONENT/NAME`` (or ``COMPONENT.NAME``) reads a process property component's default."""
    for sep in ("/", "."):
        if sep in name:
            comp_id, prop = name.split(sep, 1)
            comp = ctx.components(comp_id)
            if isinstance(comp, ProcessPropertySet):
                for item in comp.properties:
                    if item.name == prop:
                        return ctx.process_properties.get(name, item.default)
    return ""


def _execution_property(ctx: ValueScope, name: str) -> str:
    if name == "execution_id":
        return ctx.execution_id
    if name == "process_id":
        return ctx.process.id
    if name == "process_name":
        return ctx.process.name
    if name == "process_version":
        return str(ctx.process_version)
    if name == "start_time":
        return ctx.start_time.isoformat()
    if name == "document_count":
        return str(ctx.documents_in)
    if name == "runtime_node":
        return ctx.node
    return ""


def profile_element(doc: Document, path: str, ctx: ValueScope, profile_id: str | None,
                    shape_id: str | None = None) -> str:
    """A column (flat file), JSON path or XPath of the document, parsed once per document."""
    reader: Reader = doc.cached(profile_id or "", lambda d: _reader(d, ctx, profile_id, shape_id))
    return reader(path)


def compile_value(sources: list[ValueSource], ctx: ValueScope, profile_id: str | None = None,
                  shape_id: str | None = None) -> Getter:
    """The function reading ``sources`` (concatenated) for a document, built once per shape:
    it gives what :func:`resolve_all` gives, without choosing each source's kind again for
    every document."""
    getters = [_compile(source, ctx, profile_id, shape_id) for source in sources]
    if len(getters) == 1:
        return getters[0]
    if not getters:
        return lambda doc, default: ""
    if len(getters) == 2:  # the common "a value and a suffix": no list built per document
        one, two = getters
        if sources[1].kind == "static":
            suffix = sources[1].arg
            return lambda doc, default: one(doc, default) + suffix
        return lambda doc, default: one(doc, default) + two(doc, default)
    return lambda doc, default: "".join([get(doc, default) for get in getters])


def _compile(source: _VS, ctx: ValueScope, profile_id: str | None, shape_id: str | None) -> Getter:
    kind, arg = source.kind, source.arg
    if kind == "static":
        return lambda doc, default: arg
    if kind == "document_property":
        return lambda doc, default: doc.properties.get(arg, "")
    if kind == "dynamic_document_property":
        return lambda doc, default: doc.dynamic.get(arg, "")
    if kind == "profile_element":
        return _element(arg, source.profile or profile_id, ctx, shape_id)
    # read from the execution as it is at this document (process properties change as it runs)
    return lambda doc, default: resolve(source, doc, ctx, profile_id, shape_id)


def _element(path: str, fixed: str | None, ctx: ValueScope, shape_id: str | None) -> Getter:
    """A compiled profile_element: the document parsed once (its view kept with it, under the
    profile's id: the source's or the shape's, else the process default) and the path read
    from it. A closure, called for every document: a flat-file record is read in place (the
    column's position found once per header), without calling its reader."""
    makers: dict[str, Callable[[Document], Reader]] = {}  # the reader maker of each profile seen
    column: list[tuple[dict[str, int], int | None]] = [({}, None)]  # (a header's index, the position)

    def element(doc: Document, default: str | None) -> str:
        key = fixed or default or ""
        view = doc.view
        reader: Reader
        if view is not None and view[0] == key:
            reader = view[1]
        else:
            make = makers.get(key)
            if make is None:
                make = makers[key] = _maker(ctx, key or None, shape_id)
            reader = doc.cached(key, make)
        record = getattr(reader, "__self__", None)
        if record.__class__ is not FlatRecord:
            return reader(path)
        index, position = column[0]
        if record.index is not index:  # another header: FlatRecord.get's lookup, once
            index = record.index
            position = index.get(path)
            if position is None:
                position = index.get(path.strip().lower())
            column[0] = (index, position)
        values = record.values
        return values[position] if position is not None and position < len(values) else ""

    return element


def _maker(ctx: ValueScope, profile_id: str | None, shape_id: str | None) -> Callable[[Document], Reader]:
    def make(doc: Document) -> Reader:
        return _reader(doc, ctx, profile_id, shape_id)

    return make


def _reader(doc: Document, ctx: ValueScope, profile_id: str | None, shape_id: str | None) -> Reader:
    profile = ctx.profile(profile_id, shape_id) if profile_id else None
    kind = profile.profile_type if profile else None
    if kind is None:
        head = doc.data[:64].lstrip()[:1]
        kind = "json" if head in (b"{", b"[") else "xml" if head == b"<" else "flat_file"
    if kind == "flat_file":
        text = doc.text()
        if profile is not None:
            names = [f.name for f in profile.fields]
            return parse_record(text, profile.delimiter, profile.quote, profile.header, names).get
        return parse_record(text).get
    namespaces = profile.namespaces if profile is not None else {}
    try:
        if kind == "json":
            data = parse_json(doc.data or b"null")
            return lambda path: first_text(read_json(data, _parsed(path, "json", shape_id)))
        root = parse_xml(doc.data)
    except ValueError as exc:
        raise DocumentError(f"profile_element cannot read the document: {exc}", shape=shape_id) from None
    return lambda path: first_text(read_xml(root, _parsed(path, "xml", shape_id), namespaces))


@lru_cache(maxsize=1024)
def _parse_cached(path: str, kind: PathKind) -> ElementPath:
    return parse_path(path, kind)


def _parsed(path: str, kind: PathKind, shape_id: str | None) -> ElementPath:
    try:
        return _parse_cached(path, kind)
    except PathError as exc:
        raise DocumentError(f"profile_element: {exc}", shape=shape_id) from None
