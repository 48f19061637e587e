"""A schedule for the tests: the process ``write-note`` (a Message written by the Disk
connector into a folder) and the schedule ``hourly-note`` firing it at the top of every hour
in Europe/Paris, imported into a repository (tests/schedules and the workers' schedule test)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from postroom.repository import Repository
from postroom.services import import_paths

__all__ = ["PROCESS", "SCHEDULE", "import_text", "setup_hourly_note"]

PROCESS = """\
type: process
name: Write a note
id: write-note
start: start
shapes:
  start: {type: start, mode: no_data, next: text}
  text: {type: message, text: "scheduled note", next: write}
  write: {type: connector, connection: notes, operation: write-notes}
---
type: connection
connector: disk
name: Notes
id: notes
settings:
  directory: "DIRECTORY"
---
type: operation
connector: disk
name: Write notes
id: write-notes
settings:
  action: send
"""

SCHEDULE = """\
type: schedule
id: hourly-note
process: write-note
cron: "0 * * * *"
timezone: Europe/Paris
catch_up: {catch_up}
"""


def import_text(repo: Repository, folder: Path, name: str, text: str) -> None:
    path = folder / name
    path.write_text(text)
    import_paths(repo, [path])


def setup_hourly_note(repo: Repository, tmp_path: Path, catch_up: str = "last", directory: str | None = None) -> datetime:
    """Import the process and the schedule; when the schedule's version was stored."""
    notes = tmp_path / "notes"
    notes.mkdir(exist_ok=True)
    import_text(repo, tmp_path, "process.yaml", PROCESS.replace("DIRECTORY", directory or str(notes)))
    import_text(repo, tmp_path, "schedule.yaml", SCHEDULE.format(catch_up=catch_up))
    record = repo.get_component("hourly-note")
    assert record is not None and record.created_at is not None
    created = record.created_at
    return created
