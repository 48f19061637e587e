"""``postroom import`` of schedules (bad input: exit 2 naming the file, line, field and fix)
and ``postroom schedules list / enable / disable``, as a user runs them."""

from __future__ import annotations

from pathlib import Path

PROCESS = """\
type: process
name: Hello
id: hello
start: start
shapes:
  start: {type: start, mode: no_data, next: stop}
  stop: {type: stop}
"""

SCHEDULE = """\
type: schedule
id: nightly
process: hello
cron: "{cron}"
timezone: {timezone}
"""


def _write(workdir: Path, name: str, text: str) -> str:
    (workdir / name).write_text(text)
    return name


def test_bad_cron_time_zone_and_process_are_refused_with_the_fix(cli, workdir: Path) -> None:  # noqa: ANN001
    cases = [
        ("0 2 * *", "UTC", "cron", "cron '0 2 * *' has 4 fields; write five: minute hour day-of-month "
                               "month day-of-week, such as '0 2 * * *'"),
        ("61 2 * * *", "UTC", "cron", "cron '61 2 * * *' is not a cron expression"),
        ("0 2 30 2 *", "UTC", "cron", "cron '0 2 30 2 *' never comes (a day that no month has, such as 30 February)"),
        ("@reboot", "UTC", "cron", "cron '@reboot' is not a cron expression; the aliases are @yearly"),
        ("0 2 * * *", "Europe/Pariss", "timezone", "timezone 'Europe/Pariss' is not a time zone "
                                                   "(did you mean Europe/Paris?); use an IANA name such as Europe/Paris"),
        ("0 2 * * *", "CEST", "timezone", "timezone 'CEST' is not a time zone"),
    ]
    names = [_write(workdir, "hello.yaml", PROCESS)]
    for number, (cron, timezone, _field, _expected) in enumerate(cases):
        text = SCHEDULE.format(cron=cron, timezone=timezone).replace("id: nightly", f"id: nightly-{number}")
        names.append(_write(workdir, f"nightly-{number}.yaml", text))
    result = cli("import", *names)
    assert result.code == 2, result
    assert "nothing was imported: 6 problems found" in result.stderr, result
    for number, (_cron, _timezone, field, expected) in enumerate(cases):
        line = 4 if field == "cron" else 5
        assert f"nightly-{number}.yaml:{line}: field {field}: {expected}" in result.stderr, (expected, result.stderr)
    assert "did you mean" not in result.stderr.split("'CEST'")[1]  # no legacy abbreviation such as EST offered
    # the references are checked once every file parses
    good = SCHEDULE.format(cron="0 2 * * *", timezone="UTC")
    names = [_write(workdir, "other.yaml", good.replace("process: hello", "process: helo")),
             _write(workdir, "env.yaml", good.replace("id: nightly", "id: with-env") + "environment: production\n"),
             "hello.yaml"]
    result = cli("import", *names)
    assert result.code == 2 and "nothing was imported: 2 problems found" in result.stderr, result
    assert ("other.yaml:3: field process: process 'helo' does not exist (name the id of a process (see: "
            "postroom components list --type process), or import the process in the same command)") in result.stderr
    assert "env.yaml:6: field environment: environment 'production' does not exist" in result.stderr
    listed = cli("schedules", "list", "--json")
    assert listed.code == 0 and listed.json() == []  # nothing of it was stored


def test_list_enable_and_disable(cli, workdir: Path) -> None:  # noqa: ANN001
    text = PROCESS + "---\n" + SCHEDULE.format(cron="30 2 * * *", timezone="Europe/Paris")
    assert cli("import", _write(workdir, "all.yaml", text)).code == 0
    [row] = cli("schedules", "list", "--json").json()
    assert {k: row[k] for k in ("id", "process", "cron", "timezone", "enabled", "catch_up", "last_due_at")} == {
        "id": "nightly", "process": "hello", "cron": "30 2 * * *", "timezone": "Europe/Paris", "enabled": True,
        "catch_up": "last", "last_due_at": None}
    assert row["next_due_at"].endswith(("T01:30:00+00:00", "T00:30:00+00:00"))  # 02:30 in Paris, winter or summer
    table = cli("schedules", "list")
    assert table.code == 0 and "nightly" in table.stdout and "02:30 Europe/Paris" in table.stdout
    assert "never" in table.stdout

    off = cli("schedules", "disable", "nightly")
    assert off.code == 0 and "schedule nightly disabled (version 2)" in off.stdout
    [row] = cli("schedules", "list", "--json").json()
    assert row["enabled"] is False and row["next_due_at"] is None
    shown = cli("components", "show", "nightly", "--json").json()
    assert shown["version"] == 2 and shown["body"]["enabled"] is False  # a new version: export shows it
    on = cli("schedules", "enable", "nightly", "--json")
    assert on.code == 0 and on.json()["enabled"] is True and on.json()["version"] == 3

    missing = cli("schedules", "enable", "nope")
    assert missing.code == 2 and "no schedule with id 'nope' (see: postroom schedules list)" in missing.stderr
    wrong = cli("schedules", "disable", "hello")
    assert wrong.code == 2 and "'hello' is a process, not a schedule" in wrong.stderr
