"""A map built in the browser on its Mappings tab (profiles picked by name, mappings as rows)
saves to the YAML the CLI exports, and the server's complaint shows at the mapping at fault."""

from __future__ import annotations

import os
from typing import Any

from postroom.model import load_text
from support.testsupport import ROOT

PROFILES = """\
type: profile
id: mapform-csv
name: Mapform CSV
profile_type: flat_file
header: true
fields: [first_name, email]
---
type: profile
id: mapform-out
name: Mapform out
profile_type: flat_file
header: true
fields: [name, address]
"""


def _yaml(text: str) -> Any:
    return load_text(text)[0].data


def test_a_map_made_on_the_mappings_tab(new_page, postroom, tmp_path) -> None:
    (tmp_path / "profiles.yaml").write_text(PROFILES)
    done = postroom.cli("import", str(tmp_path))
    assert done.returncode == 0, done.stderr + done.stdout
    page = new_page("builder")
    page.get_by_role("link", name="Build").click()
    page.get_by_role("button", name="Create New").click()
    page.get_by_role("menuitem", name="Map", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name", exact=True).fill("Mapform map")
    dialog.get_by_role("button", name="Create").click()
    page.get_by_role("tab", name="Mappings").click()
    page.get_by_label("Source Profile", exact=True).select_option(label="Mapform CSV")
    page.get_by_label("Destination Profile", exact=True).select_option(label="Mapform out")
    page.get_by_role("button", name="Add Mapping").click()
    page.get_by_label("To, mapping 1", exact=True).fill("name")
    page.get_by_label("From, mapping 1", exact=True).fill("first_name")
    page.get_by_role("button", name="Add Mapping").click()
    page.get_by_label("To, mapping 2", exact=True).fill("address")
    page.get_by_label("From, mapping 2", exact=True).fill("email")
    page.get_by_label("Default, mapping 2", exact=True).fill("unknown")
    if os.environ.get("POSTROOM_SCREENSHOTS"):
        page.screenshot(path=str(ROOT / "docs" / "images" / "build-7-map-mappings.png"))
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_role("status").filter(has_text="Saved version 1").wait_for()
    component = page.url.rsplit("/", 1)[-1]
    body = _yaml(page.request.get(f"{postroom.url}/api/components/{component}/yaml").text())
    assert body["from_profile"] == "mapform-csv" and body["to_profile"] == "mapform-out"
    assert body["mappings"] == [{"to": "name", "from": "first_name"},
                                {"to": "address", "from": "email", "default": "unknown"}]

    page.get_by_role("tab", name="Mappings").click()
    page.get_by_label("To, mapping 1", exact=True).fill("")  # a target path is required
    page.get_by_role("button", name="Save", exact=True).click()
    problem = page.get_by_role("table", name="Mappings").get_by_role("alert")
    problem.wait_for()
    assert "mappings.0" in problem.inner_text(), problem.inner_text()
    assert page.get_by_label("From, mapping 1", exact=True).input_value() == "first_name"  # nothing typed is lost
