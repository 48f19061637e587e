"""Every field of every shape's side-panel form has a human title (Boomi's words, not the
YAML key), every choice of an anyOf/oneOf is titled, and every fixed list of values names
each value, so the browser's forms show words, never ``first``, ``SplitStep`` or ``no_data``."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from pydantic import BaseModel

from postroom.model import SHAPE_MODELS, ValueSource
from postroom.services import shape_catalog

pytestmark = pytest.mark.fast

#: keys that link shapes (the canvas's edges edit them, not the form) and the fixed shape type
NOT_IN_FORM = {"type", "next", "true", "false", "branches", "default", "try", "catch"}


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return {**root["$defs"][ref.rsplit("/", 1)[-1]], **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _problems(schema: dict[str, Any], root: dict[str, Any], where: str, out: list[str]) -> None:
    schema = _resolve(schema, root)
    for keyword in ("anyOf", "oneOf"):
        options = [_resolve(option, root) for option in schema.get(keyword, [])]
        options = [option for option in options if option.get("type") != "null"]
        for index, option in enumerate(options):
            if len(options) > 1 and not option.get("title") and "const" not in option:
                out.append(f"{where}: choice {index + 1} has no title")
            _problems(option, root, where if len(options) == 1 else f"{where}[{option.get('title', index)}]", out)
    if "enum" in schema and len(schema.get("x-enumNames", [])) != len(schema["enum"]):
        out.append(f"{where}: the values {schema['enum']} are not named (x-enumNames)")
    for name, child in schema.get("properties", {}).items():
        if where.count(".") == 0 and name in NOT_IN_FORM:
            continue
        child_schema = _resolve(child, root)
        if "const" not in child_schema and not child.get("title"):
            out.append(f"{where}.{name}: no title")
        if child.get("title") == name:
            out.append(f"{where}.{name}: titled by its key")
        _problems(child, root, f"{where}.{name}", out)
    items = schema.get("items")
    if isinstance(items, dict):
        _problems(items, root, f"{where}[]", out)


def test_every_shape_field_and_choice_has_a_title() -> None:
    problems: list[str] = []
    for shape in shape_catalog():
        _problems(shape["schema"], shape["schema"], shape["type"], problems)
    assert problems == []


def _types(annotation: Any) -> list[Any]:
    return [annotation, *(t for arg in get_args(annotation) for t in _types(arg))]


def _models(model: type[BaseModel], seen: set[type[BaseModel]]) -> None:
    seen.add(model)
    for field in model.model_fields.values():
        for candidate in _types(field.annotation):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel) and candidate not in seen:
                _models(candidate, seen)


def test_every_field_of_every_shape_model_is_titled_by_hand() -> None:
    """pydantic would title ``first`` as "First": each field says what it is instead."""
    seen: set[type[BaseModel]] = set()
    for model in SHAPE_MODELS.values():
        _models(model, seen)
    assert len(seen) > len(SHAPE_MODELS) + 5, "the step and entry models are found too"
    seen.discard(ValueSource)  # its form is the value-source schema (titled choices, checked above)
    untitled = [f"{model.__name__}.{name}" for model in seen for name, field in model.model_fields.items()
                if (field.alias or name) not in NOT_IN_FORM and not field.title]
    assert untitled == []


def test_value_sources_offer_their_kinds_by_name_with_the_help_once() -> None:
    decision = next(s for s in shape_catalog() if s["type"] == "decision")["schema"]
    first = decision["properties"]["first"]
    assert first["title"] == "First Value"
    titles = [option["title"] for option in first["anyOf"]]
    assert titles[:3] == ["Text", "Static", "Profile Element"] and "Document Property" in titles
    element = first["anyOf"][2]
    assert element["properties"]["profile_element"]["title"] == "Element"
    # the long list of kinds is not repeated as every value field's help
    assert "{static: ...}" not in str(decision)


def test_a_data_process_step_is_named_by_boomis_processing_step() -> None:
    schema = next(s for s in shape_catalog() if s["type"] == "data_process")["schema"]
    steps = schema["properties"]["steps"]
    assert steps["title"] == "Processing Steps" and steps["items"]["title"] == "Step"
    titles = [_resolve(option, schema)["title"] for option in steps["items"]["oneOf"]]
    assert titles[:3] == ["Split Documents", "Combine Documents", "Search/Replace"]
    split = schema["$defs"]["SplitStep"]["properties"]
    assert split["headers"]["x-enumNames"][2] == "Retain first line as column headers"
