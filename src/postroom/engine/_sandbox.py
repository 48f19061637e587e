"""Run user code (a script step, the script mappings of a Map) in a child process.

The child (``_sandbox_child.py``, standard library only) starts with an empty environment
but for ``PATH``, locale and time zone (no ``POSTROOM_*``, no key, no ``${env:}`` secrets),
in a fresh temporary folder, with a memory limit (``RLIMIT_AS``) and no handle on the
repository. One child serves one piece of code for a whole execution: inputs go over a pipe
in batches, a result comes back for each, so a document costs a round trip, not a process.
Each result must arrive within the time limit, else the child is killed, that input fails
and a new child takes the rest. A child that dies (``os._exit``, a crash, the memory limit
reached outside Python) fails the input it was running, the same way.

Settings (environment of the Postroom process): ``POSTROOM_ALLOW_SCRIPTS`` (``true``;
``false`` refuses components with scripts), ``POSTROOM_SCRIPT_TIMEOUT`` (seconds per
document, 30), ``POSTROOM_SCRIPT_MEMORY_MB`` (512).
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from . import _sandbox_child as wire

__all__ = ["ScriptLimits", "Sandbox", "SandboxResult", "scripts_allowed", "script_steps", "check_scripts"]

CHILD = Path(wire.__file__).resolve()
KEPT_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "SYSTEMROOT")
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def scripts_allowed(environ: Mapping[str, str] = os.environ) -> bool:
    """``POSTROOM_ALLOW_SCRIPTS`` (default true); a value that is not a yes or no is an error."""
    raw = environ.get("POSTROOM_ALLOW_SCRIPTS", "true").strip().lower()
    if raw in TRUE or raw == "":
        return True
    if raw in FALSE:
        return False
    raise ConfigError(f"POSTROOM_ALLOW_SCRIPTS={raw!r} is neither true nor false", field="POSTROOM_ALLOW_SCRIPTS",
                      fix="set it to true or false")


def _number(environ: Mapping[str, str], name: str, default: float, fix: str) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise ConfigError(f"{name}={raw!r} is not a positive number", field=name, fix=fix)
    return value


@dataclass(frozen=True)
class ScriptLimits:
    timeout: float = 30.0  # seconds a script may run on one document
    memory_mb: int = 512  # the child's address space

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> ScriptLimits:
        return cls(timeout=_number(environ, "POSTROOM_SCRIPT_TIMEOUT", 30.0, "seconds per document, e.g. 30"),
                   memory_mb=int(_number(environ, "POSTROOM_SCRIPT_MEMORY_MB", 512, "megabytes, e.g. 512")))


@dataclass
class SandboxResult:
    ok: bool
    values: dict[str, Any] = field(default_factory=dict)  # the names asked for that the code changed
    state: dict[str, Any] | None = None
    logs: list[tuple[str, str]] = field(default_factory=list)
    error: str = ""
    line: int = 0  # where the code raised its error (its own line numbers), 0 when unknown


class _Ended(Exception):
    """The child is gone, or sent something that is not a message."""


class Sandbox:
    """One child process running ``code`` over many inputs.

    ``returns``: the names read back from the code's scope after each input (a ``str`` or
    ``bytes`` the code left as it was after ``prelude`` is not sent back). ``state``, given with each batch, is
    a dict of names whose values (dicts) the code may change in place; it carries from one
    input to the next and comes back with each result."""

    def __init__(self, code: str, filename: str, returns: list[str], limits: ScriptLimits, prelude: str = "",
                 more: list[tuple[str, str]] | None = None) -> None:
        self.code, self.filename, self.returns, self.limits = code, filename, returns, limits
        self.more = more or []  # further (code, filename) pieces: run(..., which=) picks one per input
        self.prelude = prelude  # our own code run before the user's on each input (derived names)
        self._proc: subprocess.Popen[bytes] | None = None
        self._folder: str | None = None
        self._buffer = bytearray()  # bytes read from the child, not yet taken
        self.unconfined = ""  # why the child could not be confined to its folder (no Landlock), if so

    # -- the child ----------------------------------------------------------------------
    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is not None:
            return self._proc
        self._folder = self._folder or tempfile.mkdtemp(prefix="postroom-script-")
        env = {k: v for k, v in os.environ.items() if k in KEPT_ENVIRONMENT or k.startswith("LC_")}
        env["HOME"] = env["TMPDIR"] = self._folder
        proc = subprocess.Popen([sys.executable, "-I", str(CHILD)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                cwd=self._folder, env=env, close_fds=True)
        self._proc = proc
        os.set_blocking(proc.stdin.fileno(), False)  # type: ignore[union-attr]
        deadline = time.monotonic() + 30
        self._send({"code": self.code, "filename": self.filename, "returns": self.returns, "prelude": self.prelude,
                    "more": [list(piece) for piece in self.more], "memory_mb": self.limits.memory_mb, "parent": os.getpid(), "private": _private_paths()}, [],
                   deadline)
        ready, _ = self._receive(deadline)
        self.unconfined = str(ready.get("why") or "")
        return proc

    def _stop(self) -> str:
        """Kill the child (if it still runs); why it ended, for a message."""
        proc, self._proc = self._proc, None
        self._buffer.clear()
        if proc is None:
            return "it was not running"
        if proc.poll() is None:
            proc.kill()
        code = proc.wait()
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()  # type: ignore[union-attr]
            except OSError:
                pass
        if code < 0:
            import signal

            return f"killed by signal {signal.Signals(-code).name}"
        return f"exit code {code}"

    def close(self) -> None:
        self._stop()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    # -- messages -------------------------------------------------------------------------
    def _send(self, header: dict[str, Any], blobs: list[bytes], deadline: float) -> None:
        chunks: list[bytes] = []
        wire.write_message(chunks.append, header, blobs)
        data = memoryview(chunks[0])
        fd = self._proc.stdin.fileno()  # type: ignore[union-attr]
        while data:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            _, writable, _ = select.select([], [fd], [], remaining)
            if not writable:
                continue
            try:
                data = data[os.write(fd, data[: 1 << 20]) :]
            except BlockingIOError:
                continue
            except (BrokenPipeError, OSError) as exc:
                raise _Ended(str(exc)) from None

    def _receive(self, deadline: float) -> tuple[dict[str, Any], list[bytes]]:
        fd = self._proc.stdout.fileno()  # type: ignore[union-attr]
        buffer = self._buffer

        def read(size: int) -> bytes:
            while len(buffer) < size:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                readable, _, _ = select.select([fd], [], [], remaining)
                if not readable:
                    continue
                chunk = os.read(fd, max(size - len(buffer), 1 << 16))
                if not chunk:
                    break
                buffer.extend(chunk)
            taken = bytes(buffer[:size])
            del buffer[:size]
            return taken

        try:
            message = wire.read_message(read)
        except (ValueError, UnicodeError) as exc:
            raise _Ended(f"a broken message ({exc})") from None
        if message is None:
            raise _Ended("nothing more came from it")
        return message

    # -- evaluation -----------------------------------------------------------------------
    def run(self, items: list[dict[str, Any]], state: dict[str, Any],
            which: list[int] | None = None) -> Iterator[SandboxResult]:
        """One result per item, in order. ``state`` is read again whenever a batch is
        (re)sent, so the caller may update it from each result before taking the next.
        ``which``: for each item, the piece of code to run (0 the first, 1 the first of ``more``...)."""
        pending = list(items)
        codes = list(which) if which is not None else [0] * len(items)
        while pending:
            done = 0
            try:
                self._start()
                blobs: list[bytes] = []
                header = {"state": wire.encode(state, blobs), "items": [wire.encode(i, blobs) for i in pending],
                          "which": codes}
                self._send(header, blobs, time.monotonic() + self.limits.timeout)
                for done in range(len(pending)):  # noqa: B007 - read after the loop on failure
                    yield self._result(*self._receive(time.monotonic() + self.limits.timeout))
                pending = []
            except TimeoutError:
                self._stop()
                yield SandboxResult(False, error=f"failed: it ran longer than {self.limits.timeout:g} s "
                                                  "(POSTROOM_SCRIPT_TIMEOUT) and was stopped")
                pending, codes = pending[done + 1 :], codes[done + 1 :]
            except _Ended as exc:
                why = self._stop()
                yield SandboxResult(False, error=f"failed: its process ended without a result ({why}; {exc})")
                pending, codes = pending[done + 1 :], codes[done + 1 :]

    @staticmethod
    def _result(header: dict[str, Any], blobs: list[bytes]) -> SandboxResult:
        try:
            logs = [(str(level), str(text)) for level, text in header.get("logs", [])]
            state = wire.decode(header.get("state"), blobs)
            if not header.get("ok"):
                return SandboxResult(False, state=state, logs=logs, error=str(header.get("error", "failed")),
                                     line=int(header.get("line") or 0))
            values = wire.decode(header.get("values", {}), blobs)
        except (TypeError, ValueError) as exc:
            raise _Ended(f"a broken result ({exc})") from None
        return SandboxResult(True, values if isinstance(values, dict) else {}, state, logs)


def _private_paths() -> list[str]:
    """Postroom's data folder (key, SQLite database): never readable from the child, even
    when it lies inside a folder the child may read."""
    home = os.environ.get("POSTROOM_HOME") or os.path.join(os.path.expanduser("~"), ".postroom")
    paths = [os.path.abspath(home)]
    url = os.environ.get("POSTROOM_DATABASE_URL", "")
    if url.startswith("sqlite:///"):
        paths.append(os.path.dirname(os.path.abspath(url.removeprefix("sqlite:///"))))
    return paths


def script_steps(process: Any) -> list[tuple[str, int]]:
    """(shape id, step number from 1) of every script step of a process."""
    found = []
    for shape_id, shape in getattr(process, "shapes", {}).items():
        for number, step in enumerate(getattr(shape, "steps", None) or [], 1):
            if getattr(step, "type", None) == "script":
                found.append((shape_id, number))
    return found


def check_scripts(process: Any) -> None:
    """Before a process runs: with ``POSTROOM_ALLOW_SCRIPTS=false`` a process holding a
    script step does not run; the script settings must be valid when it has one."""
    steps = script_steps(process)
    if not steps:
        return
    ScriptLimits.from_env()
    if not scripts_allowed():
        shape_id, number = steps[0]
        raise ConfigError(f"step {number} is a script and scripts are turned off (POSTROOM_ALLOW_SCRIPTS=false)",
                          component=process.id, shape=shape_id, field=f"steps.{number}",
                          fix="remove the script step, or set POSTROOM_ALLOW_SCRIPTS=true to allow scripts")
