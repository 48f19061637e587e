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
