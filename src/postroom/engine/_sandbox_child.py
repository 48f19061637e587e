"""The child side of the sandbox (see ``_sandbox.py``): runs one piece of user code over
many inputs, in a process of its own, and sends each result back over a pipe.

This file runs as a script (``python -I _sandbox_child.py``) and imports nothing but the
standard library: the child never loads Postroom, its settings, its key or its database.
The parent imports it only for the message format (:func:`write_message`,
:func:`read_message`, :func:`encode`, :func:`decode`), so both sides share one definition.

Messages: a 4-byte big-endian length, a JSON header of that length, then the binary blobs
the header lists (``"blobs": [size, ...]``). In a value, ``{"\\u0000b": i}`` stands for blob i
(bytes travel as they are, never in JSON).
"""

from __future__ import annotations

import builtins
import json
import os
import signal
import struct
import sys
from collections.abc import Callable
from typing import Any, BinaryIO

LENGTH = struct.Struct(">I")
BLOB = "\x00b"
SCALARS = (str, int, float, bool, type(None))
MEMORY_MB = [0]  # the limit this child runs under, for the message when it is reached


def encode(value: Any, blobs: list[bytes]) -> Any:
    """A JSON-ready copy of ``value``; bytes go to ``blobs``. Raises TypeError for a value of
    another type (naming it), ValueError or RecursionError for one that cannot be written."""
    if isinstance(value, SCALARS):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        blobs.append(bytes(value))
        return {BLOB: len(blobs) - 1}
    if isinstance(value, list | tuple):
        return [encode(item, blobs) for item in value]
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, SCALARS):
                raise TypeError(f"{type(key).__name__} {key!r} as a key")
            out[str(key)] = encode(item, blobs)
        return out
    name = type(value).__name__
    raise TypeError(f"an {name}" if name[0] in "aeiou" else f"a {name}")


def decode(value: Any, blobs: list[bytes]) -> Any:
    if isinstance(value, list):
        return [decode(item, blobs) for item in value]
    if isinstance(value, dict):
        if len(value) == 1 and BLOB in value:
            index = value[BLOB]
            if not isinstance(index, int) or not 0 <= index < len(blobs):
                raise ValueError("a message names a blob it does not hold")
            return blobs[index]
        return {key: decode(item, blobs) for key, item in value.items()}
    return value


def write_message(write: Callable[[bytes], Any], header: dict[str, Any], blobs: list[bytes]) -> None:
    header = dict(header, blobs=[len(b) for b in blobs])
    text = json.dumps(header, ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")
    write(b"".join([LENGTH.pack(len(text)), text, *blobs]))


def read_message(read: Callable[[int], bytes]) -> tuple[dict[str, Any], list[bytes]] | None:
    """The next message, or None at the end of the stream (``read(n)`` returns exactly n
    bytes, or fewer only at the end)."""
    head = read(LENGTH.size)
    if len(head) < LENGTH.size:
        return None
    (size,) = LENGTH.unpack(head)
    text = read(size)
    if len(text) < size:
        return None
    header = json.loads(text.decode("utf-8", "surrogatepass"))
    blobs = []
    for length in header.get("blobs", []):
        blob = read(length)
        if len(blob) < length:
            return None
        blobs.append(blob)
    return header, blobs


class ScriptLog:
    """``log`` in a script: lines kept in order and sent back with the result."""

    def __init__(self) -> None:
        self.lines: list[list[str]] = []

    def _add(self, level: str, message: object, args: tuple[Any, ...]) -> None:
        try:
            text = str(message) % args if args else str(message)
        except (TypeError, ValueError):
            text = " ".join(str(part) for part in (message, *args))
        self.lines.append([level, text])

    def debug(self, message: object, *args: object) -> None:
        self._add("info", message, args)

    def info(self, message: object, *args: object) -> None:
        self._add("info", message, args)

    def warning(self, message: object, *args: object) -> None:
        self._add("warning", message, args)

    warn = warning

    def error(self, message: object, *args: object) -> None:
        self._add("error", message, args)

    exception = critical = error


def run_one(code: Any, prelude: Any, names: dict[str, Any], state: dict[str, Any],
            returns: list[str]) -> tuple[dict[str, Any], list[bytes]]:
    """Run the code once; the result header and its blobs. ``state`` (objects the code may
    change in place) lives on from one input to the next."""
    log = ScriptLog()
    before = {name: dict(value) for name, value in state.items() if isinstance(value, dict)}
    scope = {"__builtins__": builtins, "__name__": "__script__", **names, **state, "log": log}
    result: dict[str, Any] = {"ok": True}
    try:
        exec(prelude, scope)  # noqa: S102 - the parent's derived names (text from data)
        names = {name: scope.get(name) for name in returns}
        exec(code, scope)  # noqa: S102 - the user's code, in this child process on purpose
    except MemoryError:
        result = {"ok": False, "error": f"raised MemoryError: it reached its memory limit ({MEMORY_MB[0]} MB, "
                                        "POSTROOM_SCRIPT_MEMORY_MB)"}
    except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt fail this input too
        result = {"ok": False, "error": f"raised {type(exc).__name__}: {exc}", "line": _line(exc, code)}
    blobs: list[bytes] = []
    if result["ok"]:
        values = {}
        for name in returns:
            value = scope.get(name)
            if name in names and value is names[name] and isinstance(value, str | bytes):
                continue  # unchanged: the parent has it
            values[name] = value
        try:
            result["values"] = encode(values, blobs)
        except (TypeError, ValueError, RecursionError) as exc:
            blobs = []
            result = {"ok": False, "error": f"left a value that cannot be used: {_which(values, exc)}"}
    try:
        result["state"] = encode(state, blobs)
    except (TypeError, ValueError, RecursionError) as exc:
        result = {"ok": False, "error": f"left a value that cannot be used: {_which(state, exc)}"}
        for name, value in before.items():  # this input's changes are undone: the next ones start clean
            state[name].clear()
            state[name].update(value)
        blobs = []
        result["state"] = encode(state, blobs)
    result["logs"] = log.lines
    return result, blobs


def _line(exc: BaseException, code: Any) -> int:
    """The line of the user's code where ``exc`` was raised (the innermost frame in it), or 0."""
    line = 0
    trace = exc.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == code.co_filename:
            line = trace.tb_lineno
        trace = trace.tb_next
    return line


def _which(values: dict[str, Any], exc: BaseException) -> str:
    for name, value in values.items():
        try:
            encode(value, [])
        except (TypeError, ValueError, RecursionError):
            return f"{name} holds {exc}" if isinstance(exc, TypeError) else f"{name}: {type(exc).__name__}: {exc}"
    return str(exc)


def _limit_memory(megabytes: int) -> None:
    try:
        import resource

        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):  # pragma: no cover - not Linux/macOS
        pass


