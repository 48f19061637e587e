"""The settings of Microsoft 365 client credentials and of client certificates (mTLS): what
a connection needs, each mistake refused at its field with the fix, no key or secret ever
echoed, the token endpoint derived from the tenant, and the form's titles."""

from __future__ import annotations

import ssl

import pydantic
import pytest

from postroom.connectors.mail import MailConnection
from postroom.connectors.mail._client_assertion import ClientAssertion, b64url
from postroom.connectors.mail._tls import ssl_context_for
from postroom.errors import ConfigError
from support.clientcerts import Authority, self_signed_rsa

pytestmark = pytest.mark.fast

SECRET = "Qx8~m365-Client-Secret-Value"
TENANT = "contoso.onmicrosoft.com"
BASE = {"host": "outlook.office365.com", "port": 993, "use_ssl": True, "inbound_protocol": "imap",
        "user_password_auth": True, "user_name": "frontdesk@contoso.com", "auth_mechanism": "xoauth2",
        "oauth2_grant_type": "client_credentials", "tenant": TENANT, "client_id": "11111111-2222-3333-4444-555555555555"}


@pytest.fixture(scope="module")
def app_cert():
    return self_signed_rsa("postroom-app")


@pytest.fixture(scope="module")
def client():
    return Authority().client("postroom.clinic.example")


def _refused(**values) -> tuple[str, list[dict]]:
    with pytest.raises(pydantic.ValidationError) as caught:
        MailConnection.model_validate(values)
    errors = caught.value.errors(include_input=False)
    return str(caught.value) + str(errors), errors


def _fields(errors: list[dict]) -> set[str]:
    return {str((e.get("ctx") or {}).get("field") or ".".join(map(str, e["loc"]))) for e in errors}


def test_a_client_secret_connection_derives_microsofts_token_endpoint():
    connection = MailConnection.model_validate(BASE | {"client_secret": SECRET})
    assert connection.uses_client_credentials and connection.uses_xoauth2
    assert connection.oauth2_token_url == f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"
    assert connection.scope == "https://outlook.office365.com/.default"
    assert SECRET not in repr(connection)
    overridden = MailConnection.model_validate(BASE | {"client_secret": SECRET,
                                                       "token_url": "http://127.0.0.1:8080/t/oauth2/v2.0/token"})
    assert overridden.oauth2_token_url == "http://127.0.0.1:8080/t/oauth2/v2.0/token"
    # auth_mechanism auto picks XOAUTH2 for client credentials too
    assert MailConnection.model_validate(BASE | {"auth_mechanism": "auto", "client_secret": SECRET}).uses_xoauth2


@pytest.mark.parametrize("values,field,says", [
    ({"client_id": ""}, "client_id", "Application (client) ID"),
    ({"tenant": ""}, "tenant", "Directory (tenant) ID"),
    ({"tenant": "common"}, "tenant", "names no single directory"),
    ({"tenant": "https://login.microsoftonline.com/contoso"}, "tenant", "without https://"),
    ({}, "client_secret", "client credentials need a client secret or a client certificate"),
    ({"client_secret": SECRET, "client_certificate": "CERT", "client_certificate_key": "${secret:k}"},
     "client_secret", "both client_secret and client_certificate are set"),
    ({"client_secret": SECRET, "scope": " "}, "scope", "scope is blank"),
], ids=["no-client-id", "no-tenant", "common-tenant", "tenant-url", "no-credential", "both", "blank-scope"])
def test_each_missing_or_wrong_setting_is_named(values, field, says):
    text, errors = _refused(**(BASE | values))
    assert says in text and field in _fields(errors), text
    assert SECRET not in text


def test_a_client_certificate_with_the_wrong_key_is_refused_without_echoing_it(app_cert):
    other = self_signed_rsa("another")
    text, errors = _refused(**(BASE | {"client_certificate": app_cert.cert_pem,
                                       "client_certificate_key": other.key_pem}))
    assert "client_certificate_key is not the private key of the certificate in client_certificate" in text
    assert "client_certificate_key" in _fields(errors)
    assert other.key_pem.splitlines()[1] not in text
    text, errors = _refused(**(BASE | {"client_certificate": app_cert.cert_pem}))
    assert "client_certificate is set but client_certificate_key is blank" in text


