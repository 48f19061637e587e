"""YAML loading that remembers where every key stands, so errors can name the line.

``load_file`` returns one :class:`Loaded` per YAML document (``---``-separated) with the
plain data and a map from a key path (``("shapes", "send", "next")``) to its line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError

__all__ = ["Loaded", "load_file", "load_text", "dump"]

try:  # the C loader is several times faster where libyaml is present
    _Loader: type = yaml.CSafeLoader  # type: ignore[attr-defined]
    _Dumper: type = yaml.CSafeDumper  # type: ignore[attr-defined]
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


@dataclass
class Loaded:
    data: Any
    file: str
    lines: dict[tuple, int] = field(default_factory=dict)
    start_line: int = 1

    def line_of(self, path: tuple) -> int | None:
        """The line of the deepest known key along ``path``."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.start_line


def _construct(node: yaml.Node, loader: yaml.SafeLoader, path: tuple, lines: dict[tuple, int]) -> Any:
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        loader.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if isinstance(key, bool):  # ``true:`` / ``false:`` outlets of a Decision
                key = "true" if key else "false"
            if isinstance(key, list | dict):
                raise ConfigError("a mapping key must be a plain value", line=key_node.start_mark.line + 1)
            lines[path + (key,)] = key_node.start_mark.line + 1
            result[key] = _construct(value_node, loader, path + (key,), lines)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            lines[path + (index,)] = item.start_mark.line + 1
            items.append(_construct(item, loader, path + (index,), lines))
        return items
    return loader.construct_object(node, deep=True)


def load_text(text: str, file: str = "<text>") -> list[Loaded]:
    """Parse YAML text into documents with line maps; a syntax error names file and line."""
    loader = _Loader12(text)
    docs: list[Loaded] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            lines: dict[tuple, int] = {}
            data = _construct(node, loader, (), lines)
            if data is None:
                continue
            docs.append(Loaded(data, file, lines, node.start_mark.line + 1))
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
    except yaml.YAMLError as exc:
        raise ConfigError(f"this is not valid YAML: {exc}", file=file) from None
    finally:
        loader.dispose()
    return docs


def load_file(path: str | Path) -> list[Loaded]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError("the file is not UTF-8 text", file=str(path), fix="save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"cannot read the file: {exc.strerror}", file=str(path)) from None
    return load_text(text, str(path))


class _BlockDumper(_Dumper):  # type: ignore[misc, valid-type]
    pass


def _str_representer(dumper: yaml.Dumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value and len(value) > 60 else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str_representer)


def dump(data: Any) -> str:
    """YAML the way a person writes it: block style, keys in the order given, UTF-8."""
    return yaml.dump(data, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True, width=100)
