"""docs/reference is generated from the JSON Schemas and must match them."""

from __future__ import annotations

import subprocess
import sys

import pytest

from support.testsupport import ROOT

TOOL = ROOT / "tools" / "gen_reference.py"


def test_committed_reference_matches_the_schemas():
    ran = subprocess.run([sys.executable, str(TOOL), "--check"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, f"docs/reference is out of date; run: python tools/gen_reference.py\n{ran.stderr}"


@pytest.mark.fast
def test_check_fails_when_a_page_differs(tmp_path, monkeypatch):
    """The check must be able to fail: a changed or extra page under the output folder."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_reference_under_test", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "OUT", tmp_path / "reference")
    pages = module.render_all()
    assert all(tmp_path in p.parents for p in pages)
    assert module.main([]) == 0
    assert module.main(["--check"]) == 0
    first = next(iter(pages))
    first.write_text(first.read_text(encoding="utf-8") + "hand edit\n", encoding="utf-8")
    assert module.main(["--check"]) == 1
    assert module.main([]) == 0 and module.main(["--check"]) == 0
    (tmp_path / "reference" / "stray.md").write_text("old page\n", encoding="utf-8")
    assert module.main(["--check"]) == 1


@pytest.mark.fast
def test_every_connector_field_appears_on_its_page():
    from postroom.connectors import available_connectors, get_connector

    for name in available_connectors():
        page = (ROOT / "docs" / "reference" / "connectors" / f"{name}.md").read_text(encoding="utf-8")
        connector = get_connector(name)
        for model in (connector.connection_model, connector.operation_model):
            for field_name, info in model.model_fields.items():
                shown = info.alias or field_name
                assert f"| `{shown}` |" in page, f"{name}: {shown} is missing from docs/reference/connectors/{name}.md"
