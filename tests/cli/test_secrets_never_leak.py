"""A secret's value never appears in output, exports, execution records or the database."""

import pytest

LITERAL = "Lit3ral-Secret-Value-x9"
STORED = "Wrong-Secret-Value-q7"


@pytest.fixture
def devmail_options():
    return {"users": {"clinic@example.com": LITERAL}}


def components(devmail, ca_file):
    return f"""\
type: connection
connector: mail
name: Clinic SMTPS
id: clinic-smtps
settings:
  host: 127.0.0.1
  port: {devmail.smtps_port}
  use_ssl: true
  use_tls: true
  user_password_auth: true
  user_name: clinic@example.com
  password: {LITERAL}
  trusted_ca_file: {ca_file}
---
type: connection
connector: mail
name: Clinic SMTPS with a stored secret
id: clinic-smtps-stored
settings:
  host: 127.0.0.1
  port: {devmail.smtps_port}
  use_ssl: true
  user_password_auth: true
  user_name: clinic@example.com
  password: ${{secret:clinic-password}}
  trusted_ca_file: {ca_file}
---
type: operation
connector: mail
name: Send
id: send
settings:
  action: send
  from: clinic@example.com
  to: ""
  subject: "Announcement: Dr. Smith is Retiring"
  disposition: inline
  attachment_content_type: text/plain
---
type: process
name: Announce (literal)
id: announce
shapes:
  start: {{type: start, next: letter}}
  letter: {{type: message, text: "Dear patient, Dr. Smith is retiring.", next: to}}
  to: {{type: set_properties, properties: [{{property: mail.to_address, value: [alice.walker@example.com]}}], next: send}}
  send: {{type: connector, connection: clinic-smtps, operation: send}}
---
type: process
name: Announce (stored secret)
id: announce-stored
shapes:
  start: {{type: start, next: letter}}
  letter: {{type: message, text: "Dear patient", next: to}}
  to: {{type: set_properties, properties: [{{property: mail.to_address, value: [bob.nguyen@example.org]}}], next: send}}
  send: {{type: connector, connection: clinic-smtps-stored, operation: send}}
"""


def test_secrets_appear_nowhere(cli, workdir, home, devmail):
    (workdir / "c.yaml").write_text(components(devmail, devmail.ca_file), encoding="utf-8")
    outputs = []

    def run(*args, **kw):
        result = cli(*args, **kw)
        outputs.append(result.stdout + result.stderr)
        return result

    assert run("secrets", "set", "clinic-password", input=STORED + "\n").code == 0
    assert run("import", "c.yaml").code == 0
    ok = run("run", "announce", "--test", "--json")
    assert ok.code == 0, ok
    assert len(devmail.messages()) == 1  # the literal password really logged in
    refused = run("run", "announce-stored", "--test", "--json")
    assert refused.code == 3, refused  # wrong password: could not log in
    for args in (("components", "show", "clinic-smtps"), ("components", "show", "clinic-smtps", "--json"),
                 ("components", "show", "clinic-smtps-stored", "--json"), ("components", "list", "--json"),
                 ("secrets", "list"), ("secrets", "list", "--json"), ("export", "--out", "exported"),
                 ("executions", "list", "--json"), ("connections", "test", "clinic-smtps-stored"),
                 ("connections", "test", "clinic-smtps", "--json")):
        run(*args)
    for execution in (ok.json()["id"], refused.json()["id"]):
        run("executions", "show", execution, "--documents", "--json")
        run("executions", "show", execution, "--documents")
    shown = run("components", "show", "clinic-smtps").stdout
    assert "${secret:clinic-smtps.password}" in shown  # the literal became a reference
    exported = "".join(p.read_text(encoding="utf-8") for p in (workdir / "exported").rglob("*.yaml"))
    assert "${secret:clinic-smtps.password}" in exported and "${secret:clinic-password}" in exported
    stored_bytes = b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())
    everything = "\n".join(outputs) + exported
    for secret in (LITERAL, STORED):
        assert secret not in everything
        assert secret.encode() not in stored_bytes
    assert "app password" in refused.stdout + refused.stderr or "password" in refused.stdout
