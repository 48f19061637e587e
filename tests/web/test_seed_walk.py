"""The seed's walk, literally, as a new user does it from an empty install: log in, create
"Gmail Mail Connection" pointed at devmail, set its password with Click to set, create the Send
operation, build the tutorial's process 1 (examples/dr-smith/process-1-announcement.yaml) on the
canvas by dragging shapes from the palette and connecting their outlets, Test it, open the
decision's documents and read the letters in the Dev Inbox. Every step is driven by roles and
accessible names only; the password never shows in a page or an API response.

POSTROOM_SCREENSHOTS=1 writes the steps to docs/images/walk-NN-*.png (docs/web.md shows them)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from postroom.model import load_text
from support.browser import Postroom, log_in
from support.testsupport import ROOT

IMAGES = ROOT / "docs" / "images" if os.environ.get("POSTROOM_SCREENSHOTS") else Path(tempfile.gettempdir())
#: the devmail login, as an app password would be for Gmail
SECRET = "Walk-app-pass-7Qz!"
USER = "clinic@example.com"
SUBJECT = "Announcement: Dr. Smith is Retiring"
PATIENTS = {"Alice Walker": "alice.walker@example.com", "Bob Nguyen": "bob.nguyen@example.org",
            "Zoë Obi": "zoe.obi@example.com"}
FORMER = ("José Núñez", "jose.nunez@example.net")
CSV = ("name,email,status\n"
       "Alice Walker,alice.walker@example.com,patient\n"
       "Bob Nguyen,bob.nguyen@example.org,patient\n"
       "José Núñez,jose.nunez@example.net,former patient\n"
       "Zoë Obi,zoe.obi@example.com,patient\n")
LETTER = "Dear {1},\n\nDr. Smith is retiring at the end of the year.\n\nKind regards,\nThe clinic\n"


class _WalkPostroom(Postroom):
    """The fixture's serve, but a devmail that requires a login like Gmail (one user, SECRET) and
    offers TLS: SMTPS (TLS from the first byte) and its CA file."""

    smtps_port = 0
    ca_file = ""

    def start(self) -> _WalkPostroom:
        self.add_user("builder", "builder", "builder-pass-k29d")
        devmail = self._start("devmail", "--smtp-port", "0", "--smtps-port", "0", "--pop3-port", "0",
                              "--pop3s-port", "0", "--web-port", "0", "--user", f"{USER}:{SECRET}")
        self.smtps_port = int(devmail.wait_for(r"SMTPS\s+\S+:(\d+)").group(1))
        self.ca_file = devmail.wait_for(r"CA file\s+(\S+)").group(1)
        devmail.wait_for(r"Press Ctrl-C")
        self.url = self._start("serve", "--port", "0", "--no-listeners").wait_for(r"(http://127\.0\.0\.1:\d+)").group(1)
        return self


@pytest.fixture(scope="module")
def empty_postroom(built_ui: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[_WalkPostroom]:
    """A Postroom of its own (the shared one holds other tests' components): an empty install."""
    server = _WalkPostroom(tmp_path_factory.mktemp("walk-home"))
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def page(browser: Any, empty_postroom: _WalkPostroom) -> Iterator[Any]:
    context = browser.new_context(base_url=empty_postroom.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


class _Steps:
    def __init__(self, page: Any) -> None:
        self.page = page
        self.count = 0

    def shot(self, name: str) -> None:
        """A screenshot of this step, once the page is checked not to carry the password (the
        Click to set dialog's own input holds it while it is typed)."""
        if name != "click-to-set":
            assert SECRET not in self.page.content(), name
        self.count += 1
        IMAGES.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(IMAGES / f"walk-{self.count:02d}-{name}.png"))


def _create(page: Any, kind: str) -> Any:
    page.get_by_role("link", name="Build").click()
    page.get_by_role("button", name="Create New").click()
    page.get_by_role("menuitem", name=kind, exact=True).click()
    return page.get_by_role("dialog")


def _save(page: Any) -> str:
    """Save; the component's id (the editor's address ends with it)."""
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_role("status").filter(has_text="Saved version 1").wait_for()
    return str(page.url.rsplit("/", 1)[-1])


def _connection(page: Any, server: _WalkPostroom, steps: _Steps) -> str:
    dialog = _create(page, "Connection")
    dialog.get_by_label("Connector", exact=True).select_option(label="Mail")
    dialog.get_by_role("button", name="Create").click()
    page.get_by_label("Component name", exact=True).fill("Gmail Mail Connection")
    page.get_by_label("Host", exact=True).fill("localhost")
    # Gmail: smtp.gmail.com, port 465, Use SSL? on (TLS from the first byte). devmail's SMTPS port
    # is the same kind of port, so the same choice works here: Use SSL? on; Use TLS? (STARTTLS, for
    # port 587) is left on as the seed has it and is ignored once SSL encrypts the session. devmail's
    # certificate is signed by its own CA, which Trusted CA file names (Gmail needs none).
    page.get_by_label("Port", exact=True).fill(str(server.smtps_port))
    page.get_by_label("Use TLS?", exact=True).check()
    page.get_by_label("Use SSL?", exact=True).check()
    page.get_by_label("Trusted CA file", exact=True).fill(server.ca_file)
    page.get_by_label("User/Password Authorization?", exact=True).check()
    page.get_by_label("User Name", exact=True).fill(USER)
    steps.shot("connection")
    page.get_by_role("group", name="Password", exact=True).get_by_role("button", name="Click to set").click()
    secret = page.get_by_role("dialog")
    secret.get_by_label("Password", exact=True).fill(SECRET)
    steps.shot("click-to-set")
    secret.get_by_role("button", name="Apply").click()
    return _save(page)


def _operation(page: Any, steps: _Steps) -> str:
    dialog = _create(page, "Connector Operation")
    dialog.get_by_label("Connector", exact=True).select_option(label="Mail")
    dialog.get_by_role("button", name="Create").click()
    page.get_by_label("Component name", exact=True).fill("Gmail Mail Operation")
    page.get_by_role("tab", name="Options").click()
    page.get_by_label("Connector Action", exact=True).select_option(label="Send")
    page.get_by_label("From", exact=True).fill(USER)
    assert page.get_by_label("To", exact=True).input_value() == "", "To stays blank: each letter names its patient"
    page.get_by_label("Subject", exact=True).fill(SUBJECT)
    page.get_by_label("Disposition", exact=True).select_option(label="Inline")
    # inline: the document is the body, of Attachment Content Type; Body Content Type (for
    # mail.body beside an attachment) is on the Options tab too, as CONTRACT.md lists it
    _choose(page.get_by_label("Attachment Content Type", exact=True), "text/plain")
    _choose(page.get_by_label("Body Content Type", exact=True), "text/plain")
    steps.shot("operation")
    return _save(page)


def _choose(field: Any, value: str) -> None:
    """A drop-down or a text box, whichever the schema made of the field."""
    if field.evaluate("element => element.tagName") == "SELECT":
        field.select_option(value)
    else:
        field.fill(value)


def _drop(page: Any, title: str, x: int, y: int) -> None:
    page.get_by_role("navigation", name="Shapes").get_by_role("button", name=title, exact=True).drag_to(
        page.get_by_test_id("rf__wrapper"), target_position={"x": x, "y": y})


def _shape(page: Any, name: str) -> Any:
    return page.get_by_role("group", name=name, exact=True)


def _connect(page: Any, source: str, outlet: str, target: str) -> None:
    page.get_by_test_id(f"handle-{source}-{outlet}").drag_to(page.get_by_test_id(f"shape-{target}"))


#: the box each kind of value source asks for (Boomi's parameter types)
ARGUMENT = {"Text": "Text", "Profile Element": "Element"}


def _value_source(scope: Any, field: str, kind: str, value: str) -> None:
    """The value source ``field`` (a group: "First Value", "Value 1"): its kind from the drop-down
    "<field> type", then the box that kind asks for."""
    scope.get_by_label(f"{field} type", exact=True).select_option(label=kind)
    group = scope.get_by_role("group", name=field, exact=True)
    group.get_by_label(ARGUMENT[kind], exact=True).fill(value)


def _configure(page: Any, shape_id: str, label: str) -> Any:
    page.get_by_test_id(f"shape-{shape_id}").click()
    side = page.get_by_role("complementary", name="Shape settings")
    side.get_by_label("Label", exact=True).fill(label)
    return side


# where each shape goes (two columns) and the id it gets: its type's, until its label names it
LAYOUT = [("Start", "start", 10, 10), ("Message", "message", 10, 100), ("Data Process", "data-process", 10, 190),
          ("Decision", "decision", 10, 280), ("Stop", "stop", 10, 370), ("Set Properties", "set-properties", 320, 10),
          ("Message", "message-2", 320, 100), ("Connector", "connector", 320, 190), ("Stop", "stop-2", 320, 280)]


def _build_process(page: Any, connection: str, operation: str, steps: _Steps) -> None:
    dialog = _create(page, "Process")
    dialog.get_by_label("Name", exact=True).fill("Dr. Smith retirement announcement")
    dialog.get_by_role("button", name="Create").click()
    page.get_by_role("navigation", name="Shapes").wait_for()
    page.get_by_label("Component name", exact=True).fill("Dr. Smith retirement announcement")
    for title, shape_id, x, y in LAYOUT:
        _drop(page, title, x, y)
        page.get_by_test_id(f"shape-{shape_id}").wait_for()
    for source, outlet, target in [("start", "next", "message"), ("message", "next", "data-process"),
                                   ("data-process", "next", "decision"), ("decision", "true", "set-properties"),
                                   ("decision", "false", "stop"), ("set-properties", "next", "message-2"),
                                   ("message-2", "next", "connector"), ("connector", "next", "stop-2")]:
        _connect(page, source, outlet, target)
    steps.shot("canvas-connected")

    side = _configure(page, "start", "Start")
    start_type = side.get_by_label("Type", exact=True)
    start_type.select_option(label="No Data")
    assert start_type.input_value() == "no_data", "the drop-down shows the title and keeps the value"
    side = _configure(page, "message", "Patient list")
    side.get_by_label("Message", exact=True).fill(CSV)
    side = _configure(page, "data-process", "One document per patient")
    side.get_by_role("group", name="Processing Steps", exact=True).get_by_role("button", name="Add").click()
    assert side.get_by_label("Step 1 type", exact=True).input_value() == "Split Documents"
    split = side.get_by_role("group", name="Step 1", exact=True)
    split.get_by_label("Split Options", exact=True).select_option(label="Split by Line")
    split.get_by_label("Headers Option", exact=True).select_option(label="Retain first line as column headers")
    side = _configure(page, "decision", "Still a patient?")
    _value_source(side, "First Value", "Profile Element", "status")
    side.get_by_label("Comparison", exact=True).select_option(label="Equal To")
    _value_source(side, "Second Value", "Text", "patient")
    steps.shot("decision")
    side = _configure(page, "set-properties", "Recipient")
    side.get_by_role("group", name="Properties to Set", exact=True).get_by_role("button", name="Add").click()
    entry = side.get_by_role("group", name="Property to Set 1", exact=True)
    entry.get_by_label("Property", exact=True).fill("mail.to_address")
    entry.get_by_role("group", name="Property Value", exact=True).get_by_role("button", name="Add").click()
    _value_source(entry, "Value 1", "Profile Element", "email")
    side = _configure(page, "message-2", "Letter")
    side.get_by_label("Message", exact=True).fill(LETTER)
    side.get_by_role("group", name="Parameters", exact=True).get_by_role("button", name="Add").click()
    _value_source(side, "Value 1", "Profile Element", "name")
    side = _configure(page, "connector", "Send the letter")
    # as in Boomi: Connector, then the connection by its name; Action, then the operation
    side.get_by_role("combobox", name="Connector", exact=True).select_option(label="Mail")
    side.get_by_role("combobox", name="Connection", exact=True).select_option(label="Gmail Mail Connection")
    side.get_by_role("combobox", name="Action", exact=True).select_option(label="Send")
    side.get_by_role("combobox", name="Operation", exact=True).select_option(label="Gmail Mail Operation")
    steps.shot("connector")
    side = _configure(page, "stop-2", "Sent")
    side = _configure(page, "stop", "Not a patient")
    side.get_by_label("Continue processing other paths", exact=True).uncheck()
    _save(page)
    steps.shot("process-saved")
    base, process = page.url.split("/build/c/")
    body = load_text(page.request.get(f"{base}/api/components/{process}/yaml").text())[0].data
    # each shape's id was its type's when dropped and its label's once named: readable YAML
    assert set(body["shapes"]) == {"start", "patient-list", "one-document-per-patient", "still-a-patient",
                                   "recipient", "letter", "send-the-letter", "sent", "not-a-patient"}, body["shapes"]
    assert body["shapes"]["send-the-letter"]["connection"] == connection
    assert body["shapes"]["send-the-letter"]["operation"] == operation
    assert body["shapes"]["still-a-patient"]["true"] == "recipient"


def test_the_seed_walk_from_an_empty_install(page, empty_postroom) -> None:
    steps = _Steps(page)
    bodies: list[str] = []
    page.on("response", lambda r: bodies.append(r.text()) if "/api/" in r.url and r.status not in (204, 304) else None)
    log_in(page, empty_postroom.url, "builder")
    page.get_by_role("link", name="Build").click()
    steps.shot("empty-build")
    connection = _connection(page, empty_postroom, steps)
    operation = _operation(page, steps)
    _build_process(page, connection, operation, steps)

    page.get_by_role("button", name="Test", exact=True).click()
    for name in ("Start", "Patient list", "One document per patient", "Still a patient?", "Recipient", "Letter",
                 "Send the letter", "Sent", "Not a patient"):
        _shape(page, name).and_(page.locator("[data-status=passed]")).wait_for(timeout=30_000)
    assert "4 in" in _shape(page, "Still a patient?").inner_text()
    assert "3 in" in _shape(page, "Sent").inner_text() and "1 in" in _shape(page, "Not a patient").inner_text()
    steps.shot("test-passed")
    _shape(page, "Still a patient?").click()
    documents = page.get_by_role("region", name="Documents of Still a patient?")
    documents.get_by_role("article", name="Document 4").wait_for()
    assert documents.get_by_role("article").count() == 4
    entered = documents.inner_text()
    for name in [*PATIENTS, FORMER[0]]:
        assert name in entered, f"{name}'s row entered the decision"
    documents.get_by_role("article", name="Document 1").scroll_into_view_if_needed()
    steps.shot("decision-documents")

    page.get_by_role("link", name="Dev Inbox").click()
    links = page.get_by_role("link", name=SUBJECT, exact=True)
    links.nth(len(PATIENTS) - 1).wait_for()
    assert links.count() == len(PATIENTS), "one letter per current patient"
    rows = [row.inner_text() for row in page.get_by_role("row").filter(has=links).all()]
    everyone = [*PATIENTS.values(), FORMER[1]]
    for address in PATIENTS.values():
        mine = [row for row in rows if address in row]
        assert len(mine) == 1, (address, rows)
        assert [other for other in everyone if other in mine[0]] == [address], "addressed to that patient alone"
    assert FORMER[1] not in "".join(rows)
    steps.shot("dev-inbox")
    letters: dict[str, str] = {}
    for index in range(len(PATIENTS)):
        links.nth(index).click()
        message = page.get_by_role("region", name="Message")
        message.get_by_role("heading", name=SUBJECT).wait_for()
        headers = message.get_by_role("table", name="Headers").inner_text().splitlines()
        to = [line.split("\t", 1)[1].strip() for line in headers if line.startswith("To\t")]
        assert len(to) == 1 and to[0] in PATIENTS.values(), headers
        letters[to[0]] = message.inner_text()
        if index == 0:
            steps.shot("letter")
    assert sorted(letters) == sorted(PATIENTS.values()), "one letter to each current patient, each to them alone"
    for name, address in PATIENTS.items():
        assert f"Dear {name}," in letters[address] and "Dr. Smith is retiring" in letters[address]

    assert SECRET not in page.content()
    assert bodies and not [b for b in bodies if SECRET in b], "no API response carries the password"
