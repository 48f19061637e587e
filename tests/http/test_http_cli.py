"""The HTTP connector as a user drives it: ``postroom import``, ``postroom run``,
``postroom connections test``; exit codes, failed documents and their messages."""

from __future__ import annotations

import json

import pytest

from support.httpkit import Reply

TOKEN = "tok-Records-s3cret"

COMPONENTS = """\
type: connection
connector: http
id: records-api
name: Records API
settings:
  base_url: {base_url}
  auth: bearer
  token: ${{secret:records-token}}
---
type: operation
connector: http
id: create-record
name: Create record
settings:
  method: POST
  path: "/sheets/{{1}}/rows"
  parameters: [{{process_property: sheet_id}}]
  query: {{mode: append}}
  headers: {{Accept: application/json}}
  content_type: application/json
  response: return
  fail_on_status: true
  retries: 3
---
type: process
id: send-records
name: Send records
shapes:
  start: {{type: start, mode: data_passthrough, next: set}}
  set:
    type: set_properties
    properties:
      - {{property: process.sheet_id, value: "clinic/2026"}}
    next: post
  post: {{type: connector, connection: records-api, operation: create-record, next: note}}
  note:
    type: notify
    message: "record {{1}}: HTTP {{2}}"
    parameters: [{{profile_element: id}}, {{document_property: http.status}}]
"""


@pytest.fixture
def imported(cli, workdir, api_server):
    (workdir / "api").mkdir()
    (workdir / "api" / "records.yaml").write_text(COMPONENTS.format(base_url=api_server.url + "/api"))
    assert cli("secrets", "set", "records-token", input=TOKEN).code == 0
    done = cli("import", "api")
    assert done.code == 0, done
    return workdir


def _inputs(workdir, *texts: str) -> list[str]:
    args = []
    for n, text in enumerate(texts, 1):
        (workdir / f"in-{n}.json").write_text(text)
        args += ["--input", f"in-{n}.json"]
    return args


def test_run_posts_each_document_and_a_refused_one_fails_alone(imported, cli, api_server):
    api_server.then(Reply(201, {"id": "r-1"}), Reply(422, {"error": "name is required"}), Reply(201, {"id": "r-3"}))
    ran = cli("run", "send-records", *_inputs(imported, '{"name": "Ann"}', "{}", '{"name": "Cy"}', "oops"),
              "--json")
    assert ran.code == 1, ran
    record = ran.json()
    assert (record["documents_in"], record["documents_out"], record["documents_failed"]) == (4, 2, 2)
    errors = {e["document"]: e["message"] for e in record["errors"]}
    assert errors[2] == (f"POST {api_server.url}/api/sheets/clinic%2F2026/rows answered HTTP 422 "
                         'Unprocessable Entity: {"error": "name is required"}')
    assert errors[4].startswith("the document is not JSON")
    seen = api_server.requests
    assert [r.target for r in seen] == ["/api/sheets/clinic%2F2026/rows?mode=append"] * 3
    assert {r.header("Authorization") for r in seen} == {f"Bearer {TOKEN}"}
    shown = cli("executions", "show", record["id"], "--json")
    messages = [line["message"] for line in shown.json()["log"]]
    assert "record r-1: HTTP 201" in messages and "record r-3: HTTP 201" in messages
    assert TOKEN not in ran.stdout + ran.stderr + shown.stdout


def test_refused_credentials_fail_every_document_with_the_reason(imported, cli, api_server):
    api_server.handler = lambda seen: Reply(401, {"error": "invalid token"})
    ran = cli("run", "send-records", *_inputs(imported, '{"a": 1}', '{"a": 2}'), "--json")
    assert ran.code == 1, ran
    messages = [e["message"] for e in ran.json()["errors"]]
    assert len(messages) == 2 and all(
        "answered HTTP 401 Unauthorized: the server refused the credentials (auth bearer)" in m for m in messages)
    assert TOKEN not in ran.stdout + ran.stderr


def test_a_server_that_is_down_exits_3(imported, cli, api_server):
    api_server.close()
    ran = cli("run", "send-records", *_inputs(imported, '{"a": 1}'), "--json")
    assert ran.code == 3, ran
    [error] = ran.json()["errors"]
    assert "cannot connect" in error["message"] and "check base_url and that the server is up" in error["message"]


