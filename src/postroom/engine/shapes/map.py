"""Map: each document becomes a document of the map's target profile, built by its
mappings from the source document; properties carry over. One document at a time."""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

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


class _Plan(NamedTuple):
    """A mapping's parsed paths: where it writes, its inputs and their source paths (None for
    a value source), and which input repeats first (None when none does)."""

    to: ElementPath
    inputs: list[MapInput]
    paths: list[ElementPath | None]
    lead: int | None


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
        self._plans: dict[int, _Plan] = {}

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
        plan = self._plan(entry)
        for indexes, values in self._inputs(plan, source, doc):
            if entry.function:
                value = apply_function(entry, values, self._lookup)
            else:
                value = values[0] if values else ""
            if value == "" and entry.default is not None:
                value = entry.default
            target.write(plan.to, value, indexes)

    def _plan(self, entry: MapEntry) -> _Plan:
        """The mapping's paths, parsed the first time it runs (a map runs its mappings for
        every document: parsing them each time was a good part of the map's time)."""
        plan = self._plans.get(id(entry))
        if plan is None:
            inputs: list[MapInput] = entry.inputs
            if entry.from_:
                inputs = [MapInput(path=entry.from_)]
            elif entry.value is not None:
                inputs = [MapInput(source=entry.value)]
            paths = [_path(i.path, self._kind(self.source)) if i.path is not None else None for i in inputs]
            lead = next((n for n, path in enumerate(paths) if path is not None and path.repeating), None)
            plan = _Plan(_path(entry.to, self._kind(self.target)), inputs, paths, lead)
            self._plans[id(entry)] = plan
        return plan

    def _inputs(self, plan: _Plan, source: Source, doc: Document) -> list[tuple[tuple[int, ...], list[str]]]:
        """The input values, once per repetition of the first repeating input (once when none repeats)."""
        read: list[list[Match] | str] = []
        for item, path in zip(plan.inputs, plan.paths, strict=True):
            if path is not None:
                read.append(source.read(path))
            else:
                assert item.source is not None
                read.append(resolve(item.source, doc, self.ctx, None, self.id))
        if plan.lead is None:  # the first match of each input (as _value gives for the key ())
            return [((), [r if isinstance(r, str) else json_text(r[0][1]) if r else "" for r in read])]
        lead = read[plan.lead]
        assert isinstance(lead, list)  # a path input reads matches
        keys = [m[0] for m in lead]
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
