"""A Data Process split that names a flat-file profile checks each record against it: a
record that does not fit fails alone (line, field, reason), the others go on in order, in
batches and in groups by profile alike (CONTRACT.md: a document that does not fit the
profile a shape reads fails alone)."""

from __future__ import annotations

import pytest

from postroom.sdk import Document
from support.engine_helpers import logs, run_yaml

pytestmark = pytest.mark.fast

PROFILE = """
---
type: profile
id: visits
name: Visits
fields: [{name: patient, required: true}, {name: day, type: date, format: M/d/yyyy}, {name: fee, type: number}]
"""
DATA = "patient,day,fee\nAnn,3/7/2024,10\n,3/8/2024,5\nBob,2024-03-09,5\nCy,3/10/2024,ten,extra\nDi,3/11/2024,7\n"


def _run(split: str, message: str = "{1}", parameters: str = "[{current_data: true}]") -> tuple[list[str], list[str]]:
    text = f"""
type: process
name: P
id: p
shapes:
  start: {{type: start, mode: data_passthrough, next: split}}
  split: {{type: data_process, steps: [{split}], next: show}}
  show: {{type: notify, message: "{message}", parameters: {parameters}}}
""" + PROFILE
    doc = Document(DATA.encode(), {"disk.file_name": "visits.csv"})
    _, recorder, _ = run_yaml(text, [doc])
    return logs(recorder, "info"), [e[2] for e in recorder.errors]


FAILURES = [
    "split failed: visits.csv: line 3: the record does not fit profile visits: field patient: is required and empty",
    "split failed: visits.csv: line 4: the record does not fit profile visits: field day: '2024-03-09' does not "
    "match the date format M/d/yyyy",
    "split failed: visits.csv: line 5: the record does not fit profile visits: 4 fields, and the profile has 3; "
    "field fee: 'ten' is not a number",
]


def test_records_that_do_not_fit_fail_alone_and_the_rest_go_on() -> None:
    shown, errors = _run("{type: split, headers: remove, profile: visits}")
    assert shown == ["Ann,3/7/2024,10", "Di,3/11/2024,7"]
    assert errors == FAILURES


def test_batches_hold_the_good_records() -> None:
    shown, errors = _run("{type: split, headers: retain, batch_count: 2, profile: visits}")
    assert shown == ["patient,day,fee\nAnn,3/7/2024,10\nDi,3/11/2024,7"]
    assert errors == FAILURES


def test_without_a_profile_nothing_is_checked() -> None:
    shown, errors = _run("{type: split, headers: remove}")
    assert errors == []
    assert len(shown) == 5
