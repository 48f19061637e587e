"""The bundle that carries a listener's fetched documents to a worker (services/_listener_bundle.py):
the documents come back as they were (data, properties, dynamic properties, which properties
an inbound connector marked, a fetch's failures), and what the worker's run told the stand-in
session (documents failed for good, commit) is told to the listener's real session."""

from __future__ import annotations

from pathlib import Path

import pytest

from postroom.sdk import SPOOL_THRESHOLD, Document, Failed, OperationSession
from postroom.services._listener_bundle import BundleSession, bundle_documents, play_back, write_bundle


class Recording(OperationSession):
    def __init__(self) -> None:
        self.failed: list[dict[str, str]] = []
        self.committed = 0

    def execute(self, documents, shape_id):  # noqa: ANN001, ANN201
        return documents

    def document_failed(self, document: Document) -> None:
        self.failed.append(dict(document.properties))

    def commit(self) -> None:
        self.committed += 1


def _fetched() -> list[Document | Failed]:
    first = Document(b"Dear Ann", {"mail.uid": "7", "mail.subject": "Hello"}, {"note": "x"}).mark_inbound(
        ["mail.subject"])
    big = Document(b"x" * (SPOOL_THRESHOLD + 10), {"mail.uid": "8"})
    broken = Failed(Document(b"", {"mail.uid": "9"}), "message 9 cannot be parsed")
    return [first, big, broken]


@pytest.mark.fast
def test_a_bundle_gives_back_what_the_listener_fetched(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path, _fetched())
    assert folder.parent == tmp_path / "listener-runs"
    first, big, broken = list(bundle_documents(folder))
    assert isinstance(first, Document) and first.data == b"Dear Ann"
    assert first.properties == {"mail.uid": "7", "mail.subject": "Hello"} and first.dynamic == {"note": "x"}
    assert first.outbound("mail.subject") is None and first.outbound("mail.uid") == "7"  # the inbound mark kept
    assert isinstance(big, Document) and big.size == SPOOL_THRESHOLD + 10
    assert isinstance(broken, Failed) and broken.message == "message 9 cannot be parsed"
    assert broken.document.properties == {"mail.uid": "9"}


@pytest.mark.fast
def test_what_the_run_told_the_stand_in_is_played_back_then_the_bundle_goes(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path, _fetched())
    stand_in = BundleSession(folder)
    stand_in.document_failed(Document(b"", {"mail.uid": "9"}))
    stand_in.commit()
    session = Recording()
    assert play_back(folder, session) is True
    assert session.failed == [{"mail.uid": "9"}] and session.committed == 1
    assert not folder.exists()


@pytest.mark.fast
def test_a_run_that_did_not_commit_leaves_the_session_uncommitted(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path, _fetched())
    BundleSession(folder).commit()
    stand_in = BundleSession(folder)  # the run delivered again (its worker died): it starts over
    stand_in.document_failed(Document(b"", {"mail.uid": "7"}))
    session = Recording()
    assert play_back(folder, session) is False
    assert session.failed == [{"mail.uid": "7"}] and session.committed == 0
