"""Issue 7, item 20 (reading part): ``postroom connections test`` on a connection that reads
mail reports the POP3 or IMAP error (a refused password, a TLS mismatch), not an SMTP one.

Against a real Dovecot on its test ports (not 110/995/143/993, so nothing in the settings
says "reading" but the server itself): once, a wrong POP3 password was reported as
"refused the session: -1 Dovecot (Debian) ready", the SMTP test's confusion.
"""

from __future__ import annotations

import pytest

CONNECTION = """
type: connection
connector: mail
name: Clinic mailbox
id: mailbox
settings: {{host: "{host}", port: {port}, use_ssl: {use_ssl}, user_name: "{user}", password: "{password}",
            user_password_auth: true, inbound_protocol: {protocol}, trusted_ca_file: "{ca}", timeout_seconds: 5}}
"""


def _test(cli, mailbox, tmp_path, transport: str, **overrides):  # noqa: ANN001, ANN003, ANN202
    settings = {**mailbox.connection(transport), **overrides}
    path = tmp_path / "connection.yaml"
    path.write_text(CONNECTION.format(host=settings["host"], port=settings["port"],
                                      use_ssl=str(settings["use_ssl"]).lower(), user=settings["user_name"],
                                      password=settings["password"], protocol=settings["inbound_protocol"],
                                      ca=settings["trusted_ca_file"]))
    assert cli("import", str(path)).code == 0
    return cli("connections", "test", "mailbox")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("transport", ["pop3s", "imaps"])
def test_a_wrong_password_is_the_reading_protocols_error(cli, mailbox, tmp_path, transport):
    result = _test(cli, mailbox, tmp_path, transport, password="not-the-password")
    assert result.code == 3, result
    name = "POP3" if transport == "pop3s" else "IMAP"
    assert f"the {name} server 127.0.0.1:" in result.stderr
    assert "refused the user name or password" in result.stderr
    assert "SMTP" not in result.stderr and "refused the session" not in result.stderr
    assert "not-the-password" not in result.stderr + result.stdout


@pytest.mark.timeout(120)
def test_a_tls_mismatch_names_the_pop3_error(cli, mailbox, tmp_path):
    result = _test(cli, mailbox, tmp_path, "pop3", use_ssl=True)  # the plain POP3 port, TLS from the first byte
    assert result.code == 3, result
    assert "reading (" in result.stderr
    assert "does not speak TLS from the first byte (use_ssl); port" in result.stderr
    assert "expects STARTTLS or plain POP3" in result.stderr
    assert result.stderr.index("POP3") < result.stderr.index("SMTP")


@pytest.mark.timeout(120)
def test_a_good_pop3_connection_still_passes(cli, mailbox, tmp_path):
    result = _test(cli, mailbox, tmp_path, "pop3s")
    assert result.code == 0, result
    assert "logged in as" in result.stdout and "does not speak SMTP" in result.stdout


@pytest.mark.timeout(120)
def test_an_imap_server_read_as_pop3_says_which_protocol_to_set(cli, mailbox, tmp_path):
    result = _test(cli, mailbox, tmp_path, "imaps", inbound_protocol="pop3")
    assert result.code == 3, result
    assert "which is not a POP3 greeting; it looks like IMAP: set inbound_protocol: imap" in result.stderr
