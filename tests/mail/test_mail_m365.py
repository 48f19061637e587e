"""Microsoft 365 / Exchange Online: OAuth 2.0 client credentials for XOAUTH2 on IMAP, POP3
and SMTP. The token endpoint is the one stand-in (tests/support/entrakit.py: it speaks the
grant, verifies the client secret or the client assertion's RS256 signature with the
registered certificate, and answers refusals in Entra's words); the mail servers are real:
Dovecot's oauth2 passdb and devmail's SMTP check each bearer token at the introspection
endpoint the token server registers its tokens with."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest

from postroom.connectors.mail import MailConnection, connector
from postroom.connectors.mail._oauth import TokenSource
from postroom.errors import AuthenticationFailed
from postroom.sdk import Document
from support.clientcerts import self_signed_rsa
from support.entrakit import App, EntraTokenServer
from support.getkit import read, simple
from support.sendkit import run, send_op

TENANT = "contoso.onmicrosoft.com"
SECRET = "Zq8~Wf3-client-secret-VALUE-x1"


@pytest.fixture(scope="module")
def app_cert():
    return self_signed_rsa("postroom-exchange-app")


@pytest.fixture
def entra(dovecot) -> Iterator[EntraTokenServer]:
    server = EntraTokenServer(dovecot.tokens)
    yield server
    server.stop()


def _m365(mailbox, entra: EntraTokenServer, transport: str = "imaps", **overrides: object) -> dict[str, object]:
    """The connection a Microsoft 365 customer writes, pointed at the test servers."""
    values = mailbox.connection(transport, password="", auth_mechanism="xoauth2",
                                oauth2_grant_type="client_credentials", tenant=TENANT,
                                token_url=entra.token_url(TENANT))
    values.update(overrides)
    return values


def _secret_app(entra: EntraTokenServer, mailbox) -> App:
    return entra.register(TENANT, App(client_id=str(uuid.uuid4()), mailbox=mailbox.user, secret=SECRET))


def _leaks(text: str, *secrets: str) -> bool:
    return any(s in text for s in secrets)


@pytest.mark.parametrize("transport", ["pop3", "pop3s", "imap", "imaps"])
def test_a_client_secret_reads_the_mailbox_over_each_transport(mailbox, entra, transport, caplog):
    app = _secret_app(entra, mailbox)
    mailbox.deliver(simple(1))
    settings = _m365(mailbox, entra, transport, client_id=app.client_id, client_secret=SECRET)
    with caplog.at_level(logging.DEBUG):
        report = connector.test(MailConnection.model_validate(settings))
        documents, _, _ = read(settings)
    assert dict(report.facts)["login"] == f"ok as {mailbox.user} (XOAUTH2)"
    assert dict(report.facts)["OAuth 2.0"].endswith(f"at {entra.token_url(TENANT)}, by client secret")
    assert [d.properties["mail.message_id"] for d in documents] == ["<msg-1@example.org>"]
    assert [g["by"] for g in entra.grants] == ["secret"]  # one token, cached for the second login
    assert not _leaks(caplog.text + repr(report), SECRET, entra.grants[0]["token"])


def test_a_certificate_assertion_reads_and_sends(mailbox, entra, app_cert, devmail_factory, dovecot):
    app = entra.register(TENANT, App(client_id=str(uuid.uuid4()), mailbox=mailbox.user,
                                     certificate_pem=app_cert.cert_pem))
    mailbox.deliver(simple(1))
    credentials = {"client_id": app.client_id, "client_certificate": app_cert.cert_pem,
                   "client_certificate_key": app_cert.key_pem}
    documents, _, _ = read(_m365(mailbox, entra, "imaps", **credentials))
    assert len(documents) == 1 and [g["by"] for g in entra.grants] == ["certificate"]

    dm = devmail_factory(smtps_port=0, users={}, oauth2_introspection_url=dovecot.tokens.introspection_url)
    sending = MailConnection.model_validate({
        "host": "localhost", "port": dm.smtps_port, "use_ssl": True, "trusted_ca_file": str(dm.ca_file),
        "user_password_auth": True, "user_name": mailbox.user, "auth_mechanism": "xoauth2",
        "oauth2_grant_type": "client_credentials", "tenant": TENANT, "token_url": entra.token_url(TENANT),
        "timeout_seconds": 10, "max_retries": 0, **credentials})
    report = connector.test(sending)
    assert dict(report.facts)["login"] == f"ok as {mailbox.user} (xoauth2)"
    assert dict(report.facts)["OAuth 2.0"] == (f"client credentials of {app.client_id} at {entra.token_url(TENANT)}, "
                                               "by certificate CN=postroom-exchange-app (valid until "
                                               + dict(report.facts)["OAuth 2.0"].split("(valid until ")[1])
    run(sending, send_op(**{"from": mailbox.user, "to": "patient@example.org", "subject": "From Exchange"}),
        [Document(b"Your appointment is confirmed.", {})])
    [message] = dm.wait_for(1, timeout=10)
    assert message.auth_user == mailbox.user and message.parse()["Subject"] == "From Exchange"
    assert len(entra.grants) == 1  # the same application token for reading, testing and sending


def test_the_token_is_refreshed_shortly_before_it_expires(mailbox, entra):
    app = _secret_app(entra, mailbox)
    now = [1_000_000.0]
    connection = MailConnection.model_validate(_m365(mailbox, entra, client_id=app.client_id, client_secret=SECRET))
    tokens = TokenSource(connection, clock=lambda: now[0])
    first = tokens.token()
    now[0] += 3599 - TokenSource.EARLY - 1  # still more than a minute left: the cached token
    assert tokens.token() == first and len(entra.grants) == 1
    now[0] += 2  # under a minute left: a new one before the old one dies
    second = tokens.token()
    assert second != first and len(entra.grants) == 2
    assert second == entra.grants[1]["token"]


def test_a_token_the_server_refuses_is_replaced_once(mailbox, entra, dovecot):
    app = _secret_app(entra, mailbox)
    settings = _m365(mailbox, entra, "pop3s", client_id=app.client_id, client_secret=SECRET)
    mailbox.deliver(simple(1))
    read(settings)
    dovecot.tokens.revoke(entra.grants[0]["token"])  # revoked by an admin while cached
    documents, _, _ = read(settings)
    assert len(documents) == 1 and len(entra.grants) == 2


def test_a_mailbox_the_app_may_not_use_says_what_to_grant(mailbox, entra, dovecot):
    other, _ = dovecot.take_user()
    app = entra.register(TENANT, App(client_id=str(uuid.uuid4()), mailbox=other, secret=SECRET))
    with pytest.raises(AuthenticationFailed) as caught:
        read(_m365(mailbox, entra, client_id=app.client_id, client_secret=SECRET))
    text = str(caught.value)
    assert f"refused the OAuth 2.0 token for {mailbox.user}" in text
    assert "IMAP.AccessAsApp" in text and "Add-MailboxPermission" in text


@pytest.mark.parametrize("case,field,says", [
    ("tenant", "tenant", "AADSTS90002: Tenant 'fabrikam.onmicrosoft.com' not found"),
    ("client_id", "client_id", "AADSTS700016: Application with identifier"),
    ("secret", "client_secret", "AADSTS7000215: Invalid client secret provided"),
    ("scope", "scope", "AADSTS500011"),
    ("certificate", "client_certificate", "AADSTS700027"),
], ids=["tenant", "client_id", "secret", "scope", "certificate"])
def test_refusals_name_the_setting_and_the_fix(mailbox, entra, app_cert, caplog, case, field, says):
    app = entra.register(TENANT, App(client_id=str(uuid.uuid4()), mailbox=mailbox.user, secret=SECRET,
                                     certificate_pem=app_cert.cert_pem))
    wrong_secret = "Wrong~" + SECRET
    stranger = self_signed_rsa("not-uploaded") if case == "certificate" else None
    overrides: dict[str, object] = {
        "tenant": {"client_id": app.client_id, "client_secret": SECRET, "tenant": "fabrikam.onmicrosoft.com",
                   "token_url": entra.token_url("fabrikam.onmicrosoft.com")},
        "client_id": {"client_id": str(uuid.uuid4()), "client_secret": SECRET},
        "secret": {"client_id": app.client_id, "client_secret": wrong_secret},
        "scope": {"client_id": app.client_id, "client_secret": SECRET, "scope": "https://graph.example/.default"},
        "certificate": {"client_id": app.client_id, "client_certificate": stranger.cert_pem if stranger else "",
                        "client_certificate_key": stranger.key_pem if stranger else ""},
    }[case]
    settings = _m365(mailbox, entra, **overrides)
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthenticationFailed) as caught:
        connector.test(MailConnection.model_validate(settings))
    error = caught.value
    assert error.field == field and says in str(error), str(error)
    assert error.fix and "Trace ID" not in str(error)
    everything = str(error) + repr(error) + caplog.text
    assert not _leaks(everything, SECRET, wrong_secret)
    if stranger is not None:
        assert stranger.key_pem.splitlines()[1] not in everything


def test_the_cli_connections_test_reports_a_bad_secret_with_exit_3(mailbox, entra, cli, workdir):
    app = _secret_app(entra, mailbox)
    settings = _m365(mailbox, entra, client_id=app.client_id, client_secret="${secret:exchange-app}")
    lines = "\n".join(f"  {key}: {value!r}" if isinstance(value, str) else f"  {key}: {str(value).lower()}"
                      for key, value in settings.items() if key != "password")
    (workdir / "m365.yaml").write_text(f"type: connection\nconnector: mail\nname: Exchange\nid: exchange\n"
                                       f"settings:\n{lines}\n", encoding="utf-8")
    assert cli("import", "m365.yaml").code == 0
    assert cli("secrets", "set", "exchange-app", input="Wrong~" + SECRET).code == 0
    result = cli("connections", "test", "exchange")
    said = result.stdout + result.stderr
    assert result.code == 3, said
    assert "client_secret" in said and "AADSTS7000215" in said and "Secret ID" in said
    assert SECRET not in said
    assert cli("secrets", "set", "exchange-app", input=SECRET).code == 0
    result = cli("connections", "test", "exchange")
    assert result.code == 0 and f"logged in as {mailbox.user}" in result.stdout, result


def test_sending_as_a_mailbox_the_app_may_not_use_says_what_to_grant(mailbox, entra, devmail_factory, dovecot):
    other, _ = dovecot.take_user()
    app = entra.register(TENANT, App(client_id=str(uuid.uuid4()), mailbox=other, secret=SECRET))
    dm = devmail_factory(users={}, oauth2_introspection_url=dovecot.tokens.introspection_url)
    sending = MailConnection.model_validate({
        "host": "localhost", "port": dm.smtp_port, "use_tls": True, "trusted_ca_file": str(dm.ca_file),
        "user_password_auth": True, "user_name": mailbox.user, "auth_mechanism": "xoauth2",
        "oauth2_grant_type": "client_credentials", "tenant": TENANT, "token_url": entra.token_url(TENANT),
        "client_id": app.client_id, "client_secret": SECRET, "timeout_seconds": 10, "max_retries": 0})
    with pytest.raises(AuthenticationFailed) as caught:
        connector.test(sending)
    text = str(caught.value)
    assert f"refused the OAuth 2.0 token for {mailbox.user}" in text and "SMTP.SendAsApp" in text
    assert len(entra.grants) == 2  # refused, so replaced once, then given up
    assert not _leaks(text, SECRET, *(g["token"] for g in entra.grants))


def test_the_api_never_returns_the_secret_or_the_keys(mailbox, entra, app_cert, home):
    from support.apikit import api_client
    from support.clientcerts import Authority

    app = entra.register(TENANT, App(client_id=str(uuid.uuid4()), mailbox=mailbox.user,
                                     certificate_pem=app_cert.cert_pem))
    client_cert = Authority().client("clinic")
    settings = _m365(mailbox, entra, client_id=app.client_id, client_certificate=app_cert.cert_pem,
                     client_certificate_key=app_cert.key_pem, tls_client_certificate=client_cert.cert_pem,
                     tls_client_key=client_cert.key_pem)
    body = {"type": "connection", "connector": "mail", "name": "Exchange", "id": "exchange", "settings": settings}
    with api_client(home) as api:
        assert api.post("/api/components", json={"body": body}).status_code == 201
        tested = api.post("/api/components/exchange/test").json()
        assert tested["ok"] is True, tested
        for path in ("/api/components?body=true", "/api/components/exchange", "/api/components/exchange/yaml"):
            assert api.get(path).status_code == 200, path
        kept = {k: v for k, v in settings.items() if k not in ("client_certificate", "client_certificate_key")}
        wrong = body | {"id": "wrong", "settings": kept | {"client_secret": SECRET}}
        assert api.post("/api/components", json={"body": wrong}).status_code == 201
        failed = api.post("/api/components/wrong/test")
        assert "AADSTS7000215" in failed.text
    assert len(api.seen) >= 6
    for text in api.seen:
        for secret in (SECRET, app_cert.key_pem.splitlines()[1], client_cert.key_pem.splitlines()[1]):
            assert secret not in text
