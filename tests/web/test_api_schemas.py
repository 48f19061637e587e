"""The schemas the browser builds its forms and palette from."""

from __future__ import annotations

import pytest

from postroom.connectors import available_connectors, get_connector
from postroom.model import SHAPE_MODELS
from support.apikit import api_client

pytestmark = pytest.mark.fast

BOOMI_CONNECTION = {"host": "Host", "port": "Port", "use_tls": "Use TLS?", "use_ssl": "Use SSL?",
                    "user_password_auth": "User/Password Authorization?", "user_name": "User Name",
                    "password": "Password"}
BOOMI_OPERATION = {"action": "Connector Action", "from": "From", "to": "To", "subject": "Subject",
                   "disposition": "Disposition", "attachment_content_type": "Attachment Content Type",
                   "body_content_type": "Body Content Type"}


def test_connectors_carry_boomis_labels(home) -> None:
    with api_client(home) as api:
        connectors = {c["name"]: c for c in api.get("/api/connectors").json()}
    mail = connectors["mail"]
    assert mail["title"] == "Mail"
    fields = mail["connection_schema"]["properties"]
    assert {name: fields[name]["title"] for name in BOOMI_CONNECTION} == BOOMI_CONNECTION
    assert fields["password"]["writeOnly"] is True and fields["password"]["secret"] is True
    assert fields["user_name"]["show_if"] == {"user_password_auth": True}
    assert fields["host"]["description"]  # the help text stays
    ops = mail["operation_schema"]["properties"]
    assert {name: ops[name]["title"] for name in BOOMI_OPERATION} == BOOMI_OPERATION
    assert ops["action"]["enum"] == ["send", "get"] and ops["action"]["x-enumNames"] == ["Send", "Get"]
    assert ops["disposition"]["x-enumNames"] == ["Inline", "Attachment"]


def test_every_enum_title_list_matches_its_values() -> None:
    for name in available_connectors():
        connector = get_connector(name)
        for model in (connector.connection_model, connector.operation_model):
            for field, schema in model.model_json_schema(by_alias=True)["properties"].items():
                if "x-enumNames" in schema:
                    assert len(schema["x-enumNames"]) == len(schema["enum"]), (name, field)


def test_shapes_and_component_schemas(home) -> None:
    with api_client(home) as api:
        shapes = {s["type"]: s for s in api.get("/api/shapes").json()}
        process = api.get("/api/schemas/process").json()
        unknown = api.get("/api/schemas/widget")
    assert set(shapes) == set(SHAPE_MODELS)
    assert shapes["decision"]["outlets"] == ["true", "false"]
    assert shapes["branch"]["outlets"] == ["branches"]
    assert shapes["route"]["outlets"] == ["cases[].next", "default"]
    assert shapes["try_catch"] == {**shapes["try_catch"], "title": "Try/Catch", "outlets": ["try", "catch"]}
    assert shapes["stop"]["outlets"] == [] and shapes["message"]["title"] == "Message"
    assert "text" in shapes["message"]["schema"]["properties"]
    assert "layout" in process["properties"] and "shapes" in process["properties"]
    assert unknown.status_code == 404 and "connection" in unknown.json()["detail"]
