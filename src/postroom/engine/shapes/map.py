"""Map: each document becomes a document of the map's target profile, built by its
mappings from the source document; properties carry over. One document at a time."""

from __future__ import annotations

from functools import lru_cache

from ...errors import ConfigError, DocumentError
from ...model import CrossReference, MapComponent, MapShape, Profile
from ...model._maps import MapEntry, MapInput
from ...model._pathdata import Match, json_text
from ...model._paths import ElementPath, PathKind, parse_path
from ...sdk import Document
from .._context import ExecutionContext
from .._mapdata import Source, Target
from .._mapfunctions import apply_function
from .._profiles import profile_problems
from .._values import resolve
from ._base import PerDocument


@lru_cache(maxsize=4096)
def _path(text: str, kind: PathKind) -> ElementPath:
    return parse_path(text, kind)


class MapRunner(PerDocument):
    def __init__(self, shape_id: str, model: MapShape, ctx: ExecutionContext) -> None:
        super().__init__(shape_id, model, ctx)
        component = ctx.component(model.map, "map", shape_id)
        assert isinstance(component, MapComponent)
        self.map = component
        self.source = self._profile(component.from_profile)
        self.target = self._profile(component.to_profile)

    def _profile(self, profile_id: str) -> Profile:
        profile = self.ctx.profile(profile_id, self.id)
        assert profile is not None
        return profile

    def handle(self, doc: Document) -> tuple[str, Document]:
        problems = profile_problems(self.source, doc.data)
        if problems:
            raise DocumentError(f"map {self.map.id}: the document does not fit profile {self.source.id}: "
                                + "; ".join(problems[:5]), shape=self.id)
        try:
            source = Source(self.source, doc.data)
        except ValueError as exc:
            raise DocumentError(f"map {self.map.id}: {exc}", shape=self.id) from None
        target = Target(self.target)
        for number, entry in enumerate(self.map.mappings):
            try:
                self._apply(entry, source, target, doc)
            except ValueError as exc:
                raise DocumentError(f"map {self.map.id}: mapping {number + 1} (to {entry.to}): {exc}",
                                    shape=self.id) from None
        data = target.render()
        problems = profile_problems(self.target, data)
        if problems:
            raise DocumentError(f"map {self.map.id}: the result does not fit profile {self.target.id}: "
                                + "; ".join(problems[:5]), shape=self.id)
        return "next", doc.with_data(data)

    def _apply(self, entry: MapEntry, source: Source, target: Target, doc: Document) -> None:
        to = _path(entry.to, self._kind(self.target))
        for indexes, values in self._inputs(entry, source, doc):
            if entry.function:
                value = apply_function(entry, values, self._lookup)
            else:
                value = values[0] if values else ""
            if value == "" and entry.default is not None:
                value = entry.default
            target.write(to, value, indexes)

    def _inputs(self, entry: MapEntry, source: Source, doc: Document) -> list[tuple[tuple[int, ...], list[str]]]:
        """The input values, once per repetition of the first repeating input (once when none repeats)."""
        inputs: list[MapInput] = entry.inputs
        if entry.from_:
            inputs = [MapInput(path=entry.from_)]
        elif entry.value is not None:
            inputs = [MapInput(source=entry.value)]
        read: list[list[Match] | str] = []
        for item in inputs:
            if item.path is not None:
                read.append(source.read(_path(item.path, self._kind(self.source))))
            else:
                assert item.source is not None
                read.append(resolve(item.source, doc, self.ctx, None, self.id))
        lead = next((r for i, r in zip(inputs, read, strict=True)
                     if i.path and _path(i.path, self._kind(self.source)).repeating and isinstance(r, list)), None)
        keys = [m[0] for m in lead] if lead is not None else [()]
        return [(key, [_value(r, key) for r in read]) for key in keys]

    def _kind(self, profile: Profile) -> PathKind:
        return profile.profile_type

    def _lookup(self, table: str, match: str, output: str, value: str) -> str | None:
        component = self.ctx.component(table, "cross_reference", self.id)
        if not isinstance(component, CrossReference):
            raise ConfigError(f"{table!r} is not a cross_reference", shape=self.id)
        for column in (match, output):
            if column not in component.columns:
                raise ConfigError(f"cross_reference {table} has no column {column!r}", shape=self.id,
                                  fix="use one of: " + ", ".join(component.columns))
        return component.lookup(match, output, value)


def _value(read: list[Match] | str, key: tuple[int, ...]) -> str:
    if isinstance(read, str):
        return read
    for indexes, value in read:
        if indexes[:len(key)] == key or not indexes:
            return json_text(value)
    return ""
