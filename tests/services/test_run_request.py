"""A run is data: RunRequest round-trips through JSON, holds nothing live, and is all that
run_process and resume_execution take besides the in-process hooks."""

from __future__ import annotations

import dataclasses
import inspect
import json
import types
import typing
from pathlib import Path

import pytest

from postroom.errors import ConfigError
from postroom.repository import open_repository
from postroom.services import (
    InputFile,
    RunHooks,
    RunLimits,
    RunRequest,
    import_paths,
    resume_execution,
    run_process,
)


def _full() -> RunRequest:
    return RunRequest(
        process_id="letters", process_version=3,
        inputs=(InputFile("/data/patients.csv", size=120, mtime=1700000000.5, sha256="ab" * 32),),
        mode="dry_run", environment="staging", trigger="listener", listener="letters", instance="host:1:abc",
        limits=RunLimits(documents_per_shape=7, bytes_total=1024, dry_runs=5, batch_size=10))


@pytest.mark.parametrize("request_", [RunRequest("p"), _full(), RunRequest("p", mode="test_dry_run")])
def test_a_run_request_round_trips_through_json_text(request_: RunRequest) -> None:
    text = json.dumps(request_.to_json())
    back = RunRequest.from_json(json.loads(text))
    assert back == request_
    assert back.to_json() == request_.to_json()


def test_the_json_form_is_versioned_and_keeps_what_resume_and_the_api_read() -> None:
    data = _full().to_json()
    assert data["version"] == 1
    assert data["trigger"] == "listener" and data["listener"] == "letters"
    assert data["input_files"] == [{"path": "/data/patients.csv", "size": 120, "mtime": 1700000000.5,
                                    "sha256": "ab" * 32}]
    assert data["inputs"] == ["/data/patients.csv"]


def test_an_unknown_version_is_refused_clearly() -> None:
    data = {**RunRequest("p").to_json(), "version": 99}
    with pytest.raises(ConfigError) as caught:
        RunRequest.from_json(data)
    assert "version 99 is not supported" in str(caught.value)


def test_an_unknown_mode_or_trigger_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown run mode"):
        RunRequest("p", mode="fast")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown run trigger"):
        RunRequest.from_json({**RunRequest("p").to_json(), "trigger": "telepathy"})


def test_a_request_recorded_before_versions_is_read() -> None:
    legacy = {"inputs": ["/a.csv"], "input_files": [{"path": "/a.csv", "size": 1, "mtime": 2.0, "sha256": "x"}],
              "test": True, "dry_run": False, "process_version": 2, "trigger": "manual"}
    request = RunRequest.from_json({**legacy, "process_id": "p"})
    assert (request.mode, request.process_version, request.paths) == ("test", 2, ["/a.csv"])


def test_a_run_request_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        RunRequest("p").mode = "test"  # type: ignore[misc]


_DATA = (str, int, float, bool, type(None))


def _data_only(hint: object, seen: list[str]) -> None:
    """Every leaf of a field's type is JSON data or a frozen dataclass of such fields."""
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        assert all(isinstance(v, str) for v in typing.get_args(hint))
        return
    if origin in (typing.Union, types.UnionType, tuple):
        for arg in typing.get_args(hint):
            if arg is not Ellipsis:
                _data_only(arg, seen)
        return
    if dataclasses.is_dataclass(hint):
        assert hint.__dataclass_params__.frozen, f"{hint} is not frozen"  # type: ignore[union-attr]
        for name, sub in typing.get_type_hints(hint).items():
            seen.append(name)
            _data_only(sub, seen)
        return
    assert hint in _DATA, f"{hint!r} is not data (no callables or live objects in a RunRequest)"


def test_a_run_request_holds_data_only() -> None:
    seen: list[str] = []
    _data_only(RunRequest, seen)
    assert {"process_id", "process_version", "inputs", "mode", "environment", "trigger", "limits",
            "version", "sha256"} <= set(seen)
    assert not any(word in name for name in seen for word in ("secret", "password", "token"))


def test_run_process_and_resume_take_a_request_and_hooks_only() -> None:
    run = typing.get_type_hints(run_process)
    assert list(inspect.signature(run_process).parameters) == ["repo", "request", "hooks"]
    assert run["request"] is RunRequest and run["hooks"] == RunHooks | None
    resume = typing.get_type_hints(resume_execution)
    assert list(inspect.signature(resume_execution).parameters) == ["repo", "execution_id", "hooks"]
    assert resume["execution_id"] is str and resume["hooks"] == RunHooks | None


PROCESS = """\
type: process
id: copy
name: Copy
start: start
shapes:
  start: {type: start, mode: data_passthrough, next: stop}
  stop: {type: stop}
"""


def test_the_execution_record_stores_the_request_json_and_a_resume_reads_it(tmp_path: Path, home: Path) -> None:
    (tmp_path / "p.yaml").write_text(PROCESS)
    data = tmp_path / "in.txt"
    data.write_text("hello\n")
    repo = open_repository(home=home)
    try:
        import_paths(repo, [str(tmp_path / "p.yaml")])
        record, result = run_process(repo, RunRequest("copy", inputs=(InputFile(str(data)),), mode="test"))
        assert result.exit_code == 0 and record.mode == "test"
        stored = RunRequest.from_json(record.request)
        assert stored.process_version == 1 and stored.mode == "test"
        (fingerprint,) = stored.inputs
        assert fingerprint.path == str(data) and fingerprint.size == 6 and fingerprint.sha256
        repo.update_execution(record.id, status="stopped")
        resumed, _ = resume_execution(repo, record.id, RunHooks())
        assert resumed.id == record.id and resumed.status == "complete" and resumed.documents_in == 1
    finally:
        repo.close()
