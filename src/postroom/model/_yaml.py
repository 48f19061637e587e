"""YAML loading that remembers where every key stands, so errors can name the line.

``load_file`` returns one :class:`Loaded` per YAML document (``---``-separated) with the
plain data and a map from a key path (``("shapes", "send", "next")``) to its line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

import yaml

from ..errors import ConfigError
from ._loaded import Loaded

__all__ = ["Loaded", "load_file", "load_text", "dump"]

try:  # the C loader is several times faster where libyaml is present
    _Loader: type = yaml.CSafeLoader
    _Dumper: type = yaml.CSafeDumper
except AttributeError:  # pragma: no cover - pure-Python fallback
    _Loader, _Dumper = yaml.SafeLoader, yaml.SafeDumper


class _Loader12(yaml.SafeLoader):
    """YAML 1.2 core schema for plain scalars. In YAML 1.1 ``yes``, ``no``, ``on`` and ``off``
    are booleans (a Decision's ``second: yes`` would become ``true``), ``01234`` is octal
    668, ``1:30`` is 90 and ``2026-01-01`` a date: here they stay what the user typed."""


_REPLACED = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
             "tag:yaml.org,2002:timestamp"}
_Loader12.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _REPLACED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader12.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader12.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?(?:0|[1-9][0-9]*)|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789")
)
_Loader12.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)(?:[eE][-+]?[0-9]+)?|[-+]?[0-9]+[eE][-+]?[0-9]+"
               r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."),
)


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)


_Loader12.add_constructor("tag:yaml.org,2002:int", _construct_int)


MAX_DEPTH = 50
"""Deepest nesting of mappings and lists in a component file."""
MAX_VALUES = 100_000
"""Most values one YAML document may hold once its aliases are expanded (``*name`` repeats
its anchor's whole value: nine lines of aliases can otherwise stand for a billion)."""
MAX_FILE_BYTES = 4_000_000
"""Largest component file read (a process with hundreds of shapes is well under 1 MB)."""

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_TAG + t for t in ("str", "int", "float", "bool", "null")}
_MERGE = _TAG + "merge"


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _tag_name(tag: str) -> str:
    return "!!" + tag[len(_TAG):] if tag.startswith(_TAG) else tag


class _Builder:
    """Turns composed YAML nodes into plain data (keys always text) and a line map, within
    :data:`MAX_VALUES` and refusing what a component cannot hold: recursive aliases, a key
    written twice in one mapping, tags other than text, numbers, booleans and null."""

    def __init__(self, loader: yaml.SafeLoader, file: str) -> None:
        self.loader = loader
        self.file = file
        self.lines: dict[tuple[Any, ...], int] = {}
        self.count = 0
        self.open: set[int] = set()

    def error(self, message: str, node: yaml.Node, fix: str | None = None) -> ConfigError:
        return ConfigError(message, file=self.file, line=_line(node), fix=fix)

    def build(self, node: yaml.Node, path: tuple[Any, ...]) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            raise self.error(
                f"this document holds more than {MAX_VALUES:,} values once its aliases are expanded "
                "(the value anchored here is repeated through *aliases too often)", node,
                fix="write the values out, or use fewer aliases (*name); split a very large file")
        if id(node) in self.open:
            raise self.error("an alias (*name) refers to the value that contains it: it would never end", node,
                             fix="point the alias at a value outside the one it is in")
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self.mapping(node, path)
            return self.sequence(cast(yaml.SequenceNode, node), path)
        finally:
            self.open.discard(id(node))

    def scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag not in _SCALAR_TAGS:
            raise self.error(f"the YAML tag {_tag_name(node.tag)} is not supported in a component file", node,
                             fix="write the value as plain text, a number, true/false or null")
        try:
            return self.loader.construct_object(node, deep=True)
        except ValueError:  # a decimal number with more digits than Python converts
            raise self.error(f"this number has {len(node.value):,} characters, too many to read as a number",
                             node, fix="quote it to keep it as text") from None

    def sequence(self, node: yaml.SequenceNode, path: tuple[Any, ...]) -> list[Any]:
        if node.tag != _TAG + "seq":
            raise self.error(f"the YAML tag {_tag_name(node.tag)} is not supported in a component file", node,
                             fix="write a plain list")
        items = []
        for index, item in enumerate(node.value):
            self.lines[path + (index,)] = _line(item)
            items.append(self.build(item, path + (index,)))
        return items

    def key(self, node: yaml.Node) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise self.error("a mapping key must be a plain value", node, fix="write the key as text")
        if node.tag == _TAG + "bool":  # ``true:`` / ``false:`` outlets of a Decision
            return "true" if self.scalar(node) else "false"
        self.scalar(node)  # refuses tags a key may not have
        return str(node.value)  # the key as written: ``01:`` stays "01", ``1.0:`` stays "1.0"

    def mapping(self, node: yaml.MappingNode, path: tuple[Any, ...]) -> dict[str, Any]:
        if node.tag != _TAG + "map":
            raise self.error(f"the YAML tag {_tag_name(node.tag)} is not supported in a component file", node,
                             fix="write a plain mapping")
        merged: dict[str, Any] = {}
        explicit: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged = {**self.merge(value_node, path), **merged}
                continue
            key = self.key(key_node)
            if key in first_line:
                raise self.error(
                    f"the key {key!r} is written twice in this mapping (lines {first_line[key]} and "
                    f"{_line(key_node)}): the second would silently replace the first", key_node,
                    fix="keep one of them")
            first_line[key] = _line(key_node)
            self.lines[path + (key,)] = _line(key_node)
            explicit[key] = self.build(value_node, path + (key,))
        return {**merged, **explicit}

    def merge(self, node: yaml.Node, path: tuple[Any, ...]) -> dict[str, Any]:
        """``<<: *defaults`` or ``<<: [*a, *b]``: the earlier mapping's keys win."""
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        result: dict[str, Any] = {}
        for source in reversed(sources):
            if not isinstance(source, yaml.MappingNode):
                raise self.error("<< merges a mapping or a list of mappings", source,
                                 fix="write <<: *name where &name anchors a mapping")
            self.count += 1
            result.update(self.build(source, path))
        return result


class _BoundedLoader(_Loader12):
    """Refuses nesting deeper than :data:`MAX_DEPTH` while composing (PyYAML's composer
    recurses once per level, so a deep file would otherwise end in RecursionError)."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]  # untyped in types-PyYAML
                raise ConfigError(f"the values are nested more than {MAX_DEPTH} levels deep", line=mark.line + 1,
                                  fix="a component needs only a few levels: check the indentation and brackets")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def load_text(text: str, file: str = "<text>") -> list[Loaded]:
    """Parse YAML text into documents with line maps; a syntax error names file and line."""
    loader: _BoundedLoader | None = None
    docs: list[Loaded] = []
    try:
        loader = _BoundedLoader(text)  # refuses characters YAML does not allow, such as NUL
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            builder = _Builder(loader, file)
            data = builder.build(node, ())
            if data is None:
                continue
            docs.append(Loaded(data, file, builder.lines, node.start_mark.line + 1))
    except ConfigError as exc:
        exc.file = exc.file or file
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or str(exc)
        raise ConfigError(
            f"this is not valid YAML: {problem}",
            file=file,
            line=line,
            fix="check the indentation and quoting near that line; quote values that contain ': ' or start with '{'",
        ) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise ConfigError(f"this is not valid YAML: the character U+{code:04X} is not allowed in YAML text",
                          file=file, line=line,
                          fix="remove it; write control characters as escapes in double quotes, such as \"\\t\"") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"this is not valid YAML: {exc}", file=file) from None
    finally:
        if loader is not None:
            loader.dispose()
    return docs


def load_file(path: str | Path) -> list[Loaded]:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ConfigError(f"the file is larger than {MAX_FILE_BYTES // 1_000_000} MB", file=str(path),
                              fix="split it into several component files")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError("the file is not UTF-8 text", file=str(path), fix="save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"cannot read the file: {exc.strerror}", file=str(path)) from None
    return load_text(text, str(path))


class _BlockDumper(_Dumper):
    pass


def _str_representer(dumper: yaml.Dumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value and len(value) > 60 else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str_representer)


def dump(data: Any) -> str:
    """YAML the way a person writes it: block style, keys in the order given, UTF-8."""
    return yaml.dump(data, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True, width=100)
