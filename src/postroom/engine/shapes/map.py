"""Map: each document becomes a document of the map's target profile, built by its
mappings from the source document; properties carry over. One document at a time, but the
script mappings of a batch are evaluated together in one child process (``_mapscript``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
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
from .._sandbox import SandboxResult
from .._values import resolve
from ._base import Outputs, PerDocument
from ._mapscript import MapScripts, script_failure

Evaluated = list[tuple[tuple[int, ...], SandboxResult]]  # a script mapping's results, per repetition


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


@dataclass
class _Ready:
    """A document of the batch, parsed, with its script mappings already evaluated."""

    source: Source
    scripts: dict[int, Evaluated] = field(default_factory=dict)


class MapRunner(PerDocument):
    def __init__(self, shape_id: str, model: MapShape, ctx: ExecutionContext) -> None:
        super().__init__(shape_id, model, ctx)
        component = ctx.component(model.map, "map", shape_id)
        assert isinstance(component, MapComponent)
        self.map = component
        self.source = self._profile(component.from_profile)
        self.target = self._profile(component.to_profile)
        self.scripts = MapScripts(component, self.id) if MapScripts.wanted(component) else None
        if self.scripts is not None:
            self.scripts.check_allowed()
        self._ready: dict[int, _Ready] = {}
        self._plans: dict[int, _Plan] = {}

    def run(self, batches: Iterable[list[Document]]) -> Outputs:
        try:
            yield from super().run(batches)
        finally:
            if self.scripts is not None:
                self.scripts.close()

    def process(self, batch: list[Document]) -> Outputs:
        if self.scripts is not None:
            self._ready = self._prepare(batch, self.scripts)
        try:
            yield from super().process(batch)
        finally:
            self._ready = {}

    def _prepare(self, batch: list[Document], scripts: MapScripts) -> dict[int, _Ready]:
        """Parse each document and evaluate the script mappings of the whole batch at once."""
        ready: dict[int, _Ready] = {}
        requests: list[tuple[int, list[str]]] = []
        owners: list[tuple[_Ready, int, tuple[int, ...]]] = []
        for doc in batch:
            try:
                item = _Ready(self._source(doc))
                asked = [(number, key, values) for number in scripts.piece
                         for key, values in self._inputs(self._plan(self.map.mappings[number]), item.source, doc)]
            except Exception:  # noqa: BLE001, S112 - handle() meets the same problem and fails the document
                continue
            ready[id(doc)] = item
            for number, key, values in asked:
                requests.append((number, values))
                owners.append((item, number, key))
        for (item, number, key), result in zip(owners, scripts.evaluate(requests), strict=True):
            item.scripts.setdefault(number, []).append((key, result))
        why = scripts.unconfined()
        if why:
            self.ctx.log_line("warning", f"map {self.map.id}: its scripts run without file confinement ({why}): "
                              "they can read what Postroom's user can", self.id)
        return ready

    def _profile(self, profile_id: str) -> Profile:
        profile = self.ctx.profile(profile_id, self.id)
        assert profile is not None
        return profile

    def _source(self, doc: Document) -> Source:
        problems = profile_problems(self.source, doc.data)
        if problems:
            raise DocumentError(f"map {self.map.id}: the document does not fit profile {self.source.id}: "
                                + "; ".join(problems[:5]), shape=self.id)
        try:
            return Source(self.source, doc.data)
        except ValueError as exc:
            raise DocumentError(f"map {self.map.id}: {exc}", shape=self.id) from None

    def handle(self, doc: Document) -> tuple[str, Document]:
        ready = self._ready.pop(id(doc), None)
        source = ready.source if ready is not None else self._source(doc)
        target = Target(self.target)
        for number, entry in enumerate(self.map.mappings):
            try:
                self._apply(number, entry, source, target, doc, ready)
            except ValueError as exc:
                raise DocumentError(f"map {self.map.id}: mapping {number + 1} (to {entry.to}): {exc}",
                                    shape=self.id) from None
        data = target.render()
        problems = profile_problems(self.target, data)
        if problems:
            raise DocumentError(f"map {self.map.id}: the result does not fit profile {self.target.id}: "
                                + "; ".join(problems[:5]), shape=self.id)
        return "next", doc.with_data(data)

    def _apply(self, number: int, entry: MapEntry, source: Source, target: Target, doc: Document,
               ready: _Ready | None) -> None:
        plan = self._plan(entry)
        for indexes, value in self._values(number, entry, plan, source, doc, ready):
            if value == "" and entry.default is not None:
                value = entry.default
            target.write(plan.to, value, indexes)

    def _values(self, number: int, entry: MapEntry, plan: _Plan, source: Source, doc: Document,
                ready: _Ready | None) -> list[tuple[tuple[int, ...], str]]:
        """The mapping's value for each repetition (once when nothing repeats)."""
        if entry.function != "script":
            return [(indexes, apply_function(entry, values, self._lookup) if entry.function
                     else (values[0] if values else "")) for indexes, values in self._inputs(plan, source, doc)]
        assert self.scripts is not None
        evaluated = ready.scripts.get(number, []) if ready is not None else None
        if evaluated is None:  # not prepared with its batch: evaluated on its own
            asked = self._inputs(plan, source, doc)
            evaluated = list(zip([key for key, _ in asked],
                                 self.scripts.evaluate([(number, values) for _, values in asked]), strict=True))
        return [(key, self._script_text(result)) for key, result in evaluated]

    def _script_text(self, result: SandboxResult) -> str:
        for level, line in result.logs:
            self.ctx.log_line(level if level in ("info", "warning", "error") else "info", line, self.id)
        if not result.ok:
            raise ValueError(script_failure(result))
        text = result.values.get("result", "")
        return text if isinstance(text, str) else str(text)

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
