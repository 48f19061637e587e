"""One exception tree for Postroom.

Every error carries what it concerns (component, shape, document, file, field), whether
retrying may help (``retryable``), a suggested ``fix`` and the CLI exit code it maps to
(2: bad input or configuration, 3: could not reach or log in to a server).
Messages never contain secret values: callers pass names, never the secret itself.

``retryable`` (here and on ``postroom.sdk.Failed``): the same attempt repeated soon may pass
(a refused connection, an SMTP 4xx) or surely will not (a refused login, a certificate
mismatch, a 5xx). Mail's send acts on it (``max_retries``), and so does a listener: a check
that fails with an error that is not retryable shows the listener failed at once and is
tried again only at the longest backoff (``runtime/_listener_worker.py``, ``lasting``). A
Try/Catch does not: as in Boomi it retries every failed document of its ``try`` path.
See docs/connectors.md, "Errors and retries", and docs/adr/0011-retryable-errors.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "PostroomError",
    "ConfigError",
    "ValidationError",
    "SecretMissing",
    "NotFound",
    "Conflict",
    "ConnectorError",
    "ConnectionFailed",
    "AuthenticationFailed",
    "DocumentError",
    "ExecutionStopped",
    "Interrupted",
]


class PostroomError(Exception):
    """Base of every error Postroom raises on purpose."""

    exit_code = 2
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        fix: str | None = None,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
        component: str | None = None,
        shape: str | None = None,
        document: int | str | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.file = file
        self.line = line
        self.field = field
        self.component = component
        self.shape = shape
        self.document = document
        if retryable is not None:
            self.retryable = retryable

    def where(self) -> str:
        """``file:line: field`` (whatever is known), for the start of a message."""
        parts = []
        if self.file:
            parts.append(f"{self.file}:{self.line}" if self.line else self.file)
        if self.component and not self.file:
            parts.append(f"component {self.component}")
        if self.shape:
            parts.append(f"shape {self.shape}")
        if self.field:
            parts.append(f"field {self.field}")
        if self.document is not None:
            parts.append(f"document {self.document}")
        return ": ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        text = f"{where}: {self.message}" if where else self.message
        if self.fix:
            text += f" ({self.fix})"
        return text


class ConfigError(PostroomError):
    """Bad input or configuration: a component file, a field, a reference, a CLI argument."""

    exit_code = 2


class ValidationError(ConfigError):
    """A component or setting that does not validate. ``problems`` holds every one found."""

    def __init__(self, message: str, *, problems: Sequence[PostroomError] | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.problems: list[PostroomError] = list(problems or [])

    def __str__(self) -> str:
        if not self.problems:
            return super().__str__()
        return "\n".join(str(p) for p in self.problems)


class SecretMissing(ConfigError):
    """A ``${secret:NAME}`` or ``${env:VAR}`` reference that resolves to nothing."""


class NotFound(ConfigError):
    """A component, execution or secret that does not exist."""


class Conflict(ConfigError):
    """A change refused by the state it would change: an id already taken, a stale version,
    a component or secret still in use (``used_by`` lists the users)."""

    def __init__(self, message: str, *, used_by: Sequence[dict[str, Any]] = (), **kw: Any) -> None:
        super().__init__(message, **kw)
        self.used_by: list[dict[str, Any]] = list(used_by)


class ConnectorError(PostroomError):
    """Raised by a connector for a failure that is not about one document."""

    exit_code = 3


class ConnectionFailed(ConnectorError):
    """The server could not be reached, or TLS could not be set up."""

    retryable = True


class AuthenticationFailed(ConnectorError):
    """The server refused the credentials."""

    retryable = False


class DocumentError(PostroomError):
    """One document failed; the others go on."""

    exit_code = 1


class ExecutionStopped(PostroomError):
    """An Exception shape with ``stop_process: true`` (or a cancel) ended the execution."""

    exit_code = 1


class Interrupted(PostroomError):
    """The execution was asked to stop (Ctrl-C, SIGTERM, SIGHUP, a lost lease): raised where
    it can stop cleanly, between documents or between emails. The execution is recorded
    ``stopped``; ``exit_code`` is the one the run exits with (128 + the signal's number)."""

    exit_code = 130
