"""Bad input through the browser gets the CLI's error (the field, the reason, the fix) beside the
field at fault, for every kind of component form: a Mail connection, a Mail operation, a shape
in the process canvas's side panel, and the YAML Definition of a profile and a map. Each starts
from a saved version 1 (imported with the CLI); after the refused Save the stored version is
still version 1, unchanged, and what was typed is still in the form.

For each, the same component is also imported with ``postroom import``: the CLI must name the
same field with the same message and fix as the page shows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from support.browser import Postroom


def _import(postroom: Postroom, tmp_path: Path, name: str, body: dict[str, Any]) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(json.dumps(body))
    done = postroom.cli("import", str(path))
    assert done.returncode == 0, done.stderr + done.stdout


def _cli_errors(postroom: Postroom, tmp_path: Path, body: dict[str, Any]) -> str:
    """What ``postroom import`` says about ``body`` (refused: exit code 2)."""
    path = tmp_path / "bad.yaml"
    path.write_text(json.dumps(body))
    done = postroom.cli("import", str(path))
    assert done.returncode == 2, done.stdout + done.stderr
    return done.stderr


def _save_refused(page: Any) -> list[dict[str, Any]]:
    """Click Save; the server's 422 errors."""
    with page.expect_response(lambda r: "/api/components" in r.url and r.request.method in ("PUT", "POST")) as info:
        page.get_by_role("button", name="Save", exact=True).click()
    response = info.value
    assert response.status == 422, response.text()
    errors: list[dict[str, Any]] = response.json()["errors"]
    return errors


def _same_as_cli(errors: list[dict[str, Any]], cli: str) -> dict[str, Any]:
    """The one error, which the CLI words the same: field, message and fix."""
    assert len(errors) == 1, errors
    error = errors[0]
    fix = f" ({error['fix']})" if error.get("fix") else ""
    assert f"field {error['field']}: {error['message']}{fix}" in cli, (error, cli)
    return error


def _beside(page: Any, control: Any) -> Any:
    """The alert the control points at (aria-describedby): the error shown beside it."""
    ids = (control.get_attribute("aria-describedby") or "").split()
    alerts = [page.locator(f"[id='{i}'][role=alert]") for i in ids]
    for alert in alerts:
        if alert.count():
            return alert
    raise AssertionError(f"no alert beside the control (aria-describedby: {ids})")


def _stored(page: Any, url: str, component_id: str) -> dict[str, Any]:
    answer = page.request.get(f"{url}/api/components/{component_id}")
    assert answer.ok, answer.text()
    stored: dict[str, Any] = answer.json()
    return stored


def test_a_mail_connections_login_without_tls_is_shown_at_use_tls(new_page, postroom, tmp_path) -> None:
    settings = {"host": "localhost", "port": 587, "use_tls": True, "user_password_auth": True,
                "user_name": "clinic@example.com", "password": "fe-conn-pass-1"}
    body = {"type": "connection", "connector": "mail", "name": "Field Errors Mail", "id": "field-errors-mail",
            "settings": settings}
    _import(postroom, tmp_path, "connection", body)
    page = new_page("builder")
    page.goto(f"{postroom.url}/build/c/field-errors-mail")
    use_tls = page.get_by_label("Use TLS?", exact=True)
    use_tls.uncheck()
    error = _same_as_cli(_save_refused(page), _cli_errors(postroom, tmp_path, {
        **body, "id": "field-errors-mail-cli", "settings": {**settings, "use_tls": False}}))
    assert error["field"] == "settings.use_tls" and "use_tls: true" in error["fix"]
    shown = _beside(page, use_tls)
    shown.wait_for()
    assert error["message"] in shown.inner_text() and error["fix"] in shown.inner_text()
    assert not use_tls.is_checked(), "what was typed stays"
    stored = _stored(page, postroom.url, "field-errors-mail")
    assert stored["version"] == 1 and stored["body"]["settings"]["use_tls"] is True
    assert stored["secrets"]["password"] == "set"

    port = page.get_by_label("Port", exact=True)
    use_tls.check()
    port.fill("70000")
    error = _same_as_cli(_save_refused(page), _cli_errors(postroom, tmp_path, {
        **body, "id": "field-errors-mail-cli", "settings": {**settings, "port": 70000}}))
    assert error["field"] == "settings.port" and error["fix"] == "write a number from 1 to 65535"
    shown = _beside(page, port)
    shown.wait_for()
    assert error["fix"] in shown.inner_text() and port.input_value() == "70000"
    assert _stored(page, postroom.url, "field-errors-mail")["version"] == 1
    page.reload()
    page.get_by_label("Port", exact=True).wait_for()
    assert page.get_by_label("Port", exact=True).input_value() == "587", "version 1 is what a reload shows"


