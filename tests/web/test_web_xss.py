"""Markup typed into a component's name or a shape's label is shown as text, never run: in the
Build tree, the editor (its Component name), the version history and its diff, and on the
process canvas (the shape's node and its side panel). A document's data is checked the same way
by tests/web/test_canvas.py (the document viewer) and an email by tests/web/test_web_inbox.py.

Each payload would, if the page ran it, add an element carrying ``data-xss`` (an image whose
onerror runs, a script, an SVG onload) or open an alert: neither may happen."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from support.browser import Postroom

NAME_1 = '<img src=x data-xss onerror="alert(1)">Clinic <b data-xss>mail</b>'
NAME_2 = '<script data-xss>alert(2)</script><svg data-xss onload="alert(3)">Clinic mail'
LABEL = '<img src=y data-xss onerror="alert(4)">Still <i data-xss>a</i> patient?'


def _import(postroom: Postroom, tmp_path: Path, body: dict[str, Any]) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(json.dumps(body))
    done = postroom.cli("import", str(path))
    assert done.returncode == 0, done.stderr + done.stdout


def _watch(page: Any) -> list[str]:
    alerts: list[str] = []

    def on_dialog(dialog: Any) -> None:  # an alert() run by injected markup would land here
        alerts.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return alerts


def _nothing_ran(page: Any, alerts: list[str]) -> None:
    assert page.locator("[data-xss]").count() == 0, "markup from a name or label became elements"
    assert alerts == []


def test_a_component_name_is_text_in_the_tree_the_editor_and_the_versions(new_page, postroom, tmp_path) -> None:
    body = {"type": "connection", "connector": "mail", "id": "xss-name-connection",
            "settings": {"host": "smtp.example.com"}}
    _import(postroom, tmp_path, {**body, "name": NAME_1})
    _import(postroom, tmp_path, {**body, "name": NAME_2})  # version 2
    page = new_page("builder")
    alerts = _watch(page)
    page.get_by_role("link", name="Build").click()
    page.get_by_role("link", name=NAME_2, exact=True).wait_for()  # the tree: the name, as text
    page.get_by_role("link", name=NAME_2, exact=True).click()
    name = page.get_by_label("Component name", exact=True)
    name.wait_for()
    assert name.input_value() == NAME_2
    page.get_by_role("tab", name="Version History").click()
    history = page.get_by_role("table")
    history.get_by_role("cell", name=NAME_1, exact=True).wait_for()
    history.get_by_role("cell", name=NAME_2, exact=True).wait_for()
    page.get_by_label("From", exact=True).select_option("1")
    page.get_by_label("To", exact=True).select_option("2")
    page.get_by_role("button", name="Show Differences").click()
    diff = page.get_by_label("Differences between version 1 and 2")
    diff.wait_for()
    assert "<img src=x data-xss" in diff.inner_text() and "<script data-xss>" in diff.inner_text()
    _nothing_ran(page, alerts)


def test_a_shape_label_is_text_on_the_canvas_and_in_its_side_panel(new_page, postroom, tmp_path) -> None:
    _import(postroom, tmp_path, {
        "type": "process", "name": "XSS label process", "id": "xss-label-process", "start": "start",
        "shapes": {"start": {"type": "start", "next": "check"},
                   "check": {"type": "decision", "label": LABEL, "first": {"document_property": "mail.subject"},
                             "second": "x", "true": "end", "false": "end"},
                   "end": {"type": "stop"}}})
    page = new_page("builder")
    alerts = _watch(page)
    page.goto(f"{postroom.url}/build/c/xss-label-process")
    node = page.get_by_role("group", name=LABEL, exact=True)
    node.wait_for()
    page.get_by_test_id("shape-check").dispatch_event("click")
    side = page.get_by_role("complementary", name="Shape settings")
    side.get_by_role("heading", name=LABEL, exact=True).wait_for()
    assert side.get_by_label("Label", exact=True).input_value() == LABEL
    _nothing_ran(page, alerts)