def test_429_then_success_completes(imported, cli, api_server):
    api_server.then(Reply(429, "", {"Retry-After": "0"}), Reply(201, {"id": "r-1"}))
    ran = cli("run", "send-records", *_inputs(imported, '{"a": 1}'), "--json")
    assert ran.code == 0, ran
    shown = cli("executions", "show", ran.json()["id"], "--json").json()
    messages = [line["message"] for line in shown["log"]]
    assert any("answered" not in m and "HTTP 429; trying again in 0.0 s" in m for m in messages)
    assert "record r-1: HTTP 201" in messages


@pytest.mark.parametrize(("setting", "value", "says"), [
    ("base_url", "records.example.test/api",
     "field settings.base_url: 'records.example.test/api' is not an http(s) URL: write it whole, like "
     "https://api.example.com/v1"),
    ("path", '"/sheets/{2}/rows"', "path uses {2} but parameters has 1 value(s): add parameters"),
])
def test_import_refuses_a_bad_url_naming_file_field_and_fix(setting, value, says, cli, workdir, api_server):
    text = COMPONENTS.format(base_url=api_server.url)
    lines = [(f"  {setting}: {value}" if line.startswith(f"  {setting}: ") else line) for line in text.splitlines()]
    (workdir / "bad").mkdir()
    (workdir / "bad" / "records.yaml").write_text("\n".join(lines) + "\n")
    done = cli("import", "bad")
    assert done.code == 2, done
    assert "records.yaml:" in done.stderr and says in done.stderr


def test_connections_test_reports_the_server(imported, cli, api_server):
    api_server.handler = lambda seen: Reply(200, {"ok": True}) if seen.header("Authorization") == (
        f"Bearer {TOKEN}") else Reply(401, "no")
    done = cli("connections", "test", "records-api")
    assert done.code == 0, done
    assert "200 OK" in done.stdout and "none (http)" in done.stdout
    assert cli("secrets", "set", "records-token", input="wrong-token").code == 0
    refused = cli("connections", "test", "records-api")
    assert refused.code == 3, refused
    assert "the server refused the credentials (auth bearer)" in refused.stderr
    assert json.dumps(TOKEN) not in refused.stderr


def test_a_bad_url_from_the_environment_stops_the_run_naming_component_and_field(cli, workdir, api_server):
    (workdir / "env").mkdir()
    (workdir / "env" / "records.yaml").write_text(COMPONENTS.format(base_url="${env:RECORDS_URL}"))
    assert cli("secrets", "set", "records-token", input=TOKEN).code == 0
    assert cli("import", "env").code == 0
    ran = cli("run", "send-records", *_inputs(workdir, '{"a": 1}'), env={"RECORDS_URL": "records.example.test"})
    assert ran.code == 2, ran
    assert ("component records-api: field settings.base_url: 'records.example.test' is not an http(s) URL: "
            "write it whole, like https://api.example.com/v1") in ran.stderr
    assert api_server.requests == []


START = """\
type: connection
connector: http
id: todo-api
name: To-do API
settings: {{base_url: "{base_url}"}}
---
type: operation
connector: http
id: list-todos
name: List to-dos
settings: {{method: GET, path: /todos, query: {{owner: "dr smith"}}}}
---
type: process
id: poll-todos
name: Poll to-dos
shapes:
  start: {{type: start, mode: connector, connection: todo-api, operation: list-todos, next: say}}
  say:
    type: notify
    message: "{{1}} to-dos, first: {{2}} (HTTP {{3}})"
    parameters: [{{profile_element: count}}, {{profile_element: "items[0].title"}}, {{document_property: http.status}}]
"""


def test_a_get_as_the_start_shape_makes_one_request_and_starts_with_its_answer(cli, workdir, api_server):
    api_server.then(Reply(200, {"count": 2, "items": [{"title": "call Ann"}, {"title": "file notes"}]}))
    (workdir / "start").mkdir()
    (workdir / "start" / "todo.yaml").write_text(START.format(base_url=api_server.url))
    assert cli("import", "start").code == 0
    ran = cli("run", "poll-todos", "--json")
    assert ran.code == 0, ran
    assert ran.json()["documents_in"] == 1
    shown = cli("executions", "show", ran.json()["id"], "--json").json()
    assert [line["message"] for line in shown["log"]] == ["2 to-dos, first: call Ann (HTTP 200)"]
    assert [r.target for r in api_server.requests] == ["/todos?owner=dr+smith"]
