"""Environments, versions and deployments through the CLI (issue 11, item 4), against two real
devmail servers: the environment's extensions send the letter to its own server, logged in as
its own user with its own secret, From set by its process property; ``run --version`` and
deployments pick the process version; bad input exits 2 naming what is wrong and the fix."""

from __future__ import annotations

import email
from email import policy

import pytest

from support.letterskit import devmail_connection

BASE = """\
type: operation
connector: mail
name: Send
id: send
settings: {{action: send, from: clinic@example.com, to: ann@example.com, subject: Hello}}
---
type: process_property
name: Letters
id: letters-props
properties:
  - {{name: sender, default: clinic@example.com}}
---
type: process
name: Letter
id: letter
shapes:
  start: {{type: start, next: text}}
  text: {{type: message, text: "{text}", next: from}}
  from: {{type: set_properties, properties: [{{property: mail.from_address, value: [{{process_property: letters-props/sender}}]}}], next: send}}
  send: {{type: connector, connection: dev, operation: send}}
"""

PRODUCTION = """\
type: environment
id: production
name: Production
extensions:
  connections:
    dev: {{port: {port}, user_name: records@clinic.example, password: "${{secret:prod-mail}}"}}
  operations:
    send: {{subject: From production}}
  process_properties: {{letters-props/sender: records@clinic.example}}
"""


def _base(devmail, text: str) -> str:  # noqa: ANN001
    """The devmail connection ``dev`` (its password the secret devmail-password), the operation,
    the process property and the process ``letter`` with ``text`` as its letter."""
    return devmail_connection(devmail.smtps_port, devmail.ca_file, connection_id="dev",
                              password="${secret:devmail-password}", max_sessions=None) + "---\n" + BASE.format(
        text=text)


@pytest.fixture
def devmail_options():
    return {"users": {"clinic@example.com": "pw-123"}}


@pytest.fixture
def prod(devmail_factory):
    return devmail_factory(users={"records@clinic.example": "prod-pw-456"})


def _setup(cli, workdir, devmail, prod, text: str = "Version one") -> None:  # noqa: ANN001
    (workdir / "base.yaml").write_text(_base(devmail, text),
                                       encoding="utf-8")
    (workdir / "prod.yaml").write_text(PRODUCTION.format(port=prod.smtps_port), encoding="utf-8")
    assert cli("secrets", "set", "devmail-password", input="pw-123\n").code == 0
    assert cli("secrets", "set", "prod-mail", input="prod-pw-456\n").code == 0
    imported = cli("import", "base.yaml", "prod.yaml")
    assert imported.code == 0, imported


def _letters(server) -> list[tuple[str, str | None, str, str, str]]:  # noqa: ANN001
    out = []
    for stored in server.messages():
        msg = email.message_from_bytes(stored.raw, policy=policy.default)
        out.append((stored.mail_from, stored.auth_user, str(msg["From"]), str(msg["Subject"]),
                    msg.get_content().strip()))
    return out


def test_an_environment_sends_to_its_server_as_its_user_with_its_properties(cli, workdir, devmail, prod):
    _setup(cli, workdir, devmail, prod)
    plain = cli("run", "letter", "--json")
    assert plain.code == 0, plain
    assert plain.json()["environment"] is None
    assert _letters(devmail) == [("clinic@example.com", "clinic@example.com", "clinic@example.com", "Hello",
                                  "Version one")]

    ran = cli("run", "letter", "--environment", "production", "--json")
    assert ran.code == 0, ran
    assert ran.json()["environment"] == "production"
    assert _letters(prod) == [("records@clinic.example", "records@clinic.example", "records@clinic.example",
                               "From production", "Version one")]
    assert len(devmail.messages()) == 1  # nothing more went to the development server

    # POSTROOM_ENVIRONMENT does the same; the execution records the environment
    by_env = cli("run", "letter", "--json", env={"POSTROOM_ENVIRONMENT": "production"})
    assert by_env.code == 0, by_env
    assert len(prod.messages()) == 2 and len(devmail.messages()) == 1
    shown = cli("executions", "show", by_env.json()["id"], "--json").json()
    assert shown["environment"] == "production"
    assert "environment production: its extensions apply" in " ".join(e["message"] for e in shown["log"])
    text = cli("executions", "show", by_env.json()["id"]).stdout
    assert "environment production" in text
    listed = cli("executions", "list", "--json").json()
    assert [e["environment"] for e in listed] == ["production", "production", None]
    # the secret never shows in what the run printed or recorded
    assert "prod-pw-456" not in ran.stdout + ran.stderr + cli("executions", "show", ran.json()["id"]).stdout
    exported = cli("export", "--out", "exported")
    assert exported.code == 0, exported
    assert "prod-pw-456" not in "".join(p.read_text() for p in (workdir / "exported").rglob("*.yaml"))


