"""The Build page in a real browser: Create New → Connection → Mail, the fields by their
labels, the password through Click to set (never in a page or an API response), the server's
validation error at its field, and a viewer's read-only editor. Screenshots of the steps go
to docs/images/ (docs/web.md shows them)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from support.testsupport import ROOT

#: POSTROOM_SCREENSHOTS=1 refreshes the images of docs/web.md; otherwise they go to a temporary folder
IMAGES = ROOT / "docs" / "images" if os.environ.get("POSTROOM_SCREENSHOTS") else Path(tempfile.gettempdir())
SECRET = "Sup3r-Secret-app-pass!"


def _shot(page, name: str) -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / f"{name}.png"))


def _open_create_new(page) -> None:
    page.get_by_role("link", name="Build").click()
    page.get_by_role("button", name="Create New").click()
    page.get_by_role("menuitem", name="Connection").wait_for()


def test_create_a_mail_connection_and_set_its_password(new_page, postroom) -> None:
    page = new_page("builder")
    bodies: list[str] = []
    page.on("response", lambda r: bodies.append(r.text()) if "/api/" in r.url and r.ok and r.status != 204 else None)
    _open_create_new(page)
    _shot(page, "build-1-create-new")
    page.get_by_role("menuitem", name="Connection").click()
    dialog = page.get_by_role("dialog")
    connector = dialog.get_by_label("Connector", exact=True)
    connector.locator("option", has_text="Mail").wait_for(state="attached")
    options = connector.locator("option").all_inner_texts()
    assert "Mail" in options and "Disk" in options
    connector.select_option(label="Mail")
    _shot(page, "build-2-create-dialog")
    dialog.get_by_role("button", name="Create").click()

    page.get_by_label("Component name", exact=True).fill("Gmail Mail Connection")
    assert page.get_by_role("tab", name="Connection").get_attribute("aria-selected") == "true"
    page.get_by_label("Host", exact=True).fill("localhost")
    page.get_by_label("Port", exact=True).fill(str(postroom.smtp_port))
    assert page.get_by_label("Use TLS?", exact=True).is_checked()
    assert not page.get_by_label("Use SSL?", exact=True).is_checked()
    assert page.get_by_label("User Name", exact=True).count() == 0, "User Name shows only with User/Password Authorization?"
    page.get_by_label("User/Password Authorization?", exact=True).check()
    page.get_by_label("User Name", exact=True).fill("clinic@example.com")
    _shot(page, "build-3-connection")
    page.get_by_role("group", name="Password", exact=True).get_by_role("button", name="Click to set").click()
    secret_dialog = page.get_by_role("dialog")
    secret_dialog.get_by_label("Password", exact=True).fill(SECRET)
    _shot(page, "build-4-click-to-set")
    secret_dialog.get_by_role("button", name="Apply").click()
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_role("status").filter(has_text="Saved version 1").wait_for()
    page.get_by_text("set", exact=True).wait_for()
    page.evaluate("window.scrollTo(0, 0)")
    _shot(page, "build-5-saved")

    page.reload()
    page.get_by_label("Host", exact=True).wait_for()
    assert page.get_by_label("Host", exact=True).input_value() == "localhost"
    component_id = page.url.rsplit("/", 1)[-1]
    api = page.request.get(f"{postroom.url}/api/components/{component_id}")
    assert api.ok
    assert api.json()["secrets"]["password"] == "set"
    assert SECRET not in page.content()
    assert SECRET not in api.text()
    assert bodies and not [b for b in bodies if SECRET in b], "no API response carries the password"
    listing = page.request.get(f"{postroom.url}/api/components?body=true")
    assert SECRET not in listing.text()


def test_a_port_out_of_range_is_shown_at_the_port_field(new_page, postroom) -> None:
    page = new_page("builder")
    _open_create_new(page)
    page.get_by_role("menuitem", name="Connection").click()
    page.get_by_role("dialog").get_by_label("Connector", exact=True).select_option(label="Mail")
    page.get_by_role("dialog").get_by_role("button", name="Create").click()
    page.get_by_label("Component name", exact=True).fill("Bad Port Connection")
    page.get_by_label("Host", exact=True).fill("localhost")
    page.get_by_label("Port", exact=True).fill("70000")
    page.get_by_role("button", name="Save", exact=True).click()
    port = page.get_by_label("Port", exact=True)
    # a locator wait, not wait_for_function: polling a string predicate is an eval, which the
    # app's Content-Security-Policy refuses
    page.locator("#root_port__error").wait_for(state="attached")
    described = (port.get_attribute("aria-describedby") or "").split()
    error = page.locator("#root_port__error")
    assert "root_port__error" in described
    assert error.get_attribute("role") == "alert"
    assert "65535" in error.inner_text()
    port.evaluate("element => element.scrollIntoView({block: 'center'})")
    _shot(page, "build-6-field-error")
    assert port.input_value() == "70000", "nothing typed is lost"
    assert page.get_by_label("Host", exact=True).input_value() == "localhost"
    assert page.get_by_label("Component name", exact=True).input_value() == "Bad Port Connection"
    assert page.request.get(f"{postroom.url}/api/components?q=bad-port").json() == []


def test_a_viewer_sees_the_editor_read_only(new_page, postroom, tmp_path) -> None:
    body = {"type": "connection", "connector": "mail", "name": "Viewer Sees This", "id": "viewer-sees-this",
            "settings": {"host": "smtp.example.com"}}
    (tmp_path / "c.yaml").write_text(json.dumps(body))
    done = postroom.cli("import", str(tmp_path / "c.yaml"))
    assert done.returncode == 0, done.stderr
    page = new_page("viewer")
    page.goto(postroom.url + "/build/c/viewer-sees-this")
    host = page.get_by_label("Host", exact=True)
    host.wait_for()
    assert host.input_value() == "smtp.example.com"
    assert host.get_attribute("readonly") is not None
    assert page.get_by_role("button", name="Save", exact=True).count() == 0
    assert page.get_by_role("button", name="Save and Close").count() == 0
    assert page.get_by_role("button", name="Create New").count() == 0
