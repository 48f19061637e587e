"""The bundle that carries a listener's fetched documents to a worker (services/_listener_bundle.py):
the documents come back as they were (data, properties, dynamic properties, which properties
an inbound connector marked, a fetch's failures), and what the worker's run told the stand-in
session (documents failed for good, commit) is told to the listener's real session."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from postroom.sdk import SPOOL_THRESHOLD, Document, Failed, OperationSession
from postroom.services._listener_bundle import (
    BUNDLE_KEY,
    SWEEP_AFTER_SECONDS,
    BundleSession,
    bundle_documents,
    play_back,
    sweep_bundles,
    write_bundle,
)


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


def _age(folder: Path, seconds: float) -> None:
    """Make the bundle look last written ``seconds`` ago."""
    then = time.time() - seconds
    for path in [*folder.iterdir(), folder]:
        os.utime(path, (then, then))


@pytest.mark.fast
def test_a_sweep_removes_only_old_bundles_no_running_execution_names(tmp_path: Path) -> None:
    in_use, left, fresh = (write_bundle(tmp_path, _fetched()) for _ in range(3))
    _age(in_use, SWEEP_AFTER_SECONDS * 10)
    _age(left, SWEEP_AFTER_SECONDS + 60)
    removed = sweep_bundles(tmp_path, [str(in_use)])
    assert removed == [left] and not left.exists()
    assert in_use.exists() and fresh.exists(), "a bundle a run names, or one just written, stays"
    assert sweep_bundles(tmp_path / "nowhere", []) == []


@pytest.mark.fast
def test_a_bundle_the_worker_wrote_to_lately_is_not_swept(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path, _fetched())
    _age(folder, SWEEP_AFTER_SECONDS * 2)
    BundleSession(folder).commit()  # the worker's run ended a moment ago: serve is about to play it back
    assert sweep_bundles(tmp_path, []) == [] and (folder / "committed").exists()


def test_serve_sweeps_the_bundle_a_dead_serve_left_but_not_a_live_runs(tmp_path: Path, home: Path) -> None:
    from postroom.repository import ExecutionRecord, open_repository
    from postroom.services._listeners import RepositoryListenerServices

    files = tmp_path / "files"
    live, dead = write_bundle(files, _fetched()), write_bundle(files, _fetched())
    _age(live, SWEEP_AFTER_SECONDS * 2)
    _age(dead, SWEEP_AFTER_SECONDS * 2)
    repo = open_repository()
    try:
        repo.create_execution(ExecutionRecord(id="e-live", process_id="store-replies", process_version=1, status="running",
                                              request={BUNDLE_KEY: str(live)}))
        repo.create_execution(ExecutionRecord(id="e-dead", process_id="store-replies", process_version=1, status="stopped",
                                              request={BUNDLE_KEY: str(dead)}))
        RepositoryListenerServices(repo, files=files).sweep(files)
    finally:
        repo.close()
    assert live.exists() and not dead.exists()
