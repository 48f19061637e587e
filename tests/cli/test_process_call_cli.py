"""Process Call, Return Documents and Flow Control through ``postroom import`` and ``postroom
run``: import refuses recursion and a child that does not start with data_passthrough (exit
2, naming the processes and the fix); a run with ``parallel: 4`` sends the same emails to
devmail as without, each once, and ``executions show`` names the child's shapes."""

from __future__ import annotations

import email
from email import policy

import pytest

from support.letterskit import devmail_connection

SEND = """\
type: operation
connector: mail
name: Send
id: send
settings: {action: send, from: clinic@example.com, subject: Your appointment}
"""

CHILD = """\
type: process
name: Letter
id: letter
shapes:
  start: {type: start, mode: data_passthrough, next: to}
  to: {type: set_properties, properties: [{property: mail.to_address, value: [{profile_element: email}]}, {property: dynamic.id, value: [{profile_element: id}]}], next: text}
  text: {type: message, text: "Dear {1}, see you soon.", parameters: [{profile_element: name}], next: send}
  send: {type: connector, connection: dev, operation: send, next: back}
  back: {type: return_documents}
"""


def parent(process_id: str, parallel: int) -> str:
    return f"""\
type: process
name: Letters {parallel}
id: {process_id}
shapes:
  start: {{type: start, mode: data_passthrough, next: split}}
  split: {{type: data_process, steps: [{{type: split, headers: retain}}], next: flow}}
  flow: {{type: flow_control, unit: document, parallel: {parallel}, next: call}}
  call: {{type: process_call, process: letter, next: done}}
  done: {{type: notify, message: "sent to {{1}}", parameters: [{{dynamic_document_property: id}}]}}
"""


@pytest.fixture
def devmail_options():
    return {"users": {"clinic@example.com": "pw-123"}}


def emails_without_date_and_id(messages) -> list[tuple[str, bytes]]:  # noqa: ANN001
    out = []
    for stored in messages:
        msg = email.message_from_bytes(stored.raw, policy=policy.default)
        del msg["Date"]
        del msg["Message-ID"]
        out.append((stored.rcpt_tos[0], msg.as_bytes()))
    return sorted(out)


def test_parallel_flow_control_sends_the_same_emails_as_sequential(cli, workdir, devmail):
    rows = ["id,name,email"] + [f"P{n:02},Name {n},p{n}@example.com" for n in range(1, 25)]
    (workdir / "patients.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    connection = devmail_connection(devmail.smtps_port, devmail.ca_file, connection_id="dev",
                                    password="${secret:devmail-password}", max_sessions=None)
    (workdir / "c.yaml").write_text(connection + "---\n" + SEND, encoding="utf-8")
    (workdir / "child.yaml").write_text(CHILD, encoding="utf-8")
    (workdir / "seq.yaml").write_text(parent("letters-seq", 1), encoding="utf-8")
    (workdir / "par.yaml").write_text(parent("letters-par", 4), encoding="utf-8")
    assert cli("secrets", "set", "devmail-password", input="pw-123\n").code == 0
    imported = cli("import", "c.yaml", "child.yaml", "seq.yaml", "par.yaml")
    assert imported.code == 0, imported

    ran = cli("run", "letters-seq", "--input", "patients.csv")
    assert ran.code == 0, ran
    sequential = emails_without_date_and_id(devmail.messages())
    devmail.clear()
    ran = cli("run", "letters-par", "--input", "patients.csv")
    assert ran.code == 0, ran
    parallel = emails_without_date_and_id(devmail.messages())

    assert [to for to, _ in parallel] == sorted(f"p{n}@example.com" for n in range(1, 25))  # each once
    assert parallel == sequential
    assert b"Dear Name 7, see you soon." in dict(parallel)["p7@example.com"]
    assert ": complete: 1 in, 24 out, 0 failed" in ran.stdout
    execution_id = ran.stdout.split()[1].rstrip(":")
    shown = cli("executions", "show", execution_id)
    assert "call/send 24 done, 0 failed" in shown.stdout, shown.stdout


