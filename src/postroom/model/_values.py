"""Value sources: where a shape reads a value from (CONTRACT.md, "value source")."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, WithJsonSchema

from ..sdk import VALUE_SOURCE_KINDS

__all__ = ["ValueSource", "SourceList", "SOURCE_KINDS", "parse_source"]

#: the kinds of value source: one list, the SDK's (connector settings take the same kinds)
SOURCE_KINDS = VALUE_SOURCE_KINDS

EXECUTION_PROPERTIES = (
    "execution_id",
    "process_id",
    "process_name",
    "process_version",
    "start_time",
    "document_count",
    "runtime_node",
)


class ValueSource(BaseModel):
    """One source. Written in YAML as a bare string (static) or ``{kind: argument}``."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal[SOURCE_KINDS]  # type: ignore[valid-type]
    arg: str
    profile: str | None = None  # optional profile id for profile_element



def parse_source(value: Any) -> ValueSource:
    if isinstance(value, ValueSource):
        return value
    if isinstance(value, str | int | float | bool):
        if isinstance(value, bool):
            value = "true" if value else "false"
        return ValueSource(kind="static", arg=str(value))
    if isinstance(value, dict):
        if "kind" in value and "arg" in value:
            return ValueSource(**value)
        profile = value.get("profile")
        keys = [k for k in value if k != "profile"]
        if len(keys) != 1:
            raise ValueError(
                "a value source has exactly one of: " + ", ".join(SOURCE_KINDS) + f" (got {', '.join(map(str, keys)) or 'nothing'})"
            )
        kind = keys[0]
        if kind not in SOURCE_KINDS:
            raise ValueError(f"unknown value source {kind!r}; use one of: " + ", ".join(SOURCE_KINDS))
        arg = value[kind]
        if arg is None:
            arg = ""
        if not isinstance(arg, str | int | float | bool):
            raise ValueError(f"{kind} takes a text argument")
        if kind == "current_data":
            if str(arg).strip().lower() not in ("true", ""):
                raise ValueError("current_data takes true: {current_data: true} (the document's data as text)")
            return ValueSource(kind=kind, arg="", profile=profile)
        if kind == "execution_property" and str(arg) not in EXECUTION_PROPERTIES:
            raise ValueError(f"unknown execution property {arg!r}; use one of: " + ", ".join(EXECUTION_PROPERTIES))
        return ValueSource(kind=kind, arg=str(arg), profile=profile)
    raise ValueError("a value source is a text or a mapping such as {document_property: mail.subject}")


def _parse_list(value: Any) -> list[ValueSource]:
    if value is None:
        return []
    if not isinstance(value, list):
        value = [value]
    return [parse_source(v) for v in value]


#: each kind's title (Boomi's parameter types), the title of its argument and a line of help
SOURCE_KIND_FORMS: dict[str, tuple[str, str, str]] = {
    "static": ("Static", "Static Value", "A fixed text."),
    "profile_element": ("Profile Element", "Element", "A field of the document: a column name, or a path in "
                                                      "JSON or XML, read with the profile (if any)."),
    "document_property": ("Document Property", "Property", "A property of the document, such as mail.subject."),
    "dynamic_document_property": ("Dynamic Document Property", "Property Name",
                                  "A dynamic document property set earlier (dynamic.NAME without dynamic.)."),
    "process_property": ("Process Property", "Property", "A process property (process.NAME without process.)."),
    "dynamic_process_property": ("Dynamic Process Property", "Property Name",
                                 "A dynamic process property, kept across executions when persisted."),
    "current_date": ("Current Date", "Date Mask", "Now, in a Java date pattern such as yyyy-MM-dd."),
    "execution_property": ("Execution Property", "Property", "One of: " + ", ".join(EXECUTION_PROPERTIES) + "."),
    "current_data": ("Current Data", "Current Data", "The document's data as text (write true)."),
}


def _kind_schema(kind: str) -> dict[str, Any]:
    title, argument, help_text = SOURCE_KIND_FORMS[kind]
    return {
        "type": "object",
        "title": title,
        "description": help_text,
        "properties": {kind: {"type": ["string", "number", "boolean"], "title": argument},
                       "profile": {"type": "string", "title": "Profile",
                                   "description": "Profile id (Profile Element only)."}},
        "required": [kind],
        "additionalProperties": False,
    }


# The JSON Schema describes the YAML form users write, not the parsed model: a bare text (static)
# or one mapping per kind, each titled, so a form offers the kinds by name with their own help.
SOURCE_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": ["string", "number", "boolean"], "title": "Text", "description": "A fixed text, typed here."},
        *[_kind_schema(kind) for kind in SOURCE_KINDS],
    ],
}
SOURCE_LIST_SCHEMA: dict[str, Any] = {"anyOf": [{"type": "array", "title": "List of values",
                                                  "items": {**SOURCE_SCHEMA, "title": "Value"}},
                                                 {**SOURCE_SCHEMA, "title": "One value"}]}

SourceList = Annotated[list[ValueSource], BeforeValidator(_parse_list), WithJsonSchema(SOURCE_LIST_SCHEMA)]
Source = Annotated[ValueSource, BeforeValidator(parse_source), WithJsonSchema(SOURCE_SCHEMA)]
