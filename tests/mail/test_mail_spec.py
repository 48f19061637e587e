"""The Mail connector's settings models: names, defaults, aliases, validation, secrecy."""

from __future__ import annotations

import importlib.metadata

import pydantic
import pytest

import postroom.connectors.mail as mail
from postroom.connectors.mail import MailConnection, MailConnector, MailOperation, connector
from postroom.errors import ConfigError
from postroom.sdk import secret_fields
from postroom.sdk.testing import MemoryContext
from support.mailkit import PASSWORD

pytestmark = pytest.mark.fast

GMAIL = {
    "host": "smtp.gmail.com",
    "port": 465,
    "use_tls": True,
    "use_ssl": True,
    "user_password_auth": True,
    "user_name": "yourname@gmail.com",
    "password": "${secret:gmail-app-password}",
}
SEND = {
    "action": "send",
    "from": "yourname@gmail.com",
    "to": "",
    "subject": "Announcement: Dr. Smith is Retiring",
    "disposition": "inline",
    "attachment_content_type": "text/plain",
    "body_content_type": "text/plain",
}


def test_public_api_is_pinned():
    assert sorted(mail.__all__) == sorted(
        ["MailConnector", "MailConnection", "MailOperation", "MailGetSession", "MailSendSession", "InboundEndpoint",
         "connector", "dkim_record"]
    )
    assert isinstance(connector, MailConnector)
    assert (connector.name, connector.title) == ("mail", "Mail")
    assert connector.connection_model is MailConnection and connector.operation_model is MailOperation


def test_entry_point_finds_the_connector():
    points = {p.name: p for p in importlib.metadata.entry_points(group="postroom.connectors")}
    assert points["mail"].load() is connector


def test_contract_component_files_validate():
    connection = MailConnection.model_validate(GMAIL)
    assert connection.password == "${secret:gmail-app-password}"  # references pass untouched
    assert connection.smtp_port == 465
    operation = MailOperation.model_validate(SEND)
    assert operation.from_ == "yourname@gmail.com"
    assert operation.disposition == "inline"


def test_from_alias_round_trips():
    operation = MailOperation.model_validate(SEND)
    dumped = operation.model_dump(by_alias=True)
    assert dumped["from"] == "yourname@gmail.com" and "from_" not in dumped
    assert MailOperation.model_validate(dumped) == operation
    assert MailOperation(from_="a@example.com").from_ == "a@example.com"  # by name too
    schema = MailOperation.model_json_schema()
    assert "from" in schema["properties"] and "from_" not in schema["properties"]


@pytest.mark.parametrize(
    ("settings", "port"),
    [({"use_ssl": True}, 465), ({"use_ssl": True, "use_tls": True}, 465), ({"use_tls": True}, 587),
     ({"use_tls": False}, 25), ({"port": 2525}, 2525)],
)
def test_port_defaults_by_mode(settings, port):
    assert MailConnection(host="mail.example.com", **settings).smtp_port == port


def test_defaults_are_safe():
    connection = MailConnection(host="mail.example.com")
    assert connection.use_tls is True and connection.use_ssl is False
    assert connection.verify_certificates is True and connection.allow_insecure_auth is False
    assert (connection.timeout_seconds, connection.max_sessions, connection.max_messages_per_minute) == (30, 2, 0)
    assert connection.max_retries == 3 and connection.inbound_protocol == "pop3"
    operation = MailOperation()
    assert operation.action == "send" and operation.one_email_per_recipient is False
    assert (operation.attachment_content_type, operation.body_content_type) == ("text/plain", "text/plain")


def test_every_field_is_described_once():
    for model in (MailConnection, MailOperation):
        for name, info in model.model_fields.items():
            assert info.title and info.description, f"{model.__name__}.{name} lacks title or help"
            assert isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("group"), name
    assert set(secret_fields(MailConnection)) == {
        "password", "access_token", "refresh_token", "client_secret", "inbound_password", "dkim_private_key",
        "client_certificate_key", "tls_client_key",
    }
    props = MailConnection.model_json_schema()["properties"]
    assert props["password"]["writeOnly"] is True and props["password"]["secret"] is True
    assert props["dkim_private_key"]["writeOnly"] is True and props["dkim_private_key"]["secret"] is True
    assert props["user_name"]["show_if"] == {"user_password_auth": True}


def test_inbound_settings_fall_back_to_outbound():
    connection = MailConnection.model_validate(GMAIL | {"host": "mail.example.com", "port": None})
    inbound = connection.inbound()
    assert (inbound.protocol, inbound.host, inbound.port, inbound.use_ssl) == ("pop3", "mail.example.com", 995, True)
    assert (inbound.user_name, inbound.password) == ("yourname@gmail.com", "${secret:gmail-app-password}")
    both = MailConnection.model_validate(
        GMAIL | {"inbound_protocol": "imap", "inbound_host": "imap.gmail.com", "inbound_use_ssl": False,
                 "inbound_user_name": "other@gmail.com", "inbound_password": "x"}
    )
    inbound = both.inbound()
    assert (inbound.protocol, inbound.host, inbound.port, inbound.use_ssl) == ("imap", "imap.gmail.com", 143, False)
    assert (inbound.user_name, inbound.password) == ("other@gmail.com", "x")
    assert "x'" not in repr(inbound) and "password" not in repr(inbound)