def test_a_mail_operations_bad_sender_is_shown_at_from(new_page, postroom, tmp_path) -> None:
    settings = {"action": "send", "from": "clinic@example.com", "subject": "Hello"}
    body = {"type": "operation", "connector": "mail", "name": "Field Errors Send", "id": "field-errors-send",
            "settings": settings}
    _import(postroom, tmp_path, "operation", body)
    page = new_page("builder")
    page.goto(f"{postroom.url}/build/c/field-errors-send")
    page.get_by_role("tab", name="Options").click()
    sender = page.get_by_label("From", exact=True)
    sender.fill("not an address")
    error = _same_as_cli(_save_refused(page), _cli_errors(postroom, tmp_path, {
        **body, "id": "field-errors-send-cli", "settings": {**settings, "from": "not an address"}}))
    assert error["field"] == "settings.from" and error["fix"]
    shown = _beside(page, sender)
    shown.wait_for()
    assert error["message"] in shown.inner_text() and error["fix"] in shown.inner_text()
    assert sender.input_value() == "not an address"
    stored = _stored(page, postroom.url, "field-errors-send")
    assert stored["version"] == 1 and stored["body"]["settings"]["from"] == "clinic@example.com"


PROCESS = {"type": "process", "name": "Field Errors Process", "id": "field-errors-process", "start": "start",
           "shapes": {"start": {"type": "start", "next": "tidy"},
                      "tidy": {"type": "data_process", "label": "Tidy",
                               "steps": [{"type": "search_replace", "pattern": "a", "replacement": "b"}], "next": "end"},
                      "end": {"type": "stop"}}}


def test_a_shapes_bad_setting_is_shown_at_its_field_in_the_side_panel(new_page, postroom, tmp_path) -> None:
    _import(postroom, tmp_path, "process", PROCESS)
    page = new_page("builder")
    page.goto(f"{postroom.url}/build/c/field-errors-process")
    page.get_by_test_id("shape-tidy").dispatch_event("click")  # (the palette may cover it: no pointer needed)
    side = page.get_by_role("complementary", name="Shape settings")
    pattern = side.get_by_role("group", name="Step 1", exact=True).get_by_label("Text to Find", exact=True)
    pattern.fill("(unclosed")
    bad = json.loads(json.dumps(PROCESS))
    bad["id"] = "field-errors-process-cli"
    bad["shapes"]["tidy"]["steps"][0]["pattern"] = "(unclosed"
    error = _same_as_cli(_save_refused(page), _cli_errors(postroom, tmp_path, bad))
    assert error["field"] == "shapes.tidy.steps.0.pattern" and error["fix"]
    shown = _beside(page, pattern)
    shown.wait_for()
    assert error["message"] in shown.inner_text() and error["fix"] in shown.inner_text()
    assert pattern.input_value() == "(unclosed"
    stored = _stored(page, postroom.url, "field-errors-process")
    assert stored["version"] == 1 and stored["body"]["shapes"]["tidy"]["steps"][0]["pattern"] == "a"


def test_a_profiles_and_a_maps_bad_definition_is_shown_at_the_definition(new_page, postroom, tmp_path) -> None:
    profile = {"type": "profile", "name": "Field Errors CSV", "id": "field-errors-csv", "fields": ["a", "b"]}
    mapping = {"type": "map", "name": "Field Errors Map", "id": "field-errors-map", "from_profile": "field-errors-csv",
               "to_profile": "field-errors-csv", "mappings": [{"from": "a", "to": "b"}]}
    _import(postroom, tmp_path, "profile", profile)
    _import(postroom, tmp_path, "map", mapping)
    page = new_page("builder")
    cases = [(profile, "fields:\n  - {name: a, type: colour}\n", {"fields": [{"name": "a", "type": "colour"}]}),
             (mapping, "from_profile: field-errors-csv\nto_profile: field-errors-csv\n"
                       "mappings:\n  - {from: a, to: b, function: upper}\n",
              {"mappings": [{"from": "a", "to": "b", "function": "upper"}]})]
    for saved, typed, change in cases:
        page.goto(f"{postroom.url}/build/c/{saved['id']}")
        if saved["type"] == "map":  # a map opens on its Mappings form; the YAML is on Definition
            page.get_by_role("tab", name="Definition", exact=True).click()
        definition = page.get_by_label("Definition (YAML)", exact=True)
        definition.fill(typed)
        error = _same_as_cli(_save_refused(page), _cli_errors(postroom, tmp_path, {
            **saved, **change, "id": f"{saved['id']}-cli"}))
        shown = _beside(page, definition)
        shown.wait_for()
        assert f"{error['field']}: {error['message']}" in shown.inner_text()
        if error.get("fix"):
            assert error["fix"] in shown.inner_text()
        assert definition.input_value() == typed
        stored = _stored(page, postroom.url, saved["id"])
        assert stored["version"] == 1
        assert {k: stored["body"][k] for k in change} == {k: saved[k] for k in change}
