"""Secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256, authenticated) from ``cryptography``.

Where the key comes from, in order:

1. ``POSTROOM_SECRET_KEY``: one Fernet key, or several separated by commas for rotation
   (the first encrypts, every one decrypts). Every host sharing one PostgreSQL database
   must use the same key, so a shared deployment sets this variable.
2. ``<POSTROOM_HOME>/secret.key``: created on first use, readable by its owner only. It is
   never replaced: when it is missing while the repository holds encrypted secrets, every
   secret use stops with an error saying how to restore the key or set the secrets again.

The key is loaded lazily, on the first secret stored or read, so commands that never touch
a secret never create a key file. Error messages name the secret and where the key came
from, never a key, a ciphertext or a clear value.
"""

from __future__ import annotations

import logging
import os
import secrets as _random
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError

if TYPE_CHECKING:  # imported where a secret is encrypted or decrypted: a run without secrets never loads it
    from cryptography.fernet import MultiFernet

__all__ = ["SecretBox", "KEY_ENV", "KEY_FILE_NAME"]

KEY_ENV = "POSTROOM_SECRET_KEY"
KEY_FILE_NAME = "secret.key"

_log = logging.getLogger(__name__)


class SecretBox:
    """Encrypts and decrypts secret values with the configured key."""

    def __init__(self, home: Path, key: str | None = None, stored: Callable[[], list[str]] | None = None) -> None:
        """``key`` overrides the environment (tests, embedding); else env, else key file.
        ``stored`` names the secrets already encrypted in the repository: a key file is
        created only when there are none (a new key could decrypt none of them)."""
        self._home = Path(home)
        self._explicit_key = key
        self._stored = stored or (lambda: [])
        self._fernet: MultiFernet | None = None
        self._source = ""
        self._lock = threading.Lock()

    @property
    def key_file(self) -> Path:
        return self._home / KEY_FILE_NAME

    def encrypt(self, value: str) -> str:
        return self._cipher().encrypt(value.encode("utf-8")).decode("ascii")

    def decrypt(self, name: str, token: str) -> str:
        """Clear value of secret ``name``; ConfigError when the key does not fit."""
        from cryptography.fernet import InvalidToken

        cipher = self._cipher()
        try:
            return cipher.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError, ValueError):
            # ``from None``: the cause would carry nothing useful and must carry no token.
            raise ConfigError(
                f"secret {name!r} cannot be decrypted with the current key ({self._source})",
                fix=f"check {KEY_ENV} or the key file {self.key_file}: it must be the key the "
                "secret was stored with; otherwise set the secret again",
            ) from None

    # -- key loading -------------------------------------------------------------------------
    def _cipher(self) -> MultiFernet:
        with self._lock:
            if self._fernet is None:
                self._fernet = self._load()
            return self._fernet

    def _load(self) -> MultiFernet:
        text = self._explicit_key
        if text is not None:
            self._source = "the key given to the repository"
            return _parse_keys(text, self._source)
        text = os.environ.get(KEY_ENV, "").strip()
        if text:
            self._source = f"from {KEY_ENV}"
            return _parse_keys(text, self._source)
        self._source = f"from the key file {self.key_file}"
        return _parse_keys(self._read_or_create_key_file(), self._source)

    def _read_or_create_key_file(self) -> str:
        path = self.key_file
        if not path.exists():
            self._refuse_new_key_over_secrets()
            _create_key_file(path)
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            _log.warning("key file %s is readable by others (mode %o); it should be 0600",
                         path, stat.S_IMODE(mode))
        try:
            return path.read_text("ascii").strip()
        except (OSError, UnicodeError) as exc:
            raise ConfigError(
                f"cannot read the secret key file {path}: {exc.__class__.__name__}",
                fix=f"make it readable by this user, or set {KEY_ENV}",
            ) from None


    def _refuse_new_key_over_secrets(self) -> None:
        names = self._stored()
        if not names:
            return
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        raise ConfigError(
            f"the secret key file {self.key_file} is missing, but the repository holds {len(names)} secret(s) "
            f"encrypted with it ({shown}); a new key could not decrypt them, so none was made",
            fix=f"put the original secret.key back at {self.key_file} (or set {KEY_ENV} to that key); if it is "
            "lost, delete each secret (postroom secrets delete NAME) and set it again with postroom secrets set NAME",
        )


def _parse_keys(text: str, source: str) -> MultiFernet:
    from cryptography.fernet import Fernet, MultiFernet

    keys = [k.strip() for k in text.split(",") if k.strip()]
    try:
        if not keys:
            raise ValueError("empty")
        return MultiFernet([Fernet(k.encode("ascii")) for k in keys])
    except (ValueError, UnicodeError, TypeError):
        raise ConfigError(
            f"the secret key {source} is not a valid Fernet key",
            fix="a key is 32 random bytes in url-safe base64 (44 characters); generate one with "
            "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'",
        ) from None


def _create_key_file(path: Path) -> None:
    """Create the key file atomically with mode 0600 from the start (never chmod after).

    The key is written to a private temporary file which is then hard-linked into place:
    if two processes race, exactly one link succeeds and both then read the same, complete
    key; no reader ever sees a half-written file."""
    from cryptography.fernet import Fernet

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{_random.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(Fernet.generate_key() + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process created it first: use theirs
        except OSError:
            # A file system without hard links: fall back to an exclusive create.
            try:
                fd2 = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return
            with os.fdopen(fd2, "wb") as handle:
                handle.write(tmp.read_bytes())
    finally:
        tmp.unlink(missing_ok=True)
