"""Client certificates (mutual TLS) on every mail transport, against real servers: a Dovecot
that requires a client certificate for every login (``ssl_verify_client_cert`` with
``auth_ssl_require_client_cert``) and a devmail whose SMTP ports require one in the TLS
handshake. Each transport works with the certificate (key from ``${secret:...}``-style PEM
text or a file) and fails clearly, at ``tls_client_certificate``, without it or with a
certificate another CA signed; the key never shows."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from postroom.connectors.mail import MailConnection, connector
from postroom.errors import ConnectionFailed
from postroom.sdk import Document
from support.clientcerts import Authority, Issued
from support.dovecotkit import DOVECOT, DovecotServer
from support.getkit import read, simple
from support.sendkit import run, send_op
from support.testsupport import require_binary

TRANSPORTS = {"pop3": ("pop3", "pop3_port", False, True), "pop3s": ("pop3", "pop3s_port", True, False),
              "imap": ("imap", "imap_port", False, True), "imaps": ("imap", "imaps_port", True, False)}


@pytest.fixture(scope="module")
def authority() -> Authority:
    return Authority()


@pytest.fixture(scope="module")
def client(authority: Authority) -> Issued:
    return authority.client("postroom.clinic.example")


@pytest.fixture(scope="module")
def stranger() -> Issued:
    return Authority("Someone else's CA").client("postroom.clinic.example")


@pytest.fixture(scope="module")
def mtls_dovecot(authority: Authority, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DovecotServer]:
    binary = require_binary("dovecot", DOVECOT)
    folder = tmp_path_factory.mktemp("client-ca")
    folder.chmod(0o755)  # Dovecot's processes read it as other users
    ca_file = authority.write(folder)
    server = DovecotServer(users={"clinic@example.com": "clinic-Pass-1"}, binary=binary, spare_users=20,
                           oauth2=False, client_ca_file=ca_file)
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


def _reading(server: DovecotServer, transport: str, **overrides: object) -> dict[str, object]:
    protocol, port_attr, use_ssl, use_tls = TRANSPORTS[transport]
    user, password = server.take_user()
    server.deliver(user, simple(1))
    values: dict[str, object] = {"host": server.host, "port": getattr(server, port_attr), "use_ssl": use_ssl,
                                 "use_tls": use_tls, "user_password_auth": True, "user_name": user,
                                 "password": password, "inbound_protocol": protocol,
                                 "trusted_ca_file": str(server.ca_file), "timeout_seconds": 10}
    values.update(overrides)
    return values


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_reading_with_a_client_certificate(mtls_dovecot, client, transport):
    settings = _reading(mtls_dovecot, transport, tls_client_certificate=client.cert_pem,
                        tls_client_key=client.key_pem)
    documents, _, _ = read(settings)
    assert [d.properties["mail.message_id"] for d in documents] == ["<msg-1@example.org>"]
    report = connector.test(MailConnection.model_validate(settings))
    assert report.ok and dict(report.facts)["login"].startswith("ok as ")
    assert dict(report.facts)["client certificate"].startswith("CN=postroom.clinic.example (valid until ")


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_reading_without_a_client_certificate_names_the_setting(mtls_dovecot, transport, caplog):
    settings = _reading(mtls_dovecot, transport)
    with caplog.at_level(logging.DEBUG), pytest.raises(ConnectionFailed) as caught:
        read(settings)
    error = caught.value
    assert error.field == "tls_client_certificate", str(error)
    assert "requires a client certificate" in str(error) and "set tls_client_certificate" in str(error)
    assert str(settings["password"]) not in str(error) + caplog.text


@pytest.mark.parametrize("transport", ["pop3s", "imap"])
def test_reading_with_a_certificate_of_another_ca_is_refused(mtls_dovecot, stranger, transport, caplog):
    settings = _reading(mtls_dovecot, transport, tls_client_certificate=stranger.cert_pem,
                        tls_client_key=stranger.key_pem)
    with caplog.at_level(logging.DEBUG), pytest.raises(ConnectionFailed) as caught:
        read(settings)
    assert caught.value.field == "tls_client_certificate", str(caught.value)
    assert "refused the client certificate" in str(caught.value)
    assert "PRIVATE KEY" not in str(caught.value) + repr(caught.value) + caplog.text


# -- sending: devmail's SMTP requires the client certificate in the handshake ---------------------

@pytest.fixture(scope="module")
def client_ca_file(authority: Authority, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return authority.write(tmp_path_factory.mktemp("devmail-client-ca"))


@pytest.fixture
def mtls_devmail(devmail_factory, client_ca_file):
    return devmail_factory(smtps_port=0, client_ca_file=client_ca_file)


def _sending(dm, port: int, use_ssl: bool, **overrides: object) -> dict[str, object]:
    values: dict[str, object] = {"host": "localhost", "port": port, "use_ssl": use_ssl, "use_tls": not use_ssl,
                                 "user_password_auth": True, "user_name": "clinic@example.com",
                                 "password": "app-password-123", "trusted_ca_file": str(dm.ca_file),
                                 "timeout_seconds": 10, "max_retries": 0}
    values.update(overrides)
    return values


@pytest.mark.parametrize("implicit", [False, True], ids=["starttls", "smtps"])
def test_sending_with_a_client_certificate_from_files(mtls_devmail, client, tmp_path, implicit):
    cert_file, key_file = client.write(tmp_path, "client")
    port = mtls_devmail.smtps_port if implicit else mtls_devmail.smtp_port
    settings = _sending(mtls_devmail, port, implicit, tls_client_certificate=str(cert_file),
                        tls_client_key=str(key_file))
    run(MailConnection.model_validate(settings), send_op(to="patient@example.org", subject="with a client certificate"),
        [Document(b"Dear patient", {})])
    [message] = mtls_devmail.wait_for(1, timeout=10)
    assert message.parse()["Subject"] == "with a client certificate" and message.tls
    report = connector.test(MailConnection.model_validate(settings))
    assert report.ok


@pytest.mark.parametrize("implicit", [False, True], ids=["starttls", "smtps"])
def test_sending_without_a_client_certificate_names_the_setting(mtls_devmail, implicit):
    port = mtls_devmail.smtps_port if implicit else mtls_devmail.smtp_port
    with pytest.raises(ConnectionFailed) as caught:
        connector.test(MailConnection.model_validate(_sending(mtls_devmail, port, implicit)))
    assert caught.value.field == "tls_client_certificate", str(caught.value)
    assert "requires a client certificate" in str(caught.value)
    assert mtls_devmail.messages() == []


@pytest.mark.parametrize("transport", ["pop3", "pop3s"])
def test_devmail_pop3_requires_the_client_certificate_too(mtls_devmail_pop3, client, transport):
    dm = mtls_devmail_pop3
    implicit = transport == "pop3s"
    settings = {"host": "localhost", "port": dm.pop3s_port if implicit else dm.pop3_port, "use_ssl": implicit,
                "use_tls": not implicit, "inbound_protocol": "pop3", "user_password_auth": True,
                "user_name": "clinic@example.com", "password": "app-password-123",
                "trusted_ca_file": str(dm.ca_file), "timeout_seconds": 10}
    with pytest.raises(ConnectionFailed) as caught:
        connector.test(MailConnection.model_validate(settings))
    assert caught.value.field == "tls_client_certificate" and "requires a client certificate" in str(caught.value)
    report = connector.test(MailConnection.model_validate(
        settings | {"tls_client_certificate": client.cert_pem, "tls_client_key": client.key_pem}))
    assert report.ok and dict(report.facts)["login"].startswith("ok as clinic@example.com")


@pytest.fixture
def mtls_devmail_pop3(devmail_factory, client_ca_file):
    return devmail_factory(pop3s_port=0, smtp_port=None, client_ca_file=client_ca_file)
