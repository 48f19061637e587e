"""The engine side of listeners: run_process with a start session opened beforehand."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from postroom.repository import open_repository
from postroom.sdk import Document, OperationSession
from postroom.services import RunHooks, RunRequest, import_paths, run_process

PROCESS = """
type: connection
connector: disk
name: Out
id: out
settings: {{directory: {out}}}
---
type: operation
connector: disk
name: Write
id: write
settings: {{action: send, write_option: fail}}
---
type: connection
connector: disk
name: In
id: in
settings: {{directory: {inbox}}}
---
type: operation
connector: disk
name: Take
id: take
settings: {{action: get, delete_after_read: true}}
---
type: process
name: Listen
id: listen
start: start
shapes:
  start: {{type: start, mode: listener, connection: in, operation: take, next: check}}
  check: {{type: decision, first: {{document_property: disk.file_name}}, comparison: equals, second: bad.txt,
          true: fail, false: send}}
  fail: {{type: exception, message: "bad file", stop_process: true}}
  send: {{type: connector, connection: out, operation: write}}
"""


class Spy(OperationSession):
    """Counts what the engine does with a session it did not open."""

    def __init__(self, documents: list[Document]) -> None:
        self.documents = documents
        self.fetches = self.commits = self.closes = 0

    def fetch(self):  # noqa: ANN201
        self.fetches += 1
        yield from self.documents

    def execute(self, documents, shape_id):  # noqa: ANN001, ANN201
        return documents

    def commit(self) -> None:
        self.commits += 1

    def close(self) -> None:
        self.closes += 1


@pytest.fixture
def repo(tmp_path: Path, home: Path):  # noqa: ANN201
    out, inbox = tmp_path / "out", tmp_path / "inbox"
    out.mkdir()
    inbox.mkdir()
    (tmp_path / "p.yaml").write_text(PROCESS.format(out=out, inbox=inbox))
    repository = open_repository()
    import_paths(repository, [str(tmp_path / "p.yaml")])
    yield repository
    repository.close()


def _docs(*names: str) -> list[Document]:
    return [Document(name.encode(), {"disk.file_name": name}) for name in names]


def test_a_start_session_is_committed_after_success_and_left_open(repo, tmp_path: Path) -> None:  # noqa: ANN001
    spy = Spy(_docs("a.txt", "b.txt"))
    seen = []
    documents = iter(spy.fetch())
    first = next(documents)
    record, result = run_process(repo, RunRequest("listen", trigger="listener", listener="listen"), RunHooks(
        documents=itertools.chain([first], documents), start_session=spy, on_context=seen.append))
    assert record.status == "complete" and record.documents_in == 2
    assert (spy.fetches, spy.commits, spy.closes) == (1, 1, 0)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.txt", "b.txt"]
    assert [ctx.execution_id for ctx in seen] == [record.id]
    assert record.request["trigger"] == "listener" and record.request["listener"] == "listen"


def test_a_failed_execution_does_not_commit_the_start_session(repo) -> None:  # noqa: ANN001
    spy = Spy(_docs("ok.txt", "bad.txt"))
    record, _ = run_process(repo, RunRequest("listen"), RunHooks(documents=spy.fetch(), start_session=spy))
    assert record.status == "failed"
    assert (spy.commits, spy.closes) == (0, 0)


def test_without_documents_the_engine_fetches_from_the_adopted_session(repo) -> None:  # noqa: ANN001
    spy = Spy(_docs("x.txt"))
    record, _ = run_process(repo, RunRequest("listen"), RunHooks(start_session=spy))
    assert record.status == "complete" and record.documents_in == 1
    assert (spy.fetches, spy.commits, spy.closes) == (1, 1, 0)