def test_an_unknown_environment_exits_2_listing_the_known_ones(cli, workdir, devmail, prod):
    (workdir / "first.yaml").write_text(_base(devmail, "x") + "---\n"
                                        + PRODUCTION.format(port=prod.smtps_port), encoding="utf-8")
    early = cli("import", "first.yaml")  # before the secrets are set: accepted, with a warning
    assert early.code == 0, early
    assert "extensions.connections.dev.password: the secret 'prod-mail' is not set; store it with: postroom " \
           "secrets set prod-mail" in early.stderr + early.stdout, early
    _setup(cli, workdir, devmail, prod)
    ran = cli("run", "letter", "--environment", "staging")
    assert ran.code == 2, ran
    assert "no environment 'staging'" in ran.stderr and "environments: production" in ran.stderr
    assert "Traceback" not in ran.stderr
    assert cli("executions", "list", "--json").json() == []
    assert devmail.messages() == [] and prod.messages() == []


def test_an_override_that_breaks_the_connection_names_the_environment(cli, workdir, devmail, prod):
    _setup(cli, workdir, devmail, prod)
    (workdir / "bad.yaml").write_text(
        "type: environment\nid: broken\nname: Broken\nextensions:\n  connections:\n"
        "    dev: {port: \"${env:PR_PORT}\"}\n", encoding="utf-8")
    assert cli("import", "bad.yaml").code == 0
    ran = cli("run", "letter", "--environment", "broken", env={"PR_PORT": "not-a-port"})
    assert ran.code == 2, ran
    assert "environment 'broken' sets connection 'dev' setting 'port'" in ran.stderr, ran
    assert "extensions.connections.dev.port" in ran.stderr
    assert devmail.messages() == [] and prod.messages() == []


def test_a_literal_secret_in_an_environment_is_stored_encrypted(cli, workdir, devmail, prod):
    _setup(cli, workdir, devmail, prod)
    (workdir / "lit.yaml").write_text(
        "type: environment\nid: literal\nname: Literal\nextensions:\n  connections:\n"
        f"    dev: {{port: {prod.smtps_port}, user_name: records@clinic.example, password: prod-pw-456}}\n",
        encoding="utf-8")
    assert cli("import", "lit.yaml").code == 0
    shown = cli("components", "show", "literal")
    assert "prod-pw-456" not in shown.stdout and "${secret:literal.dev.password}" in shown.stdout, shown
    ran = cli("run", "letter", "--environment", "literal")
    assert ran.code == 0, ran
    assert [m.auth_user for m in prod.messages()] == ["records@clinic.example"]