def _die_with_parent(parent: int) -> None:
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    if os.getppid() != parent:
        os._exit(0)


# Landlock (Linux 5.13+): system calls, rights and their first ABI
_CREATE, _ADD_RULE, _RESTRICT = 444, 445, 446
_EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_FILE_RIGHTS = _EXECUTE | _WRITE_FILE | _READ_FILE | (1 << 14) | (1 << 15)  # + truncate, ioctl_dev
_READ = _EXECUTE | _READ_FILE | _READ_DIR


def _readable_roots(private: list[str]) -> list[str]:
    """The Python installation, its import path and the system folders, except a folder
    that holds one of ``private`` (Postroom's data folder: key and database)."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *sys.path,
             "/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc", "/opt", "/proc", "/sys"}
    found = []
    for root in sorted(r for r in roots if r and os.path.isabs(r)):
        real = os.path.realpath(root)
        if any(p == real or p.startswith(real.rstrip("/") + "/") for p in private):
            continue
        found.append(real)
    return found


def confine(writable: str, private: list[str]) -> str:
    """From here on this process may read only the Python installation and the system
    folders, write only ``writable`` (and devices such as /dev/null), and signal only its own
    kind. Returns "" when done, else why not (the kernel has no Landlock, not Linux...)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        abi = libc.syscall(_CREATE, None, 0, 1)
    except (OSError, AttributeError) as exc:
        return f"no Landlock ({exc})"
    if abi < 1:
        return "the kernel offers no Landlock (Linux 5.13 or later, with Landlock enabled)"
    handled = (1 << {1: 13, 2: 14, 3: 15, 4: 15}.get(abi, 16)) - 1
    attr = struct.pack("=QQQ", handled, 0, 3) if abi >= 6 else struct.pack("=Q", handled)
    ruleset = libc.syscall(_CREATE, ctypes.create_string_buffer(attr, len(attr)), len(attr), 0)
    if ruleset < 0:
        return f"Landlock refused the rules ({os.strerror(ctypes.get_errno())})"
    rules = [(root, _READ) for root in _readable_roots(private)]
    rules += [("/dev", _READ | _WRITE_FILE | (1 << 15)), (writable, handled)]
    for path, access in rules:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            continue
        if not os.path.isdir(path):
            access &= _FILE_RIGHTS
        rule = struct.pack("=Qi", access & handled, fd)
        libc.syscall(_ADD_RULE, ruleset, 1, ctypes.create_string_buffer(rule, len(rule)), 0)
        os.close(fd)
    libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS, which Landlock requires
    failed = libc.syscall(_RESTRICT, ruleset, 0)
    os.close(ruleset)
    return f"Landlock refused to apply ({os.strerror(ctypes.get_errno())})" if failed else ""


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which stops this child
    source: BinaryIO = os.fdopen(os.dup(0), "rb")
    sink: BinaryIO = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)  # input() in a script reads nothing, not the messages
    os.dup2(2, 1)  # print() in a script goes to stderr, not into the messages
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115
    first = read_message(source.read)
    if first is None:
        return
    init = first[0]
    _die_with_parent(int(init.get("parent", os.getppid())))
    MEMORY_MB[0] = int(init["memory_mb"])
    _limit_memory(MEMORY_MB[0])
    pieces = [(init["code"], init["filename"]), *init.get("more", [])]
    codes = [compile(text, name, "exec") for text, name in pieces]
    prelude = compile(init.get("prelude", ""), "<prelude>", "exec")
    why = confine(os.getcwd(), [os.path.realpath(p) for p in init.get("private", [])])
    write_message(sink.write, {"ready": True, "confined": not why, "why": why}, [])
    sink.flush()
    returns: list[str] = list(init["returns"])

    while (message := read_message(source.read)) is not None:
        header, blobs = message
        state = decode(header["state"], blobs)
        which = header.get("which") or [0] * len(header["items"])  # the code for each item
        for item, number in zip(header["items"], which, strict=True):
            result, out = run_one(codes[number], prelude, decode(item, blobs), state, returns)
            write_message(sink.write, result, out)
            sink.flush()  # at once: the parent times each document from the result before it


if __name__ == "__main__":
    main()