def test_the_client_assertion_header_names_the_certificate(app_cert):
    import base64
    import hashlib
    import json

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    assertion = ClientAssertion("app-id", app_cert.cert_pem, app_cert.key_pem)
    header, claims, _ = assertion.sign("https://login.example/t/oauth2/v2.0/token", 1_800_000_000).split(".")
    decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
    der = x509.load_pem_x509_certificate(app_cert.cert_pem.encode()).public_bytes(serialization.Encoding.DER)
    assert decode(header) == {"alg": "RS256", "typ": "JWT", "x5t#S256": b64url(hashlib.sha256(der).digest()),
                              "x5t": b64url(hashlib.sha1(der).digest())}  # noqa: S324
    body = decode(claims)
    assert (body["aud"], body["iss"], body["sub"]) == ("https://login.example/t/oauth2/v2.0/token", "app-id", "app-id")
    assert body["nbf"] == body["iat"] == 1_800_000_000 and body["exp"] == 1_800_000_600 and body["jti"]
    assert "PRIVATE" not in repr(assertion)


def test_an_ec_key_cannot_sign_a_client_assertion(client):
    with pytest.raises(ConfigError) as caught:
        ClientAssertion("app-id", client.cert_pem, client.key_pem)
    assert caught.value.field == "client_certificate_key" and "RSA" in str(caught.value)


# -- client certificates (mTLS) -------------------------------------------------------------------

def test_a_client_certificate_loads_into_the_tls_context(client, tmp_path):
    connection = MailConnection.model_validate({"host": "mail.example.com", "tls_client_certificate": client.cert_pem,
                                                "tls_client_key": client.key_pem})
    assert client.key_pem.splitlines()[1] not in repr(connection)
    assert isinstance(ssl_context_for(connection), ssl.SSLContext)
    cert_file, key_file = client.write(tmp_path, "c")
    from_files = MailConnection.model_validate({"host": "mail.example.com", "tls_client_certificate": str(cert_file),
                                                "tls_client_key": str(key_file)})
    assert isinstance(ssl_context_for(from_files), ssl.SSLContext)


@pytest.mark.parametrize("values,field,says", [
    ({"tls_client_certificate": "CERT"}, "tls_client_key", "tls_client_certificate is set but tls_client_key is blank"),
    ({"tls_client_key": "${secret:clinic-key}"}, "tls_client_certificate", "tls_client_key is set but"),
    ({"tls_client_certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
      "tls_client_key": "${secret:k}"}, "tls_client_certificate", "holds no PEM certificate"),
], ids=["no-key", "no-certificate", "bad-certificate"])
def test_client_certificate_mistakes_are_named(values, field, says):
    text, errors = _refused(host="mail.example.com", **values)
    assert says in text and field in _fields(errors), text


def test_a_bad_key_is_refused_without_echoing_it(client):
    garbage = "-----BEGIN PRIVATE KEY-----\nU2VjcmV0LWtleS1ieXRlcw==\n-----END PRIVATE KEY-----"
    text, errors = _refused(host="mail.example.com", tls_client_certificate=client.cert_pem, tls_client_key=garbage)
    assert "tls_client_key is not a PEM private key" in text and "tls_client_key" in _fields(errors)
    assert "U2VjcmV0LWtleS1ieXRlcw" not in text
    other = Authority().client("other")
    text, _ = _refused(host="mail.example.com", tls_client_certificate=client.cert_pem, tls_client_key=other.key_pem)
    assert "tls_client_key is not the private key of the certificate in tls_client_certificate" in text


def test_a_missing_certificate_file_is_named_when_the_context_is_built(tmp_path):
    connection = MailConnection.model_validate({"host": "mail.example.com",
                                                "tls_client_certificate": str(tmp_path / "nope.pem"),
                                                "tls_client_key": str(tmp_path / "nope.key")})
    with pytest.raises(ConfigError) as caught:
        ssl_context_for(connection)
    assert caught.value.field == "tls_client_certificate" and "cannot read the file" in str(caught.value)


def test_the_form_shows_the_new_settings_with_titles():
    props = MailConnection.model_json_schema()["properties"]
    titles = {name: props[name]["title"] for name in ("tenant", "client_id", "client_secret", "client_certificate",
                                                      "client_certificate_key", "scope", "oauth2_grant_type",
                                                      "tls_client_certificate", "tls_client_key")}
    assert titles == {"tenant": "Tenant (Directory) ID", "client_id": "Client ID", "client_secret": "Client Secret",
                      "client_certificate": "Client Assertion Certificate",
                      "client_certificate_key": "Client Assertion Private Key", "scope": "Scope",
                      "oauth2_grant_type": "Grant Type", "tls_client_certificate": "Client Certificate",
                      "tls_client_key": "Client Certificate Key"}
    for secret in ("client_certificate_key", "tls_client_key", "client_secret"):
        assert props[secret].get("writeOnly") is True
    assert props["tenant"]["show_if"] == {"auth_mechanism": "xoauth2", "user_password_auth": True,
                                          "oauth2_grant_type": "client_credentials"}
