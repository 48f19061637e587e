"""Value sources in connector settings: a setting a connector resolves per document.

A connector's operation may take values the user writes as value sources (docs/values.md):
a bare text, or ``{kind: argument}`` such as ``{process_property: sheet_id}``. The
settings model types such a field :data:`ValueSourceSetting` (checked at import: one kind
out of :data:`VALUE_SOURCE_KINDS`); at run time the session resolves it for one document
with :meth:`postroom.sdk.RunContext.value`.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema

__all__ = ["VALUE_SOURCE_KINDS", "ValueSourceSetting", "check_value_source"]

#: The kinds of value source, for connector settings and the process model alike.
VALUE_SOURCE_KINDS = (
    "static",
    "profile_element",
    "document_property",
    "dynamic_document_property",
    "process_property",
    "dynamic_process_property",
    "current_date",
    "execution_property",
    "current_data",
)


def check_value_source(value: Any) -> str | dict[str, str]:
    """A value source as written, checked: a text (numbers and booleans become text) or a
    mapping with exactly one kind (plus ``profile`` for profile_element)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, dict):
        kinds = [key for key in value if key != "profile"]
        if len(kinds) != 1 or kinds[0] not in VALUE_SOURCE_KINDS:
            raise ValueError("a value source is a text or a mapping with one of: " + ", ".join(VALUE_SOURCE_KINDS)
                             + f" (got {', '.join(map(str, kinds)) or 'nothing'})")
        arg = value[kinds[0]]
        if isinstance(arg, bool):
            arg = "true" if arg else "false"
        if not isinstance(arg, str | int | float) and arg is not None:
            raise ValueError(f"{kinds[0]} takes a text argument")
        checked = {kinds[0]: "" if arg is None else str(arg)}
        if "profile" in value:
            checked["profile"] = str(value["profile"])
        return checked
    raise ValueError("a value source is a text or a mapping such as {document_property: mail.subject}")


#: The JSON Schema of a value source as written (forms and docs/reference read it).
VALUE_SOURCE_SCHEMA: dict[str, Any] = {
    "description": "A value source: a text (static) or one of " + ", ".join(f"{{{k}: ...}}" for k in VALUE_SOURCE_KINDS),
    "anyOf": [
        {"type": ["string", "number", "boolean"]},
        *[{"type": "object", "properties": {kind: {"type": ["string", "number", "boolean"]}, "profile": {"type": "string"}},
           "required": [kind], "additionalProperties": False} for kind in VALUE_SOURCE_KINDS],
    ],
}

#: A settings field holding one value source (resolve it with ``context.value(source, doc)``).
ValueSourceSetting = Annotated[str | dict[str, str], BeforeValidator(check_value_source),
                               WithJsonSchema(VALUE_SOURCE_SCHEMA)]