@pytest.mark.parametrize(
    ("given", "stored"),
    [("application/binary", "application/octet-stream"), ("Text/HTML", "text/html"),
     ("application/edi-x12", "application/edi-x12"), ("application/vnd.ms-excel", "application/vnd.ms-excel"),
     ("text/plain; charset=cp1252", "text/plain; charset=windows-1252"), ("text/plain; charset=UTF-8", "text/plain")],
)
def test_content_types(given, stored):
    assert MailOperation(attachment_content_type=given).attachment_content_type == stored


@pytest.mark.parametrize(
    ("given", "says"),
    [("text", "is not a MIME type"), ("text/", "is not a MIME type"), ("multipart/mixed", "builds the message"),
     ("application/pdf; charset=utf-8", "only applies to text"), ("text/plain; charset=nope", "unknown charset"),
     ("text/plain; name=x", "only a charset")],
)
def test_bad_content_types_say_why(given, says):
    with pytest.raises(pydantic.ValidationError) as caught:
        MailOperation(attachment_content_type=given)
    assert says in str(caught.value)


def test_bad_settings_say_what_to_fix():
    cases = [
        ({"host": ""}, "host is required"),
        ({"host": "smtp://gmail.com"}, "not a host name"),
        ({"host": "h.example.com", "port": 0}, "greater than or equal to 1"),
        ({"host": "h.example.com", "user_password_auth": True}, "user_name is blank"),
        ({"host": "h.example.com", "user_password_auth": True, "user_name": "u"}, "password is blank"),
        ({"host": "h.example.com", "use_tls": False, "user_password_auth": True, "user_name": "u",
          "password": PASSWORD}, "allow_insecure_auth"),
        ({"host": "h.example.com", "user_password_auth": True, "user_name": "u", "auth_mechanism": "xoauth2"},
         "needs access_token"),
        ({"host": "h.example.com", "token_url": "http://oauth.example.com/token"}, "https://"),
        ({"host": "h.example.com", "colour": "red"}, "Extra inputs are not permitted"),
    ]
    for values, says in cases:
        with pytest.raises(pydantic.ValidationError) as caught:
            MailConnection(**values)
        # the message, or the fix a check of the whole settings gives with it (sdk.setting_error)
        assert says in str(caught.value) + str(caught.value.errors(include_input=False)), values
    assert MailConnection(
        host="localhost", use_tls=False, user_password_auth=True, user_name="u", password="p", allow_insecure_auth=True
    ).allow_insecure_auth


def test_bad_operations_say_what_to_fix():
    cases = [
        ({"from": "a@example.com, b@example.com"}, "more than one address"),
        ({"to": "not-an-address"}, "to: 'not-an-address' is not a valid address"),
        ({"cc": '"Unclosed <a@example.com>'}, "quote that is not closed"),
        ({"subject": "two\nlines"}, "must be one line"),
        ({"action": "delete"}, "'send' or 'get'"),
        ({"disposition": "embedded"}, "'inline' or 'attachment'"),
    ]
    for values, says in cases:
        with pytest.raises(pydantic.ValidationError) as caught:
            MailOperation.model_validate(values)
        assert says in str(caught.value), values


def test_secrets_stay_out_of_repr_and_errors():
    connection = MailConnection.model_validate(
        GMAIL | {"password": PASSWORD, "client_secret": PASSWORD + "c", "refresh_token": PASSWORD + "r",
                 "client_id": "id", "token_url": "https://oauth2.googleapis.com/token"}
    )
    assert PASSWORD not in repr(connection) and PASSWORD not in str(connection)
    with pytest.raises(pydantic.ValidationError) as caught:
        MailConnection.model_validate(GMAIL | {"password": PASSWORD, "use_ssl": False, "use_tls": False})
    # str() hides inputs (hide_input_in_errors); whoever lists errors() must ask for no input.
    assert PASSWORD not in str(caught.value) and PASSWORD not in repr(caught.value)
    assert PASSWORD not in repr(caught.value.errors(include_input=False))


def test_get_action_opens_a_get_session_and_refuses_imap_settings_on_pop3():
    connection = MailConnection.model_validate(GMAIL)
    session = connector.open(connection, MailOperation(action="get"), MemoryContext())
    assert isinstance(session, mail.MailGetSession)
    assert session.resource_key() == "pop3://yourname%40gmail.com@smtp.gmail.com:465"
    with pytest.raises(ConfigError) as caught:
        connector.open(connection, MailOperation(action="get", move_to_folder="Processed"), MemoryContext())
    assert "move_to_folder needs IMAP" in str(caught.value) and caught.value.exit_code == 2


def test_open_accepts_plain_mappings():
    session = connector.open(dict(GMAIL), dict(SEND), MemoryContext())
    try:
        assert session.side_effects is True
        assert session.operation.subject == "Announcement: Dr. Smith is Retiring"
    finally:
        session.close()


def test_every_property_the_connectors_use_is_declared_once():
    """Import warns about unknown mail.* and disk.* names against each connector's
    document_properties: a name the code reads or sets must be in that list, or import
    would warn about a name that works."""
    import re
    from pathlib import Path

    from postroom.connectors import get_connector

    for name in ("mail", "disk"):
        connector = get_connector(name)
        source = Path(__import__(f"postroom.connectors.{name}", fromlist=["x"]).__file__).parent
        text = "\n".join(p.read_text() for p in source.glob("*.py"))
        actions = set(re.findall(rf'record_dry_run\([^)]*?"({name}\.[a-z_]+)"', text))  # dry-run labels
        used = set(re.findall(rf'"({name}\.[a-z_]+\.?)', text)) - actions
        declared = connector.document_properties
        missing = [u for u in used if not any(p.matches(u) or p.family == u for p in declared)]
        assert missing == [], f"declare these in postroom/connectors/{name}/properties.py: {missing}"
