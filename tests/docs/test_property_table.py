"""docs/values.md lists the connectors' document properties exactly as they declare them."""

from __future__ import annotations

import re

import pytest

from postroom.connectors import get_connector
from support.testsupport import ROOT

pytestmark = pytest.mark.fast

ROW = re.compile(r"^\| `((?:mail|disk|http|database)\.[^`]+)` \| (?:`([^`]*)`)? \| (.*) \|$")


def test_values_page_table_matches_the_declared_properties():
    text = (ROOT / "docs" / "values.md").read_text(encoding="utf-8")
    rows = [m.groups() for m in map(ROW.match, text.splitlines()) if m]
    declared = [(p.name, p.boomi or None, p.help) for name in ("mail", "disk", "http", "database")
                for p in get_connector(name).document_properties]
    assert rows == declared, "update the table in docs/values.md from the connectors' properties.py"
