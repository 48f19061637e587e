"""postroom components delete and secrets delete share the API's use cases: refused (exit 2)
while another component uses what they would delete, naming the users."""

from __future__ import annotations

FILES = """\
type: connection
connector: mail
name: Clinic
id: clinic
settings: {host: localhost, port: 2525, use_tls: true, user_password_auth: true, user_name: a@example.com,
           password: "${secret:clinic-pw}"}
---
type: operation
connector: mail
name: Send
id: send
settings: {action: send, from: a@example.com, to: b@example.com, subject: Hi}
---
type: process
name: Hello
id: hello
start: start
shapes:
  start: {type: start, mode: data_passthrough, next: send}
  send: {type: connector, connection: clinic, operation: send}
"""


def test_delete_refused_while_used(cli, workdir) -> None:
    (workdir / "all.yaml").write_text(FILES)
    assert cli("import", "all.yaml").code == 0
    assert cli("secrets", "set", "clinic-pw", input="s3cret\n").code == 0
    refused = cli("components", "delete", "clinic")
    assert refused.code == 2 and "used by hello" in refused.stderr
    secret = cli("secrets", "delete", "clinic-pw")
    assert secret.code == 2 and "used by clinic" in secret.stderr
    assert cli("components", "delete", "hello").code == 0
    assert cli("components", "delete", "clinic").code == 0
    assert cli("secrets", "delete", "clinic-pw").code == 0
    gone = cli("components", "delete", "clinic")
    assert gone.code == 2 and "no component with id 'clinic'" in gone.stderr
