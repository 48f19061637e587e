"""The connector contract: what every connector guarantees the engine, as checks a
connector's own tests run (see :class:`ConnectorContract` in :mod:`postroom.sdk.testing`).

The guarantees come from how the engine and the listener runtime use a connector:

* **Settings** (import, forms, docs): ``name`` and ``title`` are set; both models derive
  from :class:`Settings` (unknown keys are errors), every field has a title and a help
  text, their JSON Schema is JSON, and every ``secret`` field is ``writeOnly`` in it.
  Document properties are named ``<connector name>.<property>``.
* **Sessions**: ``open`` returns an :class:`OperationSession` (a :class:`ListeningSession`
  for a get a listener can wait on); ``resource_key`` is text or None; ``close`` ends it.
* **One result per document**: ``execute`` of an operation with side effects yields, for
  each document, exactly one result carrying that document's number (``seq``): the
  document (or a copy) when it succeeded, a :class:`Failed` naming why when it did not.
  A bad document fails alone; the others go on.
* **Dry run**: with ``context.dry_run`` no side effect happens outside; each document's
  intended side effect is recorded with ``record_dry_run``.
* **Gets**: ``fetch`` yields documents (or Failed for items that cannot become one).
* **Secrets** never appear in log lines or failure messages.
* **Listening sessions**: ``wait_for_new(0)`` answers at once; an ``interruptible`` one
  returns False soon after ``interrupt()``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from ._context import RunContext
from ._document import Document
from ._memory import MemoryContext
from ._spec import Connector, Failed, ListeningSession, OperationSession, Settings, secret_fields

__all__ = ["ContractCase", "check_settings", "check_send", "check_dry_run", "check_get", "check_listening"]


@dataclass
class ContractCase:
    """One connector and what its contract checks need, set up by the connector's tests.

    ``connection``, ``send`` and ``get`` are settings (models or mappings). ``documents``
    makes fresh good documents for the send; ``bad_document`` one it must fail alone (None
    when nothing can be bad); ``delivered`` counts the side effects visible outside (files
    written, emails arrived). ``put(n)`` places ``n`` items the get will fetch. ``secrets``
    are the secret values in the settings: none may show in logs or failures.
    ``make_context`` builds the run context (default: :class:`MemoryContext`)."""

    connector: Connector[Any, Any]
    connection: Settings | Mapping[str, Any]
    send: Settings | Mapping[str, Any] | None = None
    documents: Callable[[], list[Document]] | None = None
    bad_document: Callable[[], Document] | None = None
    delivered: Callable[[], int] | None = None
    get: Settings | Mapping[str, Any] | None = None
    put: Callable[[int], None] | None = None
    secrets: list[str] = field(default_factory=list)
    make_context: Callable[..., RunContext] | None = None

    def context(self, *, dry_run: bool = False) -> RunContext:
        if self.make_context is not None:
            return self.make_context(dry_run=dry_run)
        return MemoryContext(dry_run=dry_run)

    def open(self, operation: Settings | Mapping[str, Any], context: RunContext) -> OperationSession:
        connector = self.connector
        connection = _validated(connector.connection_model, self.connection)
        session = connector.open(connection, _validated(connector.operation_model, operation), context)
        assert isinstance(session, OperationSession), (
            f"{type(connector).__name__}.open returned {type(session).__name__}, not an OperationSession")
        return session


def _validated(model: type[BaseModel], value: Settings | Mapping[str, Any]) -> Any:
    return value if isinstance(value, model) else model.model_validate(value)


# -- settings ------------------------------------------------------------------------------------------
def check_settings(connector: Connector[Any, Any]) -> None:
    """Names, settings models, JSON Schema, secret marks and document property names."""
    kind = type(connector).__name__
    assert isinstance(getattr(connector, "name", None), str) and connector.name, f"{kind}.name is not set"
    assert isinstance(getattr(connector, "title", None), str) and connector.title, f"{kind}.title is not set"
    for role in ("connection_model", "operation_model"):
        model = getattr(connector, role)
        assert isinstance(model, type) and issubclass(model, Settings), f"{kind}.{role} is not a Settings model"
        _check_model(model, f"{kind}.{role}")
    for prop in connector.document_properties:
        assert prop.name.startswith(connector.name + "."), (
            f"document property {prop.name!r} of {kind} must start with {connector.name + '.'!r}")
        assert prop.help, f"document property {prop.name!r} of {kind} has no help"


def _check_model(model: type[Settings], where: str) -> None:
    schema = model.model_json_schema()
    json.dumps(schema)  # a JSON Schema is JSON (forms and docs read it)
    properties = schema.get("properties", {})
    for name, info in model.model_fields.items():
        assert info.title, f"{where}: field {name!r} has no title (use postroom.sdk.setting)"
        assert info.description, f"{where}: field {name!r} has no help (use postroom.sdk.setting)"
    for name in secret_fields(model):
        key = model.model_fields[name].alias or name
        assert properties.get(key, {}).get("writeOnly") is True, f"{where}: secret field {name!r} is not writeOnly"
    assert model.model_config.get("extra") == "forbid", f"{where}: unknown settings must be errors (extra=forbid)"


# -- a send: one result per document, bad documents fail alone, dry run ---------------------------------
def _numbered(documents: Iterable[Document]) -> list[Document]:
    out = list(documents)
    for number, document in enumerate(out, 1):
        document.seq = number
    return out


def _run(case: ContractCase, operation: Settings | Mapping[str, Any], documents: list[Document],
         context: RunContext) -> tuple[list[Document | Failed], type[OperationSession]]:
    session = case.open(operation, context)
    try:
        return list(session.execute(documents, "contract")), type(session)
    finally:
        session.close()


def _capture(context: RunContext) -> list[str]:
    lines: list[str] = []

    class _Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    context.log.addHandler(_Keep(logging.DEBUG))
    context.log.setLevel(logging.DEBUG)
    return lines


def _no_secrets(case: ContractCase, texts: Iterable[str]) -> None:
    for text in texts:
        for secret in case.secrets:
            assert secret not in text, f"a secret value shows in {text!r}"


def check_send(case: ContractCase) -> list[Document | Failed]:
    """Good documents pass, the bad one fails alone, one result per document in ``seq``."""
    assert case.send is not None and case.documents is not None, "the case has no send operation"
    good = case.documents()
    documents = _numbered([*good[:1], case.bad_document(), *good[1:]] if case.bad_document else good)
    context = case.context()
    lines = _capture(context)
    before = case.delivered() if case.delivered else 0
    results, session_class = _run(case, case.send, documents, context)
    assert len(results) == len(documents), f"{len(documents)} documents in, {len(results)} results out"
    assert sorted(r.document.seq if isinstance(r, Failed) else r.seq for r in results) == [
        d.seq for d in documents], "each result must carry its document's seq (the document or a copy)"
    failed = [r for r in results if isinstance(r, Failed)]
    expected = 1 if case.bad_document else 0
    assert len(failed) == expected, f"expected {expected} failed document(s), got {[f.message for f in failed]}"
    for item in failed:
        assert item.message.strip(), "a Failed must say why"
        assert item.document.seq == 2, "the bad document must be the one that fails"
    assert session_class.side_effects, f"{session_class.__name__} changes the outside world: set side_effects"
    if case.delivered:
        assert case.delivered() - before == len(good), "every good document's side effect must happen"
    _no_secrets(case, lines + [f.message for f in failed])
    return results


def check_dry_run(case: ContractCase) -> None:
    """``dry_run``: the same results, nothing outside changes, one record per document."""
    assert case.send is not None and case.documents is not None, "the case has no send operation"
    documents = _numbered(case.documents())
    context = case.context(dry_run=True)
    before = case.delivered() if case.delivered else 0
    kept: list[int] = []
    record = context.record_dry_run

    def recording(shape_id: str, document: Document, action: str, payload: Any) -> None:
        kept.append(document.seq)
        record(shape_id, document, action, payload)

    context.record_dry_run = recording  # type: ignore[method-assign]
    results, _ = _run(case, case.send, documents, context)
    assert [r.seq for r in results if not isinstance(r, Failed)] == [d.seq for d in documents], (
        "a dry run passes every good document on")
    if case.delivered:
        assert case.delivered() == before, "a dry run changed the outside world"
    assert set(kept) == {d.seq for d in documents}, "a dry run records each document's side effect"


# -- a get -------------------------------------------------------------------------------------------
def check_get(case: ContractCase, count: int = 3) -> list[Document]:
    """``fetch`` yields what was put there; ``commit`` and ``close`` end the session."""
    assert case.get is not None and case.put is not None, "the case has no get operation"
    case.put(count)
    context = case.context()
    lines = _capture(context)
    session = case.open(case.get, context)
    try:
        key = session.resource_key()
        assert key is None or (isinstance(key, str) and key), "resource_key is text or None"
        items = list(session.fetch())
        session.commit()
    finally:
        session.close()
    documents = [item for item in items if isinstance(item, Document)]
    assert len(documents) >= count and all(isinstance(i, Document | Failed) for i in items), (
        f"put {count} item(s), fetched {items!r}")
    _no_secrets(case, lines)
    return documents


def check_listening(case: ContractCase, *, within: float = 5.0) -> None:
    """A listening session answers ``wait_for_new(0)`` at once and, when interruptible,
    returns False soon after ``interrupt()`` from another thread."""
    assert case.get is not None, "the case has no get operation"
    session = case.open(case.get, case.context())
    try:
        if not isinstance(session, ListeningSession):
            return
        started = time.monotonic()
        assert isinstance(session.wait_for_new(0), bool)
        assert time.monotonic() - started < within, "wait_for_new(0) must not wait"
        if not session.interruptible:
            return
        list(session.fetch())  # the baseline: nothing new is there now
        session.commit()
        done = threading.Event()

        def interrupting() -> None:  # again and again: the first call may come before the wait starts
            while not done.wait(0.2):
                session.interrupt()

        helper = threading.Thread(target=interrupting, daemon=True)
        helper.start()
        started = time.monotonic()
        try:
            woke = session.wait_for_new(60)
        finally:
            done.set()
            helper.join()
        assert not woke and time.monotonic() - started < within, "interrupt() must end wait_for_new soon"
    finally:
        session.close()
