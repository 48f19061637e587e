"""The distributed runtime end to end: real Redis, PostgreSQL, ``postroom worker`` processes
and devmail. A process run on a worker sends the same emails as the same process run
in-process (bytes aside from Date and Message-ID), and the record names the worker."""

from __future__ import annotations

import email
import email.policy
import re

from support.letterskit import devmail_connection, letters_yaml
from support.workerkit import cluster  # noqa: F401 - the fixture

_VARYING = re.compile(rb"^(Date|Message-ID): .*\r?\n", re.MULTILINE | re.IGNORECASE)


def _letters(messages) -> list[tuple[tuple[str, ...], bytes]]:  # noqa: ANN001
    """Each email as (recipients, bytes without Date and Message-ID), in a stable order."""
    return sorted((tuple(m.rcpt_tos), _VARYING.sub(b"", m.raw)) for m in messages)


def test_a_worker_sends_the_same_emails_as_an_in_process_run(cli, workdir, cluster, devmail, patients_csv):  # noqa: F811
    (workdir / "c.yaml").write_text(letters_yaml(devmail_connection(devmail.smtps_port, devmail.ca_file), "devmail"),
                                    encoding="utf-8")
    assert cli("import", "c.yaml", env=cluster.env).code == 0
    local = cli("run", "letters", "--input", str(patients_csv), "--json", env=cluster.env)
    # examples/data/patients.csv has a patient without a valid address: exit 1 (some documents failed)
    assert local.code == 1 and local.json()["documents_failed"] >= 1, local
    in_process = _letters(devmail.messages())
    assert len(in_process) == local.json()["documents_out"] > 20
    devmail.clear()

    worker = cluster.start_worker("--concurrency", "2")
    remote = cli("run", "letters", "--input", str(patients_csv), "--workers", "--json", env=cluster.env)
    assert remote.code == 1, (remote, worker.output()[-3000:])
    record = remote.json()
    assert record["status"] == "complete_with_errors" and record["node"] == "w1@test"
    for key in ("documents_in", "documents_out", "documents_failed", "connector_counts", "errors"):
        assert record[key] == local.json()[key], key
    on_worker = _letters(devmail.messages())
    assert on_worker == in_process
    ids = {email.message_from_bytes(m.raw, policy=email.policy.default)["Message-ID"] for m in devmail.messages()}
    assert len(ids) == len(on_worker)  # a Message-ID of its own per letter
    shown = cli("executions", "show", record["id"], "--json", env=cluster.env).json()
    assert shown["node"] == "w1@test" and shown["status"] == "complete_with_errors"
