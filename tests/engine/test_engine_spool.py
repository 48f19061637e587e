"""Documents waiting for a later path go to disk past the spool's memory limit (engine/_spool.py).
A JSON document whose fields a shape has read carries a parsed view of its data; it used to
break the spool ("Can't pickle local object"), failing the execution, once more than 5,000
such documents waited for a Decision's false path."""

from __future__ import annotations

import json

import pytest

from postroom.engine._spool import MEMORY_LIMIT
from postroom.sdk import Document
from support.engine_helpers import run_yaml

PROCESS = """
type: process
id: split-by-parity
name: Even first, odd after
shapes:
  start: {type: start, mode: data_passthrough, next: even}
  even:
    type: decision
    first: {profile_element: Patient.Parity}
    comparison: equals
    second: even
    true: done
    false: odd
  done: {type: stop}
  odd:
    type: notify
    message: "odd {1}"
    parameters: [{profile_element: Patient.Id}]
"""


@pytest.mark.fast
def test_json_documents_read_by_a_decision_wait_on_disk_for_the_false_path() -> None:
    count = 2 * MEMORY_LIMIT + 10
    docs = [Document(json.dumps({"Patient": {"Id": n, "Parity": "even" if n % 2 == 0 else "odd"}}))
            for n in range(count)]
    result, recorder, _ = run_yaml(PROCESS, docs)
    assert result.status == "complete", result
    odd = [message for level, message, shape in recorder.logs if shape == "odd" and level == "info"]
    assert len(odd) == count // 2 and odd[0] == "odd 1" and odd[-1] == f"odd {count - 1}"


@pytest.mark.fast
def test_spooled_documents_come_back_in_order_sharing_what_must_stay_shared() -> None:
    """Past the memory limit, batches go to disk: a batch of plain documents by the plain
    pickler, a batch holding a Try/Catch mark or data kept in a file by the pickler that keeps
    those shared (the same mark object, the same file, not a copy)."""
    from postroom.engine import Catch, TryScope
    from postroom.engine._spool import Spool
    from postroom.sdk import SPOOL_THRESHOLD

    scope = TryScope("try", "document_errors")
    plain = [Document(f"plain {i}", {"n": str(i)}) for i in range(MEMORY_LIMIT)]
    marked = Document("marked")
    marked.origin = Catch(scope, Document("original"))
    big = Document(b"x" * (SPOOL_THRESHOLD + 1))
    spool = Spool(batch_size=1000)
    spool.extend(plain[:2500])
    spool.extend([marked, big])
    spool.extend(plain[2500:])
    back = [doc for batch in spool.batches() for doc in batch]
    assert len(back) == MEMORY_LIMIT + 2
    assert [doc.data for doc in back[:2500]] == [doc.data for doc in plain[:2500]]
    assert back[2500].origin is marked.origin and back[2500].data == b"marked"
    with back[2501].open() as came_back, big.open() as went:
        assert back[2501].spooled and came_back.name == went.name  # the same file
    assert [doc.properties["n"] for doc in back[2502:]] == [str(i) for i in range(2500, MEMORY_LIMIT)]
