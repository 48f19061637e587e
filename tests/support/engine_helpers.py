"""Run a process written as YAML text, without a repository."""

from __future__ import annotations

from postroom.engine import ExecutionContext, MemoryRecorder, execute
from postroom.model import load_text, parse_component
from postroom.services import Binder, validate_settings


def run_yaml(text: str, inputs=None, **options):  # noqa: ANN001, ANN201
    components = {}
    process = None
    for loaded in load_text(text):
        comp = parse_component(loaded)
        components[comp.id] = comp
        if comp.type == "process" and process is None:
            process = comp
    recorder = MemoryRecorder()
    ctx = ExecutionContext(process=process, execution_id="exec-test", components=components.get,
                           open_session=Binder(process.id, components.get, validate_settings).open_session,
                           recorder=recorder, **options)
    result = execute(ctx, inputs)
    return result, recorder, ctx


def logs(recorder: MemoryRecorder, level: str | None = None) -> list[str]:
    return [m for lvl, m, _ in recorder.logs if level is None or lvl == level]
