"""A run as data: :class:`RunRequest` says what to run (frozen, secret-free, JSON both
ways, stored as the execution record's ``request``); :class:`RunHooks` holds what only the
process that starts the run can give it (progress, echo, the stop flag, a listener's open
start session and fetched documents). Everything that starts a run builds a RunRequest:
``postroom run`` and ``executions resume``, listeners, and later the API, schedules and
workers; the hooks are the only live object that crosses into ``services``."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from ..engine import ExecutionContext, Limits, StopFlag
from ..errors import ConfigError
from ..sdk import Document, OperationSession

__all__ = ["REQUEST_VERSION", "InputFile", "RunHooks", "RunLimits", "RunRequest"]

REQUEST_VERSION = 1

#: ``test_dry_run``: ``postroom run --test --dry-run`` (documents kept and side effects recorded)
Mode = Literal["normal", "test", "dry_run", "test_dry_run"]
Trigger = Literal["manual", "listener", "api", "schedule"]


@dataclass(frozen=True)
class InputFile:
    """An input by reference: its absolute path and, once checked, its fingerprint (a
    resume refuses to run when the file is gone or changed)."""

    path: str
    size: int | None = None
    mtime: float | None = None
    sha256: str | None = None

    def to_json(self) -> dict[str, Any]:
        if self.sha256 is None:
            return {"path": self.path}
        return {"path": self.path, "size": self.size, "mtime": self.mtime, "sha256": self.sha256}


@dataclass(frozen=True)
class RunLimits:
    """Test-mode and dry-run record limits, and the engine's batch size."""

    documents_per_shape: int = 100
    bytes_total: int = 10 * 1024 * 1024
    dry_runs: int = 1000
    batch_size: int = 1000

    def engine_limits(self) -> Limits:
        return Limits(documents_per_shape=self.documents_per_shape, bytes_total=self.bytes_total,
                      dry_runs=self.dry_runs)


@dataclass(frozen=True)
class RunRequest:
    """What to run. ``process_version`` None: the latest, or the one deployed to
    ``environment`` (the stored request names the version that ran). ``listener`` and
    ``instance``: the listener and serve process that started it (trigger ``listener``);
    ``schedule``: the schedule that started it (trigger ``schedule``, with the serve process as
    ``instance``). ``environment``: the id of the environment whose extensions apply (None:
    none; a schedule's ``environment``)."""

    process_id: str
    process_version: int | None = None
    inputs: tuple[InputFile, ...] = ()
    mode: Mode = "normal"
    environment: str | None = None
    trigger: Trigger = "manual"
    listener: str | None = None
    instance: str | None = None
    limits: RunLimits = field(default_factory=RunLimits)
    version: int = REQUEST_VERSION
    schedule: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in get_args(Mode):
            raise ConfigError(f"unknown run mode {self.mode!r}", field="mode",
                              fix="use one of: " + ", ".join(get_args(Mode)))
        if self.trigger not in get_args(Trigger):
            raise ConfigError(f"unknown run trigger {self.trigger!r}", field="trigger",
                              fix="use one of: " + ", ".join(get_args(Trigger)))

    @property
    def test(self) -> bool:
        return self.mode in ("test", "test_dry_run")

    @property
    def dry_run(self) -> bool:
        return self.mode in ("dry_run", "test_dry_run")

    @property
    def record_mode(self) -> str:
        """The execution record's mode: test wins over dry run."""
        return "test" if self.test else "dry_run" if self.dry_run else "normal"

    @staticmethod
    def mode_of(test: bool, dry_run: bool) -> Mode:
        if test and dry_run:
            return "test_dry_run"
        return "test" if test else "dry_run" if dry_run else "normal"

    @property
    def paths(self) -> list[str]:
        return [item.path for item in self.inputs]

    def replace(self, **changes: Any) -> RunRequest:
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """The JSON form (also the execution record's ``request``); ``inputs`` lists the
        paths, ``input_files`` the paths with their fingerprints."""
        return {"version": self.version, "process_id": self.process_id, "process_version": self.process_version,
                "mode": self.mode, "test": self.test, "dry_run": self.dry_run, "environment": self.environment,
                "trigger": self.trigger, "listener": self.listener, "instance": self.instance,
                "inputs": self.paths, "input_files": [item.to_json() for item in self.inputs],
                "limits": dataclasses.asdict(self.limits), "schedule": self.schedule}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunRequest:
        """The request of a JSON form; a form without ``version`` is one recorded before
        requests had versions. ConfigError for a version this Postroom does not know."""
        version = data.get("version")
        if version is None:
            return cls._legacy(data)
        if version != REQUEST_VERSION:
            raise ConfigError(f"run request version {version!r} is not supported (this Postroom reads version "
                              f"{REQUEST_VERSION})", field="request.version",
                              fix="run it with the Postroom release that wrote it, or start a new run")
        try:
            return cls(process_id=str(data["process_id"]), process_version=data.get("process_version"),
                       inputs=tuple(InputFile(**item) for item in data.get("input_files") or ()),
                       mode=data.get("mode", "normal"), environment=data.get("environment"),
                       trigger=data.get("trigger", "manual"), listener=data.get("listener"),
                       instance=data.get("instance"), limits=RunLimits(**(data.get("limits") or {})),
                       schedule=data.get("schedule"))
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"the run request is malformed: {exc}", field="request",
                              fix="start a new run") from None

    @classmethod
    def _legacy(cls, data: dict[str, Any]) -> RunRequest:
        files = data.get("input_files") or [{"path": p} for p in data.get("inputs") or ()]
        mode = cls.mode_of(bool(data.get("test")), bool(data.get("dry_run")))
        return cls(process_id=str(data.get("process_id") or ""), process_version=data.get("process_version"),
                   inputs=tuple(InputFile(**item) for item in files), mode=mode,
                   trigger=data.get("trigger", "manual"), listener=data.get("listener"),
                   instance=data.get("instance"))


@dataclass
class RunHooks:
    """The in-process side of a run. ``documents``: the start documents (consumed once,
    inside the execution). ``start_session``: a session already open for the start shape
    (a listener's); the execution commits it after success and leaves closing it to the
    caller. ``on_context``: called with the execution context before any document moves.
    ``stop``: set it (a signal handler, another thread) to stop the execution cleanly."""

    progress: Callable[[ExecutionContext], None] | None = None
    echo: Callable[[str, str, str | None], None] | None = None
    stop: StopFlag = field(default_factory=StopFlag)
    documents: Iterable[Document] | None = None
    start_session: OperationSession | None = None
    on_context: Callable[[ExecutionContext], None] | None = None
