"""Authentication against a real server: basic, bearer, API key, OAuth 2.0 client
credentials and refresh token (cached, refreshed before expiry and after a 401, one
refresh however many documents wait); secrets never in a message or a log line."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from postroom.connectors.http import HttpConnection, HttpConnector, HttpOperation
from postroom.errors import AuthenticationFailed
from postroom.sdk import Document, Failed
from postroom.sdk.testing import MemoryContext
from support.httpkit import OAuthServer, Reply, Seen, basic

SECRETS = {"password": "pa55-Word-secret", "token": "tok-Bearer-secret", "api_key": "key-API-secret",
           "client_secret": "cs-Client-secret", "refresh_token": "1//rt-Refresh-secret"}


def _guard(api_server, header: str, value: str) -> None:
    def check(seen: Seen) -> Reply:
        if seen.header(header) != value:
            return Reply(401, {"error": "unauthorized"}, {"WWW-Authenticate": "Basic"})
        return Reply(200, {"ok": True})
    api_server.handler = check


def _logged(ctx: MemoryContext) -> list[str]:
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    ctx.log.addHandler(Keep())
    ctx.log.setLevel(logging.DEBUG)
    return lines


def _no_secret(texts: list[str]) -> None:
    for text in texts:
        for secret in SECRETS.values():
            assert secret not in text, f"a secret shows in {text!r}"


@pytest.mark.parametrize(("connection", "header", "value"), [
    ({"auth": "basic", "user_name": "ann", "password": SECRETS["password"]}, "Authorization",
     basic("ann", SECRETS["password"])),
    ({"auth": "bearer", "token": SECRETS["token"]}, "Authorization", f"Bearer {SECRETS['token']}"),
    ({"auth": "api_key", "api_key_header": "X-Key", "api_key": SECRETS["api_key"]}, "X-Key", SECRETS["api_key"]),
])
def test_the_credentials_reach_the_server_and_refused_ones_fail_the_document(connection, header, value,
                                                                              api_server, http_run):
    _guard(api_server, header, value)
    [ok] = http_run([Document("")], connection=connection, method="GET", path="/me")
    assert isinstance(ok, Document) and ok.properties["http.status"] == "200"
    wrong = {**connection, **{k: "wrong-" + v for k, v in connection.items() if k in SECRETS}}
    ctx = MemoryContext()
    lines = _logged(ctx)
    [refused] = http_run([Document("")], context=ctx, connection=wrong, method="GET", path="/me")
    assert isinstance(refused, Failed)
    assert f"answered HTTP 401 Unauthorized: the server refused the credentials (auth {connection['auth']})" \
        in refused.message
    _no_secret([refused.message, *lines])
    assert not any(v in refused.message for k, v in wrong.items() if k in SECRETS)


def _oauth_connection(api_server, grant: str, **extra: str) -> dict[str, str]:
    settings = {"auth": grant, "token_url": f"{api_server.url}/token", "client_id": "postroom-client",
                "client_secret": SECRETS["client_secret"], "scope": "https://www.googleapis.com/auth/spreadsheets"}
    if grant == "oauth2_refresh_token":
        settings["refresh_token"] = SECRETS["refresh_token"]
    return {**settings, **extra}


@pytest.mark.parametrize("grant", ["oauth2_client_credentials", "oauth2_refresh_token"])
def test_oauth2_gets_one_token_for_many_documents(grant, api_server, http_run):
    api_server.oauth = OAuthServer("postroom-client", SECRETS["client_secret"], SECRETS["refresh_token"])
    results = http_run([Document("{}") for _ in range(3)], connection=_oauth_connection(api_server, grant),
                       method="POST", path="/rows")
    assert all(isinstance(r, Document) and r.properties["http.status"] == "200" for r in results)
    [form] = api_server.oauth.grants
    assert form["grant_type"] == ("refresh_token" if grant == "oauth2_refresh_token" else "client_credentials")
    assert form["scope"] == "https://www.googleapis.com/auth/spreadsheets"
    tokens = {r.header("Authorization") for r in api_server.api_requests()}
    assert len(tokens) == 1 and tokens.pop().startswith("Bearer ya29.")


def _session(api_server, connection: dict[str, str], ctx: MemoryContext | None = None):  # noqa: ANN202
    conn = HttpConnection.model_validate({"base_url": api_server.url, **connection})
    return HttpConnector().open(conn, HttpOperation(method="POST", path="/rows"), ctx or MemoryContext())


def test_the_token_is_refreshed_before_it_expires(api_server):
    api_server.oauth = OAuthServer("postroom-client", SECRETS["client_secret"], SECRETS["refresh_token"],
                                   expires_in=3600)
    session = _session(api_server, _oauth_connection(api_server, "oauth2_refresh_token"))
    try:
        list(session.execute([Document("{}")], "s"))
        tokens = session.pool.tokens
        real = tokens.clock
        tokens.clock = lambda: real() + 3600 - 61  # a minute before expiry: still good
        list(session.execute([Document("{}")], "s"))
        assert api_server.oauth.token_calls() == 1
        tokens.clock = lambda: real() + 3600 - 59  # within the last minute: refreshed first
        [result] = list(session.execute([Document("{}")], "s"))
    finally:
        session.close()
    assert isinstance(result, Document) and api_server.oauth.token_calls() == 2
    first, _, third = [r.header("Authorization") for r in api_server.api_requests()]
    assert first != third


def test_a_refused_token_is_refreshed_once_and_the_request_sent_again(api_server, http_run):
    api_server.oauth = OAuthServer("postroom-client", SECRETS["client_secret"], SECRETS["refresh_token"])
    session = _session(api_server, _oauth_connection(api_server, "oauth2_refresh_token"))
    try:
        list(session.execute([Document("{}")], "s"))
        api_server.oauth.revoke_all()  # the provider revoked it early
        [result] = list(session.execute([Document('{"n": 2}')], "s"))
    finally:
        session.close()
    assert isinstance(result, Document) and result.properties["http.status"] == "200"
    assert api_server.oauth.token_calls() == 2
    statuses = [r.body for r in api_server.api_requests()]
    assert statuses == [b"{}", b'{"n": 2}', b'{"n": 2}']  # refused once, then sent again


def test_documents_waiting_for_a_token_ask_the_endpoint_once(api_server):
    api_server.oauth = OAuthServer("postroom-client", SECRETS["client_secret"])
    gate = api_server.oauth.gate = threading.Event()
    session = _session(api_server, _oauth_connection(api_server, "oauth2_client_credentials"))
    results: list[object] = []
    try:
        together = threading.Barrier(4)

        def post() -> None:
            together.wait(10)  # the four documents ask for a token at the same moment
            results.extend(session.execute([Document("{}")], "s"))

        threads = [threading.Thread(target=post) for _ in range(4)]
        for thread in threads:
            thread.start()
        assert api_server.oauth.asked.wait(10)
        time.sleep(0.3)  # time for the others to ask too, were they not waiting for this one
        gate.set()
        for thread in threads:
            thread.join(10)
    finally:
        session.close()
    assert len(results) == 4 and all(isinstance(r, Document) for r in results)
    assert api_server.oauth.token_calls() == 1


def test_a_refused_client_fails_the_documents_naming_the_client_not_the_secret(api_server, http_run):
    api_server.oauth = OAuthServer("postroom-client", "the-real-secret", SECRETS["refresh_token"])
    ctx = MemoryContext()
    lines = _logged(ctx)
    with pytest.raises(AuthenticationFailed) as caught:
        http_run([Document("{}")], context=ctx, connection=_oauth_connection(api_server, "oauth2_refresh_token"),
                 method="POST", path="/rows")
    message = str(caught.value)
    assert "refused client 'postroom-client': invalid_client: The OAuth client was not found." in message
    assert "check client_id, refresh_token and scope" in message
    _no_secret([message, *lines])
    assert api_server.api_requests() == []


def test_a_revoked_refresh_token_is_named(api_server, http_run):
    api_server.oauth = OAuthServer("postroom-client", SECRETS["client_secret"], "another-refresh-token")
    with pytest.raises(AuthenticationFailed) as caught:
        http_run([Document("{}")], connection=_oauth_connection(api_server, "oauth2_refresh_token"),
                 method="POST", path="/rows")
    assert "invalid_grant: Token has been expired or revoked." in str(caught.value)
    _no_secret([str(caught.value)])
