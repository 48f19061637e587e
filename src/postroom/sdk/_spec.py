"""What a connector author implements.

A connector is a plugin found through the ``postroom.connectors`` entry point group.
It names one pydantic model for its connection settings and one for its operation
settings. Each field carries its title, help, group, ``secret`` flag and ``show_if``
condition through :func:`setting`; the same model drives validation, the web form,
the docs page and the JSON Schema (DESIGN.md, principle 1).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from ._context import RunContext
from ._document import Document

__all__ = [
    "setting",
    "setting_error",
    "Settings",
    "Connector",
    "OperationSession",
    "ListeningSession",
    "Failed",
    "TestReport",
    "secret_fields",
    "DocumentProperty",
]


def setting_error(field: str, message: str, fix: str | None = None) -> PydanticCustomError:
    """The error a settings model's own check (a ``model_validator``) raises about one field:
    ``raise setting_error("use_tls", "...", fix="set use_tls: true")``. Import and the API report
    it at ``settings.FIELD`` with the fix (a form shows it beside that field), not at ``settings``."""
    return PydanticCustomError("setting", message, {"field": field, "fix": fix or ""})


def setting(
    default: Any = ...,
    *,
    title: str,
    help: str,
    group: str | None = None,
    secret: bool = False,
    show_if: dict[str, Any] | None = None,
    examples: list[Any] | None = None,
    enum_titles: tuple[str, ...] | None = None,
    advanced: bool = False,
    **kw: Any,
) -> Any:
    """A settings field with the metadata forms, docs and the CLI read. ``enum_titles``: the
    label of each value of a Literal field, in the order of its values (the JSON Schema's
    ``x-enumNames``, which the browser's forms show). ``advanced``: the form keeps the field's
    section folded away until opened (for fields most users never change)."""
    extra: dict[str, Any] = {}
    if advanced:
        extra["advanced"] = True
    if enum_titles:
        extra["x-enumNames"] = list(enum_titles)
    if group:
        extra["group"] = group
    if secret:
        extra["secret"] = True
        extra["writeOnly"] = True
    if show_if:
        extra["show_if"] = show_if
    return Field(default, title=title, description=help, examples=examples, json_schema_extra=extra or None, **kw)


class Settings(BaseModel):
    """Base of every connection and operation settings model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=False)


def secret_fields(model: type[BaseModel]) -> list[str]:
    """Names of the fields marked ``secret`` in a settings model."""
    names = []
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra
        if isinstance(extra, dict) and extra.get("secret"):
            names.append(name)
    return names


@dataclass(frozen=True)
class DocumentProperty:
    """A document property a connector reads or sets, declared once on the connector
    (:attr:`Connector.document_properties`): import checks the names shapes use against
    these, and the docs list them.

    ``name`` is ``CONNECTOR.NAME`` (``mail.to_address``); a family of names ends in
    ``.<Name>`` (``mail.headers.<Name>``). ``boomi`` is Boomi's name for the same property,
    when it has one, so that a name copied from Boomi draws a warning naming Postroom's."""

    name: str
    help: str
    boomi: str = ""

    @property
    def family(self) -> str | None:
        """``mail.headers.`` for ``mail.headers.<Name>``; None for a single property."""
        return self.name[: self.name.index("<")] if self.name.endswith(">") else None

    def matches(self, name: str) -> bool:
        family = self.family
        return name.startswith(family) and len(name) > len(family) if family else name == self.name


@dataclass
class Failed:
    """The result for a document that failed in a connector; the others go on.

    ``message`` says why (never a secret). ``retryable``: the same attempt may pass later
    (an SMTP 4xx after the connector's own retries); informative for a document: a Try/Catch
    retries every failed document, as in Boomi (see :mod:`postroom.errors`)."""

    document: Document
    message: str
    retryable: bool = False


@dataclass
class TestReport:
    """What ``postroom connections test`` prints: ok plus facts the server offered."""

    ok: bool
    facts: list[tuple[str, str]] = field(default_factory=list)
    message: str = ""


