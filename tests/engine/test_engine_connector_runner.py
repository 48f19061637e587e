"""The connector shape takes a connector's results as they come (issue 7, item 7): when the
server goes away mid-batch, the letters it accepted pass on to the next shape as successes
and only the rest fail. Also: a stop request ends the execution ``stopped`` after the
emails in flight, and documents out counts what the connector shapes delivered."""

from __future__ import annotations

from pathlib import Path

import pytest

from postroom.engine import StopFlag
from support.engine_helpers import run_yaml
from support.smtpkit import TinySmtp

PATIENTS = "id,name,email\\n" + "\\n".join(f"P{n},Name{n},p{n}@example.com" for n in range(1, 11))


def _process(port: int, folder: Path) -> str:
    return f"""
type: process
name: send then file
id: p
shapes:
  start: {{type: start, next: csv}}
  csv: {{type: message, text: "{PATIENTS}", next: split}}
  split: {{type: data_process, steps: [{{type: split, headers: retain}}], next: to}}
  to: {{type: set_properties, properties: [{{property: mail.to_address, value: [{{profile_element: email}}]}}, {{property: disk.file_name, value: [{{profile_element: id}}, .txt]}}], next: letter}}
  letter: {{type: message, text: "Dear {{1}},", parameters: [{{profile_element: name}}], next: send}}
  send: {{type: connector, connection: smtp, operation: send, next: write}}
  write: {{type: connector, connection: folder, operation: write}}
---
type: connection
connector: mail
name: smtp
id: smtp
settings: {{host: 127.0.0.1, port: {port}, use_ssl: false, use_tls: false, max_retries: 1, retry_delay_seconds: 0.01,
            timeout_seconds: 5, max_sessions: 1}}
---
type: operation
connector: mail
name: send
id: send
settings: {{action: send, from: clinic@example.com, subject: Hello}}
---
type: connection
connector: disk
name: folder
id: folder
settings: {{directory: "{folder}"}}
---
type: operation
connector: disk
name: write
id: write
settings: {{action: send, write_option: fail}}
"""


@pytest.fixture
def server():
    started: list[TinySmtp] = []

    def start(**options) -> TinySmtp:  # noqa: ANN003
        smtp = TinySmtp(**options).start()
        started.append(smtp)
        return smtp

    yield start
    for smtp in started:
        smtp.stop()


def test_letters_accepted_before_the_server_went_away_reach_the_next_shape(server, tmp_path):
    smtp = server(accept_limit=4)
    result, recorder, ctx = run_yaml(_process(smtp.port, tmp_path))
    accepted = sorted(r for m in smtp.messages for r in m.rcpt_tos)
    assert accepted == [f"p{n}@example.com" for n in range(1, 5)]
    # the four sent letters passed on and were filed; the other six failed with the error
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"P{n}.txt" for n in range(1, 5)]
    assert result.status == "complete_with_errors"
    assert (result.documents_out, result.documents_failed) == (4, 6)
    assert ctx.connector_counts == {"send": {"completed": 4, "failed": 6}, "write": {"completed": 4, "failed": 0}}
    failed = [(shape, message) for shape, _, message in recorder.errors]
    assert len(failed) == 6 and {shape for shape, _ in failed} == {"send"}
    assert all("127.0.0.1" in message for _, message in failed), failed


def test_every_document_fails_when_the_server_is_gone_from_the_start(server, tmp_path):
    smtp = server(accept_limit=0)
    result, recorder, ctx = run_yaml(_process(smtp.port, tmp_path))
    assert (result.documents_out, result.documents_failed) == (0, 10)
    assert list(tmp_path.iterdir()) == []
    assert result.exit_code == 3  # every document failed because the server could not be reached


def test_a_stop_request_ends_the_execution_stopped_after_the_emails_in_flight(server, tmp_path):
    flag = StopFlag()
    smtp = server()
    smtp.on_accept = lambda count: flag.request("SIGTERM received", 143) if count == 3 else None
    result, recorder, ctx = run_yaml(_process(smtp.port, tmp_path), stop=flag)
    assert result.status == "stopped" and result.exit_code == 143
    sent = smtp.count()
    assert 3 <= sent < 10  # the email in flight when the stop came may have gone too
    assert (result.documents_out, result.documents_failed) == (sent, 0)
    assert ctx.connector_counts["send"] == {"completed": sent, "failed": 0}
    assert any("execution stopped (SIGTERM received)" in message for _, message, _ in recorder.logs)
    assert ctx.sessions() == []  # closed


def test_documents_out_counts_a_document_once_across_connector_shapes(server, tmp_path):
    smtp = server()
    result, _, ctx = run_yaml(_process(smtp.port, tmp_path))
    assert result.status == "complete"
    # ten letters sent and filed: ten out, not twenty, and not the path ends
    assert result.documents_out == 10
    assert ctx.connector_counts == {"send": {"completed": 10, "failed": 0}, "write": {"completed": 10, "failed": 0}}
