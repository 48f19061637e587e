"""A process keeps its canvas layout through import and export; a layout key that names
no shape is an import error naming the key and the fix."""

from __future__ import annotations

import yaml

PROCESS = """\
type: process
id: copy
name: Copy
start: start
shapes:
  start: {type: start, mode: data_passthrough, next: stop}
  stop: {type: stop}
layout:
  start: {x: 120, y: 40}
  stop: {x: 320.5, y: 40}
"""


def test_layout_round_trips_through_import_and_export(cli, workdir) -> None:
    (workdir / "p.yaml").write_text(PROCESS)
    assert cli("import", "p.yaml").code == 0
    assert cli("export", "--out", "out").code == 0
    exported = yaml.safe_load((workdir / "out" / "copy.yaml").read_text())
    assert exported == yaml.safe_load(PROCESS)
    assert exported["layout"] == {"start": {"x": 120, "y": 40}, "stop": {"x": 320.5, "y": 40}}
    ran = cli("run", "copy", "--json")
    assert ran.code == 0 and ran.json()["status"] == "complete"


def test_layout_naming_no_shape_is_refused(cli, workdir) -> None:
    (workdir / "p.yaml").write_text(PROCESS.replace("  stop: {x: 320.5", "  stp: {x: 320.5"))
    refused = cli("import", "p.yaml")
    assert refused.code == 2
    assert "layout.stp" in refused.stderr and "'stp', which is not a shape" in refused.stderr
    assert "remove it from layout, or use a shape id: start, stop" in refused.stderr
