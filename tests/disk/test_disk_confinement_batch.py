"""The disk write's folder check, resolved once per batch, one os.access (or lstat) per file (issue 13):
within one batch, a name that is a link out of the folder still fails alone, a link to a
file inside the folder and plain names still pass, and a disk.directory leading out fails."""

from pathlib import Path

import pytest

from postroom.sdk import Document
from support.engine_helpers import run_yaml

pytestmark = pytest.mark.fast

PROCESS = """
type: connection
connector: disk
name: out
id: out
settings: {{directory: "{folder}"}}
---
type: operation
connector: disk
name: write
id: write
settings: {{action: send, write_option: overwrite}}
---
type: process
name: write
id: write-names
shapes:
  start: {{type: start, mode: data_passthrough, next: split}}
  split: {{type: data_process, steps: [{{type: split, headers: retain}}], next: props}}
  props:
    type: set_properties
    properties:
      - {{property: disk.file_name, value: [{{profile_element: name}}]}}
      - {{property: disk.directory, value: [{{profile_element: folder}}]}}
    next: write
  write: {{type: connector, connection: out, operation: write}}
"""


def test_one_batch_with_links_in_and_out_and_a_folder_out(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    (folder / "sub").mkdir(parents=True)
    outside = tmp_path / "victim.txt"
    outside.write_text("precious\n")
    (folder / "real.txt").write_text("inside\n")
    (folder / "link-out.txt").symlink_to(outside)
    (folder / "link-in.txt").symlink_to(folder / "real.txt")
    (folder / "sub" / "deep-out.txt").symlink_to(outside)
    rows = "name,folder\na.txt,\nlink-out.txt,\nlink-in.txt,\nb.txt,sub\ndeep-out.txt,sub\nc.txt,..\n"
    result, recorder, _ = run_yaml(PROCESS.format(folder=folder), inputs=[Document(rows)], dry_run=True,
                                   batch_size=100)
    failed = {seq: message for _, seq, message in recorder.errors}
    written = [payload.split(b"\n", 1)[0].decode() for _, _, _, payload in recorder.dry_runs]
    assert written == [str(folder / "a.txt"), str(folder / "link-in.txt"), str(folder / "sub" / "b.txt")]
    assert len(failed) == 3 and result.documents_failed == 3
    messages = sorted(failed.values())
    assert any(m.startswith("disk.file_name 'link-out.txt' in ") and "symbolic link" in m for m in messages)
    assert any(m.startswith("disk.file_name 'deep-out.txt' in ") and "symbolic link" in m for m in messages)
    assert any(m.startswith("disk.directory '..' leads to ") and "outside" in m for m in messages)
    assert outside.read_text() == "precious\n"


def test_a_dangling_link_out_fails_and_names_not_written_yet_pass(tmp_path: Path) -> None:
    """A name that is absent passes without following anything; a link whose target does not
    exist yet (a write through it would create a file outside) is still a link leading out."""
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "dangling.txt").symlink_to(tmp_path / "not-there-yet.txt")
    rows = "name,folder\nnew-1.txt,\ndangling.txt,\nnew-2.txt,\n"
    result, recorder, _ = run_yaml(PROCESS.format(folder=folder), inputs=[Document(rows)], dry_run=True)
    written = [payload.split(b"\n", 1)[0].decode() for _, _, _, payload in recorder.dry_runs]
    assert written == [str(folder / "new-1.txt"), str(folder / "new-2.txt")]
    [(_, _, message)] = recorder.errors
    assert message.startswith("disk.file_name 'dangling.txt' in ") and "symbolic link" in message
    assert result.documents_failed == 1 and not (tmp_path / "not-there-yet.txt").exists()