class OperationSession(ABC):
    """One operation bound to one connection for the length of an execution.

    The engine opens it lazily when the first document reaches the shape and closes it
    when the execution ends, so sessions (SMTP, IMAP) are reused across documents.
    """

    #: True when the operation changes the outside world (send, delete, write).
    side_effects: ClassVar[bool] = False
    #: The id of the operation component this session runs (set by the engine and the
    #: listener runtime right after ``open``; "" in a connector's own tests). A get keeps
    #: its watermark under it, so two operations reading one mailbox each take every message.
    operation_id: str = ""

    def fetch(self) -> Iterator[Document | Failed]:
        """Start-shape use: yield the documents this operation gets. Yield a :class:`Failed`
        for an item that cannot become a document (a broken email): the engine records it
        as a failed document of the start shape and the others go on."""
        raise NotImplementedError(f"{type(self).__name__} cannot start a process")

    @abstractmethod
    def execute(self, documents: list[Document], shape_id: str) -> Iterable[Document | Failed]:
        """Run for a batch of documents; yield, per document, its result or a Failed."""

    def document_failed(self, document: Document) -> None:  # noqa: B027 - optional hook
        """A document of this execution failed for good (not caught by a Try/Catch). Called
        on every open session as it happens, before :meth:`commit`, so a get can hold back
        the item the document came from (found by its properties, such as ``mail.uid``)."""

    def commit(self) -> None:  # noqa: B027 - optional hook
        """Called once the fetched documents are safely stored (commit after success)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release sessions and files."""

    def resource_key(self) -> str | None:
        """What a get consumes (a mailbox such as ``imap://user@host:993/INBOX``, a folder):
        a listener holds the lease ``listener:<key>`` so that one consumer at a time reads
        it. None (the default): the listener's lease is named after its process."""
        return None

    def interrupt(self) -> None:  # noqa: B027 - optional hook
        """Make a blocking call of this session (a wait for new data, a pause between
        retries) return soon. Called from another thread (a listener being stopped);
        the default does nothing."""


class ListeningSession(OperationSession):
    """A get session a listener can wait on (IMAP IDLE): instead of polling every
    ``interval_seconds`` the listener calls :meth:`wait_for_new` between fetches.

    Set :attr:`interruptible` when :meth:`interrupt` makes a running :meth:`wait_for_new`
    return: the listener then waits the whole interval in one call; otherwise it waits
    in short chunks so that a stop is never long in coming."""

    interruptible: ClassVar[bool] = False

    @abstractmethod
    def wait_for_new(self, timeout_seconds: float) -> bool:
        """Block until data the next fetch would take may have arrived (True), or until
        ``timeout_seconds`` pass or :meth:`interrupt` is called (False). ``wait_for_new(0)``
        asks without waiting. Raise ConnectorError when the source cannot be reached."""


ConnectionSettings = TypeVar("ConnectionSettings", bound=Settings)
OperationSettings = TypeVar("OperationSettings", bound=Settings)


class Connector(ABC, Generic[ConnectionSettings, OperationSettings]):
    """A connector plugin: its settings models and how to open sessions.

    Generic in its two settings models, so that :meth:`open` and :meth:`test` receive the
    connector's own types: ``class DiskConnector(Connector[DiskConnection, DiskOperation])``.
    The engine validates component settings against :attr:`connection_model` and
    :attr:`operation_model` before it calls :meth:`open`."""

    name: ClassVar[str]
    title: ClassVar[str]
    connection_model: type[ConnectionSettings]
    operation_model: type[OperationSettings]
    #: The document properties this connector reads (before a send) or sets (on what it gets).
    document_properties: ClassVar[tuple[DocumentProperty, ...]] = ()

    @abstractmethod
    def open(
        self, connection: ConnectionSettings, operation: OperationSettings, context: RunContext
    ) -> OperationSession:
        """Bind an operation to a connection for one execution."""

    def test(self, connection: ConnectionSettings) -> TestReport:
        """Connect and log in; report what the server offers. Raise ConnectorError on failure."""
        return TestReport(ok=True, message="this connector has no connection test")
