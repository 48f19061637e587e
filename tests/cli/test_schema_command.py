"""`postroom schema` writes JSON Schemas that validate every example component file."""

import json

import jsonschema
import yaml

from support.testsupport import ROOT


def test_schemas_validate_the_examples_and_reject_mistakes(cli, workdir):
    result = cli("schema", "--out", "schema")
    assert result.code == 0, result
    folder = workdir / "schema"
    names = {p.relative_to(folder).as_posix() for p in folder.rglob("*.json")}
    for kind in ("connection", "operation", "process", "profile", "process_property"):
        assert f"{kind}.schema.json" in names
    for connector in ("disk", "mail"):
        assert f"connectors/{connector}.connection.schema.json" in names
        assert f"connectors/{connector}.operation.schema.json" in names
    # every component type the command writes a schema for (the examples use maps, databases...)
    schemas = {p.name.removesuffix(".schema.json"): json.loads(p.read_text()) for p in folder.glob("*.schema.json")}
    checked = 0
    for path in sorted((ROOT / "examples").rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            # YAML 1.1 loaders read a Decision's `true:` key as a boolean; editors use 1.2
            text = json.dumps(document, default=str).replace('"True":', '"true":').replace('"False":', '"false":')
            document = json.loads(text)
            jsonschema.validate(document, schemas[document["type"]])
            checked += 1
    assert checked >= 10
    bad = {"type": "connection", "name": "x", "connector": "mail", "settings": {"host": "h", "colour": "blue"}}
    try:
        jsonschema.validate(bad, schemas["connection"])
    except jsonschema.ValidationError as exc:
        assert "colour" in str(exc)
    else:
        raise AssertionError("an unknown mail setting must not validate")
