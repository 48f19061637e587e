"""Disk writes once per inbound message (issue 12, item 5): a document a mail Get read
(``mail.inbound_message_id``) is written once whichever execution reads the message, for
every write_option; a document without it is written as before. The journal scope is shared
by giving the in-memory contexts one ``scoped`` dict (the repository's is tested in
tests/repository/test_repository_journal_scope.py and end to end in tests/mail/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from postroom.connectors.disk import DiskConnection, DiskOperation
from postroom.connectors.disk import connector as disk
from postroom.sdk import Document, Failed
from postroom.sdk.testing import MemoryContext, MemoryJournal

pytestmark = pytest.mark.fast


def _write(folder: Path, option: str, documents: list[Document], scoped: dict[str, MemoryJournal],
           shape: str = "copy") -> list[Document | Failed]:
    context = MemoryContext(process_id="acks", scoped=scoped)
    session = disk.open(DiskConnection(directory=str(folder)), DiskOperation(action="send", write_option=option),
                        context)
    return list(session.execute(documents, shape))


def _reply(n: int, data: str = "thank you\n", name: str = "ack.txt") -> Document:
    return Document(data, {"mail.inbound_message_id": f"<reply-{n}@x>", "disk.file_name": name})


@pytest.mark.parametrize("option", ["unique", "overwrite", "append", "fail"])
def test_a_message_read_again_is_not_written_again(tmp_path: Path, option: str) -> None:
    scoped: dict[str, MemoryJournal] = {}
    first = _write(tmp_path, option, [_reply(1)], scoped)
    again = _write(tmp_path, option, [_reply(1)], scoped)  # a new execution reads reply 1 again
    assert [d.properties["disk.file_name"] for d in first + again] == ["ack.txt", "ack.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ack.txt"]
    assert (tmp_path / "ack.txt").read_text() == "thank you\n"
    # another message is another write (and with unique, another name)
    other = _write(tmp_path, option, [_reply(2)], scoped)
    if option == "fail":
        assert isinstance(other[0], Failed)
    else:
        expected = {"unique": "ack-1.txt", "overwrite": "ack.txt", "append": "ack.txt"}[option]
        assert other[0].properties["disk.file_name"] == expected


@pytest.mark.parametrize("option", ["unique", "append", "fail"])
def test_a_write_killed_before_it_was_recorded_is_not_repeated(tmp_path: Path, option: str) -> None:
    """The earlier execution wrote the file, then died before the journal said so."""
    scoped: dict[str, MemoryJournal] = {}
    _write(tmp_path, option, [_reply(1)], scoped)
    [entry] = scoped["process:acks"].items.values()
    entry.status = "pending"  # as if killed between the write and its record
    again = _write(tmp_path, option, [_reply(1)], scoped)
    assert again[0].properties["disk.file_name"] == "ack.txt"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ack.txt"]
    assert (tmp_path / "ack.txt").read_text() == "thank you\n"
    assert entry.status == "sent"


def test_a_default_name_stays_the_same_when_a_pending_write_is_done_again(tmp_path: Path) -> None:
    scoped: dict[str, MemoryJournal] = {}
    document = Document("x", {"mail.inbound_message_id": "<reply-1@x>"})  # no disk.file_name: a default name
    [written] = _write(tmp_path, "unique", [document], scoped)
    (tmp_path / written.properties["disk.file_name"]).unlink()  # the killed run never got to name it
    [entry] = scoped["process:acks"].items.values()
    entry.status = "pending"
    [again] = _write(tmp_path, "unique", [document.copy()], scoped)
    assert again.properties["disk.file_name"] == written.properties["disk.file_name"]
    assert [p.name for p in tmp_path.iterdir()] == [written.properties["disk.file_name"]]


def test_documents_of_one_message_are_counted_and_others_written_as_before(tmp_path: Path) -> None:
    scoped: dict[str, MemoryJournal] = {}
    two = [_reply(1, "part one\n"), _reply(1, "part two\n")]  # one reply split in two documents
    _write(tmp_path, "unique", two, scoped)
    _write(tmp_path, "unique", [d.copy() for d in two], scoped)
    assert sorted(p.read_text() for p in tmp_path.iterdir()) == ["part one\n", "part two\n"]
    plain = Document("no mailbox\n", {"disk.file_name": "plain.txt"})
    _write(tmp_path, "unique", [plain], scoped)
    _write(tmp_path, "unique", [plain.copy()], scoped)  # per execution: written each time, as before
    assert (tmp_path / "plain.txt").exists() and (tmp_path / "plain-1.txt").exists()


def test_a_retry_that_succeeds_is_recorded_under_the_failed_attempt(tmp_path: Path) -> None:
    """Try/Catch around the write: attempt 1 fails (the folder is a file), the retry of the same
    document succeeds; a later execution reading the message again writes nothing, and a
    different document of the message keeps its own place."""
    scoped: dict[str, MemoryJournal] = {}
    (tmp_path / "out").write_text("not a folder")
    document = _reply(1)
    document.properties["disk.directory"] = "out"
    context = MemoryContext(process_id="acks", scoped=scoped)
    session = disk.open(DiskConnection(directory=str(tmp_path)),
                        DiskOperation(action="send", write_option="unique", create_directories=False), context)
    [failed] = list(session.execute([document.copy()], "copy"))
    assert isinstance(failed, Failed)
    (tmp_path / "out").unlink()
    (tmp_path / "out").mkdir()
    [retried, other] = list(session.execute([document.copy(), _reply(1, "another part\n", "part.txt")], "copy"))
    assert retried.properties["disk.file_name"] == "ack.txt" and other.properties["disk.file_name"] == "part.txt"
    assert sorted(scoped["process:acks"].items) == ["copy/msg:<reply-1@x>#0", "copy/msg:<reply-1@x>#1"]
    # the next execution: the same two documents of reply 1, nothing written again
    again = _write(tmp_path, "unique", [document.copy(), _reply(1, "another part\n", "part.txt")], scoped)
    assert [d.properties["disk.file_name"] for d in again] == ["ack.txt", "part.txt"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["ack.txt"]
