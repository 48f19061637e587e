"""What a component file's YAML document loads to: its data and the line of every key.

Kept apart from ``_yaml.py`` (which imports PyYAML) so that the models, and a run that reads
its components from the repository as JSON, never import PyYAML."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Loaded"]


@dataclass
class Loaded:
    data: Any
    file: str
    lines: dict[tuple[Any, ...], int] = field(default_factory=dict)
    start_line: int = 1

    def line_of(self, path: tuple[Any, ...]) -> int | None:
        """The line of the deepest known key along ``path``."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.start_line
