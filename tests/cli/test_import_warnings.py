"""Import warnings for what is accepted but probably not meant (issue 7, item 21): a Boomi
property name, an unknown mail property, a quote that swallows placeholders; and no nagging
about the secret of a connection no process uses."""

import shutil

from support.testsupport import ROOT

MAIL_CONNECTION = """\
type: connection
connector: mail
name: Mail
id: {id}
settings:
  host: smtp.example.com
  port: 465
  use_ssl: true
  user_password_auth: true
  user_name: me@example.com
  password: ${{secret:{secret}}}
"""

SEND = """\
type: operation
connector: mail
name: Send
id: send
settings: {action: send, from: clinic@example.com, subject: Hi}
"""


def write(folder, name, text):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def warnings_of(result):
    return [line for line in result.stderr.splitlines() if line.startswith("warning: ")]


def test_dr_smith_import_does_not_nag_about_the_unused_gmail_secret(cli, workdir):
    """The report: every import of examples/dr-smith warned about gmail-app-password,
    although its processes send through devmail only."""
    shutil.copytree(ROOT / "examples" / "dr-smith", workdir / "dr-smith")
    cli("secrets", "set", "devmail-password", input="app-password-123\n")
    result = cli("import", "dr-smith")
    assert result.code == 0, result
    assert "gmail-app-password" not in result.stderr, result.stderr
    assert warnings_of(result) == [], result.stderr


def test_unset_secret_is_named_once_a_process_uses_the_connection(cli, workdir):
    write(workdir, "conns.yaml", MAIL_CONNECTION.format(id="used", secret="used-password") + "---\n"
          + MAIL_CONNECTION.format(id="unused", secret="unused-password"))
    write(workdir, "send.yaml", SEND)
    first = cli("import", "conns.yaml", "send.yaml")
    assert first.code == 0, first
    assert warnings_of(first) == [], first.stderr  # no process uses either connection yet
    write(workdir, "p.yaml", "type: process\nname: P\nid: p\nshapes:\n  start: {type: start, next: s}\n"
          "  s: {type: connector, connection: used, operation: send}\n")
    second = cli("import", "p.yaml")  # the process arrives later: now the missing secret matters
    assert second.code == 0, second
    assert "the secret 'used-password' is not set, and process p uses connection used" in second.stderr, second.stderr
    assert "postroom secrets set used-password" in second.stderr
    assert "unused-password" not in second.stderr


def process_with(shapes: str) -> str:
    return "type: process\nname: P\nid: p\nshapes:\n  start: {type: start, next: a}\n" + shapes


def test_boomi_property_name_draws_a_warning_naming_postrooms(cli, workdir):
    write(workdir, "p.yaml", process_with(
        "  a:\n    type: set_properties\n    properties:\n"
        "      - {property: connector.mail.toAddress, value: [ann@example.com]}\n"
        "      - {property: connector.disk.filename, value: [a.txt]}\n"
        "    next: b\n"
        "  b: {type: notify, message: 'to {1}', parameters: [{document_property: connector.mail.subject}]}\n"))
    result = cli("import", "p.yaml")
    assert result.code == 0, result
    lines = warnings_of(result)
    assert any("p.yaml:9: shape a: properties.0.property: 'connector.mail.toAddress' is not a Postroom property "
               "name; Postroom's is mail.to_address" in w for w in lines), result.stderr
    assert any("'connector.disk.filename'" in w and "disk.file_name" in w for w in lines), result.stderr
    assert any("shape b: parameters.0" in w and "mail.subject" in w for w in lines), result.stderr


def test_unknown_mail_property_lists_the_known_ones(cli, workdir):
    from postroom.connectors import get_connector

    write(workdir, "p.yaml", process_with(
        "  a:\n    type: set_properties\n    properties:\n      - {property: mail.recipient, value: [x@example.com]}\n"
        "      - {property: mail.headers.X-Clinic, value: [yes]}\n      - {property: dynamic.ok, value: [1]}\n"))
    result = cli("import", "p.yaml")
    assert result.code == 0, result
    lines = warnings_of(result)
    assert len(lines) == 1, result.stderr
    assert "'mail.recipient' is not a mail property" in lines[0]
    for prop in get_connector("mail").document_properties:  # the list comes from the connector
        assert prop.name in lines[0]


def test_quote_swallowing_a_placeholder_is_named(cli, workdir):
    """The report: `it's ... {2}` printed {2} literally, with no warning at import."""
    write(workdir, "p.yaml", process_with(
        "  a:\n    type: message\n    text: \"Dear {1}, it's time for your {2} visit\"\n"
        "    parameters: [Ann, check-up]\n    next: b\n"
        "  b: {type: notify, message: \"patient's {1}\", parameters: [x], next: c}\n"
        "  c: {type: exception, message: \"it''s {1} and '{\\\"a\\\": 1}'\", parameters: [x]}\n"))
    result = cli("import", "p.yaml")
    assert result.code == 0, result
    lines = warnings_of(result)
    assert len(lines) == 2, result.stderr
    assert ("p.yaml:8: shape a: text: the quote in it's starts a quoted run, so {2} is printed as it is, "
            "not replaced; write it''s") in lines[0]
    assert "shape b: message: the quote in patient's" in lines[1] and "{1}" in lines[1]
    ran = cli("run", "p", "--json")
    assert ran.code == 1  # the exception shape; the message shape shows what the warning meant