def test_import_refuses_a_process_that_calls_itself_through_another(cli, workdir):
    (workdir / "a.yaml").write_text("""\
type: process
name: A
id: a
shapes:
  start: {type: start, mode: data_passthrough, next: call}
  call: {type: process_call, process: b}
---
type: process
name: B
id: b
shapes:
  start: {type: start, mode: data_passthrough, next: call}
  call: {type: process_call, process: a}
""", encoding="utf-8")
    result = cli("import", "a.yaml")
    assert result.code == 2, result
    assert "a process may not call itself, directly or through others: a → b → a" in result.stderr
    assert "remove one of these process calls" in result.stderr
    assert "nothing was imported" in result.stderr
    assert cli("components", "list", "--json").json() == []


def test_import_refuses_a_called_process_that_does_not_start_with_data_passthrough(cli, workdir):
    (workdir / "p.yaml").write_text("""\
type: process
name: Parent
id: parent
shapes:
  start: {type: start, next: call}
  call: {type: process_call, process: child}
---
type: process
name: Child
id: child
shapes:
  start: {type: start, next: n}
  n: {type: notify, message: hi}
""", encoding="utf-8")
    result = cli("import", "p.yaml")
    assert result.code == 2, result
    assert "process parent calls process child, whose start shape is no_data" in result.stderr
    assert "set mode: data_passthrough on the start shape of process child" in result.stderr


def test_a_called_process_that_is_missing_at_run_time_exits_2(cli, workdir):
    (workdir / "p.yaml").write_text("""\
type: process
name: Parent
id: parent
shapes:
  start: {type: start, next: call}
  call: {type: process_call, process: nowhere}
""", encoding="utf-8")
    imported = cli("import", "p.yaml")
    assert imported.code == 0 and "process 'nowhere' does not exist yet" in imported.stderr, imported
    ran = cli("run", "parent")
    assert ran.code == 2, ran
    assert "process 'nowhere' does not exist" in ran.stderr and "import a process with id nowhere" in ran.stderr


def test_import_refuses_a_direct_self_call_and_a_bad_current_data(cli, workdir):
    (workdir / "self.yaml").write_text("""\
type: process
name: Self
id: self-caller
shapes:
  start: {type: start, mode: data_passthrough, next: call}
  call: {type: process_call, process: self-caller, next: log}
  log: {type: notify, message: "{1}", parameters: [{current_data: nope}]}
""", encoding="utf-8")
    result = cli("import", "self.yaml")
    assert result.code == 2, result
    assert "current_data takes true: {current_data: true}" in result.stderr
    assert "shapes.log.parameters" in result.stderr
    fixed = (workdir / "self.yaml").read_text().replace("current_data: nope", "current_data: true")
    (workdir / "self.yaml").write_text(fixed, encoding="utf-8")
    result = cli("import", "self.yaml")
    assert result.code == 2, result
    assert "a process may not call itself, directly or through others: self-caller → self-caller" in result.stderr
    assert "self.yaml:6" in result.stderr  # the line of the call's process key


def test_a_failure_in_the_child_fails_the_run_with_abort_on_error(cli, workdir):
    (workdir / "p.yaml").write_text("""\
type: process
name: Check
id: check
shapes:
  start: {type: start, mode: data_passthrough, next: dec}
  dec: {type: decision, first: {current_data: true}, comparison: equals, second: bad, true: boom, false: back}
  boom: {type: exception, message: "refused {1}", parameters: [{current_data: true}]}
  back: {type: return_documents}
---
type: process
name: Caller
id: caller
shapes:
  start: {type: start, mode: data_passthrough, next: call}
  call: {type: process_call, process: check, next: log}
  log: {type: notify, message: "went on"}
""", encoding="utf-8")
    (workdir / "bad.txt").write_text("bad", encoding="utf-8")
    assert cli("import", "p.yaml").code == 0
    ran = cli("run", "caller", "--input", "bad.txt")
    assert ran.code == 1, ran
    assert "process check failed (1 document(s) failed in it; first: document 1 at call/boom: refused bad)" \
        in ran.stderr + ran.stdout
    assert "set abort_on_error: false on the call" in ran.stderr + ran.stdout
    assert "went on" not in ran.stderr + ran.stdout
    relaxed = (workdir / "p.yaml").read_text().replace("process: check,", "process: check, abort_on_error: false,")
    (workdir / "p.yaml").write_text(relaxed, encoding="utf-8")
    assert cli("import", "p.yaml").code == 0
    ran = cli("run", "caller", "--input", "bad.txt")
    assert ran.code == 1, ran  # complete with errors: the document failed in the child
    assert ": complete with errors: 1 in, 0 out, 1 failed" in ran.stdout
