"""TLS verified by default, trusted_ca_file for a private CA; the connection test; the
connector contract (postroom.sdk.testing)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from postroom.connectors import get_connector
from postroom.connectors.http import HttpConnection, HttpConnector
from postroom.errors import AuthenticationFailed, ConfigError, ConnectionFailed
from postroom.sdk import Document
from postroom.sdk.testing import ConnectorContract, ContractCase
from support.httpkit import ApiServer, Reply, Seen, basic


@pytest.fixture
def tls_server(certs) -> Iterator[ApiServer]:
    server = ApiServer(certs.server_context())
    try:
        yield server
    finally:
        server.close()


def test_a_private_ca_is_trusted_through_trusted_ca_file(tls_server, certs, http_run):
    [result] = http_run([Document('{"a": 1}')], connection={"base_url": tls_server.url,
                                                           "trusted_ca_file": str(certs.ca_file)},
                        method="POST", path="/secure")
    assert isinstance(result, Document) and result.properties["http.status"] == "200"
    assert tls_server.requests[-1].body == b'{"a": 1}'


@pytest.mark.parametrize("ca", ["none", "other"])
def test_an_untrusted_certificate_is_refused_and_not_tried_again(ca, tls_server, certs, http_run):
    connection = {"base_url": tls_server.url}
    if ca == "other":
        connection["trusted_ca_file"] = str(certs.other_ca_file)
    with pytest.raises(ConnectionFailed) as caught:
        http_run([Document("{}")], connection=connection, method="POST", path="/secure")
    assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value)
    assert "add the server's CA to trusted_ca_file" in str(caught.value)
    assert tls_server.requests == []


def test_a_missing_ca_file_is_a_configuration_error_naming_the_field(http_run, tmp_path):
    with pytest.raises(ConfigError) as caught:
        http_run([Document("{}")], connection={"trusted_ca_file": str(tmp_path / "nope.pem")}, method="GET")
    assert caught.value.field == "trusted_ca_file" and "nope.pem" in str(caught.value)


def test_the_connection_test_reports_status_and_tls(tls_server, certs):
    report = HttpConnector().test(HttpConnection(base_url=tls_server.url, trusted_ca_file=str(certs.ca_file)))
    facts = dict(report.facts)
    assert report.ok and facts["status"] == "200 OK" and facts["http"] == "HTTP/1.1"
    assert facts["tls"].startswith("TLSv1.")
    assert "commonName=localhost, issued by commonName=Postroom Test CA" in facts["certificate"]


def test_the_connection_test_says_when_credentials_are_refused(api_server):
    api_server.handler = lambda seen: Reply(401, "who are you") if seen.header("Authorization") != basic(
        "ann", "right-one") else Reply(200, "hi")
    ok = HttpConnector().test(HttpConnection(base_url=api_server.url, auth="basic", user_name="ann",
                                             password="right-one"))
    assert ok.ok and dict(ok.facts)["tls"] == "none (http)"
    with pytest.raises(AuthenticationFailed) as caught:
        HttpConnector().test(HttpConnection(base_url=api_server.url, auth="basic", user_name="ann",
                                            password="wrong-one-secret"))
    assert "the server refused the credentials (auth basic)" in str(caught.value)
    assert "wrong-one-secret" not in str(caught.value)


class TestHttpContract(ConnectorContract):
    operations = {"send"}  # requests are sent per document; the start shape's get is tested apart

    @pytest.fixture
    def contract_case(self, api_server):
        created: list[Seen] = []

        def record(seen: Seen) -> Reply:
            created.append(seen)
            return Reply(201, {"id": len(created)})

        api_server.route("POST", "/records", record)
        return ContractCase(
            connector=get_connector("http"),  # found through its entry point
            connection={"base_url": api_server.url, "auth": "bearer", "token": "s3cret-bearer-token"},
            send={"method": "POST", "path": "/records"},
            documents=lambda: [Document('{"n": 1}'), Document('{"n": 2}')],
            bad_document=lambda: Document("not json"),
            delivered=lambda: len(created),
            secrets=["s3cret-bearer-token"],
        )


def test_the_connection_test_gets_an_oauth_token_first(api_server):
    from support.httpkit import OAuthServer

    api_server.oauth = OAuthServer("client-1", "client-secret-xyz", expires_in=1800)
    settings = {"base_url": api_server.url, "auth": "oauth2_client_credentials", "token_url": api_server.url + "/token",
                "client_id": "client-1", "client_secret": "client-secret-xyz"}
    report = HttpConnector().test(HttpConnection(**settings))
    facts = dict(report.facts)
    assert report.ok and facts["token"] == f"obtained from {api_server.url}/token, valid 1800 s"
    assert facts["status"] == "200 OK"
    with pytest.raises(AuthenticationFailed) as caught:
        HttpConnector().test(HttpConnection(**{**settings, "client_secret": "wrong-secret-abc"}))
    assert "refused client 'client-1': invalid_client" in str(caught.value)
    assert "wrong-secret-abc" not in str(caught.value)
