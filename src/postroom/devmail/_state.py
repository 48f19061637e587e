"""Where a running devmail can be found: a small JSON file (``devmail/state.json`` under
``POSTROOM_HOME``) written when ``postroom devmail`` has started and removed when it stops, so
that ``postroom serve`` with the same home finds its ports (any it took) for the Dev Inbox.
A file left behind by a devmail that died is recognised by its process id and ignored."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

__all__ = ["default_state_file", "read_state", "remove_state", "write_state"]

PORTS = ("smtp_port", "smtps_port", "pop3_port", "pop3s_port", "web_port")


def default_state_file(home: str | os.PathLike[str] | None = None) -> Path:
    raw = home or os.environ.get("POSTROOM_HOME")
    base = Path(raw) if raw else Path.home() / ".postroom"
    return base / "devmail" / "state.json"


def write_state(path: str | os.PathLike[str], host: str, ports: dict[str, int | None],
                ca_file: str | None, tls: bool = False) -> None:
    """Write the state atomically (a reader never sees half a file). ``tls``: the plain SMTP and
    POP3 ports offer STARTTLS/STLS."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    state = {"pid": os.getpid(), "node": socket.gethostname(), "host": host, **ports, "ca_file": ca_file,
             "tls": tls}
    temporary = target.with_name(f".{target.name}.{os.getpid()}")
    temporary.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, target)


def remove_state(path: str | os.PathLike[str]) -> None:
    """Remove the file if this process wrote it (another devmail's is left alone)."""
    target = Path(path)
    try:
        if json.loads(target.read_text(encoding="utf-8")).get("pid") == os.getpid():
            target.unlink()
    except (OSError, ValueError):
        pass


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_state(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The state of the devmail running on this machine, or None (no file, or its devmail died)."""
    try:
        state = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or state.get("node") != socket.gethostname() or not _alive(state.get("pid")):
        return None
    return state
