"""Reading mail: TLS, login and the errors a user sees, against a real Dovecot.

The rules are the sending side's: certificates verified by default, implicit TLS or
STARTTLS/STLS, no password in clear text, clear errors naming the setting to change,
never a password in an error or a log.
"""

from __future__ import annotations

import logging

import pytest

from postroom.connectors.mail import MailConnection, connector
from postroom.devmail.pytest_plugin import DEVMAIL_PASSWORD, DEVMAIL_USER
from postroom.errors import AuthenticationFailed, ConfigError, ConnectionFailed
from support.getkit import get_op, read, simple

TRANSPORTS = ["pop3", "pop3s", "imap", "imaps"]
WRONG = "Wr0ng-Secret-Pa55"


def _leaks(text: str, secret: str) -> bool:
    import base64

    return secret in text or base64.b64encode(secret.encode()).decode() in text


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_each_transport_logs_in_over_tls(mailbox, transport):
    report = connector.test(MailConnection.model_validate(mailbox.connection(transport)))
    facts = dict(report.facts)
    assert report.ok and f"logged in as {mailbox.user}" in report.message
    assert facts["TLS"].startswith("TLSv1.") and facts["TLS"].endswith(
        "(implicit)" if transport.endswith("s") else "(STLS)" if transport == "pop3" else "(STARTTLS)")
    assert facts["login"] == f"ok as {mailbox.user} (PLAIN)"
    assert mailbox.password not in repr(report)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_wrong_password_names_the_user_and_hides_the_password(mailbox, transport, caplog):
    connection = MailConnection.model_validate(mailbox.connection(transport, password=WRONG))
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthenticationFailed) as caught:
        read(connection)
    error = caught.value
    text = str(error)
    assert error.field == "password" and error.exit_code == 3 and error.retryable is False
    assert f"refused the user name or password for {mailbox.user}" in text
    assert "Authentication failed" in text  # what Dovecot said
    for blob in (text, repr(error), caplog.text, repr(connection)):
        assert not _leaks(blob, WRONG)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_untrusted_certificate_names_trusted_ca_file(mailbox, transport):
    with pytest.raises(ConnectionFailed) as caught:
        read(mailbox.connection(transport, trusted_ca_file=""))
    assert "is not trusted" in str(caught.value) and caught.value.field == "trusted_ca_file"
    assert caught.value.retryable is False


def test_verification_off_works_and_warns(mailbox, caplog):
    mailbox.deliver(simple(1))
    with caplog.at_level(logging.WARNING):
        documents, _, _ = read(mailbox.connection("imaps", trusted_ca_file="", verify_certificates=False))
    assert len(documents) == 1
    assert "certificate verification is off for IMAP" in caplog.text


@pytest.mark.parametrize("protocol", ["pop3", "imap"])
def test_use_ssl_on_a_plain_port(mailbox, protocol):
    port = getattr(mailbox.server, f"{protocol}_port")
    with pytest.raises(ConnectionFailed) as caught:
        read(mailbox.connection(f"{protocol}s", port=port))
    assert "does not speak TLS from the first byte (use_ssl)" in str(caught.value)
    assert caught.value.field == "use_ssl"


@pytest.mark.parametrize("protocol", ["pop3", "imap"])
def test_plain_client_on_an_implicit_tls_port(mailbox, protocol):
    port = getattr(mailbox.server, f"{protocol}s_port")
    with pytest.raises(ConnectionFailed) as caught:
        read(mailbox.connection(protocol, port=port, timeout_seconds=1))
    text = str(caught.value)
    assert "probably expects TLS from the first byte" in text and "set use_ssl: true" in text


def test_wrong_protocol_says_which_one_it_is(mailbox):
    with pytest.raises(ConnectionFailed) as caught:
        read(mailbox.connection("pop3s", port=mailbox.server.imaps_port))
    assert "it looks like IMAP: set inbound_protocol: imap" in str(caught.value)
    with pytest.raises(ConnectionFailed) as caught:
        read(mailbox.connection("imaps", port=mailbox.server.pop3s_port))
    assert "it looks like POP3: set inbound_protocol: pop3" in str(caught.value)


def test_connection_refused():
    from support.mailkit import free_port

    connection = MailConnection(host="127.0.0.1", port=free_port(), use_ssl=True, user_name="a@example.com",
                                password="x-secret", inbound_protocol="imap")
    with pytest.raises(ConnectionFailed) as caught:
        read(connection)
    assert "refused the connection (IMAP)" in str(caught.value) and caught.value.retryable is True


@pytest.mark.parametrize("transport", ["pop3", "imap"])
def test_no_password_in_clear_text_unless_allowed(mailbox, transport):
    plain = mailbox.connection(transport, use_tls=False, user_password_auth=False)
    with pytest.raises(ConfigError) as caught:
        read(plain)
    assert "refusing to send the password" in str(caught.value) and caught.value.field == "use_tls"
    assert mailbox.password not in str(caught.value)
    mailbox.deliver(simple(1))
    documents, _, _ = read({**plain, "allow_insecure_auth": True})  # Dovecot trusts 127.0.0.1
    assert len(documents) == 1


