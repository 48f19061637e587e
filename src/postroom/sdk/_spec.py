"""What a connector author implements.

A connector is a plugin found through the ``postroom.connectors`` entry point group.
It names one pydantic model for its connection settings and one for its operation
settings. Each field carries its title, help, group, ``secret`` flag and ``show_if``
condition through :func:`setting`; the same model drives validation, the web form,
the docs page and the JSON Schema (DESIGN.md, principle 1).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, Field

from ._document import Document

__all__ = [
    "setting",
    "Settings",
    "Connector",
    "OperationSession",
    "RunContext",
    "Failed",
    "TestReport",
    "secret_fields",
    "DocumentProperty",
]


def setting(
    default: Any = ...,
    *,
    title: str,
    help: str,
    group: str | None = None,
    secret: bool = False,
    show_if: dict[str, Any] | None = None,
    examples: list[Any] | None = None,
    **kw: Any,
) -> Any:
    """A settings field with the metadata forms, docs and the CLI read."""
    extra: dict[str, Any] = {}
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
    """The result for a document that failed in a connector; the others go on."""

    document: Document
    message: str
    retryable: bool = False


@dataclass
class TestReport:
    """What ``postroom connections test`` prints: ok plus facts the server offered."""

    ok: bool
    facts: list[tuple[str, str]] = field(default_factory=list)
    message: str = ""


class RunContext(Protocol):
    """What the engine offers a connector during one execution."""

    execution_id: str
    process_id: str
    dry_run: bool
    log: logging.Logger

    def record_dry_run(self, shape_id: str, document: Document, action: str, payload: Any) -> None:
        """Keep what a side effect would have done (``--dry-run``). ``payload`` is bytes,
        text, or a function returning them, called only when the record is kept."""

    def journal(self) -> Any:
        """The send journal (issue 3): records a side effect before and after it happens."""

    def watermarks(self) -> Any:
        """The mailbox watermark store (issue 4): ``get(mailbox, operation="")`` and
        ``set(mailbox, value, operation="")``, one value per operation and mailbox."""

    def stop_requested(self) -> bool:
        """True once the execution was asked to stop (Ctrl-C, SIGTERM). A connector that
        works through many documents in one ``execute`` (a mail send) takes no new one
        after this: it finishes what is in flight, yields the results of the documents
        it finished and raises :class:`postroom.errors.Interrupted`. The engine records
        the execution ``stopped``; a resume does the rest."""


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


class Connector(ABC):
    """A connector plugin: its settings models and how to open sessions."""

    name: ClassVar[str]
    title: ClassVar[str]
    connection_model: ClassVar[type[Settings]]
    operation_model: ClassVar[type[Settings]]
    #: The document properties this connector reads (before a send) or sets (on what it gets).
    document_properties: ClassVar[tuple[DocumentProperty, ...]] = ()

    @abstractmethod
    def open(
        self, connection: Settings, operation: Settings, context: RunContext
    ) -> OperationSession:
        """Bind an operation to a connection for one execution."""

    def test(self, connection: Settings) -> TestReport:
        """Connect and log in; report what the server offers. Raise ConnectorError on failure."""
        return TestReport(ok=True, message="this connector has no connection test")
