"""TLS modes, certificates, login and the advice each failure gives, against real servers."""

from __future__ import annotations

import base64
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from postroom.connectors.mail import MailConnection, connector
from postroom.devmail.pytest_plugin import DEVMAIL_PASSWORD, DEVMAIL_USER
from postroom.errors import AuthenticationFailed, ConfigError, ConnectionFailed
from postroom.sdk import Document, Failed
from postroom.sdk.testing import MemoryContext
from support.mailkit import free_port
from support.sendkit import gmail_like, run, send_op, starttls

WRONG = "Wr0ng-Passw0rd-XYZ"


@pytest.fixture(autouse=True)
def _no_ambient_ca(monkeypatch):
    """Tests decide themselves whether SSL_CERT_FILE is set."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


def _leaks(text: str, secret: str) -> bool:
    forms = {secret, base64.b64encode(secret.encode()).decode(),
             base64.b64encode(f"\0{DEVMAIL_USER}\0{secret}".encode()).decode()}
    return any(form in text for form in forms)


def test_gmail_like_connection_sends(devmail_factory):
    """Port 465 style: implicit TLS with use_tls also on, AUTH required before MAIL."""
    dm = devmail_factory(auth_required=True)
    [result] = run(gmail_like(dm), send_op(), [Document("hi", {"mail.to_address": "a@example.com"})])
    assert not isinstance(result, Failed)
    [stored] = dm.store.wait_for(1)
    assert stored.server == "smtps" and stored.tls and stored.auth_user == DEVMAIL_USER


def test_starttls_with_login(devmail_factory):
    dm = devmail_factory(require_starttls=True, auth_require_tls=True, auth_required=True)
    for mechanism in ("auto", "plain", "login"):
        connection = starttls(dm, user_password_auth=True, user_name=DEVMAIL_USER, password=DEVMAIL_PASSWORD,
                              auth_mechanism=mechanism)
        [result] = run(connection, send_op(), [Document(mechanism, {"mail.to_address": "a@example.com"})])
        assert not isinstance(result, Failed), mechanism
    stored = dm.store.wait_for(3)
    assert [(m.server, m.tls, m.auth_user) for m in stored] == [("smtp", True, DEVMAIL_USER)] * 3


def test_wrong_password(devmail_factory, caplog):
    dm = devmail_factory(auth_required=True)
    connection = gmail_like(dm, password=WRONG)
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthenticationFailed) as caught:
        run(connection, send_op(), [Document("x", {"mail.to_address": "a@example.com"})])
    error = caught.value
    assert error.exit_code == 3 and error.retryable is False
    text = str(error)
    assert text.startswith(f"field password: the server refused the user name or password for {DEVMAIL_USER}; "
                           "for Gmail, use an app password")
    assert "535" in text
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthenticationFailed) as again:
        connector.test(connection)
    for blob in (text, repr(error), str(again.value), caplog.text, repr(connection)):
        assert not _leaks(blob, WRONG)
    assert len(dm.store) == 0


def test_untrusted_certificate_names_trusted_ca_file(devmail, certs):
    with pytest.raises(ConnectionFailed) as caught:
        connector.test(gmail_like(devmail, trusted_ca_file=""))
    text = str(caught.value)
    assert "is not trusted" in text and "trusted_ca_file" in text and "SSL_CERT_FILE" in text
    assert caught.value.retryable is False and caught.value.exit_code == 3
    with pytest.raises(ConnectionFailed, match="trusted_ca_file"):  # a CA, but not the one that signed it
        connector.test(gmail_like(devmail, trusted_ca_file=str(certs.other_ca_file)))


def test_ssl_cert_file_is_honoured_even_with_trusted_ca_file(devmail, certs, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(devmail.ca_file))
    assert connector.test(gmail_like(devmail, trusted_ca_file="")).ok
    # A trusted_ca_file adds to the defaults; it must not switch SSL_CERT_FILE off.
    assert connector.test(gmail_like(devmail, trusted_ca_file=str(certs.other_ca_file))).ok


def test_missing_trusted_ca_file_is_a_config_error(devmail):
    with pytest.raises(ConfigError) as caught:
        connector.test(gmail_like(devmail, trusted_ca_file="/nonexistent/ca.pem"))
    assert "does not exist" in str(caught.value) and caught.value.field == "trusted_ca_file"


def test_verification_off_works_and_warns(devmail, caplog):
    with caplog.at_level(logging.WARNING):
        report = connector.test(gmail_like(devmail, trusted_ca_file="", verify_certificates=False))
    assert report.ok
    assert "certificate verification is off" in caplog.text


def test_starttls_not_offered(devmail_factory):
    dm = devmail_factory(tls=False, smtps_port=None, pop3s_port=None)
    with pytest.raises(ConnectionFailed) as caught:
        connector.test(starttls(dm, trusted_ca_file=""))
    assert caught.value.message == (f"the server at {dm.client_host}:{dm.smtp_port} does not offer STARTTLS; "
                                    "turn off use_tls or use port 465 with use_ssl")
    assert caught.value.field == "use_tls" and caught.value.retryable is False


def test_use_ssl_on_a_starttls_port(devmail):
    with pytest.raises(ConnectionFailed) as caught:
        connector.test(starttls(devmail, use_ssl=True))
    text = str(caught.value)
    assert f"port {devmail.smtp_port} expects STARTTLS or plain SMTP" in text
    assert "set use_ssl: false and use_tls: true, or use port 465" in text


@pytest.mark.parametrize("use_tls", [False, True])
def test_plain_client_on_an_implicit_tls_port(devmail, use_tls):
    connection = gmail_like(devmail, use_ssl=False, use_tls=use_tls, timeout_seconds=1, user_password_auth=False)
    with pytest.raises(ConnectionFailed) as caught:
        connector.test(connection)
    assert "sent no SMTP greeting" in str(caught.value) and "turn on use_ssl (use_ssl: true)" in str(caught.value)


def test_connection_refused():
    with pytest.raises(ConnectionFailed) as caught:
        connector.test(MailConnection(host="127.0.0.1", port=free_port(), use_tls=False))
    assert "refused the connection" in str(caught.value) and caught.value.retryable is True


def test_login_refused_without_tls(devmail_factory):
    dm = devmail_factory(tls=False, smtps_port=None, pop3s_port=None)
    # Validation refuses the settings; constructed around validation, the session refuses too.
    unsafe = MailConnection.model_construct(
        **(MailConnection(host=dm.client_host, port=dm.smtp_port, use_tls=False).model_dump()
           | {"user_password_auth": True, "user_name": DEVMAIL_USER, "password": DEVMAIL_PASSWORD})
    )
    with pytest.raises(ConfigError) as caught:
        connector.test(unsafe)
    assert "refusing to send the password" in str(caught.value) and DEVMAIL_PASSWORD not in str(caught.value)
    allowed = MailConnection(host=dm.client_host, port=dm.smtp_port, use_tls=False, user_password_auth=True,
                             user_name=DEVMAIL_USER, password=DEVMAIL_PASSWORD, allow_insecure_auth=True)
    run(allowed, send_op(), [Document("x", {"mail.to_address": "a@example.com"})])
    [stored] = dm.store.wait_for(1)
    assert stored.auth_user == DEVMAIL_USER and stored.tls is False


def test_server_without_auth(devmail_factory):
    dm = devmail_factory(users={})
    connection = starttls(dm, user_password_auth=True, user_name=DEVMAIL_USER, password=DEVMAIL_PASSWORD)
    with pytest.raises(AuthenticationFailed, match="does not offer login"):
        connector.test(connection)


# -- XOAUTH2 -----------------------------------------------------------------------------------


class _TokenEndpoint:
    """A local OAuth 2.0 token endpoint: records the forms posted, answers scripted JSON."""

    def __init__(self) -> None:
        self.forms: list[dict[str, str]] = []
        self.replies: list[tuple[int, dict]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers["Content-Length"])
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                endpoint.forms.append(form)
                status, payload = endpoint.replies.pop(0) if endpoint.replies else (200, {"access_token": "tok-1", "expires_in": 3600})
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/token"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def token_endpoint():
    endpoint = _TokenEndpoint()
    yield endpoint
    endpoint.close()


def _xoauth2(server, certs, token_endpoint, **overrides) -> MailConnection:
    values = dict(host="127.0.0.1", port=server.port, use_tls=True, trusted_ca_file=str(certs.ca_file),
                  user_password_auth=True, user_name="clinic@example.com", auth_mechanism="xoauth2",
                  refresh_token="refresh-SECRET-1", client_id="postroom-client", client_secret="client-SECRET-2",
                  token_url=token_endpoint.url, timeout_seconds=5)
    values.update(overrides)
    return MailConnection(**values)


def test_xoauth2_refreshes_a_token_once_and_sends(smtp_server, certs, token_endpoint):
    server = smtp_server(tls="starttls")
    server.recorder.xoauth2_token = "tok-1"
    connection = _xoauth2(server, certs, token_endpoint, max_sessions=1)
    documents = [Document(str(n), {"mail.to_address": f"p{n}@example.com"}) for n in range(2)]
    results = run(connection, send_op(), documents)
    assert not any(isinstance(r, Failed) for r in results)
    assert [m.rcpt_tos for m in server.messages] == [["p0@example.com"], ["p1@example.com"]]
    assert token_endpoint.forms == [{"grant_type": "refresh_token", "refresh_token": "refresh-SECRET-1",
                                     "client_id": "postroom-client", "client_secret": "client-SECRET-2"}]
    report = connector.test(connection)
    assert dict(report.facts)["login"] == "ok as clinic@example.com (xoauth2)"


def test_xoauth2_refused_token_says_so_without_the_token(smtp_server, certs, token_endpoint, caplog):
    server = smtp_server(tls="starttls")
    server.recorder.xoauth2_token = "the-right-one"
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthenticationFailed) as caught:
        connector.test(_xoauth2(server, certs, token_endpoint))
    assert "refused the OAuth 2.0 token for clinic@example.com" in str(caught.value)
    assert len(token_endpoint.forms) == 2  # refreshed once more after the refusal, then gave up
    for secret in ("tok-1", "refresh-SECRET-1", "client-SECRET-2"):
        assert secret not in str(caught.value) and secret not in caplog.text


def test_token_endpoint_refusal(smtp_server, certs, token_endpoint):
    server = smtp_server(tls="starttls")
    token_endpoint.replies.append((400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}))
    with pytest.raises(AuthenticationFailed) as caught:
        connector.test(_xoauth2(server, certs, token_endpoint))
    text = str(caught.value)
    assert "HTTP 400 invalid_grant: Token has been expired or revoked." in text
    assert "refresh-SECRET-1" not in text and "client-SECRET-2" not in text


def test_static_access_token(smtp_server, certs, token_endpoint):
    server = smtp_server(tls="starttls")
    server.recorder.xoauth2_token = "static-token"
    connection = _xoauth2(server, certs, token_endpoint, refresh_token="", access_token="static-token",
                          auth_mechanism="auto")
    run(connection, send_op(), [Document("x", {"mail.to_address": "a@example.com"})])
    assert len(server.messages) == 1 and token_endpoint.forms == []


# -- nothing leaks -----------------------------------------------------------------------------


def test_no_password_in_any_log_or_error(devmail_factory, caplog):
    """Drive every login path that can fail and grep everything a user could see."""
    dm = devmail_factory(auth_required=True)
    secret = "Leak-Me-Not-" + WRONG
    seen: list[str] = []
    connections = [
        gmail_like(dm, password=secret),
        gmail_like(dm, password=secret, auth_mechanism="plain"),
        gmail_like(dm, password=secret, auth_mechanism="login"),
        gmail_like(dm, password=secret, auth_mechanism="xoauth2", access_token=secret),
        gmail_like(dm, password=secret, trusted_ca_file=""),
        gmail_like(dm, password=secret, use_ssl=False, use_tls=False, timeout_seconds=1, allow_insecure_auth=True),
    ]
    with caplog.at_level(logging.DEBUG):
        for connection in connections:
            seen.append(repr(connection))
            for attempt in (lambda c=connection: connector.test(c),
                            lambda c=connection: run(c, send_op(), [Document("x", {"mail.to_address": "a@example.com"})])):
                try:
                    attempt()
                except Exception as exc:  # every failure is what we inspect
                    seen.extend([str(exc), repr(exc), str(exc.__cause__ or ""), str(exc.__context__ or "")])
    seen.append(caplog.text)
    assert len(seen) > 12
    for blob in seen:
        assert not _leaks(blob, secret), blob
    assert len(dm.store) == 0


def test_session_and_pool_reprs_hide_secrets(devmail):
    connection = gmail_like(devmail)
    session = connector.open(connection, send_op(), MemoryContext())
    try:
        list(session.execute([Document("x", {"mail.to_address": "a@example.com"})], "send"))
        for thing in (session, session._pool, connection):
            assert DEVMAIL_PASSWORD not in repr(thing)
    finally:
        session.close()


def test_each_execution_logs_into_its_own_log(devmail_factory, caplog):
    """Pools are shared across executions; their warnings and retries must not cross over."""
    dm = devmail_factory(defer_recipients={"slow@example.com": 1})
    connection = gmail_like(dm, trusted_ca_file="", verify_certificates=False)
    first = MemoryContext(log=logging.getLogger("postroom.exec.first"))
    second = MemoryContext(log=logging.getLogger("postroom.exec.second"))
    one = connector.open(connection, send_op(), first)
    two = connector.open(connection, send_op(), second)
    try:
        with caplog.at_level(logging.INFO):
            list(one.execute([Document("1", {"mail.to_address": "a@example.com"})], "send"))
            list(two.execute([Document("2", {"mail.to_address": "slow@example.com"})], "send"))
        assert one._pool is two._pool
    finally:
        one.close()
        two.close()
    by_logger: dict[str, list[str]] = {}
    for record in caplog.records:
        by_logger.setdefault(record.name, []).append(record.getMessage())
    assert any("certificate verification is off" in m for m in by_logger["postroom.exec.first"])
    assert any("certificate verification is off" in m for m in by_logger["postroom.exec.second"])
    assert any("retry 1 of 3" in m for m in by_logger["postroom.exec.second"])
    assert not any("retry" in m for m in by_logger["postroom.exec.first"])
    assert not any("slow@example.com" in m for m in by_logger["postroom.exec.second"])  # no address in logs