def test_one_connection_for_sending_and_reading(mailbox, devmail):
    """inbound_* settings next to the SMTP ones; each falls back to its outbound twin."""
    imap = mailbox.connection("imaps")
    both = MailConnection(
        host=devmail.client_host, port=devmail.smtps_port, use_ssl=True, user_password_auth=True,
        user_name=DEVMAIL_USER, password=DEVMAIL_PASSWORD, trusted_ca_file=str(devmail.ca_file),
        inbound_host=imap["host"], inbound_port=imap["port"], inbound_protocol="imap",
        inbound_user_name=mailbox.user, inbound_password=mailbox.password, timeout_seconds=10)
    # devmail and Dovecot have different CAs: trust both
    bundle = mailbox.server.folder.parent / f"bundle-{mailbox.user}.pem"
    bundle.write_bytes(devmail.ca_file.read_bytes() + mailbox.ca_file.read_bytes())
    both = both.model_copy(update={"trusted_ca_file": str(bundle)})
    try:
        report = connector.test(both)
        facts = dict(report.facts)
        assert report.ok
        assert facts["outbound login"].startswith(f"ok as {DEVMAIL_USER}")
        assert facts["inbound login"] == f"ok as {mailbox.user} (PLAIN)"
        assert "sending (SMTP" in report.message and "reading (IMAP" in report.message

        wrong = both.model_copy(update={"inbound_password": WRONG})
        with pytest.raises(AuthenticationFailed) as caught:
            connector.test(wrong)
        text = str(caught.value)
        assert "reading (IMAP" in text and "failed: " in text and "sending (SMTP" in text and "works" in text
        assert caught.value.field == "inbound_password"
        assert not _leaks(text, WRONG) and not _leaks(text, DEVMAIL_PASSWORD)

        mailbox.deliver(simple(7))
        session = connector.open(both, get_op(), __import__("postroom.sdk.testing").sdk.testing.MemoryContext())
        try:
            assert [d.properties["mail.message_id"] for d in session.fetch()] == ["<msg-7@example.org>"]
        finally:
            session.close()
    finally:
        bundle.unlink()


def test_connections_test_cli_checks_a_reading_connection(mailbox, cli, workdir):
    settings = mailbox.connection("pop3s")
    (workdir / "c.yaml").write_text(f"""type: connection
connector: mail
name: Clinic POP3
id: clinic-pop3
settings:
  host: "{settings['host']}"
  port: {settings['port']}
  use_ssl: true
  user_name: "{mailbox.user}"
  password: "{mailbox.password}"
  trusted_ca_file: "{settings['trusted_ca_file']}"
  inbound_protocol: pop3
""")
    assert cli("import", "c.yaml").code == 0
    result = cli("connections", "test", "clinic-pop3", "--json")
    assert result.code == 0, result
    payload = result.json()
    assert payload["ok"] and payload["facts"]["server"] == f"POP3 127.0.0.1:{settings['port']}"
    assert mailbox.password not in result.stdout + result.stderr


# -- XOAUTH2 (Dovecot's oauth2 passdb, tokens checked by a local introspection endpoint) -------


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_xoauth2_with_an_access_token(mailbox, transport, caplog):
    tokens = mailbox.server.tokens
    token = tokens.issue(mailbox.user)
    mailbox.deliver(simple(1))
    settings = mailbox.connection(transport, password="", auth_mechanism="xoauth2", access_token=token)
    report = connector.test(MailConnection.model_validate(settings))
    assert dict(report.facts)["login"] == f"ok as {mailbox.user} (XOAUTH2)"
    documents, _, _ = read(settings)
    assert [d.properties["mail.message_id"] for d in documents] == ["<msg-1@example.org>"]

    tokens.revoke(token)
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthenticationFailed) as caught:
        read(settings)
    text = str(caught.value)
    assert f"refused the OAuth 2.0 token for {mailbox.user}" in text
    assert not _leaks(text + repr(caught.value) + caplog.text, token)


@pytest.mark.parametrize("transport", ["pop3s", "imaps"])
def test_xoauth2_refreshes_a_refused_token_once(mailbox, transport):
    tokens = mailbox.server.tokens
    tokens.queue("expired-" + mailbox.user)  # the first token the endpoint hands out is no good
    tokens.queue(tokens.issue(mailbox.user))
    before = len([r for r in tokens.requests if r[0].startswith("/token")])
    settings = mailbox.connection(transport, password="", auth_mechanism="xoauth2", refresh_token="refresh-1",
                                  client_id="postroom-test", token_url=tokens.token_url)
    mailbox.deliver(simple(1))
    documents, _, _ = read(settings)
    assert len(documents) == 1
    grants = [form for path, form in tokens.requests if path.startswith("/token")][before:]
    assert [g["grant_type"] for g in grants] == [["refresh_token"], ["refresh_token"]]
