"""ui/src/test/realSchemas.json (the schemas the vitest form tests render) is what the server's
schema routes answer today: a change to a connector's or a shape's model that is not carried to
the snapshot fails here, with the command that rewrites it."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from support.apikit import api_client
from support.testsupport import ROOT

pytestmark = pytest.mark.fast

TOOL = ROOT / "tools" / "gen_ui_schemas.py"


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_ui_schemas_under_test", TOOL)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_snapshot_is_what_the_server_answers() -> None:
    tool = _tool()
    committed = json.loads(tool.OUT.read_text(encoding="utf-8"))
    assert committed == tool.snapshot(), "ui/src/test/realSchemas.json is out of date: run make ui-schemas"
    assert tool.main(["--check"]) == 0


def test_the_snapshot_is_the_api_answer(home: Path) -> None:
    with api_client(home) as api:
        answered = {"connectors": api.get("/api/connectors").json(), "shapes": api.get("/api/shapes").json()}
    assert answered == _tool().snapshot()


def test_the_check_fails_on_a_stale_file_and_the_tool_rewrites_it(tmp_path: Path, capsys) -> None:
    tool = _tool()
    out = tmp_path / "realSchemas.json"
    stale = tool.snapshot()
    stale["connectors"][0]["title"] = "Renamed by hand"
    out.write_text(json.dumps(stale), encoding="utf-8")
    assert tool.main(["--check"], out=out) == 1
    assert "gen_ui_schemas.py" in capsys.readouterr().err
    assert tool.main([], out=out) == 0
    assert tool.main(["--check"], out=out) == 0
    assert json.loads(out.read_text(encoding="utf-8")) == tool.snapshot()
