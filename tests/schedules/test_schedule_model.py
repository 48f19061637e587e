"""The schedule component as the model reads it, and the run request a schedule builds."""

from __future__ import annotations

import pytest

from postroom.errors import ValidationError
from postroom.model import Schedule, load_text, parse_component
from postroom.runtime import RunRequest

pytestmark = pytest.mark.fast


def _parse(text: str) -> Schedule:
    [loaded] = load_text(text, "s.yaml")
    component = parse_component(loaded)
    assert isinstance(component, Schedule)
    return component


def test_the_contracts_form_and_its_defaults() -> None:
    schedule = _parse("type: schedule\nid: nightly-letters\nprocess: dr-smith-personal-letters\n"
                      "cron: \"0 2 * * *\"\n")
    assert (schedule.name, schedule.timezone, schedule.environment, schedule.enabled, schedule.catch_up) == (
        "nightly-letters", "UTC", None, True, "last")
    full = _parse("type: schedule\nid: n\nname: Nightly\nprocess: p\ncron: \"  0  2 * * MON-FRI \"\n"
                  "timezone: Europe/Paris\nenvironment: production\nenabled: false\ncatch_up: all\n")
    assert (full.name, full.cron, full.environment, full.enabled, full.catch_up) == (
        "Nightly", "0 2 * * MON-FRI", "production", False, "all")
    assert _parse("type: schedule\nid: h\nprocess: p\ncron: \"@Hourly\"\n").cron == "@hourly"


@pytest.mark.parametrize(("text", "field", "message"), [
    ("type: schedule\nprocess: p\ncron: '0 2 * * *'\n", None, "a schedule needs an id"),
    ("type: schedule\nid: s\nprocess: p\ncron: '0 2 * * * *'\n", "cron", "has 6 fields; write five"),
    ("type: schedule\nid: s\nprocess: p\ncron: '0 25 * * *'\n", "cron", "is not a cron expression"),
    ("type: schedule\nid: s\nprocess: p\ncron: ''\n", "cron", "has 0 fields"),
    ("type: schedule\nid: s\nprocess: p\ncron: '0 2 * * *'\ntimezone: Mars/Olympus\n", "timezone",
     "timezone 'Mars/Olympus' is not a time zone; use an IANA name such as Europe/Paris"),
    ("type: schedule\nid: s\nprocess: p\ncron: '0 2 * * *'\ncatch_up: some\n", "catch_up", "'none', 'last' or 'all'"),
    ("type: schedule\nid: s\ncron: '0 2 * * *'\n", "process", "Field required"),
])
def test_bad_schedules_name_the_field(text: str, field: str | None, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        _parse(text)
    [problem] = caught.value.problems
    assert problem.file == "s.yaml" and problem.field == field and message in problem.message, problem


def test_a_schedules_run_request_keeps_its_trigger_schedule_and_environment() -> None:
    request = RunRequest(process_id="p", environment="production", trigger="schedule", schedule="nightly",
                         instance="host:1:abc")
    data = request.to_json()
    assert (data["trigger"], data["schedule"], data["environment"]) == ("schedule", "nightly", "production")
    assert RunRequest.from_json(data) == request
    assert RunRequest.from_json({k: v for k, v in data.items() if k != "schedule"}).schedule is None