def test_run_version_deploy_and_rollback(cli, workdir, devmail, prod):
    _setup(cli, workdir, devmail, prod, text="Version one")
    (workdir / "base.yaml").write_text(_base(devmail, "Version two"),
                                       encoding="utf-8")
    assert cli("import", "base.yaml").code == 0
    assert cli("run", "letter", "--version", "1").code == 0
    assert cli("run", "letter").code == 0
    assert [letter[4] for letter in _letters(devmail)] == ["Version one", "Version two"]
    missing = cli("run", "letter", "--version", "7")
    assert missing.code == 2 and "has no version 7" in missing.stderr and "versions: 1, 2" in missing.stderr

    assert cli("deployments", "list").stdout.startswith("no deployments yet")
    deployed = cli("deploy", "letter", "--environment", "production", "--version", "1", "--json")
    assert deployed.code == 0, deployed
    assert deployed.json()["process_version"] == 1
    ran = cli("run", "letter", "--environment", "production", "--json")
    assert ran.code == 0 and ran.json()["process_version"] == 1, ran
    assert cli("deploy", "letter", "--environment", "production").code == 0  # the latest: 2
    ran = cli("run", "letter", "--environment", "production", "--json")
    assert ran.json()["process_version"] == 2
    # --version wins over the deployment
    assert cli("run", "letter", "--environment", "production", "--version", "1", "--json").json()[
        "process_version"] == 1
    listed = cli("deployments", "list", "--json").json()
    assert [(d["environment"], d["process_id"], d["process_version"], d["action"]) for d in listed] == [
        ("production", "letter", 2, "deploy")]

    rolled = cli("deployments", "rollback", "letter", "--environment", "production")
    assert rolled.code == 0 and "to version 1" in rolled.stdout, rolled
    assert cli("run", "letter", "--environment", "production", "--json").json()["process_version"] == 1
    assert [letter[4] for letter in _letters(prod)] == ["Version one", "Version two", "Version one",
                                                         "Version one"]
    again = cli("deployments", "rollback", "letter", "--environment", "production")
    assert again.code == 2 and "nothing earlier to roll back to" in again.stderr, again
    history = cli("deployments", "list", "--history", "--json").json()
    assert [(d["process_version"], d["action"]) for d in history] == [(1, "rollback"), (2, "deploy"), (1, "deploy")]

    unknown_env = cli("deploy", "letter", "--environment", "staging")
    assert unknown_env.code == 2 and "environments: production" in unknown_env.stderr
    unknown_version = cli("deploy", "letter", "--environment", "production", "--version", "9")
    assert unknown_version.code == 2 and "versions: 1, 2" in unknown_version.stderr
    not_process = cli("deploy", "send", "--environment", "production")
    assert not_process.code == 2 and "not a process" in not_process.stderr


def test_import_refuses_an_environment_that_names_what_does_not_exist(cli, workdir, devmail, prod):
    _setup(cli, workdir, devmail, prod)
    (workdir / "bad.yaml").write_text(
        "type: environment\n"          # line 1
        "id: staging\n"
        "name: Staging\n"
        "extensions:\n"
        "  connections:\n"             # line 5
        "    dev: {hostname: mail.staging.example}\n"
        "    gone: {port: 25}\n"
        "  operations:\n"
        "    send: {subject: 42, sender: x@example.com}\n", encoding="utf-8")
    refused = cli("import", "bad.yaml")
    assert refused.code == 2, refused
    err = refused.stderr
    assert "bad.yaml:6: field extensions.connections.dev.hostname: mail connections have no setting 'hostname' " \
           "(remove it or use one of: host, port," in err, err
    assert "bad.yaml:7: field extensions.connections.gone: connection 'gone' named under extensions.connections " \
           "does not exist" in err
    assert "field extensions.operations.send.sender: mail operations have no setting 'sender'" in err
    assert "Traceback" not in err
    assert cli("components", "show", "staging").code == 2  # nothing was imported

    (workdir / "port.yaml").write_text(
        "type: environment\nid: staging\nname: Staging\nextensions:\n  connections:\n"
        "    dev: {port: many}\n", encoding="utf-8")
    refused = cli("import", "port.yaml")
    assert refused.code == 2, refused
    assert "port.yaml:6: field extensions.connections.dev.port: with this environment, connection 'dev': " \
           in refused.stderr, refused

    # a connection an environment extends cannot be deleted from under it
    deleted = cli("components", "delete", "dev")
    assert deleted.code == 2 and "used by" in deleted.stderr and "production" in deleted.stderr, deleted


def test_connections_test_with_an_environment_logs_in_to_its_server(cli, workdir, devmail, prod):
    _setup(cli, workdir, devmail, prod)
    plain = cli("connections", "test", "dev", "--json")
    assert plain.code == 0, plain
    tested = cli("connections", "test", "dev", "--environment", "production", "--json")
    assert tested.code == 0, tested
    assert f":{prod.smtps_port}" in str(tested.json()["facts"]) and f":{devmail.smtps_port}" in str(plain.json()["facts"])
    # an environment that moves only the port: the development login is refused by the other server
    (workdir / "half.yaml").write_text(
        f"type: environment\nid: half\nname: Half\nextensions:\n  connections:\n    dev: {{port: {prod.smtps_port}}}\n",
        encoding="utf-8")
    assert cli("import", "half.yaml").code == 0
    refused = cli("connections", "test", "dev", env={"POSTROOM_ENVIRONMENT": "half"})
    assert refused.code == 3, refused
    assert "refused the user name or password" in refused.stderr and "pw-123" not in refused.stdout + refused.stderr
