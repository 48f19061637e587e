"""``${env:VAR}`` in checked settings such as host and port (issue 7, item 22): import
accepts them, the run checks the values they resolve to. docs/getting-started.md says so."""

import pytest

CONNECTION = """\
type: connection
connector: mail
name: Mail from the environment
id: env-mail
settings:
  host: ${env:PR_SMTP_HOST}
  port: ${env:PR_SMTP_PORT}
  use_ssl: true
  user_password_auth: true
  user_name: clinic@example.com
  password: ${secret:devmail-password}
  trusted_ca_file: ${env:PR_CA}
---
type: operation
connector: mail
name: Send
id: send
settings: {action: send, from: clinic@example.com, to: ann@example.com, subject: Hi}
---
type: process
name: P
id: p
shapes:
  start: {type: start, next: m}
  m: {type: message, text: hello, next: send}
  send: {type: connector, connection: env-mail, operation: send}
"""


@pytest.fixture
def devmail_options():
    return {"users": {"clinic@example.com": "pw-123"}}


def test_env_references_in_host_and_port_resolve_at_run_time(cli, workdir, devmail):
    (workdir / "c.yaml").write_text(CONNECTION, encoding="utf-8")
    assert cli("secrets", "set", "devmail-password", input="pw-123\n").code == 0
    imported = cli("import", "c.yaml")
    assert imported.code == 0, imported
    env = {"PR_SMTP_HOST": "localhost", "PR_SMTP_PORT": str(devmail.smtps_port), "PR_CA": str(devmail.ca_file)}
    ran = cli("run", "p", env=env)
    assert ran.code == 0, ran
    assert [list(m.rcpt_tos) for m in devmail.messages()] == [["ann@example.com"]]
    bad = cli("run", "p", env={**env, "PR_SMTP_PORT": "not-a-port"})
    assert bad.code == 2, bad
    assert "settings.port" in bad.stderr and "Traceback" not in bad.stderr
    unset = cli("run", "p", env={k: v for k, v in env.items() if k != "PR_SMTP_HOST"})
    assert unset.code == 2 and "PR_SMTP_HOST" in unset.stderr, unset
    assert len(devmail.messages()) == 1
