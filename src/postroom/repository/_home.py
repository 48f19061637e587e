"""The data folder (``POSTROOM_HOME``): the default SQLite file and the secret key file.

Kept free of SQLAlchemy so that importing :mod:`postroom.repository` stays cheap."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ConfigError

__all__ = ["HOME_ENV", "URL_ENV", "SQLITE_BUSY_TIMEOUT_MS", "SQLITE_FILE_PRAGMAS", "data_home"]

HOME_ENV = "POSTROOM_HOME"
URL_ENV = "POSTROOM_DATABASE_URL"
#: how long a SQLite writer (or reader) waits for the lock before failing
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: every connection to a SQLite file: WAL (readers never block the writer) and NORMAL sync
#: (durable enough under WAL, much faster); see _engine.py
SQLITE_FILE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")


def data_home(home: str | Path | None = None) -> Path:
    """The resolved data folder, created (mode 0700: it holds the key file) when missing.

    ``home`` if given, else ``POSTROOM_HOME``, else ``~/.postroom``. An existing folder's
    permissions are left as the user set them."""
    raw = str(home) if home else (os.environ.get(HOME_ENV) or "~/.postroom")
    path = Path(raw).expanduser()
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the data folder {path}: {exc.strerror or exc.__class__.__name__}",
            fix=f"set {HOME_ENV} to a folder this user can write",
        ) from None
    if not path.is_dir():
        raise ConfigError(f"the data folder {path} is not a folder", fix=f"set {HOME_ENV} to a folder")
    return path.resolve()
