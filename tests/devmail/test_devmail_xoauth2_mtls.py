"""devmail's XOAUTH2 (bearer tokens checked at an introspection endpoint) and its client
certificate requirement (``client_ca_file``), driven by smtplib over real sockets, and the
CLI's options for both."""

from __future__ import annotations

import base64
import smtplib
import ssl

import pytest

from support.clientcerts import Authority
from support.devmail_helpers import ca_context, no_leaked_threads  # noqa: F401 - no_leaked_threads is autouse
from support.dovecotkit import TokenIntrospection

MESSAGE = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: token\r\n\r\nhello\r\n"


@pytest.fixture
def introspection():
    endpoint = TokenIntrospection()
    yield endpoint
    endpoint.stop()


def _xoauth2(user: str, token: str) -> str:
    return base64.b64encode(f"user={user}\x01auth=Bearer {token}\x01\x01".encode()).decode()


def test_xoauth2_takes_an_active_token_of_that_user(devmail_factory, introspection):
    dm = devmail_factory(users={}, oauth2_introspection_url=introspection.introspection_url)
    token = introspection.issue("frontdesk@contoso.com")
    with smtplib.SMTP("127.0.0.1", dm.smtp_port, timeout=10) as client:
        client.starttls(context=ca_context(dm))
        client.ehlo()
        assert client.esmtp_features["auth"].split() == ["XOAUTH2"]  # no users: no PLAIN or LOGIN
        with pytest.raises(smtplib.SMTPSenderRefused):  # AUTH first, as Exchange requires
            client.sendmail("frontdesk@contoso.com", ["b@example.com"], MESSAGE)
        code, _ = client.docmd("AUTH", "XOAUTH2 " + _xoauth2("frontdesk@contoso.com", token))
        assert code == 235
        client.sendmail("frontdesk@contoso.com", ["b@example.com"], MESSAGE)
    [message] = dm.wait_for(1, timeout=5)
    assert message.auth_user == "frontdesk@contoso.com"


@pytest.mark.parametrize("case", ["revoked", "other-user", "malformed"])
def test_xoauth2_refuses_a_bad_token_like_exchange(devmail_factory, introspection, case):
    dm = devmail_factory(users={}, oauth2_introspection_url=introspection.introspection_url)
    token = introspection.issue("someone@contoso.com")
    blob = {"revoked": _xoauth2("someone@contoso.com", "tok-revoked"),
            "other-user": _xoauth2("frontdesk@contoso.com", token),
            "malformed": base64.b64encode(b"user=x").decode()}[case]
    with smtplib.SMTP("127.0.0.1", dm.smtp_port, timeout=10) as client:
        client.starttls(context=ca_context(dm))
        client.ehlo()
        code, reply = client.docmd("AUTH", "XOAUTH2 " + blob)
        if case == "malformed":
            assert code == 501
            return
        assert code == 334 and b'"status": "401"' in base64.b64decode(reply)  # the JSON error challenge
        code, _ = client.docmd("")
        assert code == 535


def test_without_an_introspection_url_xoauth2_is_not_offered(devmail_factory):
    dm = devmail_factory()
    with smtplib.SMTP("127.0.0.1", dm.smtp_port, timeout=10) as client:
        client.starttls(context=ca_context(dm))
        client.ehlo()
        assert "XOAUTH2" not in client.esmtp_features["auth"].split()


def test_a_client_certificate_is_required_for_auth_and_mail(devmail_factory, tmp_path):
    authority = Authority()
    dm = devmail_factory(client_ca_file=authority.write(tmp_path))
    with smtplib.SMTP("127.0.0.1", dm.smtp_port, timeout=10) as client:
        client.starttls(context=ca_context(dm))
        client.ehlo()
        code, reply = client.docmd("AUTH", "PLAIN " + base64.b64encode(b"\0clinic@example.com\0app-password-123")
                                   .decode())
        assert code == 530 and b"Client didn't present a valid SSL certificate" in reply
    context = ca_context(dm)
    cert, key = authority.client("clinic").write(tmp_path, "clinic")
    context.load_cert_chain(cert, key)
    with smtplib.SMTP("127.0.0.1", dm.smtp_port, timeout=10) as client:
        client.starttls(context=context)
        client.login("clinic@example.com", "app-password-123")
        client.sendmail("clinic@example.com", ["b@example.com"], MESSAGE)
    assert dm.wait_for(1, timeout=5)[0].tls
    other = ca_context(dm)
    other.load_cert_chain(*Authority("other").client("clinic").write(tmp_path, "other"))
    with pytest.raises((ssl.SSLError, smtplib.SMTPServerDisconnected, ConnectionError)):  # noqa: PT012
        with smtplib.SMTP("127.0.0.1", dm.smtp_port, timeout=10) as client:
            client.starttls(context=other)
            client.ehlo()


def test_the_cli_refuses_a_missing_client_ca_file(cli, workdir):
    result = cli("devmail", "--client-ca", "nope.pem", "--web-port", "0")
    assert result.code == 2 and "--client-ca nope.pem: no such file" in result.stderr + result.stdout
