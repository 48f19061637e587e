"""Every implementation of the SDK's typed contracts has all of their members (the
connectors no longer probe for them with getattr), and the session capabilities the
listener relies on are declared, not guessed."""

from __future__ import annotations

from pathlib import Path

import pytest

from postroom.connectors.disk import connector as disk
from postroom.connectors.mail import MailConnection, MailOperation
from postroom.repository import open_repository
from postroom.sdk import (
    Journal,
    JournalRecord,
    ListeningSession,
    OperationSession,
    RunContext,
    WatermarkStore,
)
from postroom.sdk.testing import MemoryContext, MemoryJournal, MemoryWatermarks
from postroom.services import RepositoryRecorder


def test_the_memory_implementations_are_the_contracts() -> None:
    context = MemoryContext()
    assert isinstance(context, RunContext)
    assert isinstance(MemoryJournal(), Journal) and isinstance(MemoryWatermarks(), WatermarkStore)
    assert isinstance(context.journal().begin("k", "<id@x>"), JournalRecord)


def test_the_repository_journal_and_watermarks_are_the_contracts(home: Path) -> None:
    repo = open_repository()
    try:
        recorder = RepositoryRecorder(repo, "exec-typed")
        journal, store = recorder.journal(), recorder.watermarks()
        assert isinstance(journal, Journal) and isinstance(store, WatermarkStore)
        entries = journal.begin_many([("a", "<a@x>"), ("b", "<b@x>")])
        assert all(isinstance(entry, JournalRecord) for entry in entries.values())
        journal.finish_many([("a", "sent", "250 ok"), ("b", "failed", "550 no")])
        assert {k: (e.status, e.reply) for k, e in journal.entries().items()} == {
            "a": ("sent", "250 ok"), "b": ("failed", "550 no")}
        scoped = recorder.journal("process:p")  # a journal scope: shared by the process's executions
        assert isinstance(scoped, Journal) and isinstance(scoped.begin("s", "<s@x>"), JournalRecord)
        scoped.finish("s", "sent", "250 ok")
        later = RepositoryRecorder(repo, "exec-later").journal("process:p")
        assert (later.begin("s", "<other@x>").message_id, later.entries()["s"].status) == ("<s@x>", "sent")
        store.set("imap://u@h:993/INBOX", {"uidvalidity": 7, "uid": 3}, "op")
        assert store.get("imap://u@h:993/INBOX", "op") == {"uidvalidity": 7, "uid": 3}
    finally:
        repo.close()


def _mail_get(protocol: str) -> OperationSession:
    from postroom.connectors.mail import connector as mail

    connection = MailConnection(host="mail.invalid", inbound_protocol=protocol, user_password_auth=False)
    return mail.open(connection, MailOperation(action="get"), MemoryContext())


def test_session_capabilities_are_declared(tmp_path: Path) -> None:
    # an IMAP get can be waited on and interrupted; a POP3 get and a disk get are polled
    imap, pop3 = _mail_get("imap"), _mail_get("pop3")
    try:
        assert isinstance(imap, ListeningSession) and imap.interruptible
        assert imap.resource_key() == "imap://@mail.invalid:143/INBOX"
        assert not isinstance(pop3, ListeningSession)
    finally:
        imap.close()
        pop3.close()
    session = disk.open(disk.connection_model(directory=str(tmp_path)), disk.operation_model(action="get"),
                        MemoryContext())
    assert not isinstance(session, ListeningSession)
    assert session.resource_key() == f"file://{tmp_path}/*"

    class Plain(OperationSession):
        def execute(self, documents, shape_id):  # noqa: ANN001, ANN201
            return documents

    plain = Plain()
    assert plain.resource_key() is None  # the listener names its lease after the process
    plain.interrupt()  # a no-op by default


# -- the contract mixin generates only the checks that apply -----------------------------------------
def _collected(cls: type) -> list[str]:
    return sorted(name for name in dir(cls) if name.startswith("test_") and callable(getattr(cls, name)))


@pytest.mark.fast
def test_the_contract_generates_only_the_checks_of_the_operations_named() -> None:
    from postroom.sdk.testing import ConnectorContract

    class SendOnly(ConnectorContract):
        operations = {"send"}

    class GetOnly(ConnectorContract):
        operations = {"get"}

    class Both(ConnectorContract):
        operations = {"send", "get"}

    class Undeclared(ConnectorContract):  # written before operations existed: every check
        pass

    assert _collected(SendOnly) == ["test_dry_run_changes_nothing", "test_send_one_result_per_document",
                                    "test_settings_schemas_and_secrets"]
    assert _collected(GetOnly) == ["test_get_fetches_what_is_there", "test_listening_session_waits_and_stops",
                                   "test_settings_schemas_and_secrets"]
    assert len(_collected(Both)) == 5 and len(_collected(Undeclared)) == 5
    with pytest.raises(TypeError, match="must name send, get or both"):
        type("Listen", (ConnectorContract,), {"operations": {"listen"}})


@pytest.mark.fast
def test_a_case_without_the_settings_of_a_named_operation_fails_not_skips() -> None:
    from postroom.sdk.testing import ConnectorContract, ContractCase

    class TestSendAndGet(ConnectorContract):
        operations = {"send", "get"}

    case = ContractCase(connector=disk, connection={"directory": "."}, send={"action": "send"},
                        documents=lambda: [])
    with pytest.raises(AssertionError, match=r"gives no get and no put: give them, or leave 'get' out"):
        TestSendAndGet().test_get_fetches_what_is_there(case)


@pytest.mark.fast
def test_a_class_naming_no_operations_still_skips_what_its_case_cannot_run() -> None:
    from postroom.sdk.testing import ConnectorContract, ContractCase

    class TestWrittenBefore(ConnectorContract):
        pass

    case = ContractCase(connector=disk, connection={"directory": "."}, send={"action": "send"},
                        documents=lambda: [])
    with pytest.raises(pytest.skip.Exception, match="name the connector's operations"):
        TestWrittenBefore().test_get_fetches_what_is_there(case)
